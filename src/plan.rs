//! Computes what apply would do: reads every resource (through a read-only, caching host),
//! diffs against the spec and the state, and returns plain data. Prints nothing.

use crate::graph::Graph;
use crate::host::cached::Cached;
use crate::host::{Host, ReadOnly};
use crate::resources::{AnyResource, ResourceId, Restart};
use crate::spec::Spec;
use crate::state::{Record, State, StateRef};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PLAN_FORMAT_VERSION: &str = "1.0";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The value is absent and the spec sets it.
    Create,
    /// The value is there and differs (in value or type).
    Update,
    /// The spec asks for the value to be absent.
    Delete,
    /// The resource left the spec, or destroy: put back the recorded original.
    Restore,
    /// In the spec and already as asked, but no longer in the state (`macllm state rm`):
    /// apply writes nothing and records the value as the original again (Terraform's "will
    /// be imported").
    Import,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: ResourceId,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub resource: AnyResource,
    pub depends_on: Vec<ResourceId>,
    pub restart: Option<Restart>,
    pub needs_root: bool,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Holds a secret: shown as `(sensitive)`, recorded as a keyed digest.
    #[serde(default)]
    pub sensitive: bool,
    /// The value cannot be read until an earlier change of this plan starts the Ollama
    /// server (Terraform's "known after apply"): apply reads it then, records that as the
    /// original, and writes only if it differs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_after_apply: bool,
}

/// Whether `err` says that nothing answers where Ollama should.
fn ollama_unreachable(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| cause.is::<crate::ollama::client::NotRunning>())
}

impl Change {
    /// Whether applying this change starts (or restarts) an Ollama server: the variables'
    /// restart, or an agent that runs `ollama serve`.
    pub fn starts_ollama(&self) -> bool {
        self.writes()
            && (self.restart == Some(Restart::OllamaServer)
                || matches!(&self.resource, AnyResource::Agent(agent) if agent.serves_ollama()))
    }

    /// Whether applying this change writes anything (a restore to the value already there
    /// only forgets the record).
    pub fn writes(&self) -> bool {
        self.before != self.after
    }
}

/// A managed value that changed outside macllm since the last apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub id: ResourceId,
    /// What macllm read back after its last apply.
    pub applied: Option<Value>,
    /// What is there now.
    pub found: Option<Value>,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Normal,
    Destroy,
    RefreshOnly,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub host: String,
    pub mode: Mode,
    /// The state this plan was made from (`None`: there was none); apply refuses a saved
    /// plan when it no longer matches.
    pub state: Option<StateRef>,
    pub changes: Vec<Change>,
    pub drift: Vec<Drift>,
    pub warnings: Vec<String>,
    /// The notices among the warnings (see `Target::notice`) that this plan has no reason
    /// to repeat: the resource they name (`ID: ...`) does not change, or (naming none)
    /// nothing changes. The text leaves them out; `--json` keeps every warning (and lists
    /// these when there are any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled: Vec<String>,
    /// Models that will not fit in what the GPU may use (`--strict` makes these errors).
    #[serde(default)]
    pub over_budget: Vec<String>,
    /// Whether macllm runs as root there, when planning found out: an apply in the same run
    /// need not ask again (a round trip over SSH). Never saved: a saved plan may be applied
    /// by someone else.
    #[serde(skip)]
    pub root: Option<bool>,
    /// The facts, when planning read them: an apply in the same run reuses them (one round
    /// trip over SSH) as it does [`Plan::root`]. Never saved, for the same reason.
    #[serde(skip)]
    pub facts: Option<crate::facts::Facts>,
}

#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Shown only when there is one, as Terraform does.
    #[serde(skip_serializing_if = "is_zero")]
    pub import: usize,
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Import => summary.import += 1,
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Delete | Action::Restore => summary.destroy += 1,
            }
        }
        summary
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Distinct restarts the writes of `changes` need, in a stable order.
    pub fn restarts<'a>(changes: impl Iterator<Item = &'a Change>) -> Vec<Restart> {
        let mut restarts: Vec<Restart> = changes
            .filter(|c| c.writes())
            .filter_map(|c| c.restart.clone())
            .collect();
        restarts.sort();
        restarts.dedup();
        restarts
    }
}

