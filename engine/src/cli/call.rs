//! `switchyard call CONNECTOR ACTION`: run one action from the command line.
//!
//! For connector authors and scripts: config from `--config FILE.json` and `-c key=value`,
//! secrets from `-s key=value` or `SWITCHYARD_SECRET_<KEY>`, inputs from `-i key=value` and
//! `--input FILE.json`. Records stream to stdout as they arrive. Exit codes: 0 ok, 1 the
//! provider or the action failed, 2 usage error (arguments, spec, config, inputs).

use crate::interpret::{
    Call, Connection, Exchange, Interpreter, Options, ReqwestClient, Sink, StaticToken,
};
use crate::plan::ConnectorPlan;
use serde_json::{Map, Value as Json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// A connector id found in the connectors folder, or a path to a connector YAML file.
    pub connector: String,
    /// The action to run.
    pub action: String,
    /// Folder searched for CONNECTOR when it is an id.
    #[arg(long, default_value = "connectors")]
    pub connectors: PathBuf,
    /// JSON file with config values (secret fields may be included).
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// A config value, `key=value` (repeatable).
    #[arg(short = 'c', value_name = "KEY=VALUE")]
    pub config_values: Vec<String>,
    /// A secret config value, `key=value` (repeatable); also read from SWITCHYARD_SECRET_<KEY>.
    /// `access_token` is the OAuth access token for OAuth auth modes.
    #[arg(short = 's', value_name = "KEY=VALUE")]
    pub secrets: Vec<String>,
    /// An input value, `key=value` (repeatable); typed by the action's input declaration.
    /// A `file` input takes `key=@PATH`: the local file is copied into the file store.
    #[arg(short = 'i', value_name = "KEY=VALUE")]
    pub inputs: Vec<String>,
    /// JSON file with input values.
    #[arg(long = "input", value_name = "FILE.json")]
    pub input_file: Option<PathBuf>,
    /// Auth mode to use (default: the first one the config and secrets allow).
    #[arg(long)]
    pub auth: Option<String>,
    /// Stop after this many pages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pages: Option<u32>,
    /// `json` (one document) or `jsonl` (one record per line, streamed).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Print the first request instead of sending it (secrets shown as ***).
    #[arg(long)]
    pub dry_run: bool,
    /// One line per request on stderr: method, URL, status, size, time.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Largest response accepted, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// Folder of the file store: downloads are saved there, `@PATH` inputs copied there.
    #[arg(long, default_value = "data/files", env = "SWITCHYARD_FILES_DIR")]
    pub files_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Jsonl,
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(super::EXIT_USAGE)
}

pub fn run(args: CallArgs) -> ExitCode {
    let connector = match super::load_connector(&args.connector, &args.connectors) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (connection, call) = match build_call(&args, connector) {
        Ok(v) => v,
        Err(problems) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let client = match ReqwestClient::new() {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let files = match crate::files::FileStore::open(&args.files_dir) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            return usage(format!(
                "cannot open the file store {}: {e}",
                args.files_dir.display()
            ));
        }
    };
    let options = Options {
        max_response_bytes: args.max_response_bytes,
        files: Some(files.clone()),
        ..Options::default()
    };
    let interpreter = Interpreter::new(Arc::new(client), options);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return usage(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let mut call = call;
        if let Err(e) = store_local_files(&connection, &mut call, &files).await {
            return usage(e);
        }
        if args.dry_run {
            return match interpreter.dry_run(&connection, &call).await {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            };
        }
        let has_records = connection
            .connector
            .actions
            .get(&call.action)
            .is_some_and(|a| a.records.is_some());
        let mut sink = StdoutSink::new(args.format, args.verbose, has_records);
        match interpreter.call(&connection, &call, &mut sink).await {
            Ok(outcome) => {
                let written = if has_records {
                    sink.finish()
                } else {
                    sink.write_output(&outcome.output)
                };
                if let Err(e) = written {
                    eprintln!("error: writing output: {e}");
                    return ExitCode::FAILURE;
                }
                if args.verbose || outcome.truncated {
                    eprintln!(
                        "{} page(s), {} request(s), {} record(s){}",
                        outcome.pages,
                        outcome.requests,
                        outcome.records,
                        if outcome.truncated {
                            " (stopped by --max-pages; more pages remain)"
                        } else {
                            ""
                        }
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                let _ = sink.finish();
                fail(&e)
            }
        }
    })
}

/// `file` inputs given as `@PATH`: the file is streamed into the store and the action
/// gets its reference.
async fn store_local_files(
    connection: &Connection,
    call: &mut Call,
    files: &crate::files::FileStore,
) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let Some(action) = connection.connector.actions.get(&call.action) else {
        return Ok(());
    };
    for (name, plan) in &action.inputs {
        if plan.value_type != crate::spec::common::ValueType::File {
            continue;
        }
        let Some(path) = call
            .input
            .get(name)
            .and_then(Json::as_str)
            .and_then(|v| v.strip_prefix('@'))
        else {
            continue;
        };
        let path = PathBuf::from(path);
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| format!("input `{name}`: cannot open {}: {e}", path.display()))?;
        let mut writer = files
            .writer(u64::MAX)
            .await
            .map_err(|e| format!("file store: {e}"))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| format!("input `{name}`: reading {}: {e}", path.display()))?;
            if n == 0 {
                break;
            }
            writer
                .write(&buf[..n])
                .await
                .map_err(|e| format!("file store: {e}"))?;
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let reference = writer
            .finish(&file_name, "application/octet-stream")
            .await
            .map_err(|e| format!("file store: {e}"))?;
        call.input.insert(name.clone(), reference.to_json());
    }
    Ok(())
}

