//! What destroy leaves in launchd's override databases (issue 11): no `launchctl` subcommand
//! removes an override (reference macos-commands.md 2.2), so macllm writes one only when it
//! must, restores what launchd does with each job, and says which override stays.

use super::harness::Mac;

const HELPER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>Label</key>\n\t<string>com.example.helper</string>\n\t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>/usr/local/bin/helper</string>\n\t</array>\n\t<key>RunAtLoad</key>\n\t<true/>\n</dict>\n</plist>\n";

/// A third-party agent's plist in /Library/LaunchAgents, not loaded.
fn install_helper(mac: &Mac, xml: &str) {
    let plist = mac
        .dir
        .join("Library/LaunchAgents/com.example.helper.plist");
    std::fs::create_dir_all(plist.parent().unwrap()).unwrap();
    std::fs::write(&plist, xml).unwrap();
}

fn print_disabled(mac: &Mac) -> String {
    mac.sh(&["launchctl", "print-disabled", "gui/501"])
        .stdout_of()
}

/// Applies a spec that disables com.example.helper, whose value before is `original`, then
/// destroys it: destroy restores `original` and names the `enabled` override launchd keeps.
fn disable_then_destroy(mac: &Mac, original: &str) {
    mac.spec("macllm: 1\nservices:\n  - label: com.example.helper\n    enabled: false\n");
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.example.helper will be updated in-place
  ~ value = "{original}" -> "disabled"

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#
        ))
        .stderr(
            r#"service:gui/com.example.helper: Modifying...
service:gui/com.example.helper: Modifications complete after [DURATION]
"#,
        )
        .run();
    mac.on(&["destroy", "--yes"]).stdout(&format!(r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.example.helper will be restored to its original value
  ~ value = "disabled" -> "{original}"

Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
"#)).stderr(r#"service:gui/com.example.helper: Restoring...
warning: service:gui/com.example.helper: launchd keeps an explicit `enabled` override for com.example.helper that it did not have before: no launchctl subcommand removes one, and macllm does not edit launchd's database; com.example.helper behaves as before
service:gui/com.example.helper: Restore complete after [DURATION]
"#).run();
}

/// An agent macllm adds and destroy removes leaves nothing in `disabled.501.plist`: its
/// label had no override, so none is written.
#[test]
fn an_agent_added_and_destroyed_leaves_no_override() {
    let mac = Mac::new();
    let before = print_disabled(&mac);
    mac.spec("macllm: 1\nagents:\n  - label: com.example.agent\n    program_arguments: [/usr/local/bin/agent]\n    run_at_load: true\n");
    mac.on(&["apply", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.agent will be created
  ~ value = <<-EOT
          + {
          +   "loaded": true,
          +   "plist": <<EOT
          +     <?xml version="1.0" encoding="UTF-8"?>
          +     <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
          +     <plist version="1.0">
          +     <dict>
          +     	<key>KeepAlive</key>
          +     	<true/>
          +     	<key>Label</key>
          +     	<string>com.example.agent</string>
          +     	<key>LimitLoadToSessionType</key>
          +     	<array>
          +     		<string>Aqua</string>
          +     		<string>Background</string>
          +     		<string>LoginWindow</string>
          +     		<string>StandardIO</string>
          +     		<string>System</string>
          +     	</array>
          +     	<key>ProgramArguments</key>
          +     	<array>
          +     		<string>/usr/local/bin/agent</string>
          +     	</array>
          +     	<key>RunAtLoad</key>
          +     	<true/>
          +     </dict>
          +     </plist>
          +     EOT,
          + }
        EOT
    # file: ~/Library/LaunchAgents/com.example.agent.plist

Plan: 1 to add, 0 to change, 0 to destroy.

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"#).stderr(r#"agent:com.example.agent: Creating...
agent:com.example.agent: Creation complete after [DURATION]
"#).run();
    mac.sh(&["launchctl", "print", "gui/501/com.example.agent"])
        .stdout_any()
        .run();
    mac.on(&["destroy", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.agent will be deleted (it was absent before macllm)
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
          -     	<string>com.example.agent</string>
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
          -     		<string>/usr/local/bin/agent</string>
          -     	</array>
          -     	<key>RunAtLoad</key>
          -     	<true/>
          -     </dict>
          -     </plist>
          -     EOT,
          - }
        EOT
    # file: ~/Library/LaunchAgents/com.example.agent.plist

Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
"#).stderr(r#"agent:com.example.agent: Restoring...
agent:com.example.agent: Restore complete after [DURATION]
"#).run();
    assert_eq!(print_disabled(&mac), before);
}

/// A label left disabled by an earlier install must be enabled before it can load: the
/// `disabled` override is recorded, and destroy puts it back.
#[test]
fn an_agent_whose_label_was_disabled_gets_its_override_back() {
    let mac = Mac::new();
    mac.sh(&["launchctl", "disable", "gui/501/com.example.agent"])
        .run();
    let before = print_disabled(&mac);
    mac.spec("macllm: 1\nagents:\n  - label: com.example.agent\n    program_arguments: [/usr/local/bin/agent]\n    run_at_load: true\n");
    mac.on(&["apply", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.agent will be updated in-place
  ~ value = <<-EOT
            {
          -   "launchd_override": "disabled",
          +   "loaded": true,
          +   "plist": <<EOT
          +     <?xml version="1.0" encoding="UTF-8"?>
          +     <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
          +     <plist version="1.0">
          +     <dict>
          +     	<key>KeepAlive</key>
          +     	<true/>
          +     	<key>Label</key>
          +     	<string>com.example.agent</string>
          +     	<key>LimitLoadToSessionType</key>
          +     	<array>
          +     		<string>Aqua</string>
          +     		<string>Background</string>
          +     		<string>LoginWindow</string>
          +     		<string>StandardIO</string>
          +     		<string>System</string>
          +     	</array>
          +     	<key>ProgramArguments</key>
          +     	<array>
          +     		<string>/usr/local/bin/agent</string>
          +     	</array>
          +     	<key>RunAtLoad</key>
          +     	<true/>
          +     </dict>
          +     </plist>
          +     EOT,
            }
        EOT
    # file: ~/Library/LaunchAgents/com.example.agent.plist

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#).stderr(r#"agent:com.example.agent: Modifying...
agent:com.example.agent: Modifications complete after [DURATION]
"#).run();
    mac.sh(&["launchctl", "print", "gui/501/com.example.agent"])
        .stdout_any()
        .run();
    mac.on(&["destroy", "--yes"]).stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.agent will be restored to its original value
  ~ value = <<-EOT
            {
          -   "loaded": true,
          -   "plist": <<EOT
          -     <?xml version="1.0" encoding="UTF-8"?>
          -     <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
          -     <plist version="1.0">
          -     <dict>
          -     	<key>KeepAlive</key>
          -     	<true/>
          -     	<key>Label</key>
          -     	<string>com.example.agent</string>
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
          -     		<string>/usr/local/bin/agent</string>
          -     	</array>
          -     	<key>RunAtLoad</key>
          -     	<true/>
          -     </dict>
          -     </plist>
          -     EOT,
          +   "launchd_override": "disabled",
            }
        EOT
    # file: ~/Library/LaunchAgents/com.example.agent.plist

Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
"#).stderr(r#"agent:com.example.agent: Restoring...
agent:com.example.agent: Restore complete after [DURATION]
"#).run();
    assert_eq!(print_disabled(&mac), before);
}

/// A third-party job with no override, disabled and then destroyed: it runs again, and the
/// `enabled` override that had to be written is named in destroy's output.
#[test]
fn a_service_without_override_is_restored_and_the_remaining_override_named() {
    let mac = Mac::new();
    install_helper(&mac, HELPER);
    mac.sh(&[
        "launchctl",
        "bootstrap",
        "gui/501",
        "/Library/LaunchAgents/com.example.helper.plist",
    ])
    .run();
    disable_then_destroy(&mac, "enabled (no override)");
    mac.sh(&["launchctl", "print", "gui/501/com.example.helper"])
        .stdout_any()
        .run();
    mac.sh(&["launchctl", "print-disabled", "gui/501"])
        .stdout(
            r#"disabled services = {
	"com.apple.ManagedClientAgent.enrollagent" => disabled
	"com.example.helper" => enabled
}
"#,
        )
        .run();
}

/// A job the plist itself disables (`Disabled` true, no override) reads as disabled, so a
/// spec asking for it disabled changes nothing and writes no override.
#[test]
fn a_plist_disabled_job_needs_no_override() {
    let mac = Mac::new();
    install_helper(
        &mac,
        &HELPER.replace(
            "<key>RunAtLoad</key>",
            "<key>Disabled</key>\n\t<true/>\n\t<key>RunAtLoad</key>",
        ),
    );
    let before = print_disabled(&mac);
    mac.spec("macllm: 1\nservices:\n  - label: com.example.helper\n    enabled: false\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
No changes. The host matches the spec.
"#,
        )
        .run();
    assert_eq!(print_disabled(&mac), before);
}

/// An explicit override the Mac had before is put back exactly (`disabled` here).
#[test]
fn an_explicit_override_is_restored_exactly() {
    let mac = Mac::new();
    install_helper(&mac, HELPER);
    mac.sh(&["launchctl", "disable", "gui/501/com.example.helper"])
        .run();
    let before = print_disabled(&mac);
    mac.spec("macllm: 1\nservices:\n  - label: com.example.helper\n    enabled: true\n");
    mac.on(&["apply", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.example.helper will be updated in-place
  ~ value = "disabled" -> "enabled"

Plan: 0 to add, 1 to change, 0 to destroy.

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
"#,
        )
        .stderr(
            r#"service:gui/com.example.helper: Modifying...
service:gui/com.example.helper: Modifications complete after [DURATION]
"#,
        )
        .run();
    mac.on(&["destroy", "--yes"])
        .stdout(
            r#"
macllm will perform the following actions on sandbox:mac:

  # service:gui/com.example.helper will be restored to its original value
  ~ value = "enabled" -> "disabled"

Plan: 0 to add, 0 to change, 1 to destroy.

Destroy complete! Resources: 1 destroyed.
"#,
        )
        .stderr(
            r#"service:gui/com.example.helper: Restoring...
service:gui/com.example.helper: Restore complete after [DURATION]
"#,
        )
        .run();
    assert_eq!(print_disabled(&mac), before);
    mac.sh(&["launchctl", "print", "gui/501/com.example.helper"])
        .status(113)
        .stderr_any()
        .run();
}

/// An enabled job that was not loaded (booted out by hand) is left unloaded by destroy, as
/// it was found.
#[test]
fn an_enabled_job_that_was_not_loaded_stays_unloaded() {
    let mac = Mac::new();
    install_helper(&mac, HELPER);
    disable_then_destroy(&mac, "enabled (no override); not loaded");
    mac.sh(&["launchctl", "print", "gui/501/com.example.helper"])
        .status(113)
        .stderr("Bad request.\nCould not find service \"com.example.helper\" in domain for user gui: 501\n")
        .run();
}