/// Where the `OLLAMA_HOST` values among `resources` make Ollama listen, as its client
/// connects (`envconfig.ConnectableHost`: `0.0.0.0` is reached on 127.0.0.1), in order.
/// The server listens there only once a restart applied the value, so these are addresses
/// to try before the host's default, not instead of it ([`crate::host::routed`]).
pub fn ollama_addresses<'r>(resources: impl IntoIterator<Item = &'r AnyResource>) -> Vec<String> {
    resources
        .into_iter()
        .filter_map(|resource| match resource {
            AnyResource::OllamaEnv(variable) if variable.name == "OLLAMA_HOST" => {
                Some(crate::host::local::ollama_base_url(Some(&variable.value)))
            }
            _ => None,
        })
        .collect()
}

/// Plans `spec` (absent in destroy mode and for drift) against `host` and `state`.
pub fn plan(
    spec: Option<&Spec>,
    state: Option<&State>,
    host: &dyn Host,
    mode: Mode,
) -> Result<Plan> {
    let cached = Cached::new(host);
    let reader = ReadOnly(&cached);
    // Where the spec moves the server first, then where the last apply left it.
    let addresses = ollama_addresses(
        spec.into_iter()
            .flat_map(|s| s.resources.iter().map(|d| &d.resource))
            .chain(
                state
                    .into_iter()
                    .flat_map(|s| s.resources.values().map(|r| &r.resource)),
            ),
    );
    let mut planner = Planner {
        target: Target::new(&reader)
            .with_facts(spec.and_then(|s| s.facts.clone()))
            .ollama_at(addresses),
        observed: BTreeMap::new(),
    };
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let mut notices = Vec::new();
    let records = state.map(|s| &s.resources);
    // Every read the resources can name goes ahead as one batch; they then read as usual.
    let declared: Vec<&AnyResource> = match spec.filter(|_| mode == Mode::Normal) {
        Some(spec) => {
            let by_id: BTreeMap<ResourceId, &AnyResource> = spec
                .resources
                .iter()
                .map(|d| (d.resource.as_resource().id(), &d.resource))
                .collect();
            spec.graph
                .apply_order()
                .iter()
                .map(|id| by_id[id])
                .collect()
        }
        None => Vec::new(),
    };
    let recorded = records
        .into_iter()
        .flat_map(|r| r.values().map(|r| &r.resource));
    planner.prefetch(declared.into_iter().chain(recorded));

    if mode == Mode::Normal
        && let Some(spec) = spec
    {
        let declared: BTreeMap<ResourceId, &crate::spec::Declared> = spec
            .resources
            .iter()
            .map(|d| (d.resource.as_resource().id(), d))
            .collect();
        for id in spec.graph.apply_order() {
            let declared = declared[&id];
            let resource = declared.resource.as_resource();
            warnings.extend(resource.warnings());
            let said = resource.notices();
            warnings.extend(said.iter().cloned());
            notices.extend(said);
            let starts_ollama = changes.iter().any(|c: &Change| c.starts_ollama());
            let read = planner.read(&declared.resource).and_then(|before| {
                let after = resource
                    .desired_on(&planner.target)
                    .with_context(|| format!("planning {id}"))?;
                Ok((before, after))
            });
            let (before, after) = match read {
                Err(err) if starts_ollama && ollama_unreachable(&err) => {
                    let mut planned = change(
                        &planner.target,
                        &declared.resource,
                        &declared.depends_on,
                        Action::Create,
                        None,
                        resource.desired(),
                        declared.sensitive,
                    );
                    planned.known_after_apply = true;
                    changes.push(planned);
                    continue;
                }
                other => other?,
            };
            let record = records.and_then(|r| r.get(&id));
            let recorded = record.is_some();
            let forgotten = !recorded && state.is_some_and(|s| s.forgotten.contains(&id));
            // An apply that stopped after saving the original, before the value it read
            // back: the Mac may already be as asked, and drift compares against that value,
            // so apply records it now.
            let unfinished = record.is_some_and(|r| r.applied.is_none());
            // Warn of a label the user wrote that no job has, when apply writes or records
            // its override or macllm keeps one it wrote. An override already there as asked
            // is someone's choice (Homebrew's service has a plist only while started), and a
            // job macllm adds on its own (Homebrew's, off for `server: own`) may be absent.
            let written = matches!(
                declared.path.first(),
                Some(crate::spec::locate::Segment::Key(section)) if section == "services"
            );
            let ours = before != after || forgotten || recorded;
            if written
                && ours
                && let Some(unknown) = resource
                    .unknown_on(&planner.target)
                    .with_context(|| format!("reading {id}"))?
            {
                warnings.push(unknown_warning(declared, &id, unknown));
            }
            if before != after || forgotten || unfinished {
                let action = match (&before, &after) {
                    _ if before == after => Action::Import,
                    (None, _) => Action::Create,
                    (_, None) => Action::Delete,
                    _ => Action::Update,
                };
                let mut planned = change(
                    &planner.target,
                    &declared.resource,
                    &declared.depends_on,
                    action,
                    before,
                    after,
                    declared.sensitive,
                );
                if action == Action::Import {
                    let why = if forgotten {
                        "`macllm state rm` took it out of the state"
                    } else {
                        "an earlier apply stopped before recording it"
                    };
                    planned.notes.insert(
                        0,
                        format!("already as the spec asks; {why}, and apply records it again"),
                    );
                }
                changes.push(planned);
            }
        }
        // Resources that left the spec go back to their originals, dependents first.
        if let Some(records) = records {
            let gone = records.keys().filter(|id| !declared.contains_key(*id));
            changes.extend(planner.restores(records, gone)?);
        }
    }

    if mode == Mode::Destroy
        && let Some(records) = records
    {
        changes.extend(planner.restores(records, records.keys())?);
    }

    if changes.iter().any(|c| c.needs_root && c.writes()) && !planner.target.facts()?.root {
        warnings.push(
            "some changes need root: apply will stop before changing anything unless run with sudo"
                .to_string(),
        );
    }

    let over_budget = match (mode, spec) {
        (Mode::Normal, Some(spec)) => match crate::sizing::check(spec, &planner.target) {
            Err(err) if ollama_unreachable(&err) && changes.iter().any(Change::starts_ollama) => {
                vec![
                    "the models cannot be sized against this Mac's memory until Ollama runs: plan again after apply"
                        .to_string(),
                ]
            }
            other => other?,
        },
        _ => Vec::new(),
    };
    let (said, said_notices) = planner.target.take_sorted();
    warnings.extend(said);
    notices.extend(said_notices);
    let mut drift = Vec::new();
    if let Some(records) = records {
        for (id, record) in records {
            let Some(applied) = &record.applied else {
                continue;
            };
            let found = planner.read(&record.resource)?;
            // A sensitive value is recorded as a keyed digest; compare digests.
            let comparable = if record.sensitive {
                protect(&found)?
            } else {
                found.clone()
            };
            if comparable != applied.value {
                drift.push(Drift {
                    id: id.clone(),
                    applied: applied.value.clone(),
                    found: comparable,
                    sensitive: record.sensitive,
                });
            }
        }
    }

    let settled = settled(&notices, &changes, spec, records);
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION.to_string(),
        host: host.name().to_string(),
        mode,
        state: state.map(State::reference),
        changes,
        settled,
        drift,
        warnings,
        over_budget,
        root: planner.target.known_root(),
        facts: planner.target.known_facts().cloned(),
    })
}

