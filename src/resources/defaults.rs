//! A `defaults` key: typed reads through `defaults export DOMAIN -` (one per domain per plan,
//! thanks to the read cache), writes through `defaults write` with argv only, and the table of
//! what must restart for a domain's change to take effect.

use super::{Resource, ResourceId, Restart};
use crate::host::Invocation;
use crate::target::Target;
use crate::value::Value;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefaultsKey {
    /// Canonical: `-g` and `-globalDomain` are stored as `NSGlobalDomain`.
    pub domain: String,
    pub key: String,
    pub current_host: bool,
    /// `None`: the key must not be set.
    pub value: Option<Value>,
}

/// The global domain's spellings (reference/macos-commands.md 1.2).
pub fn canonical_domain(domain: &str) -> String {
    match domain {
        "-g" | "-globalDomain" | "NSGlobalDomain" => "NSGlobalDomain".to_string(),
        other => other.to_string(),
    }
}

pub fn id_for(domain: &str, key: &str, current_host: bool) -> ResourceId {
    let scope = if current_host { "currentHost:" } else { "" };
    ResourceId(format!("defaults:{scope}{domain}:{key}"))
}

impl DefaultsKey {
    fn argv_prefix(&self) -> Vec<String> {
        let mut argv = vec!["defaults".to_string()];
        if self.current_host {
            argv.push("-currentHost".to_string());
        }
        argv
    }

    fn invocation(&self, tail: &[&str], write: bool) -> Invocation {
        let argv = self
            .argv_prefix()
            .into_iter()
            .chain(tail.iter().map(|s| s.to_string()));
        if write {
            Invocation::write(argv)
        } else {
            Invocation::read(argv)
        }
    }

    /// The whole domain, typed. A missing domain is an empty one: `defaults` reports it with
    /// exit 1 and "Domain X does not exist" (reference 1.4, fixture
    /// defaults-read-missing-domain.txt); an empty `<dict/>` is accepted too.
    fn export(&self, target: &Target) -> Result<Option<Value>> {
        let invocation = self.as_owner(
            target,
            self.invocation(&["export", &self.domain, "-"], false),
        )?;
        let output = target.host().run(&invocation)?;
        if !output.success() {
            if output.stderr.contains("does not exist") {
                return Ok(None);
            }
            return output.require_success(&invocation).map(|_| None);
        }
        let parsed = plist::Value::from_reader_xml(output.stdout.as_bytes())
            .with_context(|| format!("`{}` printed no property list", invocation.display()))?;
        Value::from_plist(&parsed).map(Some)
    }

    /// Run as the user unless the domain is root's (a system domain): under sudo a plain
    /// `defaults` reads and writes root's own preferences (reference/real-mac.md, "Root, sudo
    /// and users").
    fn as_owner(&self, target: &Target, invocation: Invocation) -> Result<Invocation> {
        if self.needs_root() {
            Ok(invocation)
        } else {
            target.as_user(invocation)
        }
    }

    /// The argv tail that writes `value` exactly.
    ///
    /// Scalars use the type flags (`-bool`, `-int`, `-string`, `-data`). Floats, dates and
    /// collections go as an XML plist document, as nix-darwin writes every value
    /// (reference 1.6): `-float` parses with `floatValue` in the reference re-implementation,
    /// which would lose double precision, and `-date` parses local-time text.
    fn write_args(value: &Value) -> Vec<String> {
        match value {
            Value::Bool(b) => vec!["-bool".into(), b.to_string()],
            Value::Integer(i) => vec!["-int".into(), i.to_string()],
            Value::String(s) => vec!["-string".into(), s.clone()],
            Value::Data(hex) => vec!["-data".into(), hex.clone()],
            Value::Float(_) | Value::Date(_) | Value::Array(_) | Value::Dict(_) => {
                vec![value.to_xml_document()]
            }
        }
    }
}

impl Resource for DefaultsKey {
    fn id(&self) -> ResourceId {
        id_for(&self.domain, &self.key, self.current_host)
    }

