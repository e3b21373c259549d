//! The one interface to a machine. Resources, facts and restarts reach a Mac only through
//! `&dyn Host`, so the local Mac, a sandbox Mac and (later) SSH are interchangeable and the
//! resource code never knows which one it has.

pub mod cached;
pub mod constant;
pub mod curl;
pub mod local;
pub mod routed;
pub mod ssh;

use anyhow::{Result, bail};

/// Whether an invocation may change the machine. Plans run behind [`ReadOnly`], which refuses
/// every `Write`, so "plan is read-only" holds by construction rather than by care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Read,
    Write,
}

/// A program, its arguments, extra environment and optional stdin. Built from values, never
/// parsed from a string: nothing here ever passes through a shell.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Invocation {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub stdin: Option<Vec<u8>>,
    pub effect: Effect,
}

impl Invocation {
    pub fn read<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(argv, Effect::Read)
    }

    pub fn write<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(argv, Effect::Write)
    }

    fn new<I, S>(argv: I, effect: Effect) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Invocation {
            argv: argv.into_iter().map(Into::into).collect(),
            // macOS tools format numbers with the user's locale (`sysctl` prints `1024,00M`
            // under a comma locale: reference/macos-commands.md section 0), so every probe
            // runs in the C locale, as Ansible's osx_defaults does.
            env: vec![("LC_ALL".into(), "C".into())],
            stdin: None,
            effect,
        }
    }

    pub fn with_stdin(mut self, stdin: Vec<u8>) -> Self {
        self.stdin = Some(stdin);
        self
    }

    /// The argv as a person would type it, for messages only (never executed); secrets are
    /// masked before quoting, so their quoted forms cannot slip through.
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|arg| crate::mask::mask(arg))
            .map(|arg| {
                if !arg.is_empty()
                    && arg
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
                {
                    arg.clone()
                } else {
                    format!("'{}'", arg.replace('\'', r"'\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The host could not be reached at all (over SSH: ssh could not connect or log in), so
/// nothing ran. Whoever meets it stops: trying the next command would only wait again.
/// (Ollama not answering on a host that is reached is [`Unreachable`].)
#[derive(Debug)]
pub struct HostUnreachable(pub String);

impl std::fmt::Display for HostUnreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostUnreachable {}

/// What a program did. A non-zero status is an output, not an error: `defaults read` exits 1
/// for a missing key and that is an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(stdout: impl Into<String>) -> Self {
        Output {
            status: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    pub fn failed(status: i32, stderr: impl Into<String>) -> Self {
        Output {
            status,
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// stdout when the program succeeded, else an error naming the command, status and stderr.
    pub fn require_success(self, invocation: &Invocation) -> Result<String> {
        if self.success() {
            return Ok(self.stdout);
        }
        bail!(
            "`{}` exited with status {}: {}",
            invocation.display(),
            self.status,
            self.stderr.trim()
        )
    }
}

/// One HTTP request to the host's Ollama server. Callers give the path; the address is
/// the host's default (`OLLAMA_HOST` in macllm's environment for the local Mac,
/// 127.0.0.1:11434 on a remote or sandbox Mac) unless the request names one
/// ([`routed::Routed`] does, from the spec's `OLLAMA_HOST`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// A base URL as Ollama's client connects to it (`http://127.0.0.1:11500`:
    /// `envconfig.ConnectableHost`), seen from the host itself.
    pub address: Option<String>,
    pub body: Option<String>,
    /// Seconds to wait for the whole response (model pulls take long).
    pub timeout_secs: u64,
}

impl HttpRequest {
    pub fn get(path: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            address: None,
            body: None,
            timeout_secs: 10,
        }
    }

    pub fn post(path: &str, body: &serde_json::Value) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            path: path.into(),
            address: None,
            body: Some(body.to_string()),
            timeout_secs: 10,
        }
    }

    pub fn delete(path: &str, body: &serde_json::Value) -> HttpRequest {
        HttpRequest {
            method: "DELETE".into(),
            ..HttpRequest::post(path, body)
        }
    }

    pub fn with_timeout(mut self, secs: u64) -> HttpRequest {
        self.timeout_secs = secs;
        self
    }

    /// Whether the request changes the server's state (plans refuse those).
    pub fn effect(&self) -> Effect {
        let reads = ["/api/show", "/api/generate"];
        if self.method == "GET" || self.method == "HEAD" || reads.contains(&self.path.as_str()) {
            Effect::Read
        } else {
            Effect::Write
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// Why an HTTP request got no response at all: the caller turns this into "Ollama is not
/// running on ..." with a hint.
#[derive(Debug)]
pub struct Unreachable {
    pub address: String,
    pub reason: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nothing answers at {} ({})", self.address, self.reason)
    }
}

impl std::error::Error for Unreachable {}

/// A machine macllm can manage.
///
/// Implementations run exactly the argv they are given (no shell, no quoting games) and
/// report the program's status and output. An `Err` means the program could not be run at
/// all (not installed, connection lost), never that it exited non-zero.
pub trait Host {
    /// `local`, `sandbox:DIR`, ...: used in messages and to name the state file.
    fn name(&self) -> &str;

    fn run(&self, invocation: &Invocation) -> Result<Output>;

    /// Sends one request to the host's Ollama server. A non-2xx status is a response, not an
    /// error; `Err` (with an [`Unreachable`] inside) means nothing answered. `on_line` sees
    /// each line of a streamed (NDJSON) body as it arrives, for progress bars.
    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse>;

    /// Runs `invocations` as one unit, in order (over SSH: one round trip), and returns the
    /// output of each one that ran. With `stop_at_failure` the first write with a non-zero
    /// status ends the batch (what follows may rely on it), so fewer outputs than invocations
    /// say which ran; a failed read changed nothing and never ends it (a read-back of a
    /// domain whose last key was just deleted fails, and the next domain's must still run).
    /// A read that cannot be run at all ends it, with the same sign. An `Err` means the
    /// batch could not be run or its outputs not told apart.
    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        run_in_order(self, invocations, stop_at_failure)
    }

    /// The account whose per-user settings to change when the commands run as root, when
    /// the configuration names one (an inventory host's `user:`); see [`ForUser`].
    fn configured_user(&self) -> Option<&str> {
        None
    }

    /// Whether the Mac is reached over a connection (SSH): each command then costs a round
    /// trip, so reads are worth sending ahead in batches even where some may go unused, and
    /// [`Host::http`] runs the Mac's own `curl` ([`curl::invocation`]), which a batch can
    /// carry. Local and sandbox Macs pay neither.
    fn remote(&self) -> bool {
        false
    }
}

/// A batch as separate runs, one after the other: what a host whose commands cost no round
/// trip does.
pub fn run_in_order<H: Host + ?Sized>(
    host: &H,
    invocations: &[Invocation],
    stop_at_failure: bool,
) -> Result<Vec<Output>> {
    let mut outputs = Vec::with_capacity(invocations.len());
    for invocation in invocations {
        let output = match host.run(invocation) {
            Ok(output) => output,
            // A read that cannot run at all (a program this Mac lacks, as a remote shell's
            // exit 127 says) ends the batch there: the outputs say which ran, and the caller
            // runs it on its own to report why.
            Err(_) if invocation.effect == Effect::Read => break,
            Err(err) => return Err(err),
        };
        let failed = !output.success() && invocation.effect == Effect::Write;
        outputs.push(output);
        if failed && stop_at_failure {
            break;
        }
    }
    Ok(outputs)
}

/// A host with the inventory's `user:` for it: when macllm reaches it as root (over SSH as
/// root), per-user resources change that user's settings (nix-darwin names the user the same
/// way, `system.primaryUser`, rather than guess).
pub struct ForUser {
    pub host: Box<dyn Host>,
    pub user: String,
}

impl Host for ForUser {
    fn name(&self) -> &str {
        self.host.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        self.host.run(invocation)
    }

    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        self.host.http(request, on_line)
    }

    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        self.host.run_batch(invocations, stop_at_failure)
    }

    fn configured_user(&self) -> Option<&str> {
        Some(&self.user)
    }

    fn remote(&self) -> bool {
        self.host.remote()
    }
}

/// Wraps a host for planning: any invocation marked `Effect::Write` is refused.
pub struct ReadOnly<'a>(pub &'a dyn Host);

impl ReadOnly<'_> {
    fn refuse_write(invocation: &Invocation) -> Result<()> {
        if invocation.effect == Effect::Write {
            bail!(
                "internal error: a read-only step tried to change the host with `{}`",
                invocation.display()
            );
        }
        Ok(())
    }
}

