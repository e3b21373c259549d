//! One request to the emulated Ollama server and its answer, as they cross the wire: the
//! in-process host, the emulated `curl` and the loopback HTTP server all meet here.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub body: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// No server listens (no `ollama serve` runs on the emulated Mac): a real client sees
/// "connection refused".
#[derive(Debug)]
pub struct Unreachable {
    pub address: String,
    pub reason: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nothing answers at {} ({})", self.address, self.reason)
    }
}

impl std::error::Error for Unreachable {}
