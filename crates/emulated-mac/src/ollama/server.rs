//! Which `ollama serve` runs on the emulated Mac, with which environment, and what it logged
//! when it started.
//!
//! A server runs while a launchd job (any domain) has a pid and its `ProgramArguments` are
//! `[<path ending in /ollama>, serve]` with that executable present on the Mac. Its
//! environment is what launchd gave the process at spawn (`launchctl::process_environment`:
//! the domain's `setenv` values then, the plist's `EnvironmentVariables` over them, and
//! `XPC_SERVICE_NAME`), plus `HOME`, which launchd sets for the user's jobs.
//!
//! Each (re)start — a pid this module has not seen — appends what ollama/ollama
//! `server/routes.go Serve` (v0.32.15, lines 1951-2058) logs first to the job's
//! `StandardErrorPath` (the slog text handler:
//! `time=… level=INFO source=routes.go:1951 msg="server config" env="map[…]"`,
//! then `Ollama cloud disabled`, `Listening on …`, `vram-based default context`), preceded by
//! the `WARN`s envconfig logs for invalid values. `cmd/cmd.go RunServer` listens before
//! `Serve`: a second server on a port in use ends with `Error: listen tcp …: bind: address
//! already in use`, and `Serve` ends with `Error: mkdir …: permission denied` when the model
//! directory cannot be created; neither answers requests (launchd's `KeepAlive` restarts the
//! first kind, which then binds once the port is free).
//!
//! This module's memory of running servers (pids seen, models loaded) is
//! `var/run/ollama.json`, written only when it changes: at spawn, and when a request loads or
//! unloads a model.

use super::envconfig::EnvConfig;
use super::gofmt;
use super::homebrew;
use super::perf;
use super::store::Store;
use crate::files;
use crate::launchd_db::{self, Domain, LaunchdDb};
use crate::machine::Machine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::time::SystemTime;

pub const STATE_FILE: &str = "var/run/ollama.json";

/// A model the server holds in memory (`/api/ps`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loaded {
    /// `DisplayShortest`.
    pub name: String,
    /// `host/namespace/model:tag`.
    pub full: String,
    /// Manifest digest.
    pub digest: String,
    pub size: u64,
    pub size_vram: u64,
    pub context_length: u64,
    pub expires_secs: i64,
    pub expires_nanos: u32,
    pub format: String,
    pub family: String,
    pub families: Option<Vec<String>>,
    pub parameter_size: String,
    pub quantization_level: String,
}

