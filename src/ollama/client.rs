//! A blocking client for the Ollama endpoints macllm uses. Every call goes through
//! `Host::http`; error bodies (`{"error":"..."}`, reference/ollama.md 1.11) are surfaced
//! verbatim, and "nothing answers" becomes "Ollama is not running on HOST" with a hint.

use crate::host::{Host, HttpRequest, HttpResponse, Unreachable};
use anyhow::{Result, bail};
use serde_json::{Value as Json, json};

pub struct Client<'a> {
    host: &'a dyn Host,
}

/// `{"error": "..."}` from the server, kept word for word.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ollama answered {}: {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

/// A streamed progress line (`/api/pull`, `/api/create`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Progress {
    pub status: String,
    pub digest: Option<String>,
    pub total: Option<u64>,
    pub completed: Option<u64>,
}

/// Nothing answers where Ollama should: a plan may still go on when an earlier change
/// starts the server (see `plan`'s "known after apply").
#[derive(Debug)]
pub struct NotRunning {
    pub host: String,
    pub reason: String,
}

impl std::fmt::Display for NotRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ollama is not running on {} ({})\n\
             hint: start it (`brew services start ollama`, or open Ollama.app) and check OLLAMA_HOST",
            self.host, self.reason
        )
    }
}

impl std::error::Error for NotRunning {}

impl<'a> Client<'a> {
    pub fn new(host: &'a dyn Host) -> Client<'a> {
        Client { host }
    }

    fn call(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        self.host
            .http(request, on_line)
            .map_err(|err| match err.downcast_ref::<Unreachable>() {
                Some(unreachable) => anyhow::Error::new(NotRunning {
                    host: self.host.name().to_string(),
                    reason: unreachable.to_string(),
                }),
                None => err,
            })
    }

    /// The body of a 2xx answer, else the server's own error text.
    fn expect_ok(response: HttpResponse) -> Result<String> {
        if (200..300).contains(&response.status) {
            return Ok(response.body);
        }
        Err(api_error(&response).into())
    }

    /// The request [`Client::is_running`] sends.
    pub fn running_request() -> HttpRequest {
        HttpRequest::get("/").with_timeout(2)
    }

    /// Whether a server answers `GET /` at all.
    pub fn is_running(&self) -> bool {
        self.host
            .http(&Self::running_request(), &mut |_| {})
            .is_ok_and(|r| r.status == 200)
    }

    pub fn version(&self) -> Result<String> {
        let body = Self::expect_ok(self.call(&HttpRequest::get("/api/version"), &mut |_| {})?)?;
        let parsed: Json = serde_json::from_str(&body)?;
        Ok(parsed["version"].as_str().unwrap_or_default().to_string())
    }

    /// The request [`Client::tags`] sends.
    pub fn tags_request() -> HttpRequest {
        HttpRequest::get("/api/tags")
    }

    /// Installed models by full name (`llama3.2:3b`) with their size in bytes.
    pub fn tags(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        Ok(self
            .models(&Self::tags_request())?
            .iter()
            .filter_map(|m| Some((m["name"].as_str()?.to_string(), m["size"].as_u64()?)))
            .collect())
    }

    /// The models loaded in memory now (`/api/ps`), by name as Ollama gives it.
    pub fn loaded(&self) -> Result<Vec<String>> {
        Ok(self
            .models(&HttpRequest::get("/api/ps"))?
            .iter()
            .filter_map(|m| Some(m["name"].as_str()?.to_string()))
            .collect())
    }

    /// The `models` list of a `GET` endpoint's answer (`/api/tags`, `/api/ps`).
    fn models(&self, request: &HttpRequest) -> Result<Vec<Json>> {
        let body = Self::expect_ok(self.call(request, &mut |_| {})?)?;
        let mut parsed: Json = serde_json::from_str(&body)?;
        Ok(match parsed["models"].take() {
            Json::Array(models) => models,
            _ => Vec::new(),
        })
    }

    /// The request [`Client::show`] sends.
    pub fn show_request(model: &str) -> HttpRequest {
        HttpRequest::post("/api/show", &json!({ "model": model }))
    }

    /// `/api/show`, or `None` when the model is not there (404).
    pub fn show(&self, model: &str) -> Result<Option<Json>> {
        let response = self.call(&Self::show_request(model), &mut |_| {})?;
        if response.status == 404 {
            return Ok(None);
        }
        let body = Self::expect_ok(response)?;
        Ok(Some(serde_json::from_str(&body)?))
    }

    /// Streams `/api/pull`; an error line mid-stream is an error.
    pub fn pull(&self, model: &str, on_progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let request = HttpRequest::post("/api/pull", &json!({ "model": model, "stream": true }))
            .with_timeout(6 * 3600);
        self.stream(&request, on_progress)
    }

    /// Streams `/api/create` with the structured request (the `modelfile` string is ignored
    /// by servers since v0.5.5: reference/ollama.md 0.1).
    pub fn create(&self, request: &Json, on_progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let request = HttpRequest::post("/api/create", request).with_timeout(3600);
        self.stream(&request, on_progress)
    }

    pub fn delete(&self, model: &str) -> Result<()> {
        let response = self.call(
            &HttpRequest::delete("/api/delete", &json!({ "model": model })),
            &mut |_| {},
        )?;
        Self::expect_ok(response).map(|_| ())
    }

    /// Non-streamed `/api/generate`; returns the final object with Ollama's timing fields.
    pub fn generate(&self, request: &Json) -> Result<Json> {
        let response = self.call(
            &HttpRequest::post("/api/generate", request).with_timeout(1800),
            &mut |_| {},
        )?;
        let body = Self::expect_ok(response)?;
        Ok(serde_json::from_str(&body)?)
    }

    fn stream(&self, request: &HttpRequest, on_progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let mut failure: Option<String> = None;
        let response = self.call(request, &mut |line| {
            let Ok(parsed) = serde_json::from_str::<Json>(line) else {
                return;
            };
            if let Some(error) = parsed["error"].as_str() {
                failure = Some(error.to_string());
                return;
            }
            on_progress(&Progress {
                status: parsed["status"].as_str().unwrap_or_default().to_string(),
                digest: parsed["digest"].as_str().map(str::to_string),
                total: parsed["total"].as_u64(),
                completed: parsed["completed"].as_u64(),
            });
        })?;
        // Errors after the stream began arrive as a line with HTTP 200 (reference 0.5).
        if let Some(message) = failure {
            return Err(ApiError {
                status: response.status,
                message,
            }
            .into());
        }
        if !(200..300).contains(&response.status) {
            return Err(api_error(&response).into());
        }
        let last = response.body.lines().last().unwrap_or_default();
        if !last.contains("\"success\"") {
            bail!("Ollama's stream ended without success: {last}");
        }
        Ok(())
    }
}

fn api_error(response: &HttpResponse) -> ApiError {
    let message = serde_json::from_str::<Json>(&response.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| response.body.trim().to_string());
    ApiError {
        status: response.status,
        message,
    }
}
