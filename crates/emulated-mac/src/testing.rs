//! Shared fixtures for the emulated programs' unit tests.

use super::machine::{Machine, RESTART_LOG};
use super::presets;
use tempfile::TempDir;

/// A fresh emulated Mac of `preset`; keep the `TempDir` alive while using it.
pub fn mac(preset: &str) -> (TempDir, Machine) {
    let dir = TempDir::new().unwrap();
    let machine = Machine::create(dir.path(), presets::find(preset).unwrap()).unwrap();
    (dir, machine)
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// What `killall` and `activateSettings` recorded.
pub fn restarts(machine: &Machine) -> String {
    std::fs::read_to_string(machine.dir.join(RESTART_LOG)).unwrap_or_default()
}
