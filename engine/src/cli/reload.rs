//! `switchyard reload`: the running server loads its specs again (also on SIGHUP).
//!
//! The server compiles the spec folders it was started with. Only a load that passes every
//! check replaces the catalog; otherwise the error is logged, written to the status file
//! and the server keeps what it had. The command waits for the server's verdict and prints
//! it, so a CI job or an operator sees at once whether the new specs took effect.
//!
//! Must never leave the server without a valid catalog.

use crate::diag::{OutputFormat, render};
use crate::plan::{Catalog, LiveCatalog};
use crate::store::Store;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The server's process id, in its data directory.
pub const PID_FILE: &str = "switchyard.pid";
/// The outcome of the last reload, in the server's data directory.
pub const STATUS_FILE: &str = "reload.json";

#[derive(Debug, clap::Args)]
pub struct ReloadArgs {
    /// The data directory of the running server.
    #[arg(long, default_value = "data", env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// How long to wait for the server's answer, in seconds.
    #[arg(long, default_value_t = 30)]
    pub wait: u64,
}

/// Loads and compiles `paths`: the catalog, or the diagnostics as text.
pub fn load_catalog(paths: &[PathBuf]) -> Result<(Catalog, Option<String>), String> {
    let (compiled, sources) =
        crate::compile::compile_paths(paths).map_err(|error| error.to_string())?;
    let report = (!compiled.diagnostics.is_empty()).then(|| {
        let texts = sources.into_iter().map(|s| (s.path, s.text)).collect();
        render(&compiled.diagnostics, OutputFormat::Human, &texts)
    });
    match compiled.catalog {
        Some(catalog) => Ok((catalog, report)),
        None => Err(report.unwrap_or_else(|| "the specs are invalid".into())),
    }
}

/// What the server shares with a reload.
pub struct Reloader {
    pub paths: Vec<PathBuf>,
    pub catalog: Arc<LiveCatalog>,
    pub store: Store,
    pub wake: Arc<tokio::sync::Notify>,
    pub data_dir: PathBuf,
}

impl Reloader {
    /// Loads the specs again and, if they are valid, puts them in place. Writes the
    /// outcome to the status file either way.
    pub async fn reload(&self) -> bool {
        let outcome = match load_catalog(&self.paths) {
            Ok((catalog, warnings)) => {
                let limits = crate::runtime::workflow_limits(&catalog);
                let counts = (catalog.connectors.len(), catalog.workflows.len());
                match self.store.set_workflow_limits(&limits).await {
                    Ok(()) => {
                        self.catalog.replace(catalog);
                        // Newly loaded workflows may have queued runs waiting.
                        self.wake.notify_waiters();
                        tracing::info!(
                            connectors = counts.0,
                            workflows = counts.1,
                            "specs reloaded"
                        );
                        json!({ "ok": true, "connectors": counts.0, "workflows": counts.1,
                                "warnings": warnings })
                    }
                    Err(error) => {
                        tracing::error!(%error, "reload: the new limits could not be stored; the specs loaded before stay in place");
                        json!({ "ok": false, "error": error.to_string() })
                    }
                }
            }
            Err(report) => {
                tracing::error!("reload refused, the specs loaded before stay in place:\n{report}");
                json!({ "ok": false, "error": report })
            }
        };
        let ok = outcome["ok"] == true;
        let mut outcome = outcome;
        outcome["at"] = json!(chrono::Utc::now().to_rfc3339());
        let path = self.data_dir.join(STATUS_FILE);
        if let Err(error) = std::fs::write(&path, format!("{outcome:#}\n")) {
            tracing::warn!(%error, path = %path.display(), "cannot write the reload status");
        }
        ok
    }

    /// Reloads on every SIGHUP until `shutdown`.
    pub async fn run_on_hangup(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                tracing::warn!("SIGHUP cannot be watched; `switchyard reload` will not work");
                return;
            };
            loop {
                tokio::select! {
                    _ = hangups.recv() => { self.reload().await; }
                    _ = shutdown.changed() => return,
                }
            }
        }
        #[cfg(not(unix))]
        let _ = shutdown.changed().await;
    }
}

/// `switchyard reload`: signals the server of `--data-dir` and prints its verdict.
pub fn run(args: ReloadArgs) -> ExitCode {
    let pid_path = args.data_dir.join(PID_FILE);
    let pid = match std::fs::read_to_string(&pid_path) {
        Ok(text) => match text.trim().parse::<i32>() {
            Ok(pid) if pid > 0 => pid,
            _ => return super::usage_error(format!("{} holds no process id", pid_path.display())),
        },
        Err(error) => {
            return super::usage_error(format!(
                "no server is running with data directory {} ({}: {error})",
                args.data_dir.display(),
                pid_path.display()
            ));
        }
    };
    let status_path = args.data_dir.join(STATUS_FILE);
    let before = modified(&status_path);
    if let Err(error) = hang_up(pid) {
        return super::usage_error(format!(
            "cannot signal the server (pid {pid} from {}): {error}",
            pid_path.display()
        ));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(args.wait);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        if modified(&status_path) == before {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&status_path) else {
            continue;
        };
        let Ok(status) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if status["ok"] == true {
            println!(
                "reloaded: {} connector(s), {} workflow(s)",
                status["connectors"], status["workflows"]
            );
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "error: reload refused; the server keeps the specs it had:\n{}",
            status["error"].as_str().unwrap_or("unknown error")
        );
        return ExitCode::FAILURE;
    }
    eprintln!(
        "error: the server (pid {pid}) did not answer within {} s",
        args.wait
    );
    ExitCode::FAILURE
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(unix)]
fn hang_up(pid: i32) -> std::io::Result<()> {
    // SAFETY: kill(2) with a plain pid and signal number has no memory effects.
    let result = unsafe { libc::kill(pid, libc::SIGHUP) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn hang_up(_pid: i32) -> std::io::Result<()> {
    Err(std::io::Error::other("signals need a Unix system"))
}
