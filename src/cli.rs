//! Command-line types only (clap derive). The names here are the contract of DESIGN.md
//! section 2.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

/// A subcommand's `Examples:` section: one command line each, as a user types it (the e2e test
/// `help_examples` parses and runs every one, so none can rot).
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("Examples:", $("\n  ", $line),+)
    };
}

/// Where a subcommand's help sends the reader for the options every command takes.
const GLOBALS_POINTER: &str =
    "Global options (--spec, --host, --state-dir, --json, -q, -v, ...): see `macllm --help`.";

/// The command line as the binary parses it, its help shows it, and the man pages describe
/// it. Global options are declared once on `macllm` (clap's `global = true`, so they are
/// accepted after any subcommand too), but a subcommand's help lists only its own options,
/// names the globals in its usage line as `[GLOBAL OPTIONS]`, and points to `macllm --help`.
pub fn command() -> clap::Command {
    let root = Cli::command();
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .map(|arg| arg.clone().hide(true))
        .collect();
    // clap derives a subcommand's usage from its parent's bin name; the root's own usage
    // line is then fixed by hand (it is the one place the globals are listed).
    let usage = format!("{} [OPTIONS] <COMMAND>", root.get_name());
    let bin_name = format!("{} [GLOBAL OPTIONS]", root.get_name());
    let names: Vec<String> = root
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    let mut root = root.bin_name(bin_name).override_usage(usage);
    for name in names {
        root = root.mut_subcommand(name, |sub| hide_globals(sub, &globals));
    }
    root
}

/// A hidden copy of each global option on `sub` (and its subcommands): clap propagates a
/// global to a subcommand only when it has no argument of that id, and a copy keeps the id,
/// so the option still parses there and reaches the same field, unlisted.
fn hide_globals(mut sub: clap::Command, globals: &[clap::Arg]) -> clap::Command {
    for arg in globals {
        sub = sub.arg(arg.clone());
    }
    // `Examples:` styled as clap styles its own headings (on a terminal only, as they are).
    let header = sub.get_styles().get_header();
    let after_help = match sub.get_after_help().map(ToString::to_string) {
        Some(examples) => match examples.strip_prefix("Examples:") {
            Some(lines) => format!("{GLOBALS_POINTER}\n\n{header}Examples:{header:#}{lines}"),
            None => format!("{GLOBALS_POINTER}\n\n{examples}"),
        },
        None => GLOBALS_POINTER.to_string(),
    };
    sub = sub.after_help(after_help);
    let names: Vec<String> = sub
        .get_subcommands()
        .map(|nested| nested.get_name().to_string())
        .collect();
    for name in names {
        sub = sub.mut_subcommand(name, |nested| hide_globals(nested, globals));
    }
    sub
}

/// Parses the process's arguments with [`command`].
pub fn parse() -> Result<Cli, clap::Error> {
    let mut command = command();
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches(&matches).map_err(|err| err.format(&mut command))
}

