//! What macllm knows about a host, read once per run through the machine interface with a
//! fixed few processes: one `sysctl` (named output, `-i` so Intel Macs without
//! `hw.perflevel*`, and releases without one of the GPU wired-limit names, still answer),
//! `sw_vers`, `id -u`, `id -un` and `system_profiler` for the GPU core count, sent as one
//! batch.

use crate::host::{Host, Invocation, run_ok};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Facts {
    pub hostname: String,
    pub chip: String,
    pub memory_bytes: u64,
    pub memory_gb: u64,
    pub cpu_cores: u32,
    /// `None` on Macs without performance levels (Intel).
    pub performance_cores: Option<u32>,
    pub efficiency_cores: Option<u32>,
    pub macos_version: String,
    pub macos_build: String,
    /// The user whose settings per-user resources change (see [`Facts::read`]).
    pub uid: u32,
    pub user: String,
    /// `/Users/NAME`, or `/var/root` for root.
    pub home: String,
    /// Whether macllm's commands run as root (under `sudo`, or logged in as root): root's
    /// settings (`power:`, system domains, volumes) can be changed. The user above is then
    /// someone else unless nobody could be found.
    pub root: bool,
    /// From `system_profiler SPDisplaysDataType -json` (`sppci_cores`); `None` where it is
    /// not reported.
    pub gpu_cores: Option<u32>,
    /// Apple's figure for the chip (`crate::chips`); `None` when the chip is not known.
    pub memory_bandwidth_gbps: Option<f64>,
    /// The GPU wired-memory limit in MiB set with `sudo sysctl iogpu.wired_limit_mb=N`; 0 when
    /// unset (the system default, Metal's working set: `sizing::gpu_budget_bytes`), `None` when
    /// the Mac has no such setting. Ventura and earlier name it `debug.iogpu.wired_limit`, in
    /// bytes (converted here). It lasts until reboot (notes/issue10-research.md section 7).
    pub gpu_wired_limit_mb: Option<u64>,
}

const SYSCTL_KEYS: &[&str] = &[
    "hw.memsize",
    "hw.ncpu",
    "machdep.cpu.brand_string",
    "hw.perflevel0.physicalcpu",
    "hw.perflevel1.physicalcpu",
    "kern.hostname",
    // Sonoma and later; older releases print `unknown oid` for it, which `-i` silences.
    "iogpu.wired_limit_mb",
    // Ventura and earlier (bytes).
    "debug.iogpu.wired_limit",
];

/// The GPU core count from `system_profiler SPDisplaysDataType -json`, if this Mac reports
/// one (Apple silicon does).
fn gpu_cores(report: &str) -> Option<u32> {
    let json: serde_json::Value = serde_json::from_str(report).ok()?;
    json["SPDisplaysDataType"]
        .as_array()?
        .iter()
        .find_map(|gpu| gpu["sppci_cores"].as_str()?.parse().ok())
}

impl Facts {
    /// Reads the facts with one batch of commands (one round trip over SSH), and under root
    /// a second one to find the user.
    pub fn read(host: &dyn Host) -> Result<Facts> {
        let batch = [
            Invocation::read(
                ["sysctl", "-i"]
                    .into_iter()
                    .chain(SYSCTL_KEYS.iter().copied()),
            ),
            Invocation::read(["sw_vers"]),
            Invocation::read(["id", "-u"]),
            Invocation::read(["id", "-un"]),
            Invocation::read(["system_profiler", "SPDisplaysDataType", "-json"]),
        ];
        let outputs = host.run_batch(&batch, false)?;
        // A command the batch could not run is run alone, whose error says why.
        let answer = |index: usize| -> Result<String> {
            match outputs.get(index) {
                Some(output) => output.clone(),
                None => host.run(&batch[index])?,
            }
            .require_success(&batch[index])
        };
        let sysctl = answer(0)?;
        // `sysctl NAME` prints `NAME: value` (reference/macos-commands.md 4.3).
        let values: HashMap<&str, &str> = sysctl
            .lines()
            .filter_map(|line| line.split_once(": "))
            .collect();
        let number = |key: &str| -> Result<u64> {
            values
                .get(key)
                .with_context(|| format!("`sysctl` did not report `{key}`"))?
                .trim()
                .parse()
                .with_context(|| format!("`sysctl {key}` is not a number"))
        };
        let optional = |key: &str| values.get(key).and_then(|v| v.trim().parse().ok());
        let sw_vers = answer(1)?;
        // Labels are followed by one or two tabs depending on the release (reference 4.4),
        // so split on the colon and trim.
        let field = |label: &str| {
            sw_vers
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim() == label)
                .map(|(_, value)| value.trim().to_string())
                .unwrap_or_default()
        };
        let uid = answer(2)?
            .trim()
            .parse()
            .context("`id -u` did not print a number")?;
        let root = uid == 0;
        let (uid, user) = if root {
            target_user(host)?
        } else {
            let user = answer(3)?.trim().to_string();
            (uid, user)
        };
        // macOS puts every user's home under /Users and root's at /var/root.
        let home = if uid == 0 {
            "/var/root".to_string()
        } else {
            format!("/Users/{user}")
        };
        let memory_bytes = number("hw.memsize")?;
        let cpu_cores = number("hw.ncpu")? as u32;
        let chip = values
            .get("machdep.cpu.brand_string")
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        let gpu_cores = answer(4).ok().as_deref().and_then(gpu_cores);
        let memory_bandwidth_gbps =
            crate::chips::memory_bandwidth_gbps(&chip, cpu_cores, gpu_cores);
        let wide = |key: &str| values.get(key).and_then(|v| v.trim().parse::<u64>().ok());
        let gpu_wired_limit_mb = wide("iogpu.wired_limit_mb")
            .or_else(|| wide("debug.iogpu.wired_limit").map(|bytes| bytes >> 20));
        Ok(Facts {
            gpu_wired_limit_mb,
            gpu_cores,
            hostname: values
                .get("kern.hostname")
                .map(|v| v.trim().to_string())
                .unwrap_or_default(),
            chip,
            memory_bytes,
            memory_gb: memory_bytes >> 30,
            cpu_cores,
            performance_cores: optional("hw.perflevel0.physicalcpu"),
            efficiency_cores: optional("hw.perflevel1.physicalcpu"),
            macos_version: field("ProductVersion"),
            macos_build: field("BuildVersion"),
            memory_bandwidth_gbps,
            uid,
            user,
            home,
            root,
        })
    }
}

