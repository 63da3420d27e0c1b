//! `switchyard apikeys create|list|revoke`: keys for the REST API, one tenant and scope
//! each. A key is printed once, at creation; only its hash is stored.

use crate::access::{Scope, create_key};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ApiKeysArgs {
    #[command(subcommand)]
    pub command: ApiKeysCommand,
    /// The data directory (database).
    #[arg(
        long,
        global = true,
        default_value = "data",
        env = "SWITCHYARD_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key and print it (only this once).
    Create {
        /// The tenant whose data the key reaches.
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "read")]
        scope: Scope,
        /// Lifetime, e.g. `90d`, `12h`; none: until revoked.
        #[arg(long)]
        expires: Option<String>,
        /// A note on what the key is for.
        #[arg(long)]
        name: Option<String>,
    },
    /// List keys (ids, never secrets).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

fn lifetime(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("--expires {text}: expected a number and a unit, e.g. 90d"))?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(format!("--expires {text}: the unit must be d, h or m")),
    };
    if n == 0 {
        return Err(format!("--expires {text}: must be more than zero"));
    }
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn run(args: ApiKeysArgs) -> ExitCode {
    if let ApiKeysCommand::Create { tenant, .. } = &args.command
        && (tenant.is_empty() || tenant.len() > 100)
    {
        return super::usage_error("--tenant must be 1 to 100 characters");
    }
    let expires = match &args.command {
        ApiKeysCommand::Create {
            expires: Some(e), ..
        } => match lifetime(e) {
            Ok(l) => Some(l),
            Err(e) => return super::usage_error(e),
        },
        _ => None,
    };
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let store = match args.database.open(&args.data_dir).await {
            Ok(s) => s,
            Err(e) => return super::usage_error(e),
        };
        match args.command {
            ApiKeysCommand::Create {
                tenant,
                scope,
                name,
                ..
            } => match create_key(&store, &tenant, scope, name, expires).await {
                Ok((key, row)) => {
                    println!("{key}");
                    eprintln!(
                        "key {} for tenant `{}`, scope {}, expires {}; it is shown only now",
                        row.id,
                        row.tenant,
                        row.scope,
                        time(row.expires_at)
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => super::usage_error(e),
            },
            ApiKeysCommand::List { tenant } => match store.api_keys(tenant.as_deref()).await {
                Ok(keys) => {
                    println!(
                        "{:<14} {:<16} {:<6} {:<17} {:<17} STATE",
                        "ID", "TENANT", "SCOPE", "CREATED", "EXPIRES"
                    );
                    for k in keys {
                        let state = if k.revoked_at.is_some() {
                            "revoked"
                        } else if k.expires_at.is_some_and(|e| e <= crate::store::now_ms()) {
                            "expired"
                        } else {
                            "active"
                        };
                        println!(
                            "{:<14} {:<16} {:<6} {:<17} {:<17} {state}",
                            k.id,
                            k.tenant,
                            k.scope,
                            time(Some(k.created_at)),
                            time(k.expires_at)
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => super::usage_error(e),
            },
            ApiKeysCommand::Revoke { id } => match store.revoke_api_key(&id).await {
                Ok(true) => {
                    println!("revoked key {id}");
                    ExitCode::SUCCESS
                }
                Ok(false) => super::usage_error(format!("no active key `{id}`")),
                Err(e) => super::usage_error(e),
            },
        }
    })
}
