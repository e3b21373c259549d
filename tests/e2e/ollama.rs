//! Ollama: server variables, pulls and custom models against the emulated Ollama (in-process
//! and over real HTTP on a loopback port).

use crate::harness::{
    BIN, DRIFT_HEAD, DRIFT_THEN_PLAN, ENV_SANDBOX, LLAMA31_PULL, Mac, PROGRAMS, llama32_bench_on_m1,
};
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

/// The plan's row for MODEL_SPEC's model, created: its normalised Modelfile.
const TERSE_CREATED: &str = r#"  # ollama_model:terse-llama will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + SYSTEM "You are terse.\nAnswer in one line, \"quoted\" if needed."
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 8192
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "END"
          + PARAMETER temperature 0.7
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

"#;

/// What creating MODEL_SPEC's model reports on stderr.
const TERSE_MADE: &str = "ollama_model:terse-llama: Creating...
terse-llama: using existing layer sha256:52dd90d6e8c6b743ce155f94dc0c05e350186d111594d0a7ecd37d64370d513b
terse-llama: using existing layer sha256:86d3115c9700fc6bfe75e7bd5a3c744d7108a0ea384c82115788ea3935a041ba
terse-llama: using existing layer sha256:c5153b289c8c323211ecc4dc89c742b723083a4c012944bfa47888835548bcc2
terse-llama: using existing layer sha256:dd56c7962561a828a0007b3c3708d096e4e6ea71cc749d5447d2bc030a58849f
terse-llama: creating new layer sha256:9d23fd888cd38d519e66f7aa7fba97b08ffe51fca99d9c0a5aa5e5fd05a7aae7
terse-llama: creating new layer sha256:51e9f2ac3c085d98db3ced4a55a90388fbea86920ea88985d57e9ac45f77ea15
terse-llama: writing manifest
terse-llama: success
ollama_model:terse-llama: Creation complete after [DURATION]
";

fn getenv(mac: &Mac, name: &str, value: &str) {
    mac.sh(&["launchctl", "getenv", name]).stdout(value).run();
}

