//! Ollama: server variables, pulls and custom models against the emulated Ollama (in-process
//! and over real HTTP on a loopback port).

use crate::harness::{BIN, Mac, run};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

const ENV_SPEC: &str =
    "macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 2\n    OLLAMA_KEEP_ALIVE: 10m\n";

const MODEL_SPEC: &str = "macllm: 1
ollama:
  pull: [llama3.1:8b]
  models:
    - name: terse-llama
      from: llama3.2:3b
      system: \"You are terse.\\nAnswer in one line, \\\"quoted\\\" if needed.\"
      parameters:
        num_ctx: 8192
        temperature: 0.7
        stop: [\"<|eot_id|>\", \"END\"]
";

fn getenv(mac: &Mac, name: &str) -> String {
    mac.sh(&["launchctl", "getenv", name]).expect(0).stdout
}

#[test]
fn server_variables_round_trip_with_one_verified_restart() {
    let mac = Mac::new();
    mac.spec(ENV_SPEC);
    let plan = mac.on(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout
            .contains("# ollama_env:OLLAMA_KEEP_ALIVE will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("After the changes: restart the Ollama server."),
        "{}",
        plan.stdout
    );
    let apply = mac.on(&["apply", "--yes"]).expect(0);
    assert_eq!(
        apply
            .stderr
            .matches("Restarting the Ollama server...")
            .count(),
        1,
        "one restart for two variables: {}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("it reports the new variables"),
        "{}",
        apply.stderr
    );
    assert_eq!(getenv(&mac, "OLLAMA_KEEP_ALIVE"), "10m\n");
    // Durable: a login agent repeats the setenv after a reboot.
    let agent = mac
        .sh(&[
            "cat",
            "/Users/admin/Library/LaunchAgents/com.macllm.ollama-env.OLLAMA_KEEP_ALIVE.plist",
        ])
        .expect(0);
    assert!(agent.stdout.contains("<string>/bin/launchctl</string>\n\t\t<string>setenv</string>\n\t\t<string>OLLAMA_KEEP_ALIVE</string>\n\t\t<string>10m</string>"), "{}", agent.stdout);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    mac.sh(&["launchctl", "unsetenv", "OLLAMA_NUM_PARALLEL"])
        .expect(0);
    let drift = mac.on(&["drift"]).expect(2);
    assert!(
        drift
            .stdout
            .contains("ollama_env:OLLAMA_NUM_PARALLEL has changed"),
        "{}",
        drift.stdout
    );

    let destroy = mac.on(&["destroy", "--yes"]).expect(0);
    assert!(
        destroy.stderr.contains("Restarting the Ollama server..."),
        "{}",
        destroy.stderr
    );
    assert_eq!(getenv(&mac, "OLLAMA_KEEP_ALIVE"), "");
    mac.sh(&[
        "test",
        "-e",
        "/Users/admin/Library/LaunchAgents/com.macllm.ollama-env.OLLAMA_KEEP_ALIVE.plist",
    ])
    .expect(1);
}

#[test]
fn invented_and_malformed_variables_are_refused() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_THREADS: 8\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("`OLLAMA_NUM_THREADS` is not a variable Ollama reads"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--> macllm.yaml:4:"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: use the Modelfile parameter `num_thread`"),
        "{}",
        run.stderr
    );
    let allowed = mac.on(&["plan", "--allow-unknown-env"]).expect(0);
    assert!(
        allowed
            .stderr
            .contains("warning: `OLLAMA_NUM_THREADS` is not a variable Ollama reads"),
        "{}",
        allowed.stderr
    );

    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_KEEP_ALIVE: 1d\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("OLLAMA_KEEP_ALIVE: `1d` is not a duration"),
        "{}",
        run.stderr
    );
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_FLASH_ATTENTION: off\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr.contains("Ollama would read it as true"),
        "{}",
        run.stderr
    );
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: x\n      from: llama3.2:3b\n      parameters: {num_ctx: \"8192\"}\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("`num_ctx` must be an integer, not a string"),
        "{}",
        run.stderr
    );
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: x\n      from: llama3.2:3b\n      parameters: {tfs_z: 1}\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("parameter `tfs_z` is removed in v0.5.2"),
        "{}",
        run.stderr
    );
}

#[test]
fn homebrews_own_variables_cannot_be_overridden_by_setenv() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_FLASH_ATTENTION: false\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr
            .contains("Homebrew's service sets OLLAMA_FLASH_ATTENTION=1 in its own plist"),
        "{}",
        run.stderr
    );
}

