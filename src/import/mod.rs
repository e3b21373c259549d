//! `macllm import`: a spec of what a Mac has today, for everything macllm can manage there,
//! such that planning it on the same Mac changes nothing (as `terraform import` adopts
//! what exists).
//!
//! Candidates are read through the resources' own readers ([`Resource::read`]) and a few
//! read-only listings (which services are disabled, which agents are loaded, which models
//! are pulled). The contract is then checked, not assumed: the candidate spec is loaded as
//! `plan` loads it and planned against the Mac, and whatever would change (or does not load)
//! is left out with a comment saying why, until the plan is empty.

mod read;
pub mod starter;
pub mod yaml;

use crate::facts::Facts;
use crate::host::Host;
use crate::plan::{self, Mode};
use crate::spec::Spec;
use anyhow::{Context, Result, bail};
use serde_yaml::Value as Yaml;
use std::path::Path;

/// Where an item goes in the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Defaults,
    Services,
    Agents,
    Spotlight,
    OllamaEnv,
    OllamaPull,
    OllamaModels,
}

impl Section {
    /// The field path of the section, as spec errors name it.
    fn path(self) -> &'static str {
        match self {
            Section::Defaults => "defaults",
            Section::Services => "services",
            Section::Agents => "agents",
            Section::Spotlight => "spotlight",
            Section::OllamaEnv => "ollama.env",
            Section::OllamaPull => "ollama.pull",
            Section::OllamaModels => "ollama.models",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Section::Defaults => "defaults keys the shipped modules manage, as they are set here",
            Section::Services => "launchd jobs disabled in the user's domain",
            Section::Agents => "LaunchAgents that run `ollama`",
            Section::Spotlight => "folders kept out of Spotlight (renamed to .noindex)",
            Section::OllamaEnv => "the variables Ollama's server is given",
            Section::OllamaPull => "models pulled from a registry",
            Section::OllamaModels => {
                "models built from another (`/api/show`: base, parameters, system, template)"
            }
        }
    }
}

/// One thing the spec declares, or leaves out with the reason.
#[derive(Clone, Debug)]
struct Item {
    section: Section,
    /// The resource id it declares.
    id: String,
    /// `ollama.env`'s variable name (the key of a mapping entry); list items have none.
    name: Option<String>,
    /// The entry (or the variable's value), strings already made verbatim.
    body: Yaml,
    /// Said above the entry.
    comment: Option<String>,
    left_out: Option<String>,
}

impl Item {
    fn new(section: Section, id: impl Into<String>, body: Yaml) -> Item {
        Item {
            section,
            id: id.into(),
            name: None,
            body,
            comment: None,
            left_out: None,
        }
    }

    fn with_comment(mut self, comment: impl Into<String>) -> Item {
        self.comment = Some(comment.into());
        self
    }

    fn left_out(mut self, why: impl Into<String>) -> Item {
        self.left_out = Some(why.into());
        self
    }
}

/// `ollama.server`: how Ollama runs on the Mac.
struct ServerSetting {
    name: &'static str,
    /// Said above the `ollama:` section.
    why: String,
    left_out: Option<String>,
}

/// The id a spec error or a planned change uses for `ollama.server` itself.
const SERVER_ID: &str = "ollama.server";

/// What was found on the Mac, before it is checked.
struct Found {
    facts: Facts,
    /// `None` when no Ollama server was found.
    server: Option<ServerSetting>,
    items: Vec<Item>,
    /// What reading the Mac found worth saying (a GUI domain missing over SSH, say).
    warnings: Vec<String>,
}

impl Found {
    /// Leaves out what `id` names, because of `why`.
    fn leave_out(&mut self, id: &str, why: String) -> Result<()> {
        if let Some(item) = self
            .items
            .iter_mut()
            .find(|item| item.left_out.is_none() && item.id == id)
        {
            item.left_out = Some(why);
            return Ok(());
        }
        match &mut self.server {
            Some(server) if server.left_out.is_none() => {
                // The server setting itself, or what it adds (`own` disables Homebrew's
                // service).
                server.left_out = Some(if id == SERVER_ID {
                    why
                } else {
                    format!("it would change {id}: {why}")
                });
                Ok(())
            }
            _ => bail!("import planned a change to {id}, which it did not declare: {why}"),
        }
    }
}

/// How many times the spec is planned: each round leaves out what the last would change,
/// and what is left out cannot make another item change, so two rounds settle.
const ROUNDS: usize = 4;

/// The spec of what a Mac has, and what reading it found worth saying.
pub struct Imported {
    pub text: String,
    pub warnings: Vec<String>,
}

/// The spec text of what `host` has today.
pub fn import(host: &dyn Host) -> Result<Imported> {
    let mut found = read::everything(host)?;
    for _ in 0..ROUNDS {
        let written = render(&found);
        let unsettled = check(host, &found.facts, &written)?;
        if unsettled.is_empty() {
            return Ok(Imported {
                text: written.text,
                warnings: found.warnings,
            });
        }
        for (id, why) in unsettled {
            found.leave_out(&id, why)?;
        }
    }
    bail!("import could not settle on a spec that plans no change on this Mac")
}

