//! The HTTP API of `ollama serve` 0.32.15 (ollama/ollama `server/routes.go GenerateRoutes`
//! and its handlers, `server/create.go`, `server/images.go PullModel`,
//! `server/download.go`; reference ollama.md sections 1 and 2, checklist 6). Each handler
//! cites the code it follows; every error body is `{"error":"…"}` with the texts of the
//! reference's table (1.11).
//!
//! Transport, as gin and the handlers write it: `c.JSON` → `application/json;
//! charset=utf-8`, compact, no newline; streams (`streamResponse`) →
//! `application/x-ndjson`, one object per line; an error before anything was streamed →
//! its status with `application/json` (no charset) and `{"error":…}`, after → an
//! `{"error":…}` line in the 200 stream; `stream:false` on create/pull (`waitForStream`) →
//! the last progress object, `application/json`. Unknown path → 404 `404 page not found`,
//! known path with another method → 405 `405 method not allowed` (gin's `default404Body`,
//! `default405Body`, `text/plain`).

use super::envconfig::EnvConfig;
use super::gofmt::{self, J};
use super::homebrew;
use super::names::{self, Name};
use super::perf;
use super::registry::{self, FileType};
use super::server::{Loaded, Running};
use super::store::{self, Layer, Model, Store};
use super::templates;
use crate::http::HttpRequest;
use crate::machine::Machine;
use std::time::{Duration, SystemTime};

/// A response before it is put on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    /// Empty when the server sends no `Content-Type` (an empty 200).
    pub content_type: String,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Text(String),
    /// NDJSON lines, each without its newline.
    Lines(Vec<String>),
}

pub const JSON: &str = "application/json; charset=utf-8";
pub const NDJSON: &str = "application/x-ndjson";
const TEXT_PLAIN_UTF8: &str = "text/plain; charset=utf-8";

impl Reply {
    fn json(status: u16, value: &J) -> Reply {
        Reply {
            status,
            content_type: JSON.into(),
            body: Body::Text(value.to_json()),
        }
    }

    fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, &J::obj([("error", J::str(message))]))
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            content_type: String::new(),
            body: Body::Text(String::new()),
        }
    }

    fn plain(status: u16, content_type: &str, text: &str) -> Reply {
        Reply {
            status,
            content_type: content_type.into(),
            body: Body::Text(text.into()),
        }
    }

    /// The body as the in-process host returns it: NDJSON lines each ended by `\n`.
    pub fn body_text(&self) -> String {
        match &self.body {
            Body::Text(text) => text.clone(),
            Body::Lines(lines) => lines.iter().map(|l| format!("{l}\n")).collect(),
        }
    }
}

/// One item a streaming handler produces.
enum Event {
    Line(J),
    Error(String, u16),
}

/// `streamResponse` or `waitForStream`.
fn finish(events: Vec<Event>, stream: bool) -> Reply {
    if !stream {
        let mut latest = J::obj([("status", J::str(""))]);
        for event in events {
            match event {
                Event::Line(line) => latest = line,
                Event::Error(message, status) => {
                    return Reply {
                        status,
                        content_type: "application/json".into(),
                        body: Body::Text(J::obj([("error", J::str(message))]).to_json()),
                    };
                }
            }
        }
        return Reply {
            status: 200,
            content_type: "application/json".into(),
            body: Body::Text(latest.to_json()),
        };
    }
    let mut lines = Vec::new();
    for event in events {
        match event {
            Event::Line(line) => lines.push(line.to_json()),
            Event::Error(message, status) => {
                if lines.is_empty() {
                    return Reply {
                        status,
                        content_type: "application/json".into(),
                        body: Body::Text(J::obj([("error", J::str(message))]).to_json()),
                    };
                }
                lines.push(J::obj([("error", J::str(message))]).to_json());
                break;
            }
        }
    }
    Reply {
        status: 200,
        content_type: NDJSON.into(),
        body: Body::Lines(lines),
    }
}

fn progress(status: &str) -> J {
    J::obj([("status", J::str(status))])
}

// ---------------------------------------------------------------------------------------
// Request decoding, as gin's `ShouldBindJSON` (encoding/json into the api structs) does.

/// A decoded JSON object body and the Go type it was decoded into (for error texts).
struct Req {
    map: serde_json::Map<String, serde_json::Value>,
    type_name: &'static str,
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `io.EOF` (empty body) → `missing request body`; syntax errors → Go's texts
/// (approximated: `unexpected EOF`, `invalid character 'x' looking for beginning of value`).
fn decode(request: &HttpRequest, type_name: &'static str) -> Result<Req, Reply> {
    let body = request.body.as_deref().unwrap_or_default();
    if body.trim().is_empty() {
        return Err(Reply::error(400, "missing request body"));
    }
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>();
    let value = match stream.next() {
        Some(Ok(value)) => value,
        Some(Err(err)) => {
            let message = if err.is_eof() {
                "unexpected EOF".to_string()
            } else {
                let offset = body
                    .lines()
                    .take(err.line().saturating_sub(1))
                    .map(|l| l.len() + 1)
                    .sum::<usize>()
                    + err.column().saturating_sub(1);
                let c = body[offset.min(body.len())..].chars().next().unwrap_or(' ');
                format!("invalid character '{c}' looking for beginning of value")
            };
            return Err(Reply::error(400, &message));
        }
        None => return Err(Reply::error(400, "missing request body")),
    };
    match value {
        serde_json::Value::Object(map) => Ok(Req { map, type_name }),
        serde_json::Value::Null => Ok(Req {
            map: serde_json::Map::new(),
            type_name,
        }),
        other => Err(Reply::error(
            400,
            &format!(
                "json: cannot unmarshal {} into Go value of type api.{type_name}",
                kind_of(&other)
            ),
        )),
    }
}

impl Req {
    /// encoding/json matches keys exactly first, then case-insensitively.
    fn field(&self, key: &str) -> Option<&serde_json::Value> {
        self.map.get(key).or_else(|| {
            self.map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    fn type_error(&self, key: &str, value: &serde_json::Value, go_type: &str) -> Reply {
        Reply::error(
            400,
            &format!(
                "json: cannot unmarshal {} into Go struct field {}.{key} of type {go_type}",
                kind_of(value),
                self.type_name
            ),
        )
    }

    fn string(&self, key: &str) -> Result<String, Reply> {
        match self.field(key) {
            None | Some(serde_json::Value::Null) => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.type_error(key, other, "string")),
        }
    }

    fn opt_bool(&self, key: &str) -> Result<Option<bool>, Reply> {
        match self.field(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.type_error(key, other, "bool")),
        }
    }

    fn object(
        &self,
        key: &str,
        go_type: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, Reply> {
        match self.field(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Object(map)) => Ok(Some(map.clone())),
            Some(other) => Err(self.type_error(key, other, go_type)),
        }
    }

    fn array(&self, key: &str, go_type: &str) -> Result<Option<Vec<serde_json::Value>>, Reply> {
        match self.field(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Array(items)) => Ok(Some(items.clone())),
            Some(other) => Err(self.type_error(key, other, go_type)),
        }
    }

    /// `stream` (`*bool`, default true).
    fn stream(&self) -> Result<bool, Reply> {
        Ok(self.opt_bool("stream")?.unwrap_or(true))
    }
}

/// `modelref.ParseRef` + `model.ParseName`: `Err(None)` for an empty name ("model is
/// required"), `Err(Some(name))` for an invalid one.
fn parse_ref(raw: &str) -> Result<Name, Option<String>> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(None);
    }
    let base = match trimmed.rsplit_once(':') {
        Some((base, suffix)) if suffix.trim().eq_ignore_ascii_case("local") => base,
        _ => trimmed,
    };
    let name = Name::parse(base);
    if name.is_valid() {
        Ok(name)
    } else {
        Err(Some(trimmed.to_string()))
    }
}

fn existing(store: &Store, name: &Name) -> Name {
    names::existing_name(name, &store.names())
}

// ---------------------------------------------------------------------------------------
// Routing.

const ROUTES: &[(&str, &[&str])] = &[
    ("/", &["GET", "HEAD"]),
    ("/api/version", &["GET", "HEAD"]),
    ("/api/status", &["GET"]),
    ("/api/pull", &["POST"]),
    ("/api/tags", &["GET", "HEAD"]),
    ("/api/show", &["POST"]),
    ("/api/delete", &["DELETE"]),
    ("/api/create", &["POST"]),
    ("/api/copy", &["POST"]),
    ("/api/ps", &["GET"]),
    ("/api/generate", &["POST"]),
    ("/api/chat", &["POST"]),
    ("/api/embed", &["POST"]),
    ("/api/embeddings", &["POST"]),
    ("/api/push", &["POST"]),
];

/// Answers one request for the running server. HEAD requests get GET's reply; the caller
/// drops the body (the HTTP server still sends its length, as Go's net/http does).
pub fn route(machine: &Machine, server: &Running, request: &HttpRequest) -> Reply {
    let path = request.path.split('?').next().unwrap_or_default();
    let method = request.method.to_ascii_uppercase();
    if let Some(digest) = path.strip_prefix("/api/blobs/")
        && !digest.is_empty()
        && !digest.contains('/')
    {
        return match method.as_str() {
            "HEAD" => head_blob(server, digest),
            "POST" => create_blob(server, digest, request),
            _ => Reply::plain(405, "text/plain", "405 method not allowed"),
        };
    }
    let Some((_, methods)) = ROUTES.iter().find(|(p, _)| *p == path) else {
        return Reply::plain(404, "text/plain", "404 page not found");
    };
    if !methods.contains(&method.as_str()) {
        return Reply::plain(405, "text/plain", "405 method not allowed");
    }
    match path {
        "/" => Reply::plain(200, TEXT_PLAIN_UTF8, "Ollama is running"),
        "/api/version" => Reply::json(200, &J::obj([("version", J::str(homebrew::VERSION))])),
        "/api/status" => Reply::json(
            200,
            &J::obj([(
                "cloud",
                J::obj([
                    ("disabled", J::Bool(server.env.no_cloud())),
                    ("source", J::str(server.env.no_cloud_source())),
                ]),
            )]),
        ),
        "/api/tags" => tags(server),
        "/api/show" => show(server, request),
        "/api/delete" => delete(server, request),
        "/api/pull" => pull(server, request),
        "/api/create" => create(server, request),
        "/api/copy" => copy(server, request),
        "/api/ps" => ps(server),
        "/api/generate" => generate(machine, server, request),
        "/api/chat" => chat(machine, server, request),
        "/api/embed" => embed(machine, server, request),
        "/api/embeddings" => embeddings(machine, server, request),
        "/api/push" => push(server, request),
        _ => Reply::plain(404, "text/plain", "404 page not found"),
    }
}

