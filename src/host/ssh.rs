//! `--host ssh:[USER@]NAME[:PORT]`: a Mac reached with the system OpenSSH client. The only
//! place in macllm where a remote shell exists: ssh hands the remote user's shell one command
//! line, so every argv word is quoted by [`shell_quote`] (tested, property tests included).
//! BatchMode (never prompt), connection multiplexing in a private socket folder, and the
//! user's `~/.ssh/config` and known hosts as they are. Commands run in batches, each a script
//! for one remote `/bin/sh -s` that lives as long as the host ([`Session`]).

use super::{Effect, Host, HttpRequest, HttpResponse, Invocation, Output};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// An extra `ssh -F FILE`, for setups (and tests) that keep their client configuration
/// elsewhere than `~/.ssh/config`.
pub const ENV_SSH_CONFIG: &str = "MACLLM_SSH_CONFIG";

pub struct SshHost {
    name: String,
    /// `[user@]host`, as ssh takes it.
    destination: String,
    port: Option<u16>,
    control_dir: PathBuf,
    /// The remote shell that runs this run's batches.
    session: SessionSlot,
    /// What ssh said when it could not connect or log in. Every later command fails with it
    /// at once: trying again would wait for ssh again (up to ConnectTimeout each time).
    unreachable: Mutex<Option<String>>,
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

/// The script that runs `invocations` as one unit under a remote `/bin/sh -s` (a Mac's is
/// bash 3.2; POSIX features and builtins only, the few tools it uses named by their path, the
/// same on macOS and Linux, since an emulated Mac's shim may shadow the bare names). Every
/// word comes from [`shell_quote`]. Command N's stdout and stderr go to files `No` and `Ne`,
/// its status to a list in a shell variable; at the end (or at the first failed write, when
/// the batch stops there) the script prints `marker`, the statuses on one line, the sizes of all
/// the files from one `wc -c`, `marker` again, then all the files from one `cat`: two helper
/// processes per batch, not per command. The reader cuts the bytes by the sizes, so no output
/// can pass for another's; `marker` opens the framed part, so that anything a login shell
/// prints first is skipped. Commands read their stdin from a quoted `printf`, or from
/// /dev/null: the script's own stdin is the script.
pub fn batch_script(
    invocations: &[Invocation],
    stop_at_failure: bool,
    marker: &str,
) -> Result<String> {
    let marker = shell_quote(marker)?;
    // The names are unlikely commands, so no batched argv can call them by accident.
    let mut script = format!(
        "d=$(/usr/bin/mktemp -d \"${{TMPDIR:-/tmp}}/macllm-batch.XXXXXX\") || exit 70\n\
         trap '/bin/rm -rf \"$d\"' EXIT\n\
         s=; f=\n\
         macllm_end() {{ cd \"$d\" || exit 70; printf '%s\\n' {marker} \"$s\"; \
         [ -z \"$f\" ] || /usr/bin/wc -c $f; printf '%s\\n' {marker}; \
         [ -z \"$f\" ] || /bin/cat $f; exit 0; }}\n\
         macllm_ran() {{ s=\"$s $1\"; f=\"$f $2o $2e\"; [ -z \"$3\" ] || [ \"$1\" -eq 0 ] || macllm_end; }}\n"
    );
    for (number, invocation) in invocations.iter().enumerate() {
        let line = command_line(invocation)?;
        let input = match &invocation.stdin {
            Some(bytes) => {
                let text = std::str::from_utf8(bytes)
                    .context("a batched command's input is not UTF-8 text")?;
                format!("printf '%s' {} | ", shell_quote(text)?)
            }
            None => String::new(),
        };
        let redirect = if invocation.stdin.is_some() {
            ""
        } else {
            " </dev/null"
        };
        // A failed write ends a batch that stops at failure; a failed read never does.
        let stop = if stop_at_failure && invocation.effect == Effect::Write {
            " stop"
        } else {
            ""
        };
        script.push_str(&format!(
            "{input}{line}{redirect} >\"$d/{number}o\" 2>\"$d/{number}e\"; macllm_ran $? {number}{stop}\n"
        ));
    }
    script.push_str("macllm_end\n");
    Ok(script)
}

/// Reads the outputs a [`batch_script`] printed from `reader`: lines up to the `marker` line
/// (what a login shell printed first), the statuses on one line, `wc -c` lines `SIZE No` /
/// `SIZE Ne` per command (BSD pads the sizes with spaces, GNU aligns them; both add a `total`
/// line for several files), `marker` again, then exactly the bytes those sizes add up to, and
/// no further. Fewer statuses than commands mean the batch stopped; anything that does not
/// fit is an error, never a guess. A line starting with `end` before the frame is the
/// session's word that the script ended without one (see [`Session`]).
fn read_frame(reader: &mut impl BufRead, marker: &str, end: &str) -> Result<Vec<Output>> {
    let mut next_line = |what: &str| -> Result<String> {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line)?;
        if line.pop() != Some(b'\n') {
            bail!("the batch output was cut short {what}");
        }
        String::from_utf8(line).context("a batch header is not text")
    };
    loop {
        let line = next_line("before its start marker: the remote shell did not run it")?;
        if line == marker {
            break;
        }
        if let Some(status) = line.strip_prefix(end) {
            // 70: the script's first line, which makes its temporary folder, failed.
            let why = if status.trim() == "70" {
                ": it could not make a temporary folder on the Mac"
            } else {
                ""
            };
            bail!(
                "the batch script ended with status {} before it printed its outputs{why}",
                status.trim()
            );
        }
    }
    let statuses: Vec<i32> = next_line("in its statuses")?
        .split_whitespace()
        .map(|n| n.parse::<u8>().map(i32::from))
        .collect::<std::result::Result<_, _>>()
        .context("a batch status is malformed")?;
    let expected: Vec<String> = (0..statuses.len())
        .flat_map(|n| [format!("{n}o"), format!("{n}e")])
        .collect();
    let mut sizes = Vec::new();
    loop {
        let line = next_line("in its sizes")?;
        if line == marker {
            break;
        }
        let (size, name) = line
            .trim_start()
            .split_once(' ')
            .with_context(|| format!("a batch size line is malformed: {line:?}"))?;
        let name = name.trim_start();
        match expected.get(sizes.len()) {
            Some(wanted) if name == wanted => {}
            None if name == "total" && sizes.len() > 1 => continue,
            _ => bail!("a batch size line is out of order: {line:?}"),
        }
        sizes.push(
            size.parse::<usize>()
                .with_context(|| format!("a batch size is malformed: {line:?}"))?,
        );
    }
    if sizes.len() != expected.len() {
        bail!(
            "the batch sized {} files for {} commands",
            sizes.len(),
            statuses.len()
        );
    }
    let mut take = |size: usize| -> Result<String> {
        let mut bytes = vec![0; size];
        reader
            .read_exact(&mut bytes)
            .context("the batch output is shorter than its sizes")?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    statuses
        .iter()
        .zip(sizes.chunks(2))
        .map(|(&status, pair)| {
            Ok(Output {
                status,
                stdout: take(pair[0])?,
                stderr: take(pair[1])?,
            })
        })
        .collect()
}

/// A process's output as text (invalid UTF-8 replaced).
fn text_output(output: std::process::Output) -> Output {
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A line no login shell's greeting will print: the process id and the time.
fn batch_marker() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("macllm-batch-{}-{nanos}", std::process::id())
}

/// One remote `/bin/sh -s` for a whole run. Each batch is a script written to its input, in
/// a subshell of its own, and answered by one frame on its output: one round trip and no new
/// process here. A channel per batch would cost two round trips, a login shell on the Mac and
/// a new `ssh` client here, about 7 ms of CPU each on this machine, which a fleet pays per
/// host and batch. After each subshell the session prints `END STATUS`, so a script that ends
/// without its frame is seen at once rather than waited for.
struct Session {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
    /// ssh's stderr and the remote shell's, kept for the error that ends a session.
    errors: Arc<Mutex<Vec<u8>>>,
    errors_reader: Option<JoinHandle<()>>,
}

impl Session {
    fn start(mut command: Command) -> Result<Session> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run `ssh` (is OpenSSH's client installed?)")?;
        let input = child.stdin.take();
        let output = BufReader::new(child.stdout.take().context("stdout pipe missing")?);
        let mut pipe = child.stderr.take().context("stderr pipe missing")?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        let errors_reader = std::thread::spawn(move || {
            let mut chunk = [0; 4096];
            while let Ok(read @ 1..) = pipe.read(&mut chunk) {
                lock(&sink).extend_from_slice(&chunk[..read]);
            }
        });
        Ok(Session {
            child,
            input,
            output,
            errors,
            errors_reader: Some(errors_reader),
        })
    }