impl Host for ReadOnly<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        ReadOnly::refuse_write(invocation)?;
        self.0.run(invocation)
    }

    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        if request.effect() == Effect::Write {
            bail!(
                "internal error: a read-only step tried `{} {}` on Ollama",
                request.method,
                request.path
            );
        }
        self.0.http(request, on_line)
    }

    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        for invocation in invocations {
            ReadOnly::refuse_write(invocation)?;
        }
        self.0.run_batch(invocations, stop_at_failure)
    }

    fn configured_user(&self) -> Option<&str> {
        self.0.configured_user()
    }

    fn remote(&self) -> bool {
        self.0.remote()
    }
}

/// `-v`: hands every command to `echo` before it runs, as a person would type it. Where the
/// line goes is the caller's business: nothing under `host/` prints.
pub struct Verbose<'a> {
    pub host: &'a dyn Host,
    pub echo: &'a dyn Fn(&str),
}

impl Host for Verbose<'_> {
    fn name(&self) -> &str {
        self.host.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        (self.echo)(&invocation.display());
        self.host.run(invocation)
    }

    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        (self.echo)(&format!("{} {} (Ollama API)", request.method, request.path));
        self.host.http(request, on_line)
    }

    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        for invocation in invocations {
            (self.echo)(&invocation.display());
        }
        self.host.run_batch(invocations, stop_at_failure)
    }

    fn configured_user(&self) -> Option<&str> {
        self.host.configured_user()
    }

    fn remote(&self) -> bool {
        self.host.remote()
    }
}

