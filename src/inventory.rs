//! `--inventory FILE`: the Macs of a fleet, each with a name, where to reach it (`local`,
//! `sandbox:DIR`, `ssh:[USER@]NAME[:PORT]`), per-host `vars` for templates and groups, and
//! `user`: whose per-user settings to change when macllm reaches the Mac as root;
//! `--limit PATTERN` picks hosts or groups by name (`*` matches any run of characters).
//! Errors are located like spec errors.

use crate::spec::SpecError;
use crate::spec::locate::Segment;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    hosts: BTreeMap<String, HostEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostEntry {
    host: String,
    #[serde(default)]
    vars: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    user: Option<String>,
}

/// One Mac of the fleet.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub name: String,
    pub host: String,
    pub vars: serde_json::Value,
    pub groups: Vec<String>,
    /// The account whose settings per-user resources change when macllm runs there as root
    /// (`ssh:root@...`), as nix-darwin's `system.primaryUser`; see `facts::Facts::read`.
    pub user: Option<String>,
}

pub fn load(file: &Path, limit: Option<&str>) -> anyhow::Result<Vec<Member>> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| anyhow::anyhow!("cannot read inventory {}: {err}", file.display()))?;
    let parsed: InventoryFile = serde_yaml::from_str(&text)
        .map_err(|err| SpecError::from_yaml(file, &text, &err).with_suggestion())?;
    let mut members = Vec::new();
    for (name, entry) in parsed.hosts {
        let at = |field: &str, message: String| {
            SpecError::at(
                file,
                &text,
                &[
                    Segment::Key("hosts".into()),
                    Segment::Key(name.clone()),
                    Segment::Key(field.into()),
                ],
                message,
            )
        };
        let known = entry.host == "local"
            || entry.host.starts_with("sandbox:")
            || entry.host.starts_with("ssh:");
        if !known {
            return Err(at(
                "host",
                format!(
                    "`{}` is not `local`, `sandbox:DIR` or `ssh:[USER@]NAME[:PORT]`",
                    entry.host
                ),
            )
            .into());
        }
        let vars = serde_json::to_value(&entry.vars)
            .map_err(|err| at("vars", format!("vars cannot be used in templates: {err}")))?;
        members.push(Member {
            name,
            host: entry.host,
            vars,
            groups: entry.groups,
            user: entry.user,
        });
    }
    if let Some(pattern) = limit {
        members
            .retain(|m| matches(pattern, &m.name) || m.groups.iter().any(|g| matches(pattern, g)));
        if members.is_empty() {
            anyhow::bail!(
                "--limit {pattern} matches no host or group in {}",
                file.display()
            );
        }
    }
    Ok(members)
}

/// Glob with `*` only, over the whole name.
pub fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else {
                return false;
            };
            rest = after;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("lab-*", "lab-3"));
        assert!(matches("*", "anything"));
        assert!(matches("a*c*e", "abcde"));
        assert!(!matches("lab-*", "studio"));
        assert!(matches("studio", "studio"));
    }

    #[test]
    fn members_vars_groups_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fleet.yaml");
        std::fs::write(
            &file,
            "hosts:\n  a:\n    host: sandbox:a\n    vars: { ctx: 2048 }\n    groups: [lab]\n  b:\n    host: ssh:admin@b.lan\n  c:\n    host: ftp:c\n",
        )
        .unwrap();
        let err = load(&file, None).unwrap_err();
        let err = err.downcast::<SpecError>().unwrap();
        assert_eq!(err.line, 9);
        std::fs::write(
            &file,
            "hosts:\n  a:\n    host: sandbox:a\n    vars: { ctx: 2048 }\n    groups: [lab]\n  b:\n    host: ssh:admin@b.lan\n",
        )
        .unwrap();
        let members = load(&file, Some("lab")).unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].vars["ctx"], 2048);
        assert_eq!(load(&file, None).unwrap().len(), 2);
        assert!(load(&file, Some("nothing")).is_err());
    }
}
