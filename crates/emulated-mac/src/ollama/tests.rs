//! One test per emulated behaviour, each naming the fixture (reference
//! `fixtures/ollama/*.json`) or the ollama/ollama v0.32.15 source it follows.

use super::*;
use crate::http::HttpRequest;
use crate::machine::Machine;
use crate::presets;
use crate::testing::args;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A fresh Mac of `preset` with Homebrew's Ollama running: as the preset ships it, or
/// installed and started the way `brew install ollama && brew services start ollama` does
/// when the preset does not.
fn mac(preset: &str) -> (TempDir, Machine) {
    let (dir, machine) = crate::testing::mac(preset);
    let p = presets::find(preset).unwrap();
    if !p.homebrew_ollama() {
        homebrew::install(&machine, p.ollama_models()).unwrap();
        let domain = if machine.info.gui_session {
            "gui/501"
        } else {
            "user/501"
        };
        ok(
            &machine,
            &[
                "launchctl",
                "bootstrap",
                domain,
                "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist",
            ],
        );
    }
    (dir, machine)
}

fn sh(machine: &Machine, list: &[&str]) -> crate::output::Output {
    crate::run(machine, &args(list), b"").unwrap()
}

fn ok(machine: &Machine, list: &[&str]) -> String {
    let out = sh(machine, list);
    assert_eq!(out.status, 0, "{list:?}: {}", out.stderr);
    out.stdout
}

fn call(machine: &Machine, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
    let request = HttpRequest {
        method: method.into(),
        path: path.into(),
        body: body.map(|b| b.to_string()),
    };
    handle(machine, &request).expect("the emulated server answers")
}

fn post(machine: &Machine, path: &str, body: Value) -> HttpResponse {
    call(machine, "POST", path, Some(body))
}

fn json_of(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.body))
}

fn lines(response: &HttpResponse) -> Vec<Value> {
    response
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn statuses(response: &HttpResponse) -> Vec<String> {
    lines(response)
        .iter()
        .map(|l| l["status"].as_str().unwrap_or("<error>").to_string())
        .collect()
}

/// `(status, content type, body)`.
fn triple(response: &HttpResponse) -> (u16, &str, &str) {
    (
        response.status,
        response.content_type.as_str(),
        response.body.as_str(),
    )
}

const LOG: &str = "opt/homebrew/var/log/ollama.log";

fn log(machine: &Machine) -> String {
    std::fs::read_to_string(machine.dir.join(LOG)).unwrap_or_default()
}

fn create_mario(machine: &Machine) -> HttpResponse {
    // Fixture create-request-full.json (constructed, every field macllm sends).
    post(
        machine,
        "/api/create",
        json!({
            "model": "mario",
            "from": "llama3.2",
            "system": "You are Mario from Super Mario Bros.",
            "parameters": {
                "num_ctx": 8192,
                "temperature": 0.7,
                "stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
            },
            "messages": [
                {"role": "user", "content": "Who are you?"},
                {"role": "assistant", "content": "It's-a me, Mario!"}
            ],
            "license": ["MIT"],
            "stream": false
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Which server runs.

/// Presets install Homebrew's Ollama (reference 4.2): the agent runs in gui/501 with the
/// formula's plist, and the server answers `Ollama is running` (server/routes.go `r.GET("/")`).
#[test]
fn preset_runs_homebrews_ollama() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let print = ok(
        &machine,
        &["launchctl", "print", "gui/501/homebrew.mxcl.ollama"],
    );
    assert!(print.contains("state = running"), "{print}");
    let plist = ok(
        &machine,
        &[
            "plutil",
            "-p",
            "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist",
        ],
    );
    for expected in [
        "\"OLLAMA_FLASH_ATTENTION\" => \"1\"",
        "\"OLLAMA_KV_CACHE_TYPE\" => \"q8_0\"",
        "\"KeepAlive\" => true",
        "\"RunAtLoad\" => true",
        "0 => \"/opt/homebrew/opt/ollama/bin/ollama\"",
        "1 => \"serve\"",
        "\"WorkingDirectory\" => \"/opt/homebrew/var\"",
        "\"StandardErrorPath\" => \"/opt/homebrew/var/log/ollama.log\"",
        "4 => \"System\"",
    ] {
        assert!(plist.contains(expected), "{expected} in {plist}");
    }
    ok(&machine, &["test", "-f", "/opt/homebrew/bin/ollama"]);
    assert_eq!(
        triple(&call(&machine, "GET", "/", None)),
        (200, "text/plain; charset=utf-8", "Ollama is running")
    );
    let head = call(&machine, "HEAD", "/", None);
    assert_eq!(triple(&head), (200, "text/plain; charset=utf-8", ""));
}

/// A preset that ships Homebrew's Ollama has it running right after creation (launchd's first
/// boot loads `~/Library/LaunchAgents`), with its models pulled; one that does not has no
/// trace of it.
#[test]
fn presets_install_ollama_before_first_boot() {
    for preset in presets::PRESETS {
        let (_dir, machine) = crate::testing::mac(preset.name);
        assert_eq!(
            is_serving(&machine),
            preset.homebrew_ollama(),
            "{}",
            preset.name
        );
        if preset.homebrew_ollama() {
            let tags = json_of(&call(&machine, "GET", "/api/tags", None));
            assert_eq!(
                tags["models"].as_array().unwrap().len(),
                preset.ollama_models().len(),
                "{}",
                preset.name
            );
        } else {
            assert!(!machine.dir.join("opt/homebrew").exists());
            assert!(!machine.dir.join("Users/admin/.ollama").exists());
            assert!(!machine.dir.join(server::STATE_FILE).exists());
        }
    }
}

/// Over SSH only (no Aqua session) the formula's `LimitLoadToSessionType` lets the agent
/// load in user/501 (macos-commands.md 5.2).
#[test]
fn ssh_only_preset_runs_it_in_the_user_domain() {
    let (_dir, machine) = mac("m2-16gb-sonoma-ssh");
    assert!(crate::launchctl::pid_of(&machine, "user/501", homebrew::LABEL).is_some());
    assert_eq!(call(&machine, "GET", "/api/version", None).status, 200);
}

/// No running `ollama serve` → connection refused (`Unreachable`).
#[test]
fn server_down_is_unreachable() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    ok(
        &machine,
        &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
    );
    let err = handle(
        &machine,
        &HttpRequest {
            method: "GET".into(),
            path: "/api/tags".into(),
            body: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.reason, "connection refused");
    assert!(effective_env(&machine).is_none());
    assert!(!is_serving(&machine));
    // Back after a bootstrap.
    ok(
        &machine,
        &[
            "launchctl",
            "bootstrap",
            "gui/501",
            "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist",
        ],
    );
    assert!(is_serving(&machine));
}

/// A job whose executable does not exist never runs `ollama serve` (launchd cannot spawn
/// it); one that is not `serve` is not a server.
#[test]
fn only_existing_ollama_serve_jobs_count() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    ok(
        &machine,
        &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
    );
    for (label, program, arg) in [
        ("com.example.missing", "/usr/local/bin/ollama", "serve"),
        ("com.example.run", "/opt/homebrew/bin/ollama", "run"),
    ] {
        let path = format!("/Users/admin/Library/LaunchAgents/{label}.plist");
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>\
             <key>Label</key><string>{label}</string><key>ProgramArguments</key><array>\
             <string>{program}</string><string>{arg}</string></array>\
             <key>RunAtLoad</key><true/></dict></plist>\n"
        );
        std::fs::write(machine.host_path(&path).unwrap(), xml).unwrap();
        ok(&machine, &["launchctl", "bootstrap", "gui/501", &path]);
    }
    assert!(!is_serving(&machine));
}

/// The server's environment is launchctl's `process_environment` of its job: plist
/// `EnvironmentVariables` over the domain's `setenv` values at spawn.
#[test]
fn environment_is_the_jobs_process_environment() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    ok(
        &machine,
        &["launchctl", "setenv", "OLLAMA_KV_CACHE_TYPE", "f16"],
    );
    ok(
        &machine,
        &["launchctl", "setenv", "OLLAMA_NUM_PARALLEL", "2"],
    );
    // Not yet: setenv reaches processes spawned afterwards.
    assert_eq!(effective_env(&machine).unwrap()["OLLAMA_NUM_PARALLEL"], "1");
    ok(
        &machine,
        &[
            "launchctl",
            "kickstart",
            "-k",
            "gui/501/homebrew.mxcl.ollama",
        ],
    );
    let env = effective_env(&machine).unwrap();
    assert_eq!(env["OLLAMA_NUM_PARALLEL"], "2");
    // The plist's value wins over the domain's.
    assert_eq!(env["OLLAMA_KV_CACHE_TYPE"], "q8_0");
    let db = crate::launchd_db::load(&machine).unwrap();
    let job = &server::serve_jobs(&machine, &db)[0];
    assert_eq!(
        Some(job.environment.clone()),
        crate::launchctl::process_environment(&machine, "gui/501", homebrew::LABEL)
    );
}

// ---------------------------------------------------------------------------------------
// Startup log and environment parsing.

/// `server/routes.go:1951` (v0.32.15) logs `msg="server config" env="map[…]"` first at every start
/// (reference 3.1 constructed example); Homebrew's plist values are visible in it.
#[test]
fn startup_log_has_the_server_config_line() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let text = log(&machine);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let config = lines[0];
    assert!(config.starts_with("time=20"), "{config}");
    assert!(
        config.contains(
            " level=INFO source=routes.go:1951 msg=\"server config\" env=\"map[HTTPS_PROXY: HTTP_PROXY: LLAMA_ARG_FIT: LLAMA_ARG_FIT_TARGET: NO_PROXY: OLLAMA_CONTEXT_LENGTH:0 OLLAMA_DEBUG:INFO OLLAMA_DEBUG_LOG_REQUESTS:false OLLAMA_EDITOR: OLLAMA_FLASH_ATTENTION:true OLLAMA_GO_TEMPLATE:true OLLAMA_GPU_OVERHEAD:0 OLLAMA_HOST:http://127.0.0.1:11434 OLLAMA_IGPU_ENABLE: OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE:q8_0 OLLAMA_LLM_LIBRARY: OLLAMA_LOAD_TIMEOUT:5m0s OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 OLLAMA_MAX_TRANSFER_STREAMS:4 OLLAMA_MODELS:/Users/admin/.ollama/models OLLAMA_NOHISTORY:false OLLAMA_NOPRUNE:false OLLAMA_NO_CLOUD:false OLLAMA_NUM_PARALLEL:1 OLLAMA_ORIGINS:[http://localhost https://localhost http://localhost:* https://localhost:* http://127.0.0.1 https://127.0.0.1 http://127.0.0.1:* https://127.0.0.1:* http://0.0.0.0 https://0.0.0.0 http://0.0.0.0:* https://0.0.0.0:* app://* file://* tauri://* vscode-webview://* vscode-file://*] OLLAMA_REMOTES:[ollama.com] OLLAMA_SCHED_SPREAD:false http_proxy: https_proxy: no_proxy:]\""
        ),
        "{config}"
    );
    assert!(lines[1].ends_with("source=routes.go:1953 msg=\"Ollama cloud disabled: false\""));
    assert!(
        lines[2].ends_with(
            "source=routes.go:2008 msg=\"Listening on 127.0.0.1:11434 (version 0.32.15)\""
        ),
        "{}",
        lines[2]
    );
    // 16 GB: 2/3 is 10.7 GiB of working set, below the 23 GiB tier.
    assert!(
        lines[3].ends_with(
            "source=routes.go:2058 msg=\"vram-based default context\" total_vram=\"10.7 GiB\" default_num_ctx=4096"
        ),
        "{}",
        lines[3]
    );
}

