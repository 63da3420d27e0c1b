//! The HTTP interpreter: runs a compiled connector action against a provider's API, exactly
//! as the spec says.
//!
//! ```text
//! Call{action, input} + Connection{config, secrets, tokens}
//!   -> request (templates rendered, auth applied)   request.rs, auth.rs
//!   -> HttpClient::send                              client.rs
//!   -> verdict (error rules, retries, rate limits)   retry.rs
//!   -> records (JSONPath, fields, filter, add/remove) records.rs
//!   -> next page or done (guards against loops)      paginate.rs
//! ```
//!
//! [`Interpreter::call`] drives the loop (action.rs). It never reads YAML or spec types
//! beyond the enums the plan shares with them, and no error it returns carries a secret.

mod action;
pub mod auth;
pub mod client;
pub mod connection;
pub mod error;
pub mod paginate;
pub mod records;
pub mod render;
pub mod request;
pub mod retry;
pub mod smtp;
pub mod transfer;
mod upload;
pub mod value;

pub use action::{Call, CollectSink, Exchange, Interpreter, Options, Outcome, RunRef, Sink};
pub use auth::{StaticToken, TokenSource};
pub use client::{HttpClient, HttpRequest, HttpResponse, ReqwestClient, SaveTo, TransportError};
pub use connection::{Connection, Granted};
pub use error::{ActionError, Redactor};
