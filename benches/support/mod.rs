//! What the benchmarks share: the macllm binaries to compare (this build, and an older one
//! named by `MACLLM_BENCH_BASELINE` so that one run prints both side by side), a TCP proxy
//! that delays every chunk by a set time each way (a Mac some milliseconds away, without
//! `netem`), the CPU time of the processes a step started, and the generated `defaults`
//! specs. Round trips are counted by `RoundTrips`, shared with the tests (tests/e2e/sshd.rs).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A macllm binary built from an earlier commit, to measure in the same run as this one.
pub const ENV_BASELINE: &str = "MACLLM_BENCH_BASELINE";

/// The binaries to measure, labelled: the baseline first when one is given.
pub fn binaries(this: &str) -> Vec<(String, PathBuf)> {
    let mut binaries = Vec::new();
    if let Ok(path) = std::env::var(ENV_BASELINE) {
        binaries.push(("baseline".to_string(), PathBuf::from(path)));
    }
    binaries.push(("this".to_string(), PathBuf::from(this)));
    binaries
}

/// Whether sshd can run here (root, OpenSSH's server); says why not when it cannot.
pub fn sshd_available(bench: &str) -> bool {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !root || !Path::new("/usr/sbin/sshd").exists() {
        println!("{bench} skipped: needs root and /usr/sbin/sshd");
        return false;
    }
    true
}

/// Listens on a loopback port and forwards every connection to `target`, each chunk held
/// back `delay` in each direction (so a round trip costs twice `delay`); returns the port.
pub fn delaying_proxy(target: u16, delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
    let port = listener.local_addr().expect("proxy address").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client2, server2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            pump(client, server, delay);
            pump(server2, client2, delay);
        }
    });
    port
}

/// Copies `from` to `to`, each chunk sent `delay` after it arrived, in order.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (send, receive) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if send
                        .send((Instant::now() + delay, buffer[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        for (due, chunk) in receive {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// `PATH` with `first` in front.
pub fn path_with(first: &[&Path]) -> String {
    let mut parts: Vec<String> = first.iter().map(|p| p.display().to_string()).collect();
    parts.push(std::env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// User plus system CPU seconds of every child this process has waited for.
pub fn children_cpu() -> f64 {
    // The tick length first: asking it spawns `getconf`, which must not land in the reading.
    let ticks = clock_ticks();
    // /proc/PID/stat fields 16 and 17: cutime and cstime.
    stat_ticks("/proc/self/stat", 16) / ticks
}

/// CPU seconds (user + system) that `pid` has used so far, from /proc.
pub fn process_cpu(pid: u32) -> f64 {
    // /proc/PID/stat fields 14 and 15: utime and stime.
    stat_ticks(&format!("/proc/{pid}/stat"), 14) / clock_ticks()
}

/// The sum of the two clock-tick counts at 1-based fields `field` and `field + 1` of a
/// /proc stat file (proc(5)). The name (field 2) may hold spaces, so fields are counted from
/// after its closing parenthesis, where field 3 starts.
fn stat_ticks(path: &str, field: usize) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .skip(field - 3)
        .take(2)
        .filter_map(|f| f.parse::<f64>().ok())
        .sum()
}

/// Clock ticks per second, asked once: every process this bench waits for adds its CPU to
/// the children's total being measured (a `getconf` per reading, ten readings a second per
/// master, once added about 0.2 s per host to a 46 s run).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Watches the ControlPersist masters of a control folder while a step runs, and what CPU
/// each has used. A master is nobody's child here (it detaches), so its time is read from
/// /proc while it lives: one left idle for ControlPersist's 60 s exits mid-run, and read only
/// at the end it would be missed. Masters are found by the title OpenSSH gives them,
/// `ssh: SOCKET [mux]`, in /proc: the watch spawns nothing, since whatever it spawned and
/// waited for would count as the step's CPU.
pub struct MasterWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(u32, f64)>>,
}

impl MasterWatch {
    pub fn start(control_dir: &Path) -> MasterWatch {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let title = format!("ssh: {}/", control_dir.display());
        let stopping = stop.clone();
        clock_ticks();
        let thread = std::thread::spawn(move || {
            let mut masters: Vec<(u32, f64)> = Vec::new();
            loop {
                let stopped = stopping.load(std::sync::atomic::Ordering::SeqCst);
                for pid in processes_titled(&title) {
                    if !masters.iter().any(|(known, _)| *known == pid) {
                        masters.push((pid, 0.0));
                    }
                }
                // The last reading of a master that has exited stands: it was idle since.
                for (pid, cpu) in &mut masters {
                    *cpu = cpu.max(process_cpu(*pid));
                }
                if stopped {
                    return masters;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        MasterWatch { stop, thread }
    }

    /// The CPU seconds the masters used so far. They keep running: [`exit_masters`] ends
    /// them once the step's CPU has been read.
    pub fn stop(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let masters = self.thread.join().unwrap_or_default();
        masters.iter().map(|(_, cpu)| cpu).sum()
    }
}

/// The processes whose command line (as `setproctitle` left it) starts with `title`.
fn processes_titled(title: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| line.starts_with(title.as_bytes()))
        })
        .collect()
}

/// Tells every master listening in `control_dir` to exit (`ssh -O exit`), and removes the
/// folder.
pub fn exit_masters(control_dir: &Path) {
    for entry in std::fs::read_dir(control_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::process::Command::new("ssh")
            .arg("-o")
            .arg(format!("ControlPath={}", entry.path().display()))
            .args(["-O", "exit", "x"])
            .output();
    }
    let _ = std::fs::remove_dir_all(control_dir);
}

/// A spec of `keys` `defaults` keys spread over `domains` domains, of every scalar type.
pub fn defaults_spec(keys: usize, domains: usize) -> String {
    let mut spec = String::from("macllm: 1\ndefaults:\n");
    for i in 0..keys {
        let (d, k) = (i % domains, i / domains);
        let value = match k % 4 {
            0 => "true".to_string(),
            1 => format!("{}", d * 100 + k),
            2 => format!("{k}.5"),
            _ => format!("\"value {d}-{k}\""),
        };
        spec.push_str(&format!(
            "  - {{domain: com.example.bench{d:02}, key: key{k:04}, value: {value}}}\n"
        ));
    }
    spec
}