/// A restart (new pid) logs again; requests and a second look do not (reference 4: every
/// change needs a restart).
#[test]
fn restart_is_logged_once_per_pid() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    call(&machine, "GET", "/api/tags", None);
    assert!(effective_env(&machine).is_some());
    assert_eq!(log(&machine).matches("msg=\"server config\"").count(), 1);
    ok(
        &machine,
        &[
            "launchctl",
            "kickstart",
            "-k",
            "gui/501/homebrew.mxcl.ollama",
        ],
    );
    call(&machine, "GET", "/api/tags", None);
    assert_eq!(log(&machine).matches("msg=\"server config\"").count(), 2);
    crate::launchctl::reboot(&machine).unwrap();
    assert_eq!(log(&machine).matches("msg=\"server config\"").count(), 3);
}

/// Edits `EnvironmentVariables` of a LaunchAgent plist, as a person with an editor would.
fn set_plist_env(machine: &Machine, mac_path: &str, pairs: &[(&str, &str)]) {
    let path = machine.host_path(mac_path).unwrap();
    let mut value = plist::Value::from_file(&path).unwrap();
    let env = value
        .as_dictionary_mut()
        .unwrap()
        .get_mut("EnvironmentVariables")
        .unwrap()
        .as_dictionary_mut()
        .unwrap();
    for (key, v) in pairs {
        env.insert(key.to_string(), plist::Value::String(v.to_string()));
    }
    value.to_file_xml(&path).unwrap();
}

/// envconfig quirks through a real restart: `OLLAMA_FLASH_ATTENTION=off` is true
/// (`TestBool`), `OLLAMA_KEEP_ALIVE=1d` is the default 5m0s and `3600` is 1h0m0s
/// (`TestKeepAlive`), `OLLAMA_NUM_PARALLEL=-1` warns and is 1 (`TestUint`).
#[test]
fn env_parsing_quirks_reach_the_log() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let plist = "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist";
    ok(
        &machine,
        &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
    );
    set_plist_env(
        &machine,
        plist,
        &[
            ("OLLAMA_FLASH_ATTENTION", "off"),
            ("OLLAMA_KEEP_ALIVE", "1d"),
            ("OLLAMA_NUM_PARALLEL", "-1"),
        ],
    );
    ok(&machine, &["launchctl", "bootstrap", "gui/501", plist]);
    let env = effective_env(&machine).unwrap();
    assert_eq!(env["OLLAMA_FLASH_ATTENTION"], "true");
    assert_eq!(env["OLLAMA_KEEP_ALIVE"], "5m0s");
    assert_eq!(env["OLLAMA_NUM_PARALLEL"], "1");
    let text = log(&machine);
    assert!(
        text.contains(
            "level=WARN source=config.go:263 msg=\"invalid environment variable, using default\" key=OLLAMA_NUM_PARALLEL value=-1 default=1"
        ),
        "{text}"
    );
    ok(
        &machine,
        &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
    );
    set_plist_env(&machine, plist, &[("OLLAMA_KEEP_ALIVE", "3600")]);
    ok(&machine, &["launchctl", "bootstrap", "gui/501", plist]);
    assert_eq!(
        effective_env(&machine).unwrap()["OLLAMA_KEEP_ALIVE"],
        "1h0m0s"
    );
}

/// `Serve` creates `$OLLAMA_MODELS/blobs` (`manifest.BlobsPath("")`); where the user may not
/// write, the server exits with `Error: mkdir …: permission denied` and never answers.
#[test]
fn unwritable_models_dir_stops_the_server() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    ok(
        &machine,
        &["launchctl", "setenv", "OLLAMA_MODELS", "/Library/ollama"],
    );
    ok(
        &machine,
        &[
            "launchctl",
            "kickstart",
            "-k",
            "gui/501/homebrew.mxcl.ollama",
        ],
    );
    assert!(!is_serving(&machine));
    assert!(
        log(&machine).ends_with("Error: mkdir /Library/ollama: permission denied\n"),
        "{}",
        log(&machine)
    );
}

/// A second `ollama serve` on the same address fails to listen (`cmd/cmd.go RunServer`:
/// `net.Listen` before `Serve`); the first keeps answering.
#[test]
fn second_server_on_the_port_fails_to_bind() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let path = "/Users/admin/Library/LaunchAgents/com.example.ollama.plist";
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>\
               <key>Label</key><string>com.example.ollama</string><key>ProgramArguments</key>\
               <array><string>/opt/homebrew/bin/ollama</string><string>serve</string></array>\
               <key>EnvironmentVariables</key><dict><key>OLLAMA_NUM_PARALLEL</key><string>4</string></dict>\
               <key>StandardErrorPath</key><string>/Users/admin/Library/Logs/ollama.log</string>\
               <key>KeepAlive</key><true/><key>RunAtLoad</key><true/></dict></plist>\n";
    std::fs::write(machine.host_path(path).unwrap(), xml).unwrap();
    ok(&machine, &["launchctl", "bootstrap", "gui/501", path]);
    let second =
        std::fs::read_to_string(machine.dir.join("Users/admin/Library/Logs/ollama.log")).unwrap();
    assert_eq!(
        second,
        "Error: listen tcp 127.0.0.1:11434: bind: address already in use\n"
    );
    assert_eq!(effective_env(&machine).unwrap()["OLLAMA_NUM_PARALLEL"], "1");
    // `brew services stop ollama`: launchd respawns the KeepAlive job, which now binds.
    ok(
        &machine,
        &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
    );
    assert_eq!(effective_env(&machine).unwrap()["OLLAMA_NUM_PARALLEL"], "4");
}

// ---------------------------------------------------------------------------------------
// Errors, byte for byte.

