//! `macllm import` and `macllm init` (issue 13, "Start from the Mac you have"): on emulated
//! Macs tuned by hand, the imported spec plans no change there; hostile values come back
//! verbatim; neither command replaces a file unless told.

use crate::harness::Mac;

const HOME: &str = "/Users/admin";

/// A LaunchAgent file exactly as macllm writes one (the plist crate's XML, no trailing
/// newline), so that importing it can plan no change.
fn agent_plist(label: &str, arguments: &[&str], extra: &str) -> String {
    let arguments: String = arguments
        .iter()
        .map(|a| format!("\t\t<string>{a}</string>\n"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
\t<key>KeepAlive</key>
\t<false/>
\t<key>Label</key>
\t<string>{label}</string>
\t<key>LimitLoadToSessionType</key>
\t<array>
\t\t<string>Aqua</string>
\t</array>
\t<key>ProgramArguments</key>
\t<array>
{arguments}\t</array>
\t<key>RunAtLoad</key>
\t<true/>
{extra}</dict>
</plist>"
    )
}

/// Writes a file on the emulated Mac through `tee`, as a user would.
fn write(mac: &Mac, path: &str, text: &str) {
    let mut command = mac.command(&["sandbox", "run", "mac", "--", "tee", path]);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "tee {path}");
}

/// `POST /api/create` with `body`, as `curl` on the Mac would send it.
fn create_model(mac: &Mac, body: &serde_json::Value) {
    let mut command = mac.command(&[
        "sandbox",
        "run",
        "mac",
        "--",
        "curl",
        "-s",
        "-X",
        "POST",
        "--data-binary",
        "@-",
        "http://localhost:11434/api/create",
    ]);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"success\""), "{stdout}");
}

/// What `import` prints after its first line for a Mac whose settings are as its preset
/// left them: the shipped modules' defaults keys and the launchd overrides.
const UNTOUCHED: &str = r#"# `macllm plan` with this spec on that Mac changes nothing; edit it to change the Mac.
# Whatever macllm cannot express exactly is left out below, in comments that say why.
macllm: 1

# defaults keys the shipped modules manage, as they are set here
defaults:
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.universalaccess:reduceTransparency
  - domain: com.apple.universalaccess
    key: reduceTransparency
    value: false
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:autohide
  - domain: com.apple.dock
    key: autohide
    value: false
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:mineffect
  - domain: com.apple.dock
    key: mineffect
    value: genie
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:tilesize
  - domain: com.apple.dock
    key: tilesize
    value: 48

# launchd jobs disabled in the user's domain
services:
  # id: service:gui/com.apple.ManagedClientAgent.enrollagent
  - label: com.apple.ManagedClientAgent.enrollagent
    enabled: false
"#;

/// The start of what `import` prints for a Mac whose settings are as its preset left them,
/// under the first line naming the Mac.
fn untouched(first_line: &str) -> String {
    format!("{first_line}\n{UNTOUCHED}")
}

/// [`untouched`] for the `m2-16gb-sonoma` preset.
fn m2_untouched() -> String {
    untouched("# What mini-m2.local had when `macllm import` read it: Apple M2, 16 GB, macOS 14.5.")
}

