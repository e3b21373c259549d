//! One host's record of what macllm manages there: per resource the original value (put back
//! by destroy) and the value read back after the last apply (compared by drift). Saved
//! atomically after every step, guarded by an OS file lock, never overwritten when it cannot
//! be read.

use crate::host::Identity;
use crate::resources::{AnyResource, ResourceId};
use crate::value::Value;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

pub const STATE_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub format_version: u32,
    /// Bumped on every write; a saved plan remembers it to detect staleness.
    pub serial: u64,
    /// Random at creation; a plan made against another lineage is refused.
    pub lineage: String,
    pub host: String,
    /// The Mac's hardware UUID (`IOPlatformUUID`) when the state was made: a state of
    /// another Mac is refused. Absent in states made before it was recorded (filled in on
    /// the next save).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_uuid: Option<String>,
    /// The user whose settings this state manages; as `hardware_uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub macllm_version: String,
    pub resources: BTreeMap<ResourceId, Record>,
    /// Ids that `macllm state rm` took out. The spec may still declare one, and then the next
    /// plan imports it (Terraform plans a removed resource anew): apply records its value as
    /// the original again, and drift watches it again. Apply drops an id here once it records it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub forgotten: std::collections::BTreeSet<ResourceId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The resource as last applied, so it can be restored after it leaves the spec.
    pub resource: AnyResource,
    #[serde(default)]
    pub depends_on: Vec<ResourceId>,
    /// What was there before macllm first changed it (`null`: absent).
    pub original: Option<Value>,
    /// What macllm read back after its last successful apply; missing while an apply of this
    /// resource has started and not finished, so the next plan re-applies it.
    pub applied: Option<Applied>,
    /// The resource holds a secret: `applied` is a keyed digest and the resource's own value
    /// is masked, so the file never has it in clear.
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applied {
    pub value: Option<Value>,
}

/// (lineage, serial): what a saved plan remembers of the state it was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    pub lineage: String,
    pub serial: u64,
}

impl State {
    pub fn new(host: &str) -> Result<State> {
        Ok(State {
            format_version: STATE_FORMAT_VERSION,
            serial: 0,
            lineage: random_lineage()?,
            host: host.to_string(),
            hardware_uuid: None,
            user: None,
            macllm_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: BTreeMap::new(),
            forgotten: Default::default(),
        })
    }

    pub fn reference(&self) -> StateRef {
        StateRef {
            lineage: self.lineage.clone(),
            serial: self.serial,
        }
    }
}

/// A random UUID-shaped lineage.
fn random_lineage() -> Result<String> {
    let out = crate::random::random_hex(16)?;
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &out[0..8],
        &out[8..12],
        &out[12..16],
        &out[16..20],
        &out[20..32]
    ))
}

/// The state file of one host and its lock.
pub struct StateFile {
    pub path: PathBuf,
    /// The host this state must belong to: a state naming another is refused.
    host: Option<String>,
    /// The Mac and user this state must belong to, recorded in a state that lacks them:
    /// read from `identity_host` the first time they are needed (a command with no state to
    /// check or create runs nothing for them), through the host as opened (no `-v` echo).
    identity: std::sync::OnceLock<Option<Identity>>,
    identity_host: Option<std::sync::Arc<dyn crate::host::Host>>,
}

/// Held while a command may write the state; the OS releases it if the process dies.
pub struct StateLock {
    _file: File,
}

impl StateFile {
    pub fn new(path: PathBuf) -> StateFile {
        StateFile {
            path,
            host: None,
            identity: std::sync::OnceLock::new(),
            identity_host: None,
        }
    }

    /// The state of `host` at `path`: loading refuses a state whose `host` is another one
    /// (two host names that map to one file name, or a state copied from another Mac).
    pub fn for_host(path: PathBuf, host: &str) -> StateFile {
        StateFile {
            path,
            host: Some(host.to_string()),
            identity: std::sync::OnceLock::new(),
            identity_host: None,
        }
    }

