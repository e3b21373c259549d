//! What macllm knows about a host, read once per run through the machine interface with a
//! fixed few processes: one `sysctl` (named output, `-i` so Intel Macs without
//! `hw.perflevel*` still answer), `sw_vers`, `id -u`, `id -un` and `system_profiler` for the
//! GPU core count.

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
    pub uid: u32,
    /// The login name (`id -un`); `root` under sudo.
    pub user: String,
    /// `/Users/NAME`, or `/var/root` for root.
    pub home: String,
    /// From `system_profiler SPDisplaysDataType -json` (`sppci_cores`); `None` where it is
    /// not reported.
    pub gpu_cores: Option<u32>,
    /// Apple's figure for the chip (`crate::chips`); `None` when the chip is not known.
    pub memory_bandwidth_gbps: Option<f64>,
}

const SYSCTL_KEYS: &[&str] = &[
    "hw.memsize",
    "hw.ncpu",
    "machdep.cpu.brand_string",
    "hw.perflevel0.physicalcpu",
    "hw.perflevel1.physicalcpu",
    "kern.hostname",
];

/// The GPU core count, if this Mac reports one (Apple silicon does).
fn gpu_cores(host: &dyn Host) -> Option<u32> {
    let report = run_ok(
        host,
        &Invocation::read(["system_profiler", "SPDisplaysDataType", "-json"]),
    )
    .ok()?;
    let json: serde_json::Value = serde_json::from_str(&report).ok()?;
    json["SPDisplaysDataType"]
        .as_array()?
        .iter()
        .find_map(|gpu| gpu["sppci_cores"].as_str()?.parse().ok())
}

impl Facts {
    pub fn read(host: &dyn Host) -> Result<Facts> {
        let sysctl = run_ok(
            host,
            &Invocation::read(
                ["sysctl", "-i"]
                    .into_iter()
                    .chain(SYSCTL_KEYS.iter().copied()),
            ),
        )?;
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
        let sw_vers = run_ok(host, &Invocation::read(["sw_vers"]))?;
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
        let uid = run_ok(host, &Invocation::read(["id", "-u"]))?
            .trim()
            .parse()
            .context("`id -u` did not print a number")?;
        let user = run_ok(host, &Invocation::read(["id", "-un"]))?
            .trim()
            .to_string();
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
        let memory_bandwidth_gbps = crate::chips::memory_bandwidth_gbps(&chip, cpu_cores);
        let gpu_cores = gpu_cores(host);
        Ok(Facts {
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
        })
    }
}
