//! Emulated `pmset`, following Apple's source: apple-oss-distributions/PowerManagement
//! `pmset/pmset.m` (PowerManagement-1846.0.25.0.1), reference/macos-commands.md 4.1, and the
//! captures `fixtures/macos/pmset-g-*.txt`.
//!
//! What pmset.m does, and this emulation with it:
//!
//! - `parseArgs()` lowercases each keyword in place and walks the arguments left to right.
//!   `-a`, `-b`, `-c`, `-u` pick the power sources the following settings go to (a source the
//!   Mac lacks is silently dropped: `-b sleep 5` on a Mac mini changes nothing and succeeds);
//!   no flag means all. Any other `-x` is a bad argument.
//! - `-g [WHAT]` runs one getter and ends parsing (the source flags do not filter getters:
//!   `pmset -b -g custom` shows every source). `-g` or `-g live` prints `System-wide power
//!   settings:` (then ` SleepDisabled\t\t%d` once `disablesleep` has been set) and `Currently
//!   in use:` with one ` %-20s %value` line per setting the active source supports
//!   (`show_pm_settings_dict`); `-g custom` (or `disk`) prints each source's block, `NAME:`
//!   then the same lines (`show_power_profile`, no pruning); `-g cap` lists the supported
//!   setting names. Other getters are refused as not emulated; an unknown one prints `Error:
//!   unhandled argument X` and the usage (stdout, status 1), as pmset.m does.
//! - Settings are checked by `checkAndSetIntValue()`: strtol(3) base 0 over the whole word
//!   (so `0x1e`, `010` and the empty string are numbers), on/off settings store non-zero as
//!   1, negative values are refused; `hibernatemode` accepts exactly `0`, `3`, `25`. A bad
//!   value or unknown keyword is `kParseBadArgs`: `Usage: pmset <options>` / `See pmset(1)
//!   for details: 'man pmset'` on stdout, status 1. `tcpkeepalive 0` prints its warning on
//!   stdout during parsing. `autopoweroff` with a bad value silently stops parsing.
//! - Writing the settings (`IOPMSetPMPreferences`) needs root: `'pmset' must be run as
//!   root...` on stdout, status 1 (argv[0] as typed, so `/usr/bin/pmset` shows that way).
//!   `disablesleep` is a system-wide setting written afterwards with
//!   `IOPMSetSystemPowerSetting`; refused, it prints the same line but pmset.m carries on and
//!   exits 0. After a write, `checkSettingConsistency()` warns on stderr when a source's
//!   display sleep is longer than its system sleep or disk sleep is 0 while sleep is not.
//! - `lowpowermode`/`powermode` go through `checkAndSetPowerModeIntValue()` (0 automatic,
//!   1 low power, 2 high power; `Unsupported mode N`; `LowPowerMode not supported on AC
//!   Power` for hardware without it). The published source has that function but not its
//!   call site (stripped); that both keywords reach it is from public use
//!   (alfredapp/low-power-mode-workflow#4, reference 4.1): UNCONFIRMED. Display shows
//!   `powermode` on hardware with High Power Mode, `lowpowermode` otherwise, never both
//!   (pmset.m 1143-1153; the checks are 4422-4507; tag PowerManagement-1846.0.25.0.1, commit
//!   d415e45501842834a280930c3eed9186544a67f0).
//! - `restoredefaults`: `Restored Default settings.`, or `You're not privileged.` (status 0
//!   either way, pmset.m ignores the result).
//!
//! Settings are kept in `var/db/pmset.json` in the emulated Mac, created on first use from
//! the preset (see [`stock`]), by display name (`sleep`, `displaysleep`, ...). The emulated
//! Mac runs on AC power: `Currently in use` shows the `AC Power` block. Lines are printed in a
//! fixed order taken from the captures; real pmset prints them in CFDictionary order, which
//! is unstable, so callers must parse by name (reference 4.1).

use super::libc::strtol;
use super::machine::Machine;
use crate::output::Output;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where the emulated Mac keeps its power settings.
pub const STATE_FILE: &str = "var/db/pmset.json";

pub const AC_POWER: &str = "AC Power";
pub const BATTERY_POWER: &str = "Battery Power";

const USAGE: &str = "Usage: pmset <options>\nSee pmset(1) for details: 'man pmset'\n";

/// The emulated power settings: per source, by display name; and the system-wide ones
/// (`SleepDisabled`), absent until first set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PowerState {
    pub profiles: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub system: BTreeMap<String, bool>,
}

/// Display order, after the Apple Silicon captures (AppHouseKitchen/AlDente#603 `pmset -g` on
/// an M1 MacBook Pro; alfredapp/low-power-mode-workflow#6 `-g custom`; fixtures
/// `pmset-g-desktop-2024.txt`, `pmset-g-hackintosh-intel-2020.txt`); names not listed follow
/// in alphabetical order.
const ORDER: &[&str] = &[
    "standby",
    "Sleep On Power Button",
    "autorestart",
    "hibernatefile",
    "proximitywake",
    "powernap",
    "networkoversleep",
    "disksleep",
    "standbydelayhigh",
    "sleep",
    "autopoweroffdelay",
    "hibernatemode",
    "autopoweroff",
    "ttyskeepawake",
    "displaysleep",
    "highstandbythreshold",
    "standbydelaylow",
    "tcpkeepalive",
    "lessbright",
    "halfdim",
    "lowpowermode",
    "womp",
];

