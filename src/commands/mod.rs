//! Thin wrappers, one per subcommand: load the spec, pick the host, plan, render, apply, save.
//! The steps themselves live in `spec`, `plan`, `render`, `apply` and `state`.

mod apply;
mod bench;
mod drift;
mod facts;
mod graph;
mod plan;
mod sandbox;
mod state;

use crate::cli::{Command, Global};
use crate::host::Host;
use crate::host::local::LocalHost;
use crate::output::Ui;
use crate::sandbox::SandboxHost;
use crate::spec::Spec;
use crate::state::StateFile;
use anyhow::{Result, bail};
use std::path::PathBuf;

/// One host's collected output and result, when several run at once.
type HostRun = (crate::output::Captured, Result<i32>);

/// A host's run as its worker left it (a worker that panicked left nothing).
fn finished(slot: std::sync::Mutex<Option<HostRun>>) -> HostRun {
    slot.into_inner().ok().flatten().unwrap_or_else(|| {
        (
            crate::output::Captured::default(),
            Err(anyhow::anyhow!("the host's run ended early")),
        )
    })
}

pub struct Context {
    pub global: Global,
    pub ui: Ui,
}

pub fn run(global: Global, command: Command) -> Result<i32> {
    let ui = Ui::new(global.no_color, global.json, global.quiet, global.verbose);
    let context = Context { global, ui };
    match command {
        Command::Validate => validate(&context),
        Command::Plan(args) => plan::run(&context, args),
        Command::Apply(args) => apply::run(&context, args),
        Command::Destroy(args) => apply::destroy(&context, args),
        Command::Drift => drift::run(&context),
        Command::State(command) => state::run(&context, command),
        Command::Graph => graph::run(&context),
        Command::Facts => facts::run(&context),
        Command::Sandbox(command) => sandbox::run(&context, command),
        Command::Bench { model, runs } => bench::run(&context, &model, runs),
        Command::Modules(command) => modules(&context, command),
        Command::Recommend => recommend(&context),
        Command::Secret(command) => secret(&context, command),
        Command::Export(command) => export(&context, command),
    }
}

/// `export mobileconfig`: renders the spec for the default emulated Mac (it touches no host)
/// and writes the profile.
fn export(context: &Context, command: crate::cli::ExportCommand) -> Result<i32> {
    let crate::cli::ExportCommand::Mobileconfig {
        identifier,
        organization,
        display_name,
        out,
    } = command;
    let preset = crate::sandbox::default_preset();
    let spec = context.spec_for_preset(preset)?;
    let profile = crate::export::mobileconfig(
        &spec,
        &crate::export::Options {
            identifier,
            organization,
            display_name,
        },
    )?;
    for skipped in &profile.skipped {
        context.ui.warn(&format!("skipped {skipped}"));
    }
    match out {
        Some(path) => {
            std::fs::write(&path, &profile.xml)
                .map_err(|err| anyhow::anyhow!("writing {}: {err}", path.display()))?;
            context.ui.progress(&format!("Wrote {}", path.display()));
        }
        None => context.ui.data(&profile.xml),
    }
    Ok(0)
}

fn secret(context: &Context, command: crate::cli::SecretCommand) -> Result<i32> {
    use std::io::{BufRead, IsTerminal, Write};
    match command {
        crate::cli::SecretCommand::Set { name } => {
            let terminal = std::io::stdin().is_terminal();
            let mut line = String::new();
            if terminal {
                eprint!("Value for {name}: ");
                let _ = std::io::stderr().flush();
                // `stty -echo` on the terminal itself (argv, inherited stdin): the typed value
                // is not shown, and echo comes back even if reading fails.
                let stty = |flag: &str| {
                    std::process::Command::new("stty")
                        .arg(flag)
                        .stdin(std::process::Stdio::inherit())
                        .status()
                };
                let hidden = stty("-echo").is_ok_and(|s| s.success());
                let read = std::io::stdin().lock().read_line(&mut line);
                if hidden {
                    let _ = stty("echo");
                    eprintln!();
                }
                read?;
            } else {
                std::io::stdin().lock().read_line(&mut line)?;
            }
            let value = line.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                bail!("no value given for the secret `{name}`");
            }
            crate::secret::set(&name, value)?;
            context
                .ui
                .data(&format!("Stored the secret `{name}` in the keyring.\n"));
        }
        crate::cli::SecretCommand::Rm { name } => {
            crate::secret::remove(&name)?;
            context
                .ui
                .data(&format!("Removed the secret `{name}` from the keyring.\n"));
        }
    }
    Ok(0)
}

