//! launchd services and agents, Spotlight, power and Time Machine through the real binary.

use crate::harness::{DRIFT_HEAD, DRIFT_THEN_PLAN, Mac};

const SERVE: &str = include_str!("../../examples/serve-models.yaml");
const ALWAYS_ON: &str = include_str!("../../examples/always-on.yaml");

/// The plan's rows for SERVE's two LaunchAgents, created.
const AGENTS_CREATED: &str = "  # agent:com.example.ollama will be created
  ~ value = <<-EOT
          + {
          +   \"loaded\": true,
          +   \"plist\": <<EOT
          +     <?xml version=\"1.0\" encoding=\"UTF-8\"?>
          +     <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
          +     <plist version=\"1.0\">
          +     <dict>
          +     \t<key>EnvironmentVariables</key>
          +     \t<dict>
          +     \t\t<key>OLLAMA_FLASH_ATTENTION</key>
          +     \t\t<string>1</string>
          +     \t\t<key>OLLAMA_KEEP_ALIVE</key>
          +     \t\t<string>5m</string>
          +     \t\t<key>OLLAMA_NUM_PARALLEL</key>
          +     \t\t<string>1</string>
          +     \t</dict>
          +     \t<key>KeepAlive</key>
          +     \t<true/>
          +     \t<key>Label</key>
          +     \t<string>com.example.ollama</string>
          +     \t<key>LimitLoadToSessionType</key>
          +     \t<array>
          +     \t\t<string>Aqua</string>
          +     \t\t<string>Background</string>
          +     \t\t<string>LoginWindow</string>
          +     \t\t<string>StandardIO</string>
          +     \t\t<string>System</string>
          +     \t</array>
          +     \t<key>ProcessType</key>
          +     \t<string>Interactive</string>
          +     \t<key>ProgramArguments</key>
          +     \t<array>
          +     \t\t<string>/opt/homebrew/bin/ollama</string>
          +     \t\t<string>serve</string>
          +     \t</array>
          +     \t<key>RunAtLoad</key>
          +     \t<true/>
          +     \t<key>StandardErrorPath</key>
          +     \t<string>/tmp/ollama.log</string>
          +     \t<key>StandardOutPath</key>
          +     \t<string>/tmp/ollama.log</string>
          +     </dict>
          +     </plist>
          +     EOT,
          + }
        EOT
    # file: ~/Library/LaunchAgents/com.example.ollama.plist

  # agent:com.example.keep-awake will be created
  ~ value = <<-EOT
          + {
          +   \"loaded\": true,
          +   \"plist\": <<EOT
          +     <?xml version=\"1.0\" encoding=\"UTF-8\"?>
          +     <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
          +     <plist version=\"1.0\">
          +     <dict>
          +     \t<key>KeepAlive</key>
          +     \t<true/>
          +     \t<key>Label</key>
          +     \t<string>com.example.keep-awake</string>
          +     \t<key>LimitLoadToSessionType</key>
          +     \t<array>
          +     \t\t<string>Aqua</string>
          +     \t\t<string>Background</string>
          +     \t\t<string>LoginWindow</string>
          +     \t\t<string>StandardIO</string>
          +     \t\t<string>System</string>
          +     \t</array>
          +     \t<key>ProgramArguments</key>
          +     \t<array>
          +     \t\t<string>/usr/bin/caffeinate</string>
          +     \t\t<string>-i</string>
          +     \t\t<string>-s</string>
          +     \t</array>
          +     \t<key>RunAtLoad</key>
          +     \t<true/>
          +     </dict>
          +     </plist>
          +     EOT,
          + }
        EOT
    # file: ~/Library/LaunchAgents/com.example.keep-awake.plist

";

/// The same rows on destroy, in reverse order.
const AGENTS_DELETED: &str = "  # agent:com.example.keep-awake will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   \"loaded\": true,
          -   \"plist\": <<EOT
          -     <?xml version=\"1.0\" encoding=\"UTF-8\"?>
          -     <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
          -     <plist version=\"1.0\">
          -     <dict>
          -     \t<key>KeepAlive</key>
          -     \t<true/>
          -     \t<key>Label</key>
          -     \t<string>com.example.keep-awake</string>
          -     \t<key>LimitLoadToSessionType</key>
          -     \t<array>
          -     \t\t<string>Aqua</string>
          -     \t\t<string>Background</string>
          -     \t\t<string>LoginWindow</string>
          -     \t\t<string>StandardIO</string>
          -     \t\t<string>System</string>
          -     \t</array>
          -     \t<key>ProgramArguments</key>
          -     \t<array>
          -     \t\t<string>/usr/bin/caffeinate</string>
          -     \t\t<string>-i</string>
          -     \t\t<string>-s</string>
          -     \t</array>
          -     \t<key>RunAtLoad</key>
          -     \t<true/>
          -     </dict>
          -     </plist>
          -     EOT,
          - }
        EOT
    # file: ~/Library/LaunchAgents/com.example.keep-awake.plist

  # agent:com.example.ollama will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   \"loaded\": true,
          -   \"plist\": <<EOT
          -     <?xml version=\"1.0\" encoding=\"UTF-8\"?>
          -     <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
          -     <plist version=\"1.0\">
          -     <dict>
          -     \t<key>EnvironmentVariables</key>
          -     \t<dict>
          -     \t\t<key>OLLAMA_FLASH_ATTENTION</key>
          -     \t\t<string>1</string>
          -     \t\t<key>OLLAMA_KEEP_ALIVE</key>
          -     \t\t<string>5m</string>
          -     \t\t<key>OLLAMA_NUM_PARALLEL</key>
          -     \t\t<string>1</string>
          -     \t</dict>
          -     \t<key>KeepAlive</key>
          -     \t<true/>
          -     \t<key>Label</key>
          -     \t<string>com.example.ollama</string>
          -     \t<key>LimitLoadToSessionType</key>
          -     \t<array>
          -     \t\t<string>Aqua</string>
          -     \t\t<string>Background</string>
          -     \t\t<string>LoginWindow</string>
          -     \t\t<string>StandardIO</string>
          -     \t\t<string>System</string>
          -     \t</array>
          -     \t<key>ProcessType</key>
          -     \t<string>Interactive</string>
          -     \t<key>ProgramArguments</key>
          -     \t<array>
          -     \t\t<string>/opt/homebrew/bin/ollama</string>
          -     \t\t<string>serve</string>
          -     \t</array>
          -     \t<key>RunAtLoad</key>
          -     \t<true/>
          -     \t<key>StandardErrorPath</key>
          -     \t<string>/tmp/ollama.log</string>
          -     \t<key>StandardOutPath</key>
          -     \t<string>/tmp/ollama.log</string>
          -     </dict>
          -     </plist>
          -     EOT,
          - }
        EOT
    # file: ~/Library/LaunchAgents/com.example.ollama.plist

