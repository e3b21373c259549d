//! Ollama as it behaves on a real Mac (issue 10): what the server logs is compared with what
//! was set as the server parses it (ollama/ollama `envconfig/config.go`), so `-1`, `*` and
//! `1` are recognised in their logged forms and a variable the server never logs is said to
//! be unverifiable; a model's base is compared as Ollama records it (`DisplayShortest`).

use crate::harness::Mac;

const SPEC: &str = "macllm: 1\nollama:\n  env:\n    OLLAMA_KEEP_ALIVE: -1\n    OLLAMA_ORIGINS: \"*\"\n    OLLAMA_DEBUG: 1\n    OLLAMA_AUTH: true\n";

#[test]
fn variables_are_verified_in_the_form_the_server_logs_them() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.on(&["apply", "--yes"])
        .stdout(APPLY_STDOUT)
        .stderr(APPLY_STDERR)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

const APPLY_STDOUT: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_AUTH will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_DEBUG will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "DEBUG",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "-1",
          +   "server": "2562047h47m16.854775807s",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_ORIGINS will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "*",
          +   "server": "[* http://localhost https://localhost http://localhost:* https://localhost:* http://127.0.0.1 https://127.0.0.1 http://127.0.0.1:* https://127.0.0.1:* http://0.0.0.0 https://0.0.0.0 http://0.0.0.0:* https://0.0.0.0:* app://* file://* tauri://* vscode-webview://* vscode-file://*]",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 4 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 4 added, 0 changed, 0 destroyed.
"#;

const APPLY_STDERR: &str = r#"ollama_env:OLLAMA_AUTH: Creating...
ollama_env:OLLAMA_AUTH: Creation complete after [DURATION]
ollama_env:OLLAMA_DEBUG: Creating...
ollama_env:OLLAMA_DEBUG: Creation complete after [DURATION]
ollama_env:OLLAMA_KEEP_ALIVE: Creating...
ollama_env:OLLAMA_KEEP_ALIVE: Creation complete after [DURATION]
ollama_env:OLLAMA_ORIGINS: Creating...
ollama_env:OLLAMA_ORIGINS: Creation complete after [DURATION]
Restarting the Ollama server...
warning: OLLAMA_AUTH cannot be verified after the restart: Ollama reads it but does not log it
Restarted: the Ollama server, and it reports the new variables
"#;

/// A restart after which nothing could be checked claims nothing: the server was restarted,
/// not seen to report the variable.
#[test]
fn a_restart_with_nothing_to_verify_claims_nothing() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_AUTH: true\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_AUTH will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 1 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#,
        )
        .stderr(
            "ollama_env:OLLAMA_AUTH: Creating...
ollama_env:OLLAMA_AUTH: Creation complete after [DURATION]
Restarting the Ollama server...
warning: OLLAMA_AUTH cannot be verified after the restart: Ollama reads it but does not log it
Restarted: the Ollama server
",
        )
        .run();
}

#[test]
fn a_base_given_by_its_full_registry_name_converges() {
    let mac = Mac::new();
    mac.spec(
        "macllm: 1\nollama:\n  models:\n    - name: fit\n      from: registry.ollama.ai/library/llama3.2:3b\n      parameters: { num_ctx: 4096 }\n",
    );
    mac.on(&["apply", "--yes"])
        .stdout(FULL_NAME_STDOUT)
        .stderr(FULL_NAME_STDERR)
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

const FULL_NAME_STDOUT: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:fit will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 4096
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#;

const FULL_NAME_STDERR: &str = r#"ollama_model:fit: Creating...
fit: using existing layer sha256:52dd90d6e8c6b743ce155f94dc0c05e350186d111594d0a7ecd37d64370d513b
fit: using existing layer sha256:86d3115c9700fc6bfe75e7bd5a3c744d7108a0ea384c82115788ea3935a041ba
fit: using existing layer sha256:c5153b289c8c323211ecc4dc89c742b723083a4c012944bfa47888835548bcc2
fit: using existing layer sha256:dd56c7962561a828a0007b3c3708d096e4e6ea71cc749d5447d2bc030a58849f
fit: creating new layer sha256:2ddc2012d468e62e6ca237f0db4b9496906340ec431b28c27edc069ad00e1993
fit: writing manifest
fit: success
ollama_model:fit: Creation complete after [DURATION]
"#;

/// Homebrew 6.0.15 and newer: the variables go to `~/.homebrew/services/ollama.env` (mode
/// 0600: Homebrew skips a group- or world-writable file), `brew services restart` bakes them
/// into the service plist, so they survive a reboot, and the two variables the formula sets
/// itself can be overridden. Before, macllm refused OLLAMA_FLASH_ATTENTION here.
#[test]
fn homebrews_env_file_carries_the_variables_across_a_reboot() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 3\n    OLLAMA_FLASH_ATTENTION: false\n");
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{ENV_FILE_PLAN}\nApply complete! Resources: 2 added, 0 changed, 0 destroyed.\n"
        ))
        .stderr(
            "ollama_env:OLLAMA_FLASH_ATTENTION: Creating...
ollama_env:OLLAMA_FLASH_ATTENTION: Creation complete after [DURATION]
ollama_env:OLLAMA_NUM_PARALLEL: Creating...
ollama_env:OLLAMA_NUM_PARALLEL: Creation complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
",
        )
        .run();
    let env_file = mac.dir.join("Users/admin/.homebrew/services/ollama.env");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        "OLLAMA_FLASH_ATTENTION=0\nOLLAMA_NUM_PARALLEL=3\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    mac.macllm(&["sandbox", "reboot", "mac"])
        .stdout("Rebooted the emulated Mac in mac\n")
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    mac.on(&["destroy", "--yes"])
        .stdout(&format!(
            "{}\nDestroy complete! Resources: 2 destroyed.\n",
            ENV_FILE_DESTROY_PLAN
        ))
        .stderr(
            "ollama_env:OLLAMA_NUM_PARALLEL: Restoring...
ollama_env:OLLAMA_NUM_PARALLEL: Restore complete after [DURATION]
ollama_env:OLLAMA_FLASH_ATTENTION: Restoring...
ollama_env:OLLAMA_FLASH_ATTENTION: Restore complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server
",
        )
        .run();
    assert!(!env_file.exists());
}