fn recommend(context: &Context) -> Result<i32> {
    context.for_each_host(|host, _| {
        let facts = crate::facts::Facts::read(host)?;
        let recommendation = crate::recommend::recommend(&facts);
        if context.ui.json {
            let mut value = serde_json::to_value(&recommendation)?;
            value["format_version"] = crate::plan::PLAN_FORMAT_VERSION.into();
            value["host"] = host.name().into();
            context
                .ui
                .data(&(serde_json::to_string_pretty(&value)? + "\n"));
        } else {
            context.ui.data(&crate::recommend::render(&recommendation));
        }
        Ok(0)
    })
}

fn modules(context: &Context, command: crate::cli::ModulesCommand) -> Result<i32> {
    use crate::spec::modules::{SHIPPED, description};
    match command {
        crate::cli::ModulesCommand::List => {
            let lines: String = SHIPPED
                .iter()
                .map(|(name, text)| format!("{name:<18} {}\n", description(text)))
                .collect();
            context.ui.data(&lines);
        }
        crate::cli::ModulesCommand::Show { name } => {
            let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name) else {
                bail!(
                    "unknown module `{name}`\nhint: `macllm modules list` shows the shipped ones"
                );
            };
            context.ui.data(text);
        }
    }
    Ok(0)
}

/// Parses and checks the spec without touching a host. A spec with templates is rendered
/// with the facts of every emulated preset, so a template that breaks on some Macs (8 GB
/// ones, say) is caught here.
fn validate(context: &Context) -> Result<i32> {
    let presets = crate::sandbox::PRESETS;
    let mut specs = Vec::new();
    for preset in presets {
        let spec = context
            .spec_for_preset(preset)
            .map_err(|err| err.context(format!("rendered for a {}", preset.summary)))?;
        let templated = spec.text != std::fs::read_to_string(&spec.file).unwrap_or_default();
        specs.push(spec);
        if !templated {
            break;
        }
    }
    let spec = &specs[0];
    let checked = if specs.len() > 1 {
        format!(" (rendered for each of the {} emulated Macs)", specs.len())
    } else {
        String::new()
    };
    if context.ui.json {
        let ids: Vec<String> = spec
            .graph
            .apply_order()
            .into_iter()
            .map(|id| id.0)
            .collect();
        context.ui.data(
            &(serde_json::json!({
                "format_version": crate::plan::PLAN_FORMAT_VERSION,
                "valid": true,
                "resources": ids,
            })
            .to_string()
                + "\n"),
        );
    } else {
        context.ui.data(&format!(
            "Success! {} is valid: {} resources{checked}.\n",
            spec.file.display(),
            spec.resources.len()
        ));
    }
    Ok(0)
}

impl Context {
    /// The spec rendered for `host`: its facts are read only if the spec has templates.
    pub fn spec_for(&self, host: &dyn Host) -> Result<Spec> {
        let vars = self.host_vars(host.name())?;
        self.load_spec(&|| crate::facts::Facts::read(host), &vars)
    }

    /// An inventory host's own `vars` (null when it has none or there is no inventory).
    fn host_vars(&self, host_name: &str) -> Result<serde_json::Value> {
        Ok(self
            .inventory()?
            .into_iter()
            .find(|m| m.host == host_name)
            .map(|m| m.vars)
            .unwrap_or(serde_json::Value::Null))
    }