/// A Mac tuned by hand the way the README's modules would tune it, and beyond.
fn tune_by_hand(mac: &Mac) {
    for argv in [
        &[
            "defaults",
            "write",
            "com.apple.dock",
            "autohide",
            "-bool",
            "true",
        ][..],
        &[
            "defaults",
            "write",
            "com.apple.dock",
            "tilesize",
            "-int",
            "36",
        ],
        &[
            "defaults",
            "write",
            "com.apple.dock",
            "autohide-delay",
            "-float",
            "0",
        ],
        &[
            "defaults",
            "write",
            "NSGlobalDomain",
            "NSAppSleepDisabled",
            "-bool",
            "YES",
        ],
        &["launchctl", "disable", "gui/501/com.apple.photoanalysisd"],
        &["mkdir", "-p", &format!("{HOME}/.homebrew/services")],
    ] {
        mac.sh(argv).run();
    }
    write(
        mac,
        &format!("{HOME}/.homebrew/services/ollama.env"),
        "# mine\nOLLAMA_KEEP_ALIVE=30m\nOLLAMA_FLASH_ATTENTION=1\n",
    );
    mac.sh(&["brew", "services", "restart", "ollama"])
        .stdout(
            "Stopping `ollama`... (might take a while)\n==> Successfully stopped `ollama` (label: homebrew.mxcl.ollama)\n==> Successfully started `ollama` (label: homebrew.mxcl.ollama)\n",
        )
        .run();
    // The model folder kept out of Spotlight by hand, as the spotlight-models module does it.
    mac.sh(&[
        "mv",
        &format!("{HOME}/.ollama/models"),
        &format!("{HOME}/.ollama/models.noindex"),
    ])
    .run();
    mac.sh(&[
        "ln",
        "-s",
        "models.noindex",
        &format!("{HOME}/.ollama/models"),
    ])
    .run();
    create_model(
        mac,
        &serde_json::json!({
            "model": "llama-notes",
            "from": "llama3.2:3b",
            "parameters": {"num_ctx": 8192, "temperature": 0.4},
            "system": "Answer in short notes.",
        }),
    );
    // Agents that run `ollama`: one macllm can write exactly, one with a key it does not
    // model, one formatted by hand.
    let agents = [
        (
            "com.example.ollama-warm",
            agent_plist(
                "com.example.ollama-warm",
                &["/opt/homebrew/bin/ollama", "run", "llama3.2:3b", ""],
                "",
            ),
        ),
        (
            "com.example.ollama-throttled",
            agent_plist(
                "com.example.ollama-throttled",
                &["/opt/homebrew/bin/ollama", "ps"],
                "\t<key>ThrottleInterval</key>\n\t<integer>30</integer>\n",
            ),
        ),
        (
            "com.example.ollama-spaces",
            agent_plist(
                "com.example.ollama-spaces",
                &["/opt/homebrew/bin/ollama", "list"],
                "",
            )
            .replace('\t', "  "),
        ),
    ];
    for (label, text) in agents {
        let path = format!("{HOME}/Library/LaunchAgents/{label}.plist");
        write(mac, &path, &text);
        mac.sh(&["launchctl", "bootstrap", "gui/501", &path]).run();
    }
}

