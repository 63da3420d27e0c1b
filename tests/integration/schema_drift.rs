//! The committed JSON Schemas and spec reference are exactly what the spec types generate.

use std::path::PathBuf;

#[test]
fn committed_schemas_match_the_spec_types() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for generated in switchyard::schema::schemas() {
        let path = root.join("schemas").join(generated.file_name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated.contents,
            "{} is out of date: run `cargo run -- schema`",
            path.display()
        );
    }
}

#[test]
fn committed_spec_reference_matches_the_spec_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/spec-reference.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == switchyard::schema::reference_markdown(),
        "{} is out of date: run `cargo run -- schema`",
        path.display()
    );
}

#[test]
fn every_field_has_a_description_with_an_example() {
    // Descriptions become editor tooltips and the spec reference; a field without one (or
    // without an example) is a bug in the spec types.
    fn walk(node: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
            for (name, prop) in props {
                let described = prop
                    .get("description")
                    .and_then(|d| d.as_str())
                    .unwrap_or("");
                if !described.contains("Example") {
                    missing.push(format!("{at}.{name}"));
                }
            }
        }
        if let Some(obj) = node.as_object() {
            for (k, v) in obj {
                walk(v, &format!("{at}/{k}"), missing);
            }
        } else if let Some(items) = node.as_array() {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{at}/{i}"), missing);
            }
        }
    }
    for generated in switchyard::schema::schemas() {
        let schema: serde_json::Value = serde_json::from_str(&generated.contents).unwrap();
        let mut missing = Vec::new();
        walk(&schema, generated.file_name, &mut missing);
        assert!(
            missing.is_empty(),
            "fields without a description and example: {missing:#?}"
        );
    }
}

#[test]
fn committed_openapi_document_matches_the_api() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == switchyard::server::rest::openapi_json(),
        "{} is out of date: run `cargo run -- schema`",
        path.display()
    );
    let doc: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn committed_connector_pages_match_the_connector_specs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let pages = switchyard::connector_docs::pages(&root.join("connectors")).unwrap();
    assert!(pages.len() > 10);
    for page in pages {
        let path = root.join("docs/connectors").join(&page.file_name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == page.contents,
            "{} is out of date: run `cargo run -- docs`",
            path.display()
        );
    }
}