/// The hardware a preset emulates, as far as pmset can tell.
struct Hardware {
    battery: bool,
    /// High Power Mode (M4 Max MacBook Pro, M4 Pro Mac mini): the low-power setting shows as
    /// `powermode` and accepts 2.
    high_power: bool,
    /// Low Power Mode exists on the power adapter too (all presets: macOS 12+ MacBooks have it
    /// on both sources; desktops with Apple Silicon on AC from Sonoma's era; UNCONFIRMED for
    /// the Mac mini presets).
    low_power: bool,
}

fn hardware(machine: &Machine) -> Hardware {
    let preset = machine.info.preset.as_str();
    Hardware {
        battery: matches!(preset, "m1-8gb-monterey" | "m4max-64gb-sequoia"),
        high_power: matches!(preset, "m4max-64gb-sequoia" | "m4pro-48gb-sequoia"),
        low_power: true,
    }
}

/// Settings a fresh Mac of the preset has. Values are Apple Silicon defaults as the captures
/// show them (M1 MacBook Pro on AC: standby 1, powernap 1, hibernatemode 3, ttyskeepawake 1,
/// tcpkeepalive 1, womp 1, displaysleep 10, sleep 1; battery blocks add `lessbright` and a
/// 2-minute display sleep); desktops hibernate in mode 0 (fixture `pmset-g-desktop-2024.txt`)
/// and offer `autorestart`. Plausible rather than captured for every preset.
pub fn stock(machine: &Machine) -> PowerState {
    let hw = hardware(machine);
    let num = |n: i64| Value::from(n);
    let mut ac: BTreeMap<String, Value> = BTreeMap::new();
    ac.insert("Sleep On Power Button".into(), num(1));
    ac.insert("hibernatefile".into(), Value::from("/var/vm/sleepimage"));
    ac.insert("powernap".into(), num(1));
    ac.insert("networkoversleep".into(), num(0));
    ac.insert("disksleep".into(), num(10));
    ac.insert("sleep".into(), num(1));
    ac.insert("ttyskeepawake".into(), num(1));
    ac.insert("displaysleep".into(), num(10));
    ac.insert("tcpkeepalive".into(), num(1));
    ac.insert("lowpowermode".into(), num(0));
    ac.insert("womp".into(), num(1));
    if hw.battery {
        ac.insert("standby".into(), num(1));
        ac.insert("hibernatemode".into(), num(3));
    } else {
        ac.insert("standby".into(), num(0));
        ac.insert("hibernatemode".into(), num(0));
        ac.insert("autorestart".into(), num(0));
    }
    let mut state = PowerState::default();
    if hw.battery {
        let mut battery = ac.clone();
        battery.insert("displaysleep".into(), num(2));
        battery.insert("womp".into(), num(0));
        battery.insert("lessbright".into(), num(1));
        state.profiles.insert(BATTERY_POWER.into(), battery);
    }
    state.profiles.insert(AC_POWER.into(), ac);
    state
}

/// The emulated Mac's power settings (the preset's stock ones until something is set).
pub fn load(machine: &Machine) -> PowerState {
    std::fs::read_to_string(machine.dir.join(STATE_FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| stock(machine))
}

fn save(machine: &Machine, state: &PowerState) -> Result<()> {
    let path = machine.dir.join(STATE_FILE);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(state)? + "\n";
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, text).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, &path)?;
    Ok(())
}

/// Which settings the hardware supports on AC power (IOPMFeatureIsAvailable), for `-g` and
/// `-g cap`: Apple Silicon has `standby` but none of the Intel-era delays (reference 4.1).
fn supported(hw: &Hardware, name: &str) -> bool {
    match name {
        "Sleep On Power Button"
        | "hibernatefile"
        | "powernap"
        | "networkoversleep"
        | "disksleep"
        | "sleep"
        | "hibernatemode"
        | "ttyskeepawake"
        | "displaysleep"
        | "tcpkeepalive"
        | "womp"
        | "standby"
        | "lowpowermode" => true,
        "autorestart" => !hw.battery,
        _ => false,
    }
}

/// Every source the Mac has, in the order `-g custom` prints them (capture
/// alfredapp/low-power-mode-workflow#6 starts with `Battery Power:`).
fn source_order(state: &PowerState) -> Vec<String> {
    let mut names: Vec<String> = state.profiles.keys().cloned().collect();
    names.sort_by_key(|name| match name.as_str() {
        BATTERY_POWER => 0,
        AC_POWER => 1,
        _ => 2,
    });
    names
}

fn ordered(profile: &BTreeMap<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = profile.iter().collect();
    entries.sort_by_key(|(name, _)| {
        (
            ORDER
                .iter()
                .position(|known| known == name)
                .unwrap_or(ORDER.len()),
            name.to_string(),
        )
    });
    entries
}

