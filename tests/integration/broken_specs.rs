//! Table test: broken specs and the exact diagnostics they produce.
//!
//! Each case is a YAML file (a connector, or a workflow checked against the small `demo`
//! connector below) and the errors `validate` must report: `line:col code: message`.
//! Positions are 1-based and point at the offending value, or at the key for unknown or
//! misplaced fields.

use switchyard::compile::{SourceFile, compile_sources};
use switchyard::diag::Severity;

/// The connector workflow cases refer to.
const DEMO: &str = r#"connector: demo
name: Demo
base_url: https://api.example.com
config:
  token: { secret: true }
auth:
  bearer: { token: "{{ secrets.token }}" }
actions:
  get_item:
    method: GET
    path: "/items/{{ input.id }}"
    input:
      id: { type: string }
      limit: { type: integer, optional: true }
  list_items:
    method: GET
    path: /items
    records: $.items[*]
webhooks:
  verify: { none: { reason: test connector } }
  event_type: { header: X-Event }
triggers:
  created: { webhook: { events: [created] } }
  changed: { poll: { action: list_items, every: 5m } }
"#;

struct Case {
    name: &'static str,
    yaml: &'static str,
    errors: &'static [&'static str],
}

fn errors_of(yaml: &str) -> Vec<String> {
    let mut sources = vec![SourceFile {
        path: "case.yaml".into(),
        text: yaml.to_string(),
    }];
    if yaml.starts_with("workflow:") {
        sources.push(SourceFile {
            path: "demo.yaml".into(),
            text: DEMO.to_string(),
        });
    }
    let compiled = compile_sources(&sources);
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            assert_eq!(
                d.file.to_str(),
                Some("case.yaml"),
                "error in the demo connector: {d}"
            );
            format!("{} {}: {}", d.position, d.code, d.message)
        })
        .collect()
}

