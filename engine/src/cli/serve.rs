//! `switchyard serve`

use super::reload::{PID_FILE, Reloader, load_catalog};
use crate::connections::{ConnectionService, StoredConnections};
use crate::interpret::{HttpClient, Interpreter, Options, ReqwestClient};
use crate::plan::LiveCatalog;
use crate::runtime::LayeredConnections;
use crate::runtime::{Connections, Engine, EngineTargets, StaticConnections};
use crate::secrets::{KeySource, Keyring};
use crate::server::{AppState, run, shutdown_signal};
use crate::store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "SWITCHYARD_LISTEN")]
    pub listen: SocketAddr,
    /// Spec files or folders to load. Default: `connectors/` and `workflows/`.
    pub paths: Vec<PathBuf>,
    /// Folder for the database (`switchyard.db`, SQLite) and other state.
    #[arg(long, default_value = "data", env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArgs,
    /// Folder of the files workflows download and upload (default `DATA_DIR/files`).
    /// Several instances on one PostgreSQL need it on a volume they share.
    #[arg(long, env = "SWITCHYARD_FILES_DIR")]
    pub files_dir: Option<PathBuf>,

    /// JSON file of connections (`{"name": {"connector": ..., "config": {...}}}`; values
    /// `$env:VAR` are read from the environment). Until the connection store exists, the
    /// only way to give workflows their accounts.
    #[arg(long, env = "SWITCHYARD_CONNECTIONS")]
    pub connections: Option<PathBuf>,
    /// Workers running queued runs (async tasks: each waits on the network most of the
    /// time, so there can be many more than cores).
    #[arg(long, default_value_t = 64)]
    pub workers: usize,
    /// How long runs in flight may take to finish after a stop signal; the rest are handed
    /// back to the queue. Example: `--shutdown-grace 30s`.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Webhooks are refused with 503 and `Retry-After` while this many runs wait in the
    /// queue, so a flood cannot grow the backlog without bound.
    #[arg(long, default_value_t = crate::runtime::DEFAULT_MAX_QUEUED)]
    pub max_queued: u64,
    /// Finished runs older than this many days are deleted (with their steps and events).
    #[arg(long, default_value_t = 30)]
    pub retain_days: u32,
    /// At most this many finished runs are kept per workflow.
    #[arg(long, default_value_t = 10_000)]
    pub retain_runs: u32,
    /// Log format on stderr: `text` for people, `json` (one object per line, with run and
    /// event ids as fields) for log pipelines.
    #[arg(
        long,
        value_enum,
        default_value = "text",
        env = "SWITCHYARD_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// The server's URL as providers see it (behind a proxy), for schemes that sign the URL.
    #[arg(long, env = "SWITCHYARD_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn run_serve(args: ServeArgs) -> ExitCode {
    // Logs go to stderr; `SWITCHYARD_LOG=debug` (or any tracing filter) changes the level.
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
    let paths = super::spec_paths(args.paths);
    let catalog = match load_catalog(&paths) {
        Ok((catalog, warnings)) => {
            if let Some(warnings) = warnings {
                eprint!("{warnings}");
            }
            Arc::new(catalog)
        }
        Err(report) => {
            eprint!("{report}");
            eprintln!(
                "error: the specs are invalid; fix them (see `switchyard validate`) and start again"
            );
            return ExitCode::FAILURE;
        }
    };
    let file_connections: Arc<dyn Connections> = match &args.connections {
        Some(path) => match StaticConnections::from_file(path, &catalog) {
            Ok(c) => c.into_arc(),
            Err(problems) => {
                for p in problems {
                    eprintln!("error: {p}");
                }
                return ExitCode::from(super::EXIT_USAGE);
            }
        },
        None => StaticConnections::default().into_arc(),
    };
    if let Err(error) = std::fs::create_dir_all(&args.data_dir) {
        eprintln!("error: cannot create {}: {error}", args.data_dir.display());
        return ExitCode::from(super::EXIT_USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let database = match crate::store::StoreLocation::from_url_or_dir(
            args.database.database_url.as_deref(),
            &args.data_dir,
        ) {
            Ok(location) => location.describe(),
            Err(error) => {
                eprintln!("error: --database-url: {error}");
                return ExitCode::from(super::EXIT_USAGE);
            }
        };
        let store = match args.database.open(&args.data_dir).await {
            Ok(s) => s,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        let client: Arc<dyn HttpClient> = match ReqwestClient::new() {
            Ok(c) => Arc::new(c),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(error) = store
            .set_workflow_limits(&crate::runtime::workflow_limits(&catalog))
            .await
        {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
        // The master key: a server with stored secrets it cannot open stops here, instead
        // of running with broken credentials.
        let keyring = match Keyring::load(&args.data_dir, true) {
            Ok((ring, KeySource::Generated(path))) => {
                tracing::warn!(
                    path = %path.display(),
                    "no master key was configured (SWITCHYARD_MASTER_KEY or a key file): generated one, mode 0600; back it up, the stored secrets cannot be read without it"
                );
                ring
            }
            Ok((ring, _)) => ring,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        let service = ConnectionService {
            store: store.clone(),
            keyring: Arc::new(keyring),
        };
        if let Err(problems) = service.verify_keys().await {
            for problem in &problems {
                eprintln!("error: {problem}");
            }
            eprintln!(
                "error: the configured master key cannot open the stored secrets; start with the key they were sealed with (SWITCHYARD_MASTER_KEY or {})",
                Keyring::file_path(&args.data_dir).display()
            );
            return ExitCode::FAILURE;
        }
        let live = LiveCatalog::new(catalog.clone());
        match store.workflow_switches().await {
            Ok(switches) => live.set_switches(switches),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
        let oauth = crate::oauth::OAuthFlow {
            connections: service.clone(),
            http: client.clone(),
        };
        let stored = match StoredConnections::load(service, live.clone(), client.clone()).await {
            Ok(c) => c,
            Err(error) => {
                eprintln!("error: loading connections: {error}");
                return ExitCode::FAILURE;
            }
        };
        // The --connections file first (tests, benchmarks), then the stored connections.
        let connections: Arc<dyn Connections> = Arc::new(LayeredConnections(vec![
            file_connections,
            stored.clone(),
        ]));
        let host = hostname();
        // Unique even where every container is pid 1 on the same host name.
        let owner = format!(
            "{host}-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        // SQLite has one serving process per file: whatever this host left running was cut
        // off. On PostgreSQL other instances on this host may be alive; their heartbeats
        // say which instances died (see `instances_loop`).
        if matches!(store, crate::store::Store::Sqlite(_)) {
            match store.requeue_orphans(&format!("{host}-")).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(runs = n, "runs cut off by an earlier stop are queued again")
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let instance = crate::store::InstanceRow {
            id: owner.clone(),
            host: host.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: crate::store::now_ms(),
            heartbeat_at: 0,
            stopped_at: None,
            runs_in_flight: 0,
        };
        if let Err(error) = store.heartbeat(&instance).await {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
        let files_dir = args
            .files_dir
            .clone()
            .unwrap_or_else(|| args.data_dir.join("files"));
        let files = match crate::files::FileStore::open(&files_dir) {
            Ok(files) => Arc::new(files),
            Err(error) => {
                eprintln!("error: cannot open the file store {}: {error}", files_dir.display());
                return ExitCode::FAILURE;
            }
        };
        let counts = (catalog.connectors.len(), catalog.workflows.len());
        let catalog = live;
        let wake = Arc::new(tokio::sync::Notify::new());
        let engine = Arc::new(Engine {
            catalog: catalog.clone(),
            store: store.clone(),
            interpreter: Arc::new(Interpreter::new(
                client.clone(),
                Options {
                    files: Some(files.clone()),
                    ..Options::default()
                },
            )),
            http: client,
            connections: connections.clone(),
            wake: wake.clone(),
            owner: owner.clone(),
            mocks: Default::default(),
        });
        let (stop_workers, worker_shutdown) = tokio::sync::watch::channel(false);
        let mut workers = engine.spawn_workers(args.workers, worker_shutdown.clone());
        let scheduler = crate::schedule::Scheduler {
            catalog: catalog.clone(),
            store: store.clone(),
            wake: wake.clone(),
            clock: Arc::new(crate::schedule::SystemClock),
        };
        workers.push(tokio::spawn(scheduler.run(worker_shutdown.clone())));
        workers.push(tokio::spawn(engine.clone().run_polls(worker_shutdown.clone())));
        let run_listener = store.listen_for_runs(wake.clone());
        // The heartbeat outlives the workers: it stops only after unfinished runs were
        // handed back, so no other instance takes a run this one is still finishing.
        let (stop_heartbeat, heartbeat_shutdown) = tokio::sync::watch::channel(false);
        let heartbeat = tokio::spawn(instances_loop(
            store.clone(),
            instance,
            wake.clone(),
            heartbeat_shutdown,
        ));
        workers.push(tokio::spawn(follow_switches(
            store.clone(),
            catalog.clone(),
            worker_shutdown.clone(),
        )));
        workers.push(tokio::spawn(prune_loop(
            store.clone(),
            files.clone(),
            Duration::from_secs(u64::from(args.retain_days) * 86_400),
            args.retain_runs,
            worker_shutdown.clone(),
        )));
        let reloader = Reloader {
            paths,
            catalog: catalog.clone(),
            store: store.clone(),
            wake: wake.clone(),
            data_dir: args.data_dir.clone(),
        };
        workers.push(tokio::spawn(reloader.run_on_hangup(worker_shutdown.clone())));
        workers.push(tokio::spawn(stored.run(worker_shutdown)));

        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(error) => {
                eprintln!("error: cannot listen on {}: {error}", args.listen);
                return ExitCode::from(super::EXIT_USAGE);
            }
        };
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        // `switchyard reload` finds the server through this file.
        let pid_file = args.data_dir.join(PID_FILE);
        if let Err(error) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
            tracing::warn!(%error, "cannot write {}", pid_file.display());
        }
        eprintln!(
            "switchyard: {} connector(s), {} workflow(s) loaded; database {}; listening on http://{address}",
            counts.0,
            counts.1,
            database
        );
        let mut state = AppState::live(catalog.clone());
        state.metrics = crate::metrics::install();
        state.oauth = Some(oauth);
        state.store = Some(store.clone());
        state.wake = Some(wake.clone());
        state.public_url = args.public_url.clone();
        state.webhook_targets = Arc::new(EngineTargets {
            catalog,
            connections,
            store: store.clone(),
            wake,
            max_queued: args.max_queued,
        });
        let served = run(listener, state, shutdown_signal()).await;
        // Stop taking new runs. Runs in flight get `--shutdown-grace` to finish; the rest
        // are handed back to the queue (another instance, or the next start, resumes them
        // from their journals) instead of waiting for their leases to expire.
        let _ = stop_workers.send(true);
        let grace = tokio::time::sleep(args.shutdown_grace);
        tokio::pin!(grace);
        for mut worker in workers {
            tokio::select! {
                _ = &mut worker => {}
                _ = &mut grace => worker.abort(),
            }
        }
        if let Some(listener) = run_listener {
            listener.abort();
        }
        match store.release_runs_of(&owner).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(runs = n, "runs still in flight at shutdown handed back to the queue"),
            Err(error) => tracing::error!(%error, "handing runs back at shutdown"),
        }
        let _ = store.stop_instance(&owner).await;
        let _ = stop_heartbeat.send(true);
        let _ = heartbeat.await;
        let _ = std::fs::remove_file(&pid_file);
        match served {
            Ok(()) => {
                eprintln!("switchyard: stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: server failed: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "switchyard".into())
}

/// How often an instance writes its heartbeat, and after how long without one an instance
/// counts as dead (its runs are queued again by the others).
const HEARTBEAT: Duration = Duration::from_secs(2);
const DEAD_AFTER: Duration = Duration::from_secs(10);

/// Writes this instance's heartbeat, and queues again the runs of instances that died
/// (killed, or cut off from the database) so they resume elsewhere within seconds.
async fn instances_loop(
    store: Store,
    instance: crate::store::InstanceRow,
    wake: Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(error) = store.heartbeat(&instance).await {
            tracing::warn!(%error, "heartbeat");
            continue;
        }
        if let Err(error) = store.refresh_queued().await {
            tracing::warn!(%error, "counting queued runs");
        }
        match store.requeue_runs_of_dead_instances(DEAD_AFTER).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(runs = n, "runs of a stopped or dead instance queued again");
                wake.notify_waiters();
            }
            Err(error) => tracing::warn!(%error, "requeueing runs of dead instances"),
        }
    }
}

/// Reads the workflow switches every few seconds, so a workflow switched off through
/// another instance's API stops taking triggers here too.
async fn follow_switches(
    store: Store,
    catalog: Arc<LiveCatalog>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => return,
        }
        match store.workflow_switches().await {
            Ok(switches) => catalog.set_switches(switches),
            Err(error) => tracing::warn!(%error, "reading workflow switches"),
        }
    }
}

/// Applies retention now and then every hour, until shutdown.
async fn prune_loop(
    store: Store,
    files: Arc<crate::files::FileStore>,
    max_age: Duration,
    keep: u32,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match store
            .prune(chrono::Utc::now().timestamp_millis(), max_age, keep)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "old runs deleted"),
            Err(error) => tracing::error!(%error, "retention"),
        }
        // Files live as long as the runs that could refer to them.
        match files.remove_older_than(max_age) {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "old files deleted"),
            Err(error) => tracing::error!(%error, "file retention"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// A duration such as `500ms`, `30s`, `5m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::compile::values::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration such as 30s or 5m"))
}
