//! The host a resource acts on, with its facts read lazily: a spec of `defaults` keys never
//! pays for them (only for one `id -u`, to know whether it runs as root), and a run reads them
//! at most once. It knows whose settings per-user resources change and runs their commands as
//! that user ([`Target::as_user`]). It also carries the [`Hook`] through which resources
//! report long work.

use crate::facts::Facts;
use crate::host::routed::Routed;
use crate::host::{Effect, Host, HttpRequest, Invocation, Output};
use crate::ollama::client::Progress;
use anyhow::Result;
use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// What resources report while they work, as Terraform's `Hook` interface does: `output`
/// implements it for the terminal, so resource code never draws or prints.
pub trait Hook {
    /// One line about a step under way (`Restarting the Ollama server...`).
    fn step(&self, text: &str);

    /// Takes the streamed progress of one long task on `subject` (a model pull or create).
    fn progress_view<'h>(&'h self, subject: &str) -> Box<dyn FnMut(&Progress) + 'h>;
}

/// Reports nothing: for targets that only read (plans, stale-plan checks).
pub struct Silent;

impl Hook for Silent {
    fn step(&self, _text: &str) {}

    fn progress_view<'h>(&'h self, _subject: &str) -> Box<dyn FnMut(&Progress) + 'h> {
        Box::new(|_| {})
    }
}

pub struct Target<'a> {
    /// The host, its Ollama requests sent where the server listens (see [`Target::ollama_at`]).
    host: Routed<'a>,
    hook: &'a dyn Hook,
    facts: OnceCell<Facts>,
    /// Whether macllm runs as root, when known without the other facts.
    root: OnceCell<bool>,
    /// What [`Target::warn`] and [`Target::notice`] said (`true`: a notice).
    warnings: RefCell<Vec<(String, bool)>>,
    /// Answers about the host worked out once per run (see [`Target::once`]).
    answers: RefCell<HashMap<String, Rc<dyn Any>>>,
}

impl<'a> Target<'a> {
    /// A target that reports nothing (see [`Target::with_hook`]).
    pub fn new(host: &'a dyn Host) -> Target<'a> {
        Target {
            host: Routed::new(host),
            hook: &Silent,
            facts: OnceCell::new(),
            root: OnceCell::new(),
            warnings: RefCell::new(Vec::new()),
            answers: RefCell::new(HashMap::new()),
        }
    }

    /// The answer to `question` about this host, worked out by `compute` the first time it is
    /// asked in this run (how Ollama runs here, say, which every variable asks), as the facts
    /// are.
    pub fn once<T: Clone + 'static>(
        &self,
        question: &str,
        compute: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let known = self
            .answers
            .borrow()
            .get(question)
            .and_then(|answer| answer.downcast_ref::<T>().cloned());
        if let Some(answer) = known {
            return Ok(answer);
        }
        let answer = compute()?;
        self.answers
            .borrow_mut()
            .insert(question.to_string(), Rc::new(answer.clone()));
        Ok(answer)
    }

    /// Reports through `hook` (the terminal, for an apply).
    pub fn with_hook(self, hook: &'a dyn Hook) -> Target<'a> {
        Target { hook, ..self }
    }

    /// Something the user should know about this host, found while reading (each said once).
    pub fn warn(&self, warning: String) {
        self.say(warning, false);
    }

    /// A warning that matters only when the resource it names (`ID: ...`) changes, such as a
    /// job SIP keeps running until the next login: a plan shows it only then (see
    /// `Plan::notices`).
    pub fn notice(&self, notice: String) {
        self.say(notice, true);
    }

    fn say(&self, text: String, notice: bool) {
        let mut warnings = self.warnings.borrow_mut();
        if !warnings.iter().any(|(said, _)| *said == text) {
            warnings.push((text, notice));
        }
    }

    /// The warnings and notices, in the order they were found.
    pub fn take_warnings(&self) -> Vec<String> {
        self.take_sorted().0
    }

    /// The warnings and notices in the order they were found, and the notices among them.
    pub fn take_sorted(&self) -> (Vec<String>, Vec<String>) {
        let said = std::mem::take(&mut *self.warnings.borrow_mut());
        let notices = said
            .iter()
            .filter(|(_, notice)| *notice)
            .map(|(text, _)| text.clone())
            .collect();
        (said.into_iter().map(|(text, _)| text).collect(), notices)
    }

    /// Facts already read for this host (while rendering its spec), so they are not read
    /// again.
    pub fn with_facts(self, facts: Option<Facts>) -> Target<'a> {
        if let Some(facts) = facts {
            let _ = self.facts.set(facts);
        }
        self
    }

