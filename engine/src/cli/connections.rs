//! `switchyard connections add|list|show|check|remove`: connections in the data
//! directory's database, secrets sealed under the master key.
//!
//! Secrets are given as `-s NAME` and then typed at a prompt (no echo) or read from
//! standard input, one line per secret, so they need not appear in shell history;
//! `-s NAME=VALUE` works too.

use crate::connections::{
    CheckOutcome, ConnectionError, ConnectionService, DEFAULT_TENANT, NewConnection,
};
use crate::interpret::{HttpClient, Interpreter, Options, ReqwestClient};
use crate::secrets::{KeySource, Keyring};
use crate::store::ConnectionRow;
use serde_json::{Map, Value as Json};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ConnectionsArgs {
    #[command(subcommand)]
    pub command: ConnectionsCommand,
    /// The data directory (database and key file).
    #[arg(
        long,
        global = true,
        default_value = "data",
        env = "SWITCHYARD_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArgs,
    /// The tenant the connection belongs to.
    #[arg(long, global = true, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    /// Spec files or folders (for the connectors). Default: `connectors/`.
    #[arg(long = "specs", global = true)]
    pub specs: Vec<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectionsCommand {
    /// Store a new connection: `add slack acme-slack -s bot_token` (then type the token).
    Add {
        connector: String,
        name: String,
        /// A non-secret config field, `NAME=VALUE` (repeatable).
        #[arg(short = 'c', long = "config", value_name = "NAME=VALUE")]
        config: Vec<String>,
        /// A secret config field: `NAME` (prompted, or read from stdin) or `NAME=VALUE`.
        #[arg(short = 's', long = "secret", value_name = "NAME[=VALUE]")]
        secrets: Vec<String>,
        /// The auth mode to use (default: the first one the config allows).
        #[arg(long)]
        auth: Option<String>,
        /// Replaces the connector's base URL (self-hosted instance, proxy).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// List the tenant's connections.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one connection (secret fields are named, never shown).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the provider's authorization link for an OAuth connection (created or
    /// reconnected when the provider sends the user back to the server's /oauth/callback).
    Connect {
        connector: String,
        name: String,
        /// The server's URL as the browser reaches it; the callback is `<URL>/oauth/callback`.
        #[arg(
            long,
            env = "SWITCHYARD_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
    /// Run the connector's `check` action with the connection and record the outcome.
    Check { name: String },
    /// Delete a connection and its sealed secrets.
    Remove { name: String },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

pub fn run(args: ConnectionsArgs) -> ExitCode {
    let specs = if args.specs.is_empty() {
        vec![PathBuf::from("connectors")]
    } else {
        args.specs.clone()
    };
    let catalog = match super::reload::load_catalog(&specs) {
        Ok((catalog, _)) => catalog,
        Err(report) => {
            eprint!("{report}");
            return super::usage_error("the connector specs have errors (see above)");
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    runtime.block_on(async move {
        if let Err(e) = std::fs::create_dir_all(&args.data_dir) {
            return super::usage_error(format!("cannot create {}: {e}", args.data_dir.display()));
        }
        let store = match args.database.open(&args.data_dir).await {
            Ok(s) => s,
            Err(e) => return super::usage_error(e),
        };
        // Only `add` may create the key file; the others need no key or an existing one.
        let generate = matches!(
            args.command,
            ConnectionsCommand::Add { .. } | ConnectionsCommand::Connect { .. }
        );
        let keyring = match Keyring::load(&args.data_dir, generate) {
            Ok((ring, KeySource::Generated(path))) => {
                eprintln!(
                    "warning: no master key was configured; generated {} (mode 0600). Back it up: without it the stored secrets cannot be read.",
                    path.display()
                );
                ring
            }
            Ok((ring, _)) => ring,
            Err(e) if !generate => {
                // list/show/remove work without a key.
                if matches!(args.command, ConnectionsCommand::Check { .. }) {
                    return fail(e);
                }
                Keyring::new(crate::secrets::MasterKey::generate())
            }
            Err(e) => return fail(e),
        };
        let service = ConnectionService {
            store,
            keyring: Arc::new(keyring),
        };
        match args.command {
            ConnectionsCommand::Add {
                connector,
                name,
                config,
                secrets,
                auth,
                base_url,
            } => {
                let config = match parse_pairs(&config, "-c") {
                    Ok(c) => c,
                    Err(e) => return super::usage_error(e),
                };
                let secrets = match read_secrets(&secrets) {
                    Ok(s) => s,
                    Err(e) => return super::usage_error(e),
                };
                let new = NewConnection {
                    tenant: args.tenant.clone(),
                    name,
                    connector,
                    config,
                    secrets,
                    auth_mode: auth,
                    base_url,
                };
                match service.add(&catalog, new).await {
                    Ok(row) => {
                        println!(
                            "added connection `{}` ({}) for tenant `{}`",
                            row.name, row.connector, row.tenant
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e @ (ConnectionError::Store(_) | ConnectionError::Sealed { .. })) => {
                        fail(e)
                    }
                    Err(e) => super::usage_error(e),
                }
            }
            ConnectionsCommand::List { json } => {
                let rows = match service.store.connections(Some(&args.tenant)).await {
                    Ok(r) => r,
                    Err(e) => return fail(e),
                };
                if json {
                    let list: Vec<Json> = rows.iter().map(describe).collect();
                    println!("{}", Json::Array(list));
                } else if rows.is_empty() {
                    println!("no connections for tenant `{}`", args.tenant);
                } else {
                    println!(
                        "{:<24} {:<20} {:<13} {:<20} {:>6}",
                        "NAME", "CONNECTOR", "STATUS", "LAST CHECKED", "ERRORS"
                    );
                    for row in &rows {
                        println!(
                            "{:<24} {:<20} {:<13} {:<20} {:>6}",
                            row.name,
                            row.connector,
                            row.status,
                            time(row.last_checked_at),
                            row.error_count
                        );
                    }
                }
                ExitCode::SUCCESS
            }
            ConnectionsCommand::Show { name, json } => {
                let row = match service.store.connection(&args.tenant, &name).await {
                    Ok(Some(r)) => r,
                    Ok(None) => return super::usage_error(ConnectionError::NotFound(name)),
                    Err(e) => return fail(e),
                };
                let description = describe(&row);
                if json {
                    println!("{description:#}");
                } else {
                    print_details(&row, &catalog);
                }
                ExitCode::SUCCESS
            }
            ConnectionsCommand::Connect {
                connector,
                name,
                public_url,
            } => {
                let client: Arc<dyn HttpClient> = match ReqwestClient::new() {
                    Ok(c) => Arc::new(c),
                    Err(e) => return fail(e),
                };
                let flow = crate::oauth::OAuthFlow {
                    connections: service,
                    http: client,
                };
                let redirect = format!("{}/oauth/callback", public_url.trim_end_matches('/'));
                match flow
                    .start(&catalog, &args.tenant, &connector, &name, &redirect)
                    .await
                {
                    Ok(url) => {
                        println!("{url}");
                        eprintln!(
                            "open this link within {} minutes; the provider sends the browser back to {redirect}",
                            crate::oauth::STATE_LIFETIME.as_secs() / 60
                        );
                        ExitCode::SUCCESS
                    }
                    Err(crate::oauth::OAuthError::Store(e)) => fail(e),
                    Err(e) => super::usage_error(e),
                }
            }
            ConnectionsCommand::Check { name } => {
                let row = match service.store.connection(&args.tenant, &name).await {
                    Ok(Some(r)) => r,
                    Ok(None) => return super::usage_error(ConnectionError::NotFound(name)),
                    Err(e) => return fail(e),
                };
                let client: Arc<dyn HttpClient> = match ReqwestClient::new() {
                    Ok(c) => Arc::new(c),
                    Err(e) => return fail(e),
                };
                // OAuth connections get their token source (a refresh is stored).
                let connection = match service.open_live(&catalog, &row, &client) {
                    Ok(c) => c,
                    Err(e) => return fail(e),
                };
                let interpreter = Interpreter::new(client, Options::default());
                match service.check(&interpreter, &row, &connection).await {
                    Ok(CheckOutcome::Passed) => {
                        println!("ok: `{name}` works");
                        ExitCode::SUCCESS
                    }
                    Ok(CheckOutcome::NoCheck) => {
                        println!(
                            "connector `{}` defines no check; nothing was called",
                            row.connector
                        );
                        ExitCode::SUCCESS
                    }
                    Ok(CheckOutcome::Failed { status, error }) => {
                        eprintln!("error: `{name}` failed its check ({status}): {error}");
                        ExitCode::FAILURE
                    }
                    Err(e) => fail(e),
                }
            }
            ConnectionsCommand::Remove { name } => {
                let client: Arc<dyn HttpClient> = match ReqwestClient::new() {
                    Ok(c) => Arc::new(c),
                    Err(e) => return fail(e),
                };
                let flow = crate::oauth::OAuthFlow {
                    connections: service,
                    http: client,
                };
                match flow.disconnect(&catalog, &args.tenant, &name).await {
                    Ok(Some(revocation)) => {
                        match revocation {
                            crate::oauth::Revocation::Revoked => {
                                println!("revoked the OAuth tokens at the provider")
                            }
                            crate::oauth::Revocation::NotNeeded => {}
                            crate::oauth::Revocation::Failed(e) => eprintln!(
                                "warning: the provider could not revoke the tokens ({e}); revoke the app's access there"
                            ),
                        }
                        println!("removed connection `{name}`");
                        ExitCode::SUCCESS
                    }
                    Ok(None) => super::usage_error(ConnectionError::NotFound(name)),
                    Err(e) => fail(e),
                }
            }
        }
    })
}

/// `NAME=VALUE` pairs, as text (the connector's field types convert them).
fn parse_pairs(pairs: &[String], flag: &str) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!("{flag} {pair}: expected NAME=VALUE"));
        };
        out.insert(name.to_string(), Json::String(value.to_string()));
    }
    Ok(out)
}

/// Secrets from `-s NAME=VALUE`, or for `-s NAME` from a prompt (terminal) or a line of
/// standard input (pipes, scripts).
fn read_secrets(specs: &[String]) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut lines = stdin.lock().lines();
    for spec in specs {
        if let Some((name, value)) = spec.split_once('=') {
            out.insert(name.to_string(), Json::String(value.to_string()));
            continue;
        }
        let value = if interactive {
            rpassword::prompt_password(format!("{spec}: "))
                .map_err(|e| format!("reading secret `{spec}`: {e}"))?
        } else {
            match lines.next() {
                Some(Ok(line)) => line,
                _ => {
                    return Err(format!("secret `{spec}`: no line left on standard input"));
                }
            }
        };
        out.insert(
            spec.clone(),
            Json::String(value.trim_end_matches('\r').to_string()),
        );
    }
    Ok(out)
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// A connection as shown to people and scripts: no secret, only whether one is stored.
pub fn describe(row: &ConnectionRow) -> Json {
    serde_json::json!({
        "id": row.id,
        "tenant": row.tenant,
        "name": row.name,
        "connector": row.connector,
        "auth_mode": row.auth_mode,
        "base_url": row.base_url,
        "config": row.config,
        "secrets_stored": row.secrets.is_some(),
        "tokens_stored": row.tokens.is_some(),
        "status": row.status,
        "created_at": time(Some(row.created_at)),
        "last_used_at": time(row.last_used_at),
        "last_checked_at": time(row.last_checked_at),
        "last_error": row.last_error,
        "error_count": row.error_count,
    })
}

fn print_details(row: &ConnectionRow, catalog: &crate::plan::Catalog) {
    println!("{} ({}), tenant {}", row.name, row.connector, row.tenant);
    println!("  status:       {}", row.status);
    if let Some(mode) = &row.auth_mode {
        println!("  auth:         {mode}");
    }
    if let Some(url) = &row.base_url {
        println!("  base url:     {url}");
    }
    for (name, value) in &row.config {
        println!("  {name}: {value}");
    }
    if let Some(plan) = catalog.connectors.get(&row.connector) {
        let secret_fields: Vec<&str> = plan
            .config
            .iter()
            .filter(|(_, f)| f.secret)
            .map(|(n, _)| n.as_str())
            .collect();
        if !secret_fields.is_empty() {
            let state = if row.secrets.is_some() {
                "stored, encrypted"
            } else {
                "not set"
            };
            println!("  secrets:      {} ({state})", secret_fields.join(", "));
        }
    }
    println!("  last checked: {}", time(row.last_checked_at));
    println!("  last used:    {}", time(row.last_used_at));
    println!("  errors:       {}", row.error_count);
    if let Some(error) = &row.last_error {
        println!("  last error:   {error}");
    }
}
