//! Shipped and local modules through `use:`.

use crate::harness::{Mac, PRESETS};
use macllm::spec::modules::SHIPPED;

/// A sweep: every shipped module plans on every preset without a word on stderr. The plans
/// themselves are many and long; the modules' own tests and `tiers_follow_the_macs_memory`
/// check what they say.
#[test]
fn every_shipped_module_plans_on_every_preset() {
    for preset in PRESETS {
        let mac = Mac::with_preset(preset.name);
        for (name, _) in SHIPPED {
            let with = if *name == "ollama-tuning" {
                "\n    with: { model: llama3.2:3b }"
            } else {
                ""
            };
            mac.spec(&format!("macllm: 1\nuse:\n  - module: {name}{with}\n"));
            let plan = mac.on(&["plan"]).stdout_of();
            assert!(
                plan.starts_with("\nmacllm will perform the following actions on sandbox:mac:\n"),
                "{name} on {}: {plan}",
                preset.name
            );
        }
        assert!(!mac.state_path().exists());
    }
}

#[test]
fn tiers_follow_the_macs_memory() {
    let spec = "macllm: 1\nuse:\n  - module: ollama-tuning\n    with: { model: llama3.2:3b }\n";
    let small = Mac::with_preset("m1-8gb-monterey");
    small.spec(spec);
    small.on(&["plan"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

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

  # ollama_model:llama3.2-3b-tuned will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 2048
          + PARAMETER num_thread 4
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 7 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#,
        )
        .run();
    let large = Mac::with_preset("m4max-64gb-sequoia");
    large.spec(spec);
    large.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

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

  # ollama_model:llama3.2-3b-tuned will be created
  ~ value = <<-EOT
          + FROM llama3.2:3b
          + TEMPLATE "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
          + PARAMETER num_ctx 16384
          + PARAMETER num_thread 12
          + PARAMETER stop "<|end_header_id|>"
          + PARAMETER stop "<|eot_id|>"
          + PARAMETER stop "<|start_header_id|>"
          + LICENSE "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)\n**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)"
          + 
        EOT

Plan: 7 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.

Apply complete! Resources: 7 added, 0 changed, 0 destroyed.
"#).stderr("ollama_env:OLLAMA_FLASH_ATTENTION: Creating...
ollama_env:OLLAMA_FLASH_ATTENTION: Creation complete after [DURATION]
ollama_env:OLLAMA_KEEP_ALIVE: Creating...
ollama_env:OLLAMA_KEEP_ALIVE: Creation complete after [DURATION]
ollama_env:OLLAMA_KV_CACHE_TYPE: Creating...
ollama_env:OLLAMA_KV_CACHE_TYPE: Creation complete after [DURATION]
ollama_env:OLLAMA_MAX_LOADED_MODELS: Creating...
ollama_env:OLLAMA_MAX_LOADED_MODELS: Creation complete after [DURATION]
ollama_env:OLLAMA_MAX_QUEUE: Creating...
ollama_env:OLLAMA_MAX_QUEUE: Creation complete after [DURATION]
ollama_env:OLLAMA_NUM_PARALLEL: Creating...
ollama_env:OLLAMA_NUM_PARALLEL: Creation complete after [DURATION]
Restarting the Ollama server...
Restarted: the Ollama server, and it reports the new variables
ollama_model:llama3.2-3b-tuned: Creating...
llama3.2-3b-tuned: using existing layer sha256:52dd90d6e8c6b743ce155f94dc0c05e350186d111594d0a7ecd37d64370d513b
llama3.2-3b-tuned: using existing layer sha256:86d3115c9700fc6bfe75e7bd5a3c744d7108a0ea384c82115788ea3935a041ba
llama3.2-3b-tuned: using existing layer sha256:c5153b289c8c323211ecc4dc89c742b723083a4c012944bfa47888835548bcc2
llama3.2-3b-tuned: using existing layer sha256:dd56c7962561a828a0007b3c3708d096e4e6ea71cc749d5447d2bc030a58849f
llama3.2-3b-tuned: creating new layer sha256:7a8c34438633ba215c5153a892fc493e051efcca74bbab1bdfe3dde59659490d
llama3.2-3b-tuned: writing manifest
llama3.2-3b-tuned: success
ollama_model:llama3.2-3b-tuned: Creation complete after [DURATION]
",
        )
        .run();
    large
        .on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();
    // Homebrew 6.0.15+ on the preset: the variables live in the service env file, from which
    // `brew services` wrote them into the service's plist.
    large
        .sh(&["cat", "/Users/admin/.homebrew/services/ollama.env"])
        .stdout(
            "OLLAMA_FLASH_ATTENTION=1\nOLLAMA_KEEP_ALIVE=30m\nOLLAMA_KV_CACHE_TYPE=q8_0\nOLLAMA_MAX_LOADED_MODELS=2\nOLLAMA_MAX_QUEUE=64\nOLLAMA_NUM_PARALLEL=2\n",
        )
        .run();
}

#[test]
fn with_is_checked_against_the_modules_parameters() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nuse:\n  - module: lean-ui\n    with: { tile_sise: 40 }\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: use[0].with.tile_sise: module `lean-ui` has no parameter `tile_sise`
 --> macllm.yaml:4:24
  |
4 |     with: { tile_sise: 40 }
  |                        ^
