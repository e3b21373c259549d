//! The emulated Mac's data on disk: `machine.json` (hardware, macOS version, user) and the
//! preference files laid out as on a Mac, as XML plists a person can read. Emulated programs
//! go through this type; nothing else touches the directory.

use super::presets::Preset;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `machine.json`. Changing `uid` to 0 emulates running under `sudo`; `sudo_user` then says
/// who ran it (sudo's `SUDO_USER`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MachineInfo {
    pub preset: String,
    /// `machdep.cpu.brand_string`, e.g. `Apple M2`.
    pub chip: String,
    pub memory_bytes: u64,
    pub performance_cores: u32,
    pub efficiency_cores: u32,
    pub gpu_cores: u32,
    /// GB/s; 0 in machine.json files written before it was recorded.
    #[serde(default)]
    pub memory_bandwidth_gbps: f64,
    pub product_version: String,
    pub build_version: String,
    pub hostname: String,
    pub user: String,
    pub uid: u32,
    /// The user's own uid; `uid` may be 0 when emulating `sudo`.
    pub user_uid: u32,
    pub hardware_uuid: String,
    /// Whether the user has an Aqua (GUI) login, so that launchd's `gui/<uid>` domain
    /// exists. `false` emulates a Mac reached only over SSH: only `user/<uid>` exists
    /// (reference 2.1). Absent in older machine.json files, which had a GUI login.
    #[serde(default = "gui_session_default")]
    pub gui_session: bool,
    /// Test hook: at boot, `launchctl setenv` login agents run before the RunAtLoad servers
    /// instead of after them (see `launchd_db::boot`).
    #[serde(default)]
    pub setenv_agents_win_boot_race: bool,
    /// Homebrew's version (`brew --version`); empty means [`crate::brew::DEFAULT_VERSION`].
    #[serde(default)]
    pub homebrew_version: String,
    /// The environment's `SUDO_USER` while `uid` is 0: the account that ran `sudo` (sudo(8)
    /// sets `SUDO_USER`, `SUDO_UID`, `SUDO_GID` to the invoking user). Absent: root logged in
    /// as root (or over SSH as root), with no sudo in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_user: Option<String>,
    /// Not in machine.json: the uid whose launchd bootstrap (and audit session) the running
    /// command was moved into by `launchctl asuser UID`, which changes no credentials (man
    /// launchctl, quoted in nix-darwin/nix-darwin#1341).
    #[serde(skip)]
    pub asuser: Option<u32>,
}

fn gui_session_default() -> bool {
    true
}

pub struct Machine {
    pub dir: PathBuf,
    pub info: MachineInfo,
}

/// Which preference file a `defaults` domain lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `~/Library/Preferences/<domain>.plist`
    User,
    /// `~/Library/Preferences/ByHost/<domain>.<hardware UUID>.plist` (`-currentHost`)
    CurrentHost,
}

pub const MACHINE_FILE: &str = "machine.json";
pub const RESTART_LOG: &str = "var/log/restarts.log";

impl Machine {
    /// Creates a new emulated Mac in `dir` (which must not hold one already).
    pub fn create(dir: &Path, preset: &Preset) -> Result<Machine> {
        if dir.join(MACHINE_FILE).exists() {
            bail!(
                "{} already holds an emulated Mac; remove it first to start over",
                dir.display()
            );
        }
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let machine = Machine {
            dir: dir.to_path_buf(),
            info: preset.info(),
        };
        let json = serde_json::to_string_pretty(&machine.info)? + "\n";
        fs::write(dir.join(MACHINE_FILE), json)?;
        super::files::ensure_skeleton(&machine);
        for (domain, dict) in preset.stock_defaults() {
            machine.save_domain(&Scope::User, &domain, &dict)?;
        }
        super::launchd_db::install(&machine)?;
        Ok(machine)
    }

