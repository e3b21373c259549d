//! Issue 13, a new user's first hour: a misspelt `--host sandbox:DIR`, `--json` for every
//! command that prints data, `export mobileconfig --host`, `bench`'s first load, and sizing a
//! model that is not on the Mac yet.

use crate::harness::{Mac, PRESETS, QUIET_UI, llama32_bench_on_m1};
use serde_json::json;

const NOT_A_MAC: &str = "error: mca is not an emulated Mac (it has no machine.json)
hint: create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it
";

/// Failed before: every one of these made a fresh Mac in `mca` and reported on it (a plan of
/// a stock Mac, "no state", the preset's facts) as if it were the Mac the user meant.
#[test]
fn a_misspelt_sandbox_is_not_created_by_a_command_that_only_reads() {
    let mac = Mac::new();
    mac.spec(QUIET_UI);
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["plan", "--out", "saved.plan"]).stdout_any().run();
    let commands: [&[&str]; 9] = [
        &["plan"],
        &["plan", "--refresh-only"],
        &["drift"],
        &["facts"],
        &["state", "list"],
        &["recommend"],
        &["bench", "llama3.2:3b"],
        &["destroy", "--yes"],
        &["apply", "saved.plan"],
    ];
    for command in commands {
        let mut args = vec!["--host", "sandbox:mca"];
        args.extend_from_slice(command);
        mac.macllm(&args).status(1).stderr(NOT_A_MAC).run();
        assert!(!mac.work.join("mca").exists(), "{command:?} made a Mac");
        assert!(!mac.work.join("state/sandbox-mca.json").exists());
    }
    // Nor by the sandbox commands that use a Mac (before: the hint ended in
    // ": No such file or directory (os error 2)").
    for command in [&["run", "mca", "--", "id", "-u"][..], &["reboot", "mca"]] {
        let mut args = vec!["sandbox"];
        args.extend_from_slice(command);
        mac.macllm(&args).status(1).stderr(NOT_A_MAC).run();
        assert!(!mac.work.join("mca").exists(), "{command:?} made a Mac");
    }
    // In a fleet the misspelt host fails on its own; the others still run.
    mac.macllm(&["--host", "sandbox:mac", "--host", "sandbox:mca", "drift"])
        .status(1)
        .stdout(
            "
=== sandbox:mac ===

No drift. sandbox:mac still matches what the last apply left (10 resources checked).

=== sandbox:mca ===
error: mca is not an emulated Mac (it has no machine.json)
hint: create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it

=== summary ===
  sandbox:mac: ok, no drift
  sandbox:mca: failed: mca is not an emulated Mac (it has no machine.json)
2 hosts: 1 ok, 1 failed.
",
        )
        .run();
    assert!(!mac.work.join("mca").exists());
}

