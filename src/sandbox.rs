//! The one bridge between the product and the emulated Mac (the `emulated_mac` crate):
//! `--host sandbox:DIR` as a [`Host`], the conversions between the two crates' types, and
//! the facts an emulated preset reports. Nothing else in `src/` names the emulator (but
//! `main.rs`'s shim and `commands/sandbox.rs`); `host/` never imports this file.

use crate::facts::Facts;
use crate::host::{Effect, Host, HttpRequest, HttpResponse, Invocation, Output, Unreachable};
use anyhow::Result;
use emulated_mac::machine::Machine;
use emulated_mac::presets;
use std::path::{Path, PathBuf};

pub use emulated_mac::presets::{DEFAULT_PRESET, PRESETS, Preset};
pub use emulated_mac::{ENV_DELAY_MS, ENV_FAIL};

/// `--host sandbox:DIR`: the emulated Mac in-process.
pub struct SandboxHost {
    name: String,
    dir: PathBuf,
}

impl SandboxHost {
    /// Opens the emulated Mac in `dir`, which must exist: a read-only command (`plan`,
    /// `drift`, `facts`, ...) run with a misspelt `--host sandbox:DIR` says so instead of
    /// making a new Mac that reports a fresh machine.
    pub fn open(dir: &Path) -> Result<SandboxHost> {
        open_machine(dir)?;
        Ok(SandboxHost {
            name: format!("sandbox:{}", dir.display()),
            dir: dir.to_path_buf(),
        })
    }

    /// Opens the emulated Mac in `dir`, creating the default preset there on first use (what
    /// `apply` does, so that README's one-line set-up works). Only a missing or empty folder
    /// becomes a Mac: one that holds other files is most likely a typo for another path.
    pub fn open_or_create(dir: &Path) -> Result<SandboxHost> {
        if !is_emulated_mac(dir) {
            let empty = std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
            if !empty {
                return Err(NotAnEmulatedMac {
                    dir: dir.to_path_buf(),
                    has_files: true,
                }
                .into());
            }
            let preset = default_preset();
            Machine::create(dir, preset)?;
            eprintln!(
                "Created an emulated Mac ({}) in {}",
                preset.summary,
                dir.display()
            );
        }
        SandboxHost::open(dir)
    }
}

/// `--host sandbox:DIR` where DIR holds no emulated Mac: a typo, most likely.
#[derive(Debug)]
pub struct NotAnEmulatedMac {
    pub dir: PathBuf,
    /// DIR holds other files, so not even `apply` makes a Mac there.
    pub has_files: bool,
}

impl std::fmt::Display for NotAnEmulatedMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.dir.display();
        let file = emulated_mac::machine::MACHINE_FILE;
        if self.has_files {
            write!(
                f,
                "{shown} is not an emulated Mac (it has no {file}) and is not empty, so macllm will not make one there\n\
                 hint: name a folder that holds an emulated Mac, or one that does not exist yet"
            )
        } else {
            write!(
                f,
                "{shown} is not an emulated Mac (it has no {file})\n\
                 hint: create one with `macllm sandbox init {shown}`, or let `macllm --host sandbox:{shown} apply` create it"
            )
        }
    }
}

impl std::error::Error for NotAnEmulatedMac {}

/// The emulated Mac in `dir`, or [`NotAnEmulatedMac`] when there is none.
pub fn open_machine(dir: &Path) -> Result<Machine> {
    if !is_emulated_mac(dir) {
        return Err(NotAnEmulatedMac {
            dir: dir.to_path_buf(),
            has_files: false,
        }
        .into());
    }
    Machine::open(dir)
}

/// Whether `dir` holds an emulated Mac (its `machine.json`).
fn is_emulated_mac(dir: &Path) -> bool {
    dir.join(emulated_mac::machine::MACHINE_FILE).exists()
}

impl Host for SandboxHost {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        if invocation.effect == Effect::Write {
            emulated_mac::delay_write();
        }
        // Re-read machine.json on every call: a test or a person may edit it (uid 0 = sudo).
        let machine = Machine::open(&self.dir)?;
        let output = emulated_mac::run(
            &machine,
            &invocation.argv,
            invocation.stdin.as_deref().unwrap_or_default(),
        )?;
        Ok(Output {
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        let machine = Machine::open(&self.dir)?;
        // `http://host:port` -> `host:port`, as a TCP connection would go.
        let address =
            request
                .address
                .as_deref()
                .map_or(emulated_mac::ollama::DEFAULT_ADDRESS, |url| {
                    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
                    rest.split('/').next().unwrap_or(rest)
                });
        let request = emulated_mac::HttpRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            body: request.body.clone(),
        };
        let response = emulated_mac::http(&machine, address, &request).map_err(|refused| {
            anyhow::Error::new(Unreachable {
                address: refused.address,
                reason: refused.reason,
            })
        })?;
        if response.content_type.starts_with("application/x-ndjson") {
            response.body.lines().for_each(on_line);
        }
        Ok(HttpResponse {
            status: response.status,
            content_type: response.content_type,
            body: response.body,
        })
    }
}

/// The preset a new emulated Mac gets unless told otherwise.
pub fn default_preset() -> &'static Preset {
    presets::find(DEFAULT_PRESET).expect("the default preset is one of PRESETS")
}

pub fn find_preset(name: &str) -> Option<&'static Preset> {
    presets::find(name)
}

/// The facts an emulated Mac of `preset` reports, without running anything: what
/// `validate` renders templates with, since it touches no host. The bandwidth comes from
/// the product's chip table, as for a real Mac.
pub fn facts_of_preset(preset: &Preset) -> Facts {
    let info = preset.info();
    let memory_bandwidth_gbps = crate::chips::memory_bandwidth_gbps(
        &info.chip,
        info.performance_cores + info.efficiency_cores,
        Some(info.gpu_cores),
    );
    Facts {
        hostname: info.hostname,
        chip: info.chip,
        memory_bytes: info.memory_bytes,
        memory_gb: info.memory_bytes >> 30,
        cpu_cores: info.performance_cores + info.efficiency_cores,
        performance_cores: Some(info.performance_cores),
        efficiency_cores: Some(info.efficiency_cores),
        macos_version: info.product_version,
        macos_build: info.build_version,
        uid: info.user_uid,
        home: format!("/Users/{}", info.user),
        root: info.uid == 0,
        memory_bandwidth_gbps,
        gpu_cores: Some(info.gpu_cores),
        // A fresh Mac: the system default.
        gpu_wired_limit_mb: Some(0),
        user: info.user,
    }
}
