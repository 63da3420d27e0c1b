//! `switchyard docs [--connectors DIR] [--out DIR] [--check]`: writes (or checks) one
//! Markdown page per connector, generated from its YAML.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// The connector specs.
    #[arg(long, default_value = "connectors")]
    pub connectors: PathBuf,
    /// Where the pages go.
    #[arg(long, default_value = "docs/connectors")]
    pub out: PathBuf,
    /// Write nothing; exit 1 if a page differs from what the specs generate.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: DocsArgs) -> ExitCode {
    let pages = match crate::connector_docs::pages(&args.connectors) {
        Ok(pages) => pages,
        Err(error) => return super::usage_error(format!("{}: {error}", args.connectors.display())),
    };
    let mut drift = false;
    for page in pages {
        let path = args.out.join(&page.file_name);
        if args.check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(page.contents.as_str()) {
                eprintln!("{} is out of date: run `switchyard docs`", path.display());
                drift = true;
            }
            continue;
        }
        if let Err(error) =
            std::fs::create_dir_all(&args.out).and_then(|()| std::fs::write(&path, &page.contents))
        {
            return super::usage_error(format!("{}: {error}", path.display()));
        }
        println!("wrote {}", path.display());
    }
    if drift {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
