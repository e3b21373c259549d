//! `macllm export mobileconfig`: the spec's `defaults` as an MDM configuration profile (an XML
//! property list), for fleets managed by an MDM server rather than by `macllm apply`.
//!
//! The profile holds one "Custom Settings" payload per preference domain, in the form MDM
//! servers push:
//!
//! ```text
//! PayloadType    = com.apple.ManagedClient.preferences
//! PayloadContent = { DOMAIN = { Forced = [ { mcx_preference_settings = { KEY = VALUE } } ] } }
//! ```
//!
//! Sources for that structure:
//! - Apple, Device Management, `ManagedPreferences` ("Specify
//!   com.apple.ManagedClient.preferences as the payload type"; the profile example nests
//!   `Forced` > array > `mcx_preference_settings`), and `ManagedPreferences.PayloadContent`:
//!   "The key names are application preference domain identifiers (for example,
//!   com.example.my-app), or the string .GlobalPreferences for the global domain. The values
//!   are the corresponding forced and set-once preferences."
//!   <https://developer.apple.com/documentation/devicemanagement/managedpreferences>
//!   (read through the mirror apple-docs.everest.mt and Averyy/apple-dev-docs).
//! - timsutton/mcxToProfile `mcxToProfile.py` (`addPayload`): the same nesting, `Forced` for
//!   MCX "Always" management; mosen/profiledocs `legacy_custom`: "Forced, which corresponds to
//!   the old MCX 'Always' setting. The setting is always managed".
//! - Rich Trouton (Der Flounder) on NSGlobalDomain and profiles (mirrored at
//!   rtrouton1.rssing.com/chan-7978339/article734.html): "you don't use NSGlobalDomain
//!   to define the preference domain when trying to manage their settings with a profile ...
//!   The preference domain in this case is .GlobalPreferences".
//! - Apple, `TopLevel` and `CommonPayloadKeys`: `PayloadType` `Configuration`,
//!   `PayloadVersion` 1, `PayloadScope` (`User` or `System`), and "During a profile
//!   replacement, the system updates payloads with the same PayloadIdentifier and PayloadUUID
//!   in the old and new profiles", which is why the UUIDs here are derived, not random.
//!
//! What a profile cannot say is skipped, each with its resource id and why:
//! - resources other than `defaults` (services, agents, Spotlight, power, Time Machine,
//!   Ollama): they are not preference keys;
//! - `absent: true`: `Forced`/`Set-Once` only set keys; there is no way to remove one;
//! - `current_host: true`: the payload names a domain and nothing else (Apple lists only
//!   `Forced` and `Set-Once` under a domain, and only `mcx_preference_settings` under each),
//!   so there is no host scope. Forced keys land in the domain's managed layer, not in its
//!   ByHost file, and an app that reads its ByHost preferences with the current-host scope
//!   does not see them (the screen saver, for one: managingosx.wordpress.com/2008/02/20/
//!   mcx-vs-the-screensaver-and-leopard/), so the setting would not mean what the spec says;
//! - system domains (`/Library/Preferences/NAME`): payloads name domains, not files, and this
//!   profile is user-scoped (`PayloadScope` `User`); turning the path into the bare name would
//!   manage the user's domain of that name instead, a different setting. A device
//!   (`System`-scope) profile is the way to manage these; `macllm apply` handles them today;
//! - values from `secret()`: a profile is a plain-text file, usually uploaded to an MDM
//!   server, and macllm never writes secrets to files (the state keeps a digest).

use crate::resources::defaults::DefaultsKey;
use crate::resources::{AnyResource, ResourceId};
use crate::spec::{Declared, Spec};
use crate::value::Value;
use anyhow::{Result, bail};
use sha2::Digest;

/// The profile identifier when none is given.
pub const DEFAULT_IDENTIFIER: &str = "com.macllm.profile";

/// How a profile addresses the global domain (`NSGlobalDomain`, `-g`).
pub const GLOBAL_PREFERENCES: &str = ".GlobalPreferences";