#[test]
fn server_variables_round_trip_with_one_verified_restart() {
    let mac = Mac::new();
    // Homebrew before 6.0.15: launchctl setenv and login agents (real_mac_ollama.rs has the
    // env file of newer ones).
    mac.set_machine("homebrew_version", serde_json::json!("6.0.14"));
    mac.spec(ENV_SPEC);
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "10m",
          +   "live": "10m",
          +   "server": "10m0s",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_KEEP_ALIVE (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "2",
          +   "live": "2",
          +   "server": "2",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_NUM_PARALLEL (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

Plan: 2 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#,
        )
        .run();
    // One restart for two variables.
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "10m",
          +   "live": "10m",
          +   "server": "10m0s",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_KEEP_ALIVE (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "at_login": "2",
          +   "live": "2",
          +   "server": "2",
          + }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_NUM_PARALLEL (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

Plan: 2 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"#).stderr("ollama_env:OLLAMA_KEEP_ALIVE: Creating...
ollama_env:OLLAMA_KEEP_ALIVE: Creation complete after [DURATION]
ollama_env:OLLAMA_NUM_PARALLEL: Creating...
ollama_env:OLLAMA_NUM_PARALLEL: Creation complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
",
        )
        .run();
    getenv(&mac, "OLLAMA_KEEP_ALIVE", "10m\n");
    // Durable: a login agent repeats the setenv after a reboot.
    mac.sh(&[
        "cat",
        "/Users/admin/Library/LaunchAgents/com.macllm.ollama-env.OLLAMA_KEEP_ALIVE.plist",
    ])
    .stdout("<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
\t<key>Label</key>
\t<string>com.macllm.ollama-env.OLLAMA_KEEP_ALIVE</string>
\t<key>LimitLoadToSessionType</key>
\t<array>
\t\t<string>Aqua</string>
\t\t<string>Background</string>
\t\t<string>LoginWindow</string>
\t\t<string>StandardIO</string>
\t\t<string>System</string>
\t</array>
\t<key>ProgramArguments</key>
\t<array>
\t\t<string>/bin/launchctl</string>
\t\t<string>setenv</string>
\t\t<string>OLLAMA_KEEP_ALIVE</string>
\t\t<string>10m</string>
\t</array>
\t<key>RunAtLoad</key>
\t<true/>
</dict>
</plist>")
    .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();

    mac.sh(&["launchctl", "unsetenv", "OLLAMA_NUM_PARALLEL"])
        .run();
    mac.on(&["drift"])
        .status(2)
        .stdout(
            &[
                DRIFT_HEAD,
                r#"  # ollama_env:OLLAMA_NUM_PARALLEL has changed
  ~ value = <<-EOT
            {
              "at_login": "2",
          -   "live": "2",
          +   "live": false,
              "server": "2",
            }
        EOT
"#,
            ]
            .concat(),
        )
        .run();

    mac.on(&["destroy", "--yes"])
        .stdout(&[DRIFT_HEAD, r#"  # ollama_env:OLLAMA_NUM_PARALLEL has changed
  ~ value = <<-EOT
            {
              "at_login": "2",
          -   "live": "2",
          +   "live": false,
              "server": "2",
            }
        EOT
"#, DRIFT_THEN_PLAN, r#"macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_NUM_PARALLEL will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "at_login": "2",
          -   "live": false,
          -   "server": "2",
          - }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_NUM_PARALLEL (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

  # ollama_env:OLLAMA_KEEP_ALIVE will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "at_login": "10m",
          -   "live": "10m",
          -   "server": "10m0s",
          - }
        EOT
    # then: restart the Ollama server
    # launchctl setenv now, and at every login by the agent com.macllm.ollama-env.OLLAMA_KEEP_ALIVE (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)

Plan: 0 to add, 0 to change, 2 to destroy.
After the changes: restart the Ollama server.

Destroy complete! Resources: 2 destroyed.
"#].concat()).stderr("ollama_env:OLLAMA_NUM_PARALLEL: Restoring...
ollama_env:OLLAMA_NUM_PARALLEL: Restore complete after [DURATION]
ollama_env:OLLAMA_KEEP_ALIVE: Restoring...
ollama_env:OLLAMA_KEEP_ALIVE: Restore complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server
",
        )
        .run();
    getenv(&mac, "OLLAMA_KEEP_ALIVE", "");
    mac.sh(&[
        "test",
        "-e",
        "/Users/admin/Library/LaunchAgents/com.macllm.ollama-env.OLLAMA_KEEP_ALIVE.plist",
    ])
    .status(1)
    .run();
}

#[test]
fn invented_and_malformed_variables_are_refused() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_THREADS: 8\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: ollama.env.OLLAMA_NUM_THREADS: `OLLAMA_NUM_THREADS` is not a variable Ollama reads
 --> macllm.yaml:4:25
  |
4 |     OLLAMA_NUM_THREADS: 8
  |                         ^
hint: use the Modelfile parameter `num_thread` (ollama.models[].parameters.num_thread); or pass --allow-unknown-env to keep it anyway
",
        )
        .run();
    mac.on(&["plan", "--allow-unknown-env"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_NUM_THREADS will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "8",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

Plan: 1 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#,
        )
        .stderr(
            "warning: `OLLAMA_NUM_THREADS` is not a variable Ollama reads (kept because of --allow-unknown-env; use the Modelfile parameter `num_thread` (ollama.models[].parameters.num_thread))
",
        )
        .run();

    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_KEEP_ALIVE: 1d\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: ollama.env.OLLAMA_KEEP_ALIVE: OLLAMA_KEEP_ALIVE: `1d` is not a duration: write it like 5m, 1h30m, 300 (seconds) or -1 (forever); `d` and `w` are not units
 --> macllm.yaml:4:24
  |
4 |     OLLAMA_KEEP_ALIVE: 1d
  |                        ^
",
        )
        .run();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_FLASH_ATTENTION: off\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: ollama.env.OLLAMA_FLASH_ATTENTION: OLLAMA_FLASH_ATTENTION: `off` is not true or false; Ollama would read it as true (any non-empty value but 0/false is true)
 --> macllm.yaml:4:29
  |
4 |     OLLAMA_FLASH_ATTENTION: off
  |                             ^
",
        )
        .run();
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: x\n      from: llama3.2:3b\n      parameters: {num_ctx: \"8192\"}\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            r#"error: ollama.models[0].parameters.num_ctx: `num_ctx` must be an integer, not a string
 --> macllm.yaml:6:29
  |
6 |       parameters: {num_ctx: "8192"}
  |                             ^
"#,
        )
        .run();
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: x\n      from: llama3.2:3b\n      parameters: {tfs_z: 1}\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: ollama.models[0].parameters.tfs_z: parameter `tfs_z` is removed in v0.5.2
 --> macllm.yaml:6:27
  |
6 |       parameters: {tfs_z: 1}
  |                           ^
hint: Ollama's parameters are num_ctx, num_batch, num_gpu, main_gpu, use_mmap, num_thread, num_keep, seed, num_predict, top_k, top_p, min_p, typical_p, repeat_last_n, temperature, repeat_penalty, presence_penalty, frequency_penalty, stop
",
        )
        .run();
}

