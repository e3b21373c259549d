//! `sudo macllm apply` of a spec that mixes root's settings with the user's (issue 10,
//! section 2), through the real binary: every run's whole stdout and stderr. The emulated Mac
//! runs as root with `SUDO_USER=admin`, as `sudo` leaves a process: root's own preferences
//! live in /var/root and what root creates in the user's home is root's, so the user's
//! settings are reached as the user (nix-darwin's `launchctl asuser UID sudo --user=USER --
//! defaults write ...`, modules/system/defaults-write.nix).

use crate::harness::Mac;

const SPEC: &str = "macllm: 1
power:
  all:
    sleep: 0
defaults:
  - domain: com.apple.dock
    key: autohide
    value: true
agents:
  - label: com.example.keep-awake
    program_arguments: [/usr/bin/caffeinate, -i]
";

const AGENT: &str = "/Users/admin/Library/LaunchAgents/com.example.keep-awake.plist";

/// `pmset -g custom` of a fresh m2-16gb-sonoma with `sleep` at SLEEP.
fn pmset_custom(sleep: u32) -> String {
    format!(
        r#"AC Power:
 standby              0
 Sleep On Power Button 1
 autorestart          0
 hibernatefile        /var/vm/sleepimage
 powernap             1
 networkoversleep     0
 disksleep            10
 sleep                {sleep}
 hibernatemode        0
 ttyskeepawake        1
 displaysleep         10
 tcpkeepalive         1
 lowpowermode         0
 womp                 1
"#
    )
}

/// Under sudo, the user's preferences change (not root's), the agent lands in the user's
/// LaunchAgents, owned by the user, and loads in gui/501, power changes; destroy puts both
/// back.
#[test]
fn sudo_apply_changes_the_users_settings_and_roots() {
    let mac = Mac::new();
    mac.spec(SPEC);
    mac.become_root();
    mac.on(&["apply", "--yes"])
        .stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # agent:com.example.keep-awake will be created
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
          +     	<string>com.example.keep-awake</string>
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
          +     		<string>/usr/bin/caffeinate</string>
          +     		<string>-i</string>
          +     	</array>
          +     	<key>RunAtLoad</key>
          +     	<true/>
          +     </dict>
          +     </plist>
          +     EOT,
          + }
        EOT
    # file: ~/Library/LaunchAgents/com.example.keep-awake.plist

  # defaults:com.apple.dock:autohide will be updated in-place
  ~ value = false -> true
    # then: killall Dock

  # power:sleep will be updated in-place
  ~ value = 1 -> 0
    # needs root (sudo)

Plan: 1 to add, 2 to change, 0 to destroy.
After the changes: killall Dock.

