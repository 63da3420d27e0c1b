//! Where `validate` spends its time: parses, indexes, decodes and compiles a folder of
//! specs phase by phase and prints the time of each.
//!
//!     python3 bench/gen_connectors.py 1000 /tmp/specs
//!     cargo run --release --example validate_phases -- /tmp/specs

use std::time::Instant;
use switchyard::compile::{SourceFile, compile_sources};
use switchyard::load::{LocationIndex, collect_files};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: validate_phases DIR");
    let files = collect_files(&[dir.into()]).expect("readable folder");
    let sources: Vec<SourceFile> = files
        .into_iter()
        .map(|path| SourceFile {
            text: std::fs::read_to_string(&path).unwrap(),
            path,
        })
        .collect();

    let t = Instant::now();
    for s in &sources {
        let options = serde_saphyr::options! { strict_booleans: true, with_snippet: false };
        let _: serde_json::Value = serde_saphyr::from_str_with_options(&s.text, options).unwrap();
    }
    println!("tree via serde-saphyr: {:?}", t.elapsed());

    let t = Instant::now();
    for s in &sources {
        let _ = switchyard::load::yaml::read_tree(&s.text).unwrap();
    }
    println!("tree via load::yaml:   {:?}", t.elapsed());

    let t = Instant::now();
    let events: usize = sources.iter().map(|s| count_events(&s.text)).sum();
    println!("parser events only:    {:?} ({events} events)", t.elapsed());

    let t = Instant::now();
    for s in &sources {
        let _ = LocationIndex::build(&s.text);
    }
    println!("location index:       {:?}", t.elapsed());

    let t = Instant::now();
    let compiled = compile_sources(&sources);
    println!(
        "load + compile (all):  {:?} ({} diagnostics)",
        t.elapsed(),
        compiled.diagnostics.iter().count()
    );
}

fn count_events(text: &str) -> usize {
    let mut parser = granit_parser::Parser::new_from_str(text);
    let mut n = 0;
    while let Some(Ok(_)) = parser.next_event() {
        n += 1;
    }
    n
}
