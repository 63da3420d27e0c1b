//! Helpers shared by the integration tests.

use std::process::{Command, Output};

/// Runs the `switchyard` binary in the repository root.
pub fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs")
}

/// A command's standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `X-Hub-Signature-256` value GitHub sends for `body` signed with `secret`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(switchyard::webhook::verify::mac(
            switchyard::spec::webhook::HmacAlgorithm::Sha256,
            secret.as_bytes(),
            body
        ))
    )
}