const ENV_FILE_PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_FLASH_ATTENTION will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "0",
          +   "server": "false",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "3",
          +   "server": "3",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 2 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#;

const ENV_FILE_DESTROY_PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_NUM_PARALLEL will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "env_file": "3",
          -   "server": "3",
          - }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_FLASH_ATTENTION will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "env_file": "0",
          -   "server": "false",
          - }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 0 to add, 0 to change, 2 to destroy.
After the changes: restart the Ollama server.
"#;

/// Before Homebrew 6.0.15 the variables go through `launchctl setenv` and a login agent,
/// which at boot loses the race with Homebrew's RunAtLoad server (ollama/ollama#12916): the
/// plan reads what the running server uses, so the rebooted Mac shows drift instead of "No
/// changes" (which it said before), and an apply restarts the server into the spec again.
#[test]
fn a_reboot_that_the_server_won_shows_as_drift() {
    let mac = Mac::new();
    mac.set_machine("homebrew_version", serde_json::json!("6.0.14"));
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 3\n");
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.macllm(&["sandbox", "reboot", "mac"])
        .stdout("Rebooted the emulated Mac in mac\n")
        .run();
    mac.on(&["drift"])
        .status(2)
        .stdout(&format!("\n{REBOOT_DRIFT}"))
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "\n{REBOOT_DRIFT}
Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_NUM_PARALLEL will be updated in-place
  ~ value = <<-EOT
            {{
              \"at_login\": \"3\",
              \"live\": \"3\",
          -   \"server\": \"1\",
          +   \"server\": \"3\",
            }}
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_NUM_PARALLEL (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"
        ))
        .stderr(
            "ollama_env:OLLAMA_NUM_PARALLEL: Modifying...
ollama_env:OLLAMA_NUM_PARALLEL: Modifications complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    // With the boot race won (launchd documents no order), the reboot keeps the spec.
    mac.set_machine("setenv_agents_win_boot_race", serde_json::json!(true));
    mac.macllm(&["sandbox", "reboot", "mac"])
        .stdout("Rebooted the emulated Mac in mac\n")
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

const REBOOT_DRIFT: &str = r#"Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last "macllm apply":

  # ollama_env:OLLAMA_NUM_PARALLEL has changed
  ~ value = <<-EOT
            {
              "at_login": "3",
              "live": "3",
          -   "server": "3",
          +   "server": "1",
            }
        EOT
"#;

/// `ollama.server: own` needs the agent that serves; an agent that serves beside Homebrew's
/// service (or the app) is two servers on one port, which the spec is warned about.
#[test]
fn an_own_server_needs_its_agent_and_two_servers_are_warned_about() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  server: own\n  env:\n    OLLAMA_NUM_PARALLEL: 2\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: ollama.server: `server: own` needs an agent that runs `ollama serve`
 --> macllm.yaml:3:11
  |
3 |   server: own
  |           ^
hint: add `use: [{module: ollama-server}]`, or an `agents:` entry with `program_arguments: [/opt/homebrew/bin/ollama, serve]`
",
        )
        .run();
    mac.spec("macllm: 1\nagents:\n  - label: com.example.ollama\n    program_arguments: [/opt/homebrew/bin/ollama, serve]\n");
    mac.macllm(&["validate"])
        .stdout("Success! macllm.yaml is valid: 1 resources.\n")
        .stderr("warning: the agent com.example.ollama runs `ollama serve`, and so does Homebrew's service or the app that `ollama.server: auto` uses: two servers want one port; set `ollama: { server: own }` to disable Homebrew's service\n")
        .run();
}