// ---------------------------------------------------------------------------------------
// Listing and inspecting.

fn details(model: &Model, with_lengths: bool) -> J {
    let mut fields = vec![
        ("parent_model".to_string(), J::str(model.parent.clone())),
        (
            "format".to_string(),
            J::str(model.config_str("model_format")),
        ),
        (
            "family".to_string(),
            J::str(model.config_str("model_family")),
        ),
        (
            "families".to_string(),
            match model.families() {
                Some(list) => J::Arr(list.into_iter().map(J::Str).collect()),
                None => J::Null,
            },
        ),
        (
            "parameter_size".to_string(),
            J::str(model.config_str("model_type")),
        ),
        (
            "quantization_level".to_string(),
            J::str(model.config_str("file_type")),
        ),
    ];
    if with_lengths {
        let context = model.arch_u64("context_length");
        if context > 0 {
            fields.push(("context_length".into(), J::Int(context as i64)));
        }
        let embedding = model.arch_u64("embedding_length");
        if embedding > 0 {
            fields.push(("embedding_length".into(), J::Int(embedding as i64)));
        }
    }
    J::Obj(fields)
}

fn capabilities(model: &Model) -> Option<J> {
    let caps = model.capabilities();
    (!caps.is_empty()).then(|| J::Arr(caps.into_iter().map(J::Str).collect()))
}

/// `ListHandler` (`server/model_list_cache.go`): newest `modified_at` first (by whole
/// seconds, stable), `{"models":[]}` when empty.
fn tags(server: &Running) -> Reply {
    let mut entries: Vec<(i64, J)> = Vec::new();
    for name in server.store.names() {
        let Some(model) = server.model(&name) else {
            continue;
        };
        let short = name.display_shortest();
        let mut fields = vec![
            ("name".to_string(), J::str(short.clone())),
            ("model".to_string(), J::str(short)),
            (
                "modified_at".to_string(),
                J::str(gofmt::rfc3339_nano(model.manifest.modified)),
            ),
            ("size".to_string(), J::Int(model.manifest.size())),
            ("digest".to_string(), J::str(model.manifest.digest.clone())),
            ("details".to_string(), details(&model, true)),
        ];
        if let Some(caps) = capabilities(&model) {
            fields.push(("capabilities".into(), caps));
        }
        entries.push((gofmt::unix_parts(model.manifest.modified).0, J::Obj(fields)));
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    Reply::json(
        200,
        &J::obj([("models", J::Arr(entries.into_iter().map(|e| e.1).collect()))]),
    )
}

/// A small xorshift generator seeded from the clock: Go's map iteration order is random,
/// and so is the emulator's, so that clients never rely on it.
fn shuffled<T>(mut items: Vec<T>) -> Vec<T> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut state = nanos ^ COUNTER.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    items
}

/// `parser.quote`: quoted only with a newline or a leading/trailing space; `"""` when the
/// value also holds `"`.
fn quote(s: &str) -> String {
    if s.contains('\n') || s.starts_with(' ') || s.ends_with(' ') {
        if s.contains('"') {
            format!("\"\"\"{s}\"\"\"")
        } else {
            format!("\"{s}\"")
        }
    } else {
        s.to_string()
    }
}

/// `fmt.Sprintf("%-30s %#v", k, v)` per value, arrays one line per element, keys in random
/// order, joined by `\n` (`GetModelInfo`).
pub fn parameters_text(options: &[(String, J)]) -> String {
    let mut lines = Vec::new();
    for (key, value) in shuffled(options.to_vec()) {
        match value {
            J::Arr(items) => {
                for item in items {
                    lines.push(format!("{key:<30} {}", gofmt::sharp_v(&item)));
                }
            }
            other => lines.push(format!("{key:<30} {}", gofmt::sharp_v(&other))),
        }
    }
    lines.join("\n")
}

/// `Model.String()` after the `ollama show` header (`server/images.go`, `parser.Command`).
fn modelfile(model: &Model, options: &[(String, J)]) -> String {
    let mut out = String::new();
    out.push_str("# Modelfile generated by \"ollama show\"\n");
    out.push_str("# To build a new Modelfile based on this, replace FROM with:\n");
    out.push_str(&format!("# FROM {}\n\n", model.name.display_shortest()));
    out.push_str(&format!(
        "FROM {}\n",
        model.model_path.clone().unwrap_or_default()
    ));
    for adapter in &model.adapters {
        out.push_str(&format!("ADAPTER {}\n", quote(adapter)));
    }
    for projector in &model.projectors {
        out.push_str(&format!("FROM {projector}\n"));
    }
    out.push_str(&format!("TEMPLATE {}\n", quote(&model.template)));
    if !model.system.is_empty() {
        out.push_str(&format!("SYSTEM {}\n", quote(&model.system)));
    }
    for key in ["renderer", "parser"] {
        let value = model.config_str(key);
        if !value.is_empty() {
            out.push_str(&format!("{} {}\n", key.to_uppercase(), quote(&value)));
        }
    }
    for (key, value) in shuffled(options.to_vec()) {
        let values = match value {
            J::Arr(items) => items,
            other => vec![other],
        };
        for v in values {
            out.push_str(&format!("PARAMETER {key} {}\n", quote(&gofmt::plain_v(&v))));
        }
    }
    for license in &model.licenses {
        out.push_str(&format!("LICENSE {}\n", quote(license)));
    }
    for (role, content) in &model.messages {
        out.push_str(&format!("MESSAGE {role} {}\n", quote(content)));
    }
    out
}

/// `ShowHandler` + `GetModelInfo`.
fn show(server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "ShowRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let (model_field, name_field, system) = match (
        req.string("model"),
        req.string("name"),
        req.string("system"),
    ) {
        (Ok(m), Ok(n), Ok(s)) => (m, n, s),
        (Err(r), ..) | (_, Err(r), _) | (.., Err(r)) => return r,
    };
    let overlay = match req.object("options", "map[string]interface {}") {
        Ok(o) => o,
        Err(reply) => return reply,
    };
    if let Err(reply) = req.opt_bool("verbose") {
        return reply;
    }
    let raw = if model_field.is_empty() {
        name_field
    } else {
        model_field
    };
    if raw.is_empty() {
        return Reply::error(400, "model is required");
    }
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(None) => return Reply::error(400, "model is required"),
        Err(Some(_)) => return Reply::error(400, "invalid model name"),
    };
    let name = existing(&server.store, &name);
    let display = name.display_shortest();
    let Some(mut model) = server.model(&name) else {
        return Reply::error(404, &format!("model '{display}' not found"));
    };
    if !system.is_empty() {
        model.system = system;
    }
    let parameters = parameters_text(&model.options);
    let mut options = model.options.clone();
    if let Some(overlay) = overlay {
        for (key, value) in overlay {
            let value = J::from_value(&value);
            match options.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => options.push((key, value)),
            }
        }
    }
    let mut fields: Vec<(String, J)> = Vec::new();
    let mut text = |key: &str, value: String| {
        if !value.is_empty() {
            fields.push((key.to_string(), J::Str(value)));
        }
    };
    text("license", model.licenses.join("\n"));
    text("modelfile", modelfile(&model, &options));
    text("parameters", parameters);
    // `selectedModelTemplate` (routes.go 1572, 1623-1630): the GGUF's Jinja template when the
    // model runs native, else the Go TEMPLATE.
    text("template", templates::selected_template(&model));
    text("system", model.system.clone());
    text("renderer", model.config_str("renderer"));
    text("parser", model.config_str("parser"));
    fields.push(("details".into(), details(&model, false)));
    if !model.messages.is_empty() {
        fields.push(("messages".into(), go_message_json(&model.messages)));
    }
    let mut info: Vec<(String, J)> = model
        .kv
        .iter()
        .filter(|(k, _)| k.as_str() != "general.name" && k.as_str() != "tokenizer.chat_template")
        .map(|(k, v)| (k.clone(), J::from_value(v)))
        .collect();
    info.sort_by(|a, b| a.0.cmp(&b.0));
    fields.push(("model_info".into(), J::Obj(info)));
    if !model.tensors.is_empty() {
        fields.push((
            "tensors".into(),
            J::Arr(model.tensors.iter().map(J::from_value).collect()),
        ));
    }
    if let Some(caps) = capabilities(&model) {
        fields.push(("capabilities".into(), caps));
    }
    fields.push((
        "modified_at".into(),
        J::str(gofmt::rfc3339_nano(model.manifest.modified)),
    ));
    let requires = model.config_str("requires");
    if !requires.is_empty() {
        fields.push(("requires".into(), J::Str(requires)));
    }
    Reply::json(200, &J::Obj(fields))
}

// ---------------------------------------------------------------------------------------
// Changing the store.

/// `DeleteHandler`: 200 with no body; the name echoed as sent when missing.
fn delete(server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "DeleteRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let raw = match (req.string("model"), req.string("name")) {
        (Ok(m), Ok(n)) => {
            if m.is_empty() {
                n
            } else {
                m
            }
        }
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(None) => return Reply::error(400, "model is required"),
        Err(Some(_)) => {
            return Reply::error(400, &format!("name {} is invalid", gofmt::go_quote(&raw)));
        }
    };
    let name = existing(&server.store, &name);
    let Some(manifest) = server.store.manifest(&name) else {
        return Reply::error(404, &format!("model '{raw}' not found"));
    };
    if let Err(err) = server.store.remove_manifest(&name) {
        return Reply::error(500, &err.to_string());
    }
    server.store.remove_unused(&manifest.digests());
    Reply::empty(200)
}

/// `CopyHandler`: `%q` names in its errors.
fn copy(server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "CopyRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let (source, destination) = match (req.string("source"), req.string("destination")) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let src = Name::parse(&source);
    if !src.is_valid() {
        return Reply::error(
            400,
            &format!("source {} is invalid", gofmt::go_quote(&source)),
        );
    }
    let src = existing(&server.store, &src);
    let dst = Name::parse(&destination);
    if !dst.is_valid() {
        return Reply::error(
            400,
            &format!("destination {} is invalid", gofmt::go_quote(&destination)),
        );
    }
    let dst = existing(&server.store, &dst);
    let not_found = || {
        Reply::error(
            404,
            &format!("model {} not found", gofmt::go_quote(&source)),
        )
    };
    if src.parts() == dst.parts() {
        return Reply::empty(200);
    }
    let Some(bytes) = server.store.manifest_file(&src) else {
        return not_found();
    };
    match server.store.write_manifest(&dst, &bytes) {
        Ok(()) => Reply::empty(200),
        Err(err) => Reply::error(500, &err.to_string()),
    }
}