    pub fn open(dir: &Path) -> Result<Machine> {
        let path = dir.join(MACHINE_FILE);
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "{} is not an emulated Mac (no {MACHINE_FILE})\n\
                 hint: create one with `macllm sandbox init {}`",
                dir.display(),
                dir.display()
            )
        })?;
        let info = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid machine description", path.display()))?;
        Ok(Machine {
            dir: dir.to_path_buf(),
            info,
        })
    }

    pub fn is_root(&self) -> bool {
        self.info.uid == 0
    }

    /// The home folder of the running process's account, inside the sandbox directory:
    /// root's is `/var/root` (`private/var/root`), so `defaults` run by root, under `sudo`
    /// too, reads and writes `/var/root/Library/Preferences`, not the user's (CFPreferences
    /// follows the process's uid; Opsek/OSs-security#38: under sudo "`~` and unqualified
    /// `defaults` calls resolved to `/var/root`"; reference/real-mac.md "Root, sudo and users").
    pub fn home(&self) -> PathBuf {
        if self.is_root() {
            self.dir.join("private/var/root")
        } else {
            self.user_home()
        }
    }

    /// The user's home folder inside the sandbox directory, whoever is running.
    pub fn user_home(&self) -> PathBuf {
        self.dir.join("Users").join(&self.info.user)
    }

    /// The user's home as the emulated Mac names it (`/Users/admin`).
    pub fn mac_home(&self) -> String {
        format!("/Users/{}", self.info.user)
    }

    /// The same Mac with the command running as `uid` (root or the user), as `sudo -u`
    /// leaves it: `SUDO_USER` names the account that ran sudo.
    pub fn running_as(&self, uid: u32, sudo_user: Option<String>) -> Machine {
        let mut info = self.info.clone();
        info.uid = uid;
        info.sudo_user = sudo_user;
        Machine {
            dir: self.dir.clone(),
            info,
        }
    }

    /// The account name of `uid` (root or the machine's user), if it has one.
    pub fn account_name(&self, uid: u32) -> Option<String> {
        if uid == 0 {
            Some("root".to_string())
        } else if uid == self.info.user_uid {
            Some(self.info.user.clone())
        } else {
            None
        }
    }

    /// The uid of an account name (`root` or the machine's user).
    pub fn account_uid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            Some(0)
        } else if name == self.info.user {
            Some(self.info.user_uid)
        } else {
            None
        }
    }

    /// Where an absolute path of the emulated Mac (`/Users/admin/Library/LaunchAgents/x.plist`)
    /// lives inside the sandbox directory. `None` for relative paths and paths with `..`, which
    /// could leave the sandbox; emulated programs report those as missing files.
    pub fn host_path(&self, mac_path: &str) -> Option<PathBuf> {
        let rest = mac_path.strip_prefix('/')?;
        let mut path = self.dir.clone();
        for part in rest.split('/') {
            match part {
                "" | "." => {}
                ".." => return None,
                part => path.push(part),
            }
        }
        Some(path)
    }

    /// The file behind `domain`, or `None` for a name no file can have.
    /// Absolute domains are paths without `.plist` (reference 1.2), kept inside the sandbox.
    pub fn domain_path(&self, scope: &Scope, domain: &str) -> PathBuf {
        if let Some(rest) = domain.strip_prefix('/') {
            return self.dir.join(format!("{rest}.plist"));
        }
        let prefs = self.home().join("Library/Preferences");
        let file = if domain == "NSGlobalDomain" {
            ".GlobalPreferences".to_string()
        } else {
            domain.to_string()
        };
        match scope {
            Scope::User => prefs.join(format!("{file}.plist")),
            Scope::CurrentHost => prefs
                .join("ByHost")
                .join(format!("{file}.{}.plist", self.info.hardware_uuid)),
        }
    }

    /// Whether the current user may write `domain` (system domains need root).
    pub fn may_write(&self, domain: &str) -> bool {
        !domain.starts_with("/Library/") || self.is_root()
    }

    /// The domain's keys, or `None` when it has no file.
    pub fn load_domain(&self, scope: &Scope, domain: &str) -> Result<Option<plist::Dictionary>> {
        let path = self.domain_path(scope, domain);
        if !path.exists() {
            return Ok(None);
        }
        let value = plist::Value::from_file(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        match value {
            plist::Value::Dictionary(dict) => Ok(Some(dict)),
            _ => bail!("{} does not hold a dictionary", path.display()),
        }
    }

    /// Writes the domain as an XML plist; an empty domain removes the file, as cfprefsd
    /// does (a domain with no keys "does not exist": reference 1.4).
    pub fn save_domain(&self, scope: &Scope, domain: &str, dict: &plist::Dictionary) -> Result<()> {
        let path = self.domain_path(scope, domain);
        if dict.is_empty() {
            if path.exists() {
                fs::remove_file(&path)?;
            }
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut buffer = Vec::new();
        plist::Value::Dictionary(dict.clone()).to_writer_xml(&mut buffer)?;
        buffer.push(b'\n');
        let temp = path.with_extension("plist.tmp");
        fs::write(&temp, &buffer)?;
        fs::rename(&temp, &path)?;
        Ok(())
    }

    /// Every domain with a file in `scope`, by name (`NSGlobalDomain` excluded).
    pub fn domains(&self, scope: &Scope) -> Result<Vec<String>> {
        let prefs = self.home().join("Library/Preferences");
        let dir = match scope {
            Scope::User => prefs,
            Scope::CurrentHost => prefs.join("ByHost"),
        };
        let mut names = Vec::new();
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(names);
        };
        let suffix = match scope {
            Scope::User => ".plist".to_string(),
            Scope::CurrentHost => format!(".{}.plist", self.info.hardware_uuid),
        };
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some(domain) = name.strip_suffix(&suffix)
                && !domain.starts_with('.')
            {
                names.push(domain.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Appends one line to a log inside the machine (restarts, for tests and people to see).
    pub fn log(&self, relative: &str, line: &str) -> Result<()> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(file, "{line}")?;
        Ok(())
    }
}
