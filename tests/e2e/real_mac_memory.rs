//! How much memory a real Mac lets the GPU use, through the real binary: Metal's working set
//! (`recommendedMaxWorkingSetSize`, what Ollama counts as VRAM) is 2/3 of memory below 36 GiB
//! and 3/4 from 36 GiB (a 36 GB M4 Max logs 28991.03 MB; notes/issue10-research.md section
//! 7), and `sysctl iogpu.wired_limit_mb` replaces it when set.

use crate::harness::Mac;

/// A 36 GB M4 Max (the 14-core CPU, 32-core GPU part, 410 GB/s: Apple's MacBook Pro specs):
/// the 64 GB preset with its machine.json edited, as other tests edit the uid.
fn m4_max_36gb() -> Mac {
    let mac = Mac::with_preset("m4max-64gb-sequoia");
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["memory_bytes"] = (36u64 << 30).into();
    json["performance_cores"] = 10.into();
    json["gpu_cores"] = 32.into();
    json["memory_bandwidth_gbps"] = 410.0.into();
    std::fs::write(&machine, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    // The Ollama server started when the Mac was created; start it again on the new memory.
    mac.sh(&[
        "launchctl",
        "kickstart",
        "-k",
        "gui/501/homebrew.mxcl.ollama",
    ])
    .stdout_any()
    .stderr_any()
    .run();
    mac
}

/// `sudo`: uid 0 in machine.json, as other tests do.
fn set_uid(mac: &Mac, uid: u32) {
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["uid"] = uid.into();
    std::fs::write(&machine, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

/// qwen2.5:14b (8.4 GiB of weights, 48 layers, 8 KV heads of 128) with three slots of
/// 30720 tokens at f16: 16.9 GiB of KV cache, about 26.0 GiB in all. It fits in 3/4 of
/// 36 GiB (27 GiB), not in 2/3 (24 GiB).
const SPEC: &str = "macllm: 1
ollama:
  env: { OLLAMA_NUM_PARALLEL: 3 }
  models:
    - name: qwen-long
      from: qwen2.5:14b
      parameters: { num_ctx: 30720 }
";

const PLAN: &str = r#"
macllm will perform the following actions on sandbox:mac:

  # ollama_env:OLLAMA_NUM_PARALLEL will be created
  ~ value = <<-EOT
          + {
          +   "env_file": "3",
          +   "server": "3",
          + }
        EOT
    # then: restart the Ollama server
    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist

  # ollama_model:qwen-long will be created
  ~ value = <<-EOT
          + FROM qwen2.5:14b
          + TEMPLATE "<|im_start|>system\n{{ if .System }}{{ .System }}{{ else }}You are Qwen, created by Alibaba Cloud. You are a helpful assistant.{{ end }}\n{{- if .Tools }}\n\n# Tools\n\n<tools>\n{{ range .Tools }}{{ . }}\n{{ end }}</tools>{{ end }}<|im_end|>\n{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ .Response }}<|im_end|>"
          + PARAMETER num_ctx 30720
          + LICENSE "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n\n(The emulated registry keeps only the first lines of this license.)"
          + 
        EOT

Plan: 2 to add, 0 to change, 0 to destroy.
After the changes: restart the Ollama server.
"#;

/// What the emulated Ollama logged at start about its VRAM.
fn total_vram(mac: &Mac) -> String {
    let log = mac
        .sh(&["cat", "/opt/homebrew/var/log/ollama.log"])
        .stdout_any()
        .stderr_any()
        .run()
        .stdout;
    let line = log
        .lines()
        .rfind(|line| line.contains("vram-based default context"))
        .unwrap();
    line[line.find("total_vram=").unwrap()..].to_string()
}

#[test]
fn a_36_gb_mac_lets_the_gpu_have_three_quarters_of_its_memory() {
    let mac = m4_max_36gb();
    mac.spec(SPEC);
    let plan = mac.on(&["plan"]).stdout_any().stderr_any().run();
    assert_eq!(plan.stdout, PLAN);
    assert_eq!(plan.stderr, "");
    // The emulated Ollama agrees: 27 GiB of VRAM.
    assert_eq!(
        total_vram(&mac),
        "total_vram=\"27.0 GiB\" default_num_ctx=32768"
    );
}

/// `sudo sysctl -w iogpu.wired_limit_mb=24576` gives the GPU 24 GiB: the same plan now warns,
/// naming the setting, and the facts show it.
#[test]
fn iogpu_wired_limit_mb_replaces_the_default_budget() {
    let mac = m4_max_36gb();
    mac.spec(SPEC);
    assert_eq!(
        mac.sh(&["sysctl", "iogpu.wired_limit_mb"])
            .stdout_any()
            .stderr_any()
            .run()
            .stdout,
        "iogpu.wired_limit_mb: 0\n"
    );
    set_uid(&mac, 0);
    let set = mac
        .sh(&["sysctl", "-w", "iogpu.wired_limit_mb=24576"])
        .stdout_any()
        .stderr_any()
        .run();
    assert_eq!(set.stdout, "iogpu.wired_limit_mb: 0 -> 24576\n");
    set_uid(&mac, 501);
    let plan = mac.on(&["plan"]).stdout_any().stderr_any().run();
    assert_eq!(
        plan.stdout,
        format!(
            "{PLAN}Warning: ollama_model:qwen-long needs about 26.0 GiB (weights 8.4 GiB + KV cache 16.9 GiB for num_ctx 30720 x 3 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 24.0 GiB of its 36.0 GiB (iogpu.wired_limit_mb=24576); the largest num_ctx that fits is 26880\n"
        )
    );
    assert_eq!(plan.stderr, "");
    let strict = mac
        .on(&["--strict", "plan"])
        .status(1)
        .stdout_any()
        .stderr_any()
        .run();
    assert!(
        strict.stderr.contains("--strict: 1 model(s) would not fit"),
        "{}",
        strict.stderr
    );
    let facts: serde_json::Value = serde_json::from_str(
        &mac.on(&["facts", "--json"])
            .stdout_any()
            .stderr_any()
            .run()
            .stdout,
    )
    .unwrap();
    assert_eq!(facts["gpu_wired_limit_mb"], 24576);
    // The emulated Ollama, started again, sees the same 24 GiB.
    mac.sh(&[
        "launchctl",
        "kickstart",
        "-k",
        "gui/501/homebrew.mxcl.ollama",
    ])
    .stdout_any()
    .stderr_any()
    .run();
    mac.on(&["plan"]).stdout_any().stderr_any().run();
    assert_eq!(
        total_vram(&mac),
        "total_vram=\"24.0 GiB\" default_num_ctx=32768"
    );
}

/// An M5 Max with the 32-core GPU and 36 GB (its base configuration: 18-core CPU, 460 GB/s;
/// Apple's MacBook Pro specs), on macOS 26.3: the bandwidth of that part, not the 40-core
/// one's 614 GB/s, and a 27 GiB budget. (The build number is a placeholder.)
#[test]
fn an_m5_max_with_the_32_core_gpu_has_460_gb_s() {
    let mac = Mac::with_preset("m4max-64gb-sequoia");
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["chip"] = "Apple M5 Max".into();
    json["memory_bytes"] = (36u64 << 30).into();
    json["performance_cores"] = 6.into();
    json["efficiency_cores"] = 12.into();
    json["gpu_cores"] = 32.into();
    json["memory_bandwidth_gbps"] = 460.0.into();
    json["product_version"] = "26.3".into();
    json["build_version"] = "25D125".into();
    std::fs::write(&machine, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    assert_eq!(
        mac.sh(&["sysctl", "hw.perflevel0.name", "hw.perflevel1.name"])
            .stdout_any()
            .stderr_any()
            .run()
            .stdout,
        "hw.perflevel0.name: Super\nhw.perflevel1.name: Performance\n"
    );
    let facts = mac.on(&["facts", "--json"]).stdout_any().stderr_any().run();
    assert_eq!(
        facts.stdout,
        r#"{
  "chip": "Apple M5 Max",
  "cpu_cores": 18,
  "efficiency_cores": 12,
  "format_version": "1.0",
  "gpu_cores": 32,
  "gpu_wired_limit_mb": 0,
  "home": "/Users/admin",
  "host": "sandbox:mac",
  "hostname": "mbp-m4max.local",
  "macos_build": "25D125",
  "macos_version": "26.3",
  "memory_bandwidth_gbps": 460.0,
  "memory_bytes": 38654705664,
  "memory_gb": 36,
  "performance_cores": 6,
  "root": false,
  "uid": 501,
  "user": "admin"
}
"#
    );
    assert_eq!(facts.stderr, "");
    let recommend = mac
        .on(&["recommend"])
        .stdout_any()
        .stderr_any()
        .run()
        .stdout;
    assert!(
        recommend.starts_with(
            "\nApple M5 Max, 36 GB: the GPU may use about 27.0 GiB; Ollama's default num_ctx here is 32768.\nMemory bandwidth 460 GB/s.\n"
        ),
        "{recommend}"
    );
}