/// One ` %-20s %value` line (`show_pm_settings_dict`); names longer than 20 push the value
/// right by one space (fixture `pmset-g-desktop-2024.txt`: ` Sleep On Power Button 1`).
fn setting_line(out: &mut String, name: &str, value: &Value, hw: &Hardware) {
    let shown = if name == "lowpowermode" && hw.high_power {
        "powermode"
    } else {
        name
    };
    let value = match value {
        Value::String(text) => text.clone(),
        Value::Bool(b) => u8::from(*b).to_string(),
        other => other.to_string(),
    };
    let _ = writeln!(out, " {shown:<20} {value}");
}

fn show_live(state: &PowerState, hw: &Hardware) -> String {
    let mut out = String::from("System-wide power settings:\n");
    if let Some(disabled) = state.system.get("SleepDisabled") {
        let _ = writeln!(out, " SleepDisabled\t\t{}", u8::from(*disabled));
    }
    if let Some(ac) = state.profiles.get(AC_POWER) {
        out.push_str("Currently in use:\n");
        for (name, value) in ordered(ac) {
            if supported(hw, name) {
                setting_line(&mut out, name, value, hw);
            }
        }
    }
    out
}

fn show_custom(state: &PowerState, hw: &Hardware) -> String {
    let mut out = String::new();
    for source in source_order(state) {
        let _ = writeln!(out, "{source}:");
        for (name, value) in ordered(&state.profiles[&source]) {
            setting_line(&mut out, name, value, hw);
        }
    }
    out
}

/// `show_supported_pm_features`: the `all_features` names the active source supports, in
/// that table's order.
fn show_capabilities(hw: &Hardware) -> String {
    const ALL_FEATURES: &[&str] = &[
        "displaysleep",
        "disksleep",
        "sleep",
        "womp",
        "ring",
        "acwake",
        "autorestart",
        "lidwake",
        "lessbright",
        "halfdim",
        "sms",
        "gpuswitch",
        "standby",
        "standbydelayhigh",
        "standbydelaylow",
        "highstandbythreshold",
        "powernap",
        "ttyskeepawake",
        "hibernatemode",
        "hibernatefile",
        "autopoweroff",
        "tcpkeepalive",
        "autopoweroffdelay",
        "proximitywake",
        "vactdisabled",
        "lowpowermode",
        "highpowermode",
    ];
    let mut out = format!("Capabilities for {AC_POWER}:\n");
    for name in ALL_FEATURES {
        let available = supported(hw, name) || (*name == "highpowermode" && hw.high_power);
        if available {
            let _ = writeln!(out, " {name}");
        }
    }
    out
}

/// Settings `checkAndSetIntValue` handles: display name and whether it is on/off.
fn int_setting(keyword: &str) -> Option<(&'static str, bool)> {
    Some(match keyword {
        "dim" | "displaysleep" => ("displaysleep", false),
        "proximitywake" => ("proximitywake", false),
        "spindown" | "disksleep" => ("disksleep", false),
        "sleep" => ("sleep", false),
        "womp" => ("womp", true),
        "ring" => ("ring", true),
        "autorestart" => ("autorestart", true),
        "acwake" => ("acwake", true),
        "lidwake" => ("lidwake", true),
        "lessbright" => ("lessbright", true),
        "halfdim" => ("halfdim", true),
        "sms" | "ams" => ("sms", true),
        "ttyskeepawake" => ("ttyskeepawake", true),
        "tcpkeepalive" => ("tcpkeepalive", true),
        "hibernatemode" => ("hibernatemode", false),
        "gpuswitch" => ("gpuswitch", false),
        "networkoversleep" => ("networkoversleep", false),
        "standby" => ("standby", false),
        "standbydelayhigh" => ("standbydelayhigh", false),
        "standbydelaylow" => ("standbydelaylow", false),
        "highstandbythreshold" => ("highstandbythreshold", false),
        "darkwakes" | "powernap" => ("powernap", false),
        "autopoweroff" => ("autopoweroff", false),
        "autopoweroffdelay" => ("autopoweroffdelay", false),
        _ => return None,
    })
}

/// Keywords pmset knows but this emulation does not carry out.
const NOT_EMULATED: &[&str] = &[
    "touch",
    "noidle",
    "sleepnow",
    "displaysleepnow",
    "debugtrig",
    "schedule",
    "sched",
    "relative",
    "repeat",
    "haltlevel",
    "haltafter",
    "haltremain",
    "hibernatefreeratio",
    "hibernatefreetime",
    "destroyfvkeyonstandby",
    "boot",
    "unboot",
    "bookmark",
    "debugflags",
    "btinterval",
    "dwlinterval",
    "disableassertion",
    "enableassertion",
    "resetdisplayambientparams",
    "rdap",
    "mt2book",
    "saaflags",
    "clamshell",
    "acattach",
    "desktopmode",
    "systemassertiontimeout",
    "gamingactive",
    "gamingmode",
    "readboot",
    "readall",
    "readuser",
    "ldmhibernate",
];

