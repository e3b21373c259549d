//! `--host ssh:[USER@]NAME[:PORT]`: a Mac reached with the system OpenSSH client. The only
//! place in macllm where a remote shell exists: ssh hands the remote user's shell one command
//! line, so every argv word is quoted by [`shell_quote`] (tested, property tests included).
//! BatchMode (never prompt), connection multiplexing in a private socket folder, and the
//! user's `~/.ssh/config` and known hosts as they are.

use super::{Host, HttpRequest, HttpResponse, Invocation, Output, Unreachable};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// An extra `ssh -F FILE`, for setups (and tests) that keep their client configuration
/// elsewhere than `~/.ssh/config`.
pub const ENV_SSH_CONFIG: &str = "MACLLM_SSH_CONFIG";

pub struct SshHost {
    name: String,
    /// `[user@]host`, as ssh takes it.
    destination: String,
    port: Option<u16>,
    control_dir: PathBuf,
}

/// Quotes one word for a POSIX shell: single quotes, with each `'` written as `'\''`.
/// Everything else, `$`, backquotes, `;`, newlines and non-ASCII included, is literal inside
/// single quotes. NUL cannot be passed in an argv at all, so it is an error.
pub fn shell_quote(word: &str) -> Result<String> {
    if word.contains('\0') {
        bail!("an argument contains a NUL byte, which no command line can carry");
    }
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
    {
        return Ok(word.to_string());
    }
    Ok(format!("'{}'", word.replace('\'', r"'\''")))
}

/// The remote command line for an invocation: `env K=V ... PROGRAM ARGS`, every word quoted.
pub fn command_line(invocation: &Invocation) -> Result<String> {
    let mut words = Vec::new();
    if !invocation.env.is_empty() {
        words.push("env".to_string());
        for (key, value) in &invocation.env {
            words.push(shell_quote(&format!("{key}={value}"))?);
        }
    }
    for word in &invocation.argv {
        words.push(shell_quote(word)?);
    }
    Ok(words.join(" "))
}

impl SshHost {
    /// `spec` is what follows `ssh:`: `[USER@]NAME[:PORT]`.
    pub fn new(spec: &str) -> Result<SshHost> {
        let (destination, port) =
            match spec.rsplit_once(':') {
                Some((destination, port)) => (
                    destination,
                    Some(port.parse::<u16>().with_context(|| {
                        format!("`{port}` in `ssh:{spec}` is not a port number")
                    })?),
                ),
                None => (spec, None),
            };
        let valid = !destination.is_empty()
            && !destination.starts_with('-')
            && destination
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if !valid {
            bail!("`ssh:{spec}` is not [USER@]NAME[:PORT]");
        }
        let control_dir = std::env::temp_dir().join(format!("macllm-ssh-{}", user_id()));
        std::fs::create_dir_all(&control_dir)
            .with_context(|| format!("creating {}", control_dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&control_dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(SshHost {
            name: format!("ssh:{spec}"),
            destination: destination.to_string(),
            port,
            control_dir,
        })
    }

    fn ssh(&self) -> Command {
        let mut command = Command::new("ssh");
        if let Ok(config) = std::env::var(ENV_SSH_CONFIG) {
            command.arg("-F").arg(config);
        }
        command
            .args(["-o", "BatchMode=yes", "-o", "ControlMaster=auto"])
            .arg("-o")
            .arg(format!("ControlPath={}/%C", self.control_dir.display()))
            .args(["-o", "ControlPersist=60", "-o", "ConnectTimeout=10"]);
        if let Some(port) = self.port {
            command.arg("-p").arg(port.to_string());
        }
        command.arg("--").arg(&self.destination);
        command
    }
}

/// A per-user folder name part: the uid from the environment's view of the process owner.
fn user_id() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "user".to_string())
}

