//! A LaunchAgent macllm owns (`/usr/bin/true`, run once at load): the plist written,
//! linted and bootstrapped, drift when it is booted out by hand, and nothing left after
//! destroy.

use crate::mac::{Mac, without_session_warnings};

const LABEL: &str = "com.macllm.ci-test.agent";

const SPEC: &str = r#"macllm: 1
agents:
  - label: com.macllm.ci-test.agent
    program_arguments: [/usr/bin/true]
    keep_alive: false
"#;

/// The file macllm writes for [`SPEC`], byte for byte (the plist crate's XML: no final newline).
const PLIST: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
\t<key>KeepAlive</key>
\t<false/>
\t<key>Label</key>
\t<string>com.macllm.ci-test.agent</string>
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
\t\t<string>/usr/bin/true</string>
\t</array>
\t<key>RunAtLoad</key>
\t<true/>
</dict>
</plist>";

/// The plan's block for the agent being created: `{loaded, plist}` as a unified diff.
fn created_block() -> String {
    let mut block = format!("  # agent:{LABEL} will be created\n  ~ value = <<-EOT\n");
    block.push_str(
        "          + {\n          +   \"loaded\": true,\n          +   \"plist\": <<EOT\n",
    );
    for line in PLIST.lines() {
        block.push_str(&format!("          +     {line}\n"));
    }
    block.push_str("          +     EOT,\n          + }\n        EOT\n");
    block.push_str(&format!(
        "    # file: ~/Library/LaunchAgents/{LABEL}.plist\n"
    ));
    block
}

#[test]
fn a_launch_agent_is_written_bootstrapped_and_removed_again() {
    let mac = Mac::new();
    mac.assert_untouched(&[], &[LABEL], &[]);
    let _guard = mac.guard(&[], &[LABEL], &[]);
    let file = mac.agent_plist(LABEL);
    let service = format!("{}/{LABEL}", mac.launchd_domain());
    assert!(!mac.tool(&["launchctl", "print", &service]).success());
    mac.spec(SPEC);

    let plan = mac.macllm(&["plan", "--detailed-exitcode"]).expect(2);
    let expected_plan = format!(
        "\nmacllm will perform the following actions on local:\n\n{}\nPlan: 1 to add, 0 to change, 0 to destroy.\n",
        created_block()
    );
    assert_eq!(without_session_warnings(&mac, &plan.stdout), expected_plan);

    let apply = mac.macllm(&["apply", "--yes"]).expect(0);
    assert_eq!(
        without_session_warnings(&mac, &apply.stdout),
        format!("{expected_plan}\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n")
    );
    assert_eq!(mac.tool(&["cat", &file]).expect(0).stdout, PLIST);
    let lint = mac.tool(&["plutil", "-lint", &file]).expect(0);
    assert_eq!(lint.stdout, format!("{file}: OK\n"));
    assert!(mac.launchd_has(&service, true), "{service} is not loaded");
    let again = mac.macllm(&["plan", "--detailed-exitcode"]).expect(0);
    assert_eq!(
        without_session_warnings(&mac, &again.stdout),
        "\nNo changes. The host matches the spec.\n"
    );

    // Booted out by hand: drift shows `loaded` going false, and apply loads it again.
    mac.tool(&["launchctl", "bootout", &service]).expect(0);
    assert!(
        mac.launchd_has(&service, false),
        "{service} is still loaded"
    );
    let drift = mac.macllm(&["drift"]).expect(2);
    let drift_text = without_session_warnings(&mac, &drift.stdout);
    assert!(
        drift_text.contains(&format!(
            "  # agent:{LABEL} has changed\n  ~ value = <<-EOT\n            {{\n          -   \"loaded\": true,\n          +   \"loaded\": false,\n"
        )),
        "{drift_text}"
    );
    let reapply = mac.macllm(&["apply", "--yes"]).expect(0);
    assert!(
        without_session_warnings(&mac, &reapply.stdout).ends_with(
            "\nPlan: 0 to add, 1 to change, 0 to destroy.\n\nApply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"
        ),
        "{}",
        reapply.stdout
    );
    assert!(mac.launchd_has(&service, true), "{service} is not loaded");

    let destroy = mac.macllm(&["destroy", "--yes"]).expect(0);
    assert!(
        destroy
            .stdout
            .ends_with("\nDestroy complete! Resources: 1 destroyed.\n"),
        "{}",
        destroy.stdout
    );
    assert!(
        mac.launchd_has(&service, false),
        "{service} is still loaded"
    );
    assert!(!mac.exists(&file), "{file} is still there");
}