const MANAGED_PREFERENCES: &str = "com.apple.ManagedClient.preferences";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The profile's reverse-DNS `PayloadIdentifier`; each payload's is this plus `.DOMAIN`.
    /// Installing a profile with the same identifier replaces the earlier one.
    pub identifier: String,
    pub organization: Option<String>,
    /// Defaults to `macllm: SPEC-FILE-NAME`.
    pub display_name: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            identifier: DEFAULT_IDENTIFIER.to_string(),
            organization: None,
            display_name: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The `.mobileconfig` document (an XML property list), ending in a newline.
    pub xml: String,
    /// What the profile leaves out, one `RESOURCE-ID: why` line each, in spec order.
    pub skipped: Vec<String>,
}

/// One payload: a preference domain and the keys it forces, in spec order.
struct Payload {
    /// As the profile names it (`.GlobalPreferences` for the global domain).
    domain: String,
    settings: plist::Dictionary,
    /// Which resource set each key, to name it when another sets the same key.
    owners: Vec<(String, ResourceId)>,
}

/// Builds the profile. The output depends only on the spec and `options`, so exporting twice
/// gives the same bytes (and an MDM server sees an unchanged profile as unchanged).
pub fn mobileconfig(spec: &Spec, options: &Options) -> Result<Profile> {
    let identifier = options.identifier.trim();
    if identifier.is_empty()
        || identifier
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        bail!(
            "profile identifier `{}` must be a non-empty reverse-DNS name without spaces, like `{DEFAULT_IDENTIFIER}`",
            options.identifier
        );
    }
    let mut payloads: Vec<Payload> = Vec::new();
    let mut skipped = Vec::new();
    for declared in &spec.resources {
        let id = declared.resource.as_resource().id();
        let (key, value) = match exportable(declared) {
            Ok(found) => found,
            Err(why) => {
                skipped.push(format!("{id}: {why}"));
                continue;
            }
        };
        let domain = profile_domain(&key.domain);
        let index = match payloads.iter().position(|p| p.domain == domain) {
            Some(index) => index,
            None => {
                payloads.push(Payload {
                    domain: domain.to_string(),
                    settings: plist::Dictionary::new(),
                    owners: Vec::new(),
                });
                payloads.len() - 1
            }
        };
        let payload = &mut payloads[index];
        // Only reachable through the global domain's spellings (`NSGlobalDomain` and
        // `.GlobalPreferences` are one domain in a profile but two ids in a spec).
        if let Some((_, first)) = payload.owners.iter().find(|(k, _)| *k == key.key) {
            skipped.push(format!(
                "{id}: sets the same key of {domain} as `{first}`, which the profile keeps"
            ));
            continue;
        }
        payload.settings.insert(key.key.clone(), value.to_plist());
        payload.owners.push((key.key.clone(), id));
    }
    if payloads.is_empty() {
        let mut message =
            "nothing in the spec can be expressed as a configuration profile".to_string();
        for line in &skipped {
            message.push_str("\n  skipped ");
            message.push_str(line);
        }
        bail!(message);
    }

    let content: Vec<plist::Value> = payloads
        .into_iter()
        .map(|payload| payload_dict(identifier, payload))
        .collect();
    let display_name = options.display_name.clone().unwrap_or_else(|| {
        let file = spec
            .file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| spec.file.display().to_string());
        format!("macllm: {file}")
    });
    let mut top = plist::Dictionary::new();
    top.insert("PayloadType".into(), "Configuration".into());
    top.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
    top.insert("PayloadIdentifier".into(), identifier.into());
    top.insert("PayloadUUID".into(), stable_uuid(&[identifier]).into());
    top.insert("PayloadDisplayName".into(), display_name.into());
    if let Some(organization) = &options.organization {
        top.insert("PayloadOrganization".into(), organization.clone().into());
    }
    top.insert("PayloadScope".into(), "User".into());
    top.insert("PayloadContent".into(), plist::Value::Array(content));

    let mut buffer = Vec::new();
    plist::Value::Dictionary(top).to_writer_xml(&mut buffer)?;
    let mut xml = String::from_utf8(buffer)?;
    if !xml.ends_with('\n') {
        xml.push('\n');
    }
    Ok(Profile { xml, skipped })
}

