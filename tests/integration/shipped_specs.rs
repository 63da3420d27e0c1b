//! Every YAML file shipped in `connectors/`, `workflows/` and `examples/` is valid: it
//! compiles without errors or warnings, and it validates against the generated JSON Schema
//! that editors use.

use std::path::{Path, PathBuf};
use switchyard::compile::compile_paths;
use switchyard::load::collect_files;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped_folders() -> Vec<PathBuf> {
    ["connectors", "workflows", "examples"]
        .iter()
        .map(|f| root().join(f))
        .filter(|p| p.is_dir())
        .collect()
}

#[test]
fn shipped_specs_compile_without_errors_or_warnings() {
    let (compiled, sources) = compile_paths(&shipped_folders()).expect("spec folders are readable");
    assert!(
        sources.len() >= 8,
        "expected the shipped specs, found {}",
        sources.len()
    );
    let problems: Vec<String> = compiled.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let catalog = compiled.catalog.expect("a valid catalog");
    for id in ["github", "slack", "stripe", "webhook"] {
        assert!(
            catalog.connectors.contains_key(id),
            "connector {id} missing"
        );
    }
    assert!(catalog.workflows.contains_key("github-issue-to-slack"));
}

fn yaml_tree(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    switchyard::load::yaml::read_tree(&text).unwrap()
}

#[test]
fn shipped_specs_validate_against_the_json_schemas() {
    let load = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas").join(name)).unwrap())
            .unwrap()
    };
    let connector = jsonschema::validator_for(&load("connector.schema.json"))
        .expect("connector schema compiles");
    let workflow =
        jsonschema::validator_for(&load("workflow.schema.json")).expect("workflow schema compiles");
    let tests = jsonschema::validator_for(&load("connector-tests.schema.json"))
        .expect("connector tests schema compiles");
    let files = collect_files(&shipped_folders()).unwrap();
    for file in files {
        let tree = yaml_tree(&file);
        let validator = if tree.get("connector").is_some() {
            &connector
        } else if tree.get("tests").is_some() {
            &tests
        } else {
            &workflow
        };
        let errors: Vec<String> = validator
            .iter_errors(&tree)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    // The schema is not decoration: an unknown key fails it too.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/connector.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!({"connector": "x", "name": "X", "base_url": "https://x", "auth": {"none": {}}, "actoins": {}});
    assert!(!validator.is_valid(&bad));
    let good = serde_json::json!({"connector": "x", "name": "X", "base_url": "https://x", "auth": {"none": {}}});
    assert!(validator.is_valid(&good));
}

/// A string matching a config field's pattern (proptest generates it from the regex).
fn matching(pattern: &str) -> String {
    use proptest::strategy::{Strategy, ValueTree};
    let inner = pattern.trim_start_matches('^').trim_end_matches('$');
    let strategy =
        proptest::string::string_regex(inner).unwrap_or_else(|e| panic!("pattern {pattern}: {e}"));
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    strategy.new_tree(&mut runner).unwrap().current()
}

/// A sample value of a declared type, for rendering requests without a provider.
fn sample(value_type: switchyard::spec::common::ValueType) -> serde_json::Value {
    use switchyard::spec::common::ValueType as T;
    match value_type {
        T::String | T::Any => "sample".into(),
        T::Integer => 3.into(),
        T::Number => 1.5.into(),
        T::Boolean => true.into(),
        T::Object => serde_json::json!({ "k": "v" }),
        T::Array => serde_json::json!(["a", "b"]),
        // Replaced by a stored file where a file store is at hand.
        T::File => {
            serde_json::json!({ "$file": "0".repeat(64), "name": "sample.txt", "content_type": "text/plain", "size": 6 })
        }
    }
}

/// Every action of every shipped connector renders its first request (a dry run) with
/// sample config and inputs: no template fails at run time, every URL stays on its base.
#[tokio::test]
async fn every_shipped_action_renders_its_first_request() {
    use std::sync::Arc;
    use switchyard::interpret::{
        Call, Connection, Interpreter, Options, ReqwestClient, StaticToken,
    };
    let (compiled, _) = compile_paths(&shipped_folders()).expect("spec folders are readable");
    let catalog = compiled.catalog.expect("a valid catalog");
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(switchyard::files::FileStore::open(dir.path()).unwrap());
    let sample_file = files
        .put(b"sample", "sample.txt", "text/plain")
        .await
        .unwrap()
        .to_json();
    let interpreter = Interpreter::new(
        Arc::new(ReqwestClient::new().unwrap()),
        Options {
            files: Some(files.clone()),
            ..Options::default()
        },
    );
    let mut rendered = 0;
    for connector in catalog.connectors.values() {
        let config: serde_json::Map<_, _> = connector
            .config
            .iter()
            .filter(|(name, _)| name.as_str() != "base_url")
            .map(|(name, field)| {
                let value = field.default.clone().unwrap_or_else(|| {
                    match (&field.allowed, &field.pattern) {
                        (Some(allowed), _) => allowed[0].clone(),
                        (None, Some(pattern)) => matching(pattern.as_str()).into(),
                        // Sender addresses are parsed when an email is built.
                        (None, None) if name.contains("from") || name.contains("email") => {
                            "sample@example.com".into()
                        }
                        (None, None) => sample(field.value_type),
                    }
                });
                (name.clone(), value)
            })
            .chain([("base_url".to_string(), "https://example.test".into())])
            .filter(|(name, _)| connector.config.contains_key(name))
            .collect();
        let mut conn = Connection::new("dry", connector.clone(), config)
            .unwrap_or_else(|p| panic!("{}: {p:?}", connector.id));
        conn.tokens = Some(Arc::new(StaticToken("oauth-sample".into())));
        for (name, action) in &connector.actions {
            // Email actions render a message, not a request: tests/integration/email.rs
            // sends them to a real SMTP server.
            if matches!(action.transport, switchyard::plan::Transport::Smtp(_)) {
                continue;
            }
            // An email body is built whole: optional inputs (attachments) stay out.
            let email = matches!(action.body, Some(switchyard::plan::BodyPlan::Email(_)));
            let input = action
                .inputs
                .iter()
                .filter(|(_, i)| !email || i.required || i.default.is_some())
                .map(|(n, i)| {
                    let v = i.default.clone().unwrap_or_else(|| match &i.allowed {
                        Some(allowed) => allowed[0].clone(),
                        None if i.value_type == switchyard::spec::common::ValueType::File => {
                            sample_file.clone()
                        }
                        // Email bodies need addresses where the sample has words.
                        None if matches!(
                            action.body,
                            Some(switchyard::plan::BodyPlan::Email(_))
                        ) && matches!(
                            i.value_type,
                            switchyard::spec::common::ValueType::String
                                | switchyard::spec::common::ValueType::Any
                        ) =>
                        {
                            "sample@example.com".into()
                        }
                        None => sample(i.value_type),
                    });
                    (n.clone(), v)
                })
                .collect();
            let call = Call {
                action: name.clone(),
                input,
                ..Call::default()
            };
            let text = interpreter
                .dry_run(&conn, &call)
                .await
                .unwrap_or_else(|e| panic!("{}.{name}: {e}", connector.id));
            assert!(text.starts_with(action.method.as_str()), "{text}");
            rendered += 1;
        }
    }
    assert!(rendered >= 10, "only {rendered} actions rendered");
}
