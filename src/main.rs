fn main() {
    // Under an emulated program's name (a `defaults -> macllm` symlink on PATH, with
    // MACLLM_SANDBOX set) the binary is the emulated Mac's multi-call shim, so that the local
    // and SSH hosts are tested through real processes.
    if let Some(code) = emulated_mac::shim_main() {
        std::process::exit(code);
    }
    std::process::exit(macllm::run());
}