#[test]
fn import_of_a_mac_tuned_by_hand_plans_no_change() {
    let mac = Mac::new();
    tune_by_hand(&mac);
    let before = mac.snapshot();
    mac.on(&["import"]).stdout(r#"# What mini-m2.local had when `macllm import` read it: Apple M2, 16 GB, macOS 14.5.
# `macllm plan` with this spec on that Mac changes nothing; edit it to change the Mac.
# Whatever macllm cannot express exactly is left out below, in comments that say why.
macllm: 1

# defaults keys the shipped modules manage, as they are set here
defaults:
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.universalaccess:reduceTransparency
  - domain: com.apple.universalaccess
    key: reduceTransparency
    value: false
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:autohide
  - domain: com.apple.dock
    key: autohide
    value: true
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:autohide-delay
  - domain: com.apple.dock
    key: autohide-delay
    value: 0.0
    type: float
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:mineffect
  - domain: com.apple.dock
    key: mineffect
    value: genie
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:tilesize
  - domain: com.apple.dock
    key: tilesize
    value: 36
  # `use: [{module: no-app-nap}]` manages it
  # id: defaults:NSGlobalDomain:NSAppSleepDisabled
  - domain: NSGlobalDomain
    key: NSAppSleepDisabled
    value: true

# launchd jobs disabled in the user's domain
services:
  # id: service:gui/com.apple.ManagedClientAgent.enrollagent
  - label: com.apple.ManagedClientAgent.enrollagent
    enabled: false
  # `use: [{module: quiet-background}]` manages it
  # id: service:gui/com.apple.photoanalysisd
  - label: com.apple.photoanalysisd
    enabled: false

# LaunchAgents that run `ollama`
agents:
  # left out: agent:com.example.ollama-spaces: macllm cannot express it exactly: planning it here would change it (here `…n=\"1.0\">\n<dict>\n  <key>KeepAlive</key>\n  <fal…`, from the spec `…n=\"1.0\">\n<dict>\n\t<key>KeepAlive</key>\n\t<fal…`)
  # left out: agent:com.example.ollama-throttled: its plist has keys macllm does not model (ThrottleInterval), which a spec would drop
  # id: agent:com.example.ollama-warm
  - label: com.example.ollama-warm
    program_arguments:
    - /opt/homebrew/bin/ollama
    - run
    - llama3.2:3b
    - ''
    keep_alive: false
    run_at_load: true
    limit_load_to_session_type:
    - Aqua

# folders kept out of Spotlight (renamed to .noindex)
spotlight:
  # id: spotlight:~/.ollama/models
  - path: ~/.ollama/models
    indexed: false

# Ollama runs as Homebrew's service (homebrew.mxcl.ollama); its variables are in /Users/admin/.homebrew/services/ollama.env
ollama:
  # id: ollama.server
  server: homebrew
  # the variables Ollama's server is given
  env:
    # id: ollama_env:OLLAMA_FLASH_ATTENTION
    OLLAMA_FLASH_ATTENTION: '1'
    # id: ollama_env:OLLAMA_KEEP_ALIVE
    OLLAMA_KEEP_ALIVE: 30m
  # models pulled from a registry
  pull:
    # id: ollama_pull:llama3.2:3b
    - llama3.2:3b
  # models built from another (`/api/show`: base, parameters, system, template)
  models:
    # id: ollama_model:llama-notes
    - name: llama-notes
      from: llama3.2:3b
      parameters:
        num_ctx: 8192
        temperature: 0.4
      system: Answer in short notes.
"#).run();
    assert!(before == mac.snapshot(), "import changed the Mac");
    import_to_file(&mac);
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
    mac.on(&["validate"])
        .stdout(
            r#"Success! macllm.yaml is valid: 14 resources.
"#,
        )
        .run();
}

#[test]
fn import_of_a_preset_mac_untouched() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    let before = mac.snapshot();
    mac.on(&["import"]).stdout(&[untouched("# What air-m1.local had when `macllm import` read it: Apple M1, 8 GB, macOS 12.7.6.").as_str(), r#"
# Ollama runs as Homebrew's service (homebrew.mxcl.ollama); its variables are in /Users/admin/.homebrew/services/ollama.env
ollama:
  # id: ollama.server
  server: homebrew
  # models pulled from a registry
  pull:
    # id: ollama_pull:llama3.2:3b
    - llama3.2:3b
"#].concat()).run();
    assert!(before == mac.snapshot(), "import changed the Mac");
    import_to_file(&mac);
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
}

/// `import --out macllm.yaml` writes what `import` prints.
fn import_to_file(mac: &Mac) {
    let printed = mac.on(&["import"]).stdout_of();
    mac.on(&["import", "--out", "macllm.yaml"])
        .stdout("Wrote macllm.yaml.\nNext: macllm --host sandbox:mac plan\n")
        .run();
    let written = std::fs::read_to_string(mac.work.join("macllm.yaml")).unwrap();
    assert_eq!(written, printed);
}

#[test]
fn hostile_values_from_the_mac_come_back_verbatim() {
    let mac = Mac::new();
    let hostile = "{{ host.hostname }} {% endraw %}{# x #}: \"q\" 'a' # not a comment\n- item\n&anchor *alias";
    mac.sh(&[
        "defaults",
        "write",
        "com.apple.dock",
        "mineffect",
        "-string",
        hostile,
    ])
    .run();
    // A dictionary whose key holds template syntax: the loader refuses templated keys, so it
    // is left out.
    mac.sh(&[
        "defaults",
        "write",
        "com.apple.finder",
        "DisableAllAnimations",
        "-dict",
        "{{ key }}",
        "value",
    ])
    .run();
    create_model(
        &mac,
        &serde_json::json!({
            "model": "hostile",
            "from": "llama3.2:3b",
            "parameters": {"stop": ["{{ end }}", "</s>"]},
            "system": "{% raw %}{{ .Prompt }}{% endraw %}\n---\nkey: [1, 2]",
        }),
    );
    // A label launchd took but a spec refuses: left out with the loader's own reason.
    mac.sh(&["launchctl", "disable", "gui/501/{{ x }}: - #bad"])
        .run();
    // An agent that runs `ollama` with arguments and a variable of the same kind.
    let path = format!("{HOME}/Library/LaunchAgents/com.example.ollama-hostile.plist");
    let plist = agent_plist(
        "com.example.ollama-hostile",
        &["/opt/homebrew/bin/ollama", "run", "{{ model }}", "{% endraw %}: # - x"],
        "\t<key>WorkingDirectory</key>\n\t<string>/tmp/{{ here }}</string>\n",
    )
    .replace("\t<key>KeepAlive</key>", "\t<key>EnvironmentVariables</key>\n\t<dict>\n\t\t<key>PROMPT</key>\n\t\t<string>{# hi #} *alias</string>\n\t</dict>\n\t<key>KeepAlive</key>");
    write(&mac, &path, &plist);
    mac.sh(&["launchctl", "bootstrap", "gui/501", &path]).run();
    mac.on(&["import"]).stdout(r#"# What mini-m2.local had when `macllm import` read it: Apple M2, 16 GB, macOS 14.5.
# `macllm plan` with this spec on that Mac changes nothing; edit it to change the Mac.
# Whatever macllm cannot express exactly is left out below, in comments that say why.
macllm: 1

# defaults keys the shipped modules manage, as they are set here
defaults:
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.universalaccess:reduceTransparency
  - domain: com.apple.universalaccess
    key: reduceTransparency
    value: false
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:autohide
  - domain: com.apple.dock
    key: autohide
    value: false
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:mineffect
  - domain: com.apple.dock
    key: mineffect
    value: '{{ "\u007b\u007b host.hostname \u007d\u007d \u007b\u0025 endraw \u0025\u007d\u007b\u0023 x \u0023\u007d: \"q\" ''a'' \u0023 not a comment\u000a- item\u000a&anchor *alias" }}'
  # `use: [{module: lean-ui}]` manages it
  # id: defaults:com.apple.dock:tilesize
  - domain: com.apple.dock
    key: tilesize
    value: 48
  # left out: defaults:com.apple.finder:DisableAllAnimations: its value (dictionary) holds a date, data or a key that a spec value cannot say exactly

# launchd jobs disabled in the user's domain
services:
  # id: service:gui/com.apple.ManagedClientAgent.enrollagent
  - label: com.apple.ManagedClientAgent.enrollagent
    enabled: false
  # left out: service:gui/{{ x }}: - #bad: macllm cannot express it: `{{ x }}: - #bad` is not a launchd label: use letters, digits, `.`, `-` and `_` (like `com.example.ollama`)

# LaunchAgents that run `ollama`
agents:
  # id: agent:com.example.ollama-hostile
  - label: com.example.ollama-hostile
    program_arguments:
    - /opt/homebrew/bin/ollama
    - run
    - '{% raw %}{{ model }}{% endraw %}'
    - '{{ "\u007b\u0025 endraw \u0025\u007d: \u0023 - x" }}'
    environment:
      PROMPT: '{% raw %}{# hi #} *alias{% endraw %}'
    keep_alive: false
    run_at_load: true
    working_directory: '{% raw %}/tmp/{{ here }}{% endraw %}'
    limit_load_to_session_type:
    - Aqua

# Ollama runs as Homebrew's service (homebrew.mxcl.ollama); its variables are in /Users/admin/.homebrew/services/ollama.env
ollama:
  # id: ollama.server
  server: homebrew
  # models pulled from a registry
  pull:
    # id: ollama_pull:llama3.2:3b
    - llama3.2:3b
  # models built from another (`/api/show`: base, parameters, system, template)
  models:
    # id: ollama_model:hostile
    - name: hostile
      from: llama3.2:3b
      parameters:
        stop:
        - </s>
        - '{% raw %}{{ end }}{% endraw %}'
      system: '{{ "\u007b\u0025 raw \u0025\u007d\u007b\u007b .Prompt \u007d\u007d\u007b\u0025 endraw \u0025\u007d\u000a---\u000akey: [1, 2]" }}'
"#).run();
    import_to_file(&mac);
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
    // Applying the imported spec leaves every hostile value as it was.
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
    mac.read("com.apple.dock", "mineffect")
        .stdout(&format!("{hostile}\n"))
        .run();
}

#[test]
fn import_and_init_refuse_to_replace_a_file_unless_forced() {
    let mac = Mac::new();
    std::fs::write(mac.work.join("macllm.yaml"), "mine\n").unwrap();
    for command in ["import", "init"] {
        mac.on(&[command, "--out", "macllm.yaml"])
            .status(1)
            .stderr("error: macllm.yaml already exists; it was left as it is\nhint: pass --force to replace it, or --out another file\n")
            .run();
        assert_eq!(
            std::fs::read_to_string(mac.work.join("macllm.yaml")).unwrap(),
            "mine\n"
        );
    }
    mac.on(&["init", "--force"])
        .status(1)
        .stderr(
            r#"error: the following required arguments were not provided:
  --out <FILE>

Usage: macllm [GLOBAL OPTIONS] init --out <FILE> --force

For more information, try '--help'.
"#,
        )
        .run();
    mac.on(&["init", "--out", "macllm.yaml", "--force"])
        .stdout("Wrote macllm.yaml.\nNext: macllm --host sandbox:mac plan\n")
        .run();
    mac.on(&["validate"]).stdout(r#"Success! macllm.yaml is valid: 12 resources (rendered for each of the 5 emulated Macs).
"#).run();
}

#[test]
fn init_sizes_a_starter_spec_for_an_8_gb_mac() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.on(&["init"]).stdout(r#"# A starter spec for Apple M1, 8 GB (the 8 GB tier), from `macllm init`. `macllm recommend`
# explains every number here; `macllm plan` shows what `macllm apply` would change.
macllm: 1
use:
  # Ollama's server variables for the 8 GB tier (OLLAMA_NUM_PARALLEL 1, OLLAMA_MAX_LOADED_MODELS
  # 1, OLLAMA_MAX_QUEUE 64, OLLAMA_KEEP_ALIVE 5m, OLLAMA_FLASH_ATTENTION 1, OLLAMA_KV_CACHE_TYPE
  # q8_0), and phi3-mini-tuned: a copy of phi3:mini with num_ctx 2048 and num_thread 4 (the
  # performance cores).
  - module: ollama-tuning
    with:
      model: phi3:mini
  # App Nap off, so a terminal or client app talking to a local model is not throttled in the
  # background.
  - module: no-app-nap
  # Photo and media analysis off; they compete with inference for memory bandwidth and the GPU.
  # Apple's agents are SIP-protected, so they stop at the next login.
  - module: quiet-background
  # Fewer animations and less transparency, a Dock that stays out of the way (window server and
  # Dock work less while a model generates). With 8 GB, every bit the window server and Dock do
  # not use is left to the model.
  - module: lean-ui
ollama:
  pull:
    # The largest 4-bit model in macllm's catalogue that takes at most 80% of the 5.3 GiB the
    # GPU may use, leaving the rest to other apps: 2.0 GiB of weights, 3.2 GiB with its KV cache
    # at num_ctx 2048 and overhead; at most 31.4 tokens/s here (memory bandwidth / size).
    - phi3:mini
"#).run();
    mac.on(&["init", "--out", "macllm.yaml"])
        .stdout("Wrote macllm.yaml.\nNext: macllm --host sandbox:mac plan\n")
        .run();
    mac.on(&["validate"]).stdout(r#"Success! macllm.yaml is valid: 22 resources (rendered for each of the 5 emulated Macs).
"#).run();
    mac.on(&["plan", "--detailed-exitcode"]).status(2).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:NSGlobalDomain:NSAppSleepDisabled will be created
  + value = true
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled will be created
  + value = false
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSWindowResizeTime will be created
  + value = 0.001
    # then: activateSettings -u

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.dock:autohide-delay will be created
  + value = 0.0
    # then: killall Dock

  # defaults:com.apple.dock:expose-animation-duration will be created
  + value = 0.1
    # then: killall Dock

  # defaults:com.apple.dock:launchanim will be created
  + value = false
    # then: killall Dock

  # defaults:com.apple.dock:mineffect will be updated in-place
  ~ value = "genie" -> "scale"
    # then: killall Dock

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 36
    # then: killall Dock

  # defaults:com.apple.finder:DisableAllAnimations will be created
  + value = true
    # then: killall Finder

  # defaults:com.apple.universalaccess:reduceTransparency will be updated in-place
  ~ value = false -> true
    # then: log out and back in (accessibility display settings are read at login)

  # ollama_env:OLLAMA_FLASH_ATTENTION will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "true",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "5m",
          +   "server": "5m0s",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_KV_CACHE_TYPE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "q8_0",
          +   "server": "q8_0",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_MAX_LOADED_MODELS will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "1",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_MAX_QUEUE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "64",
          +   "server": "64",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "1",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_pull:phi3:mini will be created
  + value = true

  # ollama_model:phi3-mini-tuned will be created
  ~ value = <<-EOT
          + FROM phi3:mini
          + PARAMETER num_ctx 2048
          + PARAMETER num_thread 4
          + 
        EOT

  # service:gui/com.apple.mediaanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

Plan: 15 to add, 6 to change, 0 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u, log out and back in (accessibility display settings are read at login), restart the Ollama server.
Warning: defaults:com.apple.universalaccess:reduceTransparency: writing com.apple.universalaccess needs Full Disk Access for the terminal
Warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
"#).run();
}

#[test]
fn init_sizes_a_starter_spec_for_a_64_gb_mac() {
    let mac = Mac::with_preset("m4max-64gb-sequoia");
    mac.on(&["init"]).stdout(r#"# A starter spec for Apple M4 Max, 64 GB (the 32+ GB tier), from `macllm init`. `macllm
# recommend` explains every number here; `macllm plan` shows what `macllm apply` would change.
macllm: 1
use:
  # Ollama's server variables for the 32+ GB tier (OLLAMA_NUM_PARALLEL 2,
  # OLLAMA_MAX_LOADED_MODELS 2, OLLAMA_MAX_QUEUE 64, OLLAMA_KEEP_ALIVE 30m,
  # OLLAMA_FLASH_ATTENTION 1, OLLAMA_KV_CACHE_TYPE q8_0), and qwen2.5-32b-tuned: a copy of
  # qwen2.5:32b with num_ctx 16384 and num_thread 12 (the performance cores).
  - module: ollama-tuning
    with:
      model: qwen2.5:32b
  # App Nap off, so a terminal or client app talking to a local model is not throttled in the
  # background.
  - module: no-app-nap
  # Photo and media analysis off; they compete with inference for memory bandwidth and the GPU.
  # Apple's agents are SIP-protected, so they stop at the next login.
  - module: quiet-background
ollama:
  pull:
    # The largest 4-bit model in macllm's catalogue that takes at most 80% of the 48.0 GiB the
    # GPU may use, leaving the rest to other apps: 18.5 GiB of weights, 21.4 GiB with its KV
    # cache at num_ctx 16384 and overhead; at most 27.5 tokens/s here (memory bandwidth / size).
    - qwen2.5:32b
"#).run();
    mac.on(&["init", "--out", "macllm.yaml"])
        .stdout("Wrote macllm.yaml.\nNext: macllm --host sandbox:mac plan\n")
        .run();
    mac.on(&["validate"]).stdout(r#"Success! macllm.yaml is valid: 12 resources (rendered for each of the 5 emulated Macs).
"#).run();
    mac.on(&["plan", "--detailed-exitcode"]).status(2).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # defaults:NSGlobalDomain:NSAppSleepDisabled will be created
  + value = true
    # then: activateSettings -u

  # ollama_env:OLLAMA_FLASH_ATTENTION will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "1",
          +   "server": "true",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_KEEP_ALIVE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "30m",
          +   "server": "30m0s",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_KV_CACHE_TYPE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "q8_0",
          +   "server": "q8_0",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_MAX_LOADED_MODELS will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "2",
          +   "server": "2",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_MAX_QUEUE will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "64",
          +   "server": "64",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "2",
          +   "server": "2",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_pull:qwen2.5:32b will be created
  + value = true

  # ollama_model:qwen2.5-32b-tuned will be created
  ~ value = <<-EOT
          + FROM qwen2.5:32b
          + PARAMETER num_ctx 16384
          + PARAMETER num_thread 12
          + 
        EOT

  # service:gui/com.apple.mediaanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

Plan: 9 to add, 2 to change, 0 to destroy.
After the changes: activateSettings -u, restart the Ollama server.
Warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
"#).run();
}

const STOPPED: &str = "Stopping `ollama`... (might take a while)\n==> Successfully stopped `ollama` (label: homebrew.mxcl.ollama)\n";

#[test]
fn import_of_ollama_served_by_an_agent_of_ones_own() {
    let mac = Mac::new();
    mac.sh(&["brew", "services", "stop", "ollama"])
        .stdout(STOPPED)
        .run();
    mac.sh(&["launchctl", "disable", "gui/501/homebrew.mxcl.ollama"])
        .run();
    let path = format!("{HOME}/Library/LaunchAgents/com.example.ollama.plist");
    let plist = agent_plist(
        "com.example.ollama",
        &["/opt/homebrew/bin/ollama", "serve"],
        "",
    )
    .replace("\t<key>KeepAlive</key>\n\t<false/>", "\t<key>EnvironmentVariables</key>\n\t<dict>\n\t\t<key>OLLAMA_KEEP_ALIVE</key>\n\t\t<string>10m</string>\n\t</dict>\n\t<key>KeepAlive</key>\n\t<true/>");
    write(&mac, &path, &plist);
    mac.sh(&["launchctl", "bootstrap", "gui/501", &path]).run();
    mac.on(&["import"])
        .stdout(
            &[
                m2_untouched().as_str(),
                r#"  # `use: [{module: ollama-server}]` manages it
  # id: service:gui/homebrew.mxcl.ollama
  - label: homebrew.mxcl.ollama
    enabled: false

# LaunchAgents that run `ollama`
agents:
  # id: agent:com.example.ollama
  - label: com.example.ollama
    program_arguments:
    - /opt/homebrew/bin/ollama
    - serve
    environment:
      OLLAMA_KEEP_ALIVE: 10m
    keep_alive: true
    run_at_load: true
    limit_load_to_session_type:
    - Aqua

# Ollama runs from your agent com.example.ollama, with its variables in its plist
ollama:
  # id: ollama.server
  server: own
  # models pulled from a registry
  pull:
    # id: ollama_pull:llama3.2:3b
    - llama3.2:3b
"#,
            ]
            .concat(),
        )
        .run();
    import_to_file(&mac);
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
}

#[test]
fn import_of_the_app_with_a_variable_set_by_hand() {
    let mac = Mac::new();
    mac.sh(&["brew", "services", "stop", "ollama"])
        .stdout(STOPPED)
        .run();
    mac.sh(&["mkdir", "-p", "/Applications/Ollama.app/Contents/Resources"])
        .run();
    mac.sh(&["tee", "/Applications/Ollama.app/Contents/Resources/ollama"])
        .run();
    // Ollama's FAQ: `launchctl setenv`, then start the app; a reboot forgets the variable.
    mac.sh(&["launchctl", "setenv", "OLLAMA_NUM_PARALLEL", "2"])
        .run();
    mac.sh(&["open", "-a", "Ollama"]).run();
    mac.on(&["import"]).stdout(&[m2_untouched().as_str(), r#"
# Ollama runs from Ollama.app; its variables come from `launchctl setenv`
ollama:
  # id: ollama.server
  server: app
  # the variables Ollama's server is given
  # left out: ollama_env:OLLAMA_NUM_PARALLEL: it is set only with `launchctl setenv`, which a restart of the Mac forgets; macllm would add a login agent that sets it again at every login (add it under `ollama.env` for that)
  # models pulled from a registry
  pull:
    # id: ollama_pull:llama3.2:3b
    - llama3.2:3b
"#].concat()).run();
    import_to_file(&mac);
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
}

#[test]
fn with_json_the_spec_comes_in_one_document() {
    let mac = Mac::new();
    let printed = mac
        .on(&["--json", "import", "--out", "macllm.yaml"])
        .stdout_of();
    let document: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let written = std::fs::read_to_string(mac.work.join("macllm.yaml")).unwrap();
    assert_eq!(
        document,
        serde_json::json!({
            "format_version": "1.0",
            "host": "sandbox:mac",
            "spec": written,
            "written_to": "macllm.yaml",
        })
    );
    let printed = mac.on(&["--json", "init"]).stdout_of();
    let document: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(document["written_to"], serde_json::Value::Null);
    assert_eq!(
        document["spec"].as_str().unwrap(),
        mac.on(&["init"]).stdout_of()
    );
}

/// `OLLAMA_HOST` moves the server off 11434: its models are listed where it listens, as
/// `plan` looks for them there.
#[test]
fn import_finds_ollama_where_ollama_host_moved_it() {
    let mac = Mac::new();
    mac.sh(&["mkdir", "-p", &format!("{HOME}/.homebrew/services")])
        .run();
    write(
        &mac,
        &format!("{HOME}/.homebrew/services/ollama.env"),
        "OLLAMA_HOST=127.0.0.1:11600\n",
    );
    mac.sh(&["brew", "services", "restart", "ollama"])
        .stdout(&format!(
            "{STOPPED}==> Successfully started `ollama` (label: homebrew.mxcl.ollama)\n"
        ))
        .run();
    mac.on(&["import"]).stdout(&[m2_untouched().as_str(), r#"
# Ollama runs as Homebrew's service (homebrew.mxcl.ollama); its variables are in /Users/admin/.homebrew/services/ollama.env
ollama:
  # id: ollama.server
  server: homebrew
  # the variables Ollama's server is given
  env:
    # id: ollama_env:OLLAMA_HOST
    OLLAMA_HOST: 127.0.0.1:11600
  # models pulled from a registry
  pull:
    # id: ollama_pull:llama3.2:3b
    - llama3.2:3b
"#].concat()).run();
    import_to_file(&mac);
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
}

/// Over SSH there is no GUI domain: import reads the user domain, says so once, and the spec
/// still plans no change.
#[test]
fn import_of_a_headless_mac() {
    let mac = Mac::with_preset("m2-16gb-sonoma-ssh");
    mac.on(&["import", "--out", "macllm.yaml"]).stdout(r#"Wrote macllm.yaml.
Next: macllm --host sandbox:mac plan
"#).stderr(r#"warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
"#).run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
}