/// Before Homebrew 6.0.15 the formula's own variables cannot be changed from outside its
/// plist; from 6.0.15 the service env file overrides them (real_mac_ollama.rs).
#[test]
fn homebrews_own_variables_cannot_be_overridden_by_setenv() {
    let mac = Mac::new();
    mac.set_machine("homebrew_version", serde_json::json!("6.0.14"));
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_FLASH_ATTENTION: false\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: reading ollama_env:OLLAMA_FLASH_ATTENTION: Homebrew's service sets OLLAMA_FLASH_ATTENTION=1 in its own plist, which beats `launchctl setenv`, and this Homebrew (older than 6.0.15) rewrites that plist on every start
hint: `brew upgrade` (Homebrew 6.0.15 reads ~/.homebrew/services/ollama.env, which can override it), or run `brew services stop ollama` and serve Ollama from an agent of your own (`agents:`, with `environment:`)
",
        )
        .run();
}

#[test]
fn pulls_and_custom_models_round_trip() {
    let mac = Mac::new();
    mac.spec(MODEL_SPEC);
    mac.on(&["plan"])
        .stdout(&format!(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true

{TERSE_CREATED}Plan: 2 to add, 0 to change, 0 to destroy.
"
        ))
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true

{TERSE_CREATED}Plan: 2 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"
        ))
        .stderr(&format!(
            "ollama_pull:llama3.1:8b: Creating...
{LLAMA31_PULL}ollama_pull:llama3.1:8b: Creation complete after [DURATION]
{TERSE_MADE}"
        ))
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();

    // A changed parameter is a diff of the normalised Modelfile.
    mac.spec(&MODEL_SPEC.replace("num_ctx: 8192", "num_ctx: 4096"));
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:terse-llama will be updated in-place
  ~ value = <<-EOT
            FROM llama3.2:3b
            SYSTEM "You are terse.\nAnswer in one line, \"quoted\" if needed."
            TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          - PARAMETER num_ctx 8192
          + PARAMETER num_ctx 4096
            PARAMETER stop "<|eot_id|>"
            PARAMETER stop "END"
            PARAMETER temperature 0.7
            LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
            
        EOT

Plan: 0 to add, 1 to change, 0 to destroy.
"#,
        )
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:terse-llama will be updated in-place
  ~ value = <<-EOT
            FROM llama3.2:3b
            SYSTEM "You are terse.\nAnswer in one line, \"quoted\" if needed."
            TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          - PARAMETER num_ctx 8192
          + PARAMETER num_ctx 4096
            PARAMETER stop "<|eot_id|>"
            PARAMETER stop "END"
            PARAMETER temperature 0.7
            LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
            
        EOT

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#).stderr("ollama_model:terse-llama: Modifying...
terse-llama: using existing layer sha256:52dd90d6e8c6b743ce155f94dc0c05e350186d111594d0a7ecd37d64370d513b
terse-llama: using existing layer sha256:86d3115c9700fc6bfe75e7bd5a3c744d7108a0ea384c82115788ea3935a041ba
terse-llama: using existing layer sha256:c5153b289c8c323211ecc4dc89c742b723083a4c012944bfa47888835548bcc2
terse-llama: using existing layer sha256:dd56c7962561a828a0007b3c3708d096e4e6ea71cc749d5447d2bc030a58849f
terse-llama: using existing layer sha256:9d23fd888cd38d519e66f7aa7fba97b08ffe51fca99d9c0a5aa5e5fd05a7aae7
terse-llama: creating new layer sha256:b5311057be051b92e523962d241302a0efc543fec8e7657bfd8a78014f558c22
terse-llama: writing manifest
terse-llama: success
ollama_model:terse-llama: Modifications complete after [DURATION]
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();

    mac.on(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be deleted (it was absent before macllm)
  - value = true -> null

  # ollama_model:terse-llama will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - FROM llama3.2:3b
          - SYSTEM "You are terse.\nAnswer in one line, \"quoted\" if needed."
          - TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          - PARAMETER num_ctx 4096
          - PARAMETER stop "<|eot_id|>"
          - PARAMETER stop "END"
          - PARAMETER temperature 0.7
          - LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          - 
        EOT

Plan: 0 to add, 0 to change, 2 to destroy.

Destroy complete! Resources: 2 destroyed.
"#).stderr("ollama_pull:llama3.1:8b: Restoring...
ollama_pull:llama3.1:8b: Restore complete after [DURATION]
ollama_model:terse-llama: Restoring...
ollama_model:terse-llama: Restore complete after [DURATION]
",
        )
        .run();
    // Only what macllm pulled goes: llama3.2:3b was there before.
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.2:3b, llama3.1:8b]\n");
    mac.on(&["plan"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:llama3.1:8b will be created
  + value = true

Plan: 1 to add, 0 to change, 0 to destroy.
",
        )
        .run();
}