/// The notices a plan with `changes` has no reason to show: the resource a notice names
/// (`ID: ...`, one of the spec's or the state's) does not change, or it names none and
/// nothing changes.
fn settled(
    notices: &[String],
    changes: &[Change],
    spec: Option<&Spec>,
    records: Option<&BTreeMap<ResourceId, Record>>,
) -> Vec<String> {
    let known: Vec<ResourceId> = spec
        .into_iter()
        .flat_map(|s| s.resources.iter().map(|d| d.resource.as_resource().id()))
        .chain(records.into_iter().flat_map(|r| r.keys().cloned()))
        .collect();
    let names = |notice: &str, id: &ResourceId| {
        notice
            .strip_prefix(id.0.as_str())
            .is_some_and(|rest| rest.starts_with(": "))
    };
    notices
        .iter()
        .filter(|notice| {
            let changing = changes.iter().any(|c| names(notice, &c.id));
            let named = known.iter().any(|id| names(notice, id));
            !changing && (named || changes.is_empty())
        })
        .cloned()
        .collect()
}

/// "FILE:LINE: ID: MESSAGE", with a did-you-mean when a known name is close.
fn unknown_warning(
    declared: &crate::spec::Declared,
    id: &ResourceId,
    unknown: crate::resources::Unknown,
) -> String {
    use crate::spec::locate::Segment;
    let mut path = declared.path.clone();
    path.push(Segment::Key(unknown.field.to_string()));
    let at = declared.origin.error(&path, String::new());
    let mut warning = format!(
        "{}:{}: {id}: {}",
        at.file.display(),
        at.line,
        unknown.message
    );
    if let Some(hint) =
        crate::spec::suggest::did_you_mean(&unknown.name, unknown.known.iter().map(String::as_str))
    {
        warning.push_str(&format!("\nhint: {hint}"));
    }
    warning
}