/// Fixtures `error-missing-body-400.json`, `error-model-required-400.json`,
/// `error-invalid-model-name-400.json`, `error-show-not-found-404.json`,
/// `error-delete-not-found-404.json`, `error-copy-not-found-404.json`,
/// `error-generate-model-empty-404.json`, `error-create-neither-from-nor-files-400.json`.
#[test]
fn error_bodies_match_the_fixtures() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let json = "application/json; charset=utf-8";
    let cases: Vec<(HttpResponse, u16, &str, &str)> = vec![
        (
            call(&machine, "POST", "/api/show", None),
            400,
            json,
            r#"{"error":"missing request body"}"#,
        ),
        (
            post(&machine, "/api/show", json!({})),
            400,
            json,
            r#"{"error":"model is required"}"#,
        ),
        (
            post(&machine, "/api/show", json!({"model": "bad name"})),
            400,
            json,
            r#"{"error":"invalid model name"}"#,
        ),
        (
            post(
                &machine,
                "/api/create",
                json!({"model": "bad name", "from": "llama3.2"}),
            ),
            400,
            json,
            r#"{"error":"invalid model name"}"#,
        ),
        (
            post(&machine, "/api/show", json!({"model": "nonexistent"})),
            404,
            json,
            r#"{"error":"model 'nonexistent:latest' not found"}"#,
        ),
        (
            call(
                &machine,
                "DELETE",
                "/api/delete",
                Some(json!({"model": "nonexistent"})),
            ),
            404,
            json,
            r#"{"error":"model 'nonexistent' not found"}"#,
        ),
        (
            post(
                &machine,
                "/api/copy",
                json!({"source": "nonexistent", "destination": "x"}),
            ),
            404,
            json,
            r#"{"error":"model \"nonexistent\" not found"}"#,
        ),
        (
            post(&machine, "/api/generate", json!({"prompt": "hi"})),
            404,
            json,
            r#"{"error":"model '' not found"}"#,
        ),
        (
            post(&machine, "/api/generate", json!({"model": "nonexistent"})),
            404,
            json,
            r#"{"error":"model 'nonexistent' not found"}"#,
        ),
        // Before anything is streamed the status is set, with `application/json` from
        // `streamResponse` (no charset).
        (
            post(
                &machine,
                "/api/create",
                json!({"model": "x", "modelfile": "FROM llama3.2"}),
            ),
            400,
            "application/json",
            r#"{"error":"neither 'from' or 'files' was specified"}"#,
        ),
        (
            post(&machine, "/api/pull", json!({"model": "bad name"})),
            400,
            json,
            r#"{"error":"invalid model name"}"#,
        ),
        (
            call(
                &machine,
                "DELETE",
                "/api/delete",
                Some(json!({"model": "bad name"})),
            ),
            400,
            json,
            r#"{"error":"name \"bad name\" is invalid"}"#,
        ),
    ];
    for (response, status, content_type, body) in cases {
        assert_eq!(triple(&response), (status, content_type, body));
    }
    // When the fixtures are at hand, the bodies are theirs byte for byte.
    let dir = std::path::Path::new("/work/shared/reference/fixtures/ollama");
    for (file, response) in [
        (
            "error-show-not-found-404.json",
            post(&machine, "/api/show", json!({"model": "nonexistent"})),
        ),
        (
            "error-delete-not-found-404.json",
            call(
                &machine,
                "DELETE",
                "/api/delete",
                Some(json!({"model": "nonexistent"})),
            ),
        ),
        (
            "error-copy-not-found-404.json",
            post(
                &machine,
                "/api/copy",
                json!({"source": "nonexistent", "destination": "x"}),
            ),
        ),
        (
            "error-generate-model-empty-404.json",
            post(&machine, "/api/generate", json!({})),
        ),
        (
            "error-missing-body-400.json",
            call(&machine, "POST", "/api/pull", None),
        ),
        (
            "error-model-required-400.json",
            post(&machine, "/api/show", json!({"model": ""})),
        ),
        (
            "error-create-neither-from-nor-files-400.json",
            post(&machine, "/api/create", json!({"model": "x"})),
        ),
    ] {
        if let Ok(expected) = std::fs::read_to_string(dir.join(file)) {
            assert_eq!(response.body, expected.trim_end(), "{file}");
        }
    }
}

/// gin's `HandleMethodNotAllowed` (test "Method Not Allowed": `GET /api/show` → 405) and
/// `NoRoute`; there is no `/metrics` (reference 1.10).
#[test]
fn wrong_method_and_unknown_path() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    assert_eq!(
        triple(&call(&machine, "GET", "/api/show", None)),
        (405, "text/plain", "405 method not allowed")
    );
    for path in ["/metrics", "/api/nope", "/api/tags/x"] {
        assert_eq!(
            triple(&call(&machine, "GET", path, None)),
            (404, "text/plain", "404 page not found")
        );
    }
}

/// `routes_test.go` "Version Handler": exactly `{"version":"…"}`; `/api/status` reports the
/// cloud switch (`OLLAMA_NO_CLOUD`).
#[test]
fn version_and_status() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    assert_eq!(
        triple(&call(&machine, "GET", "/api/version", None)),
        (
            200,
            "application/json; charset=utf-8",
            r#"{"version":"0.32.15"}"#
        )
    );
    assert_eq!(call(&machine, "HEAD", "/api/version", None).body, "");
    assert_eq!(
        call(&machine, "GET", "/api/status", None).body,
        r#"{"cloud":{"disabled":false,"source":"none"}}"#
    );
}

// ---------------------------------------------------------------------------------------
// Listing, names, show.

/// Fixture `tags-response.json` shape; `{"models":[]}` when empty ("Tags Handler (no
/// tags)"); newest first (`sortListModelResponses`).
#[test]
fn tags_lists_the_store_newest_first() {
    let (_dir, machine) = mac("m4pro-48gb-sequoia");
    let tags = json_of(&call(&machine, "GET", "/api/tags", None));
    let models = tags["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    let llama = models.iter().find(|m| m["name"] == "llama3.2:3b").unwrap();
    assert_eq!(llama["model"], "llama3.2:3b");
    assert_eq!(llama["details"]["family"], "llama");
    assert_eq!(llama["details"]["families"], json!(["llama"]));
    assert_eq!(llama["details"]["parameter_size"], "3.2B");
    assert_eq!(llama["details"]["quantization_level"], "Q4_K_M");
    assert_eq!(llama["details"]["parent_model"], "");
    assert_eq!(llama["details"]["context_length"], 131072);
    assert_eq!(llama["capabilities"], json!(["completion", "tools"]));
    assert!(llama["size"].as_i64().unwrap() > 2_019_377_376);
    assert_eq!(llama["digest"].as_str().unwrap().len(), 64);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    post(
        &machine,
        "/api/pull",
        json!({"model": "phi3", "stream": false}),
    );
    let tags = json_of(&call(&machine, "GET", "/api/tags", None));
    assert_eq!(tags["models"][0]["name"], "phi3:latest");
    for name in ["phi3", "llama3.2:3b", "qwen2.5:14b"] {
        let r = call(
            &machine,
            "DELETE",
            "/api/delete",
            Some(json!({"model": name})),
        );
        assert_eq!(triple(&r), (200, "", ""));
    }
    assert_eq!(
        call(&machine, "GET", "/api/tags", None).body,
        r#"{"models":[]}"#
    );
}

/// `types/model/name.go`: `:latest` added, lookups case-insensitive per part
/// (`getExistingName`), responses in `DisplayShortest`.
#[test]
fn names_are_normalised() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    post(
        &machine,
        "/api/pull",
        json!({"model": "llama3.2", "stream": false}),
    );
    let show = post(&machine, "/api/show", json!({"model": "LLAMA3.2"}));
    assert_eq!(show.status, 200);
    assert!(
        json_of(&show)["modelfile"]
            .as_str()
            .unwrap()
            .contains("# FROM llama3.2:latest\n")
    );
    let show = post(
        &machine,
        "/api/show",
        json!({"name": "registry.ollama.ai/library/llama3.2:3B"}),
    );
    assert_eq!(show.status, 200);
    let names: Vec<String> = json_of(&call(&machine, "GET", "/api/tags", None))["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"llama3.2:latest".to_string()), "{names:?}");
}

/// `GetModelInfo`: `%-30s %#v` lines in random key order, numbers as Go float64 `%v`
/// (`1e+06`, issue #6763), strings Go-quoted, lists one line per element (reference 2.3).
#[test]
fn show_parameters_render_like_go() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let created = post(
        &machine,
        "/api/create",
        json!({
            "model": "big",
            "from": "llama3.2:3b",
            "parameters": {"num_predict": 1000000, "num_ctx": 8192, "temperature": 0.7,
                           "seed": 42, "use_mmap": false, "repeat_last_n": 1048576},
            "stream": false
        }),
    );
    assert_eq!(
        triple(&created),
        (200, "application/json", r#"{"status":"success"}"#)
    );
    let mut orders = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let show = json_of(&post(&machine, "/api/show", json!({"model": "big"})));
        let text = show["parameters"].as_str().unwrap().to_string();
        let mut lines: Vec<&str> = text.split('\n').collect();
        orders.insert(lines.join("|"));
        lines.sort();
        assert_eq!(
            lines,
            vec![
                "num_ctx                        8192",
                "num_predict                    1e+06",
                "repeat_last_n                  1.048576e+06",
                "seed                           42",
                "stop                           \"<|end_header_id|>\"",
                "stop                           \"<|eot_id|>\"",
                "stop                           \"<|start_header_id|>\"",
                "temperature                    0.7",
                "use_mmap                       false",
            ]
        );
    }
    assert!(orders.len() > 1, "key order is shuffled like a Go map");
}

