//! Executes a plan it is given, in the plan's order, in waves (DESIGN.md section 4): the
//! changes that follow one another, need nothing of each other, and write with one command
//! each go together. Per wave: record the originals in the state and save (before the host is
//! touched), send the writes as one batch that stops at the first failure, read back once
//! per read the wave's resources share (a `defaults` domain, not a key), require the values
//! asked for ("did not converge" otherwise), record what was read and save. Other changes
//! are a wave of their own. A crash anywhere leaves a state the next run converges from.
//! Restarts run once, after the writes that need them.

use crate::host::{Invocation, Output};
use crate::output::Ui;
use crate::plan::{Action, Change, Plan};
use crate::resources::{AnyResource, Resource, ResourceId, Restart, Restarted};
use crate::state::{Applied, Record, State, StateFile, StateLock};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;

/// The resource as the state file keeps it: with any secret in it masked.
fn recorded_resource(change: &Change) -> Result<AnyResource> {
    if !change.sensitive {
        return Ok(change.resource.clone());
    }
    let masked = crate::mask::mask(&serde_json::to_string(&change.resource)?);
    Ok(serde_json::from_str(&masked)?)
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "Creating",
        Action::Update => "Modifying",
        Action::Delete => "Deleting",
        Action::Restore => "Restoring",
        Action::Import => "Importing",
    }
}

/// The value `change` writes: an original kept encrypted is decrypted only now, to be
/// written back.
fn opened(change: &Change) -> Result<Option<Value>> {
    match &change.after {
        Some(after) if change.action == Action::Restore && crate::secret::is_sealed(after) => {
            Ok(Some(crate::secret::open(&change.id.0, after)?))
        }
        other => Ok(other.clone()),
    }
}

/// The resources of `owed` as their changes wrote them (removals check nothing).
fn written<'c>(owed: &[&'c Change]) -> Vec<&'c AnyResource> {
    owed.iter()
        .filter(|change| change.after.is_some())
        .map(|change| &change.resource)
        .collect()
}

/// Records `change`'s original in `state` before the host is touched, so destroy can always
/// put it back; `applied: None` marks the resource as in flight. (The caller saves.)
fn record_original(change: &Change, state: &mut State) -> Result<()> {
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
    // A sensitive resource's original (perhaps an earlier secret) is kept encrypted, also
    // when an earlier apply recorded it in clear.
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
    state.forgotten.remove(&change.id);
    Ok(())
}