/// `PullModel`: `pulling manifest`, per layer `pulling <digest[7:19]>` with `total` and
/// `completed` (a handful of ticks, `completed` omitted while 0; a blob already present is
/// one line with `completed == total`), `verifying sha256 digest`, `writing manifest`,
/// `removing unused layers` when a re-pull orphaned blobs, `success`. An unknown model ends
/// with `pull model manifest: file does not exist` (the registry's 404 is os.ErrNotExist).
fn pull_events(server: &Running, name: &Name, events: &mut Vec<Event>) -> bool {
    let store = &server.store;
    let previous = store
        .manifest(name)
        .map(|m| m.digests())
        .unwrap_or_default();
    events.push(Event::Line(progress("pulling manifest")));
    let Some(base) = registry::find(name) else {
        events.push(Event::Error(
            "pull model manifest: file does not exist".into(),
            500,
        ));
        return false;
    };
    let (manifest, layers, config) = base.manifest();
    for blob in layers.iter().chain(std::iter::once(&config)) {
        let short = &blob.digest[7..19];
        let line = |completed: u64| {
            let mut fields = vec![
                ("status".to_string(), J::str(format!("pulling {short}"))),
                ("digest".to_string(), J::str(blob.digest.clone())),
                ("total".to_string(), J::Int(blob.size as i64)),
            ];
            if completed > 0 {
                fields.push(("completed".into(), J::Int(completed as i64)));
            }
            Event::Line(J::Obj(fields))
        };
        if store.has_blob(&blob.digest) {
            events.push(line(blob.size));
            continue;
        }
        events.push(line(0));
        if blob.size > 1 << 20 {
            for fraction in [0.12, 0.37, 0.61, 0.86] {
                events.push(line((blob.size as f64 * fraction) as u64));
            }
        }
        events.push(line(blob.size));
        if let Err(err) = store.write_blob(&blob.digest, &blob.bytes) {
            events.push(Event::Error(err.to_string(), 500));
            return false;
        }
    }
    events.push(Event::Line(progress("verifying sha256 digest")));
    events.push(Event::Line(progress("writing manifest")));
    if let Err(err) = store.write_manifest(name, &manifest) {
        events.push(Event::Error(err.to_string(), 500));
        return false;
    }
    let mut kept: Vec<String> = layers.iter().map(|b| b.digest.clone()).collect();
    kept.push(config.digest.clone());
    let orphaned: Vec<String> = previous.into_iter().filter(|d| !kept.contains(d)).collect();
    if !server.env.noprune() && !orphaned.is_empty() {
        events.push(Event::Line(progress("removing unused layers")));
        store.remove_unused(&orphaned);
    }
    true
}

/// `PullHandler`.
fn pull(server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "PullRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let (raw, stream) = match (req.string("model"), req.string("name"), req.stream()) {
        (Ok(m), Ok(n), Ok(s)) => (if m.is_empty() { n } else { m }, s),
        (Err(r), ..) | (_, Err(r), _) | (.., Err(r)) => return r,
    };
    for key in ["insecure"] {
        if let Err(reply) = req.opt_bool(key) {
            return reply;
        }
    }
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(_) => return Reply::error(400, "invalid model name"),
    };
    let name = existing(&server.store, &name);
    let mut events = Vec::new();
    if pull_events(server, &name, &mut events) {
        events.push(Event::Line(progress("success")));
    }
    finish(events, stream)
}

/// `HeadBlobHandler`.
fn head_blob(server: &Running, digest: &str) -> Reply {
    if !store::valid_digest(digest) {
        return Reply::error(400, "invalid digest format");
    }
    if server.store.has_blob(digest) {
        Reply::empty(200)
    } else {
        Reply::error(404, &format!("blob {} not found", gofmt::go_quote(digest)))
    }
}

/// `CreateBlobHandler`: 200 when present, 201 when stored, 400 on a digest mismatch.
fn create_blob(server: &Running, digest: &str, request: &HttpRequest) -> Reply {
    if !store::valid_digest(digest) {
        return Reply::error(400, "invalid digest format");
    }
    if server.store.has_blob(digest) {
        return Reply::empty(200);
    }
    let bytes = request.body.as_deref().unwrap_or_default().as_bytes();
    match server.store.new_layer(bytes, "") {
        Ok(layer) if layer.digest == digest.replace('-', ":") => Reply::empty(201),
        Ok(layer) => Reply::error(
            400,
            &format!(
                "digest mismatch, expected {}, got {}",
                gofmt::go_quote(digest),
                gofmt::go_quote(&layer.digest)
            ),
        ),
        Err(err) => Reply::error(500, &err.to_string()),
    }
}

/// A light stand-in for `template.Parse`: actions must close and blocks must end.
fn check_template(text: &str) -> Result<(), String> {
    let mut depth: i64 = 0;
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("template: :1: unclosed action".into());
        };
        let action = after[..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        let word = action.split_whitespace().next().unwrap_or_default();
        match word {
            "if" | "range" | "with" | "block" | "define" => depth += 1,
            "end" => {
                depth -= 1;
                if depth < 0 {
                    return Err("template: :1: unexpected {{end}}".into());
                }
            }
            _ => {}
        }
        rest = &after[close + 2..];
    }
    if depth > 0 {
        return Err("template: :1: unexpected EOF".into());
    }
    Ok(())
}

fn go_message_json(messages: &[(String, String)]) -> J {
    J::Arr(
        messages
            .iter()
            .map(|(role, content)| {
                J::obj([
                    ("role", J::str(role.clone())),
                    ("content", J::str(content.clone())),
                ])
            })
            .collect(),
    )
}

/// What a create request asked for, decoded.
struct CreateRequest {
    name: Name,
    from: String,
    files: Option<serde_json::Map<String, serde_json::Value>>,
    template: String,
    system: String,
    license: Option<serde_json::Value>,
    parameters: Option<serde_json::Map<String, serde_json::Value>>,
    messages: Vec<(String, String)>,
    quantize: String,
    renderer: String,
    parser: String,
    requires: String,
}

/// `fs.ValidPath`: relative, `/`-separated, no empty, `.` or `..` elements.
fn valid_path(path: &str) -> bool {
    if path == "." {
        return true;
    }
    !path.is_empty()
        && path
            .split('/')
            .all(|e| !e.is_empty() && e != "." && e != "..")
}

fn decode_create(server: &Running, request: &HttpRequest) -> Result<(CreateRequest, bool), Reply> {
    let req = decode(request, "CreateRequest")?;
    let stream = req.stream()?;
    let model = req.string("model")?;
    let name_field = req.string("name")?;
    let files = req.object("files", "map[string]string")?;
    let adapters = req.object("adapters", "map[string]string")?;
    let parameters = req.object("parameters", "map[string]interface {}")?;
    let messages = req.array("messages", "[]api.Message")?;
    let quantize = {
        let q = req.string("quantize")?;
        if q.is_empty() {
            req.string("quantization")?
        } else {
            q
        }
    };
    for (map, field) in [(&files, "files"), (&adapters, "adapters")] {
        for (path, digest) in map.iter().flatten() {
            let digest = match digest {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => {
                    return Err(Reply::error(
                        400,
                        &format!(
                            "json: cannot unmarshal {} into Go struct field CreateRequest.{field}.{path} of type string",
                            kind_of(other)
                        ),
                    ));
                }
            };
            // `CreateHandler` checks `fs.ValidPath` for files only.
            if field == "files" && !valid_path(path) {
                return Err(Reply::error(400, "file path must be relative"));
            }
            if digest.is_empty() {
                return Err(Reply::error(400, "invalid digest format"));
            }
        }
    }
    let raw = if model.is_empty() { name_field } else { model };
    let name = Name::parse(&raw);
    if !name.is_valid() {
        return Err(Reply::error(400, "invalid model name"));
    }
    let name = existing(&server.store, &name);
    let messages = messages
        .unwrap_or_default()
        .iter()
        .map(|m| {
            // Roles are lower-cased on decode (reference/ollama.md 1.5).
            let (role, content) = store::message_fields(m);
            (role.to_lowercase(), content)
        })
        .collect();
    Ok((
        CreateRequest {
            name,
            from: req.string("from")?,
            files,
            template: req.string("template")?,
            system: req.string("system")?,
            license: req.field("license").cloned().filter(|v| !v.is_null()),
            parameters,
            messages,
            quantize,
            renderer: req.string("renderer")?,
            parser: req.string("parser")?,
            requires: req.string("requires")?,
        },
        stream,
    ))
}

/// A model layer whose GGUF metadata the create step reads.
struct BaseLayer {
    layer: Layer,
    kv: Option<serde_json::Map<String, serde_json::Value>>,
}

fn read_kv(store: &Store, digest: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = store.read_blob(digest)?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(gguf)) => match gguf.get("kv") {
            Some(serde_json::Value::Object(kv)) => Some(kv.clone()),
            _ => Some(serde_json::Map::new()),
        },
        _ if bytes.starts_with(b"GGUF") => Some(serde_json::Map::new()),
        _ => None,
    }
}

/// `CreateHandler` → `parseFromModel` / `convertModelFromFiles` → `createModel`.
fn create(server: &Running, request: &HttpRequest) -> Reply {
    let (req, stream) = match decode_create(server, request) {
        Ok(decoded) => decoded,
        Err(reply) => return reply,
    };
    let mut events = Vec::new();
    create_events(server, &req, &mut events);
    finish(events, stream)
}