    fn noun(&self) -> &'static str {
        "a defaults key"
    }

    fn desired(&self) -> Option<Value> {
        self.value.clone()
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        Ok(match self.export(target)? {
            Some(Value::Dict(mut keys)) => keys.remove(&self.key),
            Some(other) => bail!(
                "`defaults export {}` gave a {} instead of a dictionary",
                self.domain,
                other.type_name()
            ),
            None => None,
        })
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let invocation = match value {
            Some(value) => {
                let mut tail = vec!["write".to_string(), self.domain.clone(), self.key.clone()];
                tail.extend(DefaultsKey::write_args(value));
                let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
                self.invocation(&tail, true)
            }
            None => self.invocation(&["delete", &self.domain, &self.key], true),
        };
        let invocation = self.as_owner(target, invocation)?;
        let output = target.host().run(&invocation)?;
        // `defaults delete` of a missing key is an error (reference 1.7); a key that is
        // already gone is what deleting wanted, as Ansible's osx_defaults treats it.
        if value.is_none() && !output.success() && self.read(target)?.is_none() {
            return Ok(());
        }
        if !output.success() && output.stderr.contains("Could not write domain") {
            bail!(
                "macOS refused to write `{}` ({}){}",
                self.domain,
                output.stderr.trim(),
                if self.domain == "com.apple.universalaccess" {
                    "\nhint: give your terminal Full Disk Access in System Settings > Privacy & Security"
                } else {
                    ""
                }
            );
        }
        output.require_success(&invocation).map(|_| ())
    }

    fn restart(&self) -> Option<Restart> {
        restart_for(&self.domain)
    }

    fn needs_root(&self) -> bool {
        self.domain.starts_with("/Library/")
    }

    fn warnings(&self) -> Vec<String> {
        if self.domain == "com.apple.universalaccess" {
            // adrw/.files#65 (fixture defaults-write-universalaccess-refused.txt): refused from
            // a terminal without Full Disk Access.
            return vec![format!(
                "{}: writing com.apple.universalaccess needs Full Disk Access for the terminal",
                self.id()
            )];
        }
        Vec::new()
    }
}

/// Which app must restart for a domain's change to show (reference 1.9's restart map:
/// nix-darwin kills Dock after dock writes; mathiasbynens/dotfiles `.macos` kills Finder and
/// SystemUIServer; global-domain changes reach running apps after `activateSettings -u`).
pub fn restart_for(domain: &str) -> Option<Restart> {
    let kill = |app: &str| Some(Restart::Kill(app.to_string()));
    match domain {
        "com.apple.dock" | "com.apple.spaces" => kill("Dock"),
        "com.apple.finder" | "com.apple.desktopservices" => kill("Finder"),
        "com.apple.systemuiserver" | "com.apple.screencapture" => kill("SystemUIServer"),
        d if d.starts_with("com.apple.menuextra.") => kill("SystemUIServer"),
        "NSGlobalDomain" | "com.apple.symbolichotkeys" => Some(Restart::ActivateSettings),
        "com.apple.universalaccess" => Some(Restart::Logout(
            "accessibility display settings are read at login".to_string(),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_scope_domain_and_key() {
        assert_eq!(
            id_for("com.apple.dock", "autohide", false).0,
            "defaults:com.apple.dock:autohide"
        );
        assert_eq!(
            id_for("NSGlobalDomain", "x", true).0,
            "defaults:currentHost:NSGlobalDomain:x"
        );
        assert_eq!(canonical_domain("-g"), "NSGlobalDomain");
    }

    #[test]
    fn scalars_use_type_flags_and_floats_go_as_xml() {
        assert_eq!(
            DefaultsKey::write_args(&Value::Bool(true)),
            vec!["-bool", "true"]
        );
        assert_eq!(
            DefaultsKey::write_args(&Value::Integer(-4)),
            vec!["-int", "-4"]
        );
        let float = DefaultsKey::write_args(&Value::Float(0.1));
        assert_eq!(float.len(), 1);
        assert!(float[0].contains("<real>0.1</real>"), "{}", float[0]);
    }

    #[test]
    fn restart_table() {
        assert_eq!(
            restart_for("com.apple.dock"),
            Some(Restart::Kill("Dock".into()))
        );
        assert_eq!(
            restart_for("com.apple.menuextra.clock"),
            Some(Restart::Kill("SystemUIServer".into()))
        );
        assert_eq!(
            restart_for("NSGlobalDomain"),
            Some(Restart::ActivateSettings)
        );
        assert_eq!(restart_for("com.example.app"), None);
    }
}