/// Whose settings a root run changes: root's own preferences live in /var/root and its
/// launchd domains are not the user's (reference/real-mac.md, "Root, sudo and users"), so
/// per-user resources target the person behind the run, as nix-darwin targets its
/// `system.primaryUser`: the inventory's `user:` for the host when it names one, else the user
/// who ran `sudo` (`SUDO_USER`, set by sudo(8)), else the user logged in at the console
/// (`stat -f%Su /dev/console`, as MDM scripts find it: chilcote/outset#108; root when nobody
/// is, and then root it stays). Returns that user's uid (`id -u NAME`) and name.
fn target_user(host: &dyn Host) -> Result<(u32, String)> {
    let named = |output: crate::host::Output| {
        let name = output.stdout.trim().to_string();
        (output.success() && !name.is_empty() && name != "root").then_some(name)
    };
    let mut user = host.configured_user().map(str::to_string);
    if user.is_none() {
        user = named(host.run(&Invocation::read(["printenv", "SUDO_USER"]))?);
    }
    if user.is_none() {
        let console = ["stat", "-f%Su", "/dev/console"];
        user = named(host.run(&Invocation::read(console))?);
    }
    let Some(user) = user else {
        return Ok((0, "root".to_string()));
    };
    let uid = run_ok(host, &Invocation::read(["id", "-u", &user]))?
        .trim()
        .parse()
        .with_context(|| format!("`id -u {user}` did not print a number"))?;
    Ok((uid, user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxHost;

    fn edit_machine(dir: &std::path::Path, key: &str, value: serde_json::Value) {
        let file = dir.join("machine.json");
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        json[key] = value;
        std::fs::write(&file, json.to_string()).unwrap();
    }

    /// Under sudo the per-user facts name the user who ran it; root logged in as root falls
    /// back on the console's user, and stays root with nobody at the console.
    #[test]
    fn root_runs_target_the_sudo_caller_or_the_console_user() {
        let dir = tempfile::tempdir().unwrap();
        let mac = dir.path().join("mac");
        let host = SandboxHost::open_or_create(&mac).unwrap();
        let who = |host: &SandboxHost| {
            let facts = Facts::read(host).unwrap();
            (facts.root, facts.uid, facts.user, facts.home)
        };
        let admin = (501, "admin".to_string(), "/Users/admin".to_string());
        assert_eq!(
            who(&host),
            (false, admin.0, admin.1.clone(), admin.2.clone())
        );
        edit_machine(&mac, "uid", 0.into());
        edit_machine(&mac, "sudo_user", "admin".into());
        assert_eq!(
            who(&host),
            (true, admin.0, admin.1.clone(), admin.2.clone())
        );
        edit_machine(&mac, "sudo_user", serde_json::Value::Null);
        assert_eq!(
            who(&host),
            (true, admin.0, admin.1.clone(), admin.2.clone())
        );
        edit_machine(&mac, "gui_session", false.into());
        assert_eq!(
            who(&host),
            (true, 0, "root".to_string(), "/var/root".to_string())
        );
    }

    /// `iogpu.wired_limit_mb` is read in the same `sysctl` run as the rest: 0 when unset, the
    /// value once root set it; a Monterey Mac, whose sysctl does not know the name (classic
    /// sysctl stops at an unknown name without `-i`), still answers, with Ventura's name.
    #[test]
    fn the_gpu_wired_limit() {
        let dir = tempfile::tempdir().unwrap();
        let host = SandboxHost::open_or_create(&dir.path().join("mac")).unwrap();
        let mac = dir.path().join("mac");
        let facts = Facts::read(&host).unwrap();
        assert_eq!(facts.gpu_wired_limit_mb, Some(0));
        assert_eq!(facts.memory_gb, 16);
        edit_machine(&mac, "uid", 0.into());
        let set = ["sysctl", "-w", "iogpu.wired_limit_mb=12288"];
        let out = host.run(&Invocation::write(set)).unwrap();
        assert_eq!(out.stdout, "iogpu.wired_limit_mb: 0 -> 12288\n");
        assert_eq!(Facts::read(&host).unwrap().gpu_wired_limit_mb, Some(12288));
        edit_machine(&mac, "product_version", "12.7.6".into());
        let facts = Facts::read(&host).unwrap();
        assert_eq!(facts.gpu_wired_limit_mb, Some(0));
        assert_eq!((facts.memory_gb, facts.cpu_cores), (16, 8));
        let set = ["sysctl", "debug.iogpu.wired_limit=10737418240"];
        host.run(&Invocation::write(set)).unwrap();
        assert_eq!(Facts::read(&host).unwrap().gpu_wired_limit_mb, Some(10240));
    }
}
