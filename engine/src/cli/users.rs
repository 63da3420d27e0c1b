//! `switchyard users create`: dashboard accounts. The password is read from the terminal
//! (or one line of standard input with `--password-stdin`), never from an argument, and
//! only its Argon2id hash is stored.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
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
pub enum UsersCommand {
    /// Create a dashboard user of one tenant.
    Create {
        /// Letters, digits, `.`, `_`, `-` or `@`.
        username: String,
        /// The tenant whose connections and runs the user sees.
        #[arg(long, default_value = crate::store::DEFAULT_TENANT)]
        tenant: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub fn run(args: UsersArgs) -> ExitCode {
    let UsersCommand::Create {
        username,
        tenant,
        password_stdin,
    } = args.command;
    if tenant.is_empty() || tenant.len() > 100 {
        return super::usage_error("--tenant must be 1 to 100 characters");
    }
    let password = if password_stdin {
        let mut line = String::new();
        if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
            return super::usage_error(format!("reading the password: {e}"));
        }
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        match rpassword::prompt_password(format!("Password for {username}: ")) {
            Ok(p) => p,
            Err(e) => {
                return super::usage_error(format!(
                    "cannot read a password from the terminal ({e}); use --password-stdin"
                ));
            }
        }
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
        match crate::server::dashboard::auth::create_user(&store, &username, &tenant, &password)
            .await
        {
            Ok(()) => {
                eprintln!("user `{username}` of tenant `{tenant}` created");
                ExitCode::SUCCESS
            }
            Err(e) => super::usage_error(e),
        }
    })
}