    /// The Mac and user the host turned out to be: a state of another is refused, a new
    /// state records them, and an older state without them gets them on its next save.
    pub fn with_identity_of(mut self, host: std::sync::Arc<dyn crate::host::Host>) -> StateFile {
        self.identity_host = Some(host);
        self
    }

    /// The Mac and user of the host, read once; `None` without a host to read them from.
    fn identity(&self) -> Option<&Identity> {
        self.identity
            .get_or_init(|| self.identity_host.as_deref().map(crate::host::identity))
            .as_ref()
    }

    /// A new, empty state for `host`, recording its Mac and user (read now unless known),
    /// refused when another state in the same folder already
    /// belongs to this Mac and user (the same Mac reached under another name).
    pub fn new_state(&self, host: &dyn crate::host::Host) -> Result<State> {
        let mut state = State::new(host.name())?;
        let identity = match self.identity() {
            Some(identity) => identity.clone(),
            None => crate::host::identity(host),
        };
        let host = host.name();
        state.hardware_uuid.clone_from(&identity.hardware_uuid);
        state.user.clone_from(&identity.user);
        if let (Some(uuid), Some(user)) = (&identity.hardware_uuid, &identity.user)
            && let Some(other) = self.other_state_of(uuid, user)
        {
            bail!(
                "{host} is the Mac {uuid} with user {user}, which already has the state {} under another name; macllm will not start a second state for it\n\
                 hint: use the host name that state was made with, or move that file away",
                other.display()
            );
        }
        Ok(state)
    }

