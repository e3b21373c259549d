//! Executes a plan it is given, in the plan's order. Per change: record the original in the
//! state and save (before the host is touched), write, read back and require the value asked
//! for ("did not converge" otherwise), record what was read and save. A crash anywhere leaves
//! a state the next run converges from. Restarts run once, after the writes that need them.

use crate::output::Ui;
use crate::plan::{Action, Change, Plan};
use crate::resources::{AnyResource, Restart, Restarted};
use crate::state::{Applied, Record, State, StateFile, StateLock};
use crate::target::Target;
use anyhow::{Context, Result, bail};

/// The resource as the state file keeps it: with any secret in it masked.
fn recorded_resource(change: &Change) -> Result<AnyResource> {
    if !change.sensitive {
        return Ok(change.resource.clone());
    }
    let masked = crate::mask::mask(&serde_json::to_string(&change.resource)?);
    Ok(serde_json::from_str(&masked)?)
}

pub struct Applier<'a> {
    /// The host with its facts, read at most once for the whole apply however many
    /// resources need them.
    pub target: Target<'a>,
    pub file: &'a StateFile,
    pub lock: &'a StateLock,
    pub ui: &'a Ui,
    pub restart: bool,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
}

impl Applier<'_> {
    /// Applies every change; on the first failure stops, still runs the restarts the
    /// completed writes need, and returns the error.
    pub fn apply(&self, plan: &Plan, state: &mut State) -> Result<Outcome> {
        let mut outcome = Outcome::default();
        // Restarts owed by completed writes, with the changes that owe them. One runs early
        // when a later change depends on a change that needs it (a model created after the
        // server has restarted with its new variables); the rest run once at the end.
        let mut pending: Vec<(Restart, Vec<&Change>)> = Vec::new();
        let mut failure = None;
        // A change an earlier run was killed in the middle of (in flight in the state) is
        // finished first, before any other change touches the host: a later change may rely
        // on what it was halfway through (a model pulled into a folder moved away and not yet
        // linked back would make a second folder). One that depends on a change in this plan
        // keeps its place after it.
        let interrupted = |change: &&Change| {
            state
                .resources
                .get(&change.id)
                .is_some_and(|record| record.applied.is_none())
                && !plan
                    .changes
                    .iter()
                    .any(|other| change.depends_on.contains(&other.id))
        };
        let (first, rest): (Vec<&Change>, Vec<&Change>) =
            plan.changes.iter().partition(interrupted);
        for change in first.into_iter().chain(rest) {
            let due: Vec<usize> = pending
                .iter()
                .enumerate()
                .filter(|(_, (_, owed))| owed.iter().any(|c| change.depends_on.contains(&c.id)))
                .map(|(i, _)| i)
                .collect();
            for index in due.into_iter().rev() {
                let (restart, owed) = pending.remove(index);
                if let Err(err) = self.run_restart(&restart, &owed) {
                    failure = Some(err);
                }
            }
            if failure.is_some() {
                break;
            }
            match self.apply_one(change, state) {
                Ok(()) => {
                    match change.action {
                        Action::Create => outcome.added += 1,
                        Action::Update => outcome.changed += 1,
                        Action::Delete | Action::Restore => outcome.destroyed += 1,
                    }
                    if change.writes()
                        && let Some(restart) = &change.restart
                    {
                        match pending.iter_mut().find(|(r, _)| r == restart) {
                            Some((_, owed)) => owed.push(change),
                            None => pending.push((restart.clone(), vec![change])),
                        }
                    }
                }
                Err(err) => {
                    failure = Some(err.context(format!("applying {}", change.id)));
                    break;
                }
            }
        }
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        for (restart, owed) in pending {
            if let Err(err) = self.run_restart(&restart, &owed) {
                failure.get_or_insert(err);
            }
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(outcome),
        }
    }

    fn apply_one(&self, change: &Change, state: &mut State) -> Result<()> {
        let resource = change.resource.as_resource();
        // Known only now that an earlier change started Ollama: the value there, read now, is
        // the original, and nothing is written when it already is what the spec wants.
        let known_now;
        let change = if change.known_after_apply {
            resource.wait_until_readable(&self.target)?;
            let before = resource
                .read(&self.target)
                .with_context(|| format!("reading {} once Ollama runs", change.id))?;
            let after = resource.desired_on(&self.target)?;
            known_now = Change {
                action: if before.is_none() {
                    Action::Create
                } else {
                    Action::Update
                },
                before,
                after,
                known_after_apply: false,
                ..change.clone()
            };
            &known_now
        } else {
            change
        };
        // An original kept encrypted is decrypted only now, to be written back.
        let opened;
        let change = match &change.after {
            Some(after) if change.action == Action::Restore && crate::secret::is_sealed(after) => {
                opened = Change {
                    after: Some(crate::secret::open(&change.id.0, after)?),
                    ..change.clone()
                };
                &opened
            }
            _ => change,
        };
        // A removal the plan found already done is read again at its turn: an earlier change
        // may have brought the value back since (finishing an interrupted folder move puts
        // back the models that were inside it), and destroy must not report a removal it
        // did not do.
        let read_again;
        let change =
            if matches!(change.action, Action::Restore | Action::Delete) && !change.writes() {
                read_again = Change {
                    before: resource
                        .read(&self.target)
                        .with_context(|| format!("reading {} again", change.id))?,
                    ..change.clone()
                };
                &read_again
            } else {
                change
            };
        let verb = match change.action {
            Action::Create => "Creating",
            Action::Update => "Modifying",
            Action::Delete => "Deleting",
            Action::Restore => "Restoring",
        };
        if change.action != Action::Restore
            && !state.resources.contains_key(&change.id)
            && let Some(before) = &change.before
            && let Some(refusal) = resource.halfway_not_ours(&self.target, before)
        {
            bail!("{refusal}");
        }
        if change.action != Action::Restore {
            // The original goes to disk before the host changes, so destroy can always put
            // it back; `applied: None` marks the resource as in flight.
            let resource = recorded_resource(change)?;
            let record = state
                .resources
                .entry(change.id.clone())
                .or_insert_with(|| Record {
                    resource: resource.clone(),
                    depends_on: change.depends_on.clone(),
                    original: change.before.clone(),
                    applied: None,
                    sensitive: change.sensitive,
                });
            // A sensitive resource's original (perhaps an earlier secret) is kept encrypted,
            // also when an earlier apply recorded it in clear.
            if change.sensitive
                && let Some(original) = &record.original
                && !crate::secret::is_sealed(original)
            {
                record.original = Some(crate::secret::seal(&change.id.0, original)?);
            }
            record.resource = resource;
            record.sensitive = change.sensitive;
            record.depends_on = change.depends_on.clone();
            record.applied = None;
            self.file.save(state, self.lock)?;
        }
        let started = std::time::Instant::now();
        let mut applied = change.after.clone();
        if change.writes() {
            self.ui.progress(&format!("{}: {verb}...", change.id));
            let target = &self.target;
            resource.write(target, change.after.as_ref())?;
            let read_back = resource.read(target).context("reading the value back")?;
            // What the write should have produced, computed now: a custom model's target
            // includes what it inherits from its base, which may only now be on the host.
            let expected = if change.action == Action::Restore {
                change.after.clone()
            } else {
                resource.desired_on(target)?
            };
            for warning in target.take_warnings() {
                self.ui.warn(&warning);
            }
            let (settled, wanted) = (
                resource.before_restart(read_back.clone()),
                resource.before_restart(expected.clone()),
            );
            if settled != wanted {
                let show = |v: &Option<crate::value::Value>| {
                    v.as_ref().map_or("absent".to_string(), |v| v.inline())
                };
                bail!(
                    "did not converge: wrote {} but read back {}",
                    show(&wanted),
                    show(&settled)
                );
            }
            // What settles with the restart is recorded as expected; the restart checks it.
            applied = expected;
        }
        if change.action == Action::Restore {
            state.resources.remove(&change.id);
        } else if let Some(record) = state.resources.get_mut(&change.id) {
            let value = if change.sensitive {
                crate::plan::protect(&applied)?
            } else {
                applied
            };
            record.applied = Some(Applied { value });
        }
        self.file.save(state, self.lock)?;
        if change.writes() {
            self.ui.progress(&format!(
                "{}: {} complete after {}s",
                change.id,
                match change.action {
                    Action::Create => "Creation",
                    Action::Update => "Modifications",
                    Action::Delete => "Deletion",
                    Action::Restore => "Restore",
                },
                started.elapsed().as_secs()
            ));
        }
        Ok(())
    }

    /// Runs one restart, with what the writes that need it wrote (removals check nothing).
    fn run_restart(&self, restart: &Restart, owed: &[&Change]) -> Result<()> {
        // A logout is never run, so `--no-restart` has nothing to skip.
        if !self.restart && !matches!(restart, Restart::Logout(_)) {
            self.ui.progress(&format!(
                "Skipped `{}` (--no-restart); do it yourself for the changes to take effect.",
                restart.describe()
            ));
            return Ok(());
        }
        let written: Vec<&AnyResource> = owed
            .iter()
            .filter(|change| change.after.is_some())
            .map(|change| &change.resource)
            .collect();
        let restarted = restart.run(&self.target, &written)?;
        for warning in self.target.take_warnings() {
            self.ui.warn(&warning);
        }
        match restarted {
            Restarted::Done(line) => self.ui.progress(&line),
            Restarted::Warning(warning) => self.ui.warn(&warning),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Host, Invocation, Output};
    use crate::plan::{Mode, PLAN_FORMAT_VERSION};
    use crate::resources::ResourceId;
    use crate::resources::defaults::DefaultsKey;
    use crate::value::Value;

    /// A Mac whose preferences never change: like an app that rewrites its own key at once.
    struct Stubborn;

    impl Host for Stubborn {
        fn name(&self) -> &str {
            "stubborn"
        }

        fn run(&self, invocation: &Invocation) -> Result<Output> {
            Ok(match invocation.argv.get(1).map(String::as_str) {
                Some("export") => Output::ok(Value::Dict(Default::default()).to_xml_document()),
                Some("-u") => Output::ok("501\n"),
                _ => Output::ok(""),
            })
        }

        fn http(
            &self,
            _request: &crate::host::HttpRequest,
            _on_line: &mut dyn FnMut(&str),
        ) -> Result<crate::host::HttpResponse> {
            anyhow::bail!("no Ollama here")
        }
    }

    #[test]
    fn a_value_that_does_not_stick_is_an_error_and_stays_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s.json"));
        let lock = file.lock("test").unwrap();
        let resource = AnyResource::Defaults(DefaultsKey {
            domain: "com.example".into(),
            key: "k".into(),
            current_host: false,
            value: Some(Value::Integer(1)),
        });
        let plan = Plan {
            format_version: PLAN_FORMAT_VERSION.into(),
            host: "stubborn".into(),
            mode: Mode::Normal,
            state: None,
            changes: vec![Change {
                id: ResourceId("defaults:com.example:k".into()),
                action: Action::Create,
                before: None,
                after: Some(Value::Integer(1)),
                resource,
                depends_on: vec![],
                restart: None,
                needs_root: false,
                notes: vec![],
                sensitive: false,
                known_after_apply: false,
            }],
            drift: vec![],
            warnings: vec![],
            over_budget: vec![],
        };
        let mut state = State::new("stubborn").unwrap();
        let ui = Ui {
            quiet: true,
            ..Ui::plain()
        };
        let applier = Applier {
            target: Target::new(&Stubborn),
            file: &file,
            lock: &lock,
            ui: &ui,
            restart: false,
        };
        let err = applier.apply(&plan, &mut state).unwrap_err();
        assert!(
            format!("{err:#}").contains("did not converge: wrote 1 but read back absent"),
            "{err:#}"
        );
        let saved = file.load().unwrap().unwrap();
        let record = &saved.resources[&ResourceId("defaults:com.example:k".into())];
        assert_eq!(record.original, None);
        assert_eq!(record.applied, None);
    }
}
