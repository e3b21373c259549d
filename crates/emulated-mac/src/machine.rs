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
    /// Homebrew's version (`brew --version`); empty means [`crate::presets::HOMEBREW_VERSION`].
    #[serde(default)]
    pub homebrew_version: String,
    /// Whether the terminal the user types in has Full Disk Access (System Settings > Privacy
    /// & Security). `false`, as for a freshly installed terminal, also in machine.json files
    /// written before it was recorded. Without it `defaults` cannot reach a sandboxed app's
    /// container (see [`Machine::domain_path`]).
    #[serde(default)]
    pub full_disk_access: bool,
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
    /// Not in machine.json: the command came in over SSH (the shim sees sshd's
    /// `SSH_CONNECTION`), so it runs in the user's Background launchd session, not the GUI
    /// (Aqua) one, even while someone is logged in at the screen (ollama/ollama#3581;
    /// `launchctl managername` prints `Background` there).
    #[serde(skip)]
    pub over_ssh: bool,
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

/// Apple's sandboxed apps a fresh Mac has a container for, with the preferences the container
/// holds (`~/Library/Containers/<id>/Data/Library/Preferences/<id>.plist`). Safari has been
/// sandboxed since Safari 13, its preferences moved into its container (lapcatsoftware.com
/// "macOS Containers and defaults", 2020; 0xmachos/mOSL#18). Safari opens safe downloads
/// unless told not to (`AutoOpenSafeDownloads`, which mOSL#18 turns off). Mail's container
/// exists but holds no preference file until Mail writes one (a fresh Mail: `defaults read
/// com.apple.mail KEY` names the container path, SparkPost/support-docs "Using SparkPost with
/// Mac Mail").
const SANDBOXED_APPS: &[(&str, &[(&str, bool)])] = &[
    ("com.apple.Safari", &[("AutoOpenSafeDownloads", true)]),
    ("com.apple.mail", &[]),
];
pub const RESTART_LOG: &str = "var/log/restarts.log";

/// A random version-4 UUID in `IOPlatformUUID`'s upper-case form, from std's randomly seeded
/// hasher (no random-number crate needed for a value that only has to differ between Macs).
fn new_hardware_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        hasher.finish()
    };
    let bits =
        (u128::from(word()) << 64 | u128::from(word())) & !(0xF000u128 << 64) | (0x4000u128 << 64);
    let bits = bits & !(0xC000u128 << 48) | (0x8000u128 << 48);
    let hex = format!("{bits:032X}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

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
        let mut info = preset.info();
        // Each Mac has its own IOPlatformUUID, so two emulated Macs made from one preset are
        // two Macs to macllm's state (which records it).
        info.hardware_uuid = new_hardware_uuid();
        let machine = Machine {
            dir: dir.to_path_buf(),
            info,
        };
        let json = serde_json::to_string_pretty(&machine.info)? + "\n";
        fs::write(dir.join(MACHINE_FILE), json)?;
        super::files::ensure_skeleton(&machine);
        for (domain, dict) in preset.stock_defaults() {
            machine.save_domain(&Scope::User, &domain, &dict)?;
        }
        for (app, keys) in SANDBOXED_APPS {
            let prefs = machine.container_preferences(app);
            fs::create_dir_all(&prefs)?;
            if !keys.is_empty() {
                let dict: plist::Dictionary = keys
                    .iter()
                    .map(|(key, value)| (key.to_string(), plist::Value::Boolean(*value)))
                    .collect();
                write_plist(&prefs.join(format!("{app}.plist")), &dict)?;
            }
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

    /// The folder a sandboxed app keeps its preferences in:
    /// `~/Library/Containers/<id>/Data/Library/Preferences`.
    pub fn container_preferences(&self, app: &str) -> PathBuf {
        self.home()
            .join("Library/Containers")
            .join(app)
            .join("Data/Library/Preferences")
    }

    /// The domain as `defaults` names it in its messages when it resolved to a sandboxed
    /// app's container: the container file's path without `.plist`, as a Mac spells it
    /// (fixture defaults-read-missing-domain-container.txt, p0deje/Maccy#749 on macOS 14.4:
    /// `Domain /Users/<user>/Library/Containers/org.p0deje.Maccy/Data/Library/Preferences/
    /// org.p0deje.Maccy does not exist`; SparkPost/support-docs quotes the same form for a
    /// missing key of com.apple.mail). `None` when the domain is not redirected.
    pub fn container_domain(&self, scope: &Scope, domain: &str) -> Option<String> {
        // The ByHost files of a container are UNCONFIRMED; `-currentHost` stays outside.
        let plain = *scope == Scope::User && !domain.starts_with('/') && domain != "NSGlobalDomain";
        (plain && self.info.full_disk_access && self.container_preferences(domain).is_dir()).then(
            || {
                format!(
                    "{}/Library/Containers/{domain}/Data/Library/Preferences/{domain}",
                    self.mac_home()
                )
            },
        )
    }

    /// The file behind `domain`. Absolute domains are paths without `.plist` (reference 1.2),
    /// kept inside the sandbox.
    ///
    /// A sandboxed app's domain resolves to the preference file in its container, where the
    /// app reads it (`man defaults`, "filepath": `defaults read ~/Library/Containers/
    /// com.apple.TextEdit/Data/Library/Preferences/com.apple.TextEdit.plist` "normally gives
    /// the same result" as `defaults read com.apple.TextEdit`) -- but only when the terminal
    /// has Full Disk Access. Without it `defaults` cannot see into the container (protected
    /// since Mojave: 0xmachos/mOSL#18, "Terminal.app requires the Full Disk Access permission
    /// to change Safari settings") and uses `~/Library/Preferences/<domain>.plist` instead,
    /// silently and with exit 0: the write "succeeds", reads back the same, and the app never
    /// sees it (lapcatsoftware.com "macOS Containers and defaults", Catalina/Big Sur;
    /// nix-darwin/nix-darwin#1111, 2024: the settings "build without issue" but do not apply,
    /// and `defaults read ~/Library/Preferences/com.apple.Safari.plist` shows what was
    /// written there; ikuwow/dotfiles#8, macOS 26.5: "silently writes to a non-app-readable
    /// container and Safari ignores it"). The sources agree from Catalina to Tahoe, so every
    /// preset (12.7.6, 14.5, 15.x) behaves the same. The refusal `Could not write domain
    /// com.apple.mail-shared; exiting` (fixture defaults-write-could-not-write-domain.txt)
    /// is a 10.14 beta's and is not emulated. Whether third-party containers need Full Disk
    /// Access too is UNCONFIRMED; the emulator treats every container alike.
    pub fn domain_path(&self, scope: &Scope, domain: &str) -> PathBuf {
        if let Some(rest) = domain.strip_prefix('/') {
            return self.dir.join(format!("{rest}.plist"));
        }
        if self.container_domain(scope, domain).is_some() {
            return self
                .container_preferences(domain)
                .join(format!("{domain}.plist"));
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
        write_plist(&path, dict)
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

/// Writes `dict` to `path` as an XML plist, through a temporary file and a rename.
fn write_plist(path: &Path, dict: &plist::Dictionary) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut buffer = Vec::new();
    plist::Value::Dictionary(dict.clone()).to_writer_xml(&mut buffer)?;
    buffer.push(b'\n');
    let temp = path.with_extension("plist.tmp");
    fs::write(&temp, &buffer)?;
    fs::rename(&temp, path)?;
    Ok(())
}