/// Runs `invocation` and returns stdout, failing on a non-zero status.
pub fn run_ok(host: &dyn Host, invocation: &Invocation) -> Result<String> {
    host.run(invocation)?.require_success(invocation)
}

/// Which Mac, and which user on it, a state belongs to: the hardware UUID from
/// `ioreg -rd1 -c IOPlatformExpertDevice` and the user whose settings macllm changes (the
/// inventory's `user:`, else `id -un`). `None` where the host cannot tell (not a Mac).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub hardware_uuid: Option<String>,
    pub user: Option<String>,
}

/// Reads the [`Identity`] of `host`; a command that fails leaves its part unknown.
pub fn identity(host: &dyn Host) -> Identity {
    let mut batch = vec![Invocation::read([
        "ioreg",
        "-rd1",
        "-c",
        "IOPlatformExpertDevice",
    ])];
    if host.configured_user().is_none() {
        batch.push(Invocation::read(["id", "-un"]));
    }
    // Not part of the identity, but a plan asks it next (whether macllm runs as root):
    // through [`constant::Constant`], this round trip answers that too.
    batch.push(Invocation::read(["id", "-u"]));
    // One round trip; a command that did not answer leaves its part unknown.
    let outputs = host.run_batch(&batch, false).unwrap_or_default();
    let read = |index: usize| -> Option<String> {
        let output = outputs.get(index)?;
        output.success().then(|| output.stdout.clone())
    };
    let hardware_uuid = read(0).as_deref().and_then(platform_uuid);
    let user = match host.configured_user() {
        Some(user) => Some(user.to_string()),
        None => read(1)
            .map(|out| out.trim().to_string())
            .filter(|user| !user.is_empty()),
    };
    Identity {
        hardware_uuid,
        user,
    }
}

/// `"IOPlatformUUID" = "6A1F3C52-..."` in `ioreg -rd1 -c IOPlatformExpertDevice` output.
pub fn platform_uuid(ioreg: &str) -> Option<String> {
    ioreg.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "\"IOPlatformUUID\"")
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|uuid| !uuid.is_empty())
    })
}

