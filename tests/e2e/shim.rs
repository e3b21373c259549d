//! The emulated Mac as real processes on PATH (the multi-call shim), so `--host local` is
//! tested end to end through `std::process`.

use crate::harness::{
    BIN, DRIFT_THEN_PLAN, ENV_SANDBOX, ENV_TRACE, Mac, PROGRAMS, QUIET_ACTIVATE_SETTINGS,
    QUIET_APPLY_PROGRESS, QUIET_PLAN, QUIET_UI, TILESIZE_DRIFT, Test,
};
use crate::robustness::{HOSTILE, hostile_spec};
use std::path::PathBuf;
use std::process::Command;

/// The shim answers programs looked up on PATH; macllm runs activateSettings by its full
/// path, which does not exist here, so the global domain's restart is only warned about.
const NO_ACTIVATE_SETTINGS: &str = "warning: cannot run `/System/Library/PrivateFrameworks/SystemAdministration.framework/Resources/activateSettings`: it is not installed on this machine
hint: macllm manages macOS; elsewhere use an emulated Mac with `--host sandbox:DIR`
";

pub(crate) struct Shim {
    bin: PathBuf,
    trace: PathBuf,
}

impl Shim {
    pub(crate) fn install(mac: &Mac) -> Shim {
        let bin = mac.work.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for program in PROGRAMS {
            std::os::unix::fs::symlink(BIN, bin.join(program)).unwrap();
        }
        Shim {
            bin,
            trace: mac.work.join("trace.log"),
        }
    }

    pub(crate) fn command(&self, mac: &Mac, program: &str, args: &[&str]) -> Command {
        let mut command = mac.command(args);
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        if program != "macllm" {
            command = Command::new(self.bin.join(program));
            command.args(args).current_dir(&mac.work);
        }
        command
            .env("PATH", path)
            .env(ENV_SANDBOX, &mac.dir)
            .env(ENV_TRACE, &self.trace);
        command
    }

    pub(crate) fn local(&self, mac: &Mac, args: &[&str]) -> Test {
        let mut all = vec!["--host", "local"];
        all.extend_from_slice(args);
        Test::new(self.command(mac, "macllm", &all), &mac.work)
    }

    /// An emulated program run as a real process from the shim's folder.
    fn program(&self, mac: &Mac, program: &str, args: &[&str]) -> Test {
        Test::new(self.command(mac, program, args), &mac.work)
    }

    fn take_trace(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.trace).unwrap_or_default();
        let _ = std::fs::remove_file(&self.trace);
        text.lines().map(str::to_string).collect()
    }
}

