//! The emulated Ollama server: what `ollama serve` 0.32.15 answers on the emulated Mac, after
//! ollama/ollama's sources at tag v0.32.15 (commit b7871fc0d) and the research in
//! ../shared/reference/ollama.md and notes/issue10-research.md (cited per module).
//!
//! Why 0.32.15: it is the newest stable release (v0.33.0-rc0..rc2 are pre-releases), the one
//! Homebrew's formula installs in the presets. Its `envconfig/config.go` is identical to
//! v0.32.3's and to the reference's HEAD, so the reference's environment tables hold as
//! written. What changed from v0.32.3 and is emulated (research note 1.9): created models'
//! config blobs have no `rootfs` (v0.32.7, commit 5a173edb6), `repeat_penalty` defaults to
//! 1.0 (v0.32.10, 6a261db7d), the image-generation routes and fields are gone (commit
//! 4713800b0; the emulator never had them), and the startup log's source lines moved
//! (`routes.go:1951`).
//!
//! - `server.rs`: which `ollama serve` runs (launchd's state), its environment, the startup
//!   log, the memory of loaded models.
//! - `envconfig.rs`: how the server parses its environment.
//! - `api.rs`: the HTTP routes; `http_server.rs`: the same over a real TCP socket.
//! - `store.rs`: the model store under `OLLAMA_MODELS`; `registry.rs`: the library models
//!   the emulated internet offers; `homebrew.rs`: Homebrew's formula and service.
//! - `names.rs`, `gofmt.rs`, `sha256.rs`, `perf.rs`: model names, Go's text formats,
//!   digests, and the speed model behind the timing fields.
//!
//! `/api/chat`, `/api/embed`, `/api/embeddings` and `/api/push` answer with the real shapes
//! and error texts, so that Ollama's own clients can be pointed at `macllm sandbox serve`;
//! their outputs are deterministic (canned words, hash-seeded vectors), not a model's.
//!
//! Not emulated: the OpenAI and Anthropic routes, cloud models (`:cloud`), safetensors
//! imports, request logging (`[GIN]` lines), gin's trailing-slash redirects; they answer 404
//! like unknown paths.

pub mod api;
pub mod envconfig;
pub mod gofmt;
pub mod homebrew;
pub mod http_server;
pub mod names;
pub mod perf;
pub mod registry;
pub mod server;
pub mod store;
pub mod templates;

use super::launchd_db::LaunchdDb;
use super::machine::Machine;
use crate::http::{HttpRequest, HttpResponse, Unreachable};
use std::collections::BTreeMap;

pub use http_server::serve;

/// The version `GET /api/version` reports and the startup log prints.
pub const VERSION: &str = homebrew::VERSION;

/// Where Ollama's clients connect when `OLLAMA_HOST` is unset (`envconfig.Host()`).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:11434";

fn unreachable(machine: &Machine, address: &str) -> Unreachable {
    Unreachable {
        address: format!("{address} on the emulated Mac in {}", machine.dir.display()),
        reason: "connection refused".into(),
    }
}

/// Answers one request as the running server would, keeping NDJSON streams as lines (for
/// `http_server`, which writes them one by one) and HEAD bodies (whose length it sends).
/// `http_server` stands for the Mac's Ollama port, so whichever server runs answers.
pub fn reply(machine: &Machine, request: &HttpRequest) -> Result<api::Reply, Unreachable> {
    crate::ollama_app::tick(machine);
    let server = server::running(machine).ok_or_else(|| unreachable(machine, DEFAULT_ADDRESS))?;
    Ok(api::route(machine, &server, request))
}

/// [`handle_at`] the default address, 127.0.0.1:11434.
pub fn handle(machine: &Machine, request: &HttpRequest) -> Result<HttpResponse, Unreachable> {
    handle_at(machine, DEFAULT_ADDRESS, request)
}

/// Answers one request sent to `address` (`host:port`, `[v6]:port`) the way the Ollama
/// server listening there on this emulated Mac would, or `Err` ("connection refused") when
/// no `ollama serve` listens there: a server moved to another port by `OLLAMA_HOST` no
/// longer answers on 11434. NDJSON bodies are the lines, each ended by `\n`; HEAD
/// responses have no body.
pub fn handle_at(
    machine: &Machine,
    address: &str,
    request: &HttpRequest,
) -> Result<HttpResponse, Unreachable> {
    crate::ollama_app::tick(machine);
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "80"));
    let server =
        server::listening(machine, host, port).ok_or_else(|| unreachable(machine, address))?;
    let reply = api::route(machine, &server, request);
    let head = request.method.eq_ignore_ascii_case("HEAD");
    Ok(HttpResponse {
        status: reply.status,
        content_type: reply.content_type.clone(),
        body: if head {
            String::new()
        } else {
            reply.body_text()
        },
    })
}

/// Whether an `ollama serve` answers on the emulated Mac.
pub fn is_serving(machine: &Machine) -> bool {
    server::running(machine).is_some()
}

/// The environment the answering server parsed, as the `server config` line prints it
/// (`envconfig.Values()`: every key, `%v`-formatted), or `None` when none answers.
pub fn effective_env(machine: &Machine) -> Option<BTreeMap<String, String>> {
    server::running(machine).map(|running| running.env.values().0)
}

/// Every `model:tag` the emulated registry serves.
pub fn registry_models() -> Vec<&'static str> {
    registry::names()
}

/// Called by launchd's state whenever it is saved: a newly spawned `ollama serve` logs its
/// startup, a stopped one is forgotten.
pub fn launchd_changed(machine: &Machine, db: &LaunchdDb) {
    let _ = server::sync(machine, db);
}

/// What a fresh Mac of the machine's preset has installed before its first boot (Homebrew's
/// Ollama and pulled models).
pub fn install_preset(machine: &Machine) -> anyhow::Result<()> {
    homebrew::install_preset(machine)
}

#[cfg(test)]
mod tests;

/// Lowercase hex SHA-256, the form Ollama names blobs and digests by.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