/// Fixture `show-response-custom-model.json` (constructed, current rules): field set, the
/// modelfile header and `FROM <blob>`, quoting, `details.parent_model`, `model_info` keys,
/// capabilities.
#[test]
fn show_of_a_created_model() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    assert_eq!(create_mario(&machine).status, 200);
    let response = post(&machine, "/api/show", json!({"model": "mario"}));
    assert_eq!(response.content_type, "application/json; charset=utf-8");
    let show = json_of(&response);
    let keys: Vec<&str> = show
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "license",
        "modelfile",
        "parameters",
        "template",
        "system",
        "details",
        "messages",
        "model_info",
        "tensors",
        "capabilities",
        "modified_at",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert!(
        response
            .body
            .starts_with("{\"license\":\"LLAMA 3.2 COMMUNITY LICENSE AGREEMENT")
    );
    assert!(
        response.body.contains("\\u003c|eot_id|\\u003e"),
        "Go escapes HTML"
    );
    assert_eq!(show["system"], "You are Mario from Super Mario Bros.");
    assert_eq!(
        show["details"],
        json!({"parent_model": "llama3.2:latest", "format": "gguf", "family": "llama",
               "families": ["llama"], "parameter_size": "3.2B", "quantization_level": "Q4_K_M"})
    );
    assert_eq!(show["capabilities"], json!(["completion", "tools"]));
    assert_eq!(
        show["messages"],
        json!([{"role": "user", "content": "Who are you?"},
               {"role": "assistant", "content": "It's-a me, Mario!"}])
    );
    assert!(show["license"].as_str().unwrap().ends_with("\nMIT"));
    let info = show["model_info"].as_object().unwrap();
    for (key, value) in [
        ("general.architecture", json!("llama")),
        ("general.parameter_count", json!(3212749888u64)),
        ("general.file_type", json!(15)),
        ("llama.block_count", json!(28)),
        ("llama.context_length", json!(131072)),
        ("llama.embedding_length", json!(3072)),
        ("llama.attention.head_count", json!(24)),
        ("llama.attention.head_count_kv", json!(8)),
    ] {
        assert_eq!(info[key], value, "{key}");
    }
    let modelfile = show["modelfile"].as_str().unwrap();
    assert!(modelfile.starts_with(
        "# Modelfile generated by \"ollama show\"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM mario:latest\n\nFROM /Users/admin/.ollama/models/blobs/sha256-"
    ), "{modelfile}");
    // The template holds `"`, so it is triple-quoted (`parser.quote`).
    assert!(modelfile.contains("\nTEMPLATE \"\"\"{{- if or .System .Tools }}"));
    assert!(modelfile.contains("\nSYSTEM You are Mario from Super Mario Bros.\n"));
    assert!(modelfile.contains("\nPARAMETER stop <|eot_id|>\n"));
    assert!(modelfile.contains("\nPARAMETER num_ctx 8192\n"));
    assert!(modelfile.contains("\nLICENSE MIT\n"));
    assert!(
        modelfile.ends_with("MESSAGE user Who are you?\nMESSAGE assistant It's-a me, Mario!\n")
    );
    // The FROM blob exists where it says.
    let blob = modelfile
        .lines()
        .nth(4)
        .unwrap()
        .trim_start_matches("FROM ");
    ok(&machine, &["test", "-f", blob]);
    // `system` overlays the answer only.
    let overlaid = json_of(&post(
        &machine,
        "/api/show",
        json!({"model": "mario", "system": "hi"}),
    ));
    assert_eq!(overlaid["system"], "hi");
}

// ---------------------------------------------------------------------------------------
// Create, pull, delete, copy.

/// `TestCreateMergeParameters` (server/routes_create_test.go): base
/// `{temperature:1, top_k:10, stop:[USER:,ASSISTANT:]}` + `{temperature:0.6, top_p:0.7}` →
/// `{stop:[USER:,ASSISTANT:], temperature:0.6, top_k:10, top_p:0.7}`; lists replace lists;
/// empty system/template keep the base's; messages replace; licences append (reference 2.5).
#[test]
fn create_inherits_and_merges() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let base = post(
        &machine,
        "/api/create",
        json!({"model": "base", "from": "llama3.2:3b", "system": "base system",
               "parameters": {"temperature": 1, "top_k": 10, "stop": ["USER:", "ASSISTANT:"]},
               "messages": [{"role": "USER", "content": "old"}], "license": "L1",
               "stream": false}),
    );
    assert_eq!(base.status, 200);
    let child = post(
        &machine,
        "/api/create",
        json!({"model": "child", "from": "base", "system": "",
               "parameters": {"temperature": 0.6, "top_p": 0.7},
               "messages": [{"role": "user", "content": "new"}], "license": ["L2"],
               "stream": false}),
    );
    assert_eq!(child.status, 200);
    let server = server::running(&machine).unwrap();
    let model = server.store.model(&names::Name::parse("child")).unwrap();
    let params_layer = model
        .manifest
        .layers
        .iter()
        .find(|l| l.media_type == registry::MEDIA_PARAMS)
        .unwrap();
    assert_eq!(
        String::from_utf8(server.store.read_blob(&params_layer.digest).unwrap()).unwrap(),
        "{\"stop\":[\"USER:\",\"ASSISTANT:\"],\"temperature\":0.6,\"top_k\":10,\"top_p\":0.7}\n"
    );
    assert_eq!(model.system, "base system");
    assert_eq!(
        model.messages,
        vec![("user".to_string(), "new".to_string())]
    );
    assert_eq!(model.licenses.len(), 4, "two of llama3.2, L1, L2");
    assert_eq!(model.licenses[3], "L2");
    assert_eq!(model.parent, "base:latest");
    let base_model = server.store.model(&names::Name::parse("base")).unwrap();
    assert_eq!(
        base_model.messages,
        vec![("user".to_string(), "old".to_string())]
    );
}

/// A created model's config blob is `model.ConfigV2` without `rootfs` (v0.32.7, commit
/// 5a173edb6; research note 1.9): `model_format` … `file_type`, the non-empty optional fields,
/// then `architecture`, `os`. A pulled library model keeps the `rootfs` it was pushed with.
#[test]
fn created_config_has_no_rootfs_since_v0_32_7() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let created = post(
        &machine,
        "/api/create",
        json!({"model": "cfg", "from": "llama3.2:3b", "parser": "qwen3", "stream": false}),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let server = server::running(&machine).unwrap();
    let config = |name: &str| {
        let manifest = server.store.manifest(&names::Name::parse(name)).unwrap();
        String::from_utf8(server.store.read_blob(&manifest.config.digest).unwrap()).unwrap()
    };
    assert_eq!(
        config("cfg"),
        "{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":[\"llama\"],\"model_type\":\"3.2B\",\"file_type\":\"Q4_K_M\",\"parser\":\"qwen3\",\"architecture\":\"amd64\",\"os\":\"linux\"}\n"
    );
    assert!(config("llama3.2:3b").contains("\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["));
}

/// Parameters are stored verbatim, wrong types included (`setParameters` only encodes); the
/// load then fails with fixture `error-option-type-500.json`.
#[test]
fn wrongly_typed_parameters_fail_at_load() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let created = post(
        &machine,
        "/api/create",
        json!({"model": "typo", "from": "llama3.2:3b",
               "parameters": {"num_ctx": "8192", "tfs_z": 1}, "stream": false}),
    );
    assert_eq!(created.status, 200);
    let show = json_of(&post(&machine, "/api/show", json!({"model": "typo"})));
    assert!(
        show["parameters"]
            .as_str()
            .unwrap()
            .contains("num_ctx                        \"8192\"")
    );
    let generated = post(
        &machine,
        "/api/generate",
        json!({"model": "typo", "prompt": "hi", "stream": false}),
    );
    assert_eq!(
        triple(&generated),
        (
            500,
            "application/json; charset=utf-8",
            r#"{"error":"option \"num_ctx\" must be of type integer"}"#
        )
    );
}

/// Fixture `create-response-stream-current.ndjson` shape: `using existing layer` per
/// inherited layer, `creating new layer` for new ones, `writing manifest`, `success`, as
/// `application/x-ndjson`; a second identical create reuses every blob.
#[test]
fn create_streams_layer_statuses() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let body = json!({"model": "mario", "from": "llama3.2:3b",
                      "system": "You are Mario from Super Mario Bros."});
    let response = post(&machine, "/api/create", body.clone());
    assert_eq!(response.content_type, "application/x-ndjson");
    let statuses = statuses(&response);
    let n = statuses.len();
    assert_eq!(&statuses[n - 2..], ["writing manifest", "success"]);
    let layers = &statuses[..n - 2];
    assert!(
        layers
            .iter()
            .all(|s| s.starts_with("using existing layer sha256:")
                || s.starts_with("creating new layer sha256:")),
        "{statuses:?}"
    );
    assert_eq!(
        layers
            .iter()
            .filter(|s| s.starts_with("creating new layer"))
            .count(),
        1,
        "only the system layer is new: {statuses:?}"
    );
    let again = self::statuses(&post(&machine, "/api/create", body));
    assert!(
        again[..again.len() - 2]
            .iter()
            .all(|s| s.starts_with("using existing layer")),
        "{again:?}"
    );
}