/// Getters pmset has (`the_getters`) that are not emulated.
const GETTERS_NOT_EMULATED: &[&str] = &[
    "sched",
    "ups",
    "adapter",
    "ps",
    "pslog",
    "accps",
    "accpslog",
    "trcolumns",
    "rawlog",
    "rawbatt",
    "therm",
    "thermlog",
    "assertions",
    "assertionslog",
    "sysload",
    "sysloadlog",
    "useractivitylog",
    "useractivity",
    "log",
    "listen",
    "history",
    "historydetailed",
    "hidnull",
    "fba",
    "userclients",
    "uuid",
    "uuidlog",
    "getters",
    "searchforuuid",
    "powerstate",
    "powerstatelog",
    "stats",
    "systemstate",
    "sleepblockers",
    "everything",
];

/// One pmset run: output so far, and the changes parsed.
struct Run {
    stdout: String,
    stderr: String,
    /// The settings as they were before this run (what getters show).
    saved: PowerState,
    /// The settings with this run's changes.
    state: PowerState,
    /// The preferences as changed by the parsed settings, if any were parsed.
    modified: bool,
    system: BTreeMap<String, bool>,
    restore_defaults: bool,
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    run_as(machine, "pmset", args)
}

/// `pmset` invoked as `argv0` (pmset.m prints argv[0] in its root message).
pub fn run_as(machine: &Machine, argv0: &str, args: &[String]) -> Output {
    if args.is_empty() {
        return Output {
            status: 1,
            stdout: USAGE.to_string(),
            stderr: String::new(),
        };
    }
    let hw = hardware(machine);
    let saved = load(machine);
    let mut run = Run {
        stdout: String::new(),
        stderr: String::new(),
        state: saved.clone(),
        saved,
        modified: false,
        system: BTreeMap::new(),
        restore_defaults: false,
    };
    if let Err(status) = parse(&mut run, &hw, args) {
        if status == 0 {
            return Output {
                status: 1,
                stdout: format!("{}{USAGE}", run.stdout),
                stderr: run.stderr,
            };
        }
        return Output {
            status,
            stdout: run.stdout,
            stderr: run.stderr,
        };
    }
    apply(machine, argv0, run)
}

/// parseArgs(). `Err(0)` is kParseBadArgs (usage, status 1); another `Err(n)` ends the run
/// with status n and what has been printed.
fn parse(run: &mut Run, hw: &Hardware, args: &[String]) -> Result<(), i32> {
    let all: Vec<String> = run.state.profiles.keys().cloned().collect();
    let mut apply: Vec<String> = all.clone();
    let mut i = 0;
    while i < args.len() {
        let keyword = args[i].to_lowercase();
        let value = args.get(i + 1).map(String::as_str);
        if keyword.starts_with('-') && !keyword.starts_with("-1") {
            let has = |name: &str| all.iter().any(|n| n == name);
            match keyword.chars().nth(1) {
                Some('a') => apply = all.clone(),
                Some('b') => {
                    apply = if has(BATTERY_POWER) {
                        vec![BATTERY_POWER.to_string()]
                    } else {
                        Vec::new()
                    }
                }
                Some('c') => {
                    apply = if has(AC_POWER) {
                        vec![AC_POWER.to_string()]
                    } else {
                        Vec::new()
                    }
                }
                Some('u') => apply = Vec::new(),
                Some('g') if keyword.len() == 2 => {
                    return getter(run, hw, value);
                }
                _ => return Err(0),
            }
            i += 1;
            continue;
        }
        if keyword == "restoredefaults" {
            run.restore_defaults = true;
            return Ok(());
        }
        if keyword == "disablesleep" {
            // strtol base 10 over the whole word; a missing value is skipped.
            if let Some(text) = value {
                let text = text.trim_start();
                let number = if text.is_empty() {
                    0
                } else {
                    text.parse::<i64>().map_err(|_| 0)?
                };
                run.system.insert("SleepDisabled".into(), number != 0);
            }
            i += 2;
            continue;
        }
        if keyword == "lowpowermode" || keyword == "powermode" {
            set_power_mode(run, hw, &apply, value)?;
            i += 2;
            continue;
        }
        if keyword == "hibernatefile" {
            let Some(text) = value else { return Err(0) };
            for source in &apply {
                set(run, source, "hibernatefile", Value::from(text));
            }
            run.modified = true;
            i += 2;
            continue;
        }
        if let Some((name, on_off)) = int_setting(&keyword) {
            if keyword == "tcpkeepalive" && value.is_some_and(|v| strtol(v).unwrap_or(0) == 0) {
                run.stdout.push_str(
                    "Warning: This option disables TCP Keep Alive mechanism when sytem is \
                     sleeping. This will result in some critical features like 'Find My Mac' \
                     not to function properly.\n",
                );
            }
            if keyword == "hibernatemode" && !matches!(value, Some("0" | "3" | "25")) {
                return Err(0);
            }
            let number = value.and_then(strtol);
            let number = match number {
                Some(n) if n >= 0 || on_off => {
                    if on_off {
                        i64::from(n != 0)
                    } else {
                        n
                    }
                }
                _ if keyword == "autopoweroff" || keyword == "autopoweroffdelay" => {
                    // pmset.m jumps to exit without flagging bad arguments.
                    return Ok(());
                }
                _ => return Err(0),
            };
            for source in &apply {
                set(run, source, name, Value::from(number));
            }
            run.modified = true;
            i += 2;
            continue;
        }
        if NOT_EMULATED.contains(&keyword.as_str()) {
            run.stderr.push_str(&format!(
                "pmset: `{keyword}` is not emulated by macllm's sandbox\n"
            ));
            return Err(1);
        }
        return Err(0);
    }
    Ok(())
}

