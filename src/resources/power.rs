//! `pmset` settings for a Mac that serves models (sleep, disksleep, powernap, ...) and Time
//! Machine's automatic backups. Reads need no root (`pmset -g custom`, `defaults read`);
//! writes do (`pmset -a|-b|-c`, `tmutil enable|disable`): reference/macos-commands.md 4.1, 4.2.

use super::{Resource, ResourceId};
use crate::host::{Invocation, run_ok};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which power source a setting is for: pmset's `-a`, `-b`, `-c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    All,
    Battery,
    Charger,
}

impl Source {
    fn flag(self) -> &'static str {
        match self {
            Source::All => "-a",
            Source::Battery => "-b",
            Source::Charger => "-c",
        }
    }

    /// The `pmset -g custom` block headers this source covers.
    fn blocks(self) -> &'static [&'static str] {
        match self {
            Source::All => &["Battery Power", "AC Power"],
            Source::Battery => &["Battery Power"],
            Source::Charger => &["AC Power"],
        }
    }
}

/// What values a setting takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Minutes for the sleep timers (0 = never), or another count.
    Number,
    /// On or off: true/false, or 1/0.
    Switch,
    /// `powermode`: 0 automatic, 1 low power, 2 high power (pmset.m 4444-4448 refuses others).
    Mode,
}

/// Settings macllm manages, with the values they take. Names as pmset takes them (pmset.m).
///
/// `lowpowermode` and `powermode` are one setting (`LowPowerMode`) under two names: pmset
/// shows `powermode` on Macs with High Power Mode (M4 Pro Mac mini, M4 Max MacBook Pro) and
/// `lowpowermode` on the others, never both (apple-oss-distributions/PowerManagement
/// `pmset/pmset.m` 1143-1153, tag PowerManagement-1846.0.25.0.1, commit d415e45).
pub const SETTINGS: &[(&str, Kind)] = &[
    ("sleep", Kind::Number),
    ("displaysleep", Kind::Number),
    ("disksleep", Kind::Number),
    ("standby", Kind::Number),
    ("hibernatemode", Kind::Number),
    ("powernap", Kind::Switch),
    ("autorestart", Kind::Switch),
    ("womp", Kind::Switch),
    ("ttyskeepawake", Kind::Switch),
    ("tcpkeepalive", Kind::Switch),
    ("proximitywake", Kind::Switch),
    ("networkoversleep", Kind::Switch),
    ("lowpowermode", Kind::Switch),
    ("powermode", Kind::Mode),
];

/// The setting reported under `name`'s other name, and what to write instead, when a Mac
/// reports that one (pmset.m 1143-1153).
fn other_name(name: &str) -> Option<(&'static str, String)> {
    match name {
        "lowpowermode" => Some((
            "powermode",
            "this Mac has High Power Mode: its pmset reports `powermode` (0 automatic, 1 low \
             power, 2 high power) instead of `lowpowermode` (`pmset -g custom`)\n\
             hint: write `powermode: 1` for low power or `powermode: 0` for automatic"
                .to_string(),
        )),
        "powermode" => Some((
            "lowpowermode",
            "this Mac has no High Power Mode: its pmset reports `lowpowermode` (on or off) \
             instead of `powermode` (`pmset -g custom`)\n\
             hint: write `lowpowermode: true` for low power or `lowpowermode: false` for \
             automatic"
                .to_string(),
        )),
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerSetting {
    pub source: Source,
    pub name: String,
    pub value: i64,
}

/// `pmset -g custom`: per-source blocks (`Battery Power:`, `AC Power:`) of ` name   value`
/// lines in pmset's 20-column layout; parsed by name because the order is a dictionary's
/// (reference 4.1, fixtures pmset-g-*.txt).
pub fn parse_custom(text: &str) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut blocks: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('\t') && line.trim_end().ends_with(':') {
            current = Some(line.trim_end().trim_end_matches(':').to_string());
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(block), Some(name), Some(value)) = (&current, words.next(), words.next()) else {
            continue;
        };
        if let Ok(value) = value.parse() {
            blocks
                .entry(block.clone())
                .or_default()
                .insert(name.to_string(), value);
        }
    }
    blocks
}

impl Resource for PowerSetting {
    fn id(&self) -> ResourceId {
        ResourceId(match self.source {
            Source::All => format!("power:{}", self.name),
            Source::Battery => format!("power:battery:{}", self.name),
            Source::Charger => format!("power:charger:{}", self.name),
        })
    }