/// `from` that is not local is pulled first (`parseFromModel` → `PullModel`); an unknown
/// one ends the stream with `pull model manifest: file does not exist` (200, or 500 with
/// `stream:false`) and writes no manifest.
#[test]
fn create_pulls_a_missing_base() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let response = post(
        &machine,
        "/api/create",
        json!({"model": "g", "from": "gemma2", "system": "s"}),
    );
    let statuses = statuses(&response);
    assert_eq!(statuses[0], "pulling manifest");
    assert!(statuses.contains(&"verifying sha256 digest".to_string()));
    assert_eq!(statuses.last().unwrap(), "success");
    assert_eq!(
        json_of(&post(&machine, "/api/show", json!({"model": "g"})))["details"]["parent_model"],
        "gemma2:latest"
    );
    let missing = post(
        &machine,
        "/api/create",
        json!({"model": "h", "from": "nonexistent"}),
    );
    assert_eq!(missing.status, 200);
    assert_eq!(
        missing.body,
        "{\"status\":\"pulling manifest\"}\n{\"error\":\"pull model manifest: file does not exist\"}\n"
    );
    let missing = post(
        &machine,
        "/api/create",
        json!({"model": "h", "from": "nonexistent", "stream": false}),
    );
    assert_eq!(
        triple(&missing),
        (
            500,
            "application/json",
            r#"{"error":"pull model manifest: file does not exist"}"#
        )
    );
    assert_eq!(
        post(&machine, "/api/show", json!({"model": "h"})).status,
        404
    );
}

/// Fixture `pull-response-stream-current.ndjson`: `pulling manifest`, per layer
/// `pulling <digest[7:19]>` lines (first without `completed`, last with `completed ==
/// total`), `verifying sha256 digest`, `writing manifest`, `success`; fixture
/// `pull-response-nonstream.json` for `stream:false`.
#[test]
fn pull_stream_has_the_fixture_shape() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let response = post(&machine, "/api/pull", json!({"model": "llama3.1"}));
    assert_eq!(response.content_type, "application/x-ndjson");
    let lines = lines(&response);
    assert_eq!(lines[0], json!({"status": "pulling manifest"}));
    let first = &lines[1];
    let digest = first["digest"].as_str().unwrap();
    assert_eq!(first["status"], format!("pulling {}", &digest[7..19]));
    assert_eq!(first["total"], 4_920_734_016u64);
    assert!(first.get("completed").is_none());
    let for_model: Vec<&Value> = lines.iter().filter(|l| l["digest"] == digest).collect();
    assert!(for_model.len() >= 4, "a few progress ticks");
    let last = for_model.last().unwrap();
    assert_eq!(last["completed"], last["total"]);
    let n = lines.len();
    assert_eq!(
        lines[n - 3..].to_vec(),
        vec![
            json!({"status": "verifying sha256 digest"}),
            json!({"status": "writing manifest"}),
            json!({"status": "success"})
        ]
    );
    // Field order of each progress object (api.ProgressResponse).
    assert!(
        response
            .body
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("{\"status\":\"pulling ")
    );
    assert!(
        response
            .body
            .lines()
            .nth(1)
            .unwrap()
            .contains("\",\"digest\":\"sha256:")
    );
    // A second pull finds every blob: one line per layer with completed == total.
    let again = self::lines(&post(
        &machine,
        "/api/pull",
        json!({"model": "llama3.1:8b"}),
    ));
    let model_lines: Vec<&Value> = again.iter().filter(|l| l["digest"] == digest).collect();
    assert_eq!(model_lines.len(), 1);
    assert_eq!(model_lines[0]["completed"], model_lines[0]["total"]);
    assert_eq!(
        triple(&post(
            &machine,
            "/api/pull",
            json!({"model": "llama3.1", "stream": false})
        )),
        (200, "application/json", r#"{"status":"success"}"#)
    );
    // Unknown: in-stream error with 200, or 500.
    let unknown = post(&machine, "/api/pull", json!({"model": "nonexistent"}));
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (
            200,
            "{\"status\":\"pulling manifest\"}\n{\"error\":\"pull model manifest: file does not exist\"}\n"
        )
    );
    assert_eq!(
        triple(&post(
            &machine,
            "/api/pull",
            json!({"model": "nonexistent", "stream": false})
        )),
        (
            500,
            "application/json",
            r#"{"error":"pull model manifest: file does not exist"}"#
        )
    );
}

/// `DeleteHandler` removes the manifest and the blobs nothing else uses; `CopyHandler`
/// copies the manifest (same digest).
#[test]
fn delete_and_copy() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    create_mario(&machine);
    assert_eq!(
        triple(&post(
            &machine,
            "/api/copy",
            json!({"source": "mario", "destination": "luigi"})
        )),
        (200, "", "")
    );
    let tags = json_of(&call(&machine, "GET", "/api/tags", None));
    let digest_of = |name: &str| {
        tags["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["digest"]
            .clone()
    };
    assert_eq!(digest_of("mario:latest"), digest_of("luigi:latest"));
    let server = server::running(&machine).unwrap();
    let system_digest = server
        .store
        .manifest(&names::Name::parse("mario"))
        .unwrap()
        .layers
        .iter()
        .find(|l| l.media_type == registry::MEDIA_SYSTEM)
        .unwrap()
        .digest
        .clone();
    call(
        &machine,
        "DELETE",
        "/api/delete",
        Some(json!({"model": "mario"})),
    );
    assert!(server.store.has_blob(&system_digest), "luigi still uses it");
    call(
        &machine,
        "DELETE",
        "/api/delete",
        Some(json!({"model": "luigi"})),
    );
    assert!(!server.store.has_blob(&system_digest));
    assert!(
        machine
            .dir
            .join("Users/admin/.ollama/models/manifests/registry.ollama.ai/library/llama3.2/3b")
            .is_file()
    );
    assert!(
        !machine
            .dir
            .join("Users/admin/.ollama/models/manifests/registry.ollama.ai/library/mario")
            .exists()
    );
}

/// `OLLAMA_MODELS` decides where the store lives; symlinks are followed
/// (`models -> models.noindex`).
#[test]
fn store_follows_ollama_models_and_symlinks() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    ok(
        &machine,
        &[
            "mv",
            "/Users/admin/.ollama/models",
            "/Users/admin/.ollama/models.noindex",
        ],
    );
    ok(
        &machine,
        &[
            "ln",
            "-s",
            "/Users/admin/.ollama/models.noindex",
            "/Users/admin/.ollama/models",
        ],
    );
    let tags = json_of(&call(&machine, "GET", "/api/tags", None));
    assert_eq!(tags["models"][0]["name"], "llama3.2:3b");
    ok(
        &machine,
        &[
            "launchctl",
            "setenv",
            "OLLAMA_MODELS",
            "/Users/Shared/models",
        ],
    );
    ok(
        &machine,
        &[
            "launchctl",
            "kickstart",
            "-k",
            "gui/501/homebrew.mxcl.ollama",
        ],
    );
    ok(&machine, &["test", "-d", "/Users/Shared/models/blobs"]);
    assert_eq!(
        call(&machine, "GET", "/api/tags", None).body,
        r#"{"models":[]}"#
    );
    post(
        &machine,
        "/api/pull",
        json!({"model": "phi3:mini", "stream": false}),
    );
    ok(
        &machine,
        &[
            "test",
            "-f",
            "/Users/Shared/models/manifests/registry.ollama.ai/library/phi3/mini",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Running models.

/// Fixture `generate-response-nonstream.json` fields (plus `done_reason`), durations in ns,
/// tokens/s ≈ bandwidth / weights × 0.6; a warm second call loads faster.
#[test]
fn generate_reports_metrics() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let body = json!({"model": "llama3.2:3b", "prompt": "Why is the sky blue?", "stream": false});
    let response = post(&machine, "/api/generate", body.clone());
    assert_eq!(response.content_type, "application/json; charset=utf-8");
    assert!(
        response
            .body
            .starts_with("{\"model\":\"llama3.2:3b\",\"created_at\":\"")
    );
    let first = json_of(&response);
    for key in [
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ] {
        assert!(first[key].as_i64().unwrap() > 0, "{key}: {first}");
    }
    assert_eq!(first["done"], true);
    assert_eq!(first["done_reason"], "stop");
    assert!(!first["response"].as_str().unwrap().is_empty());
    let tps =
        first["eval_count"].as_f64().unwrap() / first["eval_duration"].as_f64().unwrap() * 1e9;
    let expected = 100e9 * 0.6 / 2_019_377_376.0;
    assert!(
        (tps - expected).abs() / expected < 0.01,
        "{tps} vs {expected}"
    );
    let second = json_of(&post(&machine, "/api/generate", body));
    assert_eq!(second["eval_count"], first["eval_count"], "deterministic");
    assert!(second["load_duration"].as_i64() < first["load_duration"].as_i64());
    // num_predict caps the answer: done_reason length.
    let capped = json_of(&post(
        &machine,
        "/api/generate",
        json!({"model": "llama3.2:3b", "prompt": "x", "stream": false,
               "options": {"num_predict": 3}}),
    ));
    assert_eq!(
        (
            capped["eval_count"].as_i64(),
            capped["done_reason"].as_str()
        ),
        (Some(3), Some("length"))
    );
}

/// Fixture `generate-response-stream-final.json`: token lines with `done:false`, a final
/// line with `done:true` and the metrics.
#[test]
fn generate_streams_tokens() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let response = post(
        &machine,
        "/api/generate",
        json!({"model": "llama3.2:3b", "prompt": "hi"}),
    );
    assert_eq!(response.content_type, "application/x-ndjson");
    let lines = lines(&response);
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["response"], "");
    assert_eq!(lines.len() as i64 - 1, last["eval_count"].as_i64().unwrap());
    assert!(lines[..lines.len() - 1].iter().all(|l| l["done"] == false));
}

