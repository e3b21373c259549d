//! End-to-end tests: the real `macllm` binary against emulated Macs (in-process with
//! `--host sandbox:DIR`, and as real processes on PATH through the multi-call shim).

mod bad_input;
mod batches;
mod crash_steps;
mod crash_sweep;
mod emulated_ollama_clients;
mod errors;
mod first_hour;
mod fleet;
mod harness;
mod host_identity;
mod hostile;
mod import_init;
mod launchd_overrides;
mod lifecycle;
mod modules;
mod ollama;
mod output_ux;
mod real_mac_defaults;
mod real_mac_memory;
mod real_mac_models;
mod real_mac_ollama;
mod real_mac_power_spotlight;
mod real_mac_sudo;
mod release;
mod robustness;
mod schema;
mod secret_argv;
mod secret_originals;
mod secrets;
mod shim;
mod sshd;
mod system;
mod templates;
