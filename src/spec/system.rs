//! The OS-level sections of the spec: `services`, `agents`, `spotlight`, `power`,
//! `time_machine`. Each entry becomes one or more resources, checked here with the same
//! located errors as `defaults`.

use super::locate::Segment;
use super::yaml_value::YamlValue;
use super::{At, Declared, SpecError, child, dependencies, key};
use crate::resources::AnyResource;
use crate::resources::agents::{ALL_SESSIONS, Agent, default_path};
use crate::resources::power::{Kind, PowerSetting, SETTINGS, Source, TimeMachine};
use crate::resources::services::{Domain, Service};
use crate::resources::spotlight::{SpotlightFolder, SpotlightVolume};
use crate::value::Value;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A launchd service, enabled or disabled (id `service:DOMAIN:LABEL`).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    /// The service's launchd label (`com.apple.Siri.agent`).
    label: String,
    /// Whether launchd may start it (`launchctl enable` / `disable`).
    enabled: bool,
    /// The launchd domain: `gui` (default), `user` or `system` (needs root).
    #[serde(default)]
    domain: Option<Domain>,
    /// Ids of resources to apply first.
    #[serde(default)]
    depends_on: Vec<String>,
}

/// launchd's `ProcessType`: how much the system may throttle the process.
#[derive(Deserialize, schemars::JsonSchema, Clone, Copy)]
enum ProcessType {
    Background,
    Standard,
    Adaptive,
    Interactive,
}

impl ProcessType {
    fn name(self) -> &'static str {
        match self {
            ProcessType::Background => "Background",
            ProcessType::Standard => "Standard",
            ProcessType::Adaptive => "Adaptive",
            ProcessType::Interactive => "Interactive",
        }
    }
}

/// A LaunchAgent: a plist in `~/Library/LaunchAgents`, loaded into the user's session.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    /// The agent's launchd label (`com.example.ollama`); its file is `<label>.plist`.
    label: String,
    /// The program (an absolute path) and its arguments.
    program_arguments: Vec<String>,
    /// Environment variables of the process; `OLLAMA_*` names are checked as in
    /// `ollama.env` when the program is ollama.
    #[serde(default)]
    environment: BTreeMap<String, YamlValue>,
    /// Restart the program whenever it exits.
    #[serde(default = "yes")]
    keep_alive: bool,
    /// Start the program when the agent is loaded (at login).
    #[serde(default = "yes")]
    run_at_load: bool,
    /// launchd's `ProcessType`.
    #[serde(default)]
    process_type: Option<ProcessType>,
    /// Scheduling priority (`Nice`), -20 to 20.
    #[serde(default)]
    #[schemars(range(min = -20, max = 20))]
    nice: Option<i64>,
    /// The folder the program runs in (an absolute path).
    #[serde(default)]
    working_directory: Option<String>,
    /// Where standard output goes (an absolute path).
    #[serde(default)]
    standard_out_path: Option<String>,
    /// Where standard error goes (an absolute path).
    #[serde(default)]
    standard_error_path: Option<String>,
    /// Session types the agent loads in (`Aqua`, `Background`, `LoginWindow`, ...).
    #[serde(default)]
    limit_load_to_session_type: Option<Vec<String>>,
    /// The plist file, `~/Library/LaunchAgents/<label>.plist` by default.
    #[serde(default)]
    path: Option<String>,
    /// Ids of resources to apply first.
    #[serde(default)]
    depends_on: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Spotlight indexing of a folder (`path`) or a volume (`volume`): give one of them.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpotlightEntry {
    /// A folder to keep out of (or in) the index, by its `.noindex` name.
    #[serde(default)]
    path: Option<String>,
    /// A volume's mount point, switched with `mdutil -i`.
    #[serde(default)]
    volume: Option<String>,
    /// Whether Spotlight indexes it.
    indexed: bool,
    /// How a folder is kept out of the index: `noindex` (the only one that works on current
    /// macOS).
    #[serde(default)]
    method: Option<String>,
    /// Ids of resources to apply first.
    #[serde(default)]
    depends_on: Vec<String>,
}