/// The canonical form of a host name, so that one Mac reached under two spellings has one
/// state: `sandbox:DIR` with DIR made absolute (against `cwd`) and normalised (`.` and `..`
/// folded, no trailing slash); `ssh:USER@NAME[:PORT]` with the user made explicit (the one
/// `ssh -G` says it would log in as, else the local user name) and port 22 dropped. Other
/// names are returned as they are.
pub fn canonical_name(name: &str) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    canonical_name_with(name, &cwd, &|destination| ssh_defaults(destination))
}

/// [`canonical_name`] with the working directory and the SSH defaults (login user, port for
/// a destination without them) given, for tests.
pub fn canonical_name_with(
    name: &str,
    cwd: &std::path::Path,
    ssh_defaults: &dyn Fn(&str) -> (String, u16),
) -> String {
    if let Some(dir) = name.strip_prefix("sandbox:") {
        return format!("sandbox:{}", normalise(&cwd.join(dir)).display());
    }
    if let Some(spec) = name.strip_prefix("ssh:") {
        let (destination, port) = match spec.rsplit_once(':') {
            Some((destination, port)) => (destination, port.parse::<u16>().ok()),
            None => (spec, None),
        };
        let (default_user, default_port) = ssh_defaults(destination);
        let (user, host) = match destination.split_once('@') {
            Some((user, host)) => (user.to_string(), host),
            None => (default_user, destination),
        };
        return match port.unwrap_or(default_port) {
            22 => format!("ssh:{user}@{host}"),
            port => format!("ssh:{user}@{host}:{port}"),
        };
    }
    name.to_string()
}

/// The short form that names the state file: the canonical name, with a sandbox folder
/// inside `cwd` written relative to it and an SSH user left out when it is the default
/// login user, so `sandbox:mac`, `sandbox:./mac` and `sandbox:$PWD/mac` all name
/// `sandbox-mac.json`, and `ssh:x` and `ssh:admin@x` (admin logging in by default) `ssh-x.json`.
pub fn state_stem_with(
    name: &str,
    cwd: &std::path::Path,
    ssh_defaults: &dyn Fn(&str) -> (String, u16),
) -> String {
    // No user (so the default one, left out) and a port: nothing to ask `ssh -G`, which
    // costs a process per host.
    if let Some((destination, port)) = name.strip_prefix("ssh:").and_then(|s| s.rsplit_once(':'))
        && !destination.contains('@')
        && let Ok(port) = port.parse::<u16>()
    {
        return match port {
            22 => format!("ssh:{destination}"),
            port => format!("ssh:{destination}:{port}"),
        };
    }
    let canonical = canonical_name_with(name, cwd, ssh_defaults);
    if let Some(dir) = canonical.strip_prefix("sandbox:") {
        let cwd = normalise(cwd);
        return match std::path::Path::new(dir).strip_prefix(&cwd) {
            Ok(relative) if !relative.as_os_str().is_empty() => {
                format!("sandbox:{}", relative.display())
            }
            _ => canonical,
        };
    }
    if let Some(rest) = canonical.strip_prefix("ssh:")
        && let Some((user, host)) = rest.split_once('@')
    {
        let bare = host.split(':').next().unwrap_or(host);
        if ssh_defaults(bare).0 == user {
            return format!("ssh:{host}");
        }
    }
    canonical
}

pub fn state_stem(name: &str) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    state_stem_with(name, &cwd, &|destination| ssh_defaults(destination))
}

