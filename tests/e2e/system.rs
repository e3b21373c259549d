//! launchd services and agents, Spotlight, power and Time Machine through the real binary.

use crate::harness::Mac;

const SERVE: &str = include_str!("../../examples/serve-models.yaml");
const ALWAYS_ON: &str = include_str!("../../examples/always-on.yaml");

fn become_root(mac: &Mac) {
    let machine = mac.dir.join("machine.json");
    let text = std::fs::read_to_string(&machine)
        .unwrap()
        .replace("\"uid\": 501", "\"uid\": 0");
    std::fs::write(&machine, text).unwrap();
}

fn loaded(mac: &Mac, service: &str) -> bool {
    mac.sh(&["launchctl", "print", service]).status == 0
}

#[test]
fn apple_agents_are_disabled_and_sip_keeps_them_running_until_login() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nservices:\n  - label: com.apple.photoanalysisd\n    enabled: false\n");
    assert!(loaded(&mac, "gui/501/com.apple.photoanalysisd"));
    let plan = mac.on(&["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout.contains("# service:gui/com.apple.photoanalysisd will be updated in-place\n  ~ value = true -> false\n"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("protected by SIP and keeps running until the next login"),
        "{}",
        plan.stdout
    );
    let apply = mac.on(&["apply", "--yes"]).expect(0);
    assert!(
        apply
            .stderr
            .contains("SIP refused to stop com.apple.photoanalysisd"),
        "{}",
        apply.stderr
    );
    // macOS 14 speaks the modern vocabulary (fixture launchctl-print-disabled-modern-lines.txt).
    let disabled = mac
        .sh(&["launchctl", "print-disabled", "gui/501"])
        .expect(0);
    assert!(
        disabled
            .stdout
            .contains("\t\"com.apple.photoanalysisd\" => disabled\n"),
        "{}",
        disabled.stdout
    );
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    mac.sh(&["launchctl", "enable", "gui/501/com.apple.photoanalysisd"])
        .expect(0);
    let drift = mac.on(&["drift"]).expect(2);
    assert!(
        drift.stdout.contains(
            "# service:gui/com.apple.photoanalysisd has changed\n  ~ value = false -> true\n"
        ),
        "{}",
        drift.stdout
    );

    mac.on(&["destroy", "--yes"]).expect(0);
    let disabled = mac
        .sh(&["launchctl", "print-disabled", "gui/501"])
        .expect(0);
    assert!(
        disabled
            .stdout
            .contains("\"com.apple.photoanalysisd\" => enabled"),
        "{}",
        disabled.stdout
    );
}

#[test]
fn third_party_jobs_are_stopped_and_started_again() {
    let mac = Mac::new();
    let plist = mac
        .dir
        .join("Library/LaunchAgents/com.example.helper.plist");
    std::fs::create_dir_all(plist.parent().unwrap()).unwrap();
    std::fs::write(&plist, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>Label</key>\n\t<string>com.example.helper</string>\n\t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>/usr/local/bin/helper</string>\n\t</array>\n\t<key>RunAtLoad</key>\n\t<true/>\n</dict>\n</plist>\n").unwrap();
    mac.sh(&[
        "launchctl",
        "bootstrap",
        "gui/501",
        "/Library/LaunchAgents/com.example.helper.plist",
    ])
    .expect(0);
    mac.spec("macllm: 1\nservices:\n  - label: com.example.helper\n    enabled: false\n");
    mac.on(&["apply", "--yes"]).expect(0);
    assert!(!loaded(&mac, "gui/501/com.example.helper"));
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
    mac.on(&["destroy", "--yes"]).expect(0);
    assert!(loaded(&mac, "gui/501/com.example.helper"));
}

#[test]
fn over_ssh_the_user_domain_is_used_with_a_warning() {
    let mac = Mac::with_preset("m2-16gb-sonoma-ssh");
    mac.spec(SERVE);
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout.contains("gui/501 does not exist on this host"),
        "{}",
        plan.stdout
    );
    mac.on(&["apply", "--yes"]).expect(0);
    assert!(loaded(&mac, "user/501/com.example.ollama"));
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
    mac.on(&["destroy", "--yes"]).expect(0);
    assert!(!loaded(&mac, "user/501/com.example.ollama"));
}

