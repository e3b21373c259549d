//! The machine macllm runs on: programs through `std::process`, argv only.

use super::{Host, Invocation, Output};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::process::{Command, Stdio};

pub struct LocalHost;

impl Host for LocalHost {
    fn name(&self) -> &str {
        "local"
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        let Some((program, args)) = invocation.argv.split_first() else {
            bail!("internal error: empty argv");
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .stdin(if invocation.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "cannot run `{program}`: it is not installed on this machine\n\
                     hint: macllm manages macOS; elsewhere use an emulated Mac with `--host sandbox:DIR`"
                )
            }
            Err(err) => return Err(err).with_context(|| format!("cannot run `{program}`")),
        };
        if let Some(stdin) = &invocation.stdin {
            let mut pipe = child.stdin.take().context("stdin pipe missing")?;
            // A program that exits without reading its input closes the pipe; its exit
            // status, not our write error, is the answer worth reporting.
            let _ = pipe.write_all(stdin);
        }
        let output = child
            .wait_with_output()
            .with_context(|| format!("waiting for `{program}`"))?;
        Ok(Output {
            // A signal leaves no code; report it like a shell would (128 + signal is not
            // portable here, so -1 marks "killed").
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}
