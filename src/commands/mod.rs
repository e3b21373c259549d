//! Thin wrappers, one per subcommand: load the spec, pick the host, plan, render, apply, save.
//! The steps themselves live in `spec`, `plan`, `render`, `apply` and `state`; running one
//! command on many hosts in `fleet`.

mod apply;
mod bench;
mod completions;
mod drift;
mod export;
mod facts;
mod graph;
mod import;
mod init;
mod modules;
mod plan;
mod recommend;
mod sandbox;
mod schema;
mod secret;
mod state;
mod validate;
mod version;

pub use plan::OverBudget;

use crate::cli::{Command, Global};
use crate::host::Host;
use crate::host::local::LocalHost;
use crate::output::Ui;
use crate::sandbox::SandboxHost;
use crate::spec::Spec;
use crate::state::StateFile;
use anyhow::{Result, bail};
use std::path::PathBuf;

pub struct Context {
    pub global: Global,
    pub ui: Ui,
    /// Whether a `--host sandbox:DIR` that does not exist yet is created: only by `apply`
    /// of a spec (README's set-up command), never by a command that only reads.
    pub creates_sandbox: bool,
}

pub fn run(global: Global, command: Command) -> Result<i32> {
    let ui = Ui::new(global.no_color, global.json, global.quiet, global.verbose);
    let creates_sandbox = matches!(&command, Command::Apply(args) if args.planfile.is_none());
    let context = Context {
        global,
        ui,
        creates_sandbox,
    };
    match command {
        Command::Validate => validate::run(&context),
        Command::Plan(args) => plan::run(&context, args),
        Command::Apply(args) => apply::run(&context, args),
        Command::Destroy(args) => apply::destroy(&context, args),
        Command::Drift => drift::run(&context),
        Command::State(command) => state::run(&context, command),
        Command::Graph => graph::run(&context),
        Command::Facts => facts::run(&context),
        Command::Sandbox(command) => sandbox::run(&context, command),
        Command::Bench { model, runs } => bench::run(&context, &model, runs),
        Command::Modules(command) => modules::run(&context, command),
        Command::Recommend => recommend::run(&context),
        Command::Secret(command) => secret::run(&context, command),
        Command::Export(command) => export::run(&context, command),
        Command::Version => version::run(&context),
        Command::Completions { shell } => completions::run(&context, shell),
        Command::Import(args) => import::run(&context, args),
        Command::Init(args) => init::run(&context, args),
        Command::Schema { module } => schema::run(&context, module),
    }
}

impl Context {
    /// `--json`: prints `document` (an object) as one JSON document with `format_version`,
    /// the shape every command's JSON output shares.
    pub fn print_json(&self, mut document: serde_json::Value) -> Result<()> {
        document["format_version"] = crate::plan::PLAN_FORMAT_VERSION.into();
        self.ui
            .data(&(serde_json::to_string_pretty(&document)? + "\n"));
        Ok(())
    }

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

    /// An inventory host's `user:` (whose settings a root run changes there).
    fn host_user(&self, host_name: &str) -> Result<Option<String>> {
        Ok(self
            .inventory()?
            .into_iter()
            .find(|m| m.host == host_name)
            .and_then(|m| m.user))
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

    /// `--host`s, then the inventory's hosts, each once (a host named twice would otherwise
    /// run twice and trip over its own state lock); `local` when there are none.
    pub fn host_names(&self) -> Result<Vec<String>> {
        Ok(self.hosts()?.into_iter().map(|h| h.host).collect())
    }

    /// [`Context::host_names`], each with the name it is shown under: its inventory name
    /// when the inventory has it, else the host as given.
    fn hosts(&self) -> Result<Vec<crate::fleet::Named>> {
        let inventory = self.inventory()?;
        let mut hosts: Vec<crate::fleet::Named> = Vec::new();
        let given = self.global.hosts.iter().map(|host| {
            let member = inventory.iter().find(|m| m.host == *host);
            crate::fleet::Named {
                name: member.map_or(host, |m| &m.name).clone(),
                host: host.clone(),
            }
        });
        let listed = inventory.iter().map(|m| crate::fleet::Named {
            name: m.name.clone(),
            host: m.host.clone(),
        });
        for named in given.chain(listed) {
            if !hosts.iter().any(|h| h.host == named.host) {
                hosts.push(named);
            }
        }
        if hosts.is_empty() {
            hosts.push(crate::fleet::Named {
                name: "local".to_string(),
                host: "local".to_string(),
            });
        }
        Ok(hosts)
    }

    /// Runs `work` once per host (see `fleet::run`), through a host that echoes its commands
    /// with `-v`. `work` returns an exit code, or a [`crate::fleet::Done`] with counts for
    /// the fleet summary.
    pub fn for_each_host<R: Into<crate::fleet::Done>>(
        &self,
        work: impl Fn(&dyn Host, &StateFile) -> Result<R> + Sync,
    ) -> Result<i32> {
        let work = |host: &dyn Host, file: &StateFile| {
            if self.ui.verbose {
                let echo = |display: &str| self.ui.command(display);
                work(&crate::host::Verbose { host, echo: &echo }, file)
            } else {
                work(host, file)
            }
        };
        let run_one = |name: &str| -> Result<crate::fleet::Done> {
            let mut host = open_host(name, self.creates_sandbox)?;
            if let Some(user) = self.host_user(name)? {
                host = Box::new(crate::host::ForUser { host, user });
            }
            let host: Box<dyn Host> = Box::new(crate::host::constant::Constant::new(host));
            // The Mac and user are read (one batch, not echoed by `-v`) only when there is a
            // state to check or a new one to start; `Constant` keeps the answers for the run.
            let host: std::sync::Arc<dyn Host> = std::sync::Arc::from(host);
            let file = self.state_file(host.name()).with_identity_of(host.clone());
            work(host.as_ref(), &file).map(Into::into)
        };
        crate::fleet::run(&self.hosts()?, self.global.parallelism, &self.ui, run_one)
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
        StateFile::for_host(
            dir.join(format!(
                "{}.json",
                file_name_for(&crate::host::state_stem(host_name))
            )),
            host_name,
        )
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

/// The host NAME names; `create_sandbox` lets a `sandbox:DIR` that does not exist yet be made.
pub fn open_host(name: &str, create_sandbox: bool) -> Result<Box<dyn Host>> {
    if name == "local" {
        return Ok(Box::new(LocalHost));
    }
    if let Some(dir) = name.strip_prefix("sandbox:") {
        if dir.is_empty() {
            bail!("`--host sandbox:` needs a directory, as in `--host sandbox:demo-mac`");
        }
        let dir = PathBuf::from(dir);
        return Ok(Box::new(if create_sandbox {
            SandboxHost::open_or_create(&dir)?
        } else {
            SandboxHost::open(&dir)?
        }));
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