    /// Another `*.json` state in this folder recording the Mac `uuid` and user `user`.
    fn other_state_of(&self, uuid: &str, user: &str) -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(self.dir())
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path != &self.path
                    && path.extension().is_some_and(|ext| ext == "json")
                    && fs::symlink_metadata(path).is_ok_and(|meta| meta.is_file())
            })
            .filter(|path| {
                let Ok(text) = fs::read_to_string(path) else {
                    return false;
                };
                let Ok(other) = serde_json::from_str::<serde_json::Value>(&text) else {
                    return false;
                };
                other["hardware_uuid"].as_str() == Some(uuid)
                    && other["user"].as_str() == Some(user)
            })
            .collect();
        found.sort();
        found.into_iter().next()
    }

    /// `None` when there is no state yet. A corrupt or newer-format file is an error and is
    /// left exactly as it is.
    pub fn load(&self) -> Result<Option<State>> {
        let mut text = String::new();
        match open_no_follow(&self.path, OpenOptions::new().read(true)) {
            Ok(mut file) => {
                file.read_to_string(&mut text)
                    .with_context(|| format!("reading {}", self.path.display()))?;
            }
            Err(err)
                if err
                    .downcast_ref::<std::io::Error>()
                    .map(std::io::Error::kind)
                    == Some(std::io::ErrorKind::NotFound) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(err),
        }
        let probe: serde_json::Value = serde_json::from_str(&text).map_err(|err| {
            anyhow::anyhow!(
                "state file {} is corrupt ({err}); macllm will not overwrite it\n\
                 hint: restore it from {} or move it away",
                self.path.display(),
                backup_path(&self.path).display()
            )
        })?;
        let version = probe.get("format_version").and_then(|v| v.as_u64());
        match version {
            Some(v) if v > u64::from(STATE_FORMAT_VERSION) => bail!(
                "state file {} has format version {v}, newer than this macllm understands ({STATE_FORMAT_VERSION}); refusing to touch it\n\
                 hint: upgrade macllm",
                self.path.display()
            ),
            _ => {}
        }
        let state: State = serde_json::from_value(probe).map_err(|err| {
            anyhow::anyhow!(
                "state file {} is corrupt ({err}); macllm will not overwrite it",
                self.path.display()
            )
        })?;
        if let Some(host) = &self.host
            && state.host != *host
            && crate::host::canonical_name(&state.host) != crate::host::canonical_name(host)
        {
            bail!(
                "state file {} is the state of `{}`, not of `{host}`; macllm will not use or overwrite it\n\
                 hint: run with `--host {}`, or give this host its own `--state-dir`",
                self.path.display(),
                state.host,
                state.host
            );
        }
        if let Some(identity) = self.identity() {
            let differs = |recorded: &Option<String>, now: &Option<String>| matches!((recorded, now), (Some(recorded), Some(now)) if recorded != now);
            if differs(&state.hardware_uuid, &identity.hardware_uuid)
                || differs(&state.user, &identity.user)
            {
                let show = |value: &Option<String>| value.as_deref().unwrap_or("?").to_string();
                bail!(
                    "state file {} is the state of the Mac {} with user {}, but {} is the Mac {} with user {}; macllm will not use or overwrite it\n\
                     hint: run against the Mac and user it was made for, or give this one its own `--state-dir`",
                    self.path.display(),
                    show(&state.hardware_uuid),
                    show(&state.user),
                    self.host.as_deref().unwrap_or(&state.host),
                    show(&identity.hardware_uuid),
                    show(&identity.user)
                );
            }
        }
        Ok(Some(state))
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// Takes the lock or fails at once naming its holder.
    pub fn lock(&self, command: &str) -> Result<StateLock> {
        let lock_path = self.lock_path();
        create_private_dir(self.dir())?;
        let mut file = open_no_follow(
            &lock_path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )?;
        set_private_file(&file, &lock_path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = serde_json::from_str::<serde_json::Value>(&holder)
                    .map(|info| {
                        format!(
                            "pid {}, `{}`, since {}",
                            info["pid"],
                            info["command"].as_str().unwrap_or("?"),
                            info["since"].as_str().unwrap_or("?")
                        )
                    })
                    .unwrap_or_else(|_| "another macllm process".to_string());
                bail!(
                    "the state {} is locked by {holder}\n\
                     hint: wait for that command to finish; the lock goes away with its process",
                    self.path.display()
                );
            }
            Err(fs::TryLockError::Error(err)) => {
                return Err(err).context(format!("locking {}", lock_path.display()));
            }
        }
        let info = serde_json::json!({
            "pid": std::process::id(),
            "command": command,
            "since": rfc3339_now(),
        });
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(info.to_string().as_bytes())?;
        file.flush()?;
        // Holding the lock, this process is the only writer of this state: temporary files a
        // killed writer left behind are its own to remove.
        self.remove_stale_temporaries();
        Ok(StateLock { _file: file })
    }

    /// Bumps the serial and writes the state atomically: temp file in the same folder, fsync,
    /// previous copy to `.backup`, rename over, mode 0600.
    pub fn save(&self, state: &mut State, _lock: &StateLock) -> Result<()> {
        if (state.hardware_uuid.is_none() || state.user.is_none())
            && let Some(identity) = self.identity()
        {
            if state.hardware_uuid.is_none() {
                state.hardware_uuid.clone_from(&identity.hardware_uuid);
            }
            if state.user.is_none() {
                state.user.clone_from(&identity.user);
            }
        }
        state.serial += 1;
        // Serialised first, so a value JSON cannot hold leaves every file as it was.
        let json = match serde_json::to_string_pretty(state) {
            Ok(json) => json + "\n",
            Err(err) => {
                state.serial -= 1;
                return Err(err).with_context(|| {
                    format!(
                        "cannot record the state {}; it was left as it was",
                        self.path.display()
                    )
                });
            }
        };
        let dir = self.dir();
        create_private_dir(dir)?;
        // Neither the state nor its backup may be a link: writing through it would overwrite
        // (and chmod) whatever it points to.
        refuse_link(&self.path)?;
        let backup = backup_path(&self.path);
        refuse_link(&backup)?;
        let mut temp = self.temporary()?;
        temp.write_all(json.as_bytes())?;
        temp.as_file().sync_all()?;
        set_private_file(temp.as_file(), temp.path())?;
        // The previous copy goes to `.backup` the same way: a fresh file renamed over it, so a
        // link planted there in between is replaced, never followed.
        if let Ok(mut previous) = open_no_follow(&self.path, OpenOptions::new().read(true)) {
            let mut copy = self.temporary()?;
            std::io::copy(&mut previous, &mut copy)
                .with_context(|| format!("keeping a backup of {}", self.path.display()))?;
            copy.as_file().sync_all()?;
            set_private_file(copy.as_file(), copy.path())?;
            copy.persist(&backup)
                .with_context(|| format!("writing {}", backup.display()))?;
        }
        temp.persist(&self.path)
            .with_context(|| format!("writing {}", self.path.display()))?;
        // The rename is durable only once the directory entry is.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl StateFile {
    /// The folder that holds the state, its backup, its lock and its temporary files.
    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// `.<state name>.tmp-XXXXXX`: named after this state, so that cleaning up after a crash
    /// never touches another host's state being written at the same moment.
    fn temporary_prefix(&self) -> String {
        format!(
            ".{}.tmp-",
            self.path.file_name().unwrap_or_default().to_string_lossy()
        )
    }

    fn temporary(&self) -> Result<tempfile::NamedTempFile> {
        let dir = self.dir();
        tempfile::Builder::new()
            .prefix(&self.temporary_prefix())
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))
    }

    /// Removes this state's temporary files that a killed writer left behind (best effort).
    fn remove_stale_temporaries(&self) {
        let prefix = self.temporary_prefix();
        let Ok(entries) = fs::read_dir(self.dir()) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Opens `path` without following a symbolic link at its end (`O_NOFOLLOW`): a link planted
/// as the state, its backup or its lock is refused, naming it.
fn open_no_follow(path: &Path, options: &mut OpenOptions) -> Result<File> {
    refuse_link(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    match options.open(path) {
        Ok(file) => Ok(file),
        // The link appeared between the check and the open.
        Err(err) if err.raw_os_error() == Some(libc_eloop()) => Err(link_error(path)),
        Err(err) => Err(anyhow::Error::new(err).context(format!("opening {}", path.display()))),
    }
}

#[cfg(unix)]
fn libc_eloop() -> i32 {
    libc::ELOOP
}

#[cfg(not(unix))]
fn libc_eloop() -> i32 {
    -1
}

fn link_error(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} is a symbolic link; macllm never follows links in the state folder (writing through it would overwrite the file it points to)\n\
         hint: remove the link; the state, its .backup and its .lock are plain files macllm creates",
        path.display()
    )
}