#[test]
fn local_host_round_trip_through_the_shim() {
    let mac = Mac::new();
    let shim = Shim::install(&mac);
    mac.spec(QUIET_UI);
    let before = mac.export("com.apple.dock");
    let local_plan = QUIET_PLAN.replace("sandbox:mac", "local");

    shim.local(&mac, &["plan", "--detailed-exitcode"])
        .status(2)
        .stdout(&local_plan)
        .run();
    // One `defaults export` per domain, however many keys: 3 domains here; and one `id -u`
    // (whether macllm runs as root, whose preferences a plain `defaults` would read).
    let spawned = shim.take_trace();
    assert_eq!(
        spawned
            .iter()
            .filter(|l| l.ends_with("defaults export com.apple.dock -"))
            .count(),
        1,
        "{spawned:?}"
    );
    assert_eq!(spawned.len(), 4, "{spawned:?}");

    shim.local(&mac, &["apply", "--yes"])
        .stdout(&format!(
            "{local_plan}\nApply complete! Resources: 6 added, 4 changed, 0 destroyed.\n"
        ))
        .stderr(&QUIET_APPLY_PROGRESS.replace(QUIET_ACTIVATE_SETTINGS, NO_ACTIVATE_SETTINGS))
        .run();
    mac.read("com.apple.dock", "tilesize").stdout("36\n").run();
    shim.local(&mac, &["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    assert!(mac.work.join("state/local.json").exists());

    shim.program(
        &mac,
        "defaults",
        &["write", "com.apple.dock", "tilesize", "-int", "64"],
    )
    .run();
    shim.local(&mac, &["drift"])
        .status(2)
        .stdout(TILESIZE_DRIFT)
        .run();
    shim.local(&mac, &["facts"])
        .stdout(
            "host:     local
hostname: mini-m2.local
chip:     Apple M2
memory:   16 GB (17179869184 bytes), 100 GB/s
cores:    8 (4 performance + 4 efficiency)
GPU:      10 cores
macOS:    14.5 (23F79)
uid:      501
",
        )
        .run();

    shim.local(&mac, &["destroy", "--yes"])
        .stdout(&[TILESIZE_DRIFT, DRIFT_THEN_PLAN, r#"macllm will perform the following actions on local:

  # defaults:com.apple.finder:DisableAllAnimations will be deleted (it was absent before macllm)
  - value = true -> null
    # then: killall Finder

  # defaults:com.apple.dock:tilesize will be restored to its original value
  ~ value = 64 -> 48
    # then: killall Dock

  # defaults:com.apple.dock:show-recents will be restored to its original value
  ~ value = false -> true
    # then: killall Dock

  # defaults:com.apple.dock:mineffect will be restored to its original value
  ~ value = "scale" -> "genie"
    # then: killall Dock

  # defaults:com.apple.dock:launchanim will be deleted (it was absent before macllm)
  - value = false -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide-time-modifier will be deleted (it was absent before macllm)
  - value = 0.15 -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide-delay will be deleted (it was absent before macllm)
  - value = 0.0 -> null
    # then: killall Dock

  # defaults:com.apple.dock:autohide will be restored to its original value
  ~ value = true -> false
    # then: killall Dock

  # defaults:NSGlobalDomain:NSWindowResizeTime will be deleted (it was absent before macllm)
  - value = 0.001 -> null
    # then: activateSettings -u

  # defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled will be deleted (it was absent before macllm)
  - value = false -> null
    # then: activateSettings -u

Plan: 0 to add, 0 to change, 10 to destroy.
After the changes: killall Dock, killall Finder, activateSettings -u.

Destroy complete! Resources: 10 destroyed.
"#].concat(),
            )
        .stderr(&format!("defaults:com.apple.finder:DisableAllAnimations: Restoring...
defaults:com.apple.finder:DisableAllAnimations: Restore complete after [DURATION]
defaults:com.apple.dock:tilesize: Restoring...
defaults:com.apple.dock:tilesize: Restore complete after [DURATION]
defaults:com.apple.dock:show-recents: Restoring...
defaults:com.apple.dock:show-recents: Restore complete after [DURATION]
defaults:com.apple.dock:mineffect: Restoring...
defaults:com.apple.dock:mineffect: Restore complete after [DURATION]
defaults:com.apple.dock:launchanim: Restoring...
defaults:com.apple.dock:launchanim: Restore complete after [DURATION]
defaults:com.apple.dock:autohide-time-modifier: Restoring...
defaults:com.apple.dock:autohide-time-modifier: Restore complete after [DURATION]
defaults:com.apple.dock:autohide-delay: Restoring...
defaults:com.apple.dock:autohide-delay: Restore complete after [DURATION]
defaults:com.apple.dock:autohide: Restoring...
defaults:com.apple.dock:autohide: Restore complete after [DURATION]
defaults:NSGlobalDomain:NSWindowResizeTime: Restoring...
defaults:NSGlobalDomain:NSWindowResizeTime: Restore complete after [DURATION]
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Restoring...
defaults:NSGlobalDomain:NSAutomaticWindowAnimationsEnabled: Restore complete after [DURATION]
Restarted: killall Dock
Restarted: killall Finder
{NO_ACTIVATE_SETTINGS}"))
        .run();
    assert_eq!(before, mac.export("com.apple.dock"));
}

#[test]
fn hostile_values_survive_real_processes() {
    let mac = Mac::new();
    let shim = Shim::install(&mac);
    mac.spec(&hostile_spec());
    shim.local(&mac, &["apply", "--yes"])
        .stdout_any()
        .stderr_any()
        .run();
    shim.local(&mac, &["plan", "--detailed-exitcode"])
        .stdout("\nNo changes. The host matches the spec.\n")
        .run();
    for (i, value) in HOSTILE.iter().enumerate() {
        let key = format!("key {i} $;\"");
        shim.program(&mac, "defaults", &["read", "com.example.hostile", &key])
            .stdout(&format!("{value}\n"))
            .run();
    }
}

#[test]
fn the_shim_without_a_sandbox_says_how_to_use_it() {
    let mac = Mac::new();
    let shim = Shim::install(&mac);
    let mut command = Command::new(shim.bin.join("defaults"));
    command.arg("domains").env_remove(ENV_SANDBOX);
    Test::new(command, &mac.work)
        .status(127)
        .stderr("defaults: this is macllm's emulated-Mac shim; set MACLLM_SANDBOX=DIR to use it\n")
        .run();
}

/// Over SSH macllm runs in the user's Background launchd session (the shim's programs see
/// sshd's SSH_CONNECTION): `launchctl setenv` from there would miss the GUI session's
/// Ollama, so with an older Homebrew the plan refuses and says what works instead; Homebrew's
/// env file works from anywhere. Before, macllm set the variable where the server never
/// looked.
#[test]
fn over_ssh_setenv_cannot_reach_the_gui_sessions_server_and_says_so() {
    let mac = Mac::new();
    mac.set_machine("homebrew_version", serde_json::json!("6.0.14"));
    mac.spec("macllm: 1\nollama:\n  env:\n    OLLAMA_NUM_PARALLEL: 2\n");
    let shim = Shim::install(&mac);
    let ssh = "127.0.0.1 50022 127.0.0.1 22";
    shim.program(&mac, "launchctl", &["managername"])
        .env("SSH_CONNECTION", ssh)
        .stdout("Background\n")
        .run();
    shim.program(&mac, "launchctl", &["managername"])
        .stdout("Aqua\n")
        .run();
    shim.local(&mac, &["plan"])
        .env("SSH_CONNECTION", ssh)
        .status(1)
        .stderr("error: reading ollama_env:OLLAMA_NUM_PARALLEL: this session is a Background one (over SSH): `launchctl setenv` from here does not reach the Ollama server of the GUI session (ollama/ollama#3581), and only root can reach that session (`launchctl asuser`)
hint: upgrade Homebrew to 6.0.15 or newer (its service env file works from anywhere), use `ollama: { server: own }`, or run macllm with sudo
")
        .run();
    mac.set_machine("homebrew_version", serde_json::json!("6.0.18"));
    let plan = shim
        .local(&mac, &["plan", "--detailed-exitcode"])
        .env("SSH_CONNECTION", ssh)
        .status(2)
        .stdout_any()
        .run()
        .stdout;
    assert!(
        plan.contains("    # in /Users/admin/.homebrew/services/ollama.env, which `brew services restart ollama` merges into the service's plist\n"),
        "{plan}"
    );
}
