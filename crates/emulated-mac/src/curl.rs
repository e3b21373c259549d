//! Emulated `curl`, only as macllm's SSH host uses it to reach the remote Mac's own Ollama on
//! its loopback (`curl -sS -X METHOD -H ... --data-binary @- -w '\n%{http_code} %{content_type}'
//! http://127.0.0.1:11434/PATH`): the request goes to the emulated Ollama listening on that
//! address and port (`OLLAMA_HOST` moves it). A refused
//! connection is curl's exit 7 with its message (`curl: (7) Failed to connect to 127.0.0.1
//! port 11434 after 0 ms: Couldn't connect to server`, curl's `CURLE_COULDNT_CONNECT`).

use super::machine::Machine;
use crate::http::HttpRequest;
use crate::output::Output;

pub fn run(machine: &Machine, args: &[String], stdin: &[u8]) -> Output {
    let mut method = "GET".to_string();
    let mut write_out = String::new();
    let mut body = None;
    let mut url = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-sS" | "-s" | "-S" | "-N" | "--no-buffer" => {}
            "-X" => method = words.next().cloned().unwrap_or_default(),
            "-H" => {
                words.next();
            }
            "--data-binary" => {
                if words.next().map(String::as_str) == Some("@-") {
                    body = Some(String::from_utf8_lossy(stdin).into_owned());
                }
            }
            "-w" => write_out = words.next().cloned().unwrap_or_default(),
            other if other.starts_with("http://") => url = Some(other.to_string()),
            other => {
                return Output::failed(
                    2,
                    format!("curl: option {other}: is unknown (not emulated)\n"),
                );
            }
        }
    }
    let Some(url) = url else {
        return Output::failed(2, "curl: no URL specified\n");
    };
    let rest = url.trim_start_matches("http://");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "80"));
    let request = HttpRequest {
        method,
        path: if path.is_empty() {
            "/".to_string()
        } else {
            path.to_string()
        },
        body,
    };
    let refused = || {
        Output::failed(
            7,
            format!(
                "curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n"
            ),
        )
    };
    match super::ollama::handle_at(machine, &format!("{host}:{port}"), &request) {
        Err(_) => refused(),
        Ok(response) => {
            let trailer = write_out
                .replace("\\n", "\n")
                .replace("%{http_code}", &response.status.to_string())
                .replace("%{content_type}", &response.content_type);
            Output::ok(format!("{}{trailer}", response.body))
        }
    }
}