/// The key and value to put in the profile, or why the resource stays out of it.
fn exportable(declared: &Declared) -> Result<(&DefaultsKey, &Value), String> {
    let key = match &declared.resource {
        AnyResource::Defaults(key) => key,
        other => {
            return Err(format!(
                "not expressible as a preference profile ({})",
                other.as_resource().noun()
            ));
        }
    };
    if key.current_host {
        return Err(
            "a ByHost preference (`current_host: true`): a profile names a domain only, \
             with no host scope, so it cannot set the per-host value"
                .to_string(),
        );
    }
    if key.domain.starts_with('/') {
        return Err(format!(
            "a system domain ({}): profiles name domains, not files, and this profile is \
             user-scoped; use a device (System-scope) profile or `macllm apply`",
            key.domain
        ));
    }
    let Some(value) = &key.value else {
        return Err(
            "`absent: true`: a profile can force a key's value but cannot remove the key"
                .to_string(),
        );
    };
    if declared.sensitive {
        return Err(
            "holds a value from `secret()`: a profile is plain text and macllm does not write \
             secrets to files"
                .to_string(),
        );
    }
    Ok((key, value))
}

/// The domain as a profile names it: the global domain is `.GlobalPreferences`.
pub fn profile_domain(domain: &str) -> &str {
    match domain {
        "NSGlobalDomain" | "-g" | "-globalDomain" | GLOBAL_PREFERENCES => GLOBAL_PREFERENCES,
        other => other,
    }
}

fn payload_dict(identifier: &str, payload: Payload) -> plist::Value {
    // The payload identifier uses the spec's spelling: `.GlobalPreferences` would make
    // `com.macllm.profile..GlobalPreferences`.
    let name = if payload.domain == GLOBAL_PREFERENCES {
        "NSGlobalDomain"
    } else {
        payload.domain.as_str()
    };
    let mut settings = plist::Dictionary::new();
    settings.insert(
        "mcx_preference_settings".into(),
        plist::Value::Dictionary(payload.settings),
    );
    let mut management = plist::Dictionary::new();
    management.insert(
        "Forced".into(),
        plist::Value::Array(vec![plist::Value::Dictionary(settings)]),
    );
    let mut domains = plist::Dictionary::new();
    domains.insert(payload.domain.clone(), plist::Value::Dictionary(management));

    let mut dict = plist::Dictionary::new();
    dict.insert("PayloadType".into(), MANAGED_PREFERENCES.into());
    dict.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
    dict.insert(
        "PayloadIdentifier".into(),
        format!("{identifier}.{name}").into(),
    );
    dict.insert(
        "PayloadUUID".into(),
        stable_uuid(&[identifier, &payload.domain]).into(),
    );
    dict.insert(
        "PayloadDisplayName".into(),
        format!("{name} preferences").into(),
    );
    dict.insert("PayloadContent".into(), plist::Value::Dictionary(domains));
    plist::Value::Dictionary(dict)
}

