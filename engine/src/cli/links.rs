//! `switchyard links`: linked records (local key -> provider object), by key.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LinksArgs {
    /// The data directory (for the default SQLite database).
    #[arg(long, default_value = "data", env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArgs,
    /// Only links of this connection.
    #[arg(long)]
    pub connection: Option<String>,
    /// Only keys starting with this text, e.g. `appointment:`.
    #[arg(long)]
    pub key_prefix: Option<String>,
    #[arg(long, default_value = "default")]
    pub tenant: String,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

pub fn run(args: LinksArgs) -> ExitCode {
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let store = match args.database.open(&args.data_dir).await {
            Ok(s) => s,
            Err(e) => return super::usage_error(e),
        };
        let links = match store
            .links(
                &args.tenant,
                args.connection.as_deref(),
                args.key_prefix.as_deref(),
                args.limit,
            )
            .await
        {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("KEY\tCONNECTION\tTYPE\tEXTERNAL ID");
        for l in links {
            println!(
                "{}\t{}\t{}\t{}",
                l.key, l.connection, l.object_type, l.external_id
            );
        }
        ExitCode::SUCCESS
    })
}