#[derive(Parser, Debug)]
#[command(
    name = "macllm",
    // The version and the commit it was built from (build.rs).
    version = env!("MACLLM_VERSION_LINE"),
    about = "Declarative setup of Macs that run local LLMs: plan, apply, drift, destroy",
    after_help = "Exit codes: 0 success (nothing to do), 1 error, 2 changes present \
                  (`plan --detailed-exitcode`) or drift found (`drift`)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The spec file.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        default_value = "macllm.yaml"
    )]
    pub spec: PathBuf,
    /// `local` (default), `sandbox:DIR` (an emulated Mac) or `ssh:[USER@]NAME[:PORT]`.
    #[arg(long = "host", global = true, value_name = "HOST")]
    pub hosts: Vec<String>,
    /// A fleet: hosts with names, vars and groups (YAML `hosts: {NAME: {host, vars, groups}}`).
    #[arg(long, global = true, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Only the inventory's hosts or groups matching PATTERN (`*` matches anything).
    #[arg(long, global = true, value_name = "PATTERN", requires = "inventory")]
    pub limit: Option<String>,
    /// How many hosts to work on at once when several `--host`s are given.
    #[arg(long, global = true, default_value_t = 5, value_name = "N")]
    pub parallelism: usize,
    /// Where state files live (default: `state/` in the working directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print one JSON document (with `format_version`) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// No colour even on a terminal (NO_COLOR is honoured too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Keep `OLLAMA_*` variables Ollama does not read (a warning instead of an error).
    #[arg(long, global = true)]
    pub allow_unknown_env: bool,
    /// A model that will not fit in the Mac's GPU memory is an error, not a warning.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Also print every command macllm runs on the host.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check the spec; touches no host.
    #[command(after_help = examples!(
        "macllm validate",
        "macllm --spec lab.yaml validate",
    ))]
    Validate,
    /// Show what apply would change.
    #[command(after_help = examples!(
        "macllm plan",
        "macllm plan --out tonight.plan",
        "macllm --host sandbox:mac plan --detailed-exitcode",
    ))]
    Plan(PlanArgs),
    /// Make the host match the spec (or apply a saved plan).
    #[command(after_help = examples!(
        "macllm apply",
        "macllm apply tonight.plan",
        "macllm apply --yes --no-restart",
    ))]
    Apply(ApplyArgs),
    /// Put every managed setting back to its value before macllm.
    #[command(after_help = examples!(
        "macllm destroy",
        "macllm --host ssh:admin@studio.local destroy --yes",
    ))]
    Destroy(DestroyArgs),
    /// Compare the host with what the last apply left (no spec needed).
    #[command(after_help = examples!(
        "macllm drift",
        "macllm --json drift",
    ))]
    Drift,
    /// Read or edit the state file.
    #[command(subcommand, after_help = examples!(
        "macllm state list",
        "macllm state show defaults:com.apple.dock:autohide",
    ))]
    State(StateCommand),
    /// Print the dependency graph as Graphviz DOT.
    #[command(after_help = examples!(
        "macllm graph",
        "macllm graph | dot -Tsvg -o graph.svg",
    ))]
    Graph,
    /// Print what macllm knows about the host.
    #[command(after_help = examples!(
        "macllm facts",
        "macllm --json --host sandbox:mac facts",
    ))]
    Facts,
    /// Measure a model's load time and tokens/s on this Mac, against its memory-bandwidth bound.
    ///
    /// Sends one fixed prompt through Ollama RUNS times (the model unloaded first, so the first
    /// run's load is cold) and reports the median of Ollama's own timings. Every generated token
    /// reads the whole model from memory, so no Mac generates faster than its memory bandwidth
    /// divided by the model's size: the bound, and how close the model comes to it.
    #[command(after_help = examples!(
        "macllm bench llama3.2:3b",
        "macllm --host sandbox:mac bench llama3.2:3b --runs 5",
    ))]
    Bench {
        /// An installed Ollama model (`ollama list` names them).
        model: String,
        /// How many times to run the fixed prompt (the median is reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
        runs: u32,
    },
    /// Which models, quantizations and contexts fit this Mac, and the tier's settings.
    #[command(after_help = examples!(
        "macllm recommend",
        "macllm --host sandbox:mac recommend",
    ))]
    Recommend,
    /// Write the spec in another format.
    #[command(subcommand, after_help = examples!(
        "macllm export mobileconfig --out llm.mobileconfig",
    ))]
    Export(ExportCommand),
    /// Store or remove a secret in the OS keyring (for `secret("NAME")` in specs).
    #[command(subcommand, after_help = examples!(
        "macllm secret set api_token",
        "macllm secret rm api_token",
    ))]
    Secret(SecretCommand),
    /// The modules shipped with macllm.
    #[command(subcommand, after_help = examples!(
        "macllm modules list",
        "macllm modules show lean-ui",
    ))]
    Modules(ModulesCommand),
    /// Create and use emulated Macs.
    #[command(subcommand, after_help = examples!(
        "macllm sandbox init mac --preset m1-8gb-monterey",
        "macllm sandbox run mac -- defaults read com.apple.dock autohide",
        "macllm sandbox presets",
    ))]
    Sandbox(SandboxCommand),
    /// The version and the commit this build comes from (`--json`: with the target too).
    #[command(after_help = examples!(
        "macllm version",
        "macllm version --json",
    ))]
    Version,
    /// Print the shell completion script for SHELL on stdout.
    #[command(after_help = examples!(
        "macllm completions zsh > ~/.zfunc/_macllm",
        "macllm completions bash > /usr/local/etc/bash_completion.d/macllm",
    ))]
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Write a spec of what the host has today; `plan` with it there changes nothing.
    #[command(after_help = examples!(
        "macllm import --out macllm.yaml",
        "macllm --host sandbox:mac import",
    ))]
    Import(WriteSpecArgs),
    /// Write a starter spec sized for the host (the tier's modules, a model that fits).
    #[command(after_help = examples!(
        "macllm init --out macllm.yaml",
        "macllm --host sandbox:mac init --out macllm.yaml --force",
    ))]
    Init(WriteSpecArgs),
    /// Print the JSON Schema of the spec, for editors (see README, "Editors").
    #[command(after_help = examples!(
        "macllm schema > macllm.schema.json",
        "macllm schema --module > module.schema.json",
    ))]
    Schema {
        /// The schema of a module file instead (its header and its resource sections).
        #[arg(long)]
        module: bool,
    },
}

