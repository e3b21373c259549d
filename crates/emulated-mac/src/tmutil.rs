//! Emulated `tmutil` (Time Machine), for what macllm needs: `enable` and `disable`, which
//! turn automatic backups on and off (reference/macos-commands.md 4.2; mathiasbynens/dotfiles
//! #842: `tmutil disable` "disables the whole automatic backup").
//!
//! - State: the `AutoBackup` key of the system domain file
//!   `/Library/Preferences/com.apple.TimeMachine.plist`, which `defaults read
//!   /Library/Preferences/com.apple.TimeMachine AutoBackup` reads (the emulated `defaults`
//!   reads the same file). A missing key means enabled (NIST mSCP
//!   `system_settings_time_machine_auto_backup_enable` accepts null or 1); `enable` writes
//!   `true`, `disable` writes `false`, other keys are kept, the file is XML.
//! - Success prints nothing, status 0 (UNCONFIRMED: no capture; scripts run it bare).
//! - Without root: `tmutil: disable requires root privileges.` (public transcript:
//!   `$ tmutil disable` / `tmutil: disable requires root privileges.` / `$ sudo !!`). Stream
//!   and status UNCONFIRMED: stderr, 1. (Under sudo without Full Disk Access for the terminal,
//!   Mojave and later refuse with `tmutil: disable requires Full Disk Access privileges.`;
//!   the emulated Mac has no TCC, so that refusal is not emulated.)
//! - An unknown verb: `VERB: Unrecognized verb.` (fixture
//!   `defaults-write-universalaccess-refused.txt`, last line, from `sudo tmutil
//!   disablelocal`; mathiasbynens/dotfiles#897 on Catalina). Stream and status UNCONFIRMED:
//!   stderr, 1.
//! - No verb, or `help`: the usage list (a 2021 Big Sur transcript of `tmutil`'s output,
//!   one `Usage:` paragraph per verb; later releases add verbs). No verb is status 1, `help`
//!   status 0 (UNCONFIRMED).
//! - tmutil's other verbs are refused as not emulated.

use super::machine::Machine;
use crate::output::Output;
use anyhow::{Context, Result, bail};

/// The Mac path of Time Machine's preferences.
pub const PREFERENCES: &str = "/Library/Preferences/com.apple.TimeMachine.plist";

const VERBS: &[&str] = &[
    "version",
    "enable",
    "disable",
    "startbackup",
    "stopbackup",
    "delete",
    "deleteinprogress",
    "restore",
    "compare",
    "setdestination",
    "removedestination",
    "destinationinfo",
    "addexclusion",
    "removeexclusion",
    "isexcluded",
    "inheritbackup",
    "associatedisk",
    "latestbackup",
    "listbackups",
    "machinedirectory",
    "calculatedrift",
    "uniquesize",
    "verifychecksums",
    "localsnapshot",
    "listlocalsnapshots",
    "listlocalsnapshotdates",
    "deletelocalsnapshots",
    "thinlocalsnapshots",
    "status",
    "help",
];

pub const USAGE: &str = "\
Usage: tmutil help <verb>

Usage: tmutil version

Usage: tmutil enable

Usage: tmutil disable

Usage: tmutil startbackup [-a | --auto] [-b | --block] [-r | --rotation] [-d | --destination dest_id]

Usage: tmutil stopbackup

Usage: tmutil delete [-d backup_mount_point -t timestamp] [-p path]

Usage: tmutil deleteinprogress machine_directory

Usage: tmutil restore [-v] src ... dst

Usage: tmutil compare [-@acdefghlmnstuEX] [-D depth] [-I name]
       tmutil compare [-@acdefghlmnstuEX] [-D depth] [-I name] snapshot_path
       tmutil compare [-@acdefghlmnstuEUX] [-D depth] [-I name] path1 path2

Usage: tmutil setdestination [-a]  mount_point
       tmutil setdestination [-ap] afp://user[:pass]@host/share

Usage: tmutil removedestination destination_id

Usage: tmutil destinationinfo [-X]

Usage: tmutil addexclusion [-p|-v] item ...

Usage: tmutil removeexclusion [-p|-v] item ...

Usage: tmutil isexcluded item ...

Usage: tmutil inheritbackup machine_directory
       tmutil inheritbackup sparse_bundle

Usage: tmutil associatedisk [-a] mount_point volume_backup_directory

Usage: tmutil latestbackup [-t] [-d mount_point]

Usage: tmutil listbackups [-mt] [-d mount_point]

Usage: tmutil machinedirectory

Usage: tmutil calculatedrift machine_directory

Usage: tmutil uniquesize path ...

Usage: tmutil verifychecksums path ...

Usage: tmutil localsnapshot

Usage: tmutil listlocalsnapshots <mount_point>

Usage: tmutil listlocalsnapshotdates [<mount_point>]

Usage: tmutil deletelocalsnapshots [<mount_point> | <snapshot_date>]

Usage: tmutil thinlocalsnapshots <mount_point> [purgeamount] [urgency]

