//! The one interface to a machine. Resources, facts and restarts reach a Mac only through
//! `&dyn Host`, so the local Mac, a sandbox Mac and (later) SSH are interchangeable and the
//! resource code never knows which one it has.

pub mod cached;
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

    /// The account whose per-user settings to change when the commands run as root, when
    /// the configuration names one (an inventory host's `user:`); see [`ForUser`].
    fn configured_user(&self) -> Option<&str> {
        None
    }
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

    fn configured_user(&self) -> Option<&str> {
        Some(&self.user)
    }
}

/// Wraps a host for planning: any invocation marked `Effect::Write` is refused.
pub struct ReadOnly<'a>(pub &'a dyn Host);

impl Host for ReadOnly<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        if invocation.effect == Effect::Write {
            bail!(
                "internal error: a read-only step tried to change the host with `{}`",
                invocation.display()
            );
        }
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

    fn configured_user(&self) -> Option<&str> {
        self.0.configured_user()
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

    fn configured_user(&self) -> Option<&str> {
        self.host.configured_user()
    }
}

/// Runs `invocation` and returns stdout, failing on a non-zero status.
pub fn run_ok(host: &dyn Host, invocation: &Invocation) -> Result<String> {
    host.run(invocation)?.require_success(invocation)
}