/// Loads the spec as `plan` does and plans it: the ids that would change (or that do not
/// load), with why.
fn check(host: &dyn Host, facts: &Facts, written: &Written) -> Result<Vec<(String, String)>> {
    let file = tempfile::Builder::new()
        .prefix("macllm-import-")
        .suffix(".yaml")
        .tempfile()
        .context("creating a scratch file for the imported spec")?;
    std::fs::write(file.path(), &written.text).context("writing the imported spec to check it")?;
    let loaded = Spec::load(
        file.path(),
        Default::default(),
        &|| Ok(facts.clone()),
        &serde_json::Value::Null,
    );
    let spec = match loaded {
        Ok(spec) => spec,
        Err(err) => {
            let Some(spec_error) = err.downcast_ref::<crate::spec::SpecError>() else {
                return Err(err.context("loading the imported spec"));
            };
            return match written.id_at(spec_error.line) {
                Some(id) => Ok(vec![(
                    id.to_string(),
                    format!("macllm cannot express it: {}", spec_error.message),
                )]),
                None => Err(err.context("the imported spec does not load (a bug in macllm)")),
            };
        }
    };
    let plan = plan::plan(Some(&spec), None, host, Mode::Normal)?;
    Ok(plan
        .changes
        .iter()
        .map(|change| {
            let why = match (&change.before, &change.after) {
                (Some(before), _) if setenv_only(before) => {
                    "it is set only with `launchctl setenv`, which a restart of the Mac forgets; macllm would add a login agent that sets it again at every login (add it under `ollama.env` for that)".to_string()
                }
                (None, _) => "planning it here would create it".to_string(),
                (Some(_), None) => "planning it here would delete it".to_string(),
                (Some(before), Some(after)) => format!(
                    "macllm cannot express it exactly: planning it here would change it ({})",
                    difference(&before.inline(), &after.inline())
                ),
            };
            (change.id.0.clone(), why)
        })
        .collect())
}

/// An Ollama variable set live (`launchctl setenv`) with no login agent to set it again.
fn setenv_only(value: &crate::value::Value) -> bool {
    use crate::value::Value;
    matches!(value, Value::Dict(fields)
        if fields.get("at_login") == Some(&Value::Bool(false))
            && matches!(fields.get("live"), Some(Value::String(_))))
}

/// Where two values first differ, as a short excerpt of each on one line.
fn difference(here: &str, planned: &str) -> String {
    let at = here
        .chars()
        .zip(planned.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let excerpt = |text: &str| {
        let start = at.saturating_sub(20);
        let shown: String = text.chars().skip(start).take(50).collect();
        let more = text.chars().count() > start + 50;
        format!(
            "{}{}{}",
            if start > 0 { "…" } else { "" },
            yaml::comment(&shown),
            if more { "…" } else { "" }
        )
    };
    format!(
        "here `{}`, from the spec `{}`",
        excerpt(here),
        excerpt(planned)
    )
}

/// The spec text and which lines each entry took, so an error at a line names its entry.
#[derive(Default)]
struct Written {
    text: String,
    /// (first line, last line, id), 1-based.
    spans: Vec<(usize, usize, String)>,
}

impl Written {
    fn line(&self) -> usize {
        self.text.matches('\n').count()
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// `text` as the lines of the entry `id`.
    fn entry(&mut self, id: &str, text: &str) {
        let first = self.line() + 1;
        self.text.push_str(text);
        self.spans.push((first, self.line(), id.to_string()));
    }

    fn id_at(&self, line: usize) -> Option<&str> {
        self.spans
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&line))
            .map(|(_, _, id)| id.as_str())
    }

    fn left_out(&mut self, pad: &str, id: &str, why: &str) {
        self.push(&format!(
            "{pad}# left out: {}: {}\n",
            yaml::comment(id),
            yaml::comment(why)
        ));
    }

    /// The comments above an entry: why it is there, and its resource id.
    fn about(&mut self, pad: &str, item: &Item) {
        if let Some(comment) = &item.comment {
            self.push(&format!("{pad}# {}\n", yaml::comment(comment)));
        }
        self.push(&format!("{pad}# id: {}\n", yaml::comment(&item.id)));
    }
}