hint: did you mean `tile_size`? its parameters are dock_autohide, tile_size, transparency
",
        )
        .run();
    mac.spec("macllm: 1\nuse:\n  - module: lean-ui\n    with: { tile_size: big }\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: use[0].with.tile_size: `tile_size` must be an integer, not a string
 --> macllm.yaml:4:24
  |
4 |     with: { tile_size: big }
  |                        ^
",
        )
        .run();
    mac.spec("macllm: 1\nuse:\n  - module: lean-uix\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: use[0].module: unknown module `lean-uix`
 --> macllm.yaml:3:13
  |
3 |   - module: lean-uix
  |             ^
hint: shipped modules: keep-awake, lean-ui, no-app-nap, ollama-server, ollama-tuning, quiet-background, spotlight-models; a local one starts with ./
",
        )
        .run();
    mac.macllm(&["modules", "list"])
        .stdout(
            "keep-awake         Keep the Mac from idle and system sleep with `caffeinate -i -s` run as an agent (no root, ends when the agent is removed).
lean-ui            Fewer animations and less transparency, a Dock that stays out of the way (window server and Dock work less while a model generates).
no-app-nap         App Nap off, so a terminal or client app talking to a local model is not throttled in the background.
ollama-server      Ollama served by a LaunchAgent macllm owns, at interactive priority (launchd throttles jobs without a ProcessType), with the spec's `ollama.env` in its plist (`ollama.server` becomes `own`); Homebrew's service is disabled so that two servers never want port 11434.
ollama-tuning      Ollama's server variables by memory tier (8 / 16 / 32+ GB), and optionally a tuned copy of a model with num_ctx by tier and num_thread = performance cores.
quiet-background   Photo and media analysis off; they compete with inference for memory bandwidth and the GPU. Apple's agents are SIP-protected, so they stop at the next login.
spotlight-models   Keep Spotlight out of the model folder (renamed to .noindex with a symlink; mdutil cannot exclude a folder).
",
        )
        .run();
    mac.macllm(&["modules", "show", "keep-awake"])
        .stdout(
            "module: keep-awake
description: Keep the Mac from idle and system sleep with `caffeinate -i -s` run as an agent (no root, ends when the agent is removed).

agents:
  - label: com.macllm.keep-awake
    program_arguments: [/usr/bin/caffeinate, -i, -s]
",
        )
        .run();
}

#[test]
fn duplicates_across_a_module_and_the_spec_name_both_files() {
    let mac = Mac::new();
    std::fs::write(
        mac.work.join("dock.yaml"),
        "module: dock\ndescription: a local module\ndefaults:\n  - domain: com.apple.dock\n    key: tilesize\n    value: 30\n",
    )
    .unwrap();
    mac.spec("macllm: 1\nuse:\n  - module: ./dock.yaml\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.dock:tilesize will be updated in-place
  ~ value = 48 -> 30
    # then: killall Dock

Plan: 0 to add, 1 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
",
        )
        .stderr(
            "defaults:com.apple.dock:tilesize: Modifying...
defaults:com.apple.dock:tilesize: Modifications complete after [DURATION]
Restarted: killall Dock
",
        )
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("30\n").run();
    mac.spec("macllm: 1\nuse:\n  - module: ./dock.yaml\ndefaults:\n  - {domain: com.apple.dock, key: tilesize, value: 40}\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: defaults[0]: duplicate resource id `defaults:com.apple.dock:tilesize`: also declared at ./dock.yaml:4 (defaults[0])
 --> macllm.yaml:5:5
  |
5 |   - {domain: com.apple.dock, key: tilesize, value: 40}
  |     ^
",
        )
        .run();
}

/// The shipped hardware examples converge on their presets. Their plans run to a hundred
/// lines and more each and are the examples' business; here: apply prints the plan it was
/// shown and the counts, the second plan has nothing to do, and destroy undoes every change.
#[test]
fn the_hardware_examples_apply_cleanly_to_their_presets() {
    for (example, preset, added, changed) in [
        ("macbook-air-8gb.yaml", "m1-8gb-monterey", 14, 7),
        ("mac-mini-16gb.yaml", "m2-16gb-sonoma", 10, 3),
        ("m4-max-64gb.yaml", "m4max-64gb-sequoia", 13, 6),
    ] {
        let mac = Mac::with_preset(preset);
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(example),
        )
        .unwrap();
        mac.spec(&text);
        let plan = mac.on(&["--strict", "plan"]).stdout_of();
        assert!(
            plan.contains(&format!(
                "\nPlan: {added} to add, {changed} to change, 0 to destroy.\n"
            )),
            "{example}: {plan}"
        );
        mac.on(&["--strict", "apply", "--yes"])
            .stdout(&format!(
                "{plan}\nApply complete! Resources: {added} added, {changed} changed, 0 destroyed.\n"
            ))
            .stderr_any()
            .run();
        // The notices of the first plan (Full Disk Access, the folder moved, SIP) are not
        // repeated: nothing they are about changes now.
        mac.on(&["plan", "--detailed-exitcode"])
            .stdout("\nNo changes. The host matches the spec.\n")
            .run();
        let destroy = mac.on(&["destroy", "--yes"]).stderr_any().stdout_of();
        assert!(
            destroy.ends_with(&format!(
                "\nDestroy complete! Resources: {} destroyed.\n",
                added + changed
            )),
            "{example}: {destroy}"
        );
    }
}