Apply complete! Resources: 1 added, 2 changed, 0 destroyed.
"#)
        .stderr(r#"agent:com.example.keep-awake: Creating...
agent:com.example.keep-awake: Creation complete after [DURATION]
defaults:com.apple.dock:autohide: Modifying...
defaults:com.apple.dock:autohide: Modifications complete after [DURATION]
power:sleep: Modifying...
power:sleep: Modifications complete after [DURATION]
Restarted: killall Dock
"#)
        .run();
    // The user's dock, read as the user; root's has no such domain.
    mac.sh(&[
        "sudo",
        "-u",
        "admin",
        "defaults",
        "read",
        "com.apple.dock",
        "autohide",
    ])
    .stdout("1\n")
    .run();
    mac.sh(&[
        "test",
        "-e",
        "/var/root/Library/Preferences/com.apple.dock.plist",
    ])
    .status(1)
    .run();
    mac.sh(&["stat", "-f%Su:%Sg", AGENT])
        .stdout("admin:staff\n")
        .run();
    mac.sh(&["test", "-e", "/var/root/Library/LaunchAgents"])
        .status(1)
        .run();
    mac.sh(&["launchctl", "print", "gui/501/com.example.keep-awake"])
        .stdout_any()
        .run();
    mac.sh(&["pmset", "-g", "custom"])
        .stdout(&pmset_custom(0))
        .run();
    mac.on(&["plan"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    mac.on(&["destroy", "--yes"])
        .stdout(r#"
macllm will perform the following actions on sandbox:mac:

  # power:sleep will be restored to its original value
  ~ value = 0 -> 1
    # needs root (sudo)

  # defaults:com.apple.dock:autohide will be restored to its original value
  ~ value = true -> false
    # then: killall Dock

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
          -     	</array>
          -     	<key>RunAtLoad</key>
          -     	<true/>
          -     </dict>
          -     </plist>
          -     EOT,
          - }
        EOT
    # file: ~/Library/LaunchAgents/com.example.keep-awake.plist

Plan: 0 to add, 0 to change, 3 to destroy.
After the changes: killall Dock.

Destroy complete! Resources: 3 destroyed.
"#)
        .stderr(r#"power:sleep: Restoring...
power:sleep: Restore complete after [DURATION]
defaults:com.apple.dock:autohide: Restoring...
defaults:com.apple.dock:autohide: Restore complete after [DURATION]
agent:com.example.keep-awake: Restoring...
agent:com.example.keep-awake: Restore complete after [DURATION]
Restarted: killall Dock
"#)
        .run();
    mac.sh(&[
        "sudo",
        "-u",
        "admin",
        "defaults",
        "read",
        "com.apple.dock",
        "autohide",
    ])
    .stdout("0\n")
    .run();
    mac.sh(&["test", "-e", AGENT]).status(1).run();
    mac.sh(&["launchctl", "print", "gui/501/com.example.keep-awake"])
        .status(113)
        .stderr("Bad request.\nCould not find service \"com.example.keep-awake\" in domain for user gui: 501\n")
        .run();
    mac.sh(&["pmset", "-g", "custom"])
        .stdout(&pmset_custom(1))
        .run();
    mac.on(&["facts"]).stdout(&root_facts(501, "admin")).run();
}

/// `macllm facts` of the fresh m2-16gb-sonoma run as root, per-user settings going to USER.
fn root_facts(uid: u32, user: &str) -> String {
    format!(
        "host:     sandbox:mac
hostname: mini-m2.local
chip:     Apple M2
memory:   16 GB (17179869184 bytes), 100 GB/s
cores:    8 (4 performance + 4 efficiency)
GPU:      10 cores
macOS:    14.5 (23F79)
uid:      {uid}
root:     yes (per-user settings go to {user})
"
    )
}

/// Logged in as root (no sudo) on a Mac with nobody at the console, the per-user settings
/// are root's own unless the inventory names the user for that host; with a console user
/// they go to that user (`stat -f%Su /dev/console`).
#[test]
fn root_without_sudo_targets_the_inventory_user_or_the_console_user() {
    let mac = Mac::new();
    mac.set_machine("uid", 0.into());
    mac.set_machine("gui_session", false.into());
    std::fs::write(
        mac.work.join("fleet.yaml"),
        "hosts:\n  mini:\n    host: sandbox:mac\n    user: admin\n",
    )
    .unwrap();
    mac.on(&["facts"]).stdout(&root_facts(0, "root")).run();
    mac.macllm(&["--inventory", "fleet.yaml", "facts"])
        .stdout(&root_facts(501, "admin"))
        .run();
    mac.set_machine("gui_session", true.into());
    mac.on(&["facts"]).stdout(&root_facts(501, "admin")).run();
}

/// Under sudo the Ollama variables are the user's too: the env file is written as the user
/// (root's would be unreadable to Homebrew run as the user, and root's `brew services`
/// ignores user env files), and `brew services restart` runs as the user. Before, the file
/// was root's.
#[test]
fn sudo_apply_writes_the_users_ollama_env_file_as_the_user() {
    let mac = Mac::new();
    mac.become_root();
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 3\n");
    mac.on(&["apply", "--yes"]).stdout_any().stderr_any().run();
    mac.sh(&[
        "stat",
        "-f%Su",
        "/Users/admin/.homebrew/services/ollama.env",
    ])
    .stdout("admin\n")
    .run();
    mac.sh(&["cat", "/Users/admin/.homebrew/services/ollama.env"])
        .stdout("OLLAMA_NUM_PARALLEL=3\n")
        .run();
    mac.on(&["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
}
