//! `macllm completions SHELL`: the completion script clap_complete derives from the same
//! clap definitions as the parser, so it never lists a command or flag that is not there.

use super::Context;
use crate::cli::{Cli, CompletionShell};
use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

pub fn run(context: &Context, shell: CompletionShell) -> Result<i32> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "macllm", &mut script);
    context.ui.data(&String::from_utf8(script)?);
    Ok(0)
}