/// With `server: own` (the ollama-server module sets it) the variables go into the agent's
/// plist, Homebrew's service is disabled before the agent loads, models wait for the agent,
/// and destroy puts Homebrew's service back.
#[test]
fn an_own_server_takes_the_variables_and_stops_homebrews() {
    let mac = Mac::new();
    mac.spec(
        "macllm: 1\nuse:\n  - module: ollama-server\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 2\n  models:\n    - name: fit\n      from: llama3.2:3b\n      parameters: { num_ctx: 4096 }\n",
    );
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.sh(&["brew", "services", "list"])
        .stdout("Name   Status User File\nollama none                 \n")
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    let log = std::fs::read_to_string(mac.dir.join("private/tmp/ollama.log")).unwrap();
    let config = log
        .lines()
        .rev()
        .find(|l| l.contains("server config"))
        .unwrap();
    assert!(config.contains(" OLLAMA_NUM_PARALLEL:2 "), "{config}");
    mac.on(&["destroy", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    mac.sh(&["brew", "services", "list"])
        .stdout("Name   Status User  File\nollama started         admin ~/Library/LaunchAgents/homebrew.mxcl.ollama.plist\n")
        .run();
}

/// A spec that brings its own server and models in one run: with no server running at plan
/// time the models are "known after apply" (Terraform's words), not an error as before, and
/// apply reads them once the agent it loads answers.
#[test]
fn models_behind_a_server_the_spec_starts_are_known_after_apply() {
    let mac = Mac::new();
    mac.sh(&["brew", "services", "stop", "ollama"])
        .stdout("Stopping `ollama`... (might take a while)\n==> Successfully stopped `ollama` (label: homebrew.mxcl.ollama)\n")
        .run();
    mac.spec(
        "macllm: 1\nuse:\n  - module: ollama-server\nollama:\n  models:\n    - name: fit\n      from: llama3.2:3b\n      parameters: { num_ctx: 4096 }\n",
    );
    let plan = mac.on(&["plan"]).stdout_any().run().stdout;
    let tail = &plan[plan.find("  # ollama_model:fit").unwrap()..];
    assert_eq!(
        tail,
        "  # ollama_model:fit will be created or updated once Ollama runs
  ~ value = (known after apply)

Plan: 3 to add, 1 to change, 0 to destroy.
Warning: the models cannot be sized against this Mac's memory until Ollama runs: plan again after apply
"
    );
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}

/// Installs Ollama.app on the emulated Mac in place of Homebrew's service and starts it.
fn with_the_app(mac: &Mac) {
    mac.sh(&["brew", "services", "stop", "ollama"])
        .stdout("Stopping `ollama`... (might take a while)\n==> Successfully stopped `ollama` (label: homebrew.mxcl.ollama)\n")
        .run();
    mac.sh(&["mkdir", "-p", "/Applications/Ollama.app/Contents/Resources"])
        .run();
    mac.sh(&["tee", "/Applications/Ollama.app/Contents/Resources/ollama"])
        .run();
    mac.sh(&["open", "-a", "Ollama"]).run();
}

/// Ollama.app quits its server asynchronously (ollama/ollama `app/server/server.go`
/// `stop()`): reopening it at once lands on the dying instance, which keeps the old
/// environment. macllm waits until the server has stopped; before, the restart reported
/// "does not use what was set". Without a GUI login the app cannot be started at all, which
/// macllm says before quitting anything.
#[test]
fn the_app_is_reopened_only_after_its_server_has_stopped() {
    let mac = Mac::new();
    with_the_app(&mac);
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 2\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   \"at_login\": \"2\",
          +   \"live\": \"2\",
          +   \"server\": \"2\",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_NUM_PARALLEL (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

Plan: 1 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
",
        )
        .stderr(
            "ollama_env:OLLAMA_NUM_PARALLEL: Creating...
ollama_env:OLLAMA_NUM_PARALLEL: Creation complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();

    let headless = Mac::new();
    with_the_app(&headless);
    headless.set_machine("gui_session", serde_json::json!(false));
    headless.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 2\n");
    headless
        .on(&["apply", "--yes"])
        .status(1)
        .stderr("error: reading ollama_env:OLLAMA_NUM_PARALLEL: Ollama.app can only be started in a GUI login, and nobody is logged in at the screen of sandbox:mac (gui/501 does not exist)
hint: log in at the Mac (or with Screen Sharing) and apply again, or run Ollama as a service (`brew install ollama`, or `ollama: { server: own }`)
")
        .run();
}