impl Host for SshHost {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        let line = command_line(invocation)?;
        let mut child = self
            .ssh()
            .arg(line)
            .stdin(if invocation.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run `ssh` (is OpenSSH's client installed?)")?;
        if let Some(stdin) = &invocation.stdin
            && let Some(mut pipe) = child.stdin.take()
        {
            let _ = pipe.write_all(stdin);
        }
        let output = child.wait_with_output().context("waiting for `ssh`")?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        // ssh exits 255 for its own errors (connection refused, authentication): the program
        // did not run, which is an error rather than an output.
        if output.status.code() == Some(255) {
            bail!(
                "cannot reach {} over SSH: {}\nhint: check that `ssh {}` works without a password prompt (BatchMode)",
                self.name,
                stderr.trim(),
                self.destination
            );
        }
        Ok(Output {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        })
    }

    /// Through the remote Mac's own `curl` to its loopback (or the request's address, as the
    /// remote Mac sees it), over this same SSH connection: the API is never opened to the
    /// network. Streamed lines reach `on_line` when the request ends (SSH returns the
    /// command's output at exit).
    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        let mut argv: Vec<String> = ["curl", "-sS", "-X", &request.method, "-w"]
            .map(String::from)
            .to_vec();
        argv.push("\\n%{http_code} %{content_type}".to_string());
        let mut stdin = None;
        if let Some(body) = &request.body {
            argv.extend(
                [
                    "-H",
                    "Content-Type: application/json",
                    "--data-binary",
                    "@-",
                ]
                .map(String::from),
            );
            stdin = Some(body.clone().into_bytes());
        }
        let base = request
            .address
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:11434".to_string());
        argv.push(format!("{base}{}", request.path));
        let mut invocation = Invocation::read(argv);
        invocation.stdin = stdin;
        let output = self.run(&invocation)?;
        // curl's exit 7: nothing listens on the remote's port (CURLE_COULDNT_CONNECT).
        if output.status == 7 {
            return Err(anyhow::Error::new(Unreachable {
                address: format!(
                    "{} on {}",
                    base.split_once("://")
                        .map_or(base.as_str(), |(_, rest)| rest),
                    self.name
                ),
                reason: output.stderr.trim().to_string(),
            }));
        }
        if !output.success() {
            bail!(
                "`curl` on {} exited with status {}: {}",
                self.name,
                output.status,
                output.stderr.trim()
            );
        }
        let (body, trailer) = output
            .stdout
            .rsplit_once('\n')
            .unwrap_or(("", &output.stdout));
        let (status, content_type) = trailer.split_once(' ').unwrap_or((trailer, ""));
        let response = HttpResponse {
            status: status.trim().parse().unwrap_or(0),
            content_type: content_type.trim().to_string(),
            body: body.to_string(),
        };
        if response.content_type.starts_with("application/x-ndjson") {
            response.body.lines().for_each(&mut *on_line);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a POSIX shell makes of `quoted`: the words `printf '%s\0'` prints.
    fn through_sh(quoted: &str) -> Vec<u8> {
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s' {quoted}"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{quoted}");
        output.stdout
    }

    #[test]
    fn hostile_words_come_through_a_shell_unchanged() {
        for word in [
            "",
            "plain",
            "it's",
            "'",
            "''",
            "$(touch /tmp/macllm-pwned)",
            "`id`",
            "a; rm -rf /",
            "line\nbreak",
            "tab\there",
            "ünïcødé ✓",
            "\\",
            "*",
            "~",
            "-n",
            "a\"b",
            "${HOME}",
        ] {
            assert_eq!(
                through_sh(&shell_quote(word).unwrap()),
                word.as_bytes(),
                "{word:?}"
            );
        }
        assert!(shell_quote("a\0b").is_err());
        assert!(!std::path::Path::new("/tmp/macllm-pwned").exists());
    }

    /// Property: any string without NUL round-trips. Strings are drawn from a deterministic
    /// generator over ASCII, control characters and multi-byte characters.
    #[test]
    fn any_string_round_trips() {
        let alphabet: Vec<char> = (1u8..128)
            .map(char::from)
            .chain(['é', '✓', '日', '🦙', '\u{a0}', '\u{202e}'])
            .collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let length = (next() % 24) as usize;
            let word: String = (0..length)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(
                through_sh(&shell_quote(&word).unwrap()),
                word.as_bytes(),
                "{word:?}"
            );
        }
    }

    #[test]
    fn command_lines_quote_every_word_and_the_environment() {
        let invocation = Invocation::write(["defaults", "write", "d", "k", "-string", "a b'c"]);
        assert_eq!(
            command_line(&invocation).unwrap(),
            "env LC_ALL=C defaults write d k -string 'a b'\\''c'"
        );
        assert!(SshHost::new("admin@mini.lan:22").is_ok());
        assert!(SshHost::new("-oProxyCommand=x").is_err());
        assert!(SshHost::new("mini;rm:22").is_err());
        assert!(SshHost::new("mini:notaport").is_err());
    }
}