/// The shells `macllm completions` writes a script for.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Args, Debug)]
pub struct WriteSpecArgs {
    /// Write the spec to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Save the plan for `macllm apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes (or, with --refresh-only, drift).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Only report drift since the last apply; plan no changes.
    #[arg(long)]
    pub refresh_only: bool,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A plan saved with `macllm plan --out`.
    pub planfile: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Do not restart Dock, Finder and the like after writing.
    #[arg(long)]
    pub no_restart: bool,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Do not restart Dock, Finder and the like after writing.
    #[arg(long)]
    pub no_restart: bool,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List the managed resource ids.
    #[command(after_help = examples!("macllm state list", "macllm --host sandbox:mac state list"))]
    List,
    /// Show one resource's record.
    #[command(after_help = examples!("macllm state show defaults:com.apple.dock:autohide"))]
    Show {
        /// A resource id, as `state list` prints it.
        id: String,
    },
    /// Stop managing a resource without changing the host.
    #[command(after_help = examples!("macllm state rm defaults:com.apple.dock:autohide"))]
    Rm {
        /// A resource id, as `state list` prints it.
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The spec's `defaults` as an MDM configuration profile (.mobileconfig) on stdout or
    /// `--out`; what a profile cannot express is listed on stderr as skipped.
    #[command(after_help = examples!(
        "macllm export mobileconfig --out llm.mobileconfig",
        "macllm export mobileconfig --identifier org.example.llm --organization Example",
    ))]
    Mobileconfig {
        /// The profile's PayloadIdentifier (reverse DNS).
        #[arg(long, default_value = crate::export::DEFAULT_IDENTIFIER)]
        identifier: String,
        /// The profile's PayloadOrganization.
        #[arg(long)]
        organization: Option<String>,
        /// The profile's PayloadDisplayName.
        #[arg(long)]
        display_name: Option<String>,
        /// Write the profile to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Store NAME: typed at a prompt on a terminal, else the first line of stdin.
    #[command(after_help = examples!("macllm secret set api_token"))]
    Set { name: String },
    /// Remove NAME.
    #[command(after_help = examples!("macllm secret rm api_token"))]
    Rm { name: String },
}

#[derive(Subcommand, Debug)]
pub enum ModulesCommand {
    /// Name and purpose of each shipped module.
    #[command(after_help = examples!("macllm modules list"))]
    List,
    /// The module's text, parameters included.
    #[command(after_help = examples!("macllm modules show ollama-tuning"))]
    Show {
        /// A module name, as `modules list` prints it.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Create an emulated Mac in DIR.
    #[command(after_help = examples!(
        "macllm sandbox init mac",
        "macllm sandbox init air --preset m1-8gb-monterey",
    ))]
    Init {
        /// The folder to create (it must not exist).
        dir: PathBuf,
        /// Hardware and macOS version; `macllm sandbox presets` lists them.
        #[arg(long, default_value = crate::sandbox::DEFAULT_PRESET)]
        preset: String,
    },
    /// Run one emulated command, as a user would in Terminal.
    #[command(after_help = examples!(
        "macllm sandbox run mac -- defaults read com.apple.dock autohide",
        "macllm sandbox run mac -- launchctl print gui/501",
    ))]
    Run {
        /// The emulated Mac's folder.
        dir: PathBuf,
        /// The program (defaults, launchctl, mdutil, pmset, ollama, ...) and its arguments.
        #[arg(last = true, required = true, value_name = "PROGRAM ARGS")]
        argv: Vec<String>,
    },
    /// List the presets.
    #[command(after_help = examples!("macllm sandbox presets"))]
    Presets,
    /// Restart the emulated Mac: `launchctl setenv` values and jobs bootstrapped by hand are
    /// gone, the standard LaunchAgents and LaunchDaemons load again, and the user logs in.
    #[command(after_help = examples!("macllm sandbox reboot mac"))]
    Reboot {
        /// The emulated Mac's folder.
        dir: PathBuf,
    },
    /// Serve the emulated Mac's Ollama over HTTP on 127.0.0.1 (for the real client).
    #[command(after_help = examples!(
        "macllm sandbox serve mac",
        "macllm sandbox serve mac --port 0",
    ))]
    Serve {
        /// The emulated Mac's folder.
        dir: PathBuf,
        /// 0 picks a free port; the address is printed on the first line.
        #[arg(long, default_value_t = 11434)]
        port: u16,
    },
}
