//! The emulated Mac as real processes on PATH (the multi-call shim), so `--host local` is
//! tested end to end through `std::process`.

use crate::harness::{BIN, Mac, QUIET_UI, run};
use crate::robustness::{HOSTILE, hostile_spec};
use macllm::sandbox::{ENV_SANDBOX, ENV_TRACE, PROGRAMS};
use std::path::PathBuf;
use std::process::Command;

struct Shim {
    bin: PathBuf,
    trace: PathBuf,
}

impl Shim {
    fn install(mac: &Mac) -> Shim {
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

    fn command(&self, mac: &Mac, program: &str, args: &[&str]) -> Command {
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

    fn local(&self, mac: &Mac, args: &[&str]) -> crate::harness::Output {
        let mut all = vec!["--host", "local"];
        all.extend_from_slice(args);
        run(self.command(mac, "macllm", &all))
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

    let plan = shim.local(&mac, &["plan", "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout.contains("~ value = 48 -> 36"),
        "{}",
        plan.stdout
    );
    // One `defaults export` per domain, however many keys: 3 domains here.
    let spawned = shim.take_trace();
    assert_eq!(
        spawned
            .iter()
            .filter(|l| l.ends_with("defaults export com.apple.dock -"))
            .count(),
        1,
        "{spawned:?}"
    );
    assert_eq!(spawned.len(), 3, "{spawned:?}");

    shim.local(&mac, &["apply", "--yes"]).expect(0);
    assert_eq!(
        mac.read("com.apple.dock", "tilesize").expect(0).stdout,
        "36\n"
    );
    shim.local(&mac, &["plan", "--detailed-exitcode"]).expect(0);
    assert!(mac.work.join("state/local.json").exists());

    run(shim.command(
        &mac,
        "defaults",
        &["write", "com.apple.dock", "tilesize", "-int", "64"],
    ))
    .expect(0);
    let drift = shim.local(&mac, &["drift"]).expect(2);
    assert!(
        drift.stdout.contains("~ value = 36 -> 64"),
        "{}",
        drift.stdout
    );
    let facts = shim.local(&mac, &["facts"]).expect(0);
    assert!(
        facts.stdout.contains("chip:     Apple M2"),
        "{}",
        facts.stdout
    );

    shim.local(&mac, &["destroy", "--yes"]).expect(0);
    assert_eq!(before, mac.export("com.apple.dock"));
}

#[test]
fn hostile_values_survive_real_processes() {
    let mac = Mac::new();
    let shim = Shim::install(&mac);
    mac.spec(&hostile_spec());
    shim.local(&mac, &["apply", "--yes"]).expect(0);
    shim.local(&mac, &["plan", "--detailed-exitcode"]).expect(0);
    for (i, value) in HOSTILE.iter().enumerate() {
        let key = format!("key {i} $;\"");
        let read =
            run(shim.command(&mac, "defaults", &["read", "com.example.hostile", &key])).expect(0);
        assert_eq!(read.stdout, format!("{value}\n"), "{key}");
    }
}

#[test]
fn the_shim_without_a_sandbox_says_how_to_use_it() {
    let mac = Mac::new();
    let shim = Shim::install(&mac);
    let mut command = Command::new(shim.bin.join("defaults"));
    command.arg("domains").env_remove(ENV_SANDBOX);
    let output = run(command).expect(127);
    assert!(
        output.stderr.contains("set MACLLM_SANDBOX=DIR"),
        "{}",
        output.stderr
    );
}
