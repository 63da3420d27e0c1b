//! `switchyard webhook verify|sign`: check a delivery against a connector's rules, or make
//! one that passes, without a server.
//!
//! Exit codes of `verify`: 0 valid (or a handshake), 1 invalid (with the reason), 2 usage.

use crate::interpret::render::Vars;
use crate::interpret::value;
use crate::plan::ConnectorPlan;
use crate::webhook::{IncomingRequest, Reception, receive, sign};
use bytes::Bytes;
use serde_json::{Map, Value as Json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, clap::Subcommand)]
pub enum WebhookCommand {
    /// Verify a delivery: exit 0 and print `valid` with the event type and id, or exit 1
    /// and print `invalid: REASON`.
    Verify(VerifyArgs),
    /// Print the headers a provider would send with this body.
    Sign(SignArgs),
}

#[derive(Debug, clap::Args)]
pub struct Delivery {
    /// A connector id in the connectors folder, or a path to a connector YAML file.
    #[arg(long)]
    pub connector: String,
    /// Folder searched for the connector id.
    #[arg(long, default_value = "connectors")]
    pub connectors: PathBuf,
    /// The body, read byte for byte from a file.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "body",
        required_unless_present = "body"
    )]
    pub body_file: Option<PathBuf>,
    /// The body as text.
    #[arg(long, value_name = "STRING")]
    pub body: Option<String>,
    /// A request header, `Name: value` (repeatable; names are case-insensitive).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The full URL the provider called (schemes such as Twilio's sign it).
    #[arg(long, default_value = "https://example.com/hooks")]
    pub url: String,
    /// The HTTP method.
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// The current time as Unix seconds, instead of the clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<i64>,
    /// A plain config value of the connection, `key=value` (repeatable).
    #[arg(short = 'c', value_name = "KEY=VALUE")]
    pub config: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub delivery: Delivery,
    /// An active webhook secret (repeat during a key rotation: any one may match).
    #[arg(long, required = true)]
    pub secret: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub delivery: Delivery,
    /// The webhook secret.
    #[arg(long)]
    pub secret: String,
}

pub fn run(command: WebhookCommand) -> ExitCode {
    match command {
        WebhookCommand::Verify(args) => verify(args),
        WebhookCommand::Sign(args) => sign_command(args),
    }
}

struct Prepared {
    connector: std::sync::Arc<ConnectorPlan>,
    request: IncomingRequest,
    now: SystemTime,
}

fn prepare(d: &Delivery) -> Result<Prepared, ExitCode> {
    let connector = super::load_connector(&d.connector, &d.connectors)?;
    if connector.webhooks.is_none() {
        return Err(super::usage_error(format!(
            "connector `{}` has no `webhooks:` rules",
            connector.id
        )));
    }
    let body = match (&d.body_file, &d.body) {
        (Some(path), _) => std::fs::read(path)
            .map_err(|e| super::usage_error(format!("cannot read {}: {e}", path.display())))?,
        (None, Some(text)) => text.clone().into_bytes(),
        (None, None) => return Err(super::usage_error("give --body or --body-file")),
    };
    let mut headers = Vec::new();
    for h in &d.headers {
        match h.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                headers.push((name.trim().to_string(), value.trim().to_string()))
            }
            _ => {
                return Err(super::usage_error(format!(
                    "--header expects `Name: value`, got `{h}`"
                )));
            }
        }
    }
    if url::Url::parse(&d.url).is_err() {
        return Err(super::usage_error(format!(
            "--url `{}` is not a URL",
            d.url
        )));
    }
    let now = match d.now {
        Some(secs) if secs >= 0 => UNIX_EPOCH + Duration::from_secs(secs as u64),
        Some(_) => return Err(super::usage_error("--now must be a Unix time in seconds")),
        None => SystemTime::now(),
    };
    Ok(Prepared {
        connector,
        request: IncomingRequest {
            method: d.method.to_ascii_uppercase(),
            url: d.url.clone(),
            headers,
            body: Bytes::from(body),
        },
        now,
    })
}

/// `config` and `secrets` for templates: plain values from `-c`, and every secret config
/// field set to the first secret given (the key template names one of them).
fn base_vars(connector: &ConnectorPlan, config: &[String], secret: &str) -> Result<Vars, ExitCode> {
    let mut plain = Map::new();
    for pair in config {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(super::usage_error(format!(
                "-c expects KEY=VALUE, got `{pair}`"
            )));
        };
        plain.insert(k.to_string(), Json::String(v.to_string()));
    }
    for (name, field) in &connector.config {
        if let (false, Some(default), false) =
            (field.secret, &field.default, plain.contains_key(name))
        {
            plain.insert(name.clone(), default.clone());
        }
    }
    let secrets: Map<String, Json> = connector
        .config
        .iter()
        .filter(|(_, f)| f.secret)
        .map(|(n, _)| (n.clone(), Json::String(secret.to_string())))
        .collect();
    Ok(Vars::new()
        .with("config", value::from_json(Json::Object(plain)))
        .with("secrets", value::from_json(Json::Object(secrets))))
}

fn verify(args: VerifyArgs) -> ExitCode {
    let p = match prepare(&args.delivery) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let base = match base_vars(&p.connector, &args.delivery.config, &args.secret[0]) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let Some(plan) = &p.connector.webhooks else {
        return ExitCode::from(super::EXIT_USAGE);
    };
    match receive(plan, &p.request, &base, &args.secret, p.now) {
        Reception::Event(event) => {
            println!("valid");
            println!("event_type: {}", event.event_type.as_deref().unwrap_or("-"));
            println!("event_id: {}", event.id.as_deref().unwrap_or("-"));
            if let Some(key) = &event.routing_key {
                println!("routing_key: {key}");
            }
            ExitCode::SUCCESS
        }
        Reception::Reply {
            status,
            content_type,
            body,
            ..
        } => {
            println!("valid (handshake)");
            println!("reply: {status} {content_type}");
            println!("{body}");
            ExitCode::SUCCESS
        }
        Reception::Rejected(reason) => {
            println!("invalid: {reason}");
            ExitCode::FAILURE
        }
        Reception::Invalid(reason) => {
            println!("invalid: {reason}");
            ExitCode::FAILURE
        }
    }
}

fn sign_command(args: SignArgs) -> ExitCode {
    let p = match prepare(&args.delivery) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let base = match base_vars(&p.connector, &args.delivery.config, &args.secret) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let Some(plan) = &p.connector.webhooks else {
        return ExitCode::from(super::EXIT_USAGE);
    };
    match sign(plan, &p.request, &base, &args.secret, p.now) {
        Ok(signed) => {
            for (name, value) in &signed.headers {
                println!("{name}: {value}");
            }
            for (name, value) in &signed.query {
                println!("?{name}={value}");
            }
            ExitCode::SUCCESS
        }
        Err(why) => super::usage_error(why),
    }
}
