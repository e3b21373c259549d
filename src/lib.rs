//! macllm: declarative setup of Macs that run local LLMs (Ollama), like Terraform for
//! `defaults`, launchd services and Ollama settings.
//!
//! The data flows through the modules in this order:
//!
//! ```text
//! spec/ (YAML -> declared resources, errors with file:line:column)
//!   -> graph.rs (petgraph: dependency order, cycles)
//!   -> plan.rs (read the host through a read-only, caching Host; diff; drift) -> render.rs
//!   -> apply.rs (write, read back, require convergence, restarts once)
//!   -> state.rs (atomic, locked state file per host)
//! ```
//!
//! Layers, top to bottom; a module uses only its own layer and those under it (Rust forbids
//! cycles between crates, not modules, so these arrows are kept by hand):
//!
//! ```text
//! commands/   one thin wrapper per subcommand (`cli.rs`: the clap types); `fleet.rs` runs a
//!             command on many hosts (threads, a block per host, the summary)
//! spec/, graph, plan, render, apply, state, export, import/
//!             the steps; `plan` is data and never uses `output` or `render`
//! output.rs   where text goes (data to stdout, progress to stderr, colour, masking); it
//!             implements `target::Hook`, so progress bars reach the terminal from here
//! resources/  one file per kind, and all code that knows a kind (its restart and the check
//!             after it, its noun); it never uses `output`, `commands` or `plan`
//! target.rs   the host a resource acts on: the `Host`, its facts, and the `Hook` to report to
//! facts.rs, ollama/ (the API client), value.rs, sandbox.rs (the one bridge to the emulated
//!             Mac in `crates/emulated-mac`, a `Host` like the others)
//! host/       the machine interface (`host/local.rs`, `host/ssh.rs`); it uses nothing of the
//!             crate but `mask.rs`, and `-v` hands its echo of each command to a callback
//! mask.rs     a leaf: replaces the values of `secret()` with `(sensitive)` in any text
//! ```

pub mod apply;
pub mod catalog;
pub mod chips;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod export;
pub mod facts;
pub mod fleet;
pub mod graph;
pub mod host;
pub mod import;
pub mod inventory;
pub mod mask;
pub mod ollama;
pub mod output;
pub mod plan;
pub mod random;
pub mod recommend;
pub mod render;
pub mod resources;
pub mod sandbox;
pub mod secret;
pub mod sizing;
pub mod spec;
pub mod state;
pub mod target;
pub mod value;

/// The CLI: parses the arguments, runs the command and returns the exit code.
pub fn run() -> i32 {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            // Usage errors exit 1 (DESIGN.md: 0 success, 1 error, 2 changes), not clap's 2.
            let code = match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
            if code == 1 && json_asked() {
                print_json(&diagnostic::usage_document(&err.render().to_string()));
            } else {
                let _ = err.print();
            }
            return code;
        }
    };
    let json = cli.global.json;
    match commands::run(cli.global, cli.command) {
        Ok(code) => code,
        Err(err) if json => {
            print_json(&diagnostic::document(&err));
            1
        }
        Err(err) => {
            print_error(&err);
            1
        }
    }
}

/// `--json` among the arguments of a command line that does not parse (not after `--`,
/// where the words are an emulated program's).
fn json_asked() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json")
}

/// With `--json` an error is the one document on stdout, as data would have been.
fn print_json(document: &serde_json::Value) {
    let text = serde_json::to_string_pretty(document).unwrap_or_default();
    output::emit(&format!("{text}\n"), false);
}

/// What was being done when a spec error was found (the emulated Mac `validate` rendered for),
/// as `note:` lines under it.
fn notes(err: &anyhow::Error) -> String {
    err.chain()
        .take_while(|cause| !cause.is::<spec::SpecError>() && !cause.is::<spec::SpecErrors>())
        .map(|cause| format!("\nnote: {cause}"))
        .collect()
}

/// Every error reaches the user through here, once: `error: ...`, with spec errors rendered
/// with their source line.
pub fn print_error(err: &anyhow::Error) {
    let text = match (
        err.downcast_ref::<spec::SpecError>(),
        err.downcast_ref::<spec::SpecErrors>(),
    ) {
        (Some(spec_error), _) => spec_error.to_string() + &notes(err),
        (_, Some(spec_errors)) => spec_errors.to_string() + &notes(err),
        _ => diagnostic::error_text(err),
    };
    output::emit(&format!("error: {text}\n"), true);
}