/// Empty prompt loads (`done_reason:"load"`), plus `keep_alive:0` unloads
/// (`generate-response-unload.json`); `/api/ps` shows what is loaded with its context
/// (`ps-response-openapi.json` shape).
#[test]
fn load_ps_and_unload() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    assert_eq!(
        call(&machine, "GET", "/api/ps", None).body,
        r#"{"models":[]}"#
    );
    let load = json_of(&post(
        &machine,
        "/api/generate",
        json!({"model": "llama3.2:3b"}),
    ));
    assert_eq!(load["done_reason"], "load");
    assert_eq!(load.as_object().unwrap().len(), 5, "{load}");
    let ps = json_of(&call(&machine, "GET", "/api/ps", None));
    let model = &ps["models"][0];
    assert_eq!(model["name"], "llama3.2:3b");
    assert_eq!(model["context_length"], 4096);
    assert_eq!(model["details"]["parent_model"], "");
    assert!(model["size"].as_i64().unwrap() > 2_019_377_376);
    assert_eq!(model["size"], model["size_vram"]);
    // num_ctx above the trained context is clamped; q8_0 with flash attention halves KV.
    let unload = json_of(&post(
        &machine,
        "/api/generate",
        json!({"model": "llama3.2:3b", "keep_alive": 0}),
    ));
    assert_eq!(unload["done_reason"], "unload");
    assert_eq!(
        call(&machine, "GET", "/api/ps", None).body,
        r#"{"models":[]}"#
    );
    // A restart forgets loaded models.
    post(
        &machine,
        "/api/generate",
        json!({"model": "llama3.2:3b", "keep_alive": "1h"}),
    );
    assert_eq!(
        json_of(&call(&machine, "GET", "/api/ps", None))["models"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ok(
        &machine,
        &[
            "launchctl",
            "kickstart",
            "-k",
            "gui/501/homebrew.mxcl.ollama",
        ],
    );
    assert_eq!(
        call(&machine, "GET", "/api/ps", None).body,
        r#"{"models":[]}"#
    );
    // keep_alive strings need a unit (`api.Duration.UnmarshalJSON`).
    assert_eq!(
        post(
            &machine,
            "/api/generate",
            json!({"model": "llama3.2:3b", "keep_alive": "3600"})
        )
        .body,
        r#"{"error":"time: missing unit in duration \"3600\""}"#
    );
}

/// The context a load gets: `num_ctx` from the request or the model, else
/// `OLLAMA_CONTEXT_LENGTH`, else the VRAM tier; clamped to the trained context.
#[test]
fn context_length_follows_options_and_env() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let ctx = |machine: &Machine| {
        json_of(&call(machine, "GET", "/api/ps", None))["models"][0]["context_length"].clone()
    };
    post(
        &machine,
        "/api/generate",
        json!({"model": "llama3.2:3b", "options": {"num_ctx": 1000000}}),
    );
    assert_eq!(ctx(&machine), 131072);
    ok(
        &machine,
        &["launchctl", "setenv", "OLLAMA_CONTEXT_LENGTH", "16384"],
    );
    ok(
        &machine,
        &[
            "launchctl",
            "kickstart",
            "-k",
            "gui/501/homebrew.mxcl.ollama",
        ],
    );
    post(&machine, "/api/generate", json!({"model": "llama3.2:3b"}));
    assert_eq!(ctx(&machine), 16384);
}

// ---------------------------------------------------------------------------------------
// Real HTTP.

fn http(port: u16, raw: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out
}

/// `serve` answers a real `TcpStream` on 127.0.0.1:0: plain responses with
/// `Content-Length`, NDJSON streams chunked; a stopped server closes connections at once.
#[test]
fn http_server_answers_over_tcp() {
    let (dir, machine) = mac("m2-16gb-sonoma");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let path = dir.path().to_path_buf();
    std::thread::spawn(move || serve(&path, listener));
    let reply = http(
        port,
        "GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("\r\nContent-Type: application/json; charset=utf-8\r\n"));
    assert!(reply.contains("\r\nContent-Length: 21\r\n"));
    assert!(
        reply.ends_with("\r\n\r\n{\"version\":\"0.32.15\"}"),
        "{reply}"
    );
    let body = r#"{"model":"nonexistent"}"#;
    let reply = http(
        port,
        &format!(
            "POST /api/pull HTTP/1.1\r\nHost: localhost:11434\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(
        reply.contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{reply}"
    );
    assert!(
        reply.contains("\r\n1e\r\n{\"status\":\"pulling manifest\"}\n\r\n"),
        "{reply}"
    );
    assert!(reply.ends_with("\r\n0\r\n\r\n"), "{reply}");
    let reply = http(
        port,
        "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(
        reply.contains("Content-Length: 17\r\n") && reply.ends_with("\r\n\r\n"),
        "{reply}"
    );
    let reply = http(
        port,
        "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{reply}");
    ok(
        &machine,
        &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
    );
    assert_eq!(http(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), "");
}

/// `CreateBlobHandler`/`HeadBlobHandler` and a create from `files` (fixture
/// `create-request-gguf-files.json` shape): relative paths only, blobs must exist, `parsing
/// GGUF` then the layers; no `from`/`files` means 400.
#[test]
fn blobs_and_create_from_files() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let content = "GGUF emulated weights";
    let digest = format!("sha256:{}", crate::ollama::sha256_hex(content.as_bytes()));
    let path = format!("/api/blobs/{digest}");
    assert_eq!(call(&machine, "HEAD", &path, None).status, 404);
    let request = HttpRequest {
        method: "POST".into(),
        path: path.clone(),
        body: Some(content.into()),
    };
    assert_eq!(handle(&machine, &request).unwrap().status, 201);
    assert_eq!(call(&machine, "HEAD", &path, None).status, 200);
    assert_eq!(
        call(&machine, "HEAD", "/api/blobs/sha256:xyz", None).status,
        400
    );
    let bad = post(
        &machine,
        "/api/create",
        json!({"model": "f", "files": {"../x.gguf": digest}}),
    );
    assert_eq!(bad.body, r#"{"error":"file path must be relative"}"#);
    let empty = post(&machine, "/api/create", json!({"model": "f", "files": {}}));
    assert_eq!(
        triple(&empty),
        (400, "application/json", r#"{"error":"unknown type"}"#)
    );
    let created = post(
        &machine,
        "/api/create",
        json!({"model": "f", "files": {"test.gguf": digest}}),
    );
    let statuses = statuses(&created);
    assert_eq!(statuses[0], "parsing GGUF");
    assert_eq!(statuses.last().unwrap(), "success");
    let show = json_of(&post(&machine, "/api/show", json!({"model": "f"})));
    assert_eq!(show["details"]["parent_model"], "");
    assert_eq!(show["template"], "{{ .Prompt }}");
}

// ---------------------------------------------------------------------------------------
// Chat, embeddings and push (ollama/ollama v0.32.15; research note issue10 section 1.10).

/// `created_at` is the clock's; the tests put a fixed text in its place.
fn fixed_time(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("\"created_at\":\"") {
        let start = i + "\"created_at\":\"".len();
        out.push_str(&rest[..start]);
        out.push('T');
        let end = rest[start..].find('"').unwrap();
        rest = &rest[start + end..];
    }
    out.push_str(rest);
    out
}

/// `ChatResponse` (api/types.go 520-564): field order `model`, `created_at`, `message`
/// (`role`, `content`), `done`, `done_reason`, metrics; `stream:false` is the last chunk with
/// the whole content (`writeChatResponse`), streams are NDJSON chunks then the last one.
#[test]
fn chat_answers_like_the_native_runner() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let body = json!({"model": "llama3.2:3b", "stream": false,
                      "messages": [{"role": "user", "content": "Why is the sky blue?"}],
                      "options": {"num_predict": 4}});
    let response = post(&machine, "/api/chat", body.clone());
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.content_type, "application/json; charset=utf-8");
    let v = json_of(&response);
    assert_eq!(
        fixed_time(&response.body),
        format!(
            "{{\"model\":\"llama3.2:3b\",\"created_at\":\"T\",\"message\":{{\"role\":\"assistant\",\"content\":\"This is an emulated\"}},\"done\":true,\"done_reason\":\"length\",\"total_duration\":{},\"load_duration\":{},\"prompt_eval_count\":{},\"prompt_eval_duration\":{},\"eval_count\":4,\"eval_duration\":{}}}",
            v["total_duration"],
            v["load_duration"],
            v["prompt_eval_count"],
            v["prompt_eval_duration"],
            v["eval_duration"]
        )
    );
    for key in [
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_duration",
    ] {
        assert!(v[key].as_i64().unwrap() > 0, "{key}");
    }
    // Streaming (the default): a chunk per word, then the last chunk with the metrics.
    let streamed = post(
        &machine,
        "/api/chat",
        json!({"model": "llama3.2:3b", "options": {"num_predict": 2},
               "messages": [{"role": "user", "content": "Why is the sky blue?"}]}),
    );
    assert_eq!(streamed.content_type, "application/x-ndjson");
    let text = fixed_time(&streamed.body);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":"This"},"done":false}"#
    );
    assert_eq!(
        lines[1],
        r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":" is"},"done":false}"#
    );
    assert!(lines[2].starts_with(r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","total_duration":"#), "{}", lines[2]);
    // Deterministic: the same request, the same words.
    let again = json_of(&post(&machine, "/api/chat", body));
    assert_eq!(again["message"], v["message"]);
}

/// Load and unload without messages (routes.go 2506-2516, 2643-2652), and the error texts:
/// routes_generate_test.go 857 (`"test" does not support thinking`), 911 (`"bert" does not
/// support chat`), `model '<as sent>' not found`, `model is required`, `CheckCapabilities`.
#[test]
fn chat_load_unload_and_errors() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let load = post(
        &machine,
        "/api/chat",
        json!({"model": "llama3.2:3b", "messages": []}),
    );
    assert_eq!(
        fixed_time(&load.body),
        r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}"#
    );
    assert_eq!(
        json_of(&call(&machine, "GET", "/api/ps", None))["models"][0]["name"],
        "llama3.2:3b"
    );
    let unload = post(
        &machine,
        "/api/chat",
        json!({"model": "llama3.2:3b", "keep_alive": 0}),
    );
    assert_eq!(
        fixed_time(&unload.body),
        r#"{"model":"llama3.2:3b","created_at":"T","message":{"role":"assistant","content":""},"done":true,"done_reason":"unload"}"#
    );
    assert_eq!(
        call(&machine, "GET", "/api/ps", None).body,
        r#"{"models":[]}"#
    );
    let cases = [
        (
            json!({"messages": []}),
            400,
            r#"{"error":"model is required"}"#,
        ),
        (
            json!({"model": "nope"}),
            404,
            r#"{"error":"model 'nope' not found"}"#,
        ),
        (
            json!({"model": "a:b:c:d"}),
            400,
            r#"{"error":"invalid model name"}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "think": true, "messages": [{"role": "user", "content": "x"}]}),
            400,
            r#"{"error":"\"llama3.2:3b\" does not support thinking"}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "top_logprobs": 21}),
            400,
            r#"{"error":"top_logprobs must be between 0 and 20"}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "messages": "hi"}),
            400,
            r#"{"error":"json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message"}"#,
        ),
    ];
    for (body, status, text) in cases {
        let reply = post(&machine, "/api/chat", body.clone());
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, text),
            "{body}"
        );
    }
    // A template without `.Tools` gives no tools capability.
    post(
        &machine,
        "/api/create",
        json!({"model": "plain", "from": "llama3.2:3b", "template": "{{ .Prompt }}", "stream": false}),
    );
    let tools = post(
        &machine,
        "/api/chat",
        json!({"model": "plain", "messages": [{"role": "user", "content": "x"}],
               "tools": [{"type": "function", "function": {"name": "f"}}]}),
    );
    assert_eq!(
        (tools.status, tools.body.as_str()),
        (
            400,
            r#"{"error":"registry.ollama.ai/library/plain:latest does not support tools"}"#
        )
    );
    assert_eq!(call(&machine, "GET", "/api/chat", None).status, 405);
}