/// Energy settings (`pmset`): for every power source, on battery, or on the charger.
#[derive(Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PowerEntry {
    /// Settings for every power source (`pmset -a`).
    #[serde(default)]
    #[schemars(schema_with = "power_settings")]
    all: BTreeMap<String, YamlValue>,
    /// Settings on battery (`pmset -b`).
    #[serde(default)]
    #[schemars(schema_with = "power_settings")]
    battery: BTreeMap<String, YamlValue>,
    /// Settings on the charger (`pmset -c`).
    #[serde(default)]
    #[schemars(schema_with = "power_settings")]
    charger: BTreeMap<String, YamlValue>,
}

/// The settings macllm manages, from the same table that checks them.
fn power_settings(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::schema::known_keys(SETTINGS.iter().map(|(name, kind)| {
        let schema = match kind {
            Kind::Number => serde_json::json!({
                    "type": "integer", "minimum": 0,
                    "description": "minutes (0 = never)"}),
            Kind::Switch => serde_json::json!({
                    "type": ["boolean", "integer"], "enum": [true, false, 0, 1],
                    "description": "a switch: true or false"}),
            Kind::Mode => serde_json::json!({
                    "type": "integer", "enum": [0, 1, 2],
                    "description": "0 (automatic), 1 (low power) or 2 (high power)"}),
        };
        (*name, schema)
    }))
}

/// Time Machine (`tmutil`).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeMachineEntry {
    /// Whether Time Machine backs up automatically.
    automatic_backups: bool,
}

/// launchd labels are reverse-DNS names; anything else (spaces, `;`, `$`, `/`) is refused
/// before it reaches a command line or a file name.
fn check_label(label: &str, path: &[Segment], at: &At) -> Result<(), SpecError> {
    let valid = !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !label.starts_with('.');
    if valid {
        return Ok(());
    }
    Err(at(
        path,
        format!(
            "`{label}` is not a launchd label: use letters, digits, `.`, `-` and `_` (like `com.example.ollama`)"
        ),
    ))
}

pub fn expand_service(
    entry: ServiceEntry,
    path: Vec<Segment>,
    at: &At,
) -> Result<Declared, SpecError> {
    check_label(&entry.label, &child(&path, key("label")), at)?;
    let depends_on = dependencies(entry.depends_on, &path, at)?;
    Ok(Declared {
        origin: Default::default(),
        sensitive: false,
        resource: AnyResource::Service(Service {
            label: entry.label,
            domain: entry.domain.unwrap_or(Domain::Gui),
            enabled: entry.enabled,
        }),
        depends_on,
        path,
    })
}

/// An absolute path launchd can use as is: it expands neither `~` nor variables.
fn check_absolute(value: &str, path: &[Segment], at: &At) -> Result<(), SpecError> {
    if value.starts_with('/') && !value.chars().any(char::is_control) {
        return Ok(());
    }
    let err = at(path, format!("`{value}` is not an absolute path"));
    Err(if value.starts_with('~') {
        err.with_hint("launchd does not expand `~`; write the full path, as in /Users/NAME/...")
    } else {
        err
    })
}