#[test]
fn ollama_errors_are_shown_verbatim_and_a_stopped_server_is_named() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nollama:\n  pull: [no-such-model:1b]\n");
    mac.on(&["apply", "--yes"])
        .status(1)
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # ollama_pull:no-such-model:1b will be created
  + value = true

Plan: 1 to add, 0 to change, 0 to destroy.
Warning: ollama_pull:no-such-model:1b cannot be sized against this Mac's memory: its base no-such-model:1b is not on the Mac yet and not in macllm's catalogue; plan again after it is pulled
",
        )
        .stderr(
            "ollama_pull:no-such-model:1b: Creating...
no-such-model:1b: pulling manifest
error: applying ollama_pull:no-such-model:1b: Ollama answered 200: pull model manifest: file does not exist
",
        )
        .run();

    mac.sh(&["launchctl", "bootout", "gui/501/homebrew.mxcl.ollama"])
        .run();
    mac.spec("macllm: 1\nollama:\n  pull: [llama3.2:3b]\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: reading ollama_pull:llama3.2:3b: Ollama is not running on sandbox:mac (nothing answers at 127.0.0.1:11434 on the emulated Mac in mac (connection refused))
hint: start it (`brew services start ollama`, or open Ollama.app) and check OLLAMA_HOST
",
        )
        .run();
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
    for program in PROGRAMS {
        std::os::unix::fs::symlink(BIN, bin.join(program)).unwrap();
    }
    mac.spec(MODEL_SPEC);
    let local = |args: &[&str]| {
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        mac.macllm(&[&["--host", "local"][..], args].concat())
            .env("PATH", path)
            .env(ENV_SANDBOX, &mac.dir)
            .env("OLLAMA_HOST", &address)
            .redact(address.clone(), "[OLLAMA_HOST]")
    };
    local(&["apply", "--yes"])
        .stdout(&format!(
            "
macllm will perform the following actions on local:

  # ollama_pull:llama3.1:8b will be created
  + value = true

{TERSE_CREATED}Plan: 2 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
"
        ))
        .stderr(&format!(
            "ollama_pull:llama3.1:8b: Creating...
{LLAMA31_PULL}ollama_pull:llama3.1:8b: Creation complete after [DURATION]
{TERSE_MADE}"
        ))
        .run();
    local(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    local(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on local:

  # ollama_pull:llama3.1:8b will be deleted (it was absent before macllm)
  - value = true -> null

  # ollama_model:terse-llama will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - FROM llama3.2:3b
          - SYSTEM "You are terse.\nAnswer in one line, \"quoted\" if needed."
          - TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          - PARAMETER num_ctx 8192
          - PARAMETER stop "<|eot_id|>"
          - PARAMETER stop "END"
          - PARAMETER temperature 0.7
          - LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          - 
        EOT

Plan: 0 to add, 0 to change, 2 to destroy.

Destroy complete! Resources: 2 destroyed.
"#).stderr("ollama_pull:llama3.1:8b: Restoring...
ollama_pull:llama3.1:8b: Restore complete after [DURATION]
ollama_model:terse-llama: Restoring...
ollama_model:terse-llama: Restore complete after [DURATION]
",
        )
        .run();
    // Nothing listens on the old port once the server is gone.
    drop(_served);
    local(&["plan"])
        .status(1)
        .stderr(
            "error: reading ollama_pull:llama3.1:8b: Ollama is not running on local (nothing answers at http://[OLLAMA_HOST] (io: Connection refused (os error 111)))
hint: start it (`brew services start ollama`, or open Ollama.app) and check OLLAMA_HOST
",
        )
        .run();
}