    /// Whether macllm runs as root there, when an earlier step of this run found out.
    pub fn with_root(self, root: Option<bool>) -> Target<'a> {
        if let Some(root) = root {
            let _ = self.root.set(root);
        }
        self
    }

    /// The facts, if this target has read them (no command runs).
    pub fn known_facts(&self) -> Option<&Facts> {
        self.facts.get()
    }

    /// Whether macllm runs as root there, if this target has found out (no command runs).
    pub fn known_root(&self) -> Option<bool> {
        self.facts
            .get()
            .map(|facts| facts.root)
            .or_else(|| self.root.get().copied())
    }

    /// Where Ollama may listen besides the host's default: the connectable base URLs of the
    /// `OLLAMA_HOST` values the spec and the state name, most likely first.
    pub fn ollama_at(self, addresses: Vec<String>) -> Target<'a> {
        self.host.prefer(addresses);
        self
    }

    pub fn host(&self) -> &dyn Host {
        &self.host
    }

    /// The command that sends `request` where it goes first, on a host that sends Ollama
    /// requests through the Mac's `curl` ([`Host::remote`]), so that a resource
    /// can name it among its [`crate::resources::Resource::reads`]; none on other hosts,
    /// where a request costs no round trip, and none for a request that changes anything.
    pub fn http_read(&self, request: &HttpRequest) -> Option<Invocation> {
        (self.host.remote() && request.effect() == Effect::Read)
            .then(|| crate::host::curl::invocation(&self.host.likely(request)))
    }

    pub fn hook(&self) -> &'a dyn Hook {
        self.hook
    }

    pub fn facts(&self) -> Result<&Facts> {
        if let Some(facts) = self.facts.get() {
            return Ok(facts);
        }
        let facts = Facts::read(self.host.inner())?;
        Ok(self.facts.get_or_init(|| facts))
    }

    /// `invocation` as the user whose settings per-user resources change. Unchanged unless
    /// macllm runs as root for someone else (`sudo macllm apply`); then it becomes
    /// `launchctl asuser UID sudo --user=USER -- ARGV...`, nix-darwin's form for a user's
    /// `defaults write` (modules/system/defaults-write.nix): `sudo` gives the command the
    /// user's uid, so `defaults` reaches the user's preferences instead of /var/root's and
    /// files it creates are the user's; `asuser` puts it in the user's launchd session, so
    /// `launchctl setenv` reaches the user's jobs (man launchctl: asuser alone "does not
    /// modify the process' credentials", nix-darwin/nix-darwin#1341). Resources wrap only
    /// what acts as the user; launchd's `gui/<uid>` targets need no wrapping (root may
    /// modify any domain).
    pub fn as_user(&self, invocation: Invocation) -> Result<Invocation> {
        if !self.is_root()? {
            return Ok(invocation);
        }
        let facts = self.facts()?;
        if facts.uid == 0 {
            return Ok(invocation);
        }
        let uid = facts.uid.to_string();
        let user = format!("--user={}", facts.user);
        let prefix = ["launchctl", "asuser", &uid, "sudo", &user, "--"];
        Ok(Invocation {
            argv: prefix
                .into_iter()
                .map(String::from)
                .chain(invocation.argv)
                .collect(),
            ..invocation
        })
    }

    /// Whether macllm runs as root: from the facts when they were read, else from one `id -u`
    /// (a spec of `defaults` keys run by a user pays for nothing more).
    pub fn is_root(&self) -> Result<bool> {
        if let Some(root) = self.known_root() {
            return Ok(root);
        }
        let uid = crate::host::run_ok(&self.host, &Invocation::read(["id", "-u"]))?;
        Ok(*self.root.get_or_init(|| uid.trim() == "0"))
    }

    /// Writes `bytes` to the file `path` as the user (its folder made first), so that under
    /// sudo the file and a folder made for it are the user's, not root's; then gives it
    /// `mode` (`chmod`), if any. One batch.
    pub fn write_file_as_user(&self, path: &str, bytes: Vec<u8>, mode: Option<&str>) -> Result<()> {
        let mut writes = self.folder_for(path)?;
        writes.push(self.as_user(Invocation::write(["tee", path]).with_stdin(bytes))?);
        if let Some(mode) = mode {
            writes.push(self.as_user(Invocation::write(["chmod", mode, path]))?);
        }
        self.run_writes(&writes)
    }

    /// [`Target::write_file_as_user`] for a file only the user may read (0600), made so before
    /// `bytes` go in: a secret is never in a file others can read, not even for a moment. A new
    /// file is made empty first (`tee -a` of nothing: a run stopped there leaves an empty file,
    /// which holds nothing); an existing one is not emptied, so a stop loses none of what it
    /// held. One batch.
    pub fn write_private_file_as_user(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        let mut writes = self.folder_for(path)?;
        for write in [
            Invocation::write(["tee", "-a", path]).with_stdin(Vec::new()),
            Invocation::write(["chmod", "600", path]),
            Invocation::write(["tee", path]).with_stdin(bytes),
        ] {
            writes.push(self.as_user(write)?);
        }
        self.run_writes(&writes)
    }

    /// `mkdir -p` of the folder of `path`, as the user.
    fn folder_for(&self, path: &str) -> Result<Vec<Invocation>> {
        path.rsplit_once('/')
            .map(|(dir, _)| self.as_user(Invocation::write(["mkdir", "-p", dir])))
            .into_iter()
            .collect()
    }

    /// Runs `writes` in order as one batch (one round trip over SSH), stopping at the first
    /// that fails, whose error is returned.
    fn run_writes(&self, writes: &[Invocation]) -> Result<()> {
        let outputs = self.host.run_batch(writes, true)?;
        for (invocation, output) in writes.iter().zip(outputs) {
            output.require_success(invocation)?;
        }
        Ok(())
    }

    /// Runs `invocation` as the user (see [`Target::as_user`]).
    pub fn run_as_user(&self, invocation: Invocation) -> Result<Output> {
        self.host.run(&self.as_user(invocation)?)
    }

    /// `~/x` -> `/Users/NAME/x` on this host; other paths unchanged. Spec paths keep their
    /// `~` (ids stay the same on every Mac); it is resolved only when the host is touched.
    pub fn expand_home(&self, path: &str) -> Result<String> {
        Ok(match path.strip_prefix("~/") {
            Some(rest) => format!("{}/{rest}", self.facts()?.home),
            None if path == "~" => self.facts()?.home.clone(),
            None => path.to_string(),
        })
    }
}