pub fn expand_agent(
    entry: AgentEntry,
    path: Vec<Segment>,
    at: &At,
    options: super::ollama::Options,
    warnings: &mut Vec<String>,
) -> Result<Declared, SpecError> {
    let label = entry.label;
    check_label(&label, &child(&path, key("label")), at)?;
    let arguments_path = child(&path, key("program_arguments"));
    match entry.program_arguments.first() {
        None => {
            return Err(at(
                &arguments_path,
                "the program is missing: give at least its path".into(),
            ));
        }
        Some(program) => check_absolute(program, &child(&arguments_path, Segment::Index(0)), at)?,
    }
    let file = entry.path.unwrap_or_else(|| default_path(&label));
    let file_name = file.rsplit('/').next().unwrap_or_default();
    if file_name != format!("{label}.plist") {
        return Err(at(
            &child(&path, key("path")),
            format!("the file is named `{file_name}` but the label is `{label}`: launchd agents are found by `<label>.plist`"),
        )
        .with_hint(format!("name the file `{label}.plist`, or leave `path` out")));
    }
    if !(file.starts_with("~/") || file.starts_with('/')) {
        return Err(at(
            &child(&path, key("path")),
            format!("`{file}` is not an absolute path or `~/...`"),
        ));
    }
    let mut plist = BTreeMap::new();
    plist.insert("Label".to_string(), Value::String(label.clone()));
    plist.insert(
        "ProgramArguments".to_string(),
        Value::Array(
            entry
                .program_arguments
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
    );
    plist.insert("RunAtLoad".to_string(), Value::Bool(entry.run_at_load));
    plist.insert("KeepAlive".to_string(), Value::Bool(entry.keep_alive));
    if let Some(process_type) = entry.process_type {
        plist.insert(
            "ProcessType".to_string(),
            Value::String(process_type.name().to_string()),
        );
    }
    if let Some(nice) = entry.nice {
        // launchd honours negative nice values for daemons only, and Homebrew refuses them
        // without root (reference 5.1).
        if !(0..=19).contains(&nice) {
            return Err(at(
                &child(&path, key("nice")),
                format!("nice {nice} is out of range for a LaunchAgent: 0 to 19 (negative values need a root LaunchDaemon)"),
            )
            .with_hint("use `process_type: Interactive` to run at full priority"));
        }
        plist.insert("Nice".to_string(), Value::Integer(nice));
    }
    let mut environment = BTreeMap::new();
    for (name, value) in entry.environment {
        // An agent that runs `ollama serve` gets the same checks as `ollama.env`.
        if name.starts_with("OLLAMA_") {
            let here = child(&child(&path, key("environment")), key(&name));
            if let Some(text) =
                super::ollama::check_variable(&name, &value, &here, at, options, warnings)?
            {
                environment.insert(name, Value::String(text));
            }
            continue;
        }
        let text = match value {
            YamlValue::Str(s) => s,
            YamlValue::Int(i) => i.to_string(),
            YamlValue::Float(f) => f.to_string(),
            YamlValue::Bool(b) => b.to_string(),
            other => {
                return Err(at(
                    &child(&child(&path, key("environment")), key(&name)),
                    format!(
                        "an environment value must be a string or number, not {}",
                        other.describe()
                    ),
                ));
            }
        };
        environment.insert(name, Value::String(text));
    }
    if !environment.is_empty() {
        plist.insert("EnvironmentVariables".to_string(), Value::Dict(environment));
    }
    for (field, plist_key, value) in [
        (
            "working_directory",
            "WorkingDirectory",
            entry.working_directory,
        ),
        (
            "standard_out_path",
            "StandardOutPath",
            entry.standard_out_path,
        ),
        (
            "standard_error_path",
            "StandardErrorPath",
            entry.standard_error_path,
        ),
    ] {
        if let Some(value) = value {
            check_absolute(&value, &child(&path, key(field)), at)?;
            plist.insert(plist_key.to_string(), Value::String(value));
        }
    }
    let sessions = entry
        .limit_load_to_session_type
        .unwrap_or_else(|| ALL_SESSIONS.iter().map(|s| s.to_string()).collect());
    for (index, session) in sessions.iter().enumerate() {
        if !ALL_SESSIONS.contains(&session.as_str()) {
            return Err(at(
                &child(
                    &child(&path, key("limit_load_to_session_type")),
                    Segment::Index(index),
                ),
                format!(
                    "unknown session type `{session}`; launchd knows {}",
                    ALL_SESSIONS.join(", ")
                ),
            ));
        }
    }
    plist.insert(
        "LimitLoadToSessionType".to_string(),
        Value::Array(sessions.into_iter().map(Value::String).collect()),
    );
    let depends_on = dependencies(entry.depends_on, &path, at)?;
    Ok(Declared {
        origin: Default::default(),
        sensitive: false,
        resource: AnyResource::Agent(Agent {
            label,
            path: file,
            plist: Value::Dict(plist),
        }),
        depends_on,
        path,
    })
}

pub fn expand_spotlight(
    entry: SpotlightEntry,
    path: Vec<Segment>,
    at: &At,
) -> Result<Declared, SpecError> {
    if let Some(method) = &entry.method
        && method != "noindex"
    {
        return Err(at(
            &child(&path, key("method")),
            format!(
                "unknown method `{method}`; folders support `noindex` (mdutil switches whole volumes, and `.metadata_never_index` is ignored inside a volume on current macOS)"
            ),
        ));
    }
    let depends_on = dependencies(entry.depends_on, &path, at)?;
    let resource = match (entry.path, entry.volume) {
        (Some(folder), None) => {
            if !(folder.starts_with("~/") || folder.starts_with('/'))
                || folder.chars().any(char::is_control)
            {
                return Err(at(
                    &child(&path, key("path")),
                    format!("`{folder}` is not an absolute path or `~/...`"),
                ));
            }
            if folder.trim_end_matches('/').is_empty() || folder == "~/" {
                return Err(at(
                    &child(&path, key("path")),
                    "a whole volume or home is not a folder to hide; use `volume:`".to_string(),
                ));
            }
            AnyResource::SpotlightFolder(SpotlightFolder {
                path: folder,
                indexed: entry.indexed,
            })
        }
        (None, Some(volume)) => {
            if entry.method.is_some() {
                return Err(at(
                    &child(&path, key("method")),
                    "`method` is for folders; a volume is switched with mdutil".to_string(),
                ));
            }
            if !volume.starts_with('/') {
                return Err(at(
                    &child(&path, key("volume")),
                    format!("`{volume}` is not a mount point such as `/System/Volumes/Data`"),
                ));
            }
            AnyResource::SpotlightVolume(SpotlightVolume {
                volume,
                indexed: entry.indexed,
            })
        }
        _ => {
            return Err(at(
                &path,
                "give exactly one of `path` (a folder) or `volume` (a mount point)".to_string(),
            ));
        }
    };
    Ok(Declared {
        origin: Default::default(),
        sensitive: false,
        resource,
        depends_on,
        path,
    })
}

/// One result per setting, so every bad setting is reported.
pub fn expand_power(entry: PowerEntry, at: &At) -> Vec<Result<Declared, SpecError>> {
    let mut declared = Vec::new();
    for (source, field, settings) in [
        (Source::All, "all", entry.all),
        (Source::Battery, "battery", entry.battery),
        (Source::Charger, "charger", entry.charger),
    ] {
        for (name, raw) in settings {
            declared.push(power_setting(source, field, name, raw, at));
        }
    }
    declared
}

fn power_setting(
    source: Source,
    field: &str,
    name: String,
    raw: YamlValue,
    at: &At,
) -> Result<Declared, SpecError> {
    let path = vec![key("power"), key(field), key(&name)];
    let Some((_, kind)) = SETTINGS.iter().find(|(known, _)| *known == name) else {
        let known: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
        let err = at(
            &path,
            format!(
                "unknown power setting `{name}`; macllm manages {}",
                known.join(", ")
            ),
        )
        .with_code("unknown_power_setting");
        return Err(match super::suggest::did_you_mean(&name, known) {
            Some(hint) => err.with_hint(hint),
            None => err,
        });
    };
    let value = match (raw, kind) {
        (YamlValue::Bool(b), Kind::Switch) => i64::from(b),
        (YamlValue::Int(i @ (0 | 1)), Kind::Switch) => i,
        (YamlValue::Int(i), Kind::Number) if i >= 0 => i,
        (YamlValue::Int(i @ 0..=2), Kind::Mode) => i,
        (other, Kind::Switch) => {
            return Err(at(
                &path,
                format!(
                    "`{name}` is a switch: true or false, not {}",
                    other.describe()
                ),
            ));
        }
        (other, Kind::Number) => {
            let what = match other {
                YamlValue::Int(i) => i.to_string(),
                YamlValue::Str(s) if super::overflows(&s) => format!("`{s}`"),
                other => other.describe().to_string(),
            };
            return Err(at(
                &path,
                format!("`{name}` takes minutes (0 = never), not {what}"),
            ));
        }
        (other, Kind::Mode) => {
            let what = match other {
                YamlValue::Int(i) => i.to_string(),
                other => other.describe().to_string(),
            };
            return Err(at(
                &path,
                format!("`{name}` is 0 (automatic), 1 (low power) or 2 (high power), not {what}"),
            ));
        }
    };
    Ok(Declared {
        origin: Default::default(),
        sensitive: false,
        resource: AnyResource::Power(PowerSetting {
            source,
            name: name.clone(),
            value,
        }),
        depends_on: Vec::new(),
        path,
    })
}

pub fn expand_time_machine(entry: TimeMachineEntry) -> Declared {
    Declared {
        origin: Default::default(),
        sensitive: false,
        resource: AnyResource::TimeMachine(TimeMachine {
            automatic_backups: entry.automatic_backups,
        }),
        depends_on: Vec::new(),
        path: vec![key("time_machine"), key("automatic_backups")],
    }
}