fn create_events(server: &Running, req: &CreateRequest, events: &mut Vec<Event>) {
    let store = &server.store;
    let old = store.manifest(&req.name);
    let mut config: Vec<(String, J)> = Vec::new();
    let mut inherited = serde_json::Map::new();
    let mut base: Vec<BaseLayer> = Vec::new();
    if !req.from.is_empty() {
        let from = match parse_ref(&req.from) {
            Ok(from) => from,
            Err(_) => {
                events.push(Event::Error("invalid model name".into(), 400));
                return;
            }
        };
        let lookup = existing(store, &from);
        if store.manifest(&lookup).is_none() && !pull_events(server, &lookup, events) {
            return;
        }
        let Some(manifest) = store.manifest(&lookup) else {
            events.push(Event::Error("file does not exist".into(), 500));
            return;
        };
        for layer in &manifest.layers {
            let is_model = layer.media_type == registry::MEDIA_MODEL;
            base.push(BaseLayer {
                layer: Layer {
                    from: from.display_shortest(),
                    status: format!("using existing layer {}", layer.digest),
                    ..layer.clone()
                },
                kv: if is_model {
                    read_kv(store, &layer.digest)
                } else {
                    None
                },
            });
        }
        if let Some(serde_json::Value::Object(cfg)) = store
            .read_blob(&manifest.config.digest)
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            inherited = cfg;
        }
    } else if let Some(files) = &req.files {
        let mut paths: Vec<&String> = files.keys().collect();
        paths.sort();
        let kind = paths.iter().find_map(|p| {
            if p.ends_with(".safetensors") {
                Some("safetensors")
            } else if p.ends_with(".gguf") {
                Some("gguf")
            } else {
                let digest = files[*p].as_str().unwrap_or_default();
                store
                    .read_blob(digest)
                    .filter(|b| b.starts_with(b"GGUF") || read_kv(store, digest).is_some())
                    .map(|_| "gguf")
            }
        });
        match kind {
            Some("gguf") => {}
            Some(_) => {
                events.push(Event::Error(
                    "converting safetensors models is not emulated by the sandbox".into(),
                    500,
                ));
                return;
            }
            None => {
                events.push(Event::Error("unknown type".into(), 400));
                return;
            }
        }
        for path in paths {
            let digest = files[path].as_str().unwrap_or_default().replace('-', ":");
            if !store::valid_digest(&digest) {
                events.push(Event::Error("invalid digest format".into(), 500));
                return;
            }
            let Some(kv) = read_kv(store, &digest) else {
                if store.has_blob(&digest) {
                    events.push(Event::Error(
                        "supplied file was not in GGUF format".into(),
                        400,
                    ));
                } else {
                    events.push(Event::Error(
                        format!(
                            "open {}: no such file or directory",
                            store.blob_mac_path(&digest)
                        ),
                        500,
                    ));
                }
                return;
            };
            events.push(Event::Line(progress("parsing GGUF")));
            // The size a manifest declares for this blob, else the file's own.
            let size = store
                .names()
                .iter()
                .filter_map(|n| store.manifest(n))
                .flat_map(|m| m.layers)
                .find(|l| l.digest == digest)
                .map(|l| l.size)
                .unwrap_or_else(|| store.read_blob(&digest).map_or(0, |b| b.len() as i64));
            base.push(BaseLayer {
                layer: Layer {
                    media_type: registry::MEDIA_MODEL.into(),
                    digest: digest.clone(),
                    size,
                    from: String::new(),
                    status: format!("using existing layer {digest}"),
                },
                kv: Some(kv),
            });
        }
    } else {
        events.push(Event::Error(
            "neither 'from' or 'files' was specified".into(),
            400,
        ));
        return;
    }

    // Config fields a `from` create inherits (`CreateHandler`).
    let pick = |own: &str, key: &str| -> String {
        if own.is_empty() {
            inherited
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        } else {
            own.to_string()
        }
    };
    let renderer = pick(&req.renderer, "renderer");
    let parser = pick(&req.parser, "parser");
    let requires = pick(&req.requires, "requires");
    let mut model_format = pick("", "model_format");
    let inherited_caps = inherited.get("capabilities").cloned();

    let mut layers: Vec<Layer> = Vec::new();
    let (mut family, mut model_type, mut file_type) = (String::new(), String::new(), String::new());
    let mut families: Vec<J> = Vec::new();
    for item in base {
        let mut layer = item.layer;
        if let Some(kv) = item.kv {
            let arch = kv
                .get("general.architecture")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let mut ft = store::file_type_of(&kv);
            if !req.quantize.is_empty() {
                let want = match FileType::parse_quantize(&req.quantize.to_uppercase()) {
                    Ok(want) => want,
                    Err(message) => {
                        events.push(Event::Error(message, 500));
                        return;
                    }
                };
                let source = ft.unwrap_or(FileType::Q4_0);
                if !matches!(source, FileType::F16 | FileType::BF16 | FileType::F32) {
                    events.push(Event::Error(
                        "quantization is only supported for F16, BF16 and F32 models".into(),
                        500,
                    ));
                    return;
                }
                if source != want {
                    match quantize_layer(store, &layer, &kv, source, want, events) {
                        Some((new_layer, _)) => {
                            layer = new_layer;
                            ft = Some(want);
                        }
                        None => return,
                    }
                }
            }
            if model_format.is_empty() {
                model_format = "gguf".into();
            }
            if family.is_empty() {
                family = arch.clone();
            }
            if model_type.is_empty() {
                let count = kv
                    .get("general.parameter_count")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                model_type = registry::human_number(count);
            }
            if file_type.is_empty() {
                file_type = ft.map_or("unknown", FileType::name).to_string();
            }
            families.push(J::Str(arch));
        }
        layers.push(layer);
    }

    let set = |layers: &mut Vec<Layer>, media: &str, bytes: &[u8]| -> Result<(), String> {
        let layer = store.new_layer(bytes, media).map_err(|e| e.to_string())?;
        layers.push(layer);
        Ok(())
    };
    if !req.template.is_empty() {
        if let Err(err) = check_template(&req.template) {
            events.push(Event::Error(format!("template error: {err}"), 400));
            return;
        }
        layers.retain(|l| l.media_type != registry::MEDIA_TEMPLATE);
        if let Err(e) = set(
            &mut layers,
            registry::MEDIA_TEMPLATE,
            req.template.as_bytes(),
        ) {
            events.push(Event::Error(e, 500));
            return;
        }
    }
    if !req.system.is_empty() {
        layers.retain(|l| l.media_type != registry::MEDIA_SYSTEM);
        if let Err(e) = set(&mut layers, registry::MEDIA_SYSTEM, req.system.as_bytes()) {
            events.push(Event::Error(e, 500));
            return;
        }
    }
    if let Some(license) = &req.license {
        let list: Vec<String> = match license {
            serde_json::Value::String(s) if s.is_empty() => Vec::new(),
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) if items.iter().all(|i| i.is_string()) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            other => {
                events.push(Event::Error(
                    format!(
                        "json: cannot unmarshal {} into Go value of type []string",
                        match other {
                            serde_json::Value::Array(_) => "string",
                            o => kind_of(o),
                        }
                    ),
                    500,
                ));
                return;
            }
        };
        for text in list {
            if let Err(e) = set(&mut layers, registry::MEDIA_LICENSE, text.as_bytes()) {
                events.push(Event::Error(e, 500));
                return;
            }
        }
    }
    // `setParameters`: the base's keys the request does not name are kept; values are
    // stored as given (no validation), lists replace lists.
    let mut params: Vec<(String, J)> = req
        .parameters
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), J::from_value(v)))
        .collect();
    for layer in layers
        .iter()
        .filter(|l| l.media_type == registry::MEDIA_PARAMS)
    {
        if let Some(serde_json::Value::Object(existing)) = store
            .read_blob(&layer.digest)
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            for (k, v) in existing {
                if !params.iter().any(|(key, _)| *key == k) {
                    params.push((k, J::from_value(&v)));
                }
            }
        }
    }
    if !params.is_empty() {
        params.sort_by(|a, b| a.0.cmp(&b.0));
        layers.retain(|l| l.media_type != registry::MEDIA_PARAMS);
        let bytes = registry::encoder_line(&J::Obj(params));
        if let Err(e) = set(&mut layers, registry::MEDIA_PARAMS, &bytes) {
            events.push(Event::Error(e, 500));
            return;
        }
    }
    if !req.messages.is_empty() {
        layers.retain(|l| l.media_type != registry::MEDIA_MESSAGES);
        let bytes = registry::encoder_line(&go_message_json(&req.messages));
        if let Err(e) = set(&mut layers, registry::MEDIA_MESSAGES, &bytes) {
            events.push(Event::Error(e, 500));
            return;
        }
    }

    // `createConfigLayer`.
    config.push(("model_format".into(), J::Str(model_format)));
    config.push(("model_family".into(), J::Str(family)));
    config.push((
        "model_families".into(),
        if families.is_empty() {
            J::Null
        } else {
            J::Arr(families)
        },
    ));
    config.push(("model_type".into(), J::Str(model_type)));
    config.push(("file_type".into(), J::Str(file_type)));
    for (key, value) in [
        ("renderer", renderer),
        ("parser", parser),
        ("requires", requires),
    ] {
        if !value.is_empty() {
            config.push((key.into(), J::Str(value)));
        }
    }
    if let Some(serde_json::Value::Array(caps)) = inherited_caps
        && !caps.is_empty()
    {
        config.push((
            "capabilities".into(),
            J::Arr(caps.iter().map(J::from_value).collect()),
        ));
    }
    let config_layer = match store.new_layer(&store::config_blob(&config), store::CONFIG_MEDIA) {
        Ok(layer) => layer,
        Err(e) => {
            events.push(Event::Error(e.to_string(), 500));
            return;
        }
    };
    for layer in &layers {
        if !layer.status.is_empty() {
            events.push(Event::Line(progress(&layer.status)));
        }
    }
    events.push(Event::Line(progress("writing manifest")));
    if let Err(e) = store.write_manifest(&req.name, &store::manifest_bytes(&config_layer, &layers))
    {
        events.push(Event::Error(e.to_string(), 500));
        return;
    }
    if let Some(old) = old
        && !server.env.noprune()
    {
        store.remove_unused(&old.digests());
    }
    events.push(Event::Line(progress("success")));
}

