//! Ollama's clients against `macllm sandbox serve` (issue 10): `/api/chat`, `/api/embed`,
//! `/api/embeddings` and `/api/push` over real HTTP, as the `ollama` CLI, the Python and JS
//! libraries or curl send them, answered in the shapes of ollama/ollama v0.32.15
//! (`api/types.go`, `server/routes.go`, `server/images.go PushModel`). Whole bodies are
//! compared; the clock's `created_at` and the perf model's durations are read back.

use crate::harness::{BIN, Mac};
use emulated_mac::ollama::gofmt::J;
use emulated_mac::ollama::names::Name;
use emulated_mac::ollama::{api, registry};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// `macllm sandbox serve` on a free loopback port, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(mac: &Mac) -> (Served, String) {
    let mut child = Command::new(BIN)
        .args(["sandbox", "serve", "mac", "--port", "0"])
        .current_dir(&mac.work)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Served(child), address)
}

/// `(status, content type, body)` of a POST with a JSON body.
fn post(base: &str, path: &str, body: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!("{base}{path}"))
        .content_type("application/json")
        .send(body.as_bytes())
        .unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), content_type, text)
}

/// The body with every `"created_at":"…"` set to `T` and the durations (checked positive)
/// to `0`, the rest as sent.
fn fixed(body: &str) -> String {
    let mut text = body.to_string();
    for key in [
        "created_at",
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
    ] {
        let pattern = format!("\"{key}\":");
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&pattern) {
            let start = i + pattern.len();
            out.push_str(&rest[..start]);
            let end = rest[start..].find([',', '}']).map(|e| start + e).unwrap();
            if key != "created_at" {
                let n: i64 = rest[start..end].parse().unwrap();
                assert!(n > 0, "{key} {n}");
            }
            out.push_str(if key == "created_at" { "\"T\"" } else { "0" });
            rest = &rest[end..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

#[test]
fn ollamas_clients_chat_embed_and_push_against_the_emulated_server() {
    let mac = Mac::new();
    let (_served, base) = serve(&mac);
    let pulled = post(
        &base,
        "/api/pull",
        r#"{"model":"llama3.2:3b","stream":false}"#,
    );
    assert_eq!(
        pulled,
        (
            200,
            "application/json".into(),
            r#"{"status":"success"}"#.into()
        )
    );

    // /api/chat, stream:false (the Python library's `chat(..., stream=False)`).
    let (status, content_type, body) = post(
        &base,
        "/api/chat",
        r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":false,"options":{"num_predict":5}}"#,
    );
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/json; charset=utf-8")
    );
    let prompt_eval_count =
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["prompt_eval_count"]
            .as_i64()
            .unwrap();
    assert_eq!(
        fixed(&body),
        format!(
            r#"{{"model":"llama3.2:3b","created_at":"T","message":{{"role":"assistant","content":"This is an emulated answer"}},"done":true,"done_reason":"length","total_duration":0,"load_duration":0,"prompt_eval_count":{prompt_eval_count},"prompt_eval_duration":0,"eval_count":5,"eval_duration":0}}"#
        )
    );
    // Streamed (the CLI's `ollama run`): NDJSON chunks, then the last one.
    let (status, content_type, body) = post(
        &base,
        "/api/chat",
        r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"Why is the sky blue?"}],"options":{"num_predict":2}}"#,
    );
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/x-ndjson")
    );
    let lines: Vec<String> = body.lines().map(fixed).collect();
    assert_eq!(
        lines,
        [
            r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":"This"},"done":false}"#.to_string(),
            r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":" is"},"done":false}"#.to_string(),
            format!(r#"{{"model":"llama3.2:3b","created_at":"T","message":{{"role":"assistant","content":""}},"done":true,"done_reason":"length","total_duration":0,"load_duration":0,"prompt_eval_count":{prompt_eval_count},"prompt_eval_duration":0,"eval_count":2,"eval_duration":0}}"#),
        ]
    );
    assert!(body.ends_with("}\n"));
    assert_eq!(
        post(&base, "/api/chat", r#"{"model":"nope","messages":[]}"#),
        (
            404,
            "application/json; charset=utf-8".into(),
            r#"{"error":"model 'nope' not found"}"#.into()
        )
    );

    // /api/embed: the vector the emulator derives from the weights' digest and the text,
    // normalised as Go's `normalize` does.
    let seed = registry::find(&Name::parse("llama3.2:3b"))
        .unwrap()
        .blobs()
        .0[0]
        .digest
        .clone();
    let vector = api::normalize(&api::raw_embedding(&seed, "hello", 3072));
    let (status, _, body) = post(
        &base,
        "/api/embed",
        r#"{"model":"llama3.2:3b","input":"hello"}"#,
    );
    assert_eq!(status, 200);
    let expected = J::obj([
        ("model", J::str("llama3.2:3b")),
        (
            "embeddings",
            J::Arr(vec![J::Arr(
                vector.iter().copied().map(J::Float32).collect(),
            )]),
        ),
        ("total_duration", J::Int(0)),
        ("load_duration", J::Int(0)),
        ("prompt_eval_count", J::Int(4)),
    ]);
    assert_eq!(fixed(&body), expected.to_json());
    assert_eq!(
        post(&base, "/api/embed", r#"{"model":"llama3.2:3b","input":[]}"#),
        (
            200,
            "application/json; charset=utf-8".into(),
            r#"{"model":"llama3.2:3b","embeddings":[]}"#.into()
        )
    );
    assert_eq!(
        post(
            &base,
            "/api/embed",
            r#"{"model":"llama3.2:3b","input":[1]}"#
        )
        .2,
        r#"{"error":"invalid input type"}"#
    );

    // /api/embeddings (legacy): the same vector before normalising, as float64.
    let (status, _, body) = post(
        &base,
        "/api/embeddings",
        r#"{"model":"llama3.2:3b","prompt":"hello"}"#,
    );
    assert_eq!(status, 200);
    let raw = api::raw_embedding(&seed, "hello", 3072);
    let expected = J::obj([(
        "embedding",
        J::Arr(raw.iter().map(|v| J::Float(f64::from(*v))).collect()),
    )]);
    assert_eq!(body, expected.to_json());
    assert_eq!(
        post(&base, "/api/embeddings", r#"{"model":"nope","prompt":"x"}"#),
        (
            404,
            "application/json; charset=utf-8".into(),
            r#"{"error":"model \"nope\" not found, try pulling it first"}"#.into()
        )
    );

    // /api/push: into a namespace the emulated registry accepts; every blob is one it has.
    assert_eq!(
        post(
            &base,
            "/api/copy",
            r#"{"source":"llama3.2:3b","destination":"jdoe/mine"}"#
        )
        .0,
        200
    );
    let (layers, config) = registry::find(&Name::parse("llama3.2:3b")).unwrap().blobs();
    let mut expected = String::from("{\"status\":\"retrieving manifest\"}\n");
    for blob in layers.iter().chain(std::iter::once(&config)) {
        expected.push_str(&format!(
            "{{\"status\":\"pushing {}\",\"digest\":\"{}\",\"total\":{},\"completed\":{}}}\n",
            &blob.digest[7..19],
            blob.digest,
            blob.size,
            blob.size
        ));
    }
    expected.push_str("{\"status\":\"pushing manifest\"}\n{\"status\":\"success\"}\n");
    assert_eq!(
        post(&base, "/api/push", r#"{"model":"jdoe/mine"}"#),
        (200, "application/x-ndjson".into(), expected)
    );
    assert_eq!(
        post(
            &base,
            "/api/push",
            r#"{"model":"jdoe/mine","stream":false}"#
        ),
        (
            200,
            "application/json".into(),
            r#"{"status":"success"}"#.into()
        )
    );
    assert_eq!(
        post(
            &base,
            "/api/push",
            r#"{"model":"llama3.2:3b","stream":false}"#
        ),
        (
            500,
            "application/json".into(),
            r#"{"error":"unauthorized: access denied"}"#.into()
        )
    );
}