fn set(run: &mut Run, source: &str, name: &str, value: Value) {
    if let Some(profile) = run.state.profiles.get_mut(source) {
        profile.insert(name.to_string(), value);
    }
}

/// `checkAndSetPowerModeIntValue`.
fn set_power_mode(
    run: &mut Run,
    hw: &Hardware,
    apply: &[String],
    value: Option<&str>,
) -> Result<(), i32> {
    let number = value.and_then(strtol).ok_or(0)?;
    if !(0..=2).contains(&number) {
        run.stdout.push_str(&format!("Unsupported mode {number}\n"));
        return Err(0);
    }
    for source in [BATTERY_POWER, AC_POWER] {
        if !apply.iter().any(|s| s == source) {
            continue;
        }
        let missing = match number {
            1 if !hw.low_power => Some("LowPowerMode"),
            2 if !hw.high_power => Some("HighPowerMode"),
            _ => None,
        };
        if let Some(feature) = missing {
            run.stdout
                .push_str(&format!("{feature} not supported on {source}\n"));
            return Err(0);
        }
    }
    for source in apply {
        set(run, source, "lowpowermode", Value::from(number));
    }
    run.modified = true;
    Ok(())
}

/// `-g WHAT`: prints, then parsing ends (settings parsed before it are still written).
fn getter(run: &mut Run, hw: &Hardware, what: Option<&str>) -> Result<(), i32> {
    let canonical = match what {
        None | Some("") | Some("live") => "live",
        Some("disk") | Some("custom") => "custom",
        Some("batt") => "ps",
        Some("ac") => "adapter",
        Some(other) => other,
    };
    match canonical {
        "live" => run.stdout.push_str(&show_live(&run.saved, hw)),
        "custom" => run.stdout.push_str(&show_custom(&run.saved, hw)),
        "cap" => run.stdout.push_str(&show_capabilities(hw)),
        other if GETTERS_NOT_EMULATED.contains(&other) => {
            run.stderr.push_str(&format!(
                "pmset: `-g {other}` is not emulated by macllm's sandbox\n"
            ));
            return Err(1);
        }
        other => {
            run.stdout
                .push_str(&format!("Error: unhandled argument {other}\n"));
            return Err(0);
        }
    }
    Ok(())
}