/// `quantizeLayer`: progress lines `quantizing F16 model to Q4_K_M` with the digest
/// `0000000000000000000`, `verifying conversion`, then a new model layer.
fn quantize_layer(
    store: &Store,
    layer: &Layer,
    kv: &serde_json::Map<String, serde_json::Value>,
    source: FileType,
    want: FileType,
    events: &mut Vec<Event>,
) -> Option<(Layer, ())> {
    let total = layer.size;
    for fraction in [0.0000019, 0.5, 0.99999996] {
        events.push(Event::Line(J::obj([
            (
                "status",
                J::str(format!(
                    "quantizing {} model to {}",
                    source.name(),
                    want.name()
                )),
            ),
            ("digest", J::str("0000000000000000000")),
            ("total", J::Int(total)),
            ("completed", J::Int((total as f64 * fraction) as i64)),
        ])));
    }
    events.push(Event::Line(progress("verifying conversion")));
    let mut kv = kv.clone();
    kv.insert("general.file_type".into(), serde_json::json!(want.number()));
    let count = kv
        .get("general.parameter_count")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let mut sorted: Vec<(String, J)> = kv
        .iter()
        .map(|(k, v)| (k.clone(), J::from_value(v)))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let blob = J::obj([
        (
            "emulated",
            J::str("GGUF metadata only; the weights are not stored in the sandbox"),
        ),
        ("kv", J::Obj(sorted)),
        ("tensors", J::Arr(Vec::new())),
    ]);
    match store.new_layer(&registry::encoder_line(&blob), registry::MEDIA_MODEL) {
        Ok(mut new_layer) => {
            new_layer.size = (count as f64 * want.bits_per_weight() / 8.0) as i64;
            Some((new_layer, ()))
        }
        Err(e) => {
            events.push(Event::Error(e.to_string(), 500));
            None
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running models.

/// `PsHandler`: longest time to expiry first; `{"models":[]}` when nothing is loaded.
fn ps(server: &Running) -> Reply {
    let now = SystemTime::now();
    let mut loaded: Vec<&Loaded> = server
        .state
        .loaded
        .iter()
        .filter(|l| l.expires() > now)
        .collect();
    loaded.sort_by_key(|l| std::cmp::Reverse(l.expires_secs));
    let models = loaded
        .into_iter()
        .map(|l| {
            J::obj([
                ("name", J::str(l.name.clone())),
                ("model", J::str(l.name.clone())),
                ("size", J::Int(l.size as i64)),
                ("digest", J::str(l.digest.clone())),
                (
                    "details",
                    J::obj([
                        ("parent_model", J::str("")),
                        ("format", J::str(l.format.clone())),
                        ("family", J::str(l.family.clone())),
                        (
                            "families",
                            match &l.families {
                                Some(list) => {
                                    J::Arr(list.iter().map(|f| J::str(f.clone())).collect())
                                }
                                None => J::Null,
                            },
                        ),
                        ("parameter_size", J::str(l.parameter_size.clone())),
                        ("quantization_level", J::str(l.quantization_level.clone())),
                    ]),
                ),
                ("expires_at", J::str(gofmt::rfc3339_nano(l.expires()))),
                ("size_vram", J::Int(l.size_vram as i64)),
                ("context_length", J::Int(l.context_length as i64)),
            ])
        })
        .collect();
    Reply::json(200, &J::obj([("models", J::Arr(models))]))
}

/// `api.Duration.UnmarshalJSON`: seconds as a number (negative = forever), a Go duration
/// string; anything else is an error `ShouldBindJSON` reports with 400.
fn keep_alive_of(value: &serde_json::Value) -> Result<i64, String> {
    match value {
        serde_json::Value::Number(n) => {
            let seconds = n.as_f64().unwrap_or(0.0);
            if seconds < 0.0 {
                Ok(gofmt::MAX_DURATION)
            } else {
                Ok((seconds * 1e9).min(i64::MAX as f64) as i64)
            }
        }
        serde_json::Value::String(s) => match gofmt::parse_duration(s) {
            Some(d) if d < 0 => Ok(gofmt::MAX_DURATION),
            Some(d) => Ok(d),
            None => Err(duration_error(s)),
        },
        serde_json::Value::Bool(_) => Err("Unsupported type: 'bool'".into()),
        serde_json::Value::Array(_) => Err("Unsupported type: '[]interface {}'".into()),
        serde_json::Value::Object(_) => Err("Unsupported type: 'map[string]interface {}'".into()),
        serde_json::Value::Null => Ok(5 * 60 * 1_000_000_000),
    }
}

/// `time.ParseDuration`'s error texts.
fn duration_error(s: &str) -> String {
    let quoted = gofmt::go_quote(s);
    let body = s.trim_start_matches(['-', '+']);
    if !body.is_empty() && body.chars().all(|c| c.is_ascii_digit() || c == '.') && body != "." {
        return format!("time: missing unit in duration {quoted}");
    }
    let digits = body
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .count();
    let unit: String = body[digits..]
        .chars()
        .take_while(|c| !c.is_ascii_digit() && *c != '.')
        .collect();
    if digits > 0 && !unit.is_empty() {
        return format!(
            "time: unknown unit {} in duration {quoted}",
            gofmt::go_quote(&unit)
        );
    }
    format!("time: invalid duration {quoted}")
}

/// The option types of `api.Options` (`Options.FromMap`): unknown keys are ignored (a log
/// warning), nulls skipped.
fn option_kind(key: &str) -> Option<&'static str> {
    Some(match key {
        "num_ctx" | "num_batch" | "num_gpu" | "main_gpu" | "num_thread" | "draft_num_predict"
        | "num_keep" | "seed" | "num_predict" | "top_k" | "repeat_last_n" => "integer",
        "use_mmap" => "boolean",
        "top_p" | "min_p" | "typical_p" | "temperature" | "repeat_penalty" | "presence_penalty"
        | "frequency_penalty" => "float32",
        "stop" => "array",
        _ => return None,
    })
}

fn check_options(options: &[(String, J)]) -> Result<(), String> {
    let mut sorted: Vec<&(String, J)> = options.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, value) in sorted {
        let Some(kind) = option_kind(key) else {
            continue;
        };
        let ok = match (kind, value) {
            (_, J::Null) => true,
            ("integer" | "float32", J::Float(_) | J::Int(_)) => true,
            ("boolean", J::Bool(_)) => true,
            ("array", J::Arr(items)) => {
                if items.iter().any(|i| !matches!(i, J::Str(_))) {
                    return Err(format!(
                        "option {} must be of an array of strings",
                        gofmt::go_quote(key)
                    ));
                }
                true
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "option {} must be of type {kind}",
                gofmt::go_quote(key)
            ));
        }
    }
    Ok(())
}

fn option_int(options: &[(String, J)], key: &str) -> Option<i64> {
    options
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| match v {
            J::Float(f) => Some(*f as i64),
            J::Int(i) => Some(*i),
            _ => None,
        })
}

/// `api.DefaultOptions()` (ollama/ollama v0.32.15 `api/types.go` 1096-1122) for the sampling
/// and runner options a request sends on to the runner: the server's defaults under the
/// model's params layer under the request's `options` (`modelOptions`, `server/routes.go`
/// 125-159). `num_ctx` is left out: its default is `OLLAMA_CONTEXT_LENGTH` or the VRAM tier.
/// `repeat_penalty` is 1.0 since v0.32.10 (commit 6a261db7d, "api: stop applying
/// repeat_penalty 1.1 to models that don't set one"); it was 1.1 up to v0.32.9.
pub const DEFAULT_OPTIONS: &[(&str, f64)] = &[
    ("num_predict", -1.0),
    ("num_keep", 4.0),
    ("temperature", 0.8),
    ("top_k", 40.0),
    ("top_p", 0.9),
    ("typical_p", 1.0),
    ("repeat_last_n", 64.0),
    ("repeat_penalty", 1.0),
    ("presence_penalty", 0.0),
    ("frequency_penalty", 0.0),
    ("seed", -1.0),
    ("num_batch", 512.0),
    ("num_gpu", -1.0),
    ("num_thread", 0.0),
    ("draft_num_predict", 4.0),
];

/// The options a request runs with: `DEFAULT_OPTIONS`, then the model's, then the request's
/// (later entries win in `option_int`/`option_f64`).
pub fn effective_options(model: &[(String, J)], request: &[(String, J)]) -> Vec<(String, J)> {
    let mut merged: Vec<(String, J)> = DEFAULT_OPTIONS
        .iter()
        .map(|(k, v)| (k.to_string(), J::Float(*v)))
        .collect();
    merged.extend(model.iter().cloned());
    merged.extend(request.iter().cloned());
    merged
}