    /// Sends one [`batch_script`] and reads its frame. The whole script is written before
    /// anything is read: the shell parses a subshell to its end before it runs any of it,
    /// and the script prints only at its end, so neither side can block the other.
    fn run(&mut self, script: &str, marker: &str) -> Result<Vec<Output>> {
        let end = format!("{marker}-end");
        let chunk = format!(
            "(\n{script})\nprintf '%s %s\\n' {} \"$?\"\n",
            shell_quote(&end)?
        );
        lock(&self.errors).clear();
        let input = self.input.as_mut().context("the SSH session is closed")?;
        input
            .write_all(chunk.as_bytes())
            .and_then(|()| input.flush())
            .context("sending a batch to the remote shell")?;
        let outputs = read_frame(&mut self.output, marker, &end)?;
        let mut line = String::new();
        self.output.read_line(&mut line)?;
        if line != format!("{end} 0\n") {
            bail!("the batch script ended with {line:?} after its outputs");
        }
        Ok(outputs)
    }

    /// Whether ssh has exited (the connection was lost, or the remote shell ended).
    fn ended(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Ends the session: the remote shell reads the end of its input and exits, then ssh.
    /// Returns ssh's exit status and all it printed on stderr since the last batch began.
    fn close(mut self) -> (Option<i32>, String) {
        drop(self.input.take());
        let status = self.child.wait().ok().and_then(|status| status.code());
        if let Some(reader) = self.errors_reader.take() {
            let _ = reader.join();
        }
        let errors = String::from_utf8_lossy(&lock(&self.errors)).into_owned();
        (status, errors)
    }
}

/// A host's session: started by the first batch, and again when the last one ended while
/// idle (the connection dropped while someone read the plan), since nothing of the next batch
/// had been sent then. A session that fails during a batch is closed and the batch's error
/// stands: whether the Mac ran part of that batch cannot be known, so it is never sent again.
#[derive(Default)]
struct SessionSlot(Mutex<Option<Session>>);

/// A batch that failed, with how its session ended.
struct Broken {
    error: anyhow::Error,
    /// ssh's exit status: 255 when it could not connect or log in.
    status: Option<i32>,
    stderr: String,
}

impl SessionSlot {
    fn run(
        &self,
        start: impl FnOnce() -> Command,
        script: &str,
        marker: &str,
    ) -> std::result::Result<Vec<Output>, Broken> {
        let mut slot = lock(&self.0);
        if let Some(ended) = slot.take_if(|session| session.ended()) {
            ended.close();
        }
        let session = match slot.take() {
            Some(session) => session,
            None => Session::start(start()).map_err(|error| Broken {
                error,
                status: None,
                stderr: String::new(),
            })?,
        };
        let session = slot.insert(session);
        match session.run(script, marker) {
            Ok(outputs) => Ok(outputs),
            Err(error) => {
                let (status, stderr) = match slot.take() {
                    Some(session) => session.close(),
                    None => (None, String::new()),
                };
                Err(Broken {
                    error,
                    status,
                    stderr,
                })
            }
        }
    }
}

/// A mutex's value, also after a thread panicked holding it (the bytes stay usable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
            session: SessionSlot::default(),
            unreachable: Mutex::new(None),
        })
    }

    /// Runs `line` through the remote user's shell on a channel of its own, `stdin` on its
    /// input. ssh's own failure (exit 255: connection refused, authentication) is an error,
    /// since nothing ran.
    fn channel(&self, line: &str, stdin: Option<&[u8]>) -> Result<std::process::Output> {
        self.channel_lines(line, stdin, None)
    }

    /// [`SshHost::channel`], handing `on_line` each line of stdout as soon as its newline
    /// arrives. The caller's trailer is the one piece with no newline after it (curl's `-w`
    /// text ends the output), so it is never handed over.
    fn channel_lines(
        &self,
        line: &str,
        stdin: Option<&[u8]>,
        mut on_line: Option<&mut dyn FnMut(&str)>,
    ) -> Result<std::process::Output> {
        self.known_unreachable()?;
        let mut child = self
            .ssh_with(line)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run `ssh` (is OpenSSH's client installed?)")?;
        if let Some(stdin) = stdin
            && let Some(mut pipe) = child.stdin.take()
        {
            // Written from a thread: a large input must not block while the remote side
            // fills our stdout pipe.
            let stdin = stdin.to_vec();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&stdin);
            });
        }
        let mut stderr_pipe = child.stderr.take().context("stderr pipe missing")?;
        let stderr_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr_pipe.read_to_end(&mut bytes);
            bytes
        });
        let mut reader =
            std::io::BufReader::new(child.stdout.take().context("stdout pipe missing")?);
        let mut stdout = Vec::new();
        loop {
            let start = stdout.len();
            if reader
                .read_until(b'\n', &mut stdout)
                .context("reading from `ssh`")?
                == 0
            {
                break;
            }
            if let (Some(on_line), Some(line)) =
                (on_line.as_mut(), stdout[start..].strip_suffix(b"\n"))
                && !line.is_empty()
            {
                on_line(&String::from_utf8_lossy(line));
            }
        }
        let status = child.wait().context("waiting for `ssh`")?;
        let stderr = stderr_reader.join().unwrap_or_default();
        if status.code() == Some(255) {
            return Err(self.unreachable(&String::from_utf8_lossy(&stderr)));
        }
        Ok(std::process::Output {
            status,
            stdout,
            stderr,
        })
    }

    /// ssh exited 255: it could not connect or log in, and nothing ran. Remembered for the
    /// rest of the run.
    fn unreachable(&self, stderr: &str) -> anyhow::Error {
        let said = lock(&self.unreachable)
            .get_or_insert_with(|| stderr.trim().to_string())
            .clone();
        anyhow::Error::new(super::HostUnreachable(format!(
            "cannot reach {} over SSH: {}\nhint: check that `ssh {}` works without a password prompt (BatchMode)",
            self.name, said, self.destination
        )))
    }

    /// The error of a host found unreachable earlier in this run, if it was.
    fn known_unreachable(&self) -> Result<()> {
        let said = lock(&self.unreachable).clone();
        match said {
            Some(said) => Err(self.unreachable(&said)),
            None => Ok(()),
        }
    }

    /// Runs a [`batch_script`] in the host's session (see [`SessionSlot`]).
    fn in_session(&self, script: &str, marker: &str, commands: usize) -> Result<Vec<Output>> {
        self.known_unreachable()?;
        let broken = match self
            .session
            .run(|| self.ssh_with("/bin/sh -s"), script, marker)
        {
            Ok(outputs) => return Ok(outputs),
            Err(broken) => broken,
        };
        if broken.status == Some(255) {
            return Err(self.unreachable(&broken.stderr));
        }
        let said = match broken.stderr.trim() {
            "" => String::new(),
            text => format!(": {text}"),
        };
        let noun = if commands == 1 { "command" } else { "commands" };
        Err(broken.error.context(format!(
            "running a batch of {commands} {noun} on {}{said}",
            self.name
        )))
    }

    /// ssh with `remote_command` for the remote user's shell to run.
    fn ssh_with(&self, remote_command: &str) -> Command {
        let mut command = self.ssh();
        command.arg(remote_command);
        command
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

    /// A batch of one in the session; a command whose input cannot travel in a script (not
    /// UTF-8, or NUL) gets a channel of its own.
    fn run(&self, invocation: &Invocation) -> Result<Output> {
        let marker = batch_marker();
        match batch_script(std::slice::from_ref(invocation), false, &marker) {
            Ok(script) => self
                .in_session(&script, &marker, 1)?
                .pop()
                .context("a batch of one command printed no output"),
            Err(_) => {
                let output =
                    self.channel(&command_line(invocation)?, invocation.stdin.as_deref())?;
                Ok(text_output(output))
            }
        }
    }

    /// One round trip: the script to the session's remote `/bin/sh -s`. A batch whose
    /// input cannot travel in a script runs command by command.
    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        if invocations.is_empty() {
            return Ok(Vec::new());
        }
        let marker = batch_marker();
        let Ok(script) = batch_script(invocations, stop_at_failure, &marker) else {
            return super::run_in_order(self, invocations, stop_at_failure);
        };
        let outputs = self.in_session(&script, &marker, invocations.len())?;
        let complete = outputs.len() == invocations.len()
            || (stop_at_failure && outputs.last().is_some_and(|o| !o.success()));
        if !complete || outputs.len() > invocations.len() {
            bail!(
                "a batch of {} commands on {} stopped after {}",
                invocations.len(),
                self.name,
                outputs.len(),
            );
        }
        Ok(outputs)
    }

    /// Through the remote Mac's own `curl` to its loopback (or the request's address, as the
    /// remote Mac sees it), over this same SSH connection: the API is never opened to the
    /// network. A request for a stream gets a channel of its own, and its lines are handed
    /// to `on_line` as they arrive.
    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        let invocation = super::curl::invocation(request);
        let output = if super::curl::streamed(request) {
            text_output(self.channel_lines(
                &command_line(&invocation)?,
                invocation.stdin.as_deref(),
                Some(&mut *on_line),
            )?)
        } else {
            self.run(&invocation)?
        };
        super::curl::response(&self.name, request, output, on_line)
    }

    fn remote(&self) -> bool {
        true
    }
}