/// An error naming `path` if it is a symbolic link.
fn refuse_link(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(link_error(path)),
        _ => Ok(()),
    }
}

/// Creates the state folder (and its parents) readable by its owner only, whatever the umask.
/// A folder that exists already is left as it is.
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        // The umask may have taken bits away from the mode asked for; set it exactly.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("setting the mode of {}", dir.display()))?;
    }
    Ok(())
}

pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".backup");
    path.with_file_name(name)
}

/// Mode 0600 on an open file (through its handle, so no link is followed).
#[cfg(unix)]
fn set_private_file(file: &File, path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

#[cfg(not(unix))]
fn set_private_file(_file: &File, _path: &Path) -> Result<()> {
    Ok(())
}

/// Now in UTC, to the second (`2026-11-30T03:05:09Z`): when a lock was taken.
fn rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds are in range");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC instant formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_is_atomic_keeps_a_backup_and_bumps_the_serial() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("h.json"));
        assert_eq!(file.load().unwrap(), None);
        let lock = file.lock("test").unwrap();
        let mut state = State::new("h").unwrap();
        file.save(&mut state, &lock).unwrap();
        file.save(&mut state, &lock).unwrap();
        let loaded = file.load().unwrap().unwrap();
        assert_eq!(loaded.serial, 2);
        assert_eq!(loaded.lineage, state.lineage);
        let backup: State =
            serde_json::from_str(&fs::read_to_string(backup_path(&file.path)).unwrap()).unwrap();
        assert_eq!(backup.serial, 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_second_lock_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("h.json"));
        let _held = file.lock("macllm apply").unwrap();
        let err = file.lock("macllm destroy").err().unwrap().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("`macllm apply`"), "{err}");
    }

    /// Any value, nested up to four levels: what a state may have to record.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let finite = prop_oneof![
            proptest::num::f64::NORMAL
                | proptest::num::f64::SUBNORMAL
                | proptest::num::f64::ZERO
                | proptest::num::f64::NEGATIVE
                | proptest::num::f64::POSITIVE,
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(-0.0),
        ];
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Integer),
            finite.prop_map(Value::Float),
            any::<String>().prop_map(Value::String),
            // 0001-01-01 to 9999-12-31, as XML plists write dates.
            (-62_135_596_800i64..253_402_300_799).prop_map(|secs| {
                let at = std::time::SystemTime::UNIX_EPOCH;
                let at = if secs >= 0 {
                    at + std::time::Duration::from_secs(secs as u64)
                } else {
                    at - std::time::Duration::from_secs(secs.unsigned_abs())
                };
                Value::Date(plist::Date::from(at).to_xml_format())
            }),
            proptest::collection::vec(any::<u8>(), 0..32)
                .prop_map(|bytes| Value::Data(crate::value::hex_encode(&bytes))),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::btree_map(any::<String>(), inner, 0..8).prop_map(Value::Dict),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Every value type, nested, survives the state file's JSON unchanged: as the
        /// resource's value, as the original and as the value read back.
        #[test]
        fn every_value_round_trips_through_the_state_file(
            value in any_value(),
            original in proptest::option::of(any_value()),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let file = StateFile::new(dir.path().join("h.json"));
            let lock = file.lock("test").unwrap();
            let mut state = State::new("h").unwrap();
            let resource = AnyResource::Defaults(crate::resources::defaults::DefaultsKey {
                domain: "com.example".into(),
                key: "k".into(),
                current_host: false,
                value: Some(value.clone()),
            });
            state.resources.insert(
                ResourceId("defaults:com.example:k".into()),
                Record {
                    resource,
                    depends_on: Vec::new(),
                    original,
                    applied: Some(Applied { value: Some(value) }),
                    sensitive: false,
                },
            );
            file.save(&mut state, &lock).unwrap();
            proptest::prop_assert_eq!(file.load().unwrap(), Some(state));
        }
    }

    #[test]
    fn a_non_finite_float_is_never_written_as_null() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("h.json"));
        let lock = file.lock("test").unwrap();
        let mut state = State::new("h").unwrap();
        file.save(&mut state, &lock).unwrap();
        let before = fs::read(&file.path).unwrap();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let nested = Value::Dict(BTreeMap::from([(
                "x".to_string(),
                Value::Array(vec![Value::Float(bad)]),
            )]));
            let mut bad_state = state.clone();
            bad_state.resources.insert(
                ResourceId("defaults:d:k".into()),
                Record {
                    resource: AnyResource::Defaults(crate::resources::defaults::DefaultsKey {
                        domain: "d".into(),
                        key: "k".into(),
                        current_host: false,
                        value: None,
                    }),
                    depends_on: Vec::new(),
                    original: Some(nested),
                    applied: None,
                    sensitive: false,
                },
            );
            let err = format!("{:#}", file.save(&mut bad_state, &lock).unwrap_err());
            assert!(err.contains("is not finite"), "{err}");
            assert_eq!(fs::read(&file.path).unwrap(), before, "the state changed");
        }
        // No temporary file is left behind either.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    }

    #[test]
    fn corrupt_and_newer_states_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("h.json"));
        fs::write(&file.path, "{ not json").unwrap();
        assert!(file.load().unwrap_err().to_string().contains("corrupt"));
        fs::write(&file.path, r#"{"format_version": 99}"#).unwrap();
        assert!(file.load().unwrap_err().to_string().contains("newer"));
        assert_ne!(random_lineage().unwrap(), random_lineage().unwrap());
    }
}