/// A deterministic 64-bit FNV-1a hash (for canned answers and token ids).
fn fnv(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Tokens of a text, roughly (four characters a token).
fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

const WORDS: &[&str] = &[
    "This",
    "is",
    "an",
    "emulated",
    "answer",
    "from",
    "the",
    "sandbox",
    "Mac:",
    "no",
    "model",
    "weights",
    "ran,",
    "but",
    "the",
    "timings",
    "follow",
    "the",
    "machine's",
    "memory",
    "bandwidth",
    "and",
    "the",
    "model's",
    "size.",
];

/// The generated words (one token each).
fn answer(prompt: &str, model: &str, limit: Option<i64>) -> (Vec<String>, bool) {
    let natural = 40 + (fnv(&format!("{model}\n{prompt}")) % 160) as usize;
    let count = match limit {
        Some(n) if n >= 0 && (n as usize) < natural => n as usize,
        _ => natural,
    };
    let words = (0..count)
        .map(|i| {
            let word = WORDS[i % WORDS.len()];
            if i == 0 {
                word.to_string()
            } else {
                format!(" {word}")
            }
        })
        .collect();
    (words, count < natural)
}

/// Loads `model` into the server's memory as the scheduler would: reuse when loaded with the
/// same digest and context, else evict expired models, then the soonest-expiring until the
/// new one fits `OLLAMA_MAX_LOADED_MODELS` (0 = 3 on a Mac) and the VRAM. Returns whether the
/// load was cold and the share of the model on the GPU.
fn schedule(
    machine: &Machine,
    server: &Running,
    model: &Model,
    num_ctx: u64,
    keep_alive: i64,
) -> (Vec<Loaded>, bool, f64) {
    let env: &EnvConfig = &server.env;
    let hw = perf::hardware(machine);
    let vram = hw.vram(env.gpu_overhead());
    let now = SystemTime::now();
    let full = model.name.full();
    let mut loaded: Vec<Loaded> = server
        .state
        .loaded
        .iter()
        .filter(|l| l.expires() > now)
        .cloned()
        .collect();
    let warm = loaded.iter().any(|l| {
        l.full == full && l.digest == model.manifest.digest && l.context_length == num_ctx
    });
    loaded.retain(|l| l.full != full);
    let flash = env.explicit_bool("OLLAMA_FLASH_ATTENTION").unwrap_or(true);
    let element = perf::kv_bytes_per_element(&env.kv_cache_type(), flash);
    let size = perf::loaded_size(model, num_ctx, env.num_parallel().max(1), element);
    let max = match env.max_loaded_models() {
        0 => 3,
        n => n as usize,
    };
    loaded.sort_by_key(|l| std::cmp::Reverse(l.expires_secs));
    while !loaded.is_empty()
        && (loaded.len() >= max || loaded.iter().map(|l| l.size).sum::<u64>() + size > vram)
    {
        loaded.pop();
    }
    let expires = now
        .checked_add(Duration::from_nanos(keep_alive.max(0) as u64))
        .unwrap_or(now);
    let (secs, nanos) = gofmt::unix_parts(expires);
    if keep_alive > 0 {
        loaded.push(Loaded {
            name: model.name.display_shortest(),
            full,
            digest: model.manifest.digest.clone(),
            size,
            size_vram: size.min(vram),
            context_length: num_ctx,
            expires_secs: secs,
            expires_nanos: nanos,
            format: model.config_str("model_format"),
            family: model.config_str("model_family"),
            families: model.families(),
            parameter_size: model.config_str("model_type"),
            quantization_level: model.config_str("file_type"),
        });
    }
    let on_gpu = if size == 0 {
        1.0
    } else {
        (vram as f64 / size as f64).min(1.0)
    };
    (loaded, !warm, on_gpu)
}

/// `GenerateHandler`.
fn generate(machine: &Machine, server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "GenerateRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let fields = (
        req.string("model"),
        req.string("prompt"),
        req.string("system"),
        req.stream(),
        req.object("options", "map[string]interface {}"),
    );
    let (raw, prompt, system, stream, options) = match fields {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
        (Err(r), ..) | (_, Err(r), ..) | (_, _, Err(r), ..) | (.., Err(r), _) | (.., Err(r)) => {
            return r;
        }
    };
    for key in ["suffix", "template"] {
        if let Err(reply) = req.string(key) {
            return reply;
        }
    }
    let keep_alive = match req.field("keep_alive") {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => match keep_alive_of(value) {
            Ok(d) => Some(d),
            Err(message) => return Reply::error(400, &message),
        },
    };
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(None) => return Reply::error(404, &format!("model '{raw}' not found")),
        Err(Some(_)) => return Reply::error(400, "invalid model name"),
    };
    let name = existing(&server.store, &name);
    let Some(model) = server.model(&name) else {
        return Reply::error(404, &format!("model '{raw}' not found"));
    };
    let created = || J::str(gofmt::rfc3339_nano(SystemTime::now()));
    // Unload: an empty prompt with an explicit `keep_alive: 0` (docs/api.md "Unload a
    // model"; `GenerateHandler` in ollama/ollama server/routes.go: `if req.Prompt == "" &&
    // req.KeepAlive != nil && req.KeepAlive.Duration == 0 { s.sched.expireRunner(m) ... }`,
    // answering `done_reason: "unload"` at once, loaded or not). The real scheduler stops the
    // runner a moment later on its own goroutine (`processCompleted`, server/sched.go), so
    // `/api/ps` may list it briefly; here it is gone at once, the state a client waits for.
    if prompt.is_empty() && keep_alive == Some(0) {
        let full = model.name.full();
        let loaded: Vec<Loaded> = server
            .state
            .loaded
            .iter()
            .filter(|l| l.full != full)
            .cloned()
            .collect();
        server.save_loaded(machine, loaded);
        return Reply::json(
            200,
            &J::obj([
                ("model", J::str(raw.clone())),
                ("created_at", created()),
                ("response", J::str("")),
                ("done", J::Bool(true)),
                ("done_reason", J::str("unload")),
            ]),
        );
    }
    if !model.capabilities().iter().any(|c| c == "completion") {
        return Reply::error(
            400,
            &format!("{} does not support generate", gofmt::go_quote(&raw)),
        );
    }
    let request_options: Vec<(String, J)> = options
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.clone(), J::from_value(v)))
        .collect();
    if let Err(message) =
        check_options(&model.options).and_then(|()| check_options(&request_options))
    {
        return Reply::error(500, &message);
    }
    let merged = effective_options(&model.options, &request_options);
    let vram = perf::hardware(machine).vram(server.env.gpu_overhead());
    let trained = model.arch_u64("context_length");
    let mut num_ctx = match option_int(&merged, "num_ctx") {
        Some(n) if n > 0 => n as u64,
        _ => match server.env.context_length() {
            0 => perf::default_num_ctx(vram),
            n => n,
        },
    };
    if trained > 0 {
        num_ctx = num_ctx.min(trained);
    }
    let keep = keep_alive.unwrap_or_else(|| server.env.keep_alive());
    let (loaded, cold, on_gpu) = schedule(machine, server, &model, num_ctx, keep);
    server.save_loaded(machine, loaded);
    if prompt.is_empty() {
        return Reply::json(
            200,
            &J::obj([
                ("model", J::str(raw.clone())),
                ("created_at", created()),
                ("response", J::str("")),
                ("done", J::Bool(true)),
                ("done_reason", J::str("load")),
            ]),
        );
    }
    let system = if system.is_empty() {
        model.system.clone()
    } else {
        system
    };
    let prompt_tokens = (8 + tokens(&system) + tokens(&prompt)).min(num_ctx);
    let (words, capped) = answer(&prompt, &raw, option_int(&merged, "num_predict"));
    let eval_tokens = words.len() as u64;
    let timing = perf::timing(
        &perf::hardware(machine),
        &model,
        cold,
        on_gpu,
        prompt_tokens,
        eval_tokens,
    );
    let vocab = model
        .kv
        .get(&format!("{}.vocab_size", model.config_str("model_family")));
    let vocab = vocab.and_then(|v| v.as_u64()).unwrap_or(32_000).max(1);
    let context: Vec<J> = (0..prompt_tokens + eval_tokens)
        .map(|i| J::Int((fnv(&format!("{prompt}{i}")) % vocab) as i64))
        .collect();
    // `api.Metrics` fields are omitempty.
    let final_fields = |response: String| {
        let mut fields = vec![
            ("model".to_string(), J::str(raw.clone())),
            ("created_at".to_string(), created()),
            ("response".to_string(), J::Str(response)),
            ("done".to_string(), J::Bool(true)),
            (
                "done_reason".to_string(),
                J::str(if capped { "length" } else { "stop" }),
            ),
            ("context".to_string(), J::Arr(context.clone())),
        ];
        for (key, value) in [
            ("total_duration", timing.total),
            ("load_duration", timing.load),
            ("prompt_eval_count", prompt_tokens as i64),
            ("prompt_eval_duration", timing.prompt_eval),
            ("eval_count", eval_tokens as i64),
            ("eval_duration", timing.eval),
        ] {
            if value != 0 {
                fields.push((key.to_string(), J::Int(value)));
            }
        }
        J::Obj(fields)
    };
    if !stream {
        return Reply::json(200, &final_fields(words.concat()));
    }
    let mut lines: Vec<String> = words
        .iter()
        .map(|word| {
            J::obj([
                ("model", J::str(raw.clone())),
                ("created_at", created()),
                ("response", J::str(word.clone())),
                ("done", J::Bool(false)),
            ])
            .to_json()
        })
        .collect();
    lines.push(final_fields(String::new()).to_json());
    Reply {
        status: 200,
        content_type: NDJSON.into(),
        body: Body::Lines(lines),
    }
}

// ---------------------------------------------------------------------------------------
// Chat, embeddings and push (ollama/ollama v0.32.15 `server/routes.go`, `api/types.go`;
// research note issue10 section 1.10).

/// The `num_ctx` a request runs with: the options', else `OLLAMA_CONTEXT_LENGTH`, else the
/// VRAM tier, clamped to the trained context (`llamaServerRunner`).
fn num_ctx_for(machine: &Machine, server: &Running, model: &Model, options: &[(String, J)]) -> u64 {
    let vram = perf::hardware(machine).vram(server.env.gpu_overhead());
    let trained = model.arch_u64("context_length");
    let mut num_ctx = match option_int(options, "num_ctx") {
        Some(n) if n > 0 => n as u64,
        _ => match server.env.context_length() {
            0 => perf::default_num_ctx(vram),
            n => n,
        },
    };
    if trained > 0 {
        num_ctx = num_ctx.min(trained);
    }
    num_ctx
}

/// `keep_alive` of a request: `Ok(None)` when absent.
fn keep_alive_field(req: &Req) -> Result<Option<i64>, Reply> {
    match req.field("keep_alive") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => keep_alive_of(value)
            .map(Some)
            .map_err(|message| Reply::error(400, &message)),
    }
}

/// The request's `options` as Go decoded them.
fn request_options(req: &Req) -> Result<Vec<(String, J)>, Reply> {
    Ok(req
        .object("options", "map[string]interface {}")?
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.clone(), J::from_value(v)))
        .collect())
}

/// Forgets `model` among the loaded ones (`expireRunner`).
fn unload(machine: &Machine, server: &Running, model: &Model) {
    let full = model.name.full();
    let loaded: Vec<Loaded> = server
        .state
        .loaded
        .iter()
        .filter(|l| l.full != full)
        .cloned()
        .collect();
    server.save_loaded(machine, loaded);
}

/// What `load_model` returns: the options, `num_ctx`, a cold load, the share on the GPU.
type LoadedFor = (Vec<(String, J)>, u64, bool, f64);

/// Loads the model as `scheduleRunner` would (options checked first: a wrong type is a 500,
/// `handleScheduleError`'s default), returning the options, `num_ctx`, and whether the load
/// was cold with the share on the GPU.
fn load_model(
    machine: &Machine,
    server: &Running,
    model: &Model,
    request: &[(String, J)],
    keep_alive: Option<i64>,
) -> Result<LoadedFor, Reply> {
    if let Err(message) = check_options(&model.options).and_then(|()| check_options(request)) {
        return Err(Reply::error(500, &message));
    }
    let merged = effective_options(&model.options, request);
    let num_ctx = num_ctx_for(machine, server, model, &merged);
    let keep = keep_alive.unwrap_or_else(|| server.env.keep_alive());
    let (loaded, cold, on_gpu) = schedule(machine, server, model, num_ctx, keep);
    server.save_loaded(machine, loaded);
    Ok((merged, num_ctx, cold, on_gpu))
}

/// `api.Metrics`, each field `omitempty`.
fn metrics(fields: &mut Vec<(String, J)>, values: [(&str, i64); 6]) {
    for (key, value) in values {
        if value != 0 {
            fields.push((key.to_string(), J::Int(value)));
        }
    }
}

/// An `api.ChatResponse` (types.go 520-550): `model`, `created_at`, `message` (`role`,
/// `content`), `done`, `done_reason`?, the metrics.
fn chat_chunk(model: &str, content: &str, done_reason: Option<&str>) -> Vec<(String, J)> {
    let mut fields = vec![
        ("model".to_string(), J::str(model)),
        (
            "created_at".to_string(),
            J::str(gofmt::rfc3339_nano(SystemTime::now())),
        ),
        (
            "message".to_string(),
            J::obj([("role", J::str("assistant")), ("content", J::str(content))]),
        ),
        ("done".to_string(), J::Bool(done_reason.is_some())),
    ];
    if let Some(reason) = done_reason {
        fields.push(("done_reason".to_string(), J::str(reason)));
    }
    fields
}