impl Drop for SshHost {
    /// The session's remote shell ends with its input; the connection's master stays for
    /// ControlPersist, for the next run.
    fn drop(&mut self) {
        if let Some(session) = lock(&self.session.0).take() {
            session.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`read_frame`] of a whole output, which must hold nothing after the frame.
    fn parse_batch(stdout: &[u8], marker: &str) -> Result<Vec<Output>> {
        let mut rest = stdout;
        let outputs = read_frame(&mut rest, marker, &format!("{marker}-end"))?;
        if !rest.is_empty() {
            bail!("the batch output is longer than its sizes");
        }
        Ok(outputs)
    }

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

    /// Runs a batch script as the remote side would: `/bin/sh -s` with it on stdin, after a
    /// greeting of the kind a login shell may print; and the same under bash in POSIX mode
    /// where there is one (a Mac's `/bin/sh`), which must agree.
    fn through_batch(invocations: &[Invocation], stop_at_failure: bool) -> Vec<Output> {
        let outputs = through_shell("/bin/sh", invocations, stop_at_failure);
        if std::path::Path::new("/bin/bash").exists() {
            assert_eq!(
                through_shell("/bin/bash", invocations, stop_at_failure),
                outputs
            );
        }
        outputs
    }

    fn through_shell(
        shell: &str,
        invocations: &[Invocation],
        stop_at_failure: bool,
    ) -> Vec<Output> {
        let marker = "macllm-batch-test";
        let script = batch_script(invocations, stop_at_failure, marker).unwrap();
        let mut command = Command::new(shell);
        if shell.ends_with("bash") {
            command.arg("--posix");
        }
        let mut child = command
            .arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let mut stdout = b"Welcome!\n0 3 0\nabc\n".to_vec();
        stdout.extend(&output.stdout);
        parse_batch(&stdout, marker).unwrap()
    }

    fn sh(script: &str) -> Invocation {
        Invocation::read(["sh", "-c", script])
    }

    /// Outputs that look like headers, markers, partial records or a script's end come back
    /// as each command printed them, with their statuses.
    #[test]
    fn no_output_can_forge_another() {
        let forged = "0 4 0\nfake\nmacllm-batch-test\n1 0 0\n";
        let outputs = through_batch(
            &[
                sh(&format!(
                    "printf '%s' '{forged}'; printf 'x\\n0 1' >&2; exit 3"
                )),
                Invocation::read(["printf", "%s", "it's $(id) `id` ;\n\\"]),
                sh("printf '\\303\\251\\n'; exit 0"),
                Invocation::read(["cat"]).with_stdin(b"in: 'q' $HOME\n\nEOF\n".to_vec()),
                sh("cat; echo done"),
            ],
            false,
        );
        let got: Vec<(i32, &str, &str)> = outputs
            .iter()
            .map(|o| (o.status, o.stdout.as_str(), o.stderr.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, forged, "x\n0 1"),
                (0, "it's $(id) `id` ;\n\\", ""),
                (0, "é\n", ""),
                (0, "in: 'q' $HOME\n\nEOF\n", ""),
                // The script is not the commands' input.
                (0, "done\n", ""),
            ]
        );
    }

