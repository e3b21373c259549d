//! Command-line types only (clap derive). The names here are the contract of DESIGN.md
//! section 2.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
    Validate,
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the host match the spec (or apply a saved plan).
    Apply(ApplyArgs),
    /// Put every managed setting back to its value before macllm.
    Destroy(DestroyArgs),
    /// Compare the host with what the last apply left (no spec needed).
    Drift,
    /// Read or edit the state file.
    #[command(subcommand)]
    State(StateCommand),
    /// Print the dependency graph as Graphviz DOT.
    Graph,
    /// Print what macllm knows about the host.
    Facts,
    /// Time a model through Ollama and compare it with the memory-bandwidth bound.
    Bench {
        model: String,
        /// How many times to run the fixed prompt (the median is reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
        runs: u32,
    },
    /// Which models, quantizations and contexts fit this Mac, and the tier's settings.
    Recommend,
    /// Write the spec in another format.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Store or remove a secret in the OS keyring (for `secret("NAME")` in specs).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// The modules shipped with macllm.
    #[command(subcommand)]
    Modules(ModulesCommand),
    /// Create and use emulated Macs.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// The version and the commit this build comes from (`--json`: with the target too).
    Version,
    /// Print the shell completion script for SHELL on stdout.
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Write a spec of what the host has today; `plan` with it there changes nothing.
    Import(WriteSpecArgs),
    /// Write a starter spec sized for the host (the tier's modules, a model that fits).
    Init(WriteSpecArgs),
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
    List,
    /// Show one resource's record.
    Show { id: String },
    /// Stop managing a resource without changing the host.
    Rm { id: String },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The spec's `defaults` as an MDM configuration profile (.mobileconfig) on stdout or
    /// `--out`; what a profile cannot express is listed on stderr as skipped.
    Mobileconfig {
        /// The profile's PayloadIdentifier (reverse DNS).
        #[arg(long, default_value = crate::export::DEFAULT_IDENTIFIER)]
        identifier: String,
        #[arg(long)]
        organization: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Store NAME: typed at a prompt on a terminal, else the first line of stdin.
    Set { name: String },
    /// Remove NAME.
    Rm { name: String },
}

#[derive(Subcommand, Debug)]
pub enum ModulesCommand {
    /// Name and purpose of each shipped module.
    List,
    /// The module's text, parameters included.
    Show { name: String },
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Create an emulated Mac in DIR.
    Init {
        dir: PathBuf,
        /// Hardware and macOS version; `macllm sandbox presets` lists them.
        #[arg(long, default_value = crate::sandbox::DEFAULT_PRESET)]
        preset: String,
    },
    /// Run one emulated command, as a user would in Terminal.
    Run {
        dir: PathBuf,
        #[arg(last = true, required = true, value_name = "PROGRAM ARGS")]
        argv: Vec<String>,
    },
    /// List the presets.
    Presets,
    /// Restart the emulated Mac: `launchctl setenv` values and jobs bootstrapped by hand are
    /// gone, the standard LaunchAgents and LaunchDaemons load again, and the user logs in.
    Reboot { dir: PathBuf },
    /// Serve the emulated Mac's Ollama over HTTP on 127.0.0.1 (for the real client).
    Serve {
        dir: PathBuf,
        /// 0 picks a free port; the address is printed on the first line.
        #[arg(long, default_value_t = 11434)]
        port: u16,
    },
}