/// One chat message as `api.Message` decodes it: `role`, `content` (strings); the other
/// fields are accepted and not used by the emulator.
fn chat_message(req: &Req, value: &serde_json::Value) -> Result<(String, String), Reply> {
    let serde_json::Value::Object(map) = value else {
        return Err(Reply::error(
            400,
            &format!(
                "json: cannot unmarshal {} into Go struct field {}.messages of type api.Message",
                kind_of(value),
                req.type_name
            ),
        ));
    };
    let mut out = (String::new(), String::new());
    for (key, slot) in [("role", &mut out.0), ("content", &mut out.1)] {
        match map.get(key) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => *slot = s.clone(),
            Some(other) => {
                return Err(Reply::error(
                    400,
                    &format!(
                        "json: cannot unmarshal {} into Go struct field Message.messages.{key} of type string",
                        kind_of(other)
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// `ChatHandler` (routes.go 2440-2700), answered the way `handleNativeChat` (2949-3038) and
/// `writeChatResponse` (2387-2438) answer for a llama-server runner: the canned words of
/// `answer`, one NDJSON chunk each, then a last chunk with `done_reason` and the metrics;
/// `stream:false` is that last chunk with the whole content (`application/json;
/// charset=utf-8`, `c.JSON`). Errors (routes_generate_test.go 857, 911 for the texts):
/// no model → 400 `model is required`; missing → 404 `model '<as sent>' not found`; `think`
/// on a model without thinking → 400 `"<m>" does not support thinking`; no completion → 400
/// `"<m>" does not support chat`; `tools` on a model without tools → 400 `<full name> does not
/// support tools` (`CheckCapabilities`, images.go 543-583). Not emulated: thinking output,
/// tool calls, `format`, images, logprobs (accepted, ignored).
fn chat(machine: &Machine, server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "ChatRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let decoded = (|| {
        let raw = req.string("model")?;
        let stream = req.stream()?;
        let options = request_options(&req)?;
        let messages = req
            .array("messages", "[]api.Message")?
            .unwrap_or_default()
            .iter()
            .map(|m| chat_message(&req, m))
            .collect::<Result<Vec<_>, Reply>>()?;
        let tools = req.array("tools", "api.Tools")?.unwrap_or_default();
        let keep_alive = keep_alive_field(&req)?;
        let think = match req.field("think") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(serde_json::Value::String(s))
                if ["high", "medium", "low", "max"].contains(&s.as_str()) =>
            {
                Some(true)
            }
            Some(other) => {
                return Err(Reply::error(
                    400,
                    &format!(
                        "invalid think value: {} (must be \"high\", \"medium\", \"low\", \"max\", true, or false)",
                        other
                    ),
                ));
            }
        };
        let top_logprobs = req
            .field("top_logprobs")
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        if !(0..=20).contains(&top_logprobs) {
            return Err(Reply::error(400, "top_logprobs must be between 0 and 20"));
        }
        Ok((raw, stream, options, messages, tools, keep_alive, think))
    })();
    let (raw, stream, options, messages, tools, keep_alive, think) = match decoded {
        Ok(d) => d,
        Err(reply) => return reply,
    };
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(None) => return Reply::error(400, "model is required"),
        Err(Some(_)) => return Reply::error(400, "invalid model name"),
    };
    let name = existing(&server.store, &name);
    let Some(model) = server.model(&name) else {
        return Reply::error(404, &format!("model '{raw}' not found"));
    };
    if messages.is_empty() && keep_alive == Some(0) {
        unload(machine, server, &model);
        return Reply::json(200, &J::Obj(chat_chunk(&raw, "", Some("unload"))));
    }
    let caps = model.capabilities();
    if think == Some(true) && !caps.iter().any(|c| c == "thinking") {
        return Reply::error(
            400,
            &format!("{} does not support thinking", gofmt::go_quote(&raw)),
        );
    }
    if !caps.iter().any(|c| c == "completion") {
        return Reply::error(
            400,
            &format!("{} does not support chat", gofmt::go_quote(&raw)),
        );
    }
    if !tools.is_empty() && !caps.iter().any(|c| c == "tools") {
        return Reply::error(
            400,
            &format!("{} does not support tools", model.name.full()),
        );
    }
    let (merged, num_ctx, cold, on_gpu) =
        match load_model(machine, server, &model, &options, keep_alive) {
            Ok(loaded) => loaded,
            Err(reply) => return reply,
        };
    if messages.is_empty() {
        return Reply::json(200, &J::Obj(chat_chunk(&raw, "", Some("load"))));
    }
    // The model's MESSAGEs come first and its SYSTEM unless the request starts with one.
    let mut all: Vec<(String, String)> = model.messages.clone();
    all.extend(messages.iter().cloned());
    if messages[0].0 != "system" && !model.system.is_empty() {
        all.insert(0, ("system".into(), model.system.clone()));
    }
    let prompt_tokens = (8 + all.iter().map(|(_, c)| 4 + tokens(c)).sum::<u64>()).min(num_ctx);
    let prompt: String = all
        .iter()
        .map(|(role, content)| format!("{role}: {content}\n"))
        .collect();
    let (words, capped) = answer(&prompt, &raw, option_int(&merged, "num_predict"));
    let timing = perf::timing(
        &perf::hardware(machine),
        &model,
        cold,
        on_gpu,
        prompt_tokens,
        words.len() as u64,
    );
    let last = |content: &str| {
        let mut fields = chat_chunk(&raw, content, Some(if capped { "length" } else { "stop" }));
        metrics(
            &mut fields,
            [
                ("total_duration", timing.total),
                ("load_duration", timing.load),
                ("prompt_eval_count", prompt_tokens as i64),
                ("prompt_eval_duration", timing.prompt_eval),
                ("eval_count", words.len() as i64),
                ("eval_duration", timing.eval),
            ],
        );
        J::Obj(fields)
    };
    if !stream {
        return Reply::json(200, &last(&words.concat()));
    }
    let mut lines: Vec<String> = words
        .iter()
        .map(|word| J::Obj(chat_chunk(&raw, word, None)).to_json())
        .collect();
    lines.push(last("").to_json());
    Reply {
        status: 200,
        content_type: NDJSON.into(),
        body: Body::Lines(lines),
    }
}

/// A deterministic stand-in for a model's embedding of `text`: `dimension` values in
/// [-1, 1) from FNV-1a hashes seeded by the model's weights digest and the text, so aliases
/// of one model agree and different texts differ. Not normalised (what the runner returns).
pub fn raw_embedding(seed: &str, text: &str, dimension: usize) -> Vec<f32> {
    (0..dimension)
        .map(|i| {
            // FNV-1a of the text, then SplitMix64's finaliser so that neighbouring indices
            // differ in their high bits too.
            let mut h =
                fnv(&format!("{seed}\n{text}")) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            h ^= h >> 31;
            ((h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

/// `normalize` (routes.go 1026-1040), in float32 as Go computes it.
pub fn normalize(vector: &[f32]) -> Vec<f32> {
    let mut sum: f32 = 0.0;
    for v in vector {
        sum += v * v;
    }
    let norm = (1.0 / f64::from(sum).sqrt().max(1e-12)) as f32;
    vector.iter().map(|v| v * norm).collect()
}

/// The seed and width of a model's emulated embeddings: the weights layer's digest and
/// `<arch>.embedding_length` from its GGUF metadata.
fn embedding_shape(model: &Model) -> (String, usize) {
    let seed = model
        .manifest
        .layers
        .iter()
        .find(|l| l.media_type == registry::MEDIA_MODEL)
        .map(|l| l.digest.clone())
        .unwrap_or_default();
    (seed, model.arch_u64("embedding_length").max(1) as usize)
}

/// `EmbedHandler` (routes.go 795-1024): `input` a string or an array of strings, each
/// embedded, normalised, optionally cut to `dimensions` and normalised again; `[]` or `""`
/// only loads (`{"model":…,"embeddings":[]}`). Errors: no or invalid model name → 404 `model
/// '<as sent>' not found` / 400 `invalid model name`; a wrong input type → 400 `invalid input
/// type`; a missing model → 404 `model "<as sent>" not found, try pulling it first`
/// (`handleScheduleError`, 3107-3120); `truncate:false` with too long an input → 400 `the
/// input length exceeds the context length`.
fn embed(machine: &Machine, server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "EmbedRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let decoded = (|| {
        let raw = req.string("model")?;
        let options = request_options(&req)?;
        let keep_alive = keep_alive_field(&req)?;
        let truncate = req.opt_bool("truncate")?;
        let dimensions = match req.field("dimensions") {
            None | Some(serde_json::Value::Null) => 0,
            Some(serde_json::Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or(0),
            Some(other) => return Err(req.type_error("dimensions", other, "int")),
        };
        Ok((raw, options, keep_alive, truncate, dimensions))
    })();
    let (raw, options, keep_alive, truncate, dimensions) = match decoded {
        Ok(d) => d,
        Err(reply) => return reply,
    };
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(None) => return Reply::error(404, &format!("model '{raw}' not found")),
        Err(Some(_)) => return Reply::error(400, "invalid model name"),
    };
    let input: Vec<String> = match req.field("input") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) if s.is_empty() => Vec::new(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => {
            let mut texts = Vec::new();
            for item in items {
                match item {
                    serde_json::Value::String(s) => texts.push(s.clone()),
                    _ => return Reply::error(400, "invalid input type"),
                }
            }
            texts
        }
        Some(_) => return Reply::error(400, "invalid input type"),
    };
    let name = existing(&server.store, &name);
    let Some(model) = server.model(&name) else {
        return Reply::error(
            404,
            &format!(
                "model {} not found, try pulling it first",
                gofmt::go_quote(&raw)
            ),
        );
    };
    let (_, num_ctx, cold, on_gpu) = match load_model(machine, server, &model, &options, keep_alive)
    {
        Ok(loaded) => loaded,
        Err(reply) => return reply,
    };
    if input.is_empty() {
        return Reply::json(
            200,
            &J::obj([("model", J::str(raw)), ("embeddings", J::Arr(Vec::new()))]),
        );
    }
    let (seed, width) = embedding_shape(&model);
    let mut vectors = Vec::new();
    let mut total_tokens = 0u64;
    for text in &input {
        // BOS and EOS count against the context (`adjustTokenLimit`).
        let count = tokens(text) + 2;
        if truncate == Some(false) && count > num_ctx {
            return Reply::error(400, "the input length exceeds the context length");
        }
        total_tokens += count.min(num_ctx);
        let mut vector = normalize(&raw_embedding(&seed, text, width));
        if dimensions > 0 && (dimensions as usize) < vector.len() {
            vector = normalize(&vector[..dimensions as usize]);
        }
        vectors.push(J::Arr(vector.into_iter().map(J::Float32).collect()));
    }
    let timing = perf::timing(
        &perf::hardware(machine),
        &model,
        cold,
        on_gpu,
        total_tokens,
        0,
    );
    let mut fields = vec![
        ("model".to_string(), J::str(raw)),
        ("embeddings".to_string(), J::Arr(vectors)),
    ];
    for (key, value) in [
        ("total_duration", timing.total),
        ("load_duration", timing.load),
        ("prompt_eval_count", total_tokens as i64),
    ] {
        if value != 0 {
            fields.push((key.to_string(), J::Int(value)));
        }
    }
    Reply::json(200, &J::Obj(fields))
}

/// `EmbeddingsHandler` (routes.go 1042-1100), the legacy route: `{"embedding":[…]}` of the
/// runner's vector as float64, **not** normalised; an empty `prompt` only loads
/// (`{"embedding":[]}`). Errors: no model → 400 `model is required`; a missing model → 404
/// `model "<as sent>" not found, try pulling it first`.
fn embeddings(machine: &Machine, server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "EmbeddingRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let decoded = (|| {
        Ok::<_, Reply>((
            req.string("model")?,
            req.string("prompt")?,
            request_options(&req)?,
            keep_alive_field(&req)?,
        ))
    })();
    let (raw, prompt, options, keep_alive) = match decoded {
        Ok(d) => d,
        Err(reply) => return reply,
    };
    let name = match parse_ref(&raw) {
        Ok(name) => name,
        Err(None) => return Reply::error(400, "model is required"),
        Err(Some(_)) => return Reply::error(400, "invalid model name"),
    };
    // No `getExistingName` here: the name is looked up as given (case-insensitively, as the
    // store's file system on a Mac does).
    let name = existing(&server.store, &name);
    let Some(model) = server.model(&name) else {
        return Reply::error(
            404,
            &format!(
                "model {} not found, try pulling it first",
                gofmt::go_quote(&raw)
            ),
        );
    };
    if let Err(reply) = load_model(machine, server, &model, &options, keep_alive) {
        return reply;
    }
    if prompt.is_empty() {
        return Reply::json(200, &J::obj([("embedding", J::Arr(Vec::new()))]));
    }
    let (seed, width) = embedding_shape(&model);
    let vector = raw_embedding(&seed, &prompt, width);
    Reply::json(
        200,
        &J::obj([(
            "embedding",
            J::Arr(vector.into_iter().map(|v| J::Float(f64::from(v))).collect()),
        )]),
    )
}

/// `PushHandler` (routes.go 1163-1210) → `PushModel` (images.go 931-995) → `uploadBlob` and
/// `blobUpload.Wait` (upload.go 319-405): `retrieving manifest`; per layer and then the
/// config `pushing <digest[7:19]>` with `digest`, `total` and `completed` (omitted while 0):
/// one line with `completed == total` for a blob the registry has (the emulated registry
/// has the library models' blobs), else a few 60 ms ticks; `pushing manifest`; `success`.
/// A missing model: `retrieving manifest`, `couldn't retrieve manifest`, then the `open …:
/// no such file or directory` error. The emulated registry refuses pushes into its
/// `library` namespace with `unauthorized: access denied` (images.go 1307; ollama.com lets
/// only its own staff push there), accepts any other namespace on `registry.ollama.ai`
/// (and forgets what it was sent), and other hosts do not resolve on the emulated internet.
/// (`docs/api.md` still shows `starting upload`; the code says `pushing <hex12>`.)
fn push(server: &Running, request: &HttpRequest) -> Reply {
    let req = match decode(request, "PushRequest") {
        Ok(req) => req,
        Err(reply) => return reply,
    };
    let decoded = (|| {
        let model = req.string("model")?;
        let name = req.string("name")?;
        let stream = req.stream()?;
        req.opt_bool("insecure")?;
        req.string("username")?;
        req.string("password")?;
        Ok::<_, Reply>((if model.is_empty() { name } else { model }, stream))
    })();
    let (raw, stream) = match decoded {
        Ok(d) => d,
        Err(reply) => return reply,
    };
    if raw.is_empty() {
        return Reply::error(400, "model is required");
    }
    let name = existing(&server.store, &Name::parse(&raw));
    let mut events = vec![Event::Line(progress("retrieving manifest"))];
    let Some(manifest) = server.store.manifest(&name) else {
        events.push(Event::Line(progress("couldn't retrieve manifest")));
        let path: String = name.parts().join("/");
        events.push(Event::Error(
            format!(
                "open {}/manifests/{path}: no such file or directory",
                server.store.mac
            ),
            500,
        ));
        return finish(events, stream);
    };
    if !name.host.eq_ignore_ascii_case(names::DEFAULT_HOST) {
        let first = manifest
            .layers
            .first()
            .map_or(manifest.config.digest.clone(), |l| l.digest.clone());
        events.push(Event::Error(
            format!(
                "Head \"https://{}/v2/{}/{}/blobs/{first}\": dial tcp: lookup {}: no such host",
                name.host,
                name.namespace,
                name.model,
                name.host.split(':').next().unwrap_or_default()
            ),
            500,
        ));
        return finish(events, stream);
    }
    if name
        .namespace
        .eq_ignore_ascii_case(names::DEFAULT_NAMESPACE)
    {
        events.push(Event::Error("unauthorized: access denied".into(), 500));
        return finish(events, stream);
    }
    let known: Vec<String> = registry::CATALOGUE
        .iter()
        .flat_map(|m| {
            let (layers, config) = m.blobs();
            layers
                .into_iter()
                .map(|b| b.digest)
                .chain(std::iter::once(config.digest))
                .collect::<Vec<_>>()
        })
        .collect();
    for layer in manifest
        .layers
        .iter()
        .chain(std::iter::once(&manifest.config))
    {
        let short = &layer.digest[7..19];
        let line = |completed: i64| {
            let mut fields = vec![
                ("status".to_string(), J::str(format!("pushing {short}"))),
                ("digest".to_string(), J::str(layer.digest.clone())),
                ("total".to_string(), J::Int(layer.size)),
            ];
            if completed > 0 {
                fields.push(("completed".into(), J::Int(completed)));
            }
            Event::Line(J::Obj(fields))
        };
        if known.contains(&layer.digest) {
            events.push(line(layer.size));
            continue;
        }
        events.push(line(0));
        if layer.size > 1 << 20 {
            for fraction in [0.25, 0.5, 0.75] {
                events.push(line((layer.size as f64 * fraction) as i64));
            }
        }
        events.push(line(layer.size));
    }
    events.push(Event::Line(progress("pushing manifest")));
    events.push(Event::Line(progress("success")));
    finish(events, stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parser.quote` (`parser/parser.go`).
    #[test]
    fn quote_follows_parser_quote() {
        assert_eq!(quote("<|eot_id|>"), "<|eot_id|>");
        assert_eq!(quote("a\nb"), "\"a\nb\"");
        assert_eq!(quote("say \"hi\"\n"), "\"\"\"say \"hi\"\n\"\"\"");
        assert_eq!(quote(" x"), "\" x\"");
    }

    /// `time.ParseDuration` errors, as `api.Duration.UnmarshalJSON` returns them.
    #[test]
    fn keep_alive_errors() {
        assert_eq!(
            keep_alive_of(&serde_json::json!("3600")).unwrap_err(),
            "time: missing unit in duration \"3600\""
        );
        assert_eq!(
            keep_alive_of(&serde_json::json!("1d")).unwrap_err(),
            "time: unknown unit \"d\" in duration \"1d\""
        );
        assert_eq!(
            keep_alive_of(&serde_json::json!("abc")).unwrap_err(),
            "time: invalid duration \"abc\""
        );
        assert_eq!(keep_alive_of(&serde_json::json!(-1)), Ok(i64::MAX));
        assert_eq!(
            keep_alive_of(&serde_json::json!("10m")),
            Ok(600_000_000_000)
        );
        assert_eq!(
            keep_alive_of(&serde_json::json!(true)).unwrap_err(),
            "Unsupported type: 'bool'"
        );
    }

    /// `Options.FromMap` type errors (`api/types.go`).
    #[test]
    fn option_types() {
        let opts = |v: serde_json::Value| -> Vec<(String, J)> {
            v.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), J::from_value(v)))
                .collect()
        };
        assert_eq!(
            check_options(&opts(serde_json::json!({"num_ctx": "8192"}))),
            Err("option \"num_ctx\" must be of type integer".into())
        );
        assert_eq!(
            check_options(&opts(serde_json::json!({"temperature": "hot"}))),
            Err("option \"temperature\" must be of type float32".into())
        );
        assert_eq!(
            check_options(&opts(serde_json::json!({"use_mmap": 1}))),
            Err("option \"use_mmap\" must be of type boolean".into())
        );
        assert_eq!(
            check_options(&opts(serde_json::json!({"stop": "x"}))),
            Err("option \"stop\" must be of type array".into())
        );
        assert!(check_options(&opts(serde_json::json!({"tfs_z": "x", "num_ctx": 8192.5}))).is_ok());
    }

    /// `DefaultOptions` at v0.32.15: no repeat penalty unless the model or request sets one
    /// (commit 6a261db7d, v0.32.10); the model's params, then the request's, win.
    #[test]
    fn default_options_since_v0_32_10() {
        let last = |opts: &[(String, J)], key: &str| {
            opts.iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let plain = effective_options(&[], &[]);
        assert_eq!(last(&plain, "repeat_penalty"), Some(J::Float(1.0)));
        assert_eq!(last(&plain, "temperature"), Some(J::Float(0.8)));
        assert_eq!(option_int(&plain, "num_predict"), Some(-1));
        let model = vec![("repeat_penalty".to_string(), J::Float(1.05))];
        let request = vec![("temperature".to_string(), J::Float(0.0))];
        let merged = effective_options(&model, &request);
        assert_eq!(last(&merged, "repeat_penalty"), Some(J::Float(1.05)));
        assert_eq!(last(&merged, "temperature"), Some(J::Float(0.0)));
    }

    #[test]
    fn template_check() {
        assert!(check_template("{{ if .System }}x{{ end }}{{ .Prompt }}").is_ok());
        assert!(check_template("{{ if .System }}x").is_err());
        assert!(check_template("{{ .Prompt").is_err());
    }
}
