//! No input makes the loader or compiler panic: random text, random YAML documents, and
//! random mutations of the shipped specs. Bounded (a fixed number of cases) so it runs in
//! every `cargo test`.

use proptest::prelude::*;
use switchyard::compile::{SourceFile, compile_sources};

fn compile(text: String) {
    let _ = compile_sources(&[SourceFile {
        path: "fuzz.yaml".into(),
        text,
    }]);
}

fn shipped() -> Vec<String> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    switchyard::load::collect_files(&[root.join("connectors"), root.join("workflows")])
        .unwrap()
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// YAML-ish documents built from the spec's own vocabulary, so the fuzzer reaches deep
/// into the decoder and compiler rather than stopping at the first unknown key.
fn yamlish() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "connector",
        "workflow",
        "name",
        "base_url",
        "auth",
        "bearer",
        "token",
        "actions",
        "method",
        "GET",
        "path",
        "input",
        "type",
        "string",
        "records",
        "fields",
        "paginate",
        "pagination",
        "strategy",
        "cursor",
        "steps",
        "id",
        "set",
        "action",
        "use",
        "trigger",
        "cron",
        "schedule",
        "webhooks",
        "verify",
        "hmac",
        "{{ input.x }}",
        "{{",
        "}}",
        "$.a[*]",
        "$[",
        "5m",
        "x",
        "-",
        ":",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a",
        "*a",
        "<<",
        "!!str",
        "\"",
        "'",
        "|",
        ">",
        "#",
        "?",
        "null",
        "~",
        "true",
        "1e9",
        "0x1F",
        "\t",
    ]);
    prop::collection::vec((0usize..6, words, prop::bool::ANY), 0..60).prop_map(|items| {
        let mut out = String::new();
        for (indent, word, newline) in items {
            if newline {
                out.push('\n');
                out.push_str(&"  ".repeat(indent));
            } else {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        compile(text);
    }

    #[test]
    fn random_yaml_never_panics(text in yamlish()) {
        compile(text);
    }

    #[test]
    fn mutated_specs_never_panic(which in 0usize..64, at in any::<prop::sample::Index>(), cut in 0usize..40, insert in "[a-z{}:\\[\\]$.'\" \n-]{0,8}") {
        let specs = shipped();
        let text = &specs[which % specs.len()];
        let mut chars: Vec<char> = text.chars().collect();
        let start = at.index(chars.len().max(1)).min(chars.len());
        let end = (start + cut).min(chars.len());
        chars.splice(start..end, insert.chars());
        compile(chars.into_iter().collect());
    }
}

#[test]
fn deeply_nested_input_is_rejected_not_overflowed() {
    let deep = format!(
        "connector: x\nname: {}{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    compile(deep);
    let deep_map = format!(
        "workflow: w\nvars: {}1{}",
        "{a: ".repeat(50_000),
        "}".repeat(50_000)
    );
    compile(deep_map);
}

#[test]
fn alias_bombs_are_bounded() {
    let mut doc = String::from("connector: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        doc.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    compile(doc);
}

#[test]
fn deeply_nested_jsonpath_is_rejected_not_overflowed() {
    let deep = format!("$[?{}@.a{}]", "(".repeat(50_000), ")".repeat(50_000));
    let text = format!(
        "connector: x\nname: X\nbase_url: https://x\nauth: {{ none: {{}} }}\nactions:\n  a: {{ method: GET, path: /a, records: \"{deep}\" }}\n"
    );
    let compiled = compile_sources(&[SourceFile {
        path: "deep.yaml".into(),
        text,
    }]);
    let messages: Vec<String> = compiled
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("nested too deeply")),
        "{messages:?}"
    );
}
