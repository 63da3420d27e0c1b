//! Webhooks: how "something happened at the provider" enters Switchyard.
//!
//! Every provider signs deliveries its own way; here that is data (the connector's
//! `webhooks:` rules) read by one generic, fail-closed verifier:
//!
//! ```text
//! IncomingRequest (raw bytes)          request.rs
//!   -> unsigned handshakes              receive.rs
//!   -> verify_signature (HMAC / token)  verify.rs   -> 401 on any doubt
//!   -> signed handshakes, event id/type/routing key
//!   -> dedupe (connection, event id)    dedupe.rs
//! ```
//!
//! `sign.rs` produces what a provider would send, for `switchyard webhook sign` and for
//! round-trip tests. Nothing here may answer, parse for routing or store a delivery before
//! its signature holds, except handshakes the spec marks `unsigned`.

pub mod dedupe;
pub mod receive;
pub mod request;
pub mod sign;
pub mod verify;

pub use dedupe::{Dedupe, MemoryDedupe};
pub use receive::{Event, Reception, delivery_vars, receive, trigger_matches};
pub use request::IncomingRequest;
pub use sign::{SignedHeaders, sign};
pub use verify::{Rejection, Verified, connection_keys, verify_signature};