    fn inventory(&self) -> Result<Vec<crate::inventory::Member>> {
        match &self.global.inventory {
            Some(file) => crate::inventory::load(file, self.global.limit.as_deref()),
            None => Ok(Vec::new()),
        }
    }

    /// The spec rendered with the facts of an emulated Mac of `preset`, touching no host.
    pub fn spec_for_preset(&self, preset: &crate::sandbox::Preset) -> Result<Spec> {
        self.load_spec(
            &|| Ok(crate::sandbox::facts_of_preset(preset)),
            &serde_json::Value::Null,
        )
    }

    fn load_spec(
        &self,
        facts: &dyn Fn() -> Result<crate::facts::Facts>,
        host_vars: &serde_json::Value,
    ) -> Result<Spec> {
        let options = crate::spec::ollama::Options {
            allow_unknown_env: self.global.allow_unknown_env,
        };
        let spec = Spec::load(&self.global.spec, options, facts, host_vars)?;
        for warning in &spec.warnings {
            self.ui.warn(warning);
        }
        Ok(spec)
    }

    /// The hosts named by `--host`, `local` when none.
    /// `--host`s, then the inventory's hosts; `local` when there are none.
    pub fn host_names(&self) -> Result<Vec<String>> {
        let mut names = self.global.hosts.clone();
        for member in self.inventory()? {
            if !names.contains(&member.host) {
                names.push(member.host);
            }
        }
        if names.is_empty() {
            names.push("local".to_string());
        }
        Ok(names)
    }

    /// Runs `work` once per host; with several hosts each gets a header, one failing does not
    /// stop the others, and the exit code is the worst one (1 beats 2 beats 0).
    pub fn for_each_host(
        &self,
        work: impl Fn(&dyn Host, &StateFile) -> Result<i32> + Sync,
    ) -> Result<i32> {
        let work = |host: &dyn Host, file: &StateFile| {
            if self.ui.verbose {
                let echo = |display: &str| self.ui.command(display);
                work(&crate::host::Verbose { host, echo: &echo }, file)
            } else {
                work(host, file)
            }
        };
        let run_one = |name: &str| -> Result<i32> {
            let host = open_host(name)?;
            let file = self.state_file(host.name());
            work(host.as_ref(), &file)
        };
        let names = self.host_names()?;
        if names.len() == 1 {
            return run_one(&names[0]);
        }
        // Several hosts: `--parallelism` at a time (Ansible's default of 5), each on its own
        // thread with its output collected, then printed host by host in the given order.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<HostRun>>> =
            names.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..self.global.parallelism.clamp(1, names.len()) {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(name) = names.get(index) else { break };
                        crate::output::start_capture();
                        let result = run_one(name);
                        if let Err(err) = &result {
                            crate::print_error(err);
                        }
                        let text = crate::output::take_capture();
                        if let Ok(mut slot) = results[index].lock() {
                            *slot = Some((text, result));
                        }
                    }
                });
            }
        });
        if self.ui.json {
            return Ok(self.json_summary(&names, results));
        }
        let mut worst = 0;
        let mut summary = Vec::new();
        let (mut failed, mut changed) = (0, 0);
        for (name, slot) in names.iter().zip(results) {
            let (text, result) = finished(slot);
            self.ui.data(&format!("\n=== {name} ===\n"));
            crate::output::emit(&text.all, false);
            let outcome = match &result {
                Ok(0) => "ok".to_string(),
                Ok(2) => {
                    changed += 1;
                    "ok, changes or drift (2)".to_string()
                }
                Ok(code) => format!("exit {code}"),
                Err(err) => {
                    failed += 1;
                    format!(
                        "failed: {}",
                        err.to_string().lines().next().unwrap_or_default()
                    )
                }
            };
            summary.push(format!("  {name}: {outcome}\n"));
            worst = match (worst, &result) {
                (_, Err(_)) | (1, _) => 1,
                (w, Ok(code)) => w.max(*code),
            };
        }
        self.ui.data(&format!(
            "\n=== summary ===\n{}{} hosts: {} ok, {} failed{}.\n",
            summary.concat(),
            names.len(),
            names.len() - failed,
            failed,
            if changed > 0 {
                format!(", {changed} with changes or drift")
            } else {
                String::new()
            }
        ));
        Ok(worst)
    }

    /// With `--json` and several hosts: one document holding each host's own document (or
    /// its error) and exit code.
    fn json_summary(
        &self,
        names: &[String],
        results: Vec<std::sync::Mutex<Option<HostRun>>>,
    ) -> i32 {
        let mut worst = 0;
        let mut hosts = Vec::new();
        for (name, slot) in names.iter().zip(results) {
            let (text, result) = finished(slot);
            let (exit, error) = match &result {
                Ok(code) => (*code, None),
                Err(err) => (1, Some(format!("{err:#}"))),
            };
            worst = if worst == 1 || exit == 1 {
                1
            } else {
                worst.max(exit)
            };
            let output = serde_json::from_str::<serde_json::Value>(text.data.trim())
                .unwrap_or(serde_json::Value::Null);
            hosts.push(serde_json::json!({
                "host": name,
                "exit_code": exit,
                "error": error,
                "result": output,
            }));
        }
        let document = serde_json::json!({
            "format_version": crate::plan::PLAN_FORMAT_VERSION,
            "hosts": hosts,
        });
        self.ui
            .data(&(serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"));
        worst
    }

    /// `state/<host>.json` in the working directory (where a dotfiles repository keeps its
    /// `macllm.yaml`, as Terraform keeps its state in the working directory), or in
    /// `--state-dir`. Not derived from `--spec`: `drift`, `destroy` and `state` need no spec,
    /// and must find the same file as the `apply` that wrote it.
    pub fn state_file(&self, host_name: &str) -> StateFile {
        let dir = self
            .global
            .state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("state"));
        StateFile::new(dir.join(format!("{}.json", file_name_for(host_name))))
    }
}