#[test]
fn monterey_uses_the_legacy_vocabulary_and_macllm_reads_it() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec("macllm: 1\nservices:\n  - label: com.apple.photoanalysisd\n    enabled: false\n");
    mac.on(&["apply", "--yes"]).expect(0);
    let disabled = mac
        .sh(&["launchctl", "print-disabled", "gui/501"])
        .expect(0);
    assert!(
        disabled
            .stdout
            .contains("\t\"com.apple.photoanalysisd\" => true\n"),
        "{}",
        disabled.stdout
    );
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn the_serving_example_round_trips() {
    let mac = Mac::new();
    mac.spec(SERVE);
    mac.sh(&["mkdir", "-p", "/Users/admin/.ollama/models/blobs"])
        .expect(0);
    mac.sh(&["tee", "/Users/admin/.ollama/models/blobs/sha256-x"])
        .expect(0);
    let before = mac.snapshot();
    let plan = mac.on(&["plan"]).expect(0);
    assert_eq!(before, mac.snapshot(), "plan is read-only");
    assert!(
        plan.stdout
            .contains("# agent:com.example.ollama will be created"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("# method: noindex"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("Plan: 2 to add, 3 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );

    mac.on(&["apply", "--yes"]).expect(0);
    let agent = mac
        .sh(&[
            "cat",
            "/Users/admin/Library/LaunchAgents/com.example.ollama.plist",
        ])
        .expect(0);
    assert!(
        agent
            .stdout
            .contains("<key>ProcessType</key>\n\t<string>Interactive</string>"),
        "{}",
        agent.stdout
    );
    assert!(
        agent
            .stdout
            .contains("<key>OLLAMA_KEEP_ALIVE</key>\n\t\t<string>5m</string>"),
        "{}",
        agent.stdout
    );
    mac.sh(&[
        "plutil",
        "-lint",
        "/Users/admin/Library/LaunchAgents/com.example.ollama.plist",
    ])
    .expect(0);
    let print = mac
        .sh(&["launchctl", "print", "gui/501/com.example.ollama"])
        .expect(0);
    assert!(print.stdout.contains("state = running"), "{}", print.stdout);
    let link = mac
        .sh(&["readlink", "/Users/admin/.ollama/models"])
        .expect(0);
    assert_eq!(link.stdout, "/Users/admin/.ollama/models.noindex\n");
    mac.sh(&[
        "test",
        "-f",
        "/Users/admin/.ollama/models.noindex/blobs/sha256-x",
    ])
    .expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    // A changed variable is a diff of the plist's lines.
    mac.spec(&SERVE.replace("OLLAMA_KEEP_ALIVE: 5m", "OLLAMA_KEEP_ALIVE: 30m"));
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout.contains("-     \t\t<string>5m</string>"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+     \t\t<string>30m</string>"),
        "{}",
        plan.stdout
    );
    mac.on(&["apply", "--yes"]).expect(0);
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    mac.on(&["destroy", "--yes"]).expect(0);
    mac.sh(&[
        "test",
        "-e",
        "/Users/admin/Library/LaunchAgents/com.example.ollama.plist",
    ])
    .expect(1);
    assert!(!loaded(&mac, "gui/501/com.example.ollama"));
    mac.sh(&["test", "-L", "/Users/admin/.ollama/models"])
        .expect(1);
    mac.sh(&["test", "-f", "/Users/admin/.ollama/models/blobs/sha256-x"])
        .expect(0);
    assert!(loaded(&mac, "gui/501/com.apple.photoanalysisd"));
}

#[test]
fn root_settings_plan_without_root_and_apply_only_with_it() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    mac.spec(ALWAYS_ON);
    let original_custom = mac.sh(&["pmset", "-g", "custom"]).expect(0).stdout;
    let plan = mac.on(&["plan"]).expect(0);
    assert!(
        plan.stdout
            .contains("# power:sleep will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "# time_machine:automatic_backups will be updated in-place\n  ~ value = true -> false\n"
        ),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("need root"), "{}", plan.stdout);
    let before = mac.snapshot();
    let apply = mac.on(&["apply", "--yes"]).expect(1);
    assert!(apply.stderr.contains("  power:sleep\n"), "{}", apply.stderr);
    assert!(
        apply
            .stderr
            .contains("  spotlight-volume:/System/Volumes/Data\n"),
        "{}",
        apply.stderr
    );
    assert_eq!(before, mac.snapshot(), "nothing changed");

    become_root(&mac);
    mac.on(&["apply", "--yes"]).expect(0);
    let custom = mac.sh(&["pmset", "-g", "custom"]).expect(0).stdout;
    let blocks = macllm::resources::power::parse_custom(&custom);
    assert_eq!(blocks["AC Power"]["sleep"], 0);
    assert!(
        !blocks.contains_key("Battery Power"),
        "a Mac mini has no battery"
    );
    assert_eq!(blocks["AC Power"]["displaysleep"], 10);
    let status = mac.sh(&["mdutil", "-s", "/System/Volumes/Data"]).expect(0);
    assert_eq!(
        status.stdout,
        "/System/Volumes/Data:\n\tIndexing disabled.\n"
    );
    let backup = mac.sh(&[
        "defaults",
        "read",
        "/Library/Preferences/com.apple.TimeMachine",
        "AutoBackup",
    ]);
    assert_eq!(backup.expect(0).stdout, "0\n");
    mac.on(&["plan", "--detailed-exitcode"]).expect(0);

    mac.on(&["destroy", "--yes"]).expect(0);
    assert_eq!(
        mac.sh(&["pmset", "-g", "custom"]).expect(0).stdout,
        original_custom
    );
    assert_eq!(
        mac.sh(&["mdutil", "-s", "/System/Volumes/Data"])
            .expect(0)
            .stdout,
        "/System/Volumes/Data:\n\tIndexing enabled.\n"
    );
    mac.sh(&[
        "defaults",
        "read",
        "/Library/Preferences/com.apple.TimeMachine",
        "AutoBackup",
    ])
    .expect(0);
}

#[test]
fn power_settings_a_mac_does_not_have_are_refused_at_plan_time() {
    let mac = Mac::with_preset("m4max-64gb-sequoia");
    mac.spec("macllm: 1\npower:\n  all:\n    autorestart: true\n");
    let plan = mac.on(&["plan"]).expect(1);
    assert!(
        plan.stderr.contains("does not report `autorestart`"),
        "{}",
        plan.stderr
    );
    mac.spec("macllm: 1\npower:\n  battery:\n    sleep: 5\n");
    become_root(&mac);
    mac.on(&["apply", "--yes"]).expect(0);
    let custom = mac.sh(&["pmset", "-g", "custom"]).expect(0).stdout;
    assert_eq!(
        macllm::resources::power::parse_custom(&custom)["Battery Power"]["sleep"],
        5
    );
    let mini = Mac::with_preset("m4pro-48gb-sequoia");
    mini.spec("macllm: 1\npower:\n  battery:\n    sleep: 5\n");
    let plan = mini.on(&["plan"]).expect(1);
    assert!(
        plan.stderr
            .contains("this Mac has no Battery Power power source"),
        "{}",
        plan.stderr
    );
}

#[test]
fn apple_system_daemons_are_refused_before_anything_changes() {
    let mac = Mac::new();
    become_root(&mac);
    mac.spec("macllm: 1\nservices:\n  - label: com.apple.metadata.mds\n    domain: system\n    enabled: false\n");
    let plan = mac.on(&["plan"]).expect(1);
    assert!(
        plan.stderr
            .contains("com.apple.metadata.mds is protected by System Integrity Protection"),
        "{}",
        plan.stderr
    );
}

#[test]
fn bad_system_input_is_refused_with_its_line() {
    let mac = Mac::new();
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "services:\n  - label: com.apple.photoanalysisd\n    domain: gui2\n    enabled: false\n",
            "unknown domain",
            4,
            "unknown variant `gui2`",
        ),
        (
            "services:\n  - label: \"com.x; rm -rf /\"\n    enabled: false\n",
            "shell metacharacter",
            3,
            "is not a launchd label",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [ollama, serve]\n",
            "relative program",
            4,
            "`ollama` is not an absolute path",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [/bin/x]\n    path: ~/Library/LaunchAgents/com.example.y.plist\n",
            "label differs from file",
            5,
            "the file is named `com.example.y.plist` but the label is `com.example.x`",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [/bin/x]\n    nice: -5\n",
            "negative nice",
            5,
            "out of range for a LaunchAgent",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [/bin/x]\n    standard_out_path: ~/x.log\n",
            "tilde in a plist path",
            5,
            "launchd does not expand `~`",
        ),
        (
            "spotlight:\n  - path: ~/m\n    volume: /\n    indexed: false\n",
            "path and volume",
            3,
            "exactly one of `path`",
        ),
        (
            "spotlight:\n  - path: ~/m\n    indexed: false\n    method: never_index\n",
            "unknown method",
            5,
            "unknown method `never_index`",
        ),
        (
            "power:\n  all:\n    sleeep: 0\n",
            "unknown power setting",
            4,
            "unknown power setting `sleeep`",
        ),
        (
            "power:\n  all:\n    powernap: 3\n",
            "switch given a number",
            4,
            "`powernap` is a switch",
        ),
        (
            "time_machine:\n  automatic_backups: sometimes\n",
            "not a boolean",
            3,
            "automatic_backups",
        ),
    ];
    let before = mac.snapshot();
    for (body, what, line, message) in cases {
        mac.spec(&format!("macllm: 1\n{body}"));
        let run = mac.on(&["plan"]);
        assert_eq!(run.status, 1, "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("--> macllm.yaml:{line}:")),
            "{what}: line {line}\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(message),
            "{what}: `{message}`\n{}",
            run.stderr
        );
    }
    assert_eq!(before, mac.snapshot());
}