/// The spec text: sections in a fixed order, each entry under a `# id:` comment, what stays
/// out as comments where it would have gone.
fn render(found: &Found) -> Written {
    let facts = &found.facts;
    let mut out = Written::default();
    out.push(&format!(
        "# What {} had when `macllm import` read it: {}, {} GB, macOS {}.\n\
         # `macllm plan` with this spec on that Mac changes nothing; edit it to change the Mac.\n\
         # Whatever macllm cannot express exactly is left out below, in comments that say why.\n\
         macllm: 1\n",
        yaml::comment(&facts.hostname),
        yaml::comment(&facts.chip),
        facts.memory_gb,
        yaml::comment(&facts.macos_version),
    ));
    for section in [
        Section::Defaults,
        Section::Services,
        Section::Agents,
        Section::Spotlight,
    ] {
        render_list(&mut out, found, section, 0);
    }
    let ollama = found
        .items
        .iter()
        .filter(|i| i.section >= Section::OllamaEnv);
    let server = found.server.as_ref();
    let included = server.is_some_and(|s| s.left_out.is_none())
        || ollama.clone().any(|i| i.left_out.is_none());
    match server {
        None if ollama.clone().next().is_none() => {
            out.push("\n# Ollama: no server found (neither Homebrew's service, the app, nor an agent of yours), so nothing of it is imported.\n");
            return out;
        }
        None => out.push("\n# How Ollama is run here is not something macllm can say (not Homebrew's service, not the app, no agent of yours that a spec can express), so `ollama.server` is left out.\n"),
        Some(server) => out.push(&format!("\n# {}\n", yaml::comment(&server.why))),
    }
    let pad = if included {
        out.push("ollama:\n");
        "  "
    } else {
        ""
    };
    if let Some(server) = server {
        match &server.left_out {
            None => out.entry(
                SERVER_ID,
                &format!("{pad}# id: {SERVER_ID}\n{pad}server: {}\n", server.name),
            ),
            Some(why) => out.left_out(pad, &format!("{SERVER_ID}: {}", server.name), why),
        }
    }
    render_env(&mut out, found, pad);
    for section in [Section::OllamaPull, Section::OllamaModels] {
        render_list(&mut out, found, section, pad.len());
    }
    out
}

/// A list section: its heading, `NAME:` then `- entry` items, indented by `indent`.
fn render_list(out: &mut Written, found: &Found, section: Section, indent: usize) {
    let items: Vec<&Item> = found
        .items
        .iter()
        .filter(|i| i.section == section)
        .collect();
    if items.is_empty() {
        return;
    }
    let pad = " ".repeat(indent);
    let name = section.path().rsplit('.').next().unwrap_or_default();
    let included = items.iter().any(|i| i.left_out.is_none());
    if indent == 0 {
        out.push("\n");
    }
    out.push(&format!("{pad}# {}\n", section.heading()));
    if included {
        out.push(&format!("{pad}{name}:\n"));
    }
    // Left-out entries sit where the entries are, or beside the heading when none is kept.
    let within = if included {
        " ".repeat(indent + 2)
    } else {
        pad.clone()
    };
    for item in items {
        match &item.left_out {
            Some(why) => out.left_out(&within, &item.id, why),
            None => {
                out.about(&within, item);
                let text = yaml::indented(&Yaml::Sequence(vec![item.body.clone()]), indent + 2);
                out.entry(&item.id, &text);
            }
        }
    }
}

fn render_env(out: &mut Written, found: &Found, pad: &str) {
    let items: Vec<&Item> = found
        .items
        .iter()
        .filter(|i| i.section == Section::OllamaEnv)
        .collect();
    if items.is_empty() {
        return;
    }
    out.push(&format!("{pad}# {}\n", Section::OllamaEnv.heading()));
    let included = items.iter().any(|i| i.left_out.is_none());
    if included {
        out.push(&format!("{pad}env:\n"));
    }
    let within = if included {
        format!("{pad}  ")
    } else {
        pad.to_string()
    };
    for item in items {
        match (&item.left_out, &item.name) {
            (None, Some(name)) => {
                out.about(&within, item);
                let text = yaml::indented(
                    &yaml::map([(name.as_str(), item.body.clone())]),
                    within.len(),
                );
                out.entry(&item.id, &text);
            }
            (why, _) => out.left_out(&within, &item.id, why.as_deref().unwrap_or_default()),
        }
    }
}

/// Writes `text` to `path`, refusing to replace a file unless `force`.
pub fn write_new(path: &Path, text: &str, force: bool) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; it was left as it is\nhint: pass --force to replace it, or --out another file",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot write {}: {err}", path.display())
        }
    })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_is_shown_where_it_starts() {
        let here = format!("{}<key>A</key>\n  <true/>", "x".repeat(100));
        let planned = format!("{}<key>A</key>\n\t<true/>", "x".repeat(100));
        assert_eq!(
            difference(&here, &planned),
            "here `…xxxxxxx<key>A</key>\n  <true/>`, from the spec `…xxxxxxx<key>A</key>\n\t<true/>`"
                .replace(['\n', '\t'], " ")
        );
        assert_eq!(difference("1", "2"), "here `1`, from the spec `2`");
    }

    #[test]
    fn an_error_line_names_the_entry_that_holds_it() {
        let mut written = Written::default();
        written.push("macllm: 1\ndefaults:\n");
        written.entry("defaults:a:b", "  - domain: a\n    key: b\n    value: 1\n");
        written.push("  # id: x\n");
        written.entry("defaults:c:d", "  - domain: c\n    key: d\n    value: 2\n");
        assert_eq!(written.id_at(2), None);
        assert_eq!(written.id_at(3), Some("defaults:a:b"));
        assert_eq!(written.id_at(5), Some("defaults:a:b"));
        assert_eq!(written.id_at(6), None, "a comment between entries");
        assert_eq!(written.id_at(7), Some("defaults:c:d"));
        assert_eq!(written.id_at(10), None);
    }
}