/// `EmbedHandler`: L2-normalised float32 vectors of the model's `embedding_length`, cut and
/// renormalised by `dimensions`; `[]`/`""` only loads; error texts as routes.go 795-1024 and
/// `handleScheduleError` write them.
#[test]
fn embed_returns_normalised_vectors() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let response = post(
        &machine,
        "/api/embed",
        json!({"model": "llama3.2:3b", "input": ["why is the sky blue?", "why is grass green?"]}),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.content_type, "application/json; charset=utf-8");
    let v = json_of(&response);
    let vectors = v["embeddings"].as_array().unwrap();
    assert_eq!(vectors.len(), 2);
    for vector in vectors {
        let vector = vector.as_array().unwrap();
        assert_eq!(vector.len(), 3072, "llama3.2:3b's llama.embedding_length");
        let norm: f64 = vector.iter().map(|x| x.as_f64().unwrap().powi(2)).sum();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }
    assert_ne!(vectors[0], vectors[1]);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert!(
        response
            .body
            .starts_with("{\"model\":\"llama3.2:3b\",\"embeddings\":[[")
    );
    assert!(response.body.contains("]],\"total_duration\":"), "{keys:?}");
    assert!(response.body.contains(",\"load_duration\":"));
    assert!(
        response
            .body
            .ends_with(&format!(",\"prompt_eval_count\":{}}}", 2 * (5 + 2)))
    );
    // The same text gives the same vector, the name in other case too; a string input is one
    // vector.
    let single = json_of(&post(
        &machine,
        "/api/embed",
        json!({"model": "LLAMA3.2:3B", "input": "why is the sky blue?"}),
    ));
    assert_eq!(single["embeddings"][0], vectors[0]);
    // `dimensions`: cut, normalised again.
    let cut = json_of(&post(
        &machine,
        "/api/embed",
        json!({"model": "llama3.2:3b", "input": "why is the sky blue?", "dimensions": 4}),
    ));
    let cut: Vec<f32> = cut["embeddings"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    let first4: Vec<f32> = vectors[0].as_array().unwrap()[..4]
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(cut, api::normalize(&first4));
    let cases = [
        (
            json!({"model": "llama3.2:3b", "input": []}),
            200,
            r#"{"model":"llama3.2:3b","embeddings":[]}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "input": ""}),
            200,
            r#"{"model":"llama3.2:3b","embeddings":[]}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "input": [1]}),
            400,
            r#"{"error":"invalid input type"}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "input": 1}),
            400,
            r#"{"error":"invalid input type"}"#,
        ),
        (
            json!({"input": "x"}),
            404,
            r#"{"error":"model '' not found"}"#,
        ),
        (
            json!({"model": "nope", "input": "x"}),
            404,
            r#"{"error":"model \"nope\" not found, try pulling it first"}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "input": "x".repeat(40_000), "truncate": false,
                   "options": {"num_ctx": 2048}}),
            400,
            r#"{"error":"the input length exceeds the context length"}"#,
        ),
    ];
    for (body, status, text) in cases {
        let reply = post(&machine, "/api/embed", body.clone());
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, text),
            "{body}"
        );
    }
}

/// `EmbeddingsHandler` (legacy): the runner's vector as float64, not normalised.
#[test]
fn legacy_embeddings_are_not_normalised() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let response = post(
        &machine,
        "/api/embeddings",
        json!({"model": "llama3.2:3b", "prompt": "why is the sky blue?"}),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.body.starts_with("{\"embedding\":["));
    let v = json_of(&response);
    let vector: Vec<f64> = v["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(vector.len(), 3072);
    let norm: f64 = vector.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!(norm > 2.0, "not normalised: {norm}");
    // The same direction as /api/embed's vector.
    let embed = json_of(&post(
        &machine,
        "/api/embed",
        json!({"model": "llama3.2:3b", "input": "why is the sky blue?"}),
    ));
    let unit = embed["embeddings"][0][0].as_f64().unwrap();
    assert!((vector[0] / norm - unit).abs() < 1e-5);
    let cases = [
        (
            json!({"model": "llama3.2:3b", "prompt": ""}),
            200,
            r#"{"embedding":[]}"#,
        ),
        (
            json!({"prompt": "x"}),
            400,
            r#"{"error":"model is required"}"#,
        ),
        (
            json!({"model": "nope", "prompt": "x"}),
            404,
            r#"{"error":"model \"nope\" not found, try pulling it first"}"#,
        ),
        (
            json!({"model": "llama3.2:3b", "prompt": 1}),
            400,
            r#"{"error":"json: cannot unmarshal number into Go struct field EmbeddingRequest.prompt of type string"}"#,
        ),
    ];
    for (body, status, text) in cases {
        let reply = post(&machine, "/api/embeddings", body.clone());
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, text),
            "{body}"
        );
    }
}