    fn sh_write(script: &str) -> Invocation {
        Invocation::write(["sh", "-c", script])
    }

    /// A failed write ends a batch that stops at failure; a failed read does not.
    #[test]
    fn a_batch_can_stop_at_the_first_failed_write() {
        let batch = [
            sh("echo one"),
            sh("exit 2"),
            sh_write("echo two >&2; exit 4"),
            sh("echo three"),
        ];
        let outputs = through_batch(&batch, true);
        assert_eq!(outputs.len(), 3);
        assert_eq!(outputs[1].status, 2);
        assert_eq!(outputs[2].status, 4);
        assert_eq!(outputs[2].stderr, "two\n");
        let outputs = through_batch(&batch, false);
        assert_eq!(outputs.len(), 4);
        assert_eq!(outputs[3].stdout, "three\n");
        let outputs = through_batch(&[sh_write("exit 1"), sh("echo never")], true);
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].status, 1);
    }

    /// One `wc` and one `cat` for the whole batch, however many commands it holds.
    #[test]
    fn a_batch_spawns_its_helpers_once() {
        let batch: Vec<Invocation> = (0..50).map(|n| sh(&format!("echo {n}"))).collect();
        let script = batch_script(&batch, true, "m").unwrap();
        assert_eq!(script.matches("/usr/bin/wc").count(), 1);
        assert_eq!(script.matches("/bin/cat").count(), 1);
        let outputs = through_batch(&batch, true);
        assert_eq!(outputs.len(), 50);
        assert_eq!(outputs[49].stdout, "49\n");
    }

    /// A session with a local shell in place of ssh: batch after batch through one process,
    /// each framed on its own, and each batch's temporary folder gone after it.
    fn local_session(shell: &str, tmp: &std::path::Path) -> Session {
        let mut command = Command::new(shell);
        if shell.ends_with("bash") {
            command.arg("--posix");
        }
        command.arg("-s").env("TMPDIR", tmp);
        Session::start(command).unwrap()
    }

    #[test]
    fn a_session_runs_batch_after_batch_in_one_shell() {
        for shell in ["/bin/sh", "/bin/bash"] {
            if !std::path::Path::new(shell).exists() {
                continue;
            }
            let tmp = tempfile::tempdir().unwrap();
            let mut session = local_session(shell, tmp.path());
            let forged = "0 4 0\nfake\nm1\n1 0 0\nm1-end 0\n";
            for round in 0..3 {
                let marker = format!("m{round}");
                let batch = [
                    sh(&format!("printf '%s' '{forged}'; exit 3")),
                    sh(&format!("echo {round}")),
                ];
                let script = batch_script(&batch, false, &marker).unwrap();
                let got: Vec<(i32, String)> = session
                    .run(&script, &marker)
                    .unwrap()
                    .into_iter()
                    .map(|o| (o.status, o.stdout))
                    .collect();
                assert_eq!(
                    got,
                    [(3, forged.to_string()), (0, format!("{round}\n"))],
                    "{shell}"
                );
                assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "{shell}");
            }
            let (status, errors) = session.close();
            assert_eq!((status, errors.as_str()), (Some(0), ""), "{shell}");
        }
    }

    /// A script that ends before its frame is an error at once, and the session goes on; a
    /// shell that dies is an error too, never a wait.
    #[test]
    fn a_session_sees_a_script_end_without_its_frame() {
        let tmp = tempfile::tempdir().unwrap();
        let mut session = local_session("/bin/sh", tmp.path());
        let error = session.run("exit 70\n", "m").unwrap_err();
        assert!(
            error.to_string().contains("ended with status 70"),
            "{error:#}"
        );
        let script = batch_script(&[sh("echo still here")], false, "m2").unwrap();
        assert_eq!(
            session.run(&script, "m2").unwrap()[0].stdout,
            "still here\n"
        );
        let error = session.run("kill -9 $$\n", "m3").unwrap_err();
        assert!(error.to_string().contains("cut short"), "{error:#}");
        assert_eq!(session.close().0, None);
    }

    /// A session that ended while idle is started again for the next batch; one that breaks
    /// during a batch is closed, and that batch fails.
    #[test]
    fn a_session_that_ended_while_idle_is_started_again() {
        let tmp = tempfile::tempdir().unwrap();
        let slot = SessionSlot::default();
        let start = || {
            let mut command = Command::new("/bin/sh");
            command.arg("-s").env("TMPDIR", tmp.path());
            command
        };
        let run = |marker: &str| {
            let script = batch_script(&[sh(&format!("echo {marker}"))], false, marker).unwrap();
            slot.run(start, &script, marker).ok().unwrap()[0]
                .stdout
                .clone()
        };
        let pid = || lock(&slot.0).as_ref().map(|session| session.child.id());
        assert_eq!(run("m1"), "m1\n");
        let first = pid().unwrap();
        assert_eq!(run("m2"), "m2\n");
        assert_eq!(pid(), Some(first));
        // The connection drops while nothing is being sent.
        Command::new("kill")
            .args(["-9", &first.to_string()])
            .status()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(run("m3"), "m3\n");
        assert!(pid().is_some_and(|pid| pid != first));
        // A shell that dies during a batch fails that batch, and leaves no session behind.
        let broken = slot.run(start, "kill -9 $$\n", "m4").err().unwrap();
        assert!(
            broken.error.to_string().contains("cut short"),
            "{:#}",
            broken.error
        );
        assert_eq!(broken.status, None);
        assert_eq!(pid(), None);
    }

    #[test]
    fn broken_batch_output_is_an_error() {
        assert!(parse_batch(b"no marker", "m").is_err());
        // Cut short, too long, a size or status that is not a number, files out of order
        // or missing, a `total` in place of a file.
        assert!(parse_batch(b"m\n 0\n 5 0o\n 0 0e\nm\nab", "m").is_err());
        assert!(parse_batch(b"m\n 0\n 1 0o\n 0 0e\nm\nab", "m").is_err());
        assert!(parse_batch(b"m\n 0\n x 0o\n 0 0e\nm\n", "m").is_err());
        assert!(parse_batch(b"m\n x\n 0 0o\n 0 0e\nm\n", "m").is_err());
        assert!(parse_batch(b"m\n 0\n 0 0e\n 0 0o\nm\n", "m").is_err());
        assert!(parse_batch(b"m\n 0 1\n 0 0o\n 0 0e\n 0 total\nm\n", "m").is_err());
        assert!(parse_batch(b"m\n 0\n 1 0o\n", "m").is_err());
        assert_eq!(parse_batch(b"m\n\nm\n", "m").unwrap(), []);
    }

    /// `wc -c` output as BSD (sizes padded to 8 columns) and GNU (sizes aligned, a `total`
    /// line) print it for the same files gives the same outputs.
    #[test]
    fn sizes_read_the_same_from_bsd_and_gnu_wc() {
        let bsd = b"m\n 0 2\n       3 0o\n       0 0e\n       0 1o\n       1 1e\n       4 total\nm\nab\nE";
        let gnu = b"m\n 0 2\n3 0o\n0 0e\n0 1o\n1 1e\n4 total\nm\nab\nE";
        let outputs = parse_batch(bsd, "m").unwrap();
        assert_eq!(parse_batch(gnu, "m").unwrap(), outputs);
        let got: Vec<(i32, &str, &str)> = outputs
            .iter()
            .map(|o| (o.status, o.stdout.as_str(), o.stderr.as_str()))
            .collect();
        assert_eq!(got, [(0, "ab\n", ""), (2, "", "E")]);
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
