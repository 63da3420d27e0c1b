//! `switchyard instances`: the `serve` processes sharing the database, from their
//! heartbeats: id, host, version, state, last heartbeat, runs in flight.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InstancesArgs {
    /// The data directory (for the default SQLite database).
    #[arg(long, default_value = "data", env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArgs,
    /// Also list instances that stopped or died (default: live ones only).
    #[arg(long)]
    pub all: bool,
}

/// An instance without a heartbeat for this long is listed as `dead`.
const DEAD_AFTER_MS: i64 = 10_000;

pub fn run(args: InstancesArgs) -> ExitCode {
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let store = match args.database.open(&args.data_dir).await {
            Ok(s) => s,
            Err(e) => return super::usage_error(e),
        };
        let instances = match store.instances().await {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let now = crate::store::now_ms();
        println!("ID\tHOST\tVERSION\tSTATE\tLAST HEARTBEAT\tRUNS IN FLIGHT");
        for i in instances {
            let state = if i.stopped_at.is_some() {
                "stopped"
            } else if now - i.heartbeat_at > DEAD_AFTER_MS {
                "dead"
            } else {
                "live"
            };
            if state != "live" && !args.all {
                continue;
            }
            println!(
                "{}\t{}\t{}\t{state}\t{:.1}s ago\t{}",
                i.id,
                i.host,
                i.version,
                (now - i.heartbeat_at) as f64 / 1000.0,
                i.runs_in_flight
            );
        }
        ExitCode::SUCCESS
    })
}
