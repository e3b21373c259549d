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
    const ALL: [Section; 7] = [
        Section::Defaults,
        Section::Services,
        Section::Agents,
        Section::Spotlight,
        Section::OllamaEnv,
        Section::OllamaPull,
        Section::OllamaModels,
    ];

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

/// What was found on the Mac, before it is checked.
struct Found {
    facts: Facts,
    /// `ollama.server`, with why; `None` when no Ollama server was found.
    server: Option<(&'static str, String)>,
    items: Vec<Item>,
}

/// How many times the spec is planned: each round leaves out what the last would change,
/// and what is left out cannot make another item change, so two rounds settle.
const ROUNDS: usize = 4;

/// The spec text of what `host` has today.
pub fn import(host: &dyn Host) -> Result<String> {
    let mut found = read::everything(host)?;
    for _ in 0..ROUNDS {
        let text = render(&found);
        let unsettled = check(host, &found.facts, &text)?;
        if unsettled.is_empty() {
            return Ok(text);
        }
        for (id, why) in unsettled {
            match found
                .items
                .iter_mut()
                .find(|item| item.left_out.is_none() && item.id == id)
            {
                Some(item) => item.left_out = Some(why),
                None if found.server.is_some() => {
                    // Something the server setting adds (Homebrew's service for `own`).
                    let (server, _) = found.server.take().unwrap_or_default();
                    found.items.push(
                        Item::new(
                            Section::OllamaEnv,
                            format!("ollama.server: {server}"),
                            Yaml::Null,
                        )
                        .left_out(format!("it would change {id}: {why}")),
                    );
                }
                None => bail!("import planned a change to {id}, which it did not declare: {why}"),
            }
        }
    }
    bail!("import could not settle on a spec that plans no change on this Mac")
}

/// Loads `text` as `plan` does and plans it: the ids that would change (or that do not load),
/// with why.
fn check(host: &dyn Host, facts: &Facts, text: &str) -> Result<Vec<(String, String)>> {
    let file = tempfile::Builder::new()
        .prefix("macllm-import-")
        .suffix(".yaml")
        .tempfile()
        .context("creating a scratch file for the imported spec")?;
    std::fs::write(file.path(), text).context("writing the imported spec to check it")?;
    let loaded = Spec::load(
        file.path(),
        Default::default(),
        &|| Ok(facts.clone()),
        &serde_json::Value::Null,
    );
    let spec = match loaded {
        Ok(spec) => spec,
        Err(err) => return refused(err, text),
    };
    let plan = plan::plan(Some(&spec), None, host, Mode::Normal)?;
    Ok(plan
        .changes
        .iter()
        .map(|change| {
            let why = match (&change.before, &change.after) {
                (None, _) => "planning it here would create it".to_string(),
                (Some(_), None) => "planning it here would delete it".to_string(),
                (Some(before), Some(after)) => {
                    format!(
                        "macllm cannot express it exactly: planning it here would change {} to {}",
                        summary(before),
                        summary(after)
                    )
                }
            };
            (change.id.0.clone(), why)
        })
        .collect())
}

/// A value in a comment: short and on one line.
fn summary(value: &crate::value::Value) -> String {
    let text = yaml::comment(&value.inline());
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The item a spec error is about, left out with the error's message.
fn refused(err: anyhow::Error, text: &str) -> Result<Vec<(String, String)>> {
    let Some(spec_error) = err.downcast_ref::<crate::spec::SpecError>() else {
        return Err(err.context("loading the imported spec"));
    };
    // Each entry sits under a `# id:` comment, so the error's line finds its entry.
    let id = id_at(text, spec_error.line);
    match id {
        Some(id) => Ok(vec![(
            id,
            format!("macllm cannot express it: {}", spec_error.message),
        )]),
        None => Err(err.context("the imported spec does not load")),
    }
}

/// The id comment of the entry that holds `line` (the nearest `# id:` above it).
fn id_at(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("# id: "))
        .map(str::to_string)
}

/// The spec text: sections in a fixed order, each entry under a `# id:` comment, what stays
/// out as comments where it would have gone.
fn render(found: &Found) -> String {
    let facts = &found.facts;
    let mut out = format!(
        "# What {} had when `macllm import` read it: {}, {} GB, macOS {}.\n\
         # `macllm plan` with this spec on that Mac changes nothing; edit it to change the Mac.\n\
         # Whatever macllm cannot express exactly is left out below, in comments that say why.\n\
         macllm: 1\n",
        yaml::comment(&facts.hostname),
        yaml::comment(&facts.chip),
        facts.memory_gb,
        yaml::comment(&facts.macos_version),
    );
    for section in Section::ALL {
        if matches!(
            section,
            Section::OllamaEnv | Section::OllamaPull | Section::OllamaModels
        ) {
            continue;
        }
        render_list(&mut out, found, section, "", 0);
    }
    let ollama: Vec<&Item> = found
        .items
        .iter()
        .filter(|i| i.section >= Section::OllamaEnv)
        .collect();
    match &found.server {
        None if ollama.is_empty() => {
            out.push_str("\n# Ollama: no server found (neither Homebrew's service, the app, nor an agent of yours), so nothing of it is imported.\n");
            return out;
        }
        None => out.push('\n'),
        Some((_, why)) => {
            out.push_str(&format!("\n# {}\n", yaml::comment(why)));
        }
    }
    let any_included = ollama.iter().any(|i| i.left_out.is_none());
    if found.server.is_none() && !any_included {
        for item in &ollama {
            push_left_out(&mut out, item, 0);
        }
        return out;
    }
    out.push_str("ollama:\n");
    if let Some((server, _)) = &found.server {
        out.push_str(&format!("  server: {server}\n"));
    }
    render_env(&mut out, found);
    render_list(&mut out, found, Section::OllamaPull, "  ", 2);
    render_list(&mut out, found, Section::OllamaModels, "  ", 2);
    out
}

fn push_left_out(out: &mut String, item: &Item, indent: usize) {
    let pad = " ".repeat(indent);
    out.push_str(&format!(
        "{pad}# left out: {}: {}\n",
        yaml::comment(&item.id),
        yaml::comment(item.left_out.as_deref().unwrap_or_default())
    ));
}

fn push_comment(out: &mut String, item: &Item, indent: usize) {
    let pad = " ".repeat(indent);
    if let Some(comment) = &item.comment {
        out.push_str(&format!("{pad}# {}\n", yaml::comment(comment)));
    }
    out.push_str(&format!("{pad}# id: {}\n", yaml::comment(&item.id)));
}

/// A list section: `NAME:` then `- entry` items (indented by `indent`).
fn render_list(out: &mut String, found: &Found, section: Section, pad: &str, indent: usize) {
    let items: Vec<&Item> = found
        .items
        .iter()
        .filter(|i| i.section == section)
        .collect();
    if items.is_empty() {
        return;
    }
    let name = section.path().rsplit('.').next().unwrap_or_default();
    let included = items.iter().any(|i| i.left_out.is_none());
    if indent == 0 {
        out.push('\n');
    }
    out.push_str(&format!("{pad}# {}\n", section.heading()));
    if included {
        out.push_str(&format!("{pad}{name}:\n"));
    }
    // Left-out entries sit where the entries are, or beside the heading when none is kept.
    let within = if included { indent + 2 } else { indent };
    for item in items {
        match item.left_out {
            Some(_) => push_left_out(out, item, within),
            None => {
                push_comment(out, item, indent + 2);
                out.push_str(&yaml::indented(
                    &Yaml::Sequence(vec![item.body.clone()]),
                    indent + 2,
                ));
            }
        }
    }
}

fn render_env(out: &mut String, found: &Found) {
    let items: Vec<&Item> = found
        .items
        .iter()
        .filter(|i| i.section == Section::OllamaEnv)
        .collect();
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("  # {}\n", Section::OllamaEnv.heading()));
    if items.iter().any(|i| i.left_out.is_none()) {
        out.push_str("  env:\n");
    }
    let within = if items.iter().any(|i| i.left_out.is_none()) {
        4
    } else {
        2
    };
    for item in items {
        match (&item.left_out, &item.name) {
            (None, Some(name)) => {
                push_comment(out, item, 4);
                out.push_str(&yaml::indented(
                    &yaml::map([(name.as_str(), item.body.clone())]),
                    4,
                ));
            }
            _ => push_left_out(out, item, within),
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
