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
    let files = collect_files(&shipped_folders()).unwrap();
    for file in files {
        let tree = yaml_tree(&file);
        let validator = if tree.get("connector").is_some() {
            &connector
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