";

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let Some((verb, _rest)) = args.split_first() else {
        return Output {
            status: 1,
            stdout: USAGE.to_string(),
            stderr: String::new(),
        };
    };
    match verb.as_str() {
        "help" => Output::ok(USAGE),
        "enable" | "disable" => {
            if !machine.is_root() {
                return Output::failed(1, format!("tmutil: {verb} requires root privileges.\n"));
            }
            match set_auto_backup(machine, verb == "enable") {
                Ok(()) => Output::ok(""),
                Err(err) => Output::failed(1, format!("tmutil: {err:#}\n")),
            }
        }
        known if VERBS.contains(&known) => Output::failed(
            1,
            format!("tmutil: `{known}` is not emulated by macllm's sandbox\n"),
        ),
        unknown => Output::failed(1, format!("{unknown}: Unrecognized verb.\n")),
    }
}

/// Whether automatic backups are on: `AutoBackup`, absent meaning on (reference 4.2).
pub fn auto_backup(machine: &Machine) -> Result<bool> {
    Ok(match load(machine)?.get("AutoBackup") {
        None => true,
        Some(plist::Value::Boolean(b)) => *b,
        Some(plist::Value::Integer(i)) => i.as_signed() != Some(0),
        Some(_) => true,
    })
}

fn load(machine: &Machine) -> Result<plist::Dictionary> {
    let Some(path) = machine.host_path(PREFERENCES) else {
        bail!("internal error: {PREFERENCES} is not a sandbox path");
    };
    if !path.exists() {
        return Ok(plist::Dictionary::new());
    }
    match plist::Value::from_file(&path).with_context(|| format!("reading {PREFERENCES}"))? {
        plist::Value::Dictionary(dict) => Ok(dict),
        _ => bail!("{PREFERENCES} does not hold a dictionary"),
    }
}

fn set_auto_backup(machine: &Machine, on: bool) -> Result<()> {
    let Some(path) = machine.host_path(PREFERENCES) else {
        bail!("internal error: {PREFERENCES} is not a sandbox path");
    };
    let mut dict = load(machine)?;
    dict.insert("AutoBackup".into(), plist::Value::Boolean(on));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut buffer = Vec::new();
    plist::Value::Dictionary(dict).to_writer_xml(&mut buffer)?;
    buffer.push(b'\n');
    let temp = path.with_extension("plist.tmp");
    std::fs::write(&temp, &buffer).with_context(|| format!("writing {PREFERENCES}"))?;
    std::fs::rename(&temp, &path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! One test per emulated behaviour, each naming its source (reference 4.2 and the
    //! transcripts in the module comment).

    use super::*;
    use crate::defaults;
    use crate::testing::{args, mac};

    fn tmutil(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    fn defaults_read(machine: &Machine) -> Output {
        let list = [
            "read",
            "/Library/Preferences/com.apple.TimeMachine",
            "AutoBackup",
        ];
        defaults::run(machine, &args(&list), b"")
    }

    /// `sudo tmutil disable` sets AutoBackup false in the system domain file, which
    /// `defaults read /Library/Preferences/com.apple.TimeMachine AutoBackup` shows as 0;
    /// `enable` sets it back to 1. Absent means enabled (mSCP).
    #[test]
    fn disable_and_enable_write_auto_backup() {
        let (_dir, mut m) = mac("m4pro-48gb-sequoia");
        assert!(auto_backup(&m).unwrap());
        m.info.uid = 0;
        let out = tmutil(&m, &["disable"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (0, "", "")
        );
        let text = std::fs::read_to_string(
            m.dir
                .join("Library/Preferences/com.apple.TimeMachine.plist"),
        )
        .unwrap();
        assert!(text.contains("<key>AutoBackup</key>\n\t<false/>"), "{text}");
        assert!(!auto_backup(&m).unwrap());
        assert_eq!(defaults_read(&m).stdout, "0\n");
        assert_eq!(tmutil(&m, &["enable"]).status, 0);
        assert_eq!(defaults_read(&m).stdout, "1\n");
    }

    /// `tmutil disable` without sudo: `tmutil: disable requires root privileges.`; nothing is
    /// written.
    #[test]
    fn needs_root() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = tmutil(&m, &["disable"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "tmutil: disable requires root privileges.\n")
        );
        assert!(
            !m.dir
                .join("Library/Preferences/com.apple.TimeMachine.plist")
                .exists()
        );
    }

    /// Fixture `defaults-write-universalaccess-refused.txt`: `disablelocal: Unrecognized
    /// verb.` (removed in High Sierra); no verb prints the usage list.
    #[test]
    fn unknown_verbs_and_usage() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = tmutil(&m, &["disablelocal"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "disablelocal: Unrecognized verb.\n")
        );
        let out = tmutil(&m, &[]);
        assert_eq!(out.status, 1);
        assert!(out.stdout.contains("\nUsage: tmutil disable\n"));
        assert_eq!(tmutil(&m, &["help"]).status, 0);
        assert!(tmutil(&m, &["status"]).stderr.contains("not emulated"));
    }

    /// Other keys of the file survive (`setdestination` writes destinations there).
    #[test]
    fn keeps_other_keys() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        m.info.uid = 0;
        let path = m.host_path(PREFERENCES).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut dict = plist::Dictionary::new();
        dict.insert("LastDestinationID".into(), "ABC".into());
        plist::Value::Dictionary(dict).to_file_xml(&path).unwrap();
        tmutil(&m, &["disable"]);
        let dict = load(&m).unwrap();
        assert_eq!(
            dict.get("LastDestinationID").and_then(|v| v.as_string()),
            Some("ABC")
        );
        assert_eq!(dict.get("AutoBackup"), Some(&plist::Value::Boolean(false)));
    }
}