#[test]
fn a_model_too_big_for_the_mac_is_a_warning_with_the_numbers_or_an_error_with_strict() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: llama-long\n      from: llama3.2:3b\n      parameters: { num_ctx: 65536 }\n");
    mac.on(&["plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:llama-long will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 65536
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 1 to add, 0 to change, 0 to destroy.
Warning: ollama_model:llama-long needs about 9.6 GiB (weights 1.9 GiB + KV cache 7.0 GiB for num_ctx 65536 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the largest num_ctx that fits is 25088
"#,
        )
        .run();
    mac.on(&["--strict", "apply", "--yes"])
        .status(1)
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:llama-long will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 65536
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 1 to add, 0 to change, 0 to destroy.
Warning: ollama_model:llama-long needs about 9.6 GiB (weights 1.9 GiB + KV cache 7.0 GiB for num_ctx 65536 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 5.3 GiB of its 8.0 GiB; the largest num_ctx that fits is 25088
"#,
        )
        .stderr(
            "error: --strict: 1 model(s) would not fit in this Mac's GPU memory (see the warnings above)
",
        )
        .run();
    // A smaller context fits.
    mac.spec("macllm: 1\nollama:\n  models:\n    - name: llama-long\n      from: llama3.2:3b\n      parameters: { num_ctx: 8192 }\n");
    mac.on(&["--strict", "plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_model:llama-long will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 8192
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 1 to add, 0 to change, 0 to destroy.
"#,
        )
        .run();
}

#[test]
fn bench_reports_ollamas_timings_against_the_bandwidth_bound() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.on(&["bench", "llama3.2:3b", "--runs", "2"])
        .stdout(&llama32_bench_on_m1(2))
        .stderr(
            "llama3.2:3b: run 1 of 2...
llama3.2:3b: run 2 of 2...
",
        )
        .run();
    // The first bench left the model loaded: this one unloads it, so run 1 loads it cold
    // again (it reported 0.015 s before, a warm load).
    mac.on(&["bench", "llama3.2:3b", "--runs", "1", "--json"])
        .stdout(
            r#"{
  "format_version": "1.0",
  "model": "llama3.2:3b",
  "size_bytes": 2019378740,
  "chip": "Apple M1",
  "memory_bandwidth_gbps": 68.25,
  "runs": [
    {
      "load_seconds": 0.95775095,
      "prompt_tokens_per_second": 272.3523564590155,
      "generation_tokens_per_second": 20.278527674889357
    }
  ],
  "cold_load_seconds": 0.95775095,
  "prompt_tokens_per_second": 272.3523564590155,
  "generation_tokens_per_second": 20.278527674889357,
  "bound_tokens_per_second": 33.797523291742685,
  "share_of_bound": 0.6000004053505231
}
"#,
        )
        .stderr("llama3.2:3b: unloading it first, so that run 1 measures a cold load...\nllama3.2:3b: run 1 of 1...\n")
        .run();
    mac.on(&["bench", "llama3.1:8b"])
        .status(1)
        .stderr(
            "error: llama3.1:8b is not installed on sandbox:mac
hint: `ollama pull llama3.1:8b`, or add it to `ollama.pull` in the spec
",
        )
        .run();
}

