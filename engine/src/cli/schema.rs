//! `switchyard schema [--out DIR] [--docs FILE] [--openapi FILE] [--check]`

use crate::schema::{reference_markdown, schemas};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Folder for `connector.schema.json` and `workflow.schema.json`.
    #[arg(long, default_value = "schemas")]
    pub out: PathBuf,
    /// Where the generated spec reference goes.
    #[arg(long, default_value = "docs/spec-reference.md")]
    pub docs: PathBuf,
    /// Where the REST API's OpenAPI document goes.
    #[arg(long, default_value = "docs/openapi.json")]
    pub openapi: PathBuf,
    /// Write nothing; exit 1 if a file differs from what the spec types generate.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: SchemaArgs) -> ExitCode {
    let mut files: Vec<(PathBuf, String)> = schemas()
        .into_iter()
        .map(|g| (args.out.join(g.file_name), g.contents))
        .collect();
    files.push((args.docs.clone(), reference_markdown()));
    files.push((args.openapi.clone(), crate::server::rest::openapi_json()));
    let mut drift = false;
    for (path, contents) in files {
        if args.check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
                eprintln!("{} is out of date: run `switchyard schema`", path.display());
                drift = true;
            }
        } else if let Err(error) = write(&path, &contents) {
            eprintln!("error: {}: {error}", path.display());
            return ExitCode::from(super::EXIT_USAGE);
        } else {
            println!("wrote {}", path.display());
        }
    }
    if drift {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn write(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)
}