#[test]
fn pulls_and_custom_models_round_trip() {
    let mac = Mac::new();
    mac.spec(MODEL_SPEC);
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("# ollama_pull:llama3.1:8b will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("# ollama_model:terse-llama will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ PARAMETER num_ctx 8192"),
        "{}",
        plan.stdout
    );

    let apply = mac.on(&["apply", "--yes"]).expect(0);
    assert!(
        apply.stderr.contains("llama3.1:8b: pulling manifest"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("llama3.1:8b: success"),
        "{}",
        apply.stderr
    );
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    // A changed parameter is a diff of the normalised Modelfile.
    mac.spec(&MODEL_SPEC.replace("num_ctx: 8192", "num_ctx: 4096"));
    let plan = mac.on(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout
            .contains("# ollama_model:terse-llama will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("          - PARAMETER num_ctx 8192\n          + PARAMETER num_ctx 4096\n"),
        "{}",
        plan.stdout
    );
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    mac.on(&["destroy", "--yes"]).expect(0);
    // Only what macllm pulled goes: llama3.2:3b was there before.
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.2:3b, llama3.1:8b]\n");
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("# ollama_pull:llama3.1:8b will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("ollama_pull:llama3.2:3b"),
        "{}",
        plan.stdout
    );
}

#[test]
fn ollama_errors_are_shown_verbatim_and_a_stopped_server_is_named() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  pull: [no-such-model:1b]\n");
    let run = mac.on(&["apply", "--yes"]).expect(1);
    assert!(
        run.stderr
            .contains("pull model manifest: file does not exist"),
        "{}",
        run.stderr
    );

    mac.sh(&["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"])
        .expect(0);
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.2:3b]\n");
    let run = mac.on(&["plan"]).expect(1);
    assert!(
        run.stderr.contains("Ollama is not running on sandbox:mac"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: start it"), "{}", run.stderr);
}

/// `macllm sandbox serve` on a loopback port, killed when dropped.
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
        .trim_start_matches("http://")
        .to_string();
    (Served(child), address)
}

#[test]
fn the_real_http_client_talks_to_the_emulated_server_on_a_loopback_port() {
    let mac = Mac::new();
    let (_served, address) = serve(&mac);
    let bin = mac.work.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in emulated_mac::PROGRAMS {
        std::os::unix::fs::symlink(BIN, bin.join(program)).unwrap();
    }
    mac.spec(MODEL_SPEC);
    let local = |args: &[&str]| {
        let mut command = mac.command(&[&["--host", "local"][..], args].concat());
        command
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env(emulated_mac::ENV_SANDBOX, &mac.dir)
            .env("OLLAMA_HOST", &address);
        run(command)
    };
    local(&["apply", "--yes"]).expect(0);
    local(&["plan", "--detailed-exitcode"]).expect(0);
    local(&["destroy", "--yes"]).expect(0);
    // Nothing listens on the old port once the server is gone.
    drop(_served);
    let down = local(&["plan"]).expect(1);
    assert!(
        down.stderr.contains("Ollama is not running on local"),
        "{}",
        down.stderr
    );
}

#[test]
fn a_model_too_big_for_the_mac_is_a_warning_with_the_numbers_or_an_error_with_strict() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: llama-long\n      from: llama3.2:3b\n      parameters: { num_ctx: 65536 }\n");
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("Warning: ollama_model:llama-long needs about"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("KV cache 7.0 GiB for num_ctx 65536 x 1 parallel at f16"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the largest num_ctx that fits is"), "{}", plan.stdout);
    let strict = mac.on(&["--strict", "apply", "--yes"]).expect(1);
    assert!(
        strict.stderr.contains("--strict: 1 model(s) would not fit"),
        "{}",
        strict.stderr
    );
    // A smaller context fits.
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: llama-long\n      from: llama3.2:3b\n      parameters: { num_ctx: 8192 }\n");
    let plan = mac.on(&["--strict", "plan"]).expect(0);
    assert!(!plan.stdout.contains("needs about"), "{}", plan.stdout);
}

#[test]
fn bench_reports_ollamas_timings_against_the_bandwidth_bound() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    let bench = mac.on(&["bench", "llama3.2:3b", "--runs", "2"]).expect(0);
    assert!(
        bench
            .stdout
            .contains("llama3.2:3b (2.02 GB) on Apple M1, 2 run(s)"),
        "{}",
        bench.stdout
    );
    assert!(
        bench
            .stdout
            .contains("bandwidth bound           33.8 tokens/s (68.25 GB/s / 2.02 GB)"),
        "{}",
        bench.stdout
    );
    let json: serde_json::Value = serde_json::from_str(
        &mac.on(&["bench", "llama3.2:3b", "--runs", "1", "--json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    let generation = json["generation_tokens_per_second"].as_f64().unwrap();
    let bound = json["bound_tokens_per_second"].as_f64().unwrap();
    assert!(generation > 0.0 && generation <= bound, "{json}");
    assert_eq!(json["runs"].as_array().unwrap().len(), 1);
    let missing = mac.on(&["bench", "llama3.1:8b"]).expect(1);
    assert!(
        missing
            .stderr
            .contains("llama3.1:8b is not installed on sandbox:mac"),
        "{}",
        missing.stderr
    );
}

#[test]
fn recommend_sizes_the_catalogue_for_the_mac() {
    let small = Mac::with_preset("m1-8gb-monterey");
    let text = small.on(&["recommend"]).expect(0).stdout;
    assert!(text.contains("Apple M1, 8 GB"), "{text}");
    assert!(text.contains("8 GB tier"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&small.on(&["recommend", "--json"]).expect(0).stdout).unwrap();
    assert_eq!(json["format_version"], "1.0");
    let fits = |tag: &str| {
        json["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["tag"] == tag || m["name"] == tag)
            .map(|m| m["fits"].as_bool().unwrap())
            .unwrap_or_else(|| panic!("{tag} missing: {json}"))
    };
    assert!(fits("llama3.2:3b"));
    assert!(!fits("llama3.3:70b"));
    let large = Mac::with_preset("m4max-64gb-sequoia");
    let text = large.on(&["recommend"]).expect(0).stdout;
    assert!(text.contains("32+ GB tier"), "{text}");
}
