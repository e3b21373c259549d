//! A sandbox Mac in a temporary folder, a spec beside it, and the real binary to drive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_macllm");

pub struct Mac {
    _temp: tempfile::TempDir,
    /// The working folder: spec in `macllm.yaml`, state in `state/`.
    pub work: PathBuf,
    /// The emulated Mac, `work/mac`.
    pub dir: PathBuf,
}

#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn expect(self, status: i32) -> Run {
        assert_eq!(
            self.status, status,
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Mac {
    pub fn new() -> Mac {
        Mac::with_preset("m2-16gb-sonoma")
    }

    pub fn with_preset(preset: &str) -> Mac {
        let temp = tempfile::tempdir().unwrap();
        let work = temp.path().to_path_buf();
        let mac = Mac {
            dir: work.join("mac"),
            work,
            _temp: temp,
        };
        mac.macllm(&["sandbox", "init", "mac", "--preset", preset])
            .expect(0);
        mac
    }

    pub fn spec(&self, text: &str) -> &Mac {
        std::fs::write(self.work.join("macllm.yaml"), text).unwrap();
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(&self.work)
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove(emulated_mac::ENV_FAIL)
            .env_remove(emulated_mac::ENV_DELAY_MS);
        command
    }

    /// `macllm ARGS` in the working folder, not against any host.
    pub fn macllm(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    /// `macllm --host sandbox:mac ARGS`.
    pub fn on(&self, args: &[&str]) -> Run {
        let mut all = vec!["--host", "sandbox:mac"];
        all.extend_from_slice(args);
        self.macllm(&all)
    }

    pub fn spawn_on(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        let mut all = vec!["--host", "sandbox:mac"];
        all.extend_from_slice(args);
        let mut command = self.command(&all);
        command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().unwrap()
    }

    /// One emulated command, as a user would type it.
    pub fn sh(&self, argv: &[&str]) -> Run {
        let mut all = vec!["sandbox", "run", "mac", "--"];
        all.extend_from_slice(argv);
        self.macllm(&all)
    }

    pub fn export(&self, domain: &str) -> String {
        self.sh(&["defaults", "export", domain, "-"])
            .expect(0)
            .stdout
    }

    pub fn read(&self, domain: &str, key: &str) -> Run {
        self.sh(&["defaults", "read", domain, key])
    }

    pub fn state_path(&self) -> PathBuf {
        self.work.join("state/sandbox-mac.json")
    }

    pub fn state(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_path()).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Every file of the emulated Mac with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect(&self.dir, &self.dir, &mut files);
        files
    }

    pub fn restarts(&self) -> String {
        std::fs::read_to_string(self.dir.join("var/log/restarts.log")).unwrap_or_default()
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            files.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
        }
    }
}

pub fn run(mut command: Command) -> Run {
    let output = command.stdin(Stdio::null()).output().unwrap();
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub const QUIET_UI: &str = include_str!("../../examples/quiet-ui.yaml");