    fn noun(&self) -> &'static str {
        "a power setting"
    }

    fn desired(&self) -> Option<Value> {
        Some(Value::Integer(self.value))
    }

    /// One value when every covered source agrees, else `{source: value}` so a plan shows
    /// which one differs.
    fn reads(&self, _target: &Target) -> Result<Vec<Invocation>> {
        Ok(vec![Invocation::read(["pmset", "-g", "custom"])])
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let text = run_ok(target.host(), &Invocation::read(["pmset", "-g", "custom"]))?;
        let blocks = parse_custom(&text);
        let found: BTreeMap<String, Value> = self
            .source
            .blocks()
            .iter()
            .filter_map(|block| {
                let value = blocks.get(*block)?.get(&self.name)?;
                Some((block.to_string(), Value::Integer(*value)))
            })
            .collect();
        let present: Vec<&str> = self
            .source
            .blocks()
            .iter()
            .copied()
            .filter(|b| blocks.contains_key(*b))
            .collect();
        if present.is_empty() {
            bail!(
                "this Mac has no {} power source (`pmset -g custom` shows {})",
                self.source.blocks().join(" or "),
                blocks.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        if found.is_empty() {
            if let Some((other, message)) = other_name(&self.name)
                && present
                    .iter()
                    .any(|block| blocks[*block].contains_key(other))
            {
                bail!("{message}");
            }
            // pmset lists every setting a Mac supports; one it does not list cannot be
            // restored after a write (there is no "unset"), so refuse it before any change.
            bail!(
                "this Mac's pmset does not report `{}` for {} (`pmset -g custom`): the setting is not supported here",
                self.name,
                present.join(" or ")
            );
        }
        let mut values: Vec<&Value> = found.values().collect();
        values.dedup();
        Ok(match values.as_slice() {
            [] => None,
            [one] if found.len() == present.len() => Some((*one).clone()),
            _ => Some(Value::Dict(found)),
        })
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        // A per-source value (what `read` gives when sources differ, and so what destroy
        // restores) is written source by source.
        let writes: Vec<(&str, i64)> = match value {
            Some(Value::Integer(value)) => vec![(self.source.flag(), *value)],
            Some(Value::Dict(per_source)) => per_source
                .iter()
                .filter_map(|(block, value)| match (block.as_str(), value) {
                    ("Battery Power", Value::Integer(v)) => Some(("-b", *v)),
                    ("AC Power", Value::Integer(v)) => Some(("-c", *v)),
                    _ => None,
                })
                .collect(),
            _ => bail!(
                "pmset cannot unset `{}`; it had no value before macllm",
                self.name
            ),
        };
        for (flag, value) in writes {
            let value = value.to_string();
            run_ok(
                target.host(),
                &Invocation::write(["pmset", flag, &self.name, &value]),
            )?;
        }
        Ok(())
    }

    fn needs_root(&self) -> bool {
        true
    }
}

/// Time Machine's automatic backups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeMachine {
    pub automatic_backups: bool,
}

pub const TIME_MACHINE_DOMAIN: &str = "/Library/Preferences/com.apple.TimeMachine";

fn auto_backup_read() -> Invocation {
    Invocation::read(["defaults", "read", TIME_MACHINE_DOMAIN, "AutoBackup"])
}

impl Resource for TimeMachine {
    fn id(&self) -> ResourceId {
        ResourceId("time_machine:automatic_backups".to_string())
    }

    fn noun(&self) -> &'static str {
        "a Time Machine setting"
    }

    fn desired(&self) -> Option<Value> {
        Some(Value::Bool(self.automatic_backups))
    }

    fn reads(&self, _target: &Target) -> Result<Vec<Invocation>> {
        Ok(vec![auto_backup_read()])
    }

    /// `AutoBackup` in the system preferences; an absent key means enabled (NIST mSCP
    /// `system_settings_time_machine_auto_backup_enable`, reference 4.2).
    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let output = target.host().run(&auto_backup_read())?;
        Ok(Some(Value::Bool(
            !output.success() || output.stdout.trim() != "0",
        )))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let on = matches!(value, Some(Value::Bool(true)));
        run_ok(
            target.host(),
            &Invocation::write(["tmutil", if on { "enable" } else { "disable" }]),
        )?;
        Ok(())
    }

    fn needs_root(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_blocks_by_name() {
        let text = "Battery Power:\n Sleep On Power Button 1\n sleep                1\n powernap             0\nAC Power:\n sleep                0\n powernap             1\n";
        let blocks = parse_custom(text);
        assert_eq!(blocks["Battery Power"]["sleep"], 1);
        assert_eq!(blocks["AC Power"]["powernap"], 1);
        assert!(!blocks["Battery Power"].contains_key("Sleep"));
    }
}