/// `sandbox:demo-mac` -> `sandbox-demo-mac`: only characters every file system accepts.
pub fn file_name_for(host_name: &str) -> String {
    let cleaned: String = host_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    cleaned.trim_matches(['-', '.']).to_string()
}

pub fn open_host(name: &str) -> Result<Box<dyn Host>> {
    if name == "local" {
        return Ok(Box::new(LocalHost));
    }
    if let Some(dir) = name.strip_prefix("sandbox:") {
        if dir.is_empty() {
            bail!("`--host sandbox:` needs a directory, as in `--host sandbox:demo-mac`");
        }
        return Ok(Box::new(SandboxHost::open_or_create(&PathBuf::from(dir))?));
    }
    if let Some(spec) = name.strip_prefix("ssh:") {
        return Ok(Box::new(crate::host::ssh::SshHost::new(spec)?));
    }
    bail!("unknown host `{name}`; expected `local`, `sandbox:DIR` or `ssh:[USER@]NAME[:PORT]`")
}

/// Asks the Terraform question; only `yes` goes ahead.
pub fn confirm(ui: &Ui, question: &str, detail: &str) -> Result<bool> {
    use std::io::{BufRead, Write};
    if ui.json {
        bail!("--json needs --yes: there is no prompt to answer in JSON mode");
    }
    if crate::output::capturing() {
        bail!("several hosts run at once, so there is no prompt: pass --yes");
    }
    let mut out = std::io::stdout().lock();
    write!(
        out,
        "\n{question}\n  {detail}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    writeln!(out)?;
    Ok(answer.trim() == "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_become_safe_file_names() {
        assert_eq!(file_name_for("sandbox:demo-mac"), "sandbox-demo-mac");
        assert_eq!(file_name_for("sandbox:/tmp/x y"), "sandbox--tmp-x-y");
        assert_eq!(file_name_for("local"), "local");
    }
}