/// `PushModel` statuses (images.go 931-995, upload.go 319-405), not `docs/api.md`'s
/// `starting upload`; `stream:false` is the last object (`waitForStream`).
#[test]
fn push_streams_the_codes_statuses() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    post(
        &machine,
        "/api/copy",
        json!({"source": "llama3.2:3b", "destination": "jdoe/mine"}),
    );
    post(
        &machine,
        "/api/create",
        json!({"model": "jdoe/tuned", "from": "llama3.2:3b", "system": "Be brief.", "stream": false}),
    );
    let server = server::running(&machine).unwrap();
    let base = server
        .store
        .manifest(&names::Name::parse("llama3.2:3b"))
        .unwrap();
    let pushed = post(&machine, "/api/push", json!({"model": "jdoe/mine"}));
    assert_eq!(pushed.content_type, "application/x-ndjson");
    let mut expected = vec![r#"{"status":"retrieving manifest"}"#.to_string()];
    for layer in base.layers.iter().chain(std::iter::once(&base.config)) {
        expected.push(format!(
            r#"{{"status":"pushing {}","digest":"{}","total":{},"completed":{}}}"#,
            &layer.digest[7..19],
            layer.digest,
            layer.size,
            layer.size
        ));
    }
    expected.push(r#"{"status":"pushing manifest"}"#.into());
    expected.push(r#"{"status":"success"}"#.into());
    assert_eq!(pushed.body, expected.join("\n") + "\n");
    // New blobs (the system layer, the config) upload in ticks, `completed` omitted at 0.
    let tuned = post(&machine, "/api/push", json!({"name": "jdoe/tuned"}));
    let statuses = statuses(&tuned);
    assert_eq!(statuses.first().unwrap(), "retrieving manifest");
    assert_eq!(
        &statuses[statuses.len() - 2..],
        ["pushing manifest", "success"]
    );
    let manifest = server
        .store
        .manifest(&names::Name::parse("jdoe/tuned"))
        .unwrap();
    let config = &manifest.config;
    let short = &config.digest[7..19];
    assert!(tuned.body.contains(&format!(
        "{{\"status\":\"pushing {short}\",\"digest\":\"{}\",\"total\":{}}}\n{{\"status\":\"pushing {short}\",\"digest\":\"{}\",\"total\":{},\"completed\":{}}}\n",
        config.digest, config.size, config.digest, config.size, config.size
    )), "{}", tuned.body);
    let quiet = post(
        &machine,
        "/api/push",
        json!({"model": "jdoe/mine", "stream": false}),
    );
    assert_eq!(
        (
            quiet.status,
            quiet.content_type.as_str(),
            quiet.body.as_str()
        ),
        (200, "application/json", r#"{"status":"success"}"#)
    );
    let missing = post(&machine, "/api/push", json!({"model": "jdoe/gone"}));
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (
            200,
            "{\"status\":\"retrieving manifest\"}\n{\"status\":\"couldn't retrieve manifest\"}\n{\"error\":\"open /Users/admin/.ollama/models/manifests/registry.ollama.ai/jdoe/gone/latest: no such file or directory\"}\n"
        )
    );
    let library = post(
        &machine,
        "/api/push",
        json!({"model": "llama3.2:3b", "stream": false}),
    );
    assert_eq!(
        (library.status, library.body.as_str()),
        (500, r#"{"error":"unauthorized: access denied"}"#)
    );
    let required = post(&machine, "/api/push", json!({}));
    assert_eq!(
        (required.status, required.body.as_str()),
        (400, r#"{"error":"model is required"}"#)
    );
}

// ---------------------------------------------------------------------------------------
// Which template `/api/show` returns (`selectedModelTemplate`; research note 2.3).

/// `TestShowTemplateUsesSelectedRuntimeTemplate` (ollama/ollama v0.32.15
/// `server/routes_test.go` 807-833): a GGUF whose `tokenizer.chat_template` has tools and
/// thinking, a TEMPLATE with thinking only, `OLLAMA_GO_TEMPLATE` unset → `template` is the
/// chat template.
#[test]
fn show_template_uses_the_selected_runtime_template() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let chat_template =
        "{% if tools %}{{ tools }}{% endif %}{% set content = (content.split('</think>')|last) %}";
    let go_template = "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}{{ end }}";
    let gguf = json!({"kv": {"general.architecture": "llama",
                             "tokenizer.chat_template": chat_template}})
    .to_string();
    let digest = format!("sha256:{}", crate::ollama::sha256_hex(gguf.as_bytes()));
    let request = HttpRequest {
        method: "POST".into(),
        path: format!("/api/blobs/{digest}"),
        body: Some(gguf),
    };
    assert_eq!(handle(&machine, &request).unwrap().status, 201);
    let created = post(
        &machine,
        "/api/create",
        json!({"model": "show-template", "files": {"model.gguf": digest},
               "template": go_template, "stream": false}),
    );
    assert_eq!(created.body, r#"{"status":"success"}"#);
    let show = json_of(&post(
        &machine,
        "/api/show",
        json!({"model": "show-template"}),
    ));
    assert_eq!(show["template"], chat_template);
    assert_eq!(
        show["capabilities"],
        json!(["tools", "thinking", "completion"])
    );
    // The Modelfile keeps the TEMPLATE layer; `model_info` never shows the chat template.
    assert!(
        show["modelfile"]
            .as_str()
            .unwrap()
            .contains(&format!("TEMPLATE {go_template}\n"))
    );
    assert!(show["model_info"].get("tokenizer.chat_template").is_none());
}

/// A custom `template:` on llama3.1 (whose GGUF template has tools and a tool round trip)
/// without `.Tools` is replaced by the GGUF's Jinja template in `/api/show`; the library's
/// own TEMPLATE, which has the round trip too, is kept; gemma2 (no tools either way) keeps
/// its TEMPLATE. `OLLAMA_GO_TEMPLATE=1` keeps every TEMPLATE, `=0` (set, false) shows the
/// Jinja template of every model that has one (`shouldUseGoTemplate`, `goTemplateEnvSet`).
#[test]
fn a_custom_template_is_replaced_where_the_real_server_replaces_it() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    for model in ["llama3.1:8b", "gemma2:9b"] {
        let pulled = post(
            &machine,
            "/api/pull",
            json!({"model": model, "stream": false}),
        );
        assert_eq!(pulled.body, r#"{"status":"success"}"#);
    }
    let custom = "{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n";
    for (name, from) in [("custom", "llama3.1:8b"), ("custom-gemma", "gemma2:9b")] {
        let created = post(
            &machine,
            "/api/create",
            json!({"model": name, "from": from, "template": custom, "stream": false}),
        );
        assert_eq!(created.body, r#"{"status":"success"}"#);
    }
    let base = registry::find(&names::Name::parse("llama3.1:8b")).unwrap();
    let gemma = registry::find(&names::Name::parse("gemma2:9b")).unwrap();
    let jinja = base.chat_template.unwrap();
    let show = |model: &str| json_of(&post(&machine, "/api/show", json!({"model": model})));
    let custom_show = show("custom");
    assert_eq!(custom_show["template"], jinja);
    assert_eq!(custom_show["capabilities"], json!(["tools", "completion"]));
    assert_eq!(show("llama3.1:8b")["template"], base.template);
    assert_eq!(
        show("llama3.1:8b")["capabilities"],
        json!(["completion", "tools"])
    );
    assert_eq!(show("custom-gemma")["template"], custom);
    assert_eq!(show("gemma2:9b")["template"], gemma.template);

    let plist = "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist";
    for (value, custom_template, base_template) in [
        ("1", custom, base.template),
        ("0", jinja, jinja),
        ("false", jinja, jinja),
        ("yes", custom, base.template),
    ] {
        ok(
            &machine,
            &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
        );
        set_plist_env(&machine, plist, &[("OLLAMA_GO_TEMPLATE", value)]);
        ok(&machine, &["launchctl", "bootstrap", "gui/501", plist]);
        assert_eq!(
            show("custom")["template"],
            custom_template,
            "OLLAMA_GO_TEMPLATE={value}"
        );
        assert_eq!(
            show("llama3.1:8b")["template"],
            base_template,
            "OLLAMA_GO_TEMPLATE={value}"
        );
    }
    // `yes` does not parse as a bool, which counts as true: every TEMPLATE is used.
    assert_eq!(show("custom-gemma")["template"], custom);
}

/// `OLLAMA_HOST` moves the listener (`envconfig.Host()`, `TestHost`): after a restart with
/// `127.0.0.1:11500` the server answers there and a connection to 11434 is refused, through
/// the in-process host and through `curl` (exit 7, `CURLE_COULDNT_CONNECT`) alike; a server
/// on `0.0.0.0` listens on `[::]`, which takes loopback connections on its port.
#[test]
fn ollama_host_moves_the_port_the_server_answers_on() {
    let (_dir, machine) = mac("m2-16gb-sonoma");
    let version = HttpRequest {
        method: "GET".into(),
        path: "/api/version".into(),
        body: None,
    };
    let answers = |address: &str| handle_at(&machine, address, &version).is_ok();
    assert!(answers("127.0.0.1:11434"));
    assert!(answers("localhost:11434"));
    assert!(!answers("127.0.0.1:11500"));
    let plist = "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist";
    for (value, yes, no) in [
        (
            "127.0.0.1:11500",
            &["127.0.0.1:11500", "localhost:11500"][..],
            &["127.0.0.1:11434", "[::1]:11500"][..],
        ),
        (
            "0.0.0.0:11600",
            &["127.0.0.1:11600", "[::1]:11600"][..],
            &["127.0.0.1:11434", "127.0.0.1:11500"][..],
        ),
    ] {
        ok(
            &machine,
            &["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"],
        );
        set_plist_env(&machine, plist, &[("OLLAMA_HOST", value)]);
        ok(&machine, &["launchctl", "bootstrap", "gui/501", plist]);
        for address in yes {
            assert!(answers(address), "OLLAMA_HOST={value}: {address}");
        }
        for address in no {
            let refused = handle_at(&machine, address, &version).unwrap_err();
            assert_eq!(refused.reason, "connection refused", "{value}: {address}");
        }
    }
    let curl = |url: &str| sh(&machine, &["curl", "-sS", "-w", "\\n%{http_code}", url]);
    let moved = curl("http://127.0.0.1:11600/api/version");
    assert_eq!(
        (moved.status, moved.stdout.as_str()),
        (0, "{\"version\":\"0.32.15\"}\n200")
    );
    let refused = curl("http://127.0.0.1:11434/api/version");
    assert_eq!(
        (refused.status, refused.stderr.as_str()),
        (
            7,
            "curl: (7) Failed to connect to 127.0.0.1 port 11434 after 0 ms: Couldn't connect to server\n"
        )
    );
}