";

/// A loaded job: `launchctl print` answers with its dump, which is the emulator's business;
/// here only that it is there and running.
fn loaded(mac: &Mac, service: &str) {
    let print = mac.sh(&["launchctl", "print", service]).stdout_of();
    assert!(
        print.starts_with(&format!("{service} = {{\n")) && print.contains("\tstate = running\n"),
        "{print}"
    );
}

/// A job that is not loaded, in launchctl's own words (`gui/501/LABEL` or `user/501/LABEL`).
fn not_loaded(mac: &Mac, service: &str) {
    let mut parts = service.splitn(3, '/');
    let (kind, uid, label) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let domain = match kind {
        "gui" => format!("user gui: {uid}"),
        _ => format!("uid: {uid}"),
    };
    mac.sh(&["launchctl", "print", service])
        .status(113)
        .stderr(&format!(
            "Bad request.\nCould not find service \"{label}\" in domain for {domain}\n"
        ))
        .run();
}

#[test]
fn apple_agents_are_disabled_and_sip_keeps_them_running_until_login() {
    let mac = Mac::new();
    mac.spec("macllm: 1\nservices:\n  - label: com.apple.photoanalysisd\n    enabled: false\n");
    loaded(&mac, "gui/501/com.apple.photoanalysisd");
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = \"enabled (no override)\" -> \"disabled\"

Plan: 0 to add, 1 to change, 0 to destroy.
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
",
        )
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = \"enabled (no override)\" -> \"disabled\"

