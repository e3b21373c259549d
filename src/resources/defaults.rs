//! A `defaults` key: typed reads through `defaults export DOMAIN -` (one per domain per plan,
//! thanks to the read cache), writes through `defaults write` with argv only, and the table of
//! what must restart for a domain's change to take effect.

use super::{AnyResource, Resource, ResourceId, Restart, Restarted};
use crate::host::{Invocation, Output};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::hash::Hasher;
use std::rc::Rc;

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
    fn export(&self, target: &Target) -> Result<Option<Rc<(String, Value)>>> {
        let invocation = self.export_invocation(target)?;
        let output = target.host().run(&invocation)?;
        if !output.success() {
            if output.stderr.contains("does not exist") {
                return Ok(None);
            }
            return output.require_success(&invocation).map(|_| None);
        }
        // Every key of a domain reads the same export: each distinct text is parsed once per
        // run (a domain of N keys would otherwise cost N parses of N keys), and a text that
        // only shares the hash of an earlier one is parsed on its own.
        let parse = || -> Result<Value> {
            let parsed = plist::Value::from_reader_xml(output.stdout.as_bytes())
                .with_context(|| format!("`{}` printed no property list", invocation.display()))?;
            Value::from_plist(&parsed)
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&output.stdout, &mut hasher);
        let question = format!("defaults export parsed {:016x}", hasher.finish());
        let known: Rc<(String, Value)> =
            target.once(&question, || Ok(Rc::new((output.stdout.clone(), parse()?))))?;
        if known.0 == output.stdout {
            return Ok(Some(known));
        }
        Ok(Some(Rc::new((String::new(), parse()?))))
    }

    fn export_invocation(&self, target: &Target) -> Result<Invocation> {
        self.as_owner(
            target,
            self.invocation(&["export", &self.domain, "-"], false),
        )
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

    /// Whether writing `value` must keep it off the command line: it holds a secret, or this
    /// key is a sensitive one as the state records it (masked), whose original destroy
    /// restores is an earlier secret.
    fn sensitive(&self, value: &Value) -> bool {
        let masked = |text: &str| text.contains(crate::mask::MASK);
        super::agents::holds_secret(value)
            || self
                .value
                .as_ref()
                .is_some_and(|own| super::agents::any_string(own, &masked))
    }

    /// `defaults import DOMAIN -` with the domain as it is plus `value` at the key: the one
    /// way to give `defaults` a value on stdin rather than on its command line, where every
    /// user of the Mac can read it in `ps`. Import takes a whole domain (man defaults: "writes
    /// the plist at path to domain"; chef/chef#10086 proposes exactly this export, change,
    /// `import DOMAIN -` sequence), so the domain is read first and sent back whole: the
    /// result is the same whether import replaces the domain or merges into it (which of the
    /// two Apple's tool does is UNCONFIRMED, reference 1.8). A key an app changes between the
    /// read and the import is lost, so this is used only for values that hold a secret.
    fn import_with(&self, target: &Target, value: &Value) -> Result<Invocation> {
        let mut keys = match self.export(target)?.as_ref().map(|known| &known.1) {
            Some(Value::Dict(keys)) => keys.clone(),
            None => Default::default(),
            Some(other) => bail!(
                "`defaults export {}` gave a {} instead of a dictionary",
                self.domain,
                other.type_name()
            ),
        };
        keys.insert(self.key.clone(), value.clone());
        Ok(self
            .invocation(&["import", &self.domain, "-"], true)
            .with_stdin(Value::Dict(keys).to_xml_document().into_bytes()))
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
        Ok(match self.export(target)?.as_ref().map(|known| &known.1) {
            Some(Value::Dict(keys)) => keys.get(&self.key).cloned(),
            Some(other) => bail!(
                "`defaults export {}` gave a {} instead of a dictionary",
                self.domain,
                other.type_name()
            ),
            None => None,
        })
    }

    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        Ok(vec![self.export_invocation(target)?])
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let invocation = match value {
            Some(value) if self.sensitive(value) => {
                self.as_owner(target, self.import_with(target, value)?)?
            }
            _ => self
                .write_invocation(target, value)?
                .context("a defaults key is written by one command")?,
        };
        let output = target.host().run(&invocation)?;
        self.written(target, value, &invocation, output)
    }

    /// `None` for a secret: its import sends the whole domain as read just before, so it
    /// goes on its own, never in a batch with other writes to the domain.
    fn write_invocation(
        &self,
        target: &Target,
        value: Option<&Value>,
    ) -> Result<Option<Invocation>> {
        let invocation = match value {
            Some(value) if self.sensitive(value) => return Ok(None),
            Some(value) => {
                let mut tail = vec!["write".to_string(), self.domain.clone(), self.key.clone()];
                tail.extend(DefaultsKey::write_args(value));
                let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
                self.invocation(&tail, true)
            }
            None => self.invocation(&["delete", &self.domain, &self.key], true),
        };
        self.as_owner(target, invocation).map(Some)
    }

    fn written(
        &self,
        target: &Target,
        value: Option<&Value>,
        invocation: &Invocation,
        output: Output,
    ) -> Result<()> {
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
        output.require_success(invocation)?;
        if SANDBOXED_APPS.contains(&self.domain.as_str()) {
            // Said again where the apply reports success: the read-back that follows proves
            // only that `defaults` holds the value (see `SANDBOXED_APPS`).
            target.warn(format!(
                "{}: read back as written, which does not prove the app sees it: without Full \
                 Disk Access for the terminal, `defaults` wrote ~/Library/Preferences/{}.plist \
                 instead of the app's container",
                self.id(),
                self.domain
            ));
        }
        Ok(())
    }

    fn restart(&self) -> Option<Restart> {
        restart_for(&self.domain)
    }

    fn needs_root(&self) -> bool {
        self.domain.starts_with("/Library/")
    }

    /// Said on every plan: a converged read-back does not show that the app has the value.
    fn warnings(&self) -> Vec<String> {
        if SANDBOXED_APPS.contains(&self.domain.as_str()) {
            let domain = &self.domain;
            return vec![format!(
                "{}: {domain} belongs to a sandboxed app, which reads \
                 ~/Library/Containers/{domain}/Data/Library/Preferences/{domain}.plist; \
                 `defaults` writes there only if the terminal has Full Disk Access (System \
                 Settings > Privacy & Security), otherwise to \
                 ~/Library/Preferences/{domain}.plist, which the app ignores, and reading the \
                 value back cannot tell the two apart",
                self.id()
            )];
        }
        Vec::new()
    }

    /// Said only when the key is written.
    fn notices(&self) -> Vec<String> {
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

/// Apple's sandboxed apps whose preferences live in their container,
/// `~/Library/Containers/<id>/Data/Library/Preferences/<id>.plist`, which `defaults` reaches
/// only from a terminal with Full Disk Access; without it `defaults` silently reads and writes
/// `~/Library/Preferences/<id>.plist`, which the app ignores, so a read-back "converges" while
/// the app never sees the value. Safari: lapcatsoftware.com "macOS Containers and defaults"
/// (sandboxed since Safari 13), 0xmachos/mOSL#18, nix-darwin/nix-darwin#1111,
/// ikuwow/dotfiles#8 (macOS 26.5). Mail: SparkPost/support-docs "Using SparkPost with Mac
/// Mail" (`defaults read com.apple.mail` names the container), jeroenj/chef-elephant. TextEdit:
/// `man defaults` ("filepath", the TextEdit container example). Preview: public dotfiles
/// write `~/Library/Containers/com.apple.Preview/Data/Library/Preferences/com.apple.Preview`.
/// Third-party sandboxed apps are not known here (p0deje/Maccy#749, odlp/bluesnooze#59).
const SANDBOXED_APPS: &[&str] = &[
    "com.apple.Safari",
    "com.apple.mail",
    "com.apple.TextEdit",
    "com.apple.Preview",
];

/// Which app must restart for a domain's change to show (reference 1.9's restart map:
/// nix-darwin kills Dock after dock writes; mathiasbynens/dotfiles `.macos` kills Finder and
/// SystemUIServer; global-domain changes reach running apps after `activateSettings -u`
/// before macOS 14, and from 14 only partly: [`activated`]).
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

/// What an `activateSettings -u` that exited 0 did for `owed`, the changes that needed it.
/// Before macOS 14 it applies them without a logout (nix-darwin/nix-darwin#658, Ventura 13.4:
/// tap-to-click "can be activated immediately"). From 14 it runs but leaves many settings for
/// the next login (ryan4yin/nix-darwin-kickstarter#4, Sonoma: "activateSettings executed but
/// it doesn't take effect", "you need re-login for it to work"), so it is not reported as
/// having applied them: a warning names the changes that need a logout. The host's facts
/// decide (read once per apply); a host whose version cannot be read gets the warning.
pub fn activated(target: &Target, owed: &[&AnyResource]) -> Restarted {
    let version = target.facts().ok().map(|facts| facts.macos_version.clone());
    let major = version
        .as_deref()
        .and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    if major.is_some_and(|major| major < 14) {
        return Restarted::Done(format!(
            "Restarted: {}",
            Restart::ActivateSettings.describe()
        ));
    }
    let on = match &version {
        Some(version) => format!("on macOS {version}"),
        None => "on macOS 14 and newer".to_string(),
    };
    let ids: Vec<String> = owed.iter().map(|r| r.as_resource().id().0).collect();
    let what = if ids.is_empty() {
        "the removed keys".to_string()
    } else {
        ids.join(", ")
    };
    Restarted::Warning(format!(
        "ran `activateSettings -u`, but {on} it does not apply every setting: log out and back \
         in for {what} to take effect"
    ))
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

    /// A sandboxed app's domain warns that Full Disk Access decides where the value goes;
    /// other domains do not.
    #[test]
    fn sandboxed_apps_warn_about_full_disk_access() {
        let key = |domain: &str| DefaultsKey {
            domain: domain.into(),
            key: "k".into(),
            current_host: false,
            value: Some(Value::Bool(true)),
        };
        let warnings = key("com.apple.Safari").warnings();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(
                "defaults:com.apple.Safari:k: com.apple.Safari belongs to a sandboxed app"
            ) && warnings[0].contains("Full Disk Access"),
            "{warnings:?}"
        );
        assert!(key("com.apple.dock").warnings().is_empty());
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
