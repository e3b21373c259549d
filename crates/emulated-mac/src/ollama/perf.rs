//! A small deterministic model of how fast an Apple-silicon Mac runs a model, for the
//! timing fields of `/api/generate` and the sizes of `/api/ps`. Not a benchmark: enough for
//! numbers that scale the right way with the hardware and the model.
//!
//! - Token generation is memory-bound: every token reads all weights once, so tokens/s ≈
//!   memory bandwidth / weights × 0.6 (llama.cpp reaches roughly 60 % of the theoretical
//!   bandwidth on Apple GPUs; e.g. ~30 t/s for a 2 GB model on a 100 GB/s M2).
//! - Prompt processing is compute-bound: ≈ 1.25e11 × GPU cores / parameters tokens/s (about
//!   390 t/s for a 3.2B model on a 10-core M2, 180 t/s for 7B).
//! - Loading reads the weights from the SSD at ~2.5 GB/s plus 150 ms of setup; a model that
//!   is already loaded with the same context costs 15 ms.
//! - Memory: Metal's `recommendedMaxWorkingSetSize` (what Ollama counts as VRAM; see
//!   [`working_set`] for the rule and its sources), or `iogpu.wired_limit_mb` when that
//!   sysctl is set (Metal follows it exactly); a loaded model takes its
//!   weights + the KV cache (2 × layers × context × parallel × kv heads × head width × bytes
//!   per element: 2 for f16, 34/32 for q8_0, 18/32 for q4_0 when flash attention is on) +
//!   256 MiB of compute graph.

use super::store::Model;
use crate::machine::Machine;
use crate::sw_vers::version_triple;

pub const GIB: u64 = 1 << 30;
const GRAPH_BYTES: u64 = 256 << 20;

#[derive(Clone, Copy, Debug)]
pub struct Hardware {
    pub memory: u64,
    pub gpu_cores: u32,
    /// Bytes per second.
    pub bandwidth: f64,
    /// The emulated macOS's major version (the working set of 128 GiB Macs depends on it).
    pub macos_major: u32,
    /// `iogpu.wired_limit_mb` in bytes when set (non-zero).
    pub wired_limit: Option<u64>,
}

pub fn hardware(machine: &Machine) -> Hardware {
    let info = &machine.info;
    // A machine.json from before the bandwidth was recorded gets the base M2's 100 GB/s.
    let gbs = if info.memory_bandwidth_gbps > 0.0 {
        info.memory_bandwidth_gbps
    } else {
        100.0
    };
    Hardware {
        memory: machine.info.memory_bytes,
        gpu_cores: machine.info.gpu_cores,
        bandwidth: gbs * 1e9,
        macos_major: version_triple(&info.product_version).0,
        wired_limit: crate::sysctl::gpu_wired_limit_bytes(machine),
    }
}

/// Metal's default `recommendedMaxWorkingSetSize` for `memory` bytes of unified memory, as
/// ggml-metal logs it (`recommendedMaxWorkingSetSize  = <bytes / 1e6> MB`), from users'
/// public logs (notes/issue10-research.md section 7):
///
/// - below 36 GiB, 2/3: 16 GiB logs 11453.25 MB, 32 GiB 22906.50 MB, 8 GiB Ollama
///   `total="5.3 GiB"` (the last within a 16 KiB page of 2/3);
/// - from 36 GiB, 3/4: a 36 GB M4 Max logs 28991.03 MB (a 36 GB M3 Max the same), a 64 GB
///   M2 Max 51539.61 MB; a 128 GB M3 Max and a 128 GB M4 Max on macOS 15 (a 2025-08-12 log,
///   `MTLGPUFamilyMetal3`) 103079.22 MB;
/// - 128 GiB on macOS 26: 115448.73 MB = 0.84 (107.52 GiB), on an M5 Max under Darwin 25.3
///   and an M4 Max whose log shows `MTLGPUFamilyMetal4` (macOS 26); antirez/ds4 PR #893
///   reports 107.52 GiB measured on two such machines.
///
/// UNCONFIRMED: 96 GiB (no log found; 3/4 assumed), and above 128 GiB on macOS 26 (0.84
/// assumed, as at 128 GiB; the 3/4 of older releases is not extrapolated to it).
pub fn working_set(memory: u64, macos_major: u32) -> u64 {
    if memory < 36 * GIB {
        memory / 3 * 2
    } else if memory >= 128 * GIB && macos_major >= 26 {
        memory / 25 * 21
    } else {
        memory / 4 * 3
    }
}

impl Hardware {
    /// What the Metal backend reports as the GPU's total memory, minus
    /// `OLLAMA_GPU_OVERHEAD`.
    /// `iogpu.wired_limit_mb` replaces the default working set when set: Metal's
    /// `recommendedMaxWorkingSetSize` follows it exactly (llmfit PR #754 measured 12000 and
    /// 14000 MiB on a 16 GB M3; antirez/ds4 PR #893 112.00 GiB with 114688).
    pub fn vram(&self, overhead: u64) -> u64 {
        let working_set = self
            .wired_limit
            .unwrap_or_else(|| working_set(self.memory, self.macos_major));
        working_set.saturating_sub(overhead)
    }
}

