//! `switchyard keys generate|rotate`: master keys for the secrets at rest.

use crate::connections::ConnectionService;
use crate::secrets::{KeySource, Keyring, MasterKey};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Print a new master key (base64, for SWITCHYARD_MASTER_KEY) or write it to a key file.
    Generate {
        /// Write a key file (mode 0600) instead of printing; refuses to replace one.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Seal every stored secret under a new master key. With a key file, the new key is
    /// written first beside the old one, every secret is resealed in one transaction, then
    /// the old key is dropped from the file. With SWITCHYARD_MASTER_KEY, the new key is read
    /// from SWITCHYARD_NEW_MASTER_KEY; set SWITCHYARD_MASTER_KEY to it afterwards.
    Rotate {
        #[arg(long, default_value = "data", env = "SWITCHYARD_DATA_DIR")]
        data_dir: PathBuf,
        #[command(flatten)]
        database: super::DatabaseArgs,
    },
}

pub fn run(command: KeysCommand) -> ExitCode {
    match command {
        KeysCommand::Generate { out: None } => {
            println!("{}", MasterKey::generate().to_base64().as_str());
            ExitCode::SUCCESS
        }
        KeysCommand::Generate { out: Some(path) } => {
            if path.exists() {
                return super::usage_error(format!(
                    "{} exists; a key file is never replaced (its secrets would be lost)",
                    path.display()
                ));
            }
            let key = MasterKey::generate();
            let id = key.id().to_string();
            match Keyring::new(key).write_file(&path) {
                Ok(()) => {
                    println!("wrote master key {id} to {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => super::usage_error(e),
            }
        }
        KeysCommand::Rotate { data_dir, database } => rotate(data_dir, database),
    }
}

fn rotate(data_dir: PathBuf, database: super::DatabaseArgs) -> ExitCode {
    let (old, source) = match Keyring::load(&data_dir, false) {
        Ok(found) => found,
        Err(e) => return super::usage_error(e),
    };
    let new_key = match &source {
        KeySource::Environment => match std::env::var("SWITCHYARD_NEW_MASTER_KEY") {
            Ok(text) => match MasterKey::from_base64(&text, "SWITCHYARD_NEW_MASTER_KEY") {
                Ok(k) => k,
                Err(e) => return super::usage_error(e),
            },
            Err(_) => {
                return super::usage_error(
                    "the master key comes from SWITCHYARD_MASTER_KEY: put the new key (`switchyard keys generate`) in SWITCHYARD_NEW_MASTER_KEY",
                );
            }
        },
        _ => MasterKey::generate(),
    };
    // The new keyring opens what the old one sealed until the rotation is done.
    let mut during = Keyring::new(new_key.clone()).with_older(old.current().clone());
    for key in old.older() {
        during = during.with_older(key.clone());
    }
    let key_file = match &source {
        KeySource::File(path) | KeySource::Generated(path) => Some(path.clone()),
        KeySource::Environment => None,
    };
    if let Some(path) = &key_file
        && let Err(e) = during.write_file(path)
    {
        return super::usage_error(e);
    }
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let resealed = runtime.block_on(async {
        let store = database.open(&data_dir).await?;
        let service = ConnectionService {
            store,
            keyring: Arc::new(during.clone()),
        };
        service
            .reseal_all(&Keyring::new(new_key.clone()))
            .await
            .map_err(|e| e.to_string())
    });
    let count = match resealed {
        Ok(n) => n,
        Err(e) => {
            eprintln!(
                "error: rotation stopped, nothing was changed in the database: {e}{}",
                key_file
                    .as_ref()
                    .map(|p| format!(
                        " ({} holds both keys; the old one still works)",
                        p.display()
                    ))
                    .unwrap_or_default()
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &key_file
        && let Err(e) = Keyring::new(new_key.clone()).write_file(path)
    {
        eprintln!(
            "error: every secret is sealed under the new key {}, but {} could not be rewritten without the old key: {e}",
            new_key.id(),
            path.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "resealed {count} value(s) under master key {} (was {})",
        new_key.id(),
        old.current().id()
    );
    if key_file.is_none() {
        println!("now set SWITCHYARD_MASTER_KEY to the value of SWITCHYARD_NEW_MASTER_KEY");
    }
    ExitCode::SUCCESS
}