/// A UUID derived from `parts`: the first 16 bytes of a SHA-256 over them (NUL-separated,
/// which no identifier or domain contains), with the RFC 4122 version (5, name-based) and
/// variant bits set, as upper-case hex like `uuidgen` prints. Name-based like version 5,
/// though over SHA-256 rather than SHA-1 with a namespace.
fn stable_uuid(parts: &[&str]) -> String {
    let mut input = b"macllm mobileconfig".to_vec();
    for part in parts {
        input.push(0);
        input.extend_from_slice(part.as_bytes());
    }
    let mut bytes: [u8; 32] = sha2::Sha256::digest(&input).into();
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::value::hex_encode(&bytes[..16]).to_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SPEC: &str = "\
macllm: 1
defaults:
  - {domain: com.apple.dock, key: autohide, value: true}
  - {domain: com.apple.dock, key: tilesize, value: 36}
  - {domain: com.apple.dock, key: autohide-delay, value: 0.5}
  - {domain: com.apple.dock, key: persistent-apps, absent: true}
  - {domain: -g, key: AppleShowAllExtensions, value: true}
  - {domain: NSGlobalDomain, key: AppleInterfaceStyle, value: Dark}
  - {domain: com.example.app, key: Limits, value: {max: 3, ratio: 1.5, strict: false}}
  - {domain: com.example.app, key: Servers, value: [a.example, b.example]}
  - {domain: com.example.app, key: Since, value: '2024-01-31T12:00:00Z', type: date}
  - {domain: com.example.app, key: Blob, value: 00ff10, type: data}
  - {domain: com.apple.screensaver, key: idleTime, value: 600, current_host: true}
  - {domain: /Library/Preferences/com.apple.loginwindow, key: GuestEnabled, value: false}
services:
  - label: com.apple.photoanalysisd
    enabled: false
";

    fn spec(text: &str) -> Spec {
        Spec::parse(Path::new("t.yaml"), text.to_string(), Default::default()).unwrap()
    }

    fn parse(xml: &str) -> plist::Dictionary {
        plist::Value::from_reader_xml(xml.as_bytes())
            .unwrap()
            .into_dictionary()
            .unwrap()
    }

    fn string<'a>(dict: &'a plist::Dictionary, key: &str) -> &'a str {
        dict.get(key)
            .and_then(plist::Value::as_string)
            .unwrap_or_else(|| panic!("no string {key} in {dict:?}"))
    }

    fn payloads(top: &plist::Dictionary) -> Vec<plist::Dictionary> {
        top.get("PayloadContent")
            .and_then(plist::Value::as_array)
            .unwrap()
            .iter()
            .map(|p| p.as_dictionary().unwrap().clone())
            .collect()
    }

    /// `PayloadContent.DOMAIN.Forced[0].mcx_preference_settings`, checking the nesting.
    fn forced_settings(payload: &plist::Dictionary, domain: &str) -> plist::Dictionary {
        let content = payload
            .get("PayloadContent")
            .and_then(plist::Value::as_dictionary)
            .unwrap();
        assert_eq!(content.keys().collect::<Vec<_>>(), vec![domain]);
        let management = content[domain].as_dictionary().unwrap();
        assert_eq!(management.keys().collect::<Vec<_>>(), vec!["Forced"]);
        let forced = management["Forced"].as_array().unwrap();
        assert_eq!(forced.len(), 1);
        forced[0]
            .as_dictionary()
            .unwrap()
            .get("mcx_preference_settings")
            .and_then(plist::Value::as_dictionary)
            .unwrap()
            .clone()
    }

    fn is_uuid(text: &str) -> bool {
        let groups: Vec<&str> = text.split('-').collect();
        groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
            && groups
                .iter()
                .all(|g| g.chars().all(|c| matches!(c, '0'..='9' | 'A'..='F')))
            && groups[2].starts_with('5')
            && groups[3].starts_with(['8', '9', 'A', 'B'])
    }

    #[test]
    fn top_level_is_a_user_configuration_profile() {
        let options = Options {
            organization: Some("Example Lab".into()),
            ..Options::default()
        };
        let profile = mobileconfig(&spec(SPEC), &options).unwrap();
        assert!(profile.xml.starts_with("<?xml"), "{}", profile.xml);
        assert!(profile.xml.ends_with("</plist>\n"));
        let top = parse(&profile.xml);
        assert_eq!(
            top.keys().collect::<Vec<_>>(),
            vec![
                "PayloadType",
                "PayloadVersion",
                "PayloadIdentifier",
                "PayloadUUID",
                "PayloadDisplayName",
                "PayloadOrganization",
                "PayloadScope",
                "PayloadContent",
            ]
        );
        assert_eq!(string(&top, "PayloadType"), "Configuration");
        assert_eq!(
            top["PayloadVersion"].as_signed_integer(),
            Some(1),
            "an integer, not a string"
        );
        assert_eq!(string(&top, "PayloadIdentifier"), "com.macllm.profile");
        assert!(is_uuid(string(&top, "PayloadUUID")));
        assert_eq!(string(&top, "PayloadDisplayName"), "macllm: t.yaml");
        assert_eq!(string(&top, "PayloadOrganization"), "Example Lab");
        assert_eq!(string(&top, "PayloadScope"), "User");
        assert!(top["PayloadContent"].as_array().is_some());

        let named = Options {
            identifier: "org.example.macs".into(),
            organization: None,
            display_name: Some("Lab Macs".into()),
        };
        let top = parse(&mobileconfig(&spec(SPEC), &named).unwrap().xml);
        assert!(!top.contains_key("PayloadOrganization"));
        assert_eq!(string(&top, "PayloadDisplayName"), "Lab Macs");
        assert_eq!(
            string(&payloads(&top)[0], "PayloadIdentifier"),
            "org.example.macs.com.apple.dock"
        );
    }

    #[test]
    fn one_forced_payload_per_domain_with_typed_values() {
        let profile = mobileconfig(&spec(SPEC), &Options::default()).unwrap();
        let top = parse(&profile.xml);
        let payloads = payloads(&top);
        let identifiers: Vec<&str> = payloads
            .iter()
            .map(|p| string(p, "PayloadIdentifier"))
            .collect();
        assert_eq!(
            identifiers,
            vec![
                "com.macllm.profile.com.apple.dock",
                "com.macllm.profile.NSGlobalDomain",
                "com.macllm.profile.com.example.app",
            ]
        );
        for payload in &payloads {
            assert_eq!(
                string(payload, "PayloadType"),
                "com.apple.ManagedClient.preferences"
            );
            assert_eq!(payload["PayloadVersion"].as_signed_integer(), Some(1));
            assert!(!string(payload, "PayloadDisplayName").is_empty());
        }

        let dock = forced_settings(&payloads[0], "com.apple.dock");
        assert_eq!(
            dock.keys().collect::<Vec<_>>(),
            vec!["autohide", "tilesize", "autohide-delay"],
            "the absent key is not in the profile"
        );
        assert_eq!(dock["autohide"], plist::Value::Boolean(true));
        assert_eq!(dock["tilesize"].as_signed_integer(), Some(36));
        assert_eq!(dock["autohide-delay"], plist::Value::Real(0.5));

        let global = forced_settings(&payloads[1], ".GlobalPreferences");
        assert_eq!(
            global["AppleShowAllExtensions"],
            plist::Value::Boolean(true)
        );
        assert_eq!(global["AppleInterfaceStyle"].as_string(), Some("Dark"));

        let app = forced_settings(&payloads[2], "com.example.app");
        let limits = app["Limits"].as_dictionary().unwrap();
        assert_eq!(limits["max"].as_signed_integer(), Some(3));
        assert_eq!(limits["ratio"], plist::Value::Real(1.5));
        assert_eq!(limits["strict"], plist::Value::Boolean(false));
        assert_eq!(
            app["Servers"],
            plist::Value::Array(vec!["a.example".into(), "b.example".into()])
        );
        let since = app["Since"].as_date().expect("a <date>, not a string");
        assert_eq!(since.to_xml_format(), "2024-01-31T12:00:00Z");
        assert_eq!(app["Blob"].as_data(), Some(&[0x00, 0xff, 0x10][..]));
        assert!(profile.xml.contains("<real>0.5</real>"));
        assert!(profile.xml.contains("<date>2024-01-31T12:00:00Z</date>"));
    }

    #[test]
    fn uuids_are_stable_distinct_and_well_formed() {
        let first = mobileconfig(&spec(SPEC), &Options::default()).unwrap();
        let second = mobileconfig(&spec(SPEC), &Options::default()).unwrap();
        assert_eq!(first.xml, second.xml, "two exports are byte-identical");

        let top = parse(&first.xml);
        let mut uuids = vec![string(&top, "PayloadUUID").to_string()];
        uuids.extend(
            payloads(&top)
                .iter()
                .map(|p| string(p, "PayloadUUID").to_string()),
        );
        assert_eq!(uuids.len(), 4);
        for uuid in &uuids {
            assert!(is_uuid(uuid), "{uuid}");
        }
        let mut distinct = uuids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), uuids.len(), "{uuids:?}");

        // Another identifier is another profile: every UUID changes.
        let other = Options {
            identifier: "org.example.other".into(),
            ..Options::default()
        };
        let other_top = parse(&mobileconfig(&spec(SPEC), &other).unwrap().xml);
        assert_ne!(string(&other_top, "PayloadUUID"), uuids[0]);
        assert_ne!(string(&payloads(&other_top)[0], "PayloadUUID"), uuids[1]);
    }

    #[test]
    fn skipped_resources_are_listed_with_reasons() {
        let profile = mobileconfig(&spec(SPEC), &Options::default()).unwrap();
        let ids: Vec<&str> = profile
            .skipped
            .iter()
            .map(|line| line.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            ids,
            vec![
                "defaults:com.apple.dock:persistent-apps",
                "defaults:currentHost:com.apple.screensaver:idleTime",
                "defaults:/Library/Preferences/com.apple.loginwindow:GuestEnabled",
                "service:gui/com.apple.photoanalysisd",
            ],
            "{:?}",
            profile.skipped
        );
        assert!(profile.skipped[0].contains("cannot remove"));
        assert!(profile.skipped[1].contains("ByHost"));
        assert!(profile.skipped[2].contains("system domain"));
        assert!(
            profile.skipped[3].contains("not expressible as a preference profile"),
            "{}",
            profile.skipped[3]
        );
        assert!(!profile.xml.contains("screensaver"));
        assert!(!profile.xml.contains("loginwindow"));
    }

    #[test]
    fn both_spellings_of_the_global_domain_share_one_payload() {
        let text = "macllm: 1\ndefaults:\n  - {domain: -g, key: a, value: 1}\n  - {domain: .GlobalPreferences, key: a, value: 2}\n  - {domain: .GlobalPreferences, key: b, value: 3}\n";
        let profile = mobileconfig(&spec(text), &Options::default()).unwrap();
        let top = parse(&profile.xml);
        let payloads = payloads(&top);
        assert_eq!(payloads.len(), 1);
        let global = forced_settings(&payloads[0], ".GlobalPreferences");
        assert_eq!(global["a"].as_signed_integer(), Some(1));
        assert_eq!(global["b"].as_signed_integer(), Some(3));
        assert_eq!(profile.skipped.len(), 1);
        assert!(
            profile.skipped[0].starts_with("defaults:.GlobalPreferences:a: ")
                && profile.skipped[0].contains("defaults:NSGlobalDomain:a"),
            "{}",
            profile.skipped[0]
        );
    }

    #[test]
    fn secrets_stay_out_of_the_file() {
        let mut spec = spec(
            "macllm: 1\ndefaults:\n  - {domain: com.example.app, key: Token, value: hunter2}\n  - {domain: com.example.app, key: Url, value: https://example.com}\n",
        );
        spec.resources[0].sensitive = true;
        let profile = mobileconfig(&spec, &Options::default()).unwrap();
        assert!(!profile.xml.contains("hunter2"));
        assert!(profile.xml.contains("https://example.com"));
        assert_eq!(profile.skipped.len(), 1);
        assert!(
            profile.skipped[0].starts_with("defaults:com.example.app:Token: ")
                && profile.skipped[0].contains("secret()"),
            "{}",
            profile.skipped[0]
        );
    }

    #[test]
    fn nothing_to_export_and_bad_identifiers_are_errors() {
        let only_service =
            "macllm: 1\nservices:\n  - label: com.apple.photoanalysisd\n    enabled: false\n";
        let err = mobileconfig(&spec(only_service), &Options::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing in the spec"), "{err}");
        assert!(
            err.contains("service:gui/com.apple.photoanalysisd"),
            "{err}"
        );

        for identifier in ["", "  ", "com.example lab"] {
            let options = Options {
                identifier: identifier.into(),
                ..Options::default()
            };
            let err = mobileconfig(&spec(SPEC), &options).unwrap_err().to_string();
            assert!(err.contains("reverse-DNS"), "{err}");
        }
    }
}
