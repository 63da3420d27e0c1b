//! The one MiniJinja environment configuration used to compile and render every template.
//!
//! Strict undefined variables (a missing value is an error, never an empty string), an
//! instruction budget (fuel) so a template cannot loop for long, no loader (templates cannot
//! read files), and Switchyard's filters ([`crate::template_filters`]).

use minijinja::{Environment, UndefinedBehavior};

/// Instructions one render may execute.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// A fresh environment with Switchyard's settings.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(64);
    crate::template_filters::register(&mut env);
    env
}