/// `apply` of a spec still makes a Mac on first use (README's set-up), but only in a folder
/// that does not exist or is empty: a typo for a folder that holds other files is refused.
#[test]
fn apply_makes_a_sandbox_only_in_a_new_or_empty_folder() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 36}\n");
    std::fs::create_dir(mac.work.join("notes")).unwrap();
    std::fs::write(mac.work.join("notes/todo.txt"), "buy milk\n").unwrap();
    mac.macllm(&["--host", "sandbox:notes", "apply", "--yes"])
        .status(1)
        .stderr("error: notes is not an emulated Mac (it has no machine.json) and is not empty, so macllm will not make one there
hint: name a folder that holds an emulated Mac, or one that does not exist yet
")
        .run();
    let names: Vec<_> = std::fs::read_dir(mac.work.join("notes"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["todo.txt"]);
    std::fs::create_dir(mac.work.join("empty")).unwrap();
    mac.macllm(&["--host", "sandbox:empty", "apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:empty:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
",
        )
        .stderr("Created an emulated Mac (Mac mini, Apple M2, 16 GB, 4P+4E cores, 10-core GPU, macOS 14.5) in empty
defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock
")
        .run();
    mac.macllm(&["--host", "sandbox:empty", "plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

/// Failed before: `state show`, `state rm`, `graph`, `modules` and `sandbox presets` printed
/// their text (DOT, a table, a bare record) under `--json`, which a script cannot parse.
#[test]
fn every_command_that_prints_data_honours_json() {
    let mac = Mac::new();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 36}\n  - {domain: com.apple.dock, key: autohide, value: true, depends_on: [\"defaults:com.apple.dock:tilesize\"]}\n");
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&[
        "--json",
        "state",
        "show",
        "defaults:com.apple.dock:tilesize",
    ])
    .stdout_json(json!({
        "format_version": "1.0",
        "host": "sandbox:mac",
        "id": "defaults:com.apple.dock:tilesize",
        "resource": {
            "resource": {
                "kind": "defaults",
                "domain": "com.apple.dock",
                "key": "tilesize",
                "current_host": false,
                "value": { "integer": 36 }
            },
            "depends_on": [],
            "original": { "integer": 48 },
            "applied": { "value": { "integer": 36 } },
            "sensitive": false
        }
    }))
    .run();
    mac.macllm(&["--json", "graph"])
        .stdout_json(json!({
            "format_version": "1.0",
            "resources": ["defaults:com.apple.dock:tilesize", "defaults:com.apple.dock:autohide"],
            "edges": [{ "from": "defaults:com.apple.dock:tilesize", "to": "defaults:com.apple.dock:autohide" }]
        }))
        .run();
    mac.on(&["--json", "state", "rm", "defaults:com.apple.dock:autohide"])
        .stdout_json(json!({
            "format_version": "1.0",
            "host": "sandbox:mac",
            "removed": "defaults:com.apple.dock:autohide"
        }))
        .run();
    mac.on(&["--json", "state", "list"])
        .stdout_json(json!({
            "format_version": "1.0",
            "host": "sandbox:mac",
            "serial": 5,
            "lineage": "[LINEAGE]",
            "resources": ["defaults:com.apple.dock:tilesize"]
        }))
        .run();
    let modules = [
        "keep-awake",
        "lean-ui",
        "no-app-nap",
        "ollama-server",
        "ollama-tuning",
        "quiet-background",
        "spotlight-models",
    ]
    .map(|name| {
        let text = std::fs::read_to_string(format!("modules/{name}.yaml")).unwrap();
        let description = text
            .lines()
            .find_map(|l| l.strip_prefix("description: "))
            .unwrap()
            .to_string();
        (name, text, description)
    });
    mac.macllm(&["--json", "modules", "list"])
        .stdout_json(json!({
            "format_version": "1.0",
            "modules": modules.iter().map(|(name, _, description)| json!({
                "name": name, "description": description
            })).collect::<Vec<_>>()
        }))
        .run();
    let (name, text, description) = &modules[0];
    mac.macllm(&["--json", "modules", "show", name])
        .stdout_json(json!({
            "format_version": "1.0",
            "name": name,
            "description": description,
            "text": text
        }))
        .run();
    mac.macllm(&[
        "--json",
        "sandbox",
        "init",
        "small",
        "--preset",
        "m1-8gb-monterey",
    ])
    .stdout_json(json!({
        "format_version": "1.0",
        "dir": "small",
        "preset": "m1-8gb-monterey",
        "summary": "MacBook Air, Apple M1, 8 GB, 4P+4E cores, 7-core GPU, macOS 12.7.6"
    }))
    .run();
    // Each preset's facts are what `facts --json` reports on a fresh Mac of it.
    let presets: Vec<_> = PRESETS
        .iter()
        .map(|preset| {
            let dir = format!("fresh-{}", preset.name);
            mac.macllm(&["--json", "sandbox", "init", &dir, "--preset", preset.name])
                .stdout_any()
                .run();
            let facts = mac
                .macllm(&["--json", "--host", &format!("sandbox:{dir}"), "facts"])
                .stdout_of();
            let mut facts: serde_json::Value = serde_json::from_str(&facts).unwrap();
            let facts = facts.as_object_mut().unwrap();
            facts.remove("format_version");
            facts.remove("host");
            json!({
                "name": preset.name,
                "summary": preset.summary,
                "default": preset.name == "m2-16gb-sonoma",
                "facts": facts,
            })
        })
        .collect();
    assert_eq!(presets.iter().filter(|p| p["default"] == true).count(), 1);
    mac.macllm(&["--json", "sandbox", "presets"])
        .stdout_json(json!({ "format_version": "1.0", "presets": presets }))
        .run();
}

/// Tile size by memory: 30 on an 8 GB Mac, 40 on a bigger one.
const TILE_BY_MEMORY: &str = "macllm: 1
vars: { small: 30 }
defaults:
  - domain: com.apple.dock
    key: tilesize
    value: \"{{ vars.small if host.memory_gb <= 8 else 40 }}\"
";

/// The profile of TILE_BY_MEMORY for a Mac where it renders to SIZE: that of the same spec
/// with SIZE written in, which needs no Mac.
fn profile_with_tile_size(mac: &Mac, size: u32) -> String {
    mac.spec(&format!(
        "macllm: 1\ndefaults:\n  - domain: com.apple.dock\n    key: tilesize\n    value: {size}\n"
    ));
    let profile = mac.macllm(&["export", "mobileconfig"]).stdout_of();
    assert!(
        profile.contains(&format!(
            "<key>tilesize</key>\n\t\t\t\t\t\t\t\t<integer>{size}</integer>"
        )),
        "{profile}"
    );
    profile
}

/// Failed before: `export mobileconfig` ignored `--host` and rendered every template for the
/// default emulated Mac (16 GB), so an 8 GB Mac's profile said 40.
#[test]
fn export_renders_templates_for_the_host_given_and_refuses_without_one() {
    let mac = Mac::new();
    mac.init("small", "m1-8gb-monterey");
    let small_profile = profile_with_tile_size(&mac, 30);
    let big_profile = profile_with_tile_size(&mac, 40);
    let inventory_profile = profile_with_tile_size(&mac, 24);
    mac.spec(TILE_BY_MEMORY);
    mac.macllm(&["--host", "sandbox:small", "export", "mobileconfig"])
        .stdout(&small_profile)
        .run();
    mac.on(&["export", "mobileconfig"])
        .stdout(&big_profile)
        .run();
    // An inventory of one host: its facts and its own vars.
    std::fs::write(
        mac.work.join("fleet.yaml"),
        "hosts:\n  air: { host: \"sandbox:small\", vars: { small: 24 } }\n",
    )
    .unwrap();
    mac.macllm(&["--inventory", "fleet.yaml", "export", "mobileconfig"])
        .stdout(&inventory_profile)
        .run();
    mac.macllm(&["--host", "sandbox:small", "--host", "sandbox:mac", "export", "mobileconfig"])
        .status(1)
        .stderr("error: a profile is exported for one Mac, and 2 were given (sandbox:small, sandbox:mac)\nhint: pass a single --host\n")
        .run();
    mac.macllm(&["export", "mobileconfig", "--out", "dock.mobileconfig"])
        .status(1)
        .stderr("error: macllm.yaml has templates that give a different profile on different Macs (an emulated m2-16gb-sonoma and an emulated m1-8gb-monterey), and no --host says which Mac to export for
hint: pass the Mac, as in `macllm --host ssh:admin@studio.lan export mobileconfig` (`--host sandbox:DIR` for an emulated one)
")
        .run();
    assert!(!mac.work.join("dock.mobileconfig").exists());
    // The facts every preset shares (the user, the home folder) still make a profile differ.
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.example.app, key: models, value: \"{{ host.home }}/models\"}\n");
    mac.macllm(&["export", "mobileconfig"])
        .status(1)
        .stderr("error: macllm.yaml has templates that give a different profile on different Macs (an emulated m2-16gb-sonoma and an emulated m2-16gb-sonoma with another user and hostname), and no --host says which Mac to export for
hint: pass the Mac, as in `macllm --host ssh:admin@studio.lan export mobileconfig` (`--host sandbox:DIR` for an emulated one)
")
        .run();
    // Templates that do not depend on the Mac (a module's parameters) need no --host.
    mac.spec("macllm: 1\nuse:\n  - module: lean-ui\n    with: { tile_size: 40 }\n");
    let lean = mac.on(&["export", "mobileconfig"]).stdout_of();
    mac.macllm(&["export", "mobileconfig"]).stdout(&lean).run();
    mac.macllm(&["--host", "sandbox:small", "export", "mobileconfig"])
        .stdout(&lean)
        .run();
}

/// `curl` on the emulated Mac, as a user preloads a model: POST BODY to Ollama's PATH.
fn curl_post(mac: &Mac, path: &str, body: &str) -> serde_json::Value {
    use std::io::Write;
    let url = format!("http://127.0.0.1:11434{path}");
    let mut child = mac
        .command(&[
            "sandbox",
            "run",
            "mac",
            "--",
            "curl",
            "-sS",
            "-X",
            "POST",
            "--data-binary",
            "@-",
            &url,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Failed before: a model a user had preloaded (`keep_alive: -1`, as Ollama's FAQ suggests)
/// was benched warm, and "load (first run)" said 0.015 s. Sizes are GiB, as in `recommend`.
#[test]
fn bench_unloads_the_model_first_so_the_first_load_is_cold() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    let preload = curl_post(
        &mac,
        "/api/generate",
        r#"{"model":"llama3.2:3b","keep_alive":-1}"#,
    );
    assert_eq!(preload["done_reason"], "load", "{preload}");
    let ps = mac
        .sh(&["curl", "-sS", "http://127.0.0.1:11434/api/ps"])
        .stdout_of();
    let ps: serde_json::Value = serde_json::from_str(&ps).unwrap();
    assert_eq!(ps["models"][0]["name"], "llama3.2:3b", "{ps}");
    mac.on(&["bench", "llama3.2:3b", "--runs", "1"])
        .stdout(&llama32_bench_on_m1(1))
        .stderr(
            "llama3.2:3b: unloading it first, so that run 1 measures a cold load...
llama3.2:3b: run 1 of 1...
",
        )
        .run();
    // `recommend` gives the same model the same size, in the same unit.
    let recommend = mac.on(&["recommend"]).stdout_of();
    let row = recommend
        .lines()
        .find(|l| l.trim_start().starts_with("llama3.2:3b "))
        .unwrap();
    assert!(recommend.contains("size GiB"), "{recommend}");
    assert_eq!(
        row.split_whitespace().nth(3),
        Some("1.9"),
        "llama3.2:3b is 1.88 GiB: {row}"
    );
}

/// What the plan of BIG_ON_SMALL says on an 8 GB M1 that has none of its models yet.
const BIG_ON_SMALL_PLAN: &str = "
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:example/house-model:7b will be created
  + value = true
    # not in `pull:`; pulled because ollama_model:house-model is built from it

  # ollama_model:house-model will be created
  ~ value = <<-EOT
          + FROM example/house-model:7b
          + 
        EOT

  # ollama_pull:llama3.2:1b will be created
  + value = true

  # ollama_pull:llama3.3:70b will be created
  + value = true

  # ollama_model:big-chat will be created
  ~ value = <<-EOT
          + FROM llama3.3:70b
          + PARAMETER num_ctx 2048
          + 
        EOT

Plan: 5 to add, 0 to change, 0 to destroy.
Warning: ollama_model:house-model cannot be sized against this Mac's memory: its base example/house-model:7b is not on the Mac yet and not in macllm's catalogue; plan again after it is pulled
Warning: ollama_pull:llama3.3:70b needs about 41.6 GiB (weights 39.6 GiB + KV cache 1.2 GiB for num_ctx 4096 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the model does not fit at any context (llama3.3:70b is not on the Mac yet: its size is from macllm's catalogue)
Warning: ollama_model:big-chat needs about 41.0 GiB (weights 39.6 GiB + KV cache 0.6 GiB for num_ctx 2048 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the model does not fit at any context (llama3.3:70b is not on the Mac yet: its size is from macllm's catalogue)
";

/// A 70B model, a custom model on it, a small model that fits, and a custom model on a base
/// the catalogue does not know.
const BIG_ON_SMALL: &str = "macllm: 1
ollama:
  pull: [llama3.3:70b, llama3.2:1b]
  models:
    - name: big-chat
      from: llama3.3:70b
      parameters: { num_ctx: 2048 }
    - name: house-model
      from: example/house-model:7b
";

/// Failed before: memory fit was skipped for every model whose base was not on the Mac yet,
/// which is every model on the first apply, so `--strict` let a 70B model onto an 8 GB Mac.
#[test]
fn models_not_on_the_mac_yet_are_sized_from_the_catalogue() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec(BIG_ON_SMALL);
    mac.on(&["plan"]).stdout(BIG_ON_SMALL_PLAN).run();
    let before = mac.snapshot();
    mac.on(&["--strict", "apply", "--yes"])
        .status(1)
        .stdout(BIG_ON_SMALL_PLAN)
        .stderr("error: --strict: 2 model(s) would not fit in this Mac's GPU memory (see the warnings above)\n")
        .run();
    assert!(before == mac.snapshot(), "a refused apply changed the Mac");
    assert!(!mac.state_path().exists());
    // A base nobody can size yet is a warning, not a --strict failure: nothing says it will
    // not fit.
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: house-model\n      from: example/house-model:7b\n");
    mac.on(&["--strict", "plan"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:example/house-model:7b will be created
  + value = true
    # not in `pull:`; pulled because ollama_model:house-model is built from it

  # ollama_model:house-model will be created
  ~ value = <<-EOT
          + FROM example/house-model:7b
          + 
        EOT

Plan: 2 to add, 0 to change, 0 to destroy.
Warning: ollama_model:house-model cannot be sized against this Mac's memory: its base example/house-model:7b is not on the Mac yet and not in macllm's catalogue; plan again after it is pulled
",
        )
        .run();
}

/// `--json` errors: one document on stdout with `format_version` and a stable `code`, the
/// hint apart from the message, and what the code needs (the spec's position, Ollama's
/// status, the models that will not fit).
#[test]
fn errors_are_json_with_stable_codes_under_json() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    let error = |fields: serde_json::Value| json!({ "format_version": "1.0", "error_count": 1, "errors": [fields], "notes": [] });
    mac.macllm(&["--json", "plan", "--frobnicate"])
        .status(1)
        .stdout_json(error(json!({
            "code": "usage",
            "message": "unexpected argument '--frobnicate' found",
            "hint": null
        })))
        .run();
    mac.spec("macllm: 1\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, valeu: 36}\n");
    mac.macllm(&["--json", "validate"])
        .status(1)
        .stdout_json(error(json!({
            "code": "unknown_field",
            "message": "unknown field `valeu`, expected one of `domain`, `key`, `value`, `type`, `current_host`, `absent`, `depends_on`",
            "hint": "did you mean `value`?",
            "source_line": "  - {domain: com.apple.dock, key: tilesize, valeu: 36}",
            "file": "macllm.yaml",
            "line": 3,
            "column": 45,
            "field": "defaults[0]"
        })))
        .run();
    mac.macllm(&["--json", "--host", "sandbox:mca", "drift"])
        .status(1)
        .stdout_json(error(json!({
            "code": "sandbox_not_found",
            "message": "mca is not an emulated Mac (it has no machine.json)",
            "hint": "create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it"
        })))
        .run();
    mac.spec(BIG_ON_SMALL);
    let plan = mac.on(&["--json", "plan"]).stdout_of();
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    mac.on(&["--json", "--strict", "plan"])
        .status(1)
        .stdout_json(error(json!({
            "code": "model_over_budget",
            "message": "--strict: 2 model(s) would not fit in this Mac's GPU memory",
            "hint": null,
            "details": plan["over_budget"]
        })))
        .run();
    mac.spec("macllm: 1\nollama:\n  pull: [no-such-model:1b]\n");
    mac.on(&["--json", "apply", "--yes"])
        .status(1)
        .stdout_json(error(json!({
            "code": "ollama_error",
            "message": "applying ollama_pull:no-such-model:1b: Ollama answered 200: pull model manifest: file does not exist",
            "hint": null,
            "status": 200
        })))
        .stderr("ollama_pull:no-such-model:1b: Creating...\nno-such-model:1b: pulling manifest\n")
        .run();
    mac.on(&["--json", "bench", "llama3.1:8b"])
        .status(1)
        .stdout_json(error(json!({
            "code": "error",
            "message": "llama3.1:8b is not installed on sandbox:mac",
            "hint": "`ollama pull llama3.1:8b`, or add it to `ollama.pull` in the spec"
        })))
        .run();
    mac.sh(&["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"])
        .run();
    mac.on(&["--json", "bench", "llama3.2:3b"])
        .status(1)
        .stdout_json(error(json!({
            "code": "ollama_not_running",
            "message": "Ollama is not running on sandbox:mac (nothing answers at 127.0.0.1:11434 on the emulated Mac in mac (connection refused))",
            "hint": "start it (`brew services start ollama`, or open Ollama.app) and check OLLAMA_HOST"
        })))
        .run();
    // Without --json the same error is text on stderr, as before.
    mac.on(&["bench", "llama3.2:3b"])
        .status(1)
        .stderr("error: Ollama is not running on sandbox:mac (nothing answers at 127.0.0.1:11434 on the emulated Mac in mac (connection refused))
hint: start it (`brew services start ollama`, or open Ollama.app) and check OLLAMA_HOST
")
        .run();
}
