//! The emulated Ollama server (to be written).

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