fn fail(error: &crate::interpret::ActionError) -> ExitCode {
    eprintln!("error: {error}");
    if error.is_usage() {
        ExitCode::from(super::EXIT_USAGE)
    } else {
        ExitCode::FAILURE
    }
}

fn build_call(
    args: &CallArgs,
    connector: Arc<ConnectorPlan>,
) -> Result<(Connection, Call), Vec<String>> {
    let mut problems = Vec::new();
    let mut config = match &args.config {
        Some(path) => read_object(path).unwrap_or_else(|e| {
            problems.push(e);
            Map::new()
        }),
        None => Map::new(),
    };
    for pair in &args.config_values {
        match split_pair(pair, "-c") {
            Ok((k, v)) => {
                if connector.config.get(&k).is_some_and(|f| f.secret) {
                    problems.push(format!(
                        "`{k}` is a secret: pass it with -s {k}=... or SWITCHYARD_SECRET_{}",
                        k.to_ascii_uppercase()
                    ));
                } else {
                    config.insert(k, Json::String(v));
                }
            }
            Err(e) => problems.push(e),
        }
    }
    let mut access_token = std::env::var("SWITCHYARD_SECRET_ACCESS_TOKEN").ok();
    for (name, field) in &connector.config {
        if field.secret
            && !config.contains_key(name)
            && let Ok(v) = std::env::var(format!("SWITCHYARD_SECRET_{}", name.to_ascii_uppercase()))
        {
            config.insert(name.clone(), Json::String(v));
        }
    }
    for pair in &args.secrets {
        match split_pair(pair, "-s") {
            Ok((k, v)) if k == "access_token" && !connector.config.contains_key("access_token") => {
                access_token = Some(v)
            }
            Ok((k, v)) => {
                config.insert(k, Json::String(v));
            }
            Err(e) => problems.push(e),
        }
    }
    let mut input = match &args.input_file {
        Some(path) => read_object(path).unwrap_or_else(|e| {
            problems.push(e);
            Map::new()
        }),
        None => Map::new(),
    };
    for pair in &args.inputs {
        match split_pair(pair, "-i") {
            Ok((k, v)) => {
                input.insert(k, Json::String(v));
            }
            Err(e) => problems.push(e),
        }
    }
    if !connector.actions.contains_key(&args.action) {
        let hint = crate::diag::did_you_mean_suffix(
            &args.action,
            connector.actions.keys().map(String::as_str),
        );
        problems.push(format!(
            "connector `{}` has no action `{}`{hint}",
            connector.id, args.action
        ));
    }
    let mut connection = match Connection::new("cli", connector, config) {
        Ok(c) => Some(c),
        Err(mut p) => {
            problems.append(&mut p);
            None
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(mut connection) = connection.take() else {
        return Err(vec!["invalid connection".into()]);
    };
    connection.auth_mode = args.auth.clone();
    connection.tokens = access_token.map(|t| Arc::new(StaticToken(t)) as _);
    Ok((
        connection,
        Call {
            action: args.action.clone(),
            input,
            run: None,
            max_pages: args.max_pages,
        },
    ))
}

fn split_pair(pair: &str, flag: &str) -> Result<(String, String), String> {
    match pair.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "{flag} expects KEY=VALUE, got `{}`",
            pair.split('=').next().unwrap_or("")
        )),
    }
}

fn read_object(path: &Path) -> Result<Map<String, Json>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match serde_json::from_str::<Json>(&text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(format!("{}: expected a JSON object", path.display())),
        Err(e) => Err(format!("{}: invalid JSON: {e}", path.display())),
    }
}

/// Writes records to stdout as they arrive.
struct StdoutSink {
    out: std::io::BufWriter<std::io::Stdout>,
    format: Format,
    verbose: bool,
    list: bool,
    written: u64,
    error: Option<std::io::Error>,
}

impl StdoutSink {
    fn new(format: Format, verbose: bool, list: bool) -> Self {
        StdoutSink {
            out: std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout()),
            format,
            verbose,
            list,
            written: 0,
            error: None,
        }
    }

    fn write_records(&mut self, records: &[Json]) -> std::io::Result<()> {
        for record in records {
            match self.format {
                Format::Jsonl => {
                    serde_json::to_writer(&mut self.out, record)?;
                    self.out.write_all(b"\n")?;
                }
                Format::Json => {
                    self.out.write_all(if self.written == 0 {
                        b"[\n  "
                    } else {
                        b",\n  "
                    })?;
                    serde_json::to_writer(&mut self.out, record)?;
                }
            }
            self.written += 1;
        }
        self.out.flush()
    }

    /// Closes the JSON array of a list action.
    fn finish(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.list && self.format == Format::Json {
            self.out
                .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }

    fn write_output(&mut self, output: &Json) -> std::io::Result<()> {
        match self.format {
            Format::Json => serde_json::to_writer_pretty(&mut self.out, output)?,
            Format::Jsonl => serde_json::to_writer(&mut self.out, output)?,
        }
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

impl Sink for StdoutSink {
    fn records(&mut self, records: Vec<Json>) -> Result<(), String> {
        self.write_records(&records).map_err(|e| {
            let message = e.to_string();
            self.error = Some(e);
            message
        })
    }

    fn exchange(&mut self, e: &Exchange) {
        if self.verbose {
            let status = e.status.map_or("-".to_string(), |s| s.to_string());
            eprintln!(
                "page {} attempt {}: {} {} -> {} ({} bytes, {} ms){}",
                e.page,
                e.attempt,
                e.method,
                e.url,
                status,
                e.bytes,
                e.elapsed.as_millis(),
                if e.note.is_empty() {
                    String::new()
                } else {
                    format!(" {}", e.note)
                }
            );
        }
    }
}