/// Reads each resource at most once per plan (a resource is read for its change and again
/// for drift).
struct Planner<'a> {
    target: Target<'a>,
    observed: BTreeMap<ResourceId, Option<Value>>,
}

impl Planner<'_> {
    /// Sends the reads of `resources` that they can name as one batch, whose answers the
    /// plan's read cache keeps. A failure here costs nothing but the batch: each read then
    /// runs on its own and reports its own error (a host that cannot be reached says so
    /// at once: it remembers).
    fn prefetch<'r>(&self, resources: impl Iterator<Item = &'r AnyResource>) {
        let reads = crate::resources::reads_of(resources, &self.target);
        if !reads.is_empty() {
            let _ = self.target.host().run_batch(&reads, false);
        }
    }

    fn read(&mut self, resource: &AnyResource) -> Result<Option<Value>> {
        let resource = resource.as_resource();
        let id = resource.id();
        if let Some(value) = self.observed.get(&id) {
            return Ok(value.clone());
        }
        let value = resource
            .read(&self.target)
            .with_context(|| format!("reading {id}"))?;
        self.observed.insert(id, value.clone());
        Ok(value)
    }

    /// Restores of the records named by `ids` to their originals, in destroy order.
    fn restores<'r>(
        &mut self,
        records: &BTreeMap<ResourceId, Record>,
        ids: impl Iterator<Item = &'r ResourceId>,
    ) -> Result<Vec<Change>> {
        let nodes: Vec<(ResourceId, Vec<ResourceId>)> = ids
            .map(|id| (id.clone(), records[id].depends_on.clone()))
            .collect();
        let mut restores = Vec::new();
        for id in state_order(&nodes)? {
            let record = &records[&id];
            let before = self.read(&record.resource)?;
            restores.push(change(
                &self.target,
                &record.resource,
                &record.depends_on,
                Action::Restore,
                before,
                record.original.clone(),
                record.sensitive,
            ));
        }
        Ok(restores)
    }
}

fn change(
    target: &Target,
    resource: &AnyResource,
    depends_on: &[ResourceId],
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
    sensitive: bool,
) -> Change {
    let r = resource.as_resource();
    Change {
        id: r.id(),
        action,
        before,
        after,
        resource: resource.clone(),
        depends_on: depends_on.to_vec(),
        restart: r.restart(),
        needs_root: r.needs_root(),
        // A method the host no longer offers (a restore after Ollama was removed) only loses
        // its note, never the change.
        notes: r.notes_on(target).unwrap_or_else(|_| r.notes()),
        sensitive,
        known_after_apply: false,
    }
}

/// What state keeps of a sensitive value: its keyed digest.
pub fn protect(value: &Option<Value>) -> Result<Option<Value>> {
    value
        .as_ref()
        .map(|v| Ok(Value::String(crate::secret::digest(&v.inline())?)))
        .transpose()
}

/// Destroy order for records: their recorded dependencies reversed. Dependencies on ids that
/// are no longer recorded are dropped (they were restored already).
fn state_order(nodes: &[(ResourceId, Vec<ResourceId>)]) -> Result<Vec<ResourceId>> {
    let known: std::collections::BTreeSet<&ResourceId> = nodes.iter().map(|(id, _)| id).collect();
    let nodes: Vec<(ResourceId, Vec<ResourceId>)> = nodes
        .iter()
        .map(|(id, deps)| {
            (
                id.clone(),
                deps.iter().filter(|d| known.contains(d)).cloned().collect(),
            )
        })
        .collect();
    let graph = Graph::build(&nodes)
        .map_err(|err| anyhow::anyhow!("the state's dependencies are inconsistent: {err:?}"))?;
    Ok(graph.destroy_order())
}