/// `Serve`'s VRAM tiers (47/23 GiB thresholds): 262144, 32768 or 4096 tokens.
pub fn default_num_ctx(vram: u64) -> u64 {
    if vram >= 47 * GIB {
        262_144
    } else if vram >= 23 * GIB {
        32_768
    } else {
        4096
    }
}

/// Bytes per KV-cache element for `OLLAMA_KV_CACHE_TYPE` (only with flash attention on;
/// otherwise llama.cpp keeps f16).
pub fn kv_bytes_per_element(cache_type: &str, flash_attention: bool) -> f64 {
    if !flash_attention {
        return 2.0;
    }
    match cache_type {
        "q8_0" => 34.0 / 32.0,
        "q4_0" => 18.0 / 32.0,
        _ => 2.0,
    }
}

/// Total bytes a loaded model takes.
pub fn loaded_size(model: &Model, num_ctx: u64, parallel: u64, kv_element: f64) -> u64 {
    let layers = model.arch_u64("block_count");
    let heads = model.arch_u64("attention.head_count").max(1);
    let kv_heads = model.arch_u64("attention.head_count_kv").max(1);
    let width = model.arch_u64("embedding_length");
    let head_dim = width / heads;
    let kv = 2.0 * (layers * num_ctx * parallel.max(1) * kv_heads * head_dim) as f64 * kv_element;
    model.weights.max(0) as u64 + kv as u64 + GRAPH_BYTES
}

/// The durations of one generation, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub load: i64,
    pub prompt_eval: i64,
    pub eval: i64,
    pub total: i64,
}

pub fn timing(
    hw: &Hardware,
    model: &Model,
    cold: bool,
    on_gpu: f64,
    prompt_tokens: u64,
    eval_tokens: u64,
) -> Timing {
    let weights = model.weights.max(1) as f64;
    let load = if cold {
        150_000_000 + (weights / 2.5e9 * 1e9) as i64
    } else {
        15_000_000
    };
    // Layers left on the CPU run at about a third of the GPU's speed.
    let speed = 0.35 + 0.65 * on_gpu.clamp(0.0, 1.0);
    let eval_tps = hw.bandwidth * 0.6 / weights * speed;
    let params = model.parameter_count().max(1) as f64;
    let prompt_tps = 1.25e11 * f64::from(hw.gpu_cores.max(1)) / params * speed;
    let prompt_eval = (prompt_tokens as f64 / prompt_tps * 1e9) as i64;
    let eval = (eval_tokens as f64 / eval_tps * 1e9) as i64;
    Timing {
        load,
        prompt_eval,
        eval,
        total: load + prompt_eval + eval + 1_250_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The VRAM tiers of `server/routes.go Serve` on the presets' memory sizes.
    #[test]
    fn vram_tiers() {
        let hw = |gb: u64| Hardware {
            memory: gb * GIB,
            gpu_cores: 10,
            bandwidth: 1e11,
            macos_major: 15,
            wired_limit: None,
        };
        assert_eq!(default_num_ctx(hw(16).vram(0)), 4096);
        assert_eq!(default_num_ctx(hw(48).vram(0)), 32_768);
        assert_eq!(default_num_ctx(hw(64).vram(0)), 262_144);
    }

    /// The working set against the logged figures (`working_set`'s sources), in MB as
    /// ggml-metal prints them: within a 16 KiB page and the print's rounding.
    #[test]
    fn working_set_matches_real_logs() {
        let mb = |gib: u64, major: u32| working_set(gib * GIB, major) as f64 / 1e6;
        let near = |got: f64, logged: f64| (got - logged).abs() < 0.025;
        assert!(near(mb(16, 14), 11453.25), "{}", mb(16, 14));
        assert!(near(mb(32, 15), 22906.50), "{}", mb(32, 15));
        assert!(near(mb(24, 15), 17179.89), "{}", mb(24, 15));
        // A 36 GB M4 Max: 3/4, not 2/3.
        assert!(near(mb(36, 15), 28991.03), "{}", mb(36, 15));
        assert!(near(mb(64, 14), 51539.61), "{}", mb(64, 14));
        assert!(near(mb(128, 15), 103079.22), "{}", mb(128, 15));
        assert!(near(mb(128, 26), 115448.73), "{}", mb(128, 26));
    }

    /// `iogpu.wired_limit_mb` replaces the working set (ds4 PR #893: 114688 -> 112.00 GiB).
    #[test]
    fn the_wired_limit_overrides_the_working_set() {
        let (_dir, mut machine) = crate::testing::mac("m4max-64gb-sequoia");
        assert_eq!(hardware(&machine).vram(0), 48 * GIB);
        machine.info.uid = 0;
        let set = crate::sysctl::run(
            &machine,
            &crate::testing::args(&["iogpu.wired_limit_mb=57344"]),
        );
        assert_eq!(set.stdout, "iogpu.wired_limit_mb: 0 -> 57344\n");
        assert_eq!(hardware(&machine).vram(0), 56 * GIB);
        assert_eq!(hardware(&machine).vram(GIB), 55 * GIB);
        // 0 is the system default again.
        crate::sysctl::run(&machine, &crate::testing::args(&["iogpu.wired_limit_mb=0"]));
        assert_eq!(hardware(&machine).vram(0), 48 * GIB);
    }
}
