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
//! - Memory: Metal's recommended working set (what Ollama counts as VRAM) is 2/3 of the
//!   unified memory up to 36 GiB and 3/4 above (UNCONFIRMED: llama.cpp logs
//!   `recommendedMaxWorkingSetSize` of 11453.25 MB on 16 GB Macs); a loaded model takes its
//!   weights + the KV cache (2 × layers × context × parallel × kv heads × head width × bytes
//!   per element: 2 for f16, 34/32 for q8_0, 18/32 for q4_0 when flash attention is on) +
//!   256 MiB of compute graph.

use super::store::Model;
use crate::machine::Machine;

pub const GIB: u64 = 1 << 30;
const GRAPH_BYTES: u64 = 256 << 20;

#[derive(Clone, Copy, Debug)]
pub struct Hardware {
    pub memory: u64,
    pub gpu_cores: u32,
    /// Bytes per second.
    pub bandwidth: f64,
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
    }
}

impl Hardware {
    /// What the Metal backend reports as the GPU's total memory, minus
    /// `OLLAMA_GPU_OVERHEAD`.
    pub fn vram(&self, overhead: u64) -> u64 {
        let working_set = if self.memory > 36 * GIB {
            self.memory / 4 * 3
        } else {
            self.memory / 3 * 2
        };
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
        };
        assert_eq!(default_num_ctx(hw(16).vram(0)), 4096);
        assert_eq!(default_num_ctx(hw(48).vram(0)), 32_768);
        assert_eq!(default_num_ctx(hw(64).vram(0)), 262_144);
    }
}
