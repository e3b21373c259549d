//! `defaults` as it behaves on a real Mac (issue 10): a sandboxed app's domain that the
//! terminal cannot reach without Full Disk Access, and `activateSettings -u`, which on macOS
//! 14 and newer does not apply every setting.

use crate::harness::Mac;

const SAFARI: &str = "macllm: 1\ndefaults:\n  - domain: com.apple.Safari\n    key: AutoOpenSafeDownloads\n    value: false\n";

/// What Safari itself reads: the preference file in its container.
fn safari_reads(mac: &Mac) -> plist::Value {
    let path = mac.dir.join(
        "Users/admin/Library/Containers/com.apple.Safari/Data/Library/Preferences/com.apple.Safari.plist",
    );
    plist::Value::from_file(path).unwrap()
}

fn auto_open(value: bool) -> plist::Value {
    let mut dict = plist::Dictionary::new();
    dict.insert("AutoOpenSafeDownloads".into(), plist::Value::Boolean(value));
    plist::Value::Dictionary(dict)
}

/// Without Full Disk Access (the emulated terminal's default, as for a fresh one) the plan
/// warns; the apply "converges" because `defaults` reads back its own fallback file, while
/// Safari's container keeps its value. With Full Disk Access the same spec reaches Safari.
#[test]
fn a_sandboxed_apps_domain_warns_that_it_needs_full_disk_access() {
    let mac = Mac::new();
    mac.spec(SAFARI);
    mac.on(&["plan"])
        .stdout(&format!("{SAFARI_PLAN}{SAFARI_WARNING}"))
        .run();
    mac.on(&["apply", "--yes"])
        .stdout(&format!(
            "{SAFARI_PLAN}{SAFARI_WARNING}\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"
        ))
        .stderr(SAFARI_APPLY_STDERR)
        .run();
    // Read back, the value converged; Safari never saw it.
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout(&format!(
            "\nNo changes. The host matches the spec.\n{SAFARI_WARNING}"
        ))
        .run();
    assert_eq!(safari_reads(&mac), auto_open(true));

    // Grant the terminal Full Disk Access: `defaults` now sees Safari's own value.
    mac.set_machine("full_disk_access", serde_json::json!(true));
    mac.on(&["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(&format!("{SAFARI_PLAN_WITH_ACCESS}{SAFARI_WARNING}"))
        .run();
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    assert_eq!(safari_reads(&mac), auto_open(false));
}

const SAFARI_WARNING: &str = "Warning: defaults:com.apple.Safari:AutoOpenSafeDownloads: com.apple.Safari belongs to a sandboxed app, which reads ~/Library/Containers/com.apple.Safari/Data/Library/Preferences/com.apple.Safari.plist; `defaults` writes there only if the terminal has Full Disk Access (System Settings > Privacy & Security), otherwise to ~/Library/Preferences/com.apple.Safari.plist, which the app ignores, and reading the value back cannot tell the two apart\n";

/// Without Full Disk Access the value Safari has (true) is out of sight: "will be created".
const SAFARI_PLAN: &str = "
macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.Safari:AutoOpenSafeDownloads will be created
  + value = false

Plan: 1 to add, 0 to change, 0 to destroy.
";

const SAFARI_APPLY_STDERR: &str = "defaults:com.apple.Safari:AutoOpenSafeDownloads: Creating...
warning: defaults:com.apple.Safari:AutoOpenSafeDownloads: read back as written, which does not prove the app sees it: without Full Disk Access for the terminal, `defaults` wrote ~/Library/Preferences/com.apple.Safari.plist instead of the app's container
defaults:com.apple.Safari:AutoOpenSafeDownloads: Creation complete after [DURATION]
";

/// With Full Disk Access `defaults` reads Safari's container: what the last apply "converged"
/// to shows as drift, and the change is still to be made.
const SAFARI_PLAN_WITH_ACCESS: &str = r#"
Note: Objects have changed outside of macllm

macllm detected the following changes made outside of macllm since the
last "macllm apply":

  # defaults:com.apple.Safari:AutoOpenSafeDownloads has changed
  ~ value = false -> true

Unless you have made equivalent changes to your spec, the following plan
may include actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

macllm will perform the following actions on sandbox:mac:

  # defaults:com.apple.Safari:AutoOpenSafeDownloads will be updated in-place
  ~ value = true -> false

Plan: 0 to add, 1 to change, 0 to destroy.
"#;

const GLOBAL: &str = "macllm: 1\ndefaults:\n  - domain: NSGlobalDomain\n    key: AppleShowAllExtensions\n    value: true\n  - domain: NSGlobalDomain\n    key: NSWindowResizeTime\n    type: float\n    value: 0.001\n";

const GLOBAL_APPLY: &str = "
macllm will perform the following actions on sandbox:mac:

  # defaults:NSGlobalDomain:AppleShowAllExtensions will be created
  + value = true
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSWindowResizeTime will be created
  + value = 0.001
    # then: activateSettings -u

Plan: 2 to add, 0 to change, 0 to destroy.
After the changes: activateSettings -u.

Apply complete! Resources: 2 added, 0 changed, 0 destroyed.
";

const GLOBAL_PROGRESS: &str = "defaults:NSGlobalDomain:AppleShowAllExtensions: Creating...
defaults:NSGlobalDomain:AppleShowAllExtensions: Creation complete after [DURATION]
defaults:NSGlobalDomain:NSWindowResizeTime: Creating...
defaults:NSGlobalDomain:NSWindowResizeTime: Creation complete after [DURATION]
";

/// On macOS 14 and newer `activateSettings -u` runs but leaves many settings for the next
/// login (ryan4yin/nix-darwin-kickstarter#4): apply runs it, names the changes that need a
/// logout, and does not say "Restarted".
#[test]
fn from_macos_14_global_changes_are_said_to_need_a_logout() {
    let mac = Mac::new();
    mac.spec(GLOBAL);
    mac.on(&["apply", "--yes"])
        .stdout(GLOBAL_APPLY)
        .stderr(&format!(
            "{GLOBAL_PROGRESS}warning: ran `activateSettings -u`, but on macOS 14.5 it does not apply every setting: log out and back in for defaults:NSGlobalDomain:AppleShowAllExtensions, defaults:NSGlobalDomain:NSWindowResizeTime to take effect\n"
        ))
        .run();
    assert_eq!(
        mac.restarts(),
        "activateSettings -u (macOS 14.5: some settings wait for a logout)\n"
    );
}

/// Before macOS 14 the reload applies the changes (nix-darwin#658): "Restarted".
#[test]
fn before_macos_14_activate_settings_applies_global_changes() {
    let mac = Mac::with_preset("m1-8gb-monterey");
    mac.spec(GLOBAL);
    mac.on(&["apply", "--yes"])
        .stdout(GLOBAL_APPLY)
        .stderr(&format!(
            "{GLOBAL_PROGRESS}Restarted: activateSettings -u\n"
        ))
        .run();
    assert_eq!(mac.restarts(), "activateSettings -u\n");
}