/// Records what `change` left on the host (a restore forgets the record). (The caller saves.)
fn record_applied(change: &Change, applied: Option<Value>, state: &mut State) -> Result<()> {
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
    Ok(())
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
    pub imported: usize,
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
        let order: Vec<&Change> = first.into_iter().chain(rest).collect();
        // On a terminal: `[N/M] ID` at the bottom while the changes run, gone at the end.
        let _status = self.ui.steps();
        let mut next = 0;
        while let Some(&change) = order.get(next) {
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
            let wave = self.wave(&order[next..], &pending, state);
            let shown = match wave.len() {
                0 | 1 => change.id.0.clone(),
                n => format!("{} and {} more", change.id, n - 1),
            };
            let number = next + 1;
            self.ui.show_step(number, order.len(), &shown);
            next += wave.len().max(1);
            let (done, error) = if wave.is_empty() {
                match self.apply_one(change, state) {
                    Ok(()) => (vec![change], None),
                    Err(err) => (
                        Vec::new(),
                        Some(err.context(format!("applying {}", change.id))),
                    ),
                }
            } else {
                self.apply_wave(&wave, state, (number, order.len()))
            };
            for change in done {
                match change.action {
                    Action::Create => outcome.added += 1,
                    Action::Update => outcome.changed += 1,
                    Action::Delete | Action::Restore => outcome.destroyed += 1,
                    Action::Import => outcome.imported += 1,
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
            if let Some(err) = error {
                failure = Some(err);
                break;
            }
        }
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        if let Err(err) = self.run_restarts(&pending) {
            failure.get_or_insert(err);
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(outcome),
        }
    }

    /// The changes at the start of `changes` that go as one wave, each with the command that
    /// writes it (`None`: it writes nothing); empty when the first one must go on its own (it
    /// is read only once Ollama runs, or writes with more than one command).
    fn wave<'c>(
        &self,
        changes: &[&'c Change],
        pending: &[(Restart, Vec<&Change>)],
        state: &State,
    ) -> Vec<(&'c Change, Option<Invocation>)> {
        let owed: HashSet<&ResourceId> = pending
            .iter()
            .flat_map(|(_, owed)| owed.iter().map(|c| &c.id))
            .collect();
        let mut ids: HashSet<&ResourceId> = HashSet::new();
        let mut wave = Vec::new();
        for &change in changes {
            let needs_earlier = change
                .depends_on
                .iter()
                .any(|id| ids.contains(id) || owed.contains(id));
            // What `apply_one` must look at first goes alone: a value read only once Ollama
            // runs, an original kept encrypted, a removal to read again at its turn, a value
            // that may be someone else's change stopped halfway.
            let sealed = change.action == Action::Restore
                && change.after.as_ref().is_some_and(crate::secret::is_sealed);
            let read_again =
                matches!(change.action, Action::Restore | Action::Delete) && !change.writes();
            let halfway = change.action != Action::Restore
                && !state.resources.contains_key(&change.id)
                && change.before.as_ref().is_some_and(|before| {
                    change
                        .resource
                        .as_resource()
                        .halfway_not_ours(&self.target, before)
                        .is_some()
                });
            if change.known_after_apply || needs_earlier || sealed || read_again || halfway {
                break;
            }
            let write = if change.writes() {
                match self.write_invocation(change) {
                    Some(invocation) => Some(invocation),
                    None => break,
                }
            } else {
                None
            };
            ids.insert(&change.id);
            wave.push((change, write));
        }
        wave
    }

    /// The one command that writes `change`, when its kind writes with one.
    fn write_invocation(&self, change: &Change) -> Option<Invocation> {
        let after = opened(change).ok()?;
        change
            .resource
            .as_resource()
            .write_invocation(&self.target, after.as_ref())
            .ok()
            .flatten()
    }

    /// Applies one wave (see the module's comment). Returns the changes completed, in order,
    /// and the first failure, after which nothing more of the wave is reported; what was
    /// written and read back as asked for is still recorded (and its restart still owed), so
    /// the state says what the host holds.
    /// `(first, total)`: the wave's first change is number `first` of `total`.
    fn apply_wave<'c>(
        &self,
        wave: &[(&'c Change, Option<Invocation>)],
        state: &mut State,
        (first, total): (usize, usize),
    ) -> (Vec<&'c Change>, Option<anyhow::Error>) {
        let started = std::time::Instant::now();
        let applying = match wave {
            [(change, _)] => format!("applying {}", change.id),
            [(change, _), rest @ ..] => {
                format!("applying {} and {} more changes", change.id, rest.len())
            }
            [] => "applying nothing".to_string(),
        };
        // The records as they were, for the changes the batch never reaches.
        let mut prior: Vec<(&ResourceId, Option<Record>)> = Vec::new();
        for (change, _) in wave {
            if change.action != Action::Restore {
                prior.push((&change.id, state.resources.get(&change.id).cloned()));
                if let Err(err) = record_original(change, state) {
                    return (
                        Vec::new(),
                        Some(err.context(format!("applying {}", change.id))),
                    );
                }
            }
        }
        if !prior.is_empty()
            && let Err(err) = self.file.save(state, self.lock)
        {
            return (Vec::new(), Some(err.context(applying)));
        }
        let writes: Vec<Invocation> = wave.iter().filter_map(|(_, w)| w.clone()).collect();
        // One read per domain for all the writes, after them in the same batch: the host
        // remembers those answers, and each read-back below is answered from them. When a
        // write fails the batch stops there, and a read-back it never reached runs on its own.
        let writing = wave
            .iter()
            .filter(|(_, write)| write.is_some())
            .map(|(change, _)| &change.resource);
        let mut batch = writes.clone();
        batch.extend(crate::resources::reads_of(writing, &self.target));
        let host = self.target.host();
        let mut outputs = match host.run_batch(&batch, true) {
            Ok(outputs) => outputs.into_iter().take(writes.len()),
            Err(err) => {
                let id = &wave[0].0.id;
                return (Vec::new(), Some(err.context(format!("applying {id}"))));
            }
        };
        let mut done = Vec::new();
        let mut failure: Option<anyhow::Error> = None;
        let mut untouched: HashSet<&ResourceId> = HashSet::new();
        for (number, (change, write)) in (first..).zip(wave) {
            let output = match write {
                Some(_) => match outputs.next() {
                    Some(output) => Some(output),
                    // The batch stopped before it: nothing of it ran.
                    None => {
                        untouched.insert(&change.id);
                        continue;
                    }
                },
                None => None,
            };
            let quiet = failure.is_some();
            if !quiet {
                self.ui.show_step(number, total, &change.id.0);
            }
            let result = self.settle(change, write.as_ref().zip(output), state, started, quiet);
            match result {
                Ok(()) => done.push(*change),
                Err(err) => {
                    failure.get_or_insert(err.context(format!("applying {}", change.id)));
                }
            }
        }
        // What the batch never reached goes back to what the state said before.
        for (id, record) in prior {
            if untouched.contains(id) {
                match record {
                    Some(record) => state.resources.insert(id.clone(), record),
                    None => state.resources.remove(id),
                };
            }
        }
        if let Err(err) = self.file.save(state, self.lock) {
            failure.get_or_insert(err.context(applying));
        }
        (done, failure)
    }

    /// After a wave's writes: judges the write of `change` (its command and output), reads
    /// the value back, requires what was asked for, and records it in `state` (no save).
    /// `quiet`: after an earlier failure, record without reporting.
    fn settle(
        &self,
        change: &Change,
        written: Option<(&Invocation, Output)>,
        state: &mut State,
        started: std::time::Instant,
        quiet: bool,
    ) -> Result<()> {
        let resource = change.resource.as_resource();
        let mut applied = change.after.clone();
        if let Some((invocation, output)) = written {
            if !quiet {
                self.ui
                    .progress(&format!("{}: {}...", change.id, verb(change.action)));
            }
            let after = opened(change)?;
            resource.written(&self.target, after.as_ref(), invocation, output)?;
            applied = self.check_read_back(change, quiet)?;
        }
        record_applied(change, applied, state)?;
        if (change.writes() || change.action == Action::Import) && !quiet {
            self.report_complete(change, started);
        }
        Ok(())
    }

    /// A change on its own (a wave of one that writes otherwise than with one command, or
    /// is read only once Ollama runs): original recorded and saved, write, read-back,
    /// applied value recorded and saved.
    fn apply_one(&self, change: &Change, state: &mut State) -> Result<()> {
        let resource = change.resource.as_resource();
        // Known only now that an earlier change started Ollama: the value there, read now, is
        // the original, and nothing is written when it already is what the spec wants.
        let known_now;
        let change = if change.known_after_apply {
            resource.wait_until_readable(&self.target)?;
            self.read_ahead(resource);
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
        let opened_change;
        let change = match &change.after {
            Some(after) if change.action == Action::Restore && crate::secret::is_sealed(after) => {
                opened_change = Change {
                    after: opened(change)?,
                    ..change.clone()
                };
                &opened_change
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
        if change.action != Action::Restore
            && !state.resources.contains_key(&change.id)
            && let Some(before) = &change.before
            && let Some(refusal) = resource.halfway_not_ours(&self.target, before)
        {
            bail!("{refusal}");
        }
        if change.action != Action::Restore {
            record_original(change, state)?;
            self.file.save(state, self.lock)?;
        }
        let started = std::time::Instant::now();
        let mut applied = change.after.clone();
        if change.writes() {
            self.ui
                .progress(&format!("{}: {}...", change.id, verb(change.action)));
            let after = opened(change)?;
            self.read_ahead(resource);
            resource.write(&self.target, after.as_ref())?;
            self.read_ahead(resource);
            applied = self.check_read_back(change, false)?;
        }
        record_applied(change, applied, state)?;
        self.file.save(state, self.lock)?;
        if change.writes() {
            self.report_complete(change, started);
        }
        Ok(())
    }

    /// On a remote Mac, sends the reads `resource` can name as one batch, whose answers the
    /// apply's host keeps until the next write: the write, or the read-back, that follows
    /// finds them there instead of paying a round trip for each.
    fn read_ahead(&self, resource: &dyn Resource) {
        let host = self.target.host();
        if let (true, Ok(reads)) = (host.remote(), resource.reads(&self.target))
            && reads.len() > 1
        {
            let _ = host.run_batch(&reads, false);
        }
    }

    /// Reads `change`'s value back after its write and requires what was asked for; returns
    /// the value to record as applied.
    fn check_read_back(&self, change: &Change, quiet: bool) -> Result<Option<Value>> {
        let resource = change.resource.as_resource();
        let target = &self.target;
        let settled = resource
            .read_before_restart(target)
            .context("reading the value back")?;
        // What the write should have produced, computed now: a custom model's target
        // includes what it inherits from its base, which may only now be on the host.
        let expected = if change.action == Action::Restore {
            opened(change)?
        } else {
            resource.desired_on(target)?
        };
        for warning in target.take_warnings() {
            if !quiet {
                self.ui.warn(&warning);
            }
        }
        let wanted = resource.before_restart(expected.clone());
        if settled != wanted {
            let show = |v: &Option<Value>| v.as_ref().map_or("absent".to_string(), |v| v.inline());
            bail!(
                "did not converge: wrote {} but read back {}",
                show(&wanted),
                show(&settled)
            );
        }
        // What settles with the restart is recorded as expected; the restart checks it.
        Ok(expected)
    }

    fn report_complete(&self, change: &Change, started: std::time::Instant) {
        self.ui.progress(&format!(
            "{}: {} complete after {}s",
            change.id,
            match change.action {
                Action::Create => "Creation",
                Action::Update => "Modifications",
                Action::Delete => "Deletion",
                Action::Restore => "Restore",
                Action::Import => "Import",
            },
            started.elapsed().as_secs()
        ));
    }

    /// The restarts owed at the end, in order, each run once. Those at the front that are
    /// one command each (quitting apps, reloading preferences) go as one batch: one round
    /// trip over SSH instead of one each. The first error is returned after all have run.
    fn run_restarts(&self, pending: &[(Restart, Vec<&Change>)]) -> Result<()> {
        let mut commands = Vec::new();
        if self.restart {
            for (restart, _) in pending {
                match restart.invocation(&self.target) {
                    Ok(Some(invocation)) => commands.push(invocation),
                    _ => break,
                }
            }
        }
        // A batch that failed as a whole says nothing of which ran (a host that could not
        // start a program): then each runs on its own, as it would without batches.
        let mut outputs = match commands.len() {
            0 | 1 => Vec::new(),
            _ => self
                .target
                .host()
                .run_batch(&commands, false)
                .unwrap_or_default(),
        }
        .into_iter();
        let mut failure = None;
        for (index, (restart, owed)) in pending.iter().enumerate() {
            let batched = commands.get(index).zip(outputs.next());
            let result = match batched {
                Some((invocation, output)) => {
                    let restarted =
                        restart.judge(&self.target, &written(owed), invocation, Ok(output));
                    self.report_restart(restarted);
                    Ok(())
                }
                None => self.run_restart(restart, owed),
            };
            if let Err(err) = result {
                failure.get_or_insert(err);
            }
        }
        failure.map_or(Ok(()), Err)
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
        let restarted = restart.run(&self.target, &written(owed))?;
        self.report_restart(restarted);
        Ok(())
    }

    fn report_restart(&self, restarted: Restarted) {
        for warning in self.target.take_warnings() {
            self.ui.warn(&warning);
        }
        match restarted {
            Restarted::Done(line) => self.ui.progress(&line),
            Restarted::Warning(warning) => self.ui.warn(&warning),
        }
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
            settled: vec![],
            over_budget: vec![],
            root: None,
            facts: None,
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