/// `.` and `..` folded without touching the file system (the folder may not exist yet).
fn normalise(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The user and port OpenSSH would use for `destination` (`ssh [-F $MACLLM_SSH_CONFIG] -G`,
/// which reads the configuration without connecting); the local user name and 22 when that
/// fails. Asked once per name in a run: the host's canonical name and its state file's stem
/// both need it, and in a fleet each `ssh` spawned is CPU the run pays per host.
fn ssh_defaults(destination: &str) -> (String, u16) {
    static KNOWN: std::sync::Mutex<std::collections::BTreeMap<String, (String, u16)>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let known = KNOWN.lock().ok().and_then(|k| k.get(destination).cloned());
    if let Some(defaults) = known {
        return defaults;
    }
    let defaults = read_ssh_defaults(destination);
    if let Ok(mut known) = KNOWN.lock() {
        known.insert(destination.to_string(), defaults.clone());
    }
    defaults
}

fn read_ssh_defaults(destination: &str) -> (String, u16) {
    let local = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "user".to_string());
    let host = destination.rsplit('@').next().unwrap_or(destination);
    let mut command = std::process::Command::new("ssh");
    // The configuration the connection itself will use (see `ssh::ENV_SSH_CONFIG`).
    if let Ok(config) = std::env::var(ssh::ENV_SSH_CONFIG) {
        command.arg("-F").arg(config);
    }
    let output = command
        .args(["-G", "--", host])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let Ok(output) = output else {
        return (local, 22);
    };
    if !output.status.success() {
        return (local, 22);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.trim().to_string())
        })
    };
    let user = field("user").filter(|u| !u.is_empty()).unwrap_or(local);
    let port = field("port").and_then(|p| p.parse().ok()).unwrap_or(22);
    (user, port)
}

#[cfg(test)]
mod identity_tests {
    use super::*;
    use std::path::Path;

    fn defaults(_: &str) -> (String, u16) {
        ("admin".to_string(), 22)
    }

    #[test]
    fn sandbox_paths_become_absolute_and_normal() {
        let cwd = Path::new("/work/dots");
        for name in [
            "sandbox:mac",
            "sandbox:./mac",
            "sandbox:/work/dots/mac/",
            "sandbox:x/../mac",
        ] {
            assert_eq!(
                canonical_name_with(name, cwd, &defaults),
                "sandbox:/work/dots/mac"
            );
            assert_eq!(state_stem_with(name, cwd, &defaults), "sandbox:mac");
        }
        assert_eq!(
            canonical_name_with("sandbox:/tmp/m", cwd, &defaults),
            "sandbox:/tmp/m"
        );
        assert_eq!(
            state_stem_with("sandbox:../m", cwd, &defaults),
            "sandbox:/work/m"
        );
    }

    #[test]
    fn ssh_user_made_explicit_and_port_22_dropped() {
        let cwd = Path::new("/");
        for name in ["ssh:x", "ssh:admin@x", "ssh:x:22", "ssh:admin@x:22"] {
            assert_eq!(canonical_name_with(name, cwd, &defaults), "ssh:admin@x");
            assert_eq!(state_stem_with(name, cwd, &defaults), "ssh:x");
        }
        assert_eq!(
            canonical_name_with("ssh:root@x:2222", cwd, &defaults),
            "ssh:root@x:2222"
        );
        assert_eq!(
            state_stem_with("ssh:root@x:2222", cwd, &defaults),
            "ssh:root@x:2222"
        );
        assert_eq!(
            canonical_name_with("ssh:x:2222", cwd, &defaults),
            "ssh:admin@x:2222"
        );
        assert_eq!(state_stem_with("ssh:x:2222", cwd, &defaults), "ssh:x:2222");
        // With no user and a port, nothing depends on the configuration.
        let unasked = |_: &str| -> (String, u16) { panic!("ssh -G asked") };
        assert_eq!(state_stem_with("ssh:x:2222", cwd, &unasked), "ssh:x:2222");
        assert_eq!(state_stem_with("ssh:x:22", cwd, &unasked), "ssh:x");
        assert_eq!(canonical_name_with("local", cwd, &defaults), "local");
    }

    #[test]
    fn reads_the_platform_uuid() {
        let text = "+-o Mac  <class IOPlatformExpertDevice, id 0x1>\n  {\n    \"IOPlatformUUID\" = \"6A1F3C52-9B0E\"\n  }\n";
        assert_eq!(platform_uuid(text).as_deref(), Some("6A1F3C52-9B0E"));
        assert_eq!(platform_uuid("nothing"), None);
    }
}
