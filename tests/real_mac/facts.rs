//! `macllm facts` on the Mac under test, checked against what the Mac's own tools say
//! (`id`, `sysctl`, `sw_vers`, `hostname`) rather than against fixed values.

use crate::mac::Mac;
use serde_json::Value;

fn tool_line(mac: &Mac, argv: &[&str]) -> String {
    mac.tool(argv).expect(0).stdout.trim_end().to_string()
}

#[test]
fn facts_say_what_the_macs_own_tools_say() {
    let mac = Mac::new();
    let memory: u64 = tool_line(&mac, &["sysctl", "-n", "hw.memsize"])
        .parse()
        .unwrap();
    let cores: u64 = tool_line(&mac, &["sysctl", "-n", "hw.ncpu"])
        .parse()
        .unwrap();
    let version = tool_line(&mac, &["sw_vers", "-productVersion"]);
    let build = tool_line(&mac, &["sw_vers", "-buildVersion"]);
    let hostname = tool_line(&mac, &["hostname"]);

    let json = mac.macllm(&["--json", "facts"]).expect(0);
    let facts: Value = serde_json::from_str(&json.stdout).expect(&json.stdout);
    let expected = [
        ("host", Value::from("local")),
        ("uid", Value::from(mac.uid)),
        ("user", Value::from(mac.user.as_str())),
        ("home", Value::from(mac.home())),
        ("memory_bytes", Value::from(memory)),
        ("memory_gb", Value::from(memory >> 30)),
        ("cpu_cores", Value::from(cores)),
        ("macos_version", Value::from(version.as_str())),
        ("macos_build", Value::from(build.as_str())),
        ("hostname", Value::from(hostname.as_str())),
    ];
    for (field, value) in &expected {
        assert_eq!(&facts[field], value, "{field} in {facts:#}");
    }
    assert!(facts["format_version"].is_string(), "{facts:#}");
    assert!(
        facts["chip"].as_str().is_some_and(|chip| !chip.is_empty()),
        "{facts:#}"
    );
    // Apple silicon reports its core kinds, Intel Macs do not (null); a virtual Mac (the
    // GitHub runners) may report either, so only their bounds are checked.
    for kind in ["performance_cores", "efficiency_cores"] {
        let count = &facts[kind];
        assert!(
            count.is_null() || count.as_u64().is_some_and(|n| n <= cores),
            "{kind} in {facts:#}"
        );
    }

    let text = mac.macllm(&["facts"]).expect(0);
    let labels: Vec<&str> = text
        .stdout
        .lines()
        .map(|line| line.split(':').next().unwrap())
        .collect();
    let required = [
        "host", "hostname", "chip", "memory", "cores", "macOS", "uid",
    ];
    for label in required {
        assert!(labels.contains(&label), "{label} in\n{}", text.stdout);
    }
    let uid_line = format!("uid:      {}", mac.uid);
    assert!(
        text.stdout.lines().any(|line| line == uid_line),
        "{}",
        text.stdout
    );
    let macos = format!("macOS:    {version} ({build})");
    assert!(
        text.stdout.lines().any(|line| line == macos),
        "{}",
        text.stdout
    );
}