#[test]
fn recommend_sizes_the_catalogue_for_the_mac() {
    let small = Mac::with_preset("m1-8gb-monterey");
    small.on(&["recommend"])
        .stdout(
            "
Apple M1, 8 GB: the GPU may use about 5.3 GiB; Ollama's default num_ctx here is 4096.
Memory bandwidth 68.25 GB/s.

Models at num_ctx 2048 (or their trained context if shorter), 1 slot, q8_0 KV cache:

   model                       params  quant   size GiB  fits  max ctx f16  max ctx q8_0  bound tok/s
   llama3.2:1b                 1.2B    Q8_0         1.2   yes       109824       131072*         51.7
   llama3.2:3b                 3.2B    Q4_K_M       1.9   yes        25088         47616         33.8
   phi3:mini                   3.8B    Q4_0         2.0   yes         6912         13056         31.4
   mistral:7b                  7.2B    Q4_0         3.8   yes         6144         11520         16.6
   mistral:7b-instruct-q4_K_M  7.2B    Q4_K_M       4.1   yes         4096          7680         15.6
   qwen2.5:7b                  7.6B    Q4_K_M       4.4   yes         4096          7680         14.6
   llama3.1:8b                 8.0B    Q4_K_M       4.6    no            -             -         13.9
   deepseek-r1:8b              8.2B    Q4_K_M       4.9    no            -             -         13.1
   gemma2:9b                   9.2B    Q4_0         5.1    no            -             -         12.5
   llama3.2:3b-instruct-fp16   3.2B    F16          6.0    no            -             -         10.6
   llama3.1:8b-instruct-q8_0   8.0B    Q8_0        ~8.0    no            -             -          8.0
   qwen2.5:14b                 14.8B   Q4_K_M       8.4    no            -             -          7.6
   deepseek-r1:14b             14.8B   Q4_K_M       8.4    no            -             -          7.6
   gemma2:27b                  27.2B   Q4_0        14.6    no            -             -          4.4
   qwen2.5:32b                 32.8B   Q4_K_M      18.5    no            -             -          3.4
   llama3.3:70b                70.6B   Q4_K_M      39.6    no            -             -          1.6

  * the model's trained context: Ollama clamps num_ctx to it.
  fits: weights + KV cache + 0.8 GiB overhead within the GPU's 5.3 GiB.
  bound: bandwidth / size; every token reads the whole model, so no run is faster.

8 GB tier: what `use: ollama-tuning` applies on this Mac

  OLLAMA_NUM_PARALLEL       1     every slot holds its own KV cache (num_ctx x slots); one slot leaves the 5.3 GiB the GPU may use to the model
  OLLAMA_MAX_LOADED_MODELS  1     two llama3.1:8b with their caches at 2048 need 10.9 GiB of the 5.3 GiB the GPU may use; a second model would push the first out (Ollama's default is 3)
  OLLAMA_MAX_QUEUE          64    requests wait instead of failing with 503 (default 512); the guide's 1-4 would turn a second waiting client away
  OLLAMA_KEEP_ALIVE         5m    unload after 5 idle minutes (Ollama's default), giving the memory back to macOS
  OLLAMA_FLASH_ATTENTION    1     a quantised KV cache needs it; unset means auto since v0.12.4, so 1 makes it certain
  OLLAMA_KV_CACHE_TYPE      q8_0  memory is tight: 34 bytes per 32 values instead of 64 (136 MiB for llama3.1:8b at 2048 instead of 256 MiB)
  num_thread                4     the 4 performance cores; efficiency cores would slow the CPU share of the work (env OLLAMA_NUM_THREADS does not exist)
  num_ctx                   2048  Ollama would use 4096 here; 2048 keeps llama3.1:8b's cache at 136 MiB (q8_0) in an 8 GB Mac's few GiB
",
        )
        .run();
    small.on(&["recommend", "--json"])
        .stdout(
            r#"{
  "chip": "Apple M1",
  "format_version": "1.0",
  "gpu_budget_bytes": 5726623060,
  "gpu_wired_limit_mb": null,
  "host": "sandbox:mac",
  "memory_bandwidth_gbps": 68.25,
  "memory_gb": 8,
  "models": [
    {
      "bound_tokens_per_second": 51.662171202413035,
      "fits": true,
      "max_num_ctx_f16": 109824,
      "max_num_ctx_q8_0": 131072,
      "needs_bytes": 2162040640,
      "num_ctx": 2048,
      "parameter_size": "1.2B",
      "quantization": "Q8_0",
      "size_bytes": 1321082688,
      "size_source": "model_layer",
      "tag": "llama3.2:1b",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 33.79754612047313,
      "fits": true,
      "max_num_ctx_f16": 25088,
      "max_num_ctx_q8_0": 47616,
      "needs_bytes": 2949464288,
      "num_ctx": 2048,
      "parameter_size": "3.2B",
      "quantization": "Q4_K_M",
      "size_bytes": 2019377376,
      "size_source": "model_layer",
      "tag": "llama3.2:3b",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 31.36233690390054,
      "fits": true,
      "max_num_ctx_f16": 6912,
      "max_num_ctx_q8_0": 13056,
      "needs_bytes": 3409302496,
      "num_ctx": 2048,
      "parameter_size": "3.8B",
      "quantization": "Q4_0",
      "size_bytes": 2176177120,
      "size_source": "model_layer",
      "tag": "phi3:mini",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 16.592560587638957,
      "fits": true,
      "max_num_ctx_f16": 6144,
      "max_num_ctx_q8_0": 11520,
      "needs_bytes": 5061201888,
      "num_ctx": 2048,
      "parameter_size": "7.2B",
      "quantization": "Q4_0",
      "size_bytes": 4113289184,
      "size_source": "model_layer",
      "tag": "mistral:7b",
      "trained_context": 32768
    },
    {
      "bound_tokens_per_second": 15.607805686592517,
      "fits": true,
      "max_num_ctx_f16": 4096,
      "max_num_ctx_q8_0": 7680,
      "needs_bytes": 5320724704,
      "num_ctx": 2048,
      "parameter_size": "7.2B",
      "quantization": "Q4_K_M",
      "size_bytes": 4372812000,
      "size_source": "model_layer",
      "tag": "mistral:7b-instruct-q4_K_M",
      "trained_context": 32768
    },
    {
      "bound_tokens_per_second": 14.573763278605215,
      "fits": true,
      "max_num_ctx_f16": 4096,
      "max_num_ctx_q8_0": 7680,
      "needs_bytes": 5550769824,
      "num_ctx": 2048,
      "parameter_size": "7.6B",
      "quantization": "Q4_K_M",
      "size_bytes": 4683073184,
      "size_source": "model_layer",
      "tag": "qwen2.5:7b",
      "trained_context": 32768
    },
    {
      "bound_tokens_per_second": 13.869881968438426,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 5868646720,
      "num_ctx": 2048,
      "parameter_size": "8.0B",
      "quantization": "Q4_K_M",
      "size_bytes": 4920734016,
      "size_source": "model_layer",
      "tag": "llama3.1:8b",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 13.061260928614656,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 6191114543,
      "num_ctx": 2048,
      "parameter_size": "8.2B",
      "quantization": "Q4_K_M",
      "size_bytes": 5225376047,
      "size_source": "tags_total",
      "tag": "deepseek-r1:8b",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 12.5387104991267,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 6622791456,
      "num_ctx": 2048,
      "parameter_size": "9.2B",
      "quantization": "Q4_0",
      "size_bytes": 5443143456,
      "size_source": "model_layer",
      "tag": "gemma2:9b",
      "trained_context": 8192
    },
    {
      "bound_tokens_per_second": 10.608223833086425,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 7363774688,
      "num_ctx": 2048,
      "parameter_size": "3.2B",
      "quantization": "F16",
      "size_bytes": 6433687776,
      "size_source": "model_layer",
      "tag": "llama3.2:3b-instruct-fp16",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 7.991086513785766,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 9488678704,
      "num_ctx": 2048,
      "parameter_size": "8.0B",
      "quantization": "Q8_0",
      "size_bytes": 8540766000,
      "size_source": "estimate",
      "tag": "llama3.1:8b-instruct-q8_0",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 7.593364187674222,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 10007326848,
      "num_ctx": 2048,
      "parameter_size": "14.8B",
      "quantization": "Q4_K_M",
      "size_bytes": 8988110976,
      "size_source": "model_layer",
      "tag": "qwen2.5:14b",
      "trained_context": 32768
    },
    {
      "bound_tokens_per_second": 7.593363288782502,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 10007327912,
      "num_ctx": 2048,
      "parameter_size": "14.8B",
      "quantization": "Q4_K_M",
      "size_bytes": 8988112040,
      "size_source": "tags_total",
      "tag": "deepseek-r1:14b",
      "trained_context": 131072
    },
    {
      "bound_tokens_per_second": 4.367053234597378,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 16843687042,
      "num_ctx": 2048,
      "parameter_size": "27.2B",
      "quantization": "Q4_0",
      "size_bytes": 15628387458,
      "size_source": "tags_total",
      "tag": "gemma2:27b",
      "trained_context": 8192
    },
    {
      "bound_tokens_per_second": 3.438053388711381,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 20941868709,
      "num_ctx": 2048,
      "parameter_size": "32.8B",
      "quantization": "Q4_K_M",
      "size_bytes": 19851349669,
      "size_source": "tags_total",
      "tag": "qwen2.5:32b",
      "trained_context": 32768
    },
    {
      "bound_tokens_per_second": 1.605111373911584,
      "fits": false,
      "max_num_ctx_f16": 0,
      "max_num_ctx_q8_0": 0,
      "needs_bytes": 43682236124,
      "num_ctx": 2048,
      "parameter_size": "70.6B",
      "quantization": "Q4_K_M",
      "size_bytes": 42520413916,
      "size_source": "tags_total",
      "tag": "llama3.3:70b",
      "trained_context": 131072
    }
  ],
  "ollama_default_context": 4096,
  "tier": {
    "env": [
      {
        "name": "OLLAMA_NUM_PARALLEL",
        "reason": "every slot holds its own KV cache (num_ctx x slots); one slot leaves the 5.3 GiB the GPU may use to the model",
        "value": "1"
      },
      {
        "name": "OLLAMA_MAX_LOADED_MODELS",
        "reason": "two llama3.1:8b with their caches at 2048 need 10.9 GiB of the 5.3 GiB the GPU may use; a second model would push the first out (Ollama's default is 3)",
        "value": "1"
      },
      {
        "name": "OLLAMA_MAX_QUEUE",
        "reason": "requests wait instead of failing with 503 (default 512); the guide's 1-4 would turn a second waiting client away",
        "value": "64"
      },
      {
        "name": "OLLAMA_KEEP_ALIVE",
        "reason": "unload after 5 idle minutes (Ollama's default), giving the memory back to macOS",
        "value": "5m"
      },
      {
        "name": "OLLAMA_FLASH_ATTENTION",
        "reason": "a quantised KV cache needs it; unset means auto since v0.12.4, so 1 makes it certain",
        "value": "1"
      },
      {
        "name": "OLLAMA_KV_CACHE_TYPE",
        "reason": "memory is tight: 34 bytes per 32 values instead of 64 (136 MiB for llama3.1:8b at 2048 instead of 256 MiB)",
        "value": "q8_0"
      }
    ],
    "kv_cache_type": "q8_0",
    "name": "8 GB",
    "num_ctx": 2048,
    "parallel": 1,
    "parameters": [
      {
        "name": "num_thread",
        "reason": "the 4 performance cores; efficiency cores would slow the CPU share of the work (env OLLAMA_NUM_THREADS does not exist)",
        "value": "4"
      },
      {
        "name": "num_ctx",
        "reason": "Ollama would use 4096 here; 2048 keeps llama3.1:8b's cache at 136 MiB (q8_0) in an 8 GB Mac's few GiB",
        "value": "2048"
      }
    ]
  }
}
"#,
        )
        .run();
    let large = Mac::with_preset("m4max-64gb-sequoia");
    large.on(&["recommend"])
        .stdout(
            "
Apple M4 Max, 64 GB: the GPU may use about 48.0 GiB; Ollama's default num_ctx here is 262144.
Memory bandwidth 546 GB/s.

Models at num_ctx 16384 (or their trained context if shorter), 1 slot, q8_0 KV cache:

   model                       params  quant   size GiB  fits  max ctx f16  max ctx q8_0  bound tok/s
   llama3.2:1b                 1.2B    Q8_0         1.2   yes      131072*       131072*        413.3
   llama3.2:3b                 3.2B    Q4_K_M       1.9   yes      131072*       131072*        270.4
   phi3:mini                   3.8B    Q4_0         2.0   yes       123392       131072*        250.9
   mistral:7b                  7.2B    Q4_0         3.8   yes       32768*        32768*        132.7
   mistral:7b-instruct-q4_K_M  7.2B    Q4_K_M       4.1   yes       32768*        32768*        124.9
   qwen2.5:7b                  7.6B    Q4_K_M       4.4   yes       32768*        32768*        116.6
   llama3.1:8b                 8.0B    Q4_K_M       4.6   yes      131072*       131072*        111.0
   deepseek-r1:8b              8.2B    Q4_K_M       4.9   yes      131072*       131072*        104.5
   gemma2:9b                   9.2B    Q4_0         5.1   yes        8192*         8192*        100.3
   llama3.2:3b-instruct-fp16   3.2B    F16          6.0   yes      131072*       131072*         84.9
   llama3.1:8b-instruct-q8_0   8.0B    Q8_0        ~8.0   yes      131072*       131072*         63.9
   qwen2.5:14b                 14.8B   Q4_K_M       8.4   yes       32768*        32768*         60.7
   deepseek-r1:14b             14.8B   Q4_K_M       8.4   yes      131072*       131072*         60.7
   gemma2:27b                  27.2B   Q4_0        14.6   yes        8192*         8192*         34.9
   qwen2.5:32b                 32.8B   Q4_K_M      18.5   yes       32768*        32768*         27.5
   llama3.3:70b                70.6B   Q4_K_M      39.6   yes        24832         47104         12.8

  * the model's trained context: Ollama clamps num_ctx to it.
  fits: weights + KV cache + 0.8 GiB overhead within the GPU's 48.0 GiB.
  With OLLAMA_NUM_PARALLEL=2 each loaded model holds 2 caches: divide max num_ctx by 2.
  bound: bandwidth / size; every token reads the whole model, so no run is faster.

32+ GB tier: what `use: ollama-tuning` applies on this Mac

  OLLAMA_NUM_PARALLEL       2      two clients at once; each slot holds its own KV cache, so context memory doubles (the guides' 3-6 would multiply it)
  OLLAMA_MAX_LOADED_MODELS  2      two llama3.1:8b with 2 caches each at 16384 need 14.9 GiB of the 48.0 GiB the GPU may use: two stay resident (say chat and code) without reloads; Ollama's default is 3
  OLLAMA_MAX_QUEUE          64     requests wait instead of failing with 503 (default 512); the guide's 1-4 would turn a second waiting client away
  OLLAMA_KEEP_ALIVE         30m    keep the model warm for 30 idle minutes: a reload reads gigabytes from the SSD again
  OLLAMA_FLASH_ATTENTION    1      a quantised KV cache needs it; unset means auto since v0.12.4, so 1 makes it certain
  OLLAMA_KV_CACHE_TYPE      q8_0   twice the context in the same memory with little loss (1088 MiB for llama3.1:8b at 16384 instead of 2048 MiB)
  num_thread                12     the 12 performance cores; efficiency cores would slow the CPU share of the work (env OLLAMA_NUM_THREADS does not exist)
  num_ctx                   16384  Ollama would use 262144 here; 16384 keeps llama3.1:8b's cache at 1088 MiB (q8_0), long enough for documents and code
",
        )
        .run();
}