Plan: 0 to add, 1 to change, 0 to destroy.
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
").stderr("service:gui/com.apple.photoanalysisd: Modifying...
warning: service:gui/com.apple.photoanalysisd: SIP refused to stop com.apple.photoanalysisd now; it is disabled from the next login on
warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.photoanalysisd: Modifications complete after [DURATION]
",
        )
        .run();
    // macOS 14 speaks the modern vocabulary (fixture launchctl-print-disabled-modern-lines.txt).
    mac.sh(&["launchctl", "print-disabled", "gui/501"])
        .stdout(
            "disabled services = {
\t\"com.apple.ManagedClientAgent.enrollagent\" => disabled
\t\"com.apple.photoanalysisd\" => disabled
}
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();

    mac.sh(&["launchctl", "enable", "gui/501/com.apple.photoanalysisd"])
        .run();
    mac.on(&["drift"])
        .status(2)
        .stdout(
            &[
                DRIFT_HEAD,
                r#"  # service:gui/com.apple.photoanalysisd has changed
  ~ value = "disabled" -> "enabled"
"#,
            ]
            .concat(),
        )
        .run();

    mac.on(&["destroy", "--yes"])
        .stdout(&[DRIFT_HEAD, r#"  # service:gui/com.apple.photoanalysisd has changed
  ~ value = "disabled" -> "enabled"
"#, DRIFT_THEN_PLAN, r#"macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.photoanalysisd will be restored to its original value
  ~ value = "enabled" -> "enabled (no override)"

Plan: 0 to add, 0 to change, 1 to destroy.
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that

Destroy complete! Resources: 1 destroyed.
"#].concat(),
            )
        // The override enabled by hand cannot be removed: destroy changes nothing and says so.
        .stderr("service:gui/com.apple.photoanalysisd: Restoring...
warning: service:gui/com.apple.photoanalysisd: launchd keeps an explicit `enabled` override for com.apple.photoanalysisd that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.apple.photoanalysisd behaves as before
warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.photoanalysisd: Restore complete after [DURATION]
")
        .run();
    mac.sh(&["launchctl", "print-disabled", "gui/501"])
        .stdout(
            "disabled services = {
\t\"com.apple.ManagedClientAgent.enrollagent\" => disabled
\t\"com.apple.photoanalysisd\" => enabled
}
",
        )
        .run();
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
    .run();
    mac.spec("macllm: 1\nservices:\n  - label: com.example.helper\n    enabled: false\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.example.helper will be updated in-place
  ~ value = \"enabled (no override)\" -> \"disabled\"

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
",
        )
        .stderr(
            "service:gui/com.example.helper: Modifying...
service:gui/com.example.helper: Modifications complete after [DURATION]
",
        )
        .run();
    not_loaded(&mac, "gui/501/com.example.helper");
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();
    mac.on(&["destroy", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.example.helper will be restored to its original value
  ~ value = \"disabled\" -> \"enabled (no override)\"

Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
",
        )
        .stderr(
            "service:gui/com.example.helper: Restoring...
warning: service:gui/com.example.helper: launchd keeps an explicit `enabled` override for com.example.helper that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.example.helper behaves as before
service:gui/com.example.helper: Restore complete after [DURATION]
",
        )
        .run();
    loaded(&mac, "gui/501/com.example.helper");
}

#[test]
fn over_ssh_the_user_domain_is_used_with_a_warning() {
    let mac = Mac::with_preset("m2-16gb-sonoma-ssh");
    mac.spec(SERVE);
    mac.on(&["plan"]).stdout(&[r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.mediaanalysisd will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

  # service:gui/homebrew.mxcl.ollama will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

"#, AGENTS_CREATED, r#"  # spotlight:~/.ollama/models will be updated in-place
  ~ value = true -> false
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

Plan: 2 to add, 4 to change, 0 to destroy.
Warning: spotlight:~/.ollama/models: quit programs that use ~/.ollama/models (Ollama) before apply: the folder is moved
Warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
"#].concat()).run();
    mac.on(&["apply", "--yes"]).stdout(&[r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.mediaanalysisd will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override); not loaded" -> "disabled"

  # service:gui/homebrew.mxcl.ollama will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

"#, AGENTS_CREATED, r#"  # spotlight:~/.ollama/models will be updated in-place
  ~ value = true -> false
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

Plan: 2 to add, 4 to change, 0 to destroy.
Warning: spotlight:~/.ollama/models: quit programs that use ~/.ollama/models (Ollama) before apply: the folder is moved
Warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501

Apply complete! Resources: 2 added, 4 changed, 0 destroyed.
"#].concat()).stderr(r#"service:gui/com.apple.mediaanalysisd: Modifying...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
service:gui/com.apple.mediaanalysisd: Modifications complete after [DURATION]
service:gui/com.apple.photoanalysisd: Modifying...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
service:gui/com.apple.photoanalysisd: Modifications complete after [DURATION]
service:gui/homebrew.mxcl.ollama: Modifying...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
service:gui/homebrew.mxcl.ollama: Modifications complete after [DURATION]
agent:com.example.ollama: Creating...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
agent:com.example.ollama: Creation complete after [DURATION]
agent:com.example.keep-awake: Creating...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
agent:com.example.keep-awake: Creation complete after [DURATION]
spotlight:~/.ollama/models: Modifying...
spotlight:~/.ollama/models: Modifications complete after [DURATION]
"#).run();
    loaded(&mac, "user/501/com.example.ollama");
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();
    mac.on(&["destroy", "--yes"]).stdout(&[r#"
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = false -> true
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

"#, AGENTS_DELETED, r#"  # service:gui/homebrew.mxcl.ollama will be restored to its original value
  ~ value = "disabled" -> "enabled (no override)"

  # service:gui/com.apple.photoanalysisd will be restored to its original value
  ~ value = "disabled" -> "enabled (no override); not loaded"

  # service:gui/com.apple.mediaanalysisd will be restored to its original value
  ~ value = "disabled" -> "enabled (no override); not loaded"

Plan: 0 to add, 0 to change, 6 to destroy.
Warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501

Destroy complete! Resources: 6 destroyed.
"#].concat()).stderr(r#"spotlight:~/.ollama/models: Restoring...
spotlight:~/.ollama/models: Restore complete after [DURATION]
agent:com.example.keep-awake: Restoring...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
agent:com.example.keep-awake: Restore complete after [DURATION]
agent:com.example.ollama: Restoring...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
agent:com.example.ollama: Restore complete after [DURATION]
service:gui/homebrew.mxcl.ollama: Restoring...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
warning: service:gui/homebrew.mxcl.ollama: launchd keeps an explicit `enabled` override for homebrew.mxcl.ollama that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; homebrew.mxcl.ollama behaves as before
service:gui/homebrew.mxcl.ollama: Restore complete after [DURATION]
service:gui/com.apple.photoanalysisd: Restoring...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
warning: service:gui/com.apple.photoanalysisd: launchd keeps an explicit `enabled` override for com.apple.photoanalysisd that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.apple.photoanalysisd behaves as before
service:gui/com.apple.photoanalysisd: Restore complete after [DURATION]
service:gui/com.apple.mediaanalysisd: Restoring...
warning: gui/501 does not exist on this host (no GUI login, e.g. over SSH): using user/501 instead of gui/501
warning: service:gui/com.apple.mediaanalysisd: launchd keeps an explicit `enabled` override for com.apple.mediaanalysisd that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.apple.mediaanalysisd behaves as before
service:gui/com.apple.mediaanalysisd: Restore complete after [DURATION]
"#).run();
    not_loaded(&mac, "user/501/com.example.ollama");
}

#[test]
fn monterey_uses_the_legacy_vocabulary_and_macllm_reads_it() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec("macllm: 1\nservices:\n  - label: com.apple.photoanalysisd\n    enabled: false\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = \"enabled (no override)\" -> \"disabled\"

Plan: 0 to add, 1 to change, 0 to destroy.
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
").stderr("service:gui/com.apple.photoanalysisd: Modifying...
warning: service:gui/com.apple.photoanalysisd: SIP refused to stop com.apple.photoanalysisd now; it is disabled from the next login on
warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.photoanalysisd: Modifications complete after [DURATION]
",
        )
        .run();
    mac.sh(&["launchctl", "print-disabled", "gui/501"])
        .stdout(
            "disabled services = {
\t\"com.apple.ManagedClientAgent.enrollagent\" => true
\t\"com.apple.photoanalysisd\" => true
}
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();
}

#[test]
fn the_serving_example_round_trips() {
    let mac = Mac::new();
    mac.spec(SERVE);
    mac.sh(&["mkdir", "-p", "/Users/admin/.ollama/models/blobs"])
        .run();
    mac.sh(&["tee", "/Users/admin/.ollama/models/blobs/sha256-x"])
        .run();
    let before = mac.snapshot();
    mac.on(&["plan"]).stdout(&[r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.mediaanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/homebrew.mxcl.ollama will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

"#, AGENTS_CREATED, r#"  # spotlight:~/.ollama/models will be updated in-place
  ~ value = true -> false
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

Plan: 2 to add, 4 to change, 0 to destroy.
Warning: spotlight:~/.ollama/models: quit programs that use ~/.ollama/models (Ollama) before apply: the folder is moved
Warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
"#].concat()).run();
    assert_eq!(before, mac.snapshot(), "plan is read-only");

    mac.on(&["apply", "--yes"]).stdout(&[r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.apple.mediaanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/com.apple.photoanalysisd will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

  # service:gui/homebrew.mxcl.ollama will be updated in-place
  ~ value = "enabled (no override)" -> "disabled"

"#, AGENTS_CREATED, r#"  # spotlight:~/.ollama/models will be updated in-place
  ~ value = true -> false
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

Plan: 2 to add, 4 to change, 0 to destroy.
Warning: spotlight:~/.ollama/models: quit programs that use ~/.ollama/models (Ollama) before apply: the folder is moved
Warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that

Apply complete! Resources: 2 added, 4 changed, 0 destroyed.
"#].concat()).stderr(r#"service:gui/com.apple.mediaanalysisd: Modifying...
warning: service:gui/com.apple.mediaanalysisd: SIP refused to stop com.apple.mediaanalysisd now; it is disabled from the next login on
warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.mediaanalysisd: Modifications complete after [DURATION]
service:gui/com.apple.photoanalysisd: Modifying...
warning: service:gui/com.apple.photoanalysisd: SIP refused to stop com.apple.photoanalysisd now; it is disabled from the next login on
warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.photoanalysisd: Modifications complete after [DURATION]
service:gui/homebrew.mxcl.ollama: Modifying...
service:gui/homebrew.mxcl.ollama: Modifications complete after [DURATION]
agent:com.example.ollama: Creating...
agent:com.example.ollama: Creation complete after [DURATION]
agent:com.example.keep-awake: Creating...
agent:com.example.keep-awake: Creation complete after [DURATION]
spotlight:~/.ollama/models: Modifying...
spotlight:~/.ollama/models: Modifications complete after [DURATION]
"#).run();
    mac.sh(&[
        "cat",
        "/Users/admin/Library/LaunchAgents/com.example.ollama.plist",
    ])
    .stdout("<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
\t<key>EnvironmentVariables</key>
\t<dict>
\t\t<key>OLLAMA_FLASH_ATTENTION</key>
\t\t<string>1</string>
\t\t<key>OLLAMA_KEEP_ALIVE</key>
\t\t<string>5m</string>
\t\t<key>OLLAMA_NUM_PARALLEL</key>
\t\t<string>1</string>
\t</dict>
\t<key>KeepAlive</key>
\t<true/>
\t<key>Label</key>
\t<string>com.example.ollama</string>
\t<key>LimitLoadToSessionType</key>
\t<array>
\t\t<string>Aqua</string>
\t\t<string>Background</string>
\t\t<string>LoginWindow</string>
\t\t<string>StandardIO</string>
\t\t<string>System</string>
\t</array>
\t<key>ProcessType</key>
\t<string>Interactive</string>
\t<key>ProgramArguments</key>
\t<array>
\t\t<string>/opt/homebrew/bin/ollama</string>
\t\t<string>serve</string>
\t</array>
\t<key>RunAtLoad</key>
\t<true/>
\t<key>StandardErrorPath</key>
\t<string>/tmp/ollama.log</string>
\t<key>StandardOutPath</key>
\t<string>/tmp/ollama.log</string>
</dict>
</plist>")
    .run();
    mac.sh(&[
        "plutil",
        "-lint",
        "/Users/admin/Library/LaunchAgents/com.example.ollama.plist",
    ])
    .stdout(
        "/Users/admin/Library/LaunchAgents/com.example.ollama.plist: OK
",
    )
    .run();
    loaded(&mac, "gui/501/com.example.ollama");
    mac.sh(&["readlink", "/Users/admin/.ollama/models"])
        .stdout("/Users/admin/.ollama/models.noindex\n")
        .run();
    mac.sh(&[
        "test",
        "-f",
        "/Users/admin/.ollama/models.noindex/blobs/sha256-x",
    ])
    .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();

    // A changed variable is a diff of the plist's lines.
    mac.spec(&SERVE.replace("OLLAMA_KEEP_ALIVE: 5m", "OLLAMA_KEEP_ALIVE: 30m"));
    mac.on(&["plan"]).stdout(KEEP_ALIVE_PLAN).run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{KEEP_ALIVE_PLAN}\nApply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"
        ))
        .stderr(
            "agent:com.example.ollama: Modifying...
agent:com.example.ollama: Modifications complete after [DURATION]
",
        )
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();

    mac.on(&["destroy", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # spotlight:~/.ollama/models will be restored to its original value
  ~ value = false -> true
    # method: noindex (the folder becomes ~/.ollama/models.noindex with a symlink in its place; no root needed)

  # agent:com.example.keep-awake will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "loaded": true,
          -   "plist": <<EOT
          -     <?xml version="1.0" encoding="UTF-8"?>
          -     <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
          -     <plist version="1.0">
          -     <dict>
          -     	<key>KeepAlive</key>
          -     	<true/>
          -     	<key>Label</key>
          -     	<string>com.example.keep-awake</string>
          -     	<key>LimitLoadToSessionType</key>
          -     	<array>
          -     		<string>Aqua</string>
          -     		<string>Background</string>
          -     		<string>LoginWindow</string>
          -     		<string>StandardIO</string>
          -     		<string>System</string>
          -     	</array>
          -     	<key>ProgramArguments</key>
          -     	<array>
          -     		<string>/usr/bin/caffeinate</string>
          -     		<string>-i</string>
          -     		<string>-s</string>
          -     	</array>
          -     	<key>RunAtLoad</key>
          -     	<true/>
          -     </dict>
          -     </plist>
          -     EOT,
          - }
        EOT
    # file: ~/Library/LaunchAgents/com.example.keep-awake.plist

  # agent:com.example.ollama will be deleted (it was absent before macllm)
  ~ value = <<-EOT
          - {
          -   "loaded": true,
          -   "plist": <<EOT
          -     <?xml version="1.0" encoding="UTF-8"?>
          -     <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
          -     <plist version="1.0">
          -     <dict>
          -     	<key>EnvironmentVariables</key>
          -     	<dict>
          -     		<key>OLLAMA_FLASH_ATTENTION</key>
          -     		<string>1</string>
          -     		<key>OLLAMA_KEEP_ALIVE</key>
          -     		<string>30m</string>
          -     		<key>OLLAMA_NUM_PARALLEL</key>
          -     		<string>1</string>
          -     	</dict>
          -     	<key>KeepAlive</key>
          -     	<true/>
          -     	<key>Label</key>
          -     	<string>com.example.ollama</string>
          -     	<key>LimitLoadToSessionType</key>
          -     	<array>
          -     		<string>Aqua</string>
          -     		<string>Background</string>
          -     		<string>LoginWindow</string>
          -     		<string>StandardIO</string>
          -     		<string>System</string>
          -     	</array>
          -     	<key>ProcessType</key>
          -     	<string>Interactive</string>
          -     	<key>ProgramArguments</key>
          -     	<array>
          -     		<string>/opt/homebrew/bin/ollama</string>
          -     		<string>serve</string>
          -     	</array>
          -     	<key>RunAtLoad</key>
          -     	<true/>
          -     	<key>StandardErrorPath</key>
          -     	<string>/tmp/ollama.log</string>
          -     	<key>StandardOutPath</key>
          -     	<string>/tmp/ollama.log</string>
          -     </dict>
          -     </plist>
          -     EOT,
          - }
        EOT
    # file: ~/Library/LaunchAgents/com.example.ollama.plist

  # service:gui/homebrew.mxcl.ollama will be restored to its original value
  ~ value = "disabled" -> "enabled (no override)"

  # service:gui/com.apple.photoanalysisd will be restored to its original value
  ~ value = "disabled" -> "enabled (no override)"

  # service:gui/com.apple.mediaanalysisd will be restored to its original value
  ~ value = "disabled" -> "enabled (no override)"

Plan: 0 to add, 0 to change, 6 to destroy.
Warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
Warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that

Destroy complete! Resources: 6 destroyed.
"#).stderr(r#"spotlight:~/.ollama/models: Restoring...
spotlight:~/.ollama/models: Restore complete after [DURATION]
agent:com.example.keep-awake: Restoring...
agent:com.example.keep-awake: Restore complete after [DURATION]
agent:com.example.ollama: Restoring...
agent:com.example.ollama: Restore complete after [DURATION]
service:gui/homebrew.mxcl.ollama: Restoring...
warning: service:gui/homebrew.mxcl.ollama: launchd keeps an explicit `enabled` override for homebrew.mxcl.ollama that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; homebrew.mxcl.ollama behaves as before
service:gui/homebrew.mxcl.ollama: Restore complete after [DURATION]
service:gui/com.apple.photoanalysisd: Restoring...
warning: service:gui/com.apple.photoanalysisd: launchd keeps an explicit `enabled` override for com.apple.photoanalysisd that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.apple.photoanalysisd behaves as before
warning: service:gui/com.apple.photoanalysisd: com.apple.photoanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.photoanalysisd: Restore complete after [DURATION]
service:gui/com.apple.mediaanalysisd: Restoring...
warning: service:gui/com.apple.mediaanalysisd: launchd keeps an explicit `enabled` override for com.apple.mediaanalysisd that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.apple.mediaanalysisd behaves as before
warning: service:gui/com.apple.mediaanalysisd: com.apple.mediaanalysisd is protected by SIP and keeps running until the next login; the override stops it from loading after that
service:gui/com.apple.mediaanalysisd: Restore complete after [DURATION]
"#).run();
    mac.sh(&[
        "test",
        "-e",
        "/Users/admin/Library/LaunchAgents/com.example.ollama.plist",
    ])
    .status(1)
    .run();
    not_loaded(&mac, "gui/501/com.example.ollama");
    mac.sh(&["test", "-L", "/Users/admin/.ollama/models"])
        .status(1)
        .run();
    mac.sh(&["test", "-f", "/Users/admin/.ollama/models/blobs/sha256-x"])
        .run();
    loaded(&mac, "gui/501/com.apple.photoanalysisd");
}

#[test]
fn root_settings_plan_without_root_and_apply_only_with_it() {
    let mac = Mac::with_preset("m4pro-48gb-sequoia");
    mac.spec(ALWAYS_ON);
    let original_custom = mac.sh(&["pmset", "-g", "custom"]).stdout_of();
    mac.on(&["plan"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # power:autorestart will be updated in-place
  ~ value = 0 -> 1
    # needs root (sudo)

  # power:disksleep will be updated in-place
  ~ value = 10 -> 0
    # needs root (sudo)

  # power:powernap will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

  # power:sleep will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

  # spotlight-volume:/System/Volumes/Data will be updated in-place
  ~ value = true -> false
    # method: mdutil -i (whole volume)
    # needs root (sudo)

  # time_machine:automatic_backups will be updated in-place
  ~ value = true -> false
    # needs root (sudo)

Plan: 0 to add, 6 to change, 0 to destroy.
Warning: some changes need root: apply will stop before changing anything unless run with sudo
",
        )
        .run();
    let before = mac.snapshot();
    mac.on(&["apply", "--yes"])
        .status(1)
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # power:autorestart will be updated in-place
  ~ value = 0 -> 1
    # needs root (sudo)

  # power:disksleep will be updated in-place
  ~ value = 10 -> 0
    # needs root (sudo)

  # power:powernap will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

  # power:sleep will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

  # spotlight-volume:/System/Volumes/Data will be updated in-place
  ~ value = true -> false
    # method: mdutil -i (whole volume)
    # needs root (sudo)

  # time_machine:automatic_backups will be updated in-place
  ~ value = true -> false
    # needs root (sudo)

Plan: 0 to add, 6 to change, 0 to destroy.
Warning: some changes need root: apply will stop before changing anything unless run with sudo
",
        )
        .stderr(
            "error: these changes need root and nothing was changed:
  power:autorestart
  power:disksleep
  power:powernap
  power:sleep
  spotlight-volume:/System/Volumes/Data
  time_machine:automatic_backups
hint: run the same command with sudo
",
        )
        .run();
    assert_eq!(before, mac.snapshot(), "nothing changed");

    mac.become_root();
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # power:autorestart will be updated in-place
  ~ value = 0 -> 1
    # needs root (sudo)

  # power:disksleep will be updated in-place
  ~ value = 10 -> 0
    # needs root (sudo)

  # power:powernap will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

  # power:sleep will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

  # spotlight-volume:/System/Volumes/Data will be updated in-place
  ~ value = true -> false
    # method: mdutil -i (whole volume)
    # needs root (sudo)

  # time_machine:automatic_backups will be updated in-place
  ~ value = true -> false
    # needs root (sudo)

Plan: 0 to add, 6 to change, 0 to destroy.

Apply complete! Resources: 0 added, 6 changed, 0 destroyed.
",
        )
        .stderr(
            "power:autorestart: Modifying...
power:autorestart: Modifications complete after [DURATION]
power:disksleep: Modifying...
power:disksleep: Modifications complete after [DURATION]
power:powernap: Modifying...
power:powernap: Modifications complete after [DURATION]
power:sleep: Modifying...
power:sleep: Modifications complete after [DURATION]
spotlight-volume:/System/Volumes/Data: Modifying...
spotlight-volume:/System/Volumes/Data: Modifications complete after [DURATION]
time_machine:automatic_backups: Modifying...
time_machine:automatic_backups: Modifications complete after [DURATION]
",
        )
        .run();
    // A Mac mini has no battery: one block.
    mac.sh(&["pmset", "-g", "custom"])
        .stdout(
            "AC Power:
 standby              0
 Sleep On Power Button 1
 autorestart          1
 hibernatefile        /var/vm/sleepimage
 powernap             0
 networkoversleep     0
 disksleep            0
 sleep                0
 hibernatemode        0
 ttyskeepawake        1
 displaysleep         10
 tcpkeepalive         1
 powermode            0
 womp                 1
",
        )
        .run();
    mac.sh(&["mdutil", "-s", "/System/Volumes/Data"])
        .stdout("/System/Volumes/Data:\n\tIndexing disabled.\n")
        .run();
    mac.sh(&[
        "defaults",
        "read",
        "/Library/Preferences/com.apple.TimeMachine",
        "AutoBackup",
    ])
    .stdout("0\n")
    .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(
            "
No changes. The host matches the spec.
",
        )
        .run();

    mac.on(&["destroy", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # time_machine:automatic_backups will be restored to its original value
  ~ value = false -> true
    # needs root (sudo)

  # spotlight-volume:/System/Volumes/Data will be restored to its original value
  ~ value = false -> true
    # method: mdutil -i (whole volume)
    # needs root (sudo)

  # power:sleep will be restored to its original value
  ~ value = 0 -> 1
    # needs root (sudo)

  # power:powernap will be restored to its original value
  ~ value = 0 -> 1
    # needs root (sudo)

  # power:disksleep will be restored to its original value
  ~ value = 0 -> 10
    # needs root (sudo)

  # power:autorestart will be restored to its original value
  ~ value = 1 -> 0
    # needs root (sudo)

Plan: 0 to add, 0 to change, 6 to destroy.

Destroy complete! Resources: 6 destroyed.
",
        )
        .stderr(
            "time_machine:automatic_backups: Restoring...
time_machine:automatic_backups: Restore complete after [DURATION]
spotlight-volume:/System/Volumes/Data: Restoring...
spotlight-volume:/System/Volumes/Data: Restore complete after [DURATION]
power:sleep: Restoring...
power:sleep: Restore complete after [DURATION]
power:powernap: Restoring...
power:powernap: Restore complete after [DURATION]
power:disksleep: Restoring...
power:disksleep: Restore complete after [DURATION]
power:autorestart: Restoring...
power:autorestart: Restore complete after [DURATION]
",
        )
        .run();
    mac.sh(&["pmset", "-g", "custom"])
        .stdout(&original_custom)
        .run();
    mac.sh(&["mdutil", "-s", "/System/Volumes/Data"])
        .stdout("/System/Volumes/Data:\n\tIndexing enabled.\n")
        .run();
    mac.sh(&[
        "defaults",
        "read",
        "/Library/Preferences/com.apple.TimeMachine",
        "AutoBackup",
    ])
    .stdout(
        "1
",
    )
    .run();
}

#[test]
fn power_settings_a_mac_does_not_have_are_refused_at_plan_time() {
    let mac = Mac::with_preset("m4max-64gb-sequoia");
    mac.spec("macllm: 1\npower:\n  all:\n    autorestart: true\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: reading power:autorestart: this Mac's pmset does not report `autorestart` for Battery Power or AC Power (`pmset -g custom`): the setting is not supported here
",
        )
        .run();
    mac.spec("macllm: 1\npower:\n  battery:\n    sleep: 5\n");
    mac.become_root();
    mac.on(&["apply", "--yes"])
        .stdout(
            "
macllm will perform the following actions on sandbox:mac:

  # power:battery:sleep will be updated in-place
  ~ value = 1 -> 5
    # needs root (sudo)

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
",
        )
        .stderr(
            "power:battery:sleep: Modifying...
power:battery:sleep: Modifications complete after [DURATION]
",
        )
        .run();
    mac.sh(&["pmset", "-g", "custom"])
        .stdout(
            "Battery Power:
 standby              1
 Sleep On Power Button 1
 hibernatefile        /var/vm/sleepimage
 powernap             1
 networkoversleep     0
 disksleep            10
 sleep                5
 hibernatemode        3
 ttyskeepawake        1
 displaysleep         2
 tcpkeepalive         1
 lessbright           1
 powermode            0
 womp                 0
AC Power:
 standby              1
 Sleep On Power Button 1
 hibernatefile        /var/vm/sleepimage
 powernap             1
 networkoversleep     0
 disksleep            10
 sleep                1
 hibernatemode        3
 ttyskeepawake        1
 displaysleep         10
 tcpkeepalive         1
 powermode            0
 womp                 1
",
        )
        .run();
    let mini = Mac::with_preset("m4pro-48gb-sequoia");
    mini.spec("macllm: 1\npower:\n  battery:\n    sleep: 5\n");
    mini.on(&["plan"])
        .status(1)
        .stderr(
            "error: reading power:battery:sleep: this Mac has no Battery Power power source (`pmset -g custom` shows AC Power)
",
        )
        .run();
}

#[test]
fn apple_system_daemons_are_refused_before_anything_changes() {
    let mac = Mac::new();
    mac.become_root();
    mac.spec("macllm: 1\nservices:\n  - label: com.apple.metadata.mds\n    domain: system\n    enabled: false\n");
    mac.on(&["plan"])
        .status(1)
        .stderr(
            "error: reading service:system/com.apple.metadata.mds: com.apple.metadata.mds is protected by System Integrity Protection (/System/Library/LaunchDaemons/com.apple.metadata.mds.plist): macOS will not let it be stopped or disabled
hint: remove it from the spec; only jobs outside /System/Library can be managed
",
        )
        .run();
}

#[test]
fn bad_system_input_is_refused_with_its_line() {
    let mac = Mac::new();
    // (spec body, what, the whole of stderr)
    let cases: &[(&str, &str, &str)] = &[
        (
            "services:\n  - label: com.apple.photoanalysisd\n    domain: gui2\n    enabled: false\n",
            "unknown domain",
            "error: services[0].domain: unknown variant `gui2`, expected one of `gui`, `user`, `system`
 --> macllm.yaml:4:13
  |
4 |     domain: gui2
  |             ^
hint: did you mean `gui`?
",
        ),
        (
            "services:\n  - label: \"com.x; rm -rf /\"\n    enabled: false\n",
            "shell metacharacter",
            r#"error: services[0].label: `com.x; rm -rf /` is not a launchd label: use letters, digits, `.`, `-` and `_` (like `com.example.ollama`)
 --> macllm.yaml:3:12
  |
3 |   - label: "com.x; rm -rf /"
  |            ^
"#,
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [ollama, serve]\n",
            "relative program",
            "error: agents[0].program_arguments[0]: `ollama` is not an absolute path
 --> macllm.yaml:4:25
  |
4 |     program_arguments: [ollama, serve]
  |                         ^
",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [/bin/x]\n    path: ~/Library/LaunchAgents/com.example.y.plist\n",
            "label differs from file",
            "error: agents[0].path: the file is named `com.example.y.plist` but the label is `com.example.x`: launchd agents are found by `<label>.plist`
 --> macllm.yaml:5:11
  |
5 |     path: ~/Library/LaunchAgents/com.example.y.plist
  |           ^
hint: name the file `com.example.x.plist`, or leave `path` out
",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [/bin/x]\n    nice: -5\n",
            "negative nice",
            "error: agents[0].nice: nice -5 is out of range for a LaunchAgent: 0 to 19 (negative values need a root LaunchDaemon)
 --> macllm.yaml:5:11
  |
5 |     nice: -5
  |           ^
hint: use `process_type: Interactive` to run at full priority
",
        ),
        (
            "agents:\n  - label: com.example.x\n    program_arguments: [/bin/x]\n    standard_out_path: ~/x.log\n",
            "tilde in a plist path",
            "error: agents[0].standard_out_path: `~/x.log` is not an absolute path
 --> macllm.yaml:5:24
  |
5 |     standard_out_path: ~/x.log
  |                        ^
hint: launchd does not expand `~`; write the full path, as in /Users/NAME/...
",
        ),
        (
            "spotlight:\n  - path: ~/m\n    volume: /\n    indexed: false\n",
            "path and volume",
            "error: spotlight[0]: give exactly one of `path` (a folder) or `volume` (a mount point)
 --> macllm.yaml:3:5
  |
3 |   - path: ~/m
  |     ^
",
        ),
        (
            "spotlight:\n  - path: ~/m\n    indexed: false\n    method: never_index\n",
            "unknown method",
            "error: spotlight[0].method: unknown method `never_index`; folders support `noindex` (mdutil switches whole volumes, and `.metadata_never_index` is ignored inside a volume on current macOS)
 --> macllm.yaml:5:13
  |
5 |     method: never_index
  |             ^
",
        ),
        (
            "power:\n  all:\n    sleeep: 0\n",
            "unknown power setting",
            "error: power.all.sleeep: unknown power setting `sleeep`; macllm manages sleep, displaysleep, disksleep, standby, hibernatemode, powernap, autorestart, womp, ttyskeepawake, tcpkeepalive, proximitywake, networkoversleep, lowpowermode, powermode
 --> macllm.yaml:4:13
  |
4 |     sleeep: 0
  |             ^
hint: did you mean `sleep`?
",
        ),
        (
            "power:\n  all:\n    powernap: 3\n",
            "switch given a number",
            "error: power.all.powernap: `powernap` is a switch: true or false, not an integer
 --> macllm.yaml:4:15
  |
4 |     powernap: 3
  |               ^
",
        ),
        (
            "time_machine:\n  automatic_backups: sometimes\n",
            "not a boolean",
            r#"error: time_machine.automatic_backups: invalid type: string "sometimes", expected a boolean
 --> macllm.yaml:3:22
  |
3 |   automatic_backups: sometimes
  |                      ^
"#,
        ),
    ];
    let before = mac.snapshot();
    for (body, _what, stderr) in cases {
        mac.spec(&format!("macllm: 1\n{body}"));
        mac.on(&["plan"]).status(1).stderr(stderr).run();
    }
    assert_eq!(before, mac.snapshot());
}

/// The plan of SERVE with OLLAMA_KEEP_ALIVE changed: a diff of the agent plist's lines.
const KEEP_ALIVE_PLAN: &str = "
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.ollama will be updated in-place
  ~ value = <<-EOT
            {
              \"loaded\": true,
              \"plist\": <<EOT
                <?xml version=\"1.0\" encoding=\"UTF-8\"?>
                <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
                <plist version=\"1.0\">
                <dict>
                \t<key>EnvironmentVariables</key>
                \t<dict>
                \t\t<key>OLLAMA_FLASH_ATTENTION</key>
                \t\t<string>1</string>
                \t\t<key>OLLAMA_KEEP_ALIVE</key>
          -     \t\t<string>5m</string>
          +     \t\t<string>30m</string>
                \t\t<key>OLLAMA_NUM_PARALLEL</key>
                \t\t<string>1</string>
                \t</dict>
                \t<key>KeepAlive</key>
                \t<true/>
                \t<key>Label</key>
                \t<string>com.example.ollama</string>
                \t<key>LimitLoadToSessionType</key>
                \t<array>
                \t\t<string>Aqua</string>
                \t\t<string>Background</string>
                \t\t<string>LoginWindow</string>
                \t\t<string>StandardIO</string>
                \t\t<string>System</string>
                \t</array>
                \t<key>ProcessType</key>
                \t<string>Interactive</string>
                \t<key>ProgramArguments</key>
                \t<array>
                \t\t<string>/opt/homebrew/bin/ollama</string>
                \t\t<string>serve</string>
                \t</array>
                \t<key>RunAtLoad</key>
                \t<true/>
                \t<key>StandardErrorPath</key>
                \t<string>/tmp/ollama.log</string>
                \t<key>StandardOutPath</key>
                \t<string>/tmp/ollama.log</string>
                </dict>
                </plist>
                EOT,
            }
        EOT
    # file: ~/Library/LaunchAgents/com.example.ollama.plist

Plan: 0 to add, 1 to change, 0 to destroy.
";