const CASES: &[Case] = &[
    // --- YAML syntax -----------------------------------------------------------------
    Case {
        name: "unclosed flow mapping",
        yaml: "connector: demo\nname: { x: 1\n",
        errors: &["2:7 yaml-syntax: YAML syntax error: unclosed bracket '{'"],
    },
    Case {
        name: "tab indentation",
        yaml: "connector: demo\nactions:\n\tget: {}\n",
        errors: &[
            "3:2 yaml-syntax: YAML syntax error: tabs disallowed within this context (block indentation)",
        ],
    },
    Case {
        name: "duplicate key",
        yaml: "connector: demo\nname: A\nname: B\n",
        errors: &["3:1 yaml-syntax: duplicate mapping key `name`"],
    },
    Case {
        name: "not a spec",
        yaml: "hello: world\n",
        errors: &[
            "1:1 unknown-document: not a Switchyard spec: expected a mapping with a top-level `connector:`, `workflow:` or `tests:` key",
        ],
    },
    // --- structure: unknown keys, wrong types, missing fields ---------------------------
    Case {
        name: "unknown top-level key with a near name",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactoins: {}\n",
        errors: &[
            "5:1 unknown-field: unknown field `actoins`, expected one of `connector`, `name`, `spec_version`, `version`, `description`, `setup`, `docs_url`, `categories`, `icon`, `config`, `base_url`, `headers`, `query`, `auth`, `retry`, `rate_limit`, `errors`, `pagination`, `actions`, `check`, `webhooks`, `triggers`",
        ],
    },
    Case {
        name: "misspelled action field",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    metod: GET\n    path: /a\n",
        errors: &[
            "7:5 unknown-field: unknown field `metod`, expected one of `description`, `method`, `path`, `smtp`, `base_url`, `input`, `query`, `headers`, `body`, `download`, `upload`, `output`, `records`, `fields`, `filter`, `add_fields`, `remove_fields`, `paginate`, `errors`, `retry`, `idempotent`, `idempotency_key`, `timeout`",
        ],
    },
    Case {
        name: "missing required field",
        yaml: "connector: demo\nbase_url: https://x\nauth: { none: {} }\n",
        errors: &["1:1 missing-field: missing field `name`"],
    },
    Case {
        name: "an HTTP action with no base_url anywhere",
        yaml: "connector: demo\nname: Demo\nauth: { none: {} }\nactions:\n  a:\n    method: GET\n    path: /a\n",
        errors: &["6:5 missing-field: action `a` has no `base_url`, and the connector has none"],
    },
    Case {
        name: "an email action with an HTTP field and no body",
        yaml: "connector: demo\nname: Demo\nauth: { none: {} }\nactions:\n  send:\n    query: { a: b }\n    smtp: { host: h, from: a@b.c, to: x@y.z, subject: s }\n",
        errors: &[
            "6:12 invalid-action: `query` is for HTTP actions; this one sends an email (`smtp`)",
            "7:11 missing-field: an email needs `text` or `html`",
        ],
    },
    Case {
        name: "missing method in an action",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    path: /a\n",
        errors: &["7:5 missing-field: action `a` has no `method`"],
    },
    Case {
        name: "unknown HTTP method",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a: { method: FETCH, path: /a }\n",
        errors: &[
            "6:16 unknown-kind: unknown variant `FETCH`, expected one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS`",
        ],
    },
    Case {
        name: "unknown auth mode",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth:\n  oauth3: {}\n",
        errors: &[
            "5:3 unknown-field: unknown field `oauth3`, expected one of `none`, `api_key`, `bearer`, `basic`, `oauth2`, `oauth2_client_credentials`, `custom`",
        ],
    },
    Case {
        name: "a kept token value named like an engine field",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth:\n  oauth2:\n    authorize_url: https://x/a\n    token_url: https://x/t\n    token_response: { extra: { scope: $.s, team: $.team.id } }\n",
        errors: &["8:39 reserved-name: `connection.scope` is set by the engine"],
    },
    Case {
        name: "wrong type: string for an integer",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\npagination:\n  p:\n    strategy: { link_header: {} }\n    max_pages: lots\n",
        errors: &["8:16 invalid-value: invalid type: string \"lots\", expected u32"],
    },
    Case {
        name: "wrong type: list for a string",
        yaml: "connector: demo\nname: [Demo]\nbase_url: https://x\nauth: { none: {} }\n",
        errors: &["2:7 invalid-value: invalid type: sequence, expected a string"],
    },
    Case {
        name: "unknown pagination strategy",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\npagination:\n  p:\n    strategy: { cursr: {} }\n",
        errors: &[
            "7:17 unknown-kind: unknown variant `cursr`, expected one of `cursor`, `next_url`, `link_header`, `offset`, `page_number`",
        ],
    },
    Case {
        name: "invalid status code",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nerrors:\n  - { status: [99], then: fail }\n",
        errors: &["6:16 invalid-value: invalid status code 99, expected 100 to 599"],
    },
    Case {
        name: "several structural errors are all reported",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a: { method: GET, path: /a, colour: red }\n  b: { method: GOT, path: /b }\n  c: { method: GET }\n",
        errors: &[
            "6:31 unknown-field: unknown field `colour`, expected one of `description`, `method`, `path`, `smtp`, `base_url`, `input`, `query`, `headers`, `body`, `download`, `upload`, `output`, `records`, `fields`, `filter`, `add_fields`, `remove_fields`, `paginate`, `errors`, `retry`, `idempotent`, `idempotency_key`, `timeout`",
            "7:16 unknown-kind: unknown variant `GOT`, expected one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS`",
            "8:6 missing-field: action `c` has no `path`",
        ],
    },
    // --- connector semantics ---------------------------------------------------------------
    Case {
        name: "invalid connector id",
        yaml: "connector: My Connector\nname: Demo\nbase_url: https://x\nauth: { none: {} }\n",
        errors: &["1:12 invalid-id: invalid connector id `My Connector`"],
    },
    Case {
        name: "unsupported spec version",
        yaml: "connector: demo\nname: Demo\nspec_version: 2\nbase_url: https://x\nauth: { none: {} }\n",
        errors: &["3:15 unsupported-version: spec_version 2 is not supported"],
    },
    Case {
        name: "no auth mode",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: {}\n",
        errors: &["4:7 no-auth: no auth mode given"],
    },
    Case {
        name: "template syntax error",
        yaml: "connector: demo\nname: Demo\nbase_url: \"https://{{ config.host \"\nconfig:\n  host: {}\nauth: { none: {} }\n",
        errors: &[
            "3:11 template-syntax: invalid template: syntax error: unexpected end of input, expected end of variable block",
        ],
    },
    Case {
        name: "undefined template variable",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    method: GET\n    path: \"/a/{{ inptu.id }}\"\n",
        errors: &["8:11 undefined-variable: undefined variable `inptu`"],
    },
    Case {
        name: "undeclared action input",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    method: GET\n    path: \"/a/{{ input.idd }}\"\n    input: { id: { type: string } }\n",
        errors: &["8:11 undefined-variable: `input.idd` is not a known input of action `a`"],
    },
    Case {
        name: "secret used through config",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nconfig:\n  key: { secret: true }\nauth:\n  bearer: { token: \"{{ config.key }}\" }\n",
        errors: &["7:20 undefined-variable: `config.key` is not a known config field"],
    },
    Case {
        name: "unknown filter",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nheaders:\n  X-Day: \"{{ now | strftimex('%A') }}\"\n",
        errors: &["6:10 unknown-filter: unknown filter `strftimex`"],
    },
    Case {
        name: "expression written with braces",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nerrors:\n  - when: \"{{ response.body.ok == false }}\"\n    then: fail\n",
        errors: &["6:11 template-syntax: an expression is written without `{{ }}`"],
    },
    Case {
        name: "bad JSONPath",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    method: GET\n    path: /a\n    output: { id: \"$.items[\" }\n",
        errors: &[
            "9:19 invalid-jsonpath: invalid JSONPath `$.items[`: at position 7, parser error",
        ],
    },
    Case {
        name: "JSONPath without the root",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    method: GET\n    path: /a\n    records: items[*]\n",
        errors: &[
            "9:14 invalid-jsonpath: invalid JSONPath `items[*]`: at position 0, parser error",
        ],
    },
    Case {
        name: "path without a leading slash",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a: { method: GET, path: items }\n",
        errors: &["6:27 invalid-path: path `items` must start with `/`"],
    },
    Case {
        name: "unknown paginator",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\npagination:\n  cursor: { strategy: { link_header: {} }, max_pages: 5 }\nactions:\n  a: { method: GET, path: /a, records: \"$[*]\", paginate: cursr }\n",
        errors: &["8:58 unknown-paginator: no pagination strategy `cursr` in this connector"],
    },
    Case {
        name: "fields without records",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a:\n    method: GET\n    path: /a\n    fields: { id: $.id }\n",
        errors: &["9:13 fields-without-records: action `a` has `fields` but no `records`"],
    },
    Case {
        name: "bad duration",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a: { method: GET, path: /a, timeout: 5 minutes }\n",
        errors: &["6:40 invalid-duration: invalid duration `5 minutes`"],
    },
    Case {
        name: "error rule that matches nothing",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nerrors:\n  - then: fail\n",
        errors: &[
            "6:5 empty-error-rule: error rule matches nothing: it has neither `status` nor `when`",
        ],
    },
    Case {
        name: "secret with a default",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nconfig:\n  key: { secret: true, default: abc }\nauth:\n  bearer: { token: \"{{ secrets.key }}\" }\n",
        errors: &["5:33 secret-default: secret field `key` cannot have a default"],
    },
    Case {
        name: "default of the wrong type",
        yaml: "connector: demo\nname: Demo\nbase_url: \"https://x/{{ config.n }}\"\nconfig:\n  n: { type: integer, default: ten }\nauth: { none: {} }\n",
        errors: &["5:32 type-mismatch: default \"ten\" is not of type integer"],
    },
    Case {
        name: "invalid config pattern",
        yaml: "connector: demo\nname: Demo\nbase_url: \"https://{{ config.sub }}.x\"\nconfig:\n  sub: { pattern: \"[a-z\" }\nauth: { none: {} }\n",
        errors: &[
            "5:19 invalid-pattern: invalid regular expression: error: unclosed character class",
        ],
    },
    Case {
        name: "check refers to an unknown action",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  get_user: { method: GET, path: /me }\ncheck: { action: get_usr }\n",
        errors: &["7:18 unknown-action: connector `demo` has no action `get_usr`"],
    },
    Case {
        name: "check misses a required input",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  get: { method: GET, path: \"/{{ input.id }}\", input: { id: { type: string } } }\ncheck: { action: get }\n",
        errors: &["7:8 missing-input: `demo.get` requires input `id`"],
    },
    Case {
        name: "webhook trigger without verification",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\ntriggers:\n  created:\n    webhook: { events: [created] }\n",
        errors: &[
            "7:14 unverified-webhook: webhook trigger `created` has no signature verification: the connector has no `webhooks.verify` rules",
        ],
    },
    Case {
        name: "verify none without a reason",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nwebhooks:\n  verify: { none: { reason: \"\" } }\n",
        errors: &["6:29 unverified-webhook: `verify: none` needs a reason"],
    },
    Case {
        name: "events without an event type source",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nwebhooks:\n  verify: { none: { reason: internal } }\ntriggers:\n  created:\n    webhook: { events: [created] }\n",
        errors: &[
            "9:24 missing-event-type: trigger `created` matches `events` but the connector does not say where the event type is",
        ],
    },
    Case {
        name: "poll trigger on an action without records",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  get: { method: GET, path: /a }\ntriggers:\n  t:\n    poll: { action: get, every: 5m }\n",
        errors: &[
            "9:21 poll-without-records: poll trigger `t` uses action `get`, which has no `records`",
        ],
    },
    Case {
        name: "HMAC timestamp from a missing signature list",
        yaml: "connector: demo\nname: Demo\nbase_url: https://x\nconfig:\n  s: { secret: true }\nauth: { none: {} }\nwebhooks:\n  verify:\n    hmac:\n      algorithm: sha256\n      key: \"{{ secrets.s }}\"\n      signed: \"{{ raw_body }}\"\n      signature: { header: X-Sig, encoding: hex }\n      timestamp: { from: { signature_key: t }, tolerance: 5m }\n",
        errors: &[
            "14:43 invalid-value: `signature_key` reads the timestamp from a signature list, but `signature.list` is not set",
        ],
    },
    // --- workflows -------------------------------------------------------------------------
    Case {
        name: "unknown connector",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    action: { use: slak.post_message, connection: c }\n",
        errors: &["5:20 unknown-connector: no connector `slak`"],
    },
    Case {
        name: "unknown action",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    action: { use: demo.get_iten, connection: c, input: { id: x } }\n",
        errors: &["5:20 unknown-action: connector `demo` has no action `get_iten`"],
    },
    Case {
        name: "action reference without a dot",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    action: { use: get_item, connection: c }\n",
        errors: &["5:20 invalid-reference: `get_item` does not name an action"],
    },
    Case {
        name: "unknown input and missing required input",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    action:\n      use: demo.get_item\n      connection: c\n      input: { idd: x }\n",
        errors: &[
            "8:14 missing-input: `demo.get_item` requires input `id`",
            "8:16 unknown-input: `demo.get_item` has no input `idd`",
        ],
    },
    Case {
        name: "literal input of the wrong type",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    action: { use: demo.get_item, connection: c, input: { id: x, limit: many } }\n",
        errors: &[
            "5:73 type-mismatch: input `limit` of `demo.get_item` is of type integer, got \"many\"",
        ],
    },
    Case {
        name: "unknown step in a template",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: \"{{ steps.b.output }}\" }\n",
        errors: &["5:15 undefined-variable: `steps.b` is not a known earlier step"],
    },
    Case {
        name: "step reads a later step",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: \"{{ steps.b.output }}\" }\n  - id: b\n    set: { y: 1 }\n",
        errors: &["5:15 undefined-variable: `steps.b` is not a known earlier step"],
    },
    Case {
        name: "duplicate step ids, nested included",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: 1 }\n  - id: loop\n    for_each:\n      items: [1, 2]\n      steps:\n        - id: a\n          set: { y: 2 }\n",
        errors: &["10:15 duplicate-id: duplicate step id `a`"],
    },
    Case {
        name: "step with no kind",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    timeout: 5s\n",
        errors: &[
            "4:5 step-kind: step `a` does nothing: give it one of `action`, `set`, `condition`, `for_each`, `http`, `link`, `lookup`, `unlink`, `fail`",
        ],
    },
    Case {
        name: "step with two kinds",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: 1 }\n    http: { method: GET, url: https://x }\n",
        errors: &[
            "4:5 step-kind: step `a` has several kinds (set, http); a step does exactly one thing",
        ],
    },
    Case {
        name: "bad cron expression",
        yaml: "workflow: w\ntrigger:\n  cron: { schedule: \"61 9 * * *\" }\nsteps:\n  - { id: a, set: { x: 1 } }\n",
        errors: &[
            "3:21 invalid-cron: invalid cron schedule `61 9 * * *`: Component error: Number out of bounds.",
        ],
    },
    Case {
        name: "unknown time zone",
        yaml: "workflow: w\ntrigger:\n  cron: { schedule: \"0 9 * * *\", timezone: Europe/Berln }\nsteps:\n  - { id: a, set: { x: 1 } }\n",
        errors: &["3:44 invalid-timezone: unknown time zone `Europe/Berln`"],
    },
    Case {
        name: "unknown catch-up policy",
        yaml: "workflow: w\ntrigger:\n  cron: { schedule: \"0 9 * * *\", catchup: some }\nsteps:\n  - { id: a, set: { x: 1 } }\n",
        errors: &[
            "3:43 unknown-kind: unknown variant `some`, expected one of `none`, `latest`, `all`",
        ],
    },
    Case {
        name: "webhook trigger refers to a poll trigger",
        yaml: "workflow: w\ntrigger:\n  webhook: { connector: demo, event: changed, connection: c }\nsteps:\n  - { id: a, set: { x: 1 } }\n",
        errors: &[
            "3:38 wrong-trigger-kind: `demo.changed` is a poll trigger, not a webhook trigger",
        ],
    },
    Case {
        name: "unknown webhook trigger",
        yaml: "workflow: w\ntrigger:\n  webhook: { connector: demo, event: create, connection: c }\nsteps:\n  - { id: a, set: { x: 1 } }\n",
        errors: &["3:38 unknown-trigger: connector `demo` has no webhook trigger `create`"],
    },
    Case {
        name: "unknown on_failure workflow",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - { id: a, set: { x: 1 } }\non_failure: { workflow: alert }\n",
        errors: &["5:25 unknown-workflow: no workflow `alert`"],
    },
    Case {
        name: "loop variable outside its loop",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: loop\n    for_each:\n      items: [1, 2]\n      as: n\n      steps: [{ id: inner, set: { double: \"{{ n * 2 }}\" } }]\n  - id: after\n    set: { last: \"{{ n }}\" }\n",
        errors: &["10:18 undefined-variable: undefined variable `n`"],
    },
    Case {
        name: "loop item named like a root variable",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: loop\n    for_each: { items: [1], as: steps, steps: [{ id: s, set: { x: 1 } }] }\n",
        errors: &["5:33 invalid-value: `steps` cannot name the loop item"],
    },
    Case {
        name: "poll interval of zero",
        yaml: "workflow: w\ntrigger:\n  poll: { connector: demo, trigger: changed, connection: c, every: 0s }\nsteps:\n  - { id: a, set: { x: 1 } }\n",
        errors: &["3:68 invalid-duration: interval `0s` is too short: poll at most once a second"],
    },
    Case {
        name: "whitespace control is template text, not an expression",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: \"{{- trigger.payload.n -}}\", y: \"{{ trigger.payload.n -}}\", z: \"{{ lipsum() }}\" }\n",
        errors: &["5:78 undefined-variable: undefined variable `lipsum`"],
    },
    Case {
        name: "step id that templates cannot address",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: send-mail\n    set: { x: 1 }\n",
        errors: &["4:9 invalid-id: invalid step id `send-mail`"],
    },
    Case {
        name: "zero retry attempts",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: 1 }\n    retry: { attempts: 0 }\n",
        errors: &["6:24 invalid-value: `attempts` counts the first try too: it must be at least 1"],
    },
    Case {
        name: "unknown on_error policy",
        yaml: "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: 1 }\n    on_error: ignore\n",
        errors: &["6:15 unknown-kind: unknown variant `ignore`, expected `fail` or `continue`"],
    },
];

#[test]
fn every_broken_spec_reports_its_exact_errors() {
    let mut failures = Vec::new();
    for case in CASES {
        let got = errors_of(case.yaml);
        let want: Vec<String> = case.errors.iter().map(|s| s.to_string()).collect();
        if got != want {
            failures.push(format!(
                "case `{}`:\n  want {want:#?}\n  got  {got:#?}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_enough() {
    assert!(CASES.len() >= 40, "only {} cases", CASES.len());
}

#[test]
fn the_demo_connector_is_valid() {
    let compiled = compile_sources(&[SourceFile {
        path: "demo.yaml".into(),
        text: DEMO.into(),
    }]);
    assert!(compiled.catalog.is_some(), "{:#?}", compiled.diagnostics);
}

#[test]
fn duplicate_ids_across_files_are_reported_at_the_second_file() {
    let sources = [
        SourceFile {
            path: "demo.yaml".into(),
            text: DEMO.into(),
        },
        SourceFile {
            path: "again.yaml".into(),
            text: DEMO.replace("name: Demo", "name: Again"),
        },
    ];
    let compiled = compile_sources(&sources);
    let errors: Vec<String> = compiled.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        errors,
        vec![
            "again.yaml:1:12: error[duplicate-id]: connector `demo` is already defined in demo.yaml (hint: each connector id must be unique)"
        ]
    );
    assert!(compiled.catalog.is_none());
}

#[test]
fn errors_in_several_places_of_one_file_are_all_reported() {
    // A structural error, a template error and a reference error in one workflow.
    let yaml = "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: \"{{ trigger.payload.n + }}\" }\n  - id: b\n    action: { use: demo.nope, connection: c }\n  - id: c\n    set: { y: 1 }\n    colour: red\n";
    let got = errors_of(yaml);
    assert_eq!(
        got,
        vec![
            "5:15 template-syntax: invalid template: syntax error: unexpected end of input, expected expression",
            "7:20 unknown-action: connector `demo` has no action `nope`",
            "10:5 unknown-field: unknown field `colour`, expected one of `id`, `name`, `if`, `action`, `set`, `condition`, `for_each`, `http`, `link`, `lookup`, `unlink`, `fail`, `retry`, `timeout`, `on_error`",
        ]
    );
}

#[test]
fn on_failure_cycles_are_reported() {
    let flow = |id: &str, next: &str| SourceFile {
        path: format!("{id}.yaml").into(),
        text: format!(
            "workflow: {id}\ntrigger: {{ manual: {{}} }}\nsteps:\n  - {{ id: a, set: {{ x: 1 }} }}\non_failure: {{ workflow: {next} }}\n"
        ),
    };
    let compiled = compile_sources(&[flow("a", "b"), flow("b", "c"), flow("c", "a")]);
    let errors: Vec<String> = compiled.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        errors,
        vec![
            "a.yaml:5:25: error[invalid-reference]: `on_failure` workflows form a cycle: a -> b -> c -> a (hint: a failing failure handler would start the workflow that failed again, for ever)",
            "b.yaml:5:25: error[invalid-reference]: `on_failure` workflows form a cycle: b -> c -> a -> b (hint: a failing failure handler would start the workflow that failed again, for ever)",
            "c.yaml:5:25: error[invalid-reference]: `on_failure` workflows form a cycle: c -> a -> b -> c (hint: a failing failure handler would start the workflow that failed again, for ever)",
        ]
    );
}

#[test]
fn a_reference_to_an_action_that_failed_to_decode_is_not_reported_twice() {
    let connector = DEMO.replace(
        "  list_items:\n    method: GET",
        "  list_items:\n    method: GOT",
    );
    let workflow = "workflow: w\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    action: { use: demo.list_items, connection: c }\n";
    let compiled = compile_sources(&[
        SourceFile {
            path: "demo.yaml".into(),
            text: connector,
        },
        SourceFile {
            path: "w.yaml".into(),
            text: workflow.into(),
        },
    ]);
    let errors: Vec<String> = compiled
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {}", d.file.display(), d.position, d.code))
        .collect();
    assert_eq!(errors, vec!["demo.yaml:16:13 unknown-kind"]);
}
