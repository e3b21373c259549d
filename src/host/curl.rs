//! Ollama's API through the Mac's own `curl`, for hosts that reach a Mac by running commands
//! on it (SSH): a request becomes one command, and that command's output becomes the
//! response. Being a command, a request that only reads can travel in a batch with the
//! plan's other reads (one round trip for all of them), and the answer taken from the batch
//! is read exactly as one fetched on its own.

use super::{HttpRequest, HttpResponse, Invocation, Output, Unreachable};
use anyhow::{Result, bail};

/// Where a request without an address goes: Ollama's default, as the Mac itself sees it.
const DEFAULT_BASE: &str = "http://127.0.0.1:11434";

/// Whether the request asks for a stream (a pull's progress), whose lines are wanted as
/// they arrive.
pub fn streamed(request: &HttpRequest) -> bool {
    request
        .body
        .as_deref()
        .and_then(|body| serde_json::from_str::<serde_json::Value>(body).ok())
        .is_some_and(|body| body["stream"] == true)
}

fn base(request: &HttpRequest) -> &str {
    request.address.as_deref().unwrap_or(DEFAULT_BASE)
}

/// The `curl` that sends `request`: the body on stdin, never on the command line; the
/// status and content type written after the body (`-w`), on a line of their own.
pub fn invocation(request: &HttpRequest) -> Invocation {
    let mut argv: Vec<String> = ["curl", "-sS"].map(String::from).to_vec();
    // Unbuffered, so that each line of a stream leaves as soon as curl has it.
    if streamed(request) {
        argv.push("-N".to_string());
    }
    argv.extend(
        [
            "-X",
            &request.method,
            "-w",
            "\\n%{http_code} %{content_type}",
        ]
        .map(String::from),
    );
    if request.body.is_some() {
        argv.extend(
            [
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                "@-",
            ]
            .map(String::from),
        );
    }
    argv.push(format!("{}{}", base(request), request.path));
    let mut invocation = Invocation::read(argv);
    invocation.stdin = request.body.clone().map(String::into_bytes);
    invocation
}

/// The response in what [`invocation`] printed on `host`. Nothing listening is
/// [`Unreachable`]; any other curl failure is an error. `on_line` sees the lines of an
/// NDJSON body that was not streamed to it already.
pub fn response(
    host: &str,
    request: &HttpRequest,
    output: Output,
    on_line: &mut dyn FnMut(&str),
) -> Result<HttpResponse> {
    // curl's exit 7: nothing listens on the Mac's port (CURLE_COULDNT_CONNECT).
    if output.status == 7 {
        let base = base(request);
        return Err(anyhow::Error::new(Unreachable {
            address: format!(
                "{} on {host}",
                base.split_once("://").map_or(base, |(_, rest)| rest)
            ),
            reason: output.stderr.trim().to_string(),
        }));
    }
    if !output.success() {
        bail!(
            "`curl` on {host} exited with status {}: {}",
            output.status,
            output.stderr.trim()
        );
    }
    let (body, trailer) = output
        .stdout
        .rsplit_once('\n')
        .unwrap_or(("", &output.stdout));
    let (status, content_type) = trailer.split_once(' ').unwrap_or((trailer, ""));
    let response = HttpResponse {
        status: status.trim().parse().unwrap_or(0),
        content_type: content_type.trim().to_string(),
        body: body.to_string(),
    };
    if !streamed(request) && response.content_type.starts_with("application/x-ndjson") {
        response.body.lines().for_each(on_line);
    }
    Ok(response)
}