/// main(): write the preferences (root), then the system-wide settings.
fn apply(machine: &Machine, argv0: &str, mut run: Run) -> Output {
    let not_root = format!("'{argv0}' must be run as root...\n");
    let mut status = 0;
    if run.restore_defaults {
        if machine.is_root() {
            let mut fresh = stock(machine);
            fresh.system = run.state.system.clone();
            if let Err(err) = save(machine, &fresh) {
                return Output::failed(1, format!("pmset: {err:#}\n"));
            }
            run.stdout.push_str("Restored Default settings.\n");
        } else {
            run.stdout.push_str("You're not privileged.\n");
        }
        return Output {
            status: 0,
            stdout: run.stdout,
            stderr: run.stderr,
        };
    }
    let saved_state = run.saved.clone();
    let mut new_state = saved_state.clone();
    if run.modified {
        if !machine.is_root() {
            run.stdout.push_str(&not_root);
            return Output {
                status: 1,
                stdout: run.stdout,
                stderr: run.stderr,
            };
        }
        new_state.profiles = run.state.profiles.clone();
        run.stderr.push_str(&consistency_warnings(&new_state));
    }
    if !run.system.is_empty() {
        if machine.is_root() {
            new_state.system.extend(run.system.clone());
        } else {
            // IOPMSetSystemPowerSetting refused: the line, and pmset.m carries on (status 0).
            for _ in &run.system {
                run.stdout.push_str(&not_root);
            }
        }
    }
    if new_state != saved_state
        && let Err(err) = save(machine, &new_state)
    {
        run.stderr.push_str(&format!("pmset: {err:#}\n"));
        status = 1;
    }
    Output {
        status,
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

/// `checkSettingConsistency()` over every source.
fn consistency_warnings(state: &PowerState) -> String {
    let mut out = String::new();
    for source in source_order(state) {
        let profile = &state.profiles[&source];
        let get = |name: &str| profile.get(name).and_then(Value::as_i64);
        let (Some(sleep), Some(display), Some(disk)) =
            (get("sleep"), get("displaysleep"), get("disksleep"))
        else {
            continue;
        };
        if sleep == 0 {
            continue;
        }
        let display_bad = sleep != 1 && (display > sleep || display == 0);
        let disk_bad = disk == 0;
        if !display_bad && !disk_bad {
            continue;
        }
        let _ = writeln!(
            out,
            "Warning: Idle sleep timings for \"{source}\" may not behave as expected."
        );
        if display_bad {
            out.push_str("- Display sleep should have a lower timeout than system sleep.\n");
        }
        if disk_bad {
            out.push_str("- Disk sleep should be non-zero whenever system sleep is non-zero.\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! One test per emulated behaviour, each naming the capture or the part of pmset.m
    //! (PowerManagement-1846.0.25.0.1) it follows.

    use super::*;
    use crate::testing::{args, mac};

    fn pmset(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    fn sudo(machine: &mut Machine) {
        machine.info.uid = 0;
    }

    /// AppHouseKitchen/AlDente#603 (`pmset -g` on an M1 MacBook Pro, 2022): the same names,
    /// values and order, each ` %-20s %value`; no `SleepDisabled` line until it is set
    /// (matryer/xbar-plugins#1951).
    #[test]
    fn live_settings_match_the_m1_capture() {
        let (_dir, m) = mac("m1-8gb-monterey");
        let out = pmset(&m, &["-g"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (0, ""),
            "pmset -g needs no root"
        );
        assert_eq!(
            out.stdout,
            "System-wide power settings:\n\
             Currently in use:\n \
             standby              1\n \
             Sleep On Power Button 1\n \
             hibernatefile        /var/vm/sleepimage\n \
             powernap             1\n \
             networkoversleep     0\n \
             disksleep            10\n \
             sleep                1\n \
             hibernatemode        3\n \
             ttyskeepawake        1\n \
             displaysleep         10\n \
             tcpkeepalive         1\n \
             lowpowermode         0\n \
             womp                 1\n"
        );
        assert_eq!(pmset(&m, &["-g", "live"]).stdout, out.stdout);
    }

    /// `printf(" %-20s ", name)`: lines from fixtures pmset-g-desktop-2024.txt (a name over
    /// 20 characters pushes the value right) and pmset-g-hackintosh-intel-2020.txt (a name of
    /// exactly 20).
    #[test]
    fn column_format_matches_the_fixtures() {
        let hw = Hardware {
            battery: false,
            high_power: false,
            low_power: true,
        };
        let mut out = String::new();
        setting_line(&mut out, "Sleep On Power Button", &Value::from(1), &hw);
        setting_line(
            &mut out,
            "hibernatefile",
            &Value::from("/var/vm/sleepimage"),
            &hw,
        );
        setting_line(&mut out, "highstandbythreshold", &Value::from(50), &hw);
        setting_line(&mut out, "standbydelaylow", &Value::from(10800), &hw);
        assert_eq!(
            out,
            " Sleep On Power Button 1\n hibernatefile        /var/vm/sleepimage\n \
             highstandbythreshold 50\n standbydelaylow      10800\n"
        );
    }

    /// `show_power_profile`: one `NAME:` block per source, Battery Power first as in
    /// alfredapp/low-power-mode-workflow#6 (`pmset -g custom` on an M1 Max, with ` powermode
    /// 0` on hardware with High Power Mode); a Mac mini has only `AC Power:`.
    #[test]
    fn custom_shows_one_block_per_source() {
        let (_dir, m) = mac("m4max-64gb-sequoia");
        let out = pmset(&m, &["-g", "custom"]);
        assert!(
            out.stdout
                .starts_with("Battery Power:\n standby              1\n Sleep On Power Button 1\n")
        );
        assert!(
            out.stdout
                .contains("\nAC Power:\n standby              1\n")
        );
        assert!(out.stdout.contains(" powermode            0\n"));
        assert!(out.stdout.contains(" displaysleep         2\n"));
        assert_eq!(pmset(&m, &["-g", "disk"]).stdout, out.stdout);
        assert_eq!(pmset(&m, &["-b", "-g", "custom"]).stdout, out.stdout);
        let (_dir, mini) = mac("m2-16gb-sonoma");
        let out = pmset(&mini, &["-g", "custom"]);
        assert!(out.stdout.starts_with("AC Power:\n"));
        assert!(!out.stdout.contains("Battery Power:"));
        assert!(out.stdout.contains(" autorestart          0\n"));
    }

    /// main(): IOPMSetPMPreferences refused for non-root prints `'%s' must be run as
    /// root...` with argv[0] on STDOUT and exits 1 (reference 4.1); nothing changes.
    #[test]
    fn settings_need_root_and_say_so_on_stdout() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = pmset(&m, &["-a", "sleep", "0"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (1, "'pmset' must be run as root...\n", "")
        );
        let out = run_as(&m, "/usr/bin/pmset", &args(&["sleep", "0"]));
        assert_eq!(out.stdout, "'/usr/bin/pmset' must be run as root...\n");
        assert!(
            pmset(&m, &["-g"])
                .stdout
                .contains(" sleep                1\n")
        );
        assert!(!m.dir.join(STATE_FILE).exists());
    }

    /// parseArgs(): `-c` and `-b` pick one source, `-a` (or none) all; several settings in
    /// one call; kept in var/db/pmset.json. NIST mSCP sums `powernap` over `-g custom`
    /// (reference 4.1): 0 after `pmset -a powernap 0`.
    #[test]
    fn root_sets_settings_per_source() {
        let (_dir, mut m) = mac("m4max-64gb-sequoia");
        sudo(&mut m);
        let out = pmset(&m, &["-c", "sleep", "0", "displaysleep", "15"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (0, "", "")
        );
        let state = load(&m);
        assert_eq!(state.profiles[AC_POWER]["sleep"], Value::from(0));
        assert_eq!(state.profiles[AC_POWER]["displaysleep"], Value::from(15));
        assert_eq!(state.profiles[BATTERY_POWER]["sleep"], Value::from(1));
        assert!(
            pmset(&m, &["-g"])
                .stdout
                .contains(" sleep                0\n")
        );
        assert_eq!(pmset(&m, &["-a", "powernap", "0"]).status, 0);
        let custom = pmset(&m, &["-g", "custom"]).stdout;
        let sum: i64 = custom
            .lines()
            .filter(|line| line.contains("powernap"))
            .map(|line| {
                line.split_whitespace()
                    .nth(1)
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
            })
            .sum();
        assert_eq!(sum, 0);
        let text = std::fs::read_to_string(m.dir.join(STATE_FILE)).unwrap();
        assert!(text.contains("\"AC Power\""));
    }

    /// kParseBadArgs: unknown keyword, bad value, `hibernatemode` other than 0/3/25, a bad
    /// flag or no arguments: `Usage: pmset <options>` on stdout, status 1.
    #[test]
    fn bad_arguments_print_the_usage() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        sudo(&mut m);
        for list in [
            &["-a", "sleep", "abc"][..],
            &["-a", "sleep"],
            &["-a", "sleep", "-5"],
            &["hibernatemode", "5"],
            &["bogus", "1"],
            &["-x"],
            &["-gx"],
            &[],
        ] {
            let out = pmset(&m, list);
            assert_eq!(
                (out.status, out.stdout.as_str(), out.stderr.as_str()),
                (1, USAGE, ""),
                "{list:?}"
            );
        }
        let out = pmset(&m, &["-g", "bogus"]);
        assert_eq!(
            out.stdout,
            format!("Error: unhandled argument bogus\n{USAGE}")
        );
        assert_eq!(load(&m), stock(&m));
    }

    /// checkAndSetIntValue(): strtol base 0 (hex, octal), on/off settings store non-zero as
    /// 1; keywords are lowercased; `-b` on a Mac without a battery changes nothing.
    #[test]
    fn values_are_read_like_strtol() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        sudo(&mut m);
        assert_eq!(
            pmset(&m, &["SLEEP", "0x1e", "womp", "5", "disksleep", "010"]).status,
            0
        );
        let ac = &load(&m).profiles[AC_POWER];
        assert_eq!(
            (&ac["sleep"], &ac["womp"], &ac["disksleep"]),
            (&Value::from(30), &Value::from(1), &Value::from(8))
        );
        let before = load(&m);
        assert_eq!(pmset(&m, &["-b", "sleep", "5"]).status, 0);
        assert_eq!(load(&m), before);
    }

    /// `disablesleep` is system-wide (IOPMSetSystemPowerSetting): ` SleepDisabled\t\t1` under
    /// `System-wide power settings:`; refused for non-root with the same stdout line, but
    /// pmset.m does not exit 1 for it.
    #[test]
    fn disablesleep_is_system_wide() {
        let (_dir, mut m) = mac("m1-8gb-monterey");
        let out = pmset(&m, &["-a", "disablesleep", "1"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (0, "'pmset' must be run as root...\n")
        );
        assert!(!pmset(&m, &["-g"]).stdout.contains("SleepDisabled"));
        sudo(&mut m);
        assert_eq!(pmset(&m, &["-a", "disablesleep", "1"]).status, 0);
        assert!(
            pmset(&m, &["-g"]).stdout.starts_with(
                "System-wide power settings:\n SleepDisabled\t\t1\nCurrently in use:\n"
            )
        );
        assert_eq!(pmset(&m, &["disablesleep", "0"]).status, 0);
        assert!(pmset(&m, &["-g"]).stdout.contains(" SleepDisabled\t\t0\n"));
    }

    /// parseArgs() warns on stdout for `tcpkeepalive 0`; checkSettingConsistency() warns on
    /// stderr when disk sleep is 0 while system sleep is not.
    #[test]
    fn warnings_follow_pmset_m() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        sudo(&mut m);
        let out = pmset(&m, &["-a", "tcpkeepalive", "0"]);
        assert!(
            out.stdout
                .starts_with("Warning: This option disables TCP Keep Alive")
        );
        assert_eq!(out.status, 0);
        let out = pmset(&m, &["-a", "disksleep", "0"]);
        assert_eq!(
            out.stderr,
            "Warning: Idle sleep timings for \"AC Power\" may not behave as expected.\n\
             - Disk sleep should be non-zero whenever system sleep is non-zero.\n"
        );
        assert_eq!(out.status, 0);
    }

    /// checkAndSetPowerModeIntValue(): 0..2 only (`Unsupported mode N`), 2 needs High Power
    /// Mode (`HighPowerMode not supported on AC Power`); shown as `powermode` where High
    /// Power Mode exists.
    #[test]
    fn power_mode_follows_the_hardware() {
        let (_dir, mut mini) = mac("m2-16gb-sonoma");
        sudo(&mut mini);
        let out = pmset(&mini, &["-a", "lowpowermode", "2"]);
        assert_eq!(
            (out.status, out.stdout.clone()),
            (
                1,
                format!("HighPowerMode not supported on AC Power\n{USAGE}")
            )
        );
        let out = pmset(&mini, &["-a", "lowpowermode", "3"]);
        assert_eq!(out.stdout, format!("Unsupported mode 3\n{USAGE}"));
        assert_eq!(pmset(&mini, &["-a", "lowpowermode", "1"]).status, 0);
        assert!(
            pmset(&mini, &["-g"])
                .stdout
                .contains(" lowpowermode         1\n")
        );
        let (_dir, mut mbp) = mac("m4max-64gb-sequoia");
        sudo(&mut mbp);
        assert_eq!(pmset(&mbp, &["-a", "powermode", "2"]).status, 0);
        assert!(
            pmset(&mbp, &["-g"])
                .stdout
                .contains(" powermode            2\n")
        );
    }

    /// pmset.m at PowerManagement-1846.0.25.0.1 (apple-oss-distributions/PowerManagement,
    /// commit d415e45501842834a280930c3eed9186544a67f0): lines 1143-1153 print the
    /// `LowPowerMode` setting as `powermode` when `IOPMFeatureIsAvailable(HighPowerMode)`, never
    /// `lowpowermode` next to it; `checkAndSetPowerModeIntValue` (4422-4507) takes strtol base
    /// 0 over the whole word, prints `Unsupported mode %ld` outside 0..2, checks battery before
    /// AC, and writes only after every check passed. An M4 Pro Mac mini has High Power Mode.
    #[test]
    fn powermode_on_a_high_power_mac_follows_check_and_set_power_mode() {
        let (_dir, mut m) = mac("m4pro-48gb-sequoia");
        let custom = pmset(&m, &["-g", "custom"]).stdout;
        assert!(custom.contains("\n powermode            0\n"), "{custom}");
        assert!(!custom.contains("lowpowermode"), "{custom}");
        assert_eq!(
            pmset(&m, &["-a", "powermode", "2"]).stdout,
            "'pmset' must be run as root...\n"
        );
        sudo(&mut m);
        for (value, stored) in [("2", 2), ("1", 1), ("0x2", 2), ("0", 0)] {
            let out = pmset(&m, &["-a", "powermode", value]);
            assert_eq!(
                (out.status, out.stdout.as_str(), out.stderr.as_str()),
                (0, "", ""),
                "{value}"
            );
            assert_eq!(
                load(&m).profiles[AC_POWER]["lowpowermode"],
                Value::from(stored)
            );
            assert!(
                pmset(&m, &["-g", "custom"])
                    .stdout
                    .contains(&format!(" powermode            {stored}\n"))
            );
        }
        let before = load(&m);
        for (value, said) in [
            ("3", "Unsupported mode 3\n"),
            ("-1", "Unsupported mode -1\n"),
            ("abc", ""),
            ("2x", ""),
        ] {
            let out = pmset(&m, &["-a", "powermode", value, "sleep", "0"]);
            assert_eq!(
                (out.status, out.stdout.clone(), out.stderr.as_str()),
                (1, format!("{said}{USAGE}"), ""),
                "{value}"
            );
        }
        let out = pmset(&m, &["-a", "powermode"]);
        assert_eq!((out.status, out.stdout.as_str()), (1, USAGE));
        assert_eq!(load(&m), before, "nothing written after a refused value");
        let (_dir, mut mini) = mac("m2-16gb-sonoma");
        sudo(&mut mini);
        let out = pmset(&mini, &["-a", "powermode", "2"]);
        assert_eq!(
            out.stdout,
            format!("HighPowerMode not supported on AC Power\n{USAGE}")
        );
        assert!(
            pmset(&mini, &["-g", "custom"])
                .stdout
                .contains(" lowpowermode         0\n")
        );
    }

    /// `show_supported_pm_features`: `Capabilities for AC Power:` and the names, in
    /// `all_features` order.
    #[test]
    fn capabilities_list_supported_settings() {
        let (_dir, m) = mac("m4pro-48gb-sequoia");
        let out = pmset(&m, &["-g", "cap"]).stdout;
        assert!(out.starts_with("Capabilities for AC Power:\n displaysleep\n disksleep\n"));
        assert!(out.contains(" autorestart\n"));
        assert!(out.contains(" highpowermode\n"));
        assert!(!out.contains("standbydelaylow"));
    }

    /// `restoredefaults`: `Restored Default settings.` as root, `You're not privileged.`
    /// otherwise, status 0 both ways.
    #[test]
    fn restoredefaults_returns_to_stock() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        let out = pmset(&m, &["restoredefaults"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (0, "You're not privileged.\n")
        );
        sudo(&mut m);
        pmset(&m, &["sleep", "0"]);
        let out = pmset(&m, &["restoredefaults"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (0, "Restored Default settings.\n")
        );
        assert_eq!(load(&m), stock(&m));
    }
}
