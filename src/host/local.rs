//! The machine macllm runs on: programs through `std::process`, argv only.

use super::{Host, HttpRequest, HttpResponse, Invocation, Output, Unreachable};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

pub struct LocalHost;

impl Host for LocalHost {
    fn name(&self) -> &str {
        "local"
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        let Some((program, args)) = invocation.argv.split_first() else {
            bail!("internal error: empty argv");
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .stdin(if invocation.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "cannot run `{program}`: it is not installed on this machine\n\
                     hint: macllm manages macOS; elsewhere use an emulated Mac with `--host sandbox:DIR`"
                )
            }
            Err(err) => return Err(err).with_context(|| format!("cannot run `{program}`")),
        };
        if let Some(stdin) = &invocation.stdin {
            let mut pipe = child.stdin.take().context("stdin pipe missing")?;
            // A program that exits without reading its input closes the pipe; its exit
            // status, not our write error, is the answer worth reporting.
            let _ = pipe.write_all(stdin);
        }
        let output = child
            .wait_with_output()
            .with_context(|| format!("waiting for `{program}`"))?;
        Ok(Output {
            // A signal leaves no code; report it like a shell would (128 + signal is not
            // portable here, so -1 marks "killed").
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        let base = match &request.address {
            Some(address) => address.clone(),
            None => ollama_base_url(std::env::var("OLLAMA_HOST").ok().as_deref()),
        };
        send(&base, request, on_line)
    }
}

/// Where a client reaches Ollama, as Ollama's own client resolves `OLLAMA_HOST`
/// (`envconfig.ConnectableHost`, reference/ollama.md 1.0 and 3.1): default
/// `127.0.0.1:11434`; an unspecified bind address (`0.0.0.0`, `::`) means loopback;
/// `http://x` without a port is port 80, `https://x` 443.
pub fn ollama_base_url(ollama_host: Option<&str>) -> String {
    let raw = ollama_host.map(str::trim).unwrap_or_default();
    let raw = raw.trim_matches(|c| c == '"' || c == '\'');
    if raw.is_empty() {
        return "http://127.0.0.1:11434".to_string();
    }
    let (scheme, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("http", raw),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            (host, port.to_string())
        }
        _ => (
            rest,
            match (raw.contains("://"), scheme) {
                (true, "https") => "443".to_string(),
                (true, _) => "80".to_string(),
                (false, _) => "11434".to_string(),
            },
        ),
    };
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" | "::" => "[::1]",
        other => other,
    };
    format!("{scheme}://{host}:{port}")
}

/// One request over real HTTP with ureq (blocking, no TLS needed for a loopback server).
pub fn send(
    base: &str,
    request: &HttpRequest,
    on_line: &mut dyn FnMut(&str),
) -> Result<HttpResponse> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(request.timeout_secs)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{base}{}", request.path);
    let unreachable = |err: ureq::Error| {
        anyhow::Error::new(Unreachable {
            address: base.to_string(),
            reason: err.to_string(),
        })
    };
    let body = request.body.clone().unwrap_or_default();
    let response = match request.method.as_str() {
        "GET" => agent.get(&url).call(),
        "HEAD" => agent.head(&url).call(),
        "DELETE" => agent
            .delete(&url)
            .force_send_body()
            .content_type("application/json")
            .send(body.as_bytes()),
        _ => agent
            .post(&url)
            .content_type("application/json")
            .send(body.as_bytes()),
    };
    let mut response = response.map_err(unreachable)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut text = String::new();
    let reader = std::io::BufReader::new(response.body_mut().as_reader());
    for line in reader.lines() {
        let line = line.with_context(|| format!("reading the response of {url}"))?;
        on_line(&line);
        text.push_str(&line);
        text.push('\n');
    }
    if !text.is_empty() && !text.ends_with("\n\n") {
        // Keep the body as sent: non-streamed JSON has no final newline.
        text.pop();
    }
    Ok(HttpResponse {
        status,
        content_type,
        body: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_like_ollamas_own_client() {
        assert_eq!(ollama_base_url(None), "http://127.0.0.1:11434");
        assert_eq!(ollama_base_url(Some("0.0.0.0")), "http://127.0.0.1:11434");
        assert_eq!(
            ollama_base_url(Some("0.0.0.0:8080")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            ollama_base_url(Some("http://studio.lan")),
            "http://studio.lan:80"
        );
        assert_eq!(
            ollama_base_url(Some("https://x.example")),
            "https://x.example:443"
        );
        assert_eq!(ollama_base_url(Some("[::]:11434")), "http://[::1]:11434");
        assert_eq!(
            ollama_base_url(Some("\"127.0.0.1:9\"")),
            "http://127.0.0.1:9"
        );
    }
}
