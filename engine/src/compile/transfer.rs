//! Compiling file transfers: file and multipart bodies, email bodies, downloads and
//! chunked uploads, with the checks that keep them from being combined in ways that
//! would silently do something else.

use super::request::compile_pairs;
use super::template::{Scope, TemplateCompiler};
use super::values::optional;
use crate::load::{Reporter, YamlPath};
use crate::plan::{
    BodyPlan, DownloadPlan, FileBodyPlan, MultipartPlan, PartContent, PartPlan, UploadPlan,
    UploadRequestPlan, UploadTarget,
};
use crate::spec::action::{
    ActionSpec, DownloadSpec, FileBody, MultipartBody, MultipartKind, UploadRequestSpec, UploadSpec,
};
use crate::spec::smtp::MessageSpec;

pub fn file_body(
    spec: &FileBody,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<BodyPlan> {
    let file = tc.template(&spec.file.0, scope, &path.key("file"), r);
    let content_type = optional(spec.content_type.as_ref(), |t| {
        tc.template(&t.0, scope, &path.key("content_type"), r)
    });
    Some(BodyPlan::File(FileBodyPlan {
        file: file?,
        content_type: content_type?,
    }))
}

pub fn multipart_body(
    spec: &MultipartBody,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<BodyPlan> {
    let mut parts = Vec::with_capacity(spec.parts.len());
    let mut ok = true;
    if spec.parts.is_empty() {
        r.error(
            "invalid-body",
            &path.key("parts"),
            "a multipart body needs parts",
        );
        ok = false;
    }
    for (i, part) in spec.parts.iter().enumerate() {
        let at = path.key("parts").index(i);
        let given: Vec<&str> = [
            ("json", part.json.is_some()),
            ("text", part.text.is_some()),
            ("file", part.file.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if given.len() != 1 {
            r.error_hint(
                "invalid-body",
                &at,
                if given.is_empty() {
                    "a part needs its content".to_string()
                } else {
                    format!(
                        "a part has one content; this one has {}",
                        given.join(" and ")
                    )
                },
                Some("set exactly one of `json`, `text` and `file`".into()),
            );
            ok = false;
            continue;
        }
        if spec.kind == MultipartKind::FormData && part.name.is_none() {
            r.error_hint(
                "invalid-body",
                &at,
                "a form-data part needs a `name`",
                Some("the form field's name, e.g. `name: document`".into()),
            );
            ok = false;
        }
        let content = if let Some(json) = &part.json {
            tc.tree(&json.0, scope, &at.key("json"), r)
                .map(PartContent::Json)
        } else if let Some(text) = &part.text {
            tc.template(&text.0, scope, &at.key("text"), r)
                .map(PartContent::Text)
        } else {
            let file = part.file.as_ref().map_or("", |t| t.0.as_str());
            tc.template(file, scope, &at.key("file"), r)
                .map(PartContent::File)
        };
        let filename = optional(part.filename.as_ref(), |t| {
            tc.template(&t.0, scope, &at.key("filename"), r)
        });
        let content_type = optional(part.content_type.as_ref(), |t| {
            tc.template(&t.0, scope, &at.key("content_type"), r)
        });
        match (content, filename, content_type) {
            (Some(content), Some(filename), Some(content_type)) => parts.push(PartPlan {
                name: part.name.clone(),
                content,
                filename,
                content_type,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(BodyPlan::Multipart(MultipartPlan {
        kind: spec.kind,
        parts,
    }))
}

pub fn email_body(
    spec: &MessageSpec,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<BodyPlan> {
    super::smtp::compile_message(spec, tc, scope, path, r, false)
        .map(|m| BodyPlan::Email(Box::new(m)))
}

/// The scope of `download.name`: the request's plus the `response`.
pub fn download(
    spec: &DownloadSpec,
    action: &ActionSpec,
    tc: &TemplateCompiler,
    response: &Scope,
    action_path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<DownloadPlan> {
    let path = &action_path.key("download");
    let mut ok = true;
    for (key, set) in [
        ("output", !action.output.is_empty()),
        ("records", action.records.is_some()),
        ("upload", action.upload.is_some()),
    ] {
        if set {
            r.error_hint(
                "invalid-action",
                &action_path.key(key),
                format!("`{key}` cannot be used with `download`"),
                Some("a download's output is the file reference `{\"$file\", name, content_type, size}`".into()),
            );
            ok = false;
        }
    }
    let name = optional(spec.name.as_ref(), |t| {
        tc.template(&t.0, response, &path.key("name"), r)
    });
    let content_type = optional(spec.content_type.as_ref(), |t| {
        tc.template(&t.0, response, &path.key("content_type"), r)
    });
    let plan = DownloadPlan {
        name: name?,
        content_type: content_type?,
        follow_redirect: spec.follow_redirect,
    };
    ok.then_some(plan)
}

/// Chunk and finish templates see the request scope plus `session`, `chunk` and `file`.
pub fn upload(
    spec: &UploadSpec,
    action: &ActionSpec,
    tc: &TemplateCompiler,
    request: &Scope,
    action_path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<UploadPlan> {
    let path = &action_path.key("upload");
    let mut ok = true;
    if action.records.is_some() {
        r.error(
            "invalid-action",
            &action_path.key("records"),
            "`records` cannot be used with `upload`",
        );
        ok = false;
    }
    let file = tc.template(&spec.file.0, request, &path.key("file"), r);
    let chunk_size = spec.chunk_size.bytes().filter(|n| *n > 0);
    if chunk_size.is_none() {
        r.error_hint(
            "invalid-value",
            &path.key("chunk_size"),
            format!("`{}` is not a size", spec.chunk_size.0),
            Some("a number and a unit: `320KiB`, `8MiB`".into()),
        );
    }
    let scope = request
        .clone()
        .any("session")
        .known(
            "chunk",
            ["index", "start", "end", "size", "last"].map(String::from),
            "chunk variable",
        )
        .known(
            "file",
            ["name", "content_type", "size"].map(String::from),
            "file variable",
        );
    let chunk = request_plan(&spec.chunk, false, tc, &scope, &path.key("chunk"), r);
    let finish = optional(spec.finish.as_ref(), |f| {
        request_plan(f, true, tc, &scope, &path.key("finish"), r)
    });
    let plan = UploadPlan {
        file: file?,
        chunk_size: chunk_size?,
        chunk: chunk?,
        finish: finish?,
    };
    ok.then_some(plan)
}

fn request_plan(
    spec: &UploadRequestSpec,
    finish: bool,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<UploadRequestPlan> {
    let mut ok = true;
    let target = match (&spec.url, &spec.path) {
        (Some(url), None) => tc
            .template(&url.0, scope, &path.key("url"), r)
            .map(UploadTarget::Url),
        (None, Some(p)) => tc
            .template(&p.0, scope, &path.key("path"), r)
            .map(UploadTarget::Path),
        _ => {
            r.error_hint(
                "invalid-action",
                path,
                "an upload request needs one of `url` and `path`",
                Some("`url` for a session URL (`{{ session.headers.location }}`), `path` for a path under the base URL".into()),
            );
            None
        }
    };
    if spec.json.is_some() && !finish {
        r.error(
            "invalid-action",
            &path.key("json"),
            "a chunk's body is the chunk: `json` is only for `finish`",
        );
        ok = false;
    }
    let headers = compile_pairs(&spec.headers, tc, scope, &path.key("headers"), r);
    let json = optional(spec.json.as_ref(), |j| {
        tc.tree(&j.0, scope, &path.key("json"), r)
    });
    let plan = UploadRequestPlan {
        method: spec.method,
        target: target?,
        headers: headers?,
        content_type: spec.content_type.clone().unwrap_or_else(|| {
            if spec.json.is_some() {
                "application/json".into()
            } else {
                "application/octet-stream".into()
            }
        }),
        json: json?,
        auth: spec.auth,
    };
    ok.then_some(plan)
}