impl Loaded {
    pub fn expires(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + std::time::Duration::new(self.expires_secs.max(0) as u64, self.expires_nanos)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerState {
    pub pid: u32,
    /// Unix seconds of the spawn this module noticed.
    pub started: u64,
    /// Why the process exited right away (`bind`, `models`), if it did.
    #[serde(default)]
    pub failed: Option<String>,
    #[serde(default)]
    pub loaded: Vec<Loaded>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// By `<domain>/<label>`.
    #[serde(default)]
    pub servers: BTreeMap<String, ServerState>,
}

/// A launchd job running `ollama serve`.
#[derive(Clone, Debug)]
pub struct Job {
    pub domain: String,
    pub label: String,
    pub pid: u32,
    pub environment: BTreeMap<String, String>,
    pub working_directory: Option<String>,
    pub stderr_path: Option<String>,
    pub keep_alive: bool,
}

impl Job {
    pub fn key(&self) -> String {
        format!("{}/{}", self.domain, self.label)
    }

    /// The user's home as the process sees it (`os.UserHomeDir` = `$HOME`).
    pub fn home(&self, machine: &Machine) -> String {
        if let Some(home) = self.environment.get("HOME").filter(|h| !h.is_empty()) {
            return home.clone();
        }
        if self.domain == "system" {
            "/var/root".to_string()
        } else {
            machine.mac_home()
        }
    }

    pub fn config(&self, machine: &Machine) -> EnvConfig {
        let home = self.home(machine);
        let disabled = files::read_mac_file(machine, &format!("{home}/.ollama/server.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("disable_ollama_cloud").and_then(|d| d.as_bool()))
            .unwrap_or(false);
        EnvConfig::new(self.environment.clone(), &home, disabled)
    }

    /// The model store's Mac path: `OLLAMA_MODELS` as given, a relative one taken from the
    /// job's working directory (launchd's default is `/`), as Go's `os` calls do.
    pub fn models_path(&self, env: &EnvConfig) -> String {
        let models = env.models();
        if models.starts_with('/') {
            models
        } else {
            let base = self.working_directory.clone().unwrap_or_else(|| "/".into());
            format!("{}/{models}", base.trim_end_matches('/'))
        }
    }
}

/// Whether `spec` runs `ollama serve` from an executable present on the Mac.
fn runs_ollama_serve(machine: &Machine, spec: &launchd_db::JobSpec) -> bool {
    let executable = spec.executable();
    let named_ollama = executable.ends_with("/ollama");
    let serve = spec.arguments.len() == 2 && spec.arguments[1] == "serve";
    named_ollama
        && serve
        && matches!(
            files::resolve(machine, executable, true),
            Ok(files::Resolved {
                kind: Some(files::Kind::File),
                ..
            })
        )
}

/// Every running `ollama serve` job, oldest pid first.
pub fn serve_jobs(machine: &Machine, db: &LaunchdDb) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (domain, state) in &db.domains {
        if Domain::parse(domain).is_none() {
            continue;
        }
        for (label, job) in &state.jobs {
            let Some(pid) = job.pid else { continue };
            if !runs_ollama_serve(machine, &job.spec) {
                continue;
            }
            // As `launchctl::process_environment` computes it from the same record.
            let mut environment = job.inherited_environment.clone();
            environment.extend(job.spec.environment.clone());
            environment.insert("XPC_SERVICE_NAME".to_string(), label.clone());
            jobs.push(Job {
                domain: domain.clone(),
                label: label.clone(),
                pid,
                environment,
                working_directory: job.spec.working_directory.clone(),
                stderr_path: job.spec.stderr_path.clone(),
                keep_alive: job.spec.keep_alive,
            });
        }
    }
    jobs.sort_by_key(|j| j.pid);
    jobs
}

pub fn load_state(machine: &Machine) -> Option<State> {
    let text = fs::read_to_string(machine.dir.join(STATE_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save_state(machine: &Machine, state: &State) -> std::io::Result<()> {
    let path = machine.dir.join(STATE_FILE);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let temp = path.with_extension(format!(
        "tmp.{}.{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let text = serde_json::to_string_pretty(state).map_err(std::io::Error::other)? + "\n";
    fs::write(&temp, text)?;
    fs::rename(&temp, &path)
}

/// `ln.Addr()` as `Listening on` prints it: the unspecified address listens on `[::]`,
/// `localhost` resolves to 127.0.0.1 (UNCONFIRMED beyond those two cases).
fn listen_address(env: &EnvConfig) -> String {
    let url = env.host_url(&mut Vec::new());
    match url.host.as_str() {
        "" | "0.0.0.0" | "::" => format!("[::]:{}", url.port),
        "localhost" => format!("127.0.0.1:{}", url.port),
        _ => url.host_port(),
    }
}

/// Whether a server listening on `listen` (as [`listen_address`] prints it) accepts a TCP
/// connection to `host:port`: same port, and the unspecified address (`[::]`, dual-stack on
/// macOS, so IPv4 too) or the same address (`localhost` being 127.0.0.1). A connection to
/// a port nothing listens on is refused, as on any Mac.
pub fn accepts(listen: &str, host: &str, port: &str) -> bool {
    let Some((listen_host, listen_port)) = listen.rsplit_once(':') else {
        return false;
    };
    let plain = |h: &str| -> String {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        if h.eq_ignore_ascii_case("localhost") {
            "127.0.0.1".to_string()
        } else {
            h.to_ascii_lowercase()
        }
    };
    listen_port == port && (listen_host == "[::]" || plain(listen_host) == plain(host))
}

/// Two listeners collide on the same port when either is the unspecified address or both
/// are the same (UNCONFIRMED for SO_REUSEADDR corner cases).
fn collides(a: &str, b: &str) -> bool {
    let split = |s: &str| -> (String, String) {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (s.to_string(), String::new()),
        }
    };
    let (ha, pa) = split(a);
    let (hb, pb) = split(b);
    pa == pb && (ha == hb || ha == "[::]" || hb == "[::]")
}

/// Appends lines to the job's `StandardErrorPath`, if it has one whose directory exists.
fn append_log(machine: &Machine, job: &Job, lines: &[String]) {
    let Some(path) = job.stderr_path.as_deref().filter(|p| p.starts_with('/')) else {
        return;
    };
    let Ok(resolved) = files::resolve(machine, path, true) else {
        return;
    };
    if !resolved.host.parent().is_some_and(|p| p.is_dir()) {
        return;
    }
    if let Ok(mut file) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&resolved.host)
    {
        for line in lines {
            let _ = writeln!(file, "{line}");
        }
    }
}

fn slog(time: SystemTime, level: &str, source: &str, rest: &str) -> String {
    format!(
        "time={} level={level} source={source} {rest}",
        gofmt::rfc3339_millis(time)
    )
}

/// Creates `<models>/blobs` as `manifest.BlobsPath("")` does at startup, or the error text
/// of the `mkdir` that fails.
fn prepare_store(machine: &Machine, models: &str) -> Result<(), String> {
    let blobs = format!("{}/blobs", models.trim_end_matches('/'));
    // The first component that does not exist yet is the one mkdir fails on.
    let mut missing: Option<String> = None;
    let mut prefix = String::new();
    for part in blobs.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        match files::resolve(machine, &prefix, true) {
            Ok(r) if r.exists() => {
                if r.kind != Some(files::Kind::Dir) {
                    return Err(format!("mkdir {prefix}: not a directory"));
                }
            }
            Ok(_) => {
                missing = Some(prefix.clone());
                break;
            }
            Err(errno) => return Err(format!("mkdir {prefix}: {}", errno.text().to_lowercase())),
        }
    }
    let Some(first) = missing else {
        return Ok(());
    };
    let parent = files::parent_of(&first);
    let parent = files::resolve(machine, &parent, true)
        .map(|r| r.mac)
        .unwrap_or(parent);
    if let Err(errno) = files::may_write(machine, &parent) {
        return Err(format!("mkdir {first}: {}", errno.text().to_lowercase()));
    }
    let store = Store::open(machine, models);
    fs::create_dir_all(store.host.join("blobs")).map_err(|e| format!("mkdir {first}: {e}"))
}

/// What happens when launchd spawns `job`: the log lines, and whether the server stays up.
fn start(machine: &Machine, job: &Job, bound: &[String]) -> ServerState {
    let now = SystemTime::now();
    let env = job.config(machine);
    let address = listen_address(&env);
    let mut state = ServerState {
        pid: job.pid,
        started: gofmt::unix_parts(now).0.max(0) as u64,
        failed: None,
        loaded: Vec::new(),
    };
    if bound.iter().any(|b| collides(b, &address)) {
        let url = env.host_url(&mut Vec::new());
        append_log(
            machine,
            job,
            &[format!(
                "Error: listen tcp {}: bind: address already in use",
                url.host_port()
            )],
        );
        state.failed = Some("bind".into());
        return state;
    }
    let (_, warnings) = env.values();
    let mut lines: Vec<String> = warnings
        .iter()
        .map(|w| {
            slog(
                now,
                "WARN",
                &format!("config.go:{}", w.source_line),
                &w.text,
            )
        })
        .collect();
    lines.push(slog(
        now,
        "INFO",
        "routes.go:1951",
        &format!(
            "msg=\"server config\" env={}",
            gofmt::slog_value(&env.values_text())
        ),
    ));
    lines.push(slog(
        now,
        "INFO",
        "routes.go:1953",
        &format!(
            "msg={}",
            gofmt::slog_value(&format!("Ollama cloud disabled: {}", env.no_cloud()))
        ),
    ));
    if let Err(error) = prepare_store(machine, &job.models_path(&env)) {
        lines.push(format!("Error: {error}"));
        append_log(machine, job, &lines);
        state.failed = Some("models".into());
        return state;
    }
    lines.push(slog(
        now,
        "INFO",
        "routes.go:2008",
        &format!(
            "msg={}",
            gofmt::slog_value(&format!(
                "Listening on {address} (version {})",
                homebrew::VERSION
            ))
        ),
    ));
    let vram = perf::hardware(machine).vram(env.gpu_overhead());
    lines.push(slog(
        now,
        "INFO",
        "routes.go:2058",
        &format!(
            "msg=\"vram-based default context\" total_vram={} default_num_ctx={}",
            gofmt::slog_value(&human_bytes2(vram)),
            perf::default_num_ctx(vram)
        ),
    ));
    append_log(machine, job, &lines);
    state
}

/// `format.HumanBytes2`.
pub fn human_bytes2(b: u64) -> String {
    const KIB: u64 = 1024;
    let f = b as f64;
    if b >= KIB * KIB * KIB {
        format!("{:.1} GiB", f / (KIB * KIB * KIB) as f64)
    } else if b >= KIB * KIB {
        format!("{:.1} MiB", f / (KIB * KIB) as f64)
    } else if b >= KIB {
        format!("{:.1} KiB", f / KIB as f64)
    } else {
        format!("{b} B")
    }
}

/// Brings this module's memory in line with launchd's: new pids are (re)starts and log; gone
/// jobs are forgotten. Writes nothing when nothing changed (and never on a Mac that has no
/// Ollama at all).
pub fn sync(machine: &Machine, db: &LaunchdDb) -> std::io::Result<State> {
    let jobs = serve_jobs(machine, db);
    let existing = load_state(machine);
    if jobs.is_empty() && existing.is_none() {
        return Ok(State::default());
    }
    let mut state = existing.clone().unwrap_or_default();
    state.servers.retain(|key, server| {
        jobs.iter()
            .any(|job| job.key() == *key && job.pid == server.pid)
    });
    for job in &jobs {
        let key = job.key();
        // launchd respawns a KeepAlive job that exited; once the port is free it binds.
        let retry = state
            .servers
            .get(&key)
            .is_some_and(|s| s.failed.as_deref() == Some("bind") && job.keep_alive);
        if state.servers.contains_key(&key) && !retry {
            continue;
        }
        let bound: Vec<String> = jobs
            .iter()
            .filter(|other| other.key() != key)
            .filter(|other| {
                state
                    .servers
                    .get(&other.key())
                    .is_some_and(|s| s.failed.is_none())
            })
            .map(|other| listen_address(&other.config(machine)))
            .collect();
        if retry {
            let address = listen_address(&job.config(machine));
            if bound.iter().any(|b| collides(b, &address)) {
                continue;
            }
        }
        let started = start(machine, job, &bound);
        state.servers.insert(key, started);
    }
    if existing.as_ref() != Some(&state) {
        save_state(machine, &state)?;
    }
    Ok(state)
}

/// The server that answers requests: the oldest running `ollama serve` that did not fail.
pub struct Running {
    pub job: Job,
    pub env: EnvConfig,
    pub store: Store,
    pub state: ServerState,
}

impl Running {
    /// Records the models in memory after a request changed them.
    /// `GetModel` for this server: the stored model with the server's `OLLAMA_GO_TEMPLATE`
    /// (`goTemplateEnvSet`: any non-empty value counts as set), which decides its template.
    pub fn model(&self, name: &super::names::Name) -> Option<super::store::Model> {
        let mut model = self.store.model(name)?;
        model.go_template_env = self.env.explicit_bool("OLLAMA_GO_TEMPLATE");
        Some(model)
    }

    pub fn save_loaded(&self, machine: &Machine, loaded: Vec<Loaded>) {
        let mut state = load_state(machine).unwrap_or_default();
        if let Some(server) = state.servers.get_mut(&self.job.key())
            && server.pid == self.job.pid
        {
            if server.loaded == loaded {
                return;
            }
            server.loaded = loaded;
            let _ = save_state(machine, &state);
        }
    }
}

/// The server that answers a connection to `host:port`: the oldest running `ollama serve`
/// that did not fail and listens there (`OLLAMA_HOST`, `envconfig.Host()`).
pub fn listening(machine: &Machine, host: &str, port: &str) -> Option<Running> {
    let db = launchd_db::load(machine).ok()?;
    let state = sync(machine, &db).ok()?;
    for job in serve_jobs(machine, &db) {
        let Some(server) = state.servers.get(&job.key()) else {
            continue;
        };
        let env = job.config(machine);
        if server.failed.is_some() || !accepts(&listen_address(&env), host, port) {
            continue;
        }
        let store = Store::open(machine, &job.models_path(&env));
        return Some(Running {
            state: server.clone(),
            job,
            env,
            store,
        });
    }
    None
}

/// The server that answers, wherever it listens (the loopback forward of `http_server`).
pub fn running(machine: &Machine) -> Option<Running> {
    let db = launchd_db::load(machine).ok()?;
    let state = sync(machine, &db).ok()?;
    let jobs = serve_jobs(machine, &db);
    for job in jobs {
        let Some(server) = state.servers.get(&job.key()) else {
            continue;
        };
        if server.failed.is_some() {
            continue;
        }
        let env = job.config(machine);
        let store = Store::open(machine, &job.models_path(&env));
        return Some(Running {
            state: server.clone(),
            job,
            env,
            store,
        });
    }
    None
}
