//! What fits on this Mac: the memory tier's Ollama settings, and for every catalogue model
//! whether it fits, the longest context that does, and how fast it can possibly generate.
//! Pure: facts in, a [`Recommendation`] out.
//!
//! The tier settings are exactly what the shipped `ollama-tuning` module applies on the same
//! host (a test renders the module and compares), so `macllm recommend` explains what
//! `use: ollama-tuning` will do. The seed guides' tiers are corrected where the math or the
//! reference disagrees: `OLLAMA_MAX_QUEUE` 1/2/4 would answer a second waiting client with
//! 503 (reference/ollama.md 3.1, default 512); their KV-cache formula ignores grouped-query
//! attention (their "8192 tokens: ~2 GB" is 1 GiB at f16 for an 8B Llama, 0.5 GiB at q8_0);
//! their `num_ctx` 1024-2048 / 2048-4096 / 4096-8192 is kept for 8 GB only, as the cache of
//! a Q4 7-8B model at 8192 is a few hundred MiB once quantised.
//!
//! Memory: `sizing::Fit` (weights + KV cache + overhead against Metal's working set). Speed:
//! every generated token reads every weight once, so tokens/s <= memory bandwidth / model
//! size; an upper bound that real runs stay below (how far below is not measured here:
//! `macllm bench` reports the share; the sandbox's perf model assumes 60 %).
//!
//! The tier is decided by the memory alone; the guides' KV-cache type "where memory is
//! tight" is q8_0 in every tier here because that is what the module (and Homebrew's own
//! service, per the module's comment) applies.

use crate::catalog::{self, CatalogModel};
use crate::facts::Facts;
use crate::sizing::{Fit, OVERHEAD_BYTES, default_context, gib, gpu_budget_bytes};
use serde::Serialize;

/// One setting and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    pub name: &'static str,
    /// As macllm writes it (`1`, not `true`); `None` when there is nothing to set.
    pub value: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tier {
    /// `8 GB`, `16 GB` or `32+ GB`.
    pub name: &'static str,
    /// Server variables (`ollama.env`).
    pub env: Vec<Setting>,
    /// Model parameters (`num_thread`, `num_ctx`).
    pub parameters: Vec<Setting>,
    pub num_ctx: u64,
    pub parallel: u64,
    pub kv_cache_type: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFit {
    pub tag: &'static str,
    pub parameter_size: String,
    pub quantization: &'static str,
    pub size_bytes: u64,
    pub size_source: catalog::SizeSource,
    /// The context checked: the tier's `num_ctx`, or the model's trained context if shorter
    /// (Ollama clamps to it at load).
    pub num_ctx: u64,
    /// Weights + KV cache at `num_ctx` (one slot, the tier's cache type) + overhead.
    pub needs_bytes: u64,
    pub fits: bool,
    /// The longest `num_ctx` that fits with one slot, at most the trained context; 0 if the
    /// weights alone do not fit.
    pub max_num_ctx_f16: u64,
    pub max_num_ctx_q8_0: u64,
    pub trained_context: u64,
    /// Memory bandwidth / size; `None` for chips macllm has no figure for.
    pub bound_tokens_per_second: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub chip: String,
    pub memory_gb: u64,
    /// What Metal lets the GPU wire (`sizing::gpu_budget_bytes`): `iogpu.wired_limit_mb`
    /// when set.
    pub gpu_budget_bytes: u64,
    /// `iogpu.wired_limit_mb` when set (non-zero).
    pub gpu_wired_limit_mb: Option<u64>,
    pub memory_bandwidth_gbps: Option<f64>,
    /// Ollama's own `num_ctx` on this Mac when nothing sets one.
    pub ollama_default_context: u64,
    pub tier: Tier,
    /// Every catalogue model, smallest first.
    pub models: Vec<ModelFit>,
}

/// The model the tier's reasons quote cache sizes for: the common 8B Q4.
const REFERENCE_MODEL: &str = "llama3.1:8b";

pub fn recommend(facts: &Facts) -> Recommendation {
    let budget = gpu_budget_bytes(facts);
    let tier = tier(facts);
    let mut models: Vec<ModelFit> = catalog::all()
        .iter()
        .map(|model| model_fit(facts, model, &tier))
        .collect();
    models.sort_by_key(|m| (m.size_bytes, m.tag));
    Recommendation {
        chip: facts.chip.clone(),
        memory_gb: facts.memory_gb,
        gpu_budget_bytes: budget,
        gpu_wired_limit_mb: crate::sizing::wired_limit_mb(facts),
        memory_bandwidth_gbps: facts.memory_bandwidth_gbps,
        ollama_default_context: default_context(budget),
        tier,
        models,
    }
}

fn model_fit(facts: &Facts, model: &CatalogModel, tier: &Tier) -> ModelFit {
    let shape = model.shape();
    let num_ctx = tier.num_ctx.min(model.trained_context);
    let fit = Fit::estimate(facts, model.size, &shape, num_ctx, 1, tier.kv_cache_type);
    let longest = |cache_type: &str| {
        Fit::estimate(facts, model.size, &shape, num_ctx, 1, cache_type)
            .max_context
            .min(model.trained_context)
    };
    ModelFit {
        tag: model.tag,
        parameter_size: model.parameter_size(),
        quantization: model.quantization,
        size_bytes: model.size,
        size_source: model.size_source,
        num_ctx,
        needs_bytes: fit.total(),
        fits: fit.fits(),
        max_num_ctx_f16: longest("f16"),
        max_num_ctx_q8_0: longest("q8_0"),
        trained_context: model.trained_context,
        bound_tokens_per_second: bound_tokens_per_second(facts, model.size),
    }
}

/// The share of the GPU's memory a starter model may take with its cache: the rest is left to
/// the apps the Mac runs beside it, so a first apply does not start by swapping.
pub const STARTER_SHARE_PERCENT: u64 = 80;

/// The model a starter spec (`macllm init`) pulls: the largest 4-bit catalogue model whose
/// weights, cache at the tier's context and overhead take at most [`STARTER_SHARE_PERCENT`] of
/// the GPU's memory; 4-bit because it is the usual quality-per-byte trade (the catalogue's
/// 8-bit and 16-bit rows are variants of smaller models). `None` when none fits.
pub fn starter_model(r: &Recommendation) -> Option<&ModelFit> {
    let room = r.gpu_budget_bytes / 100 * STARTER_SHARE_PERCENT;
    r.models
        .iter()
        .filter(|m| m.fits && m.needs_bytes <= room && m.quantization.starts_with("Q4"))
        .max_by_key(|m| (m.size_bytes, m.tag))
}

/// tokens/s no Mac with this memory bandwidth can exceed for a model of `size` bytes.
pub fn bound_tokens_per_second(facts: &Facts, size: u64) -> Option<f64> {
    facts
        .memory_bandwidth_gbps
        .map(|gbps| gbps * 1e9 / size as f64)
}

/// The tier and its settings, with the thresholds of `modules/ollama-tuning.yaml`:
/// 1 slot and 1 resident model below 32 GB, keep-alive 5m at 8 GB, `num_ctx` 2048 at 8 GB,
/// 8192 up to 16 GB, 16384 above. A 24 GB Mac is in the "16 GB" tier with 16384.
fn tier(facts: &Facts) -> Tier {
    let gb = facts.memory_gb;
    let budget = gpu_budget_bytes(facts);
    let name = if gb <= 8 {
        "8 GB"
    } else if gb < 32 {
        "16 GB"
    } else {
        "32+ GB"
    };
    let parallel: u64 = if gb < 32 { 1 } else { 2 };
    let loaded: u64 = parallel;
    let keep_alive = if gb <= 8 { "5m" } else { "30m" };
    let num_ctx: u64 = if gb <= 8 {
        2048
    } else if gb <= 16 {
        8192
    } else {
        16384
    };
    let kv_cache_type = "q8_0";
    let reference = catalog::find(REFERENCE_MODEL).map(|m| (m.shape(), m.size));
    let cache_of = |cache_type: &str| {
        reference.as_ref().map_or(0, |(shape, _)| {
            (shape.kv_bytes_per_token(cache_type) * num_ctx as f64) as u64
        })
    };
    // One resident copy of the reference model at the tier's settings.
    let needs = reference.as_ref().map_or(0, |(shape, size)| {
        Fit::estimate(facts, *size, shape, num_ctx, parallel, kv_cache_type).total()
    });
    let mib = |bytes: u64| format!("{} MiB", bytes >> 20);
    let setting = |name: &'static str, value: String, reason: String| Setting {
        name,
        value: Some(value),
        reason,
    };
    let env = vec![
        setting(
            "OLLAMA_NUM_PARALLEL",
            parallel.to_string(),
            if parallel == 1 {
                format!(
                    "every slot holds its own KV cache (num_ctx x slots); one slot leaves the {} the GPU may use to the model",
                    gib(budget)
                )
            } else {
                "two clients at once; each slot holds its own KV cache, so context memory doubles (the guides' 3-6 would multiply it)".to_string()
            },
        ),
        setting(
            "OLLAMA_MAX_LOADED_MODELS",
            loaded.to_string(),
            format!(
                "two {REFERENCE_MODEL} with {} need {} of the {} the GPU may use{}",
                if parallel == 1 {
                    format!("their caches at {num_ctx}")
                } else {
                    format!("{parallel} caches each at {num_ctx}")
                },
                gib(2 * needs),
                gib(budget),
                if loaded == 1 {
                    "; a second model would push the first out (Ollama's default is 3)"
                } else {
                    ": two stay resident (say chat and code) without reloads; Ollama's default is 3"
                }
            ),
        ),
        setting(
            "OLLAMA_MAX_QUEUE",
            "64".to_string(),
            "requests wait instead of failing with 503 (default 512); the guide's 1-4 would turn a second waiting client away".to_string(),
        ),
        setting(
            "OLLAMA_KEEP_ALIVE",
            keep_alive.to_string(),
            if gb <= 8 {
                "unload after 5 idle minutes (Ollama's default), giving the memory back to macOS".to_string()
            } else {
                "keep the model warm for 30 idle minutes: a reload reads gigabytes from the SSD again".to_string()
            },
        ),
        setting(
            "OLLAMA_FLASH_ATTENTION",
            "1".to_string(),
            "a quantised KV cache needs it; unset means auto since v0.12.4, so 1 makes it certain".to_string(),
        ),
        setting(
            "OLLAMA_KV_CACHE_TYPE",
            kv_cache_type.to_string(),
            if gb < 32 {
                format!(
                    "memory is tight: 34 bytes per 32 values instead of 64 ({} for {REFERENCE_MODEL} at {num_ctx} instead of {})",
                    mib(cache_of("q8_0")),
                    mib(cache_of("f16"))
                )
            } else {
                format!(
                    "twice the context in the same memory with little loss ({} for {REFERENCE_MODEL} at {num_ctx} instead of {})",
                    mib(cache_of("q8_0")),
                    mib(cache_of("f16"))
                )
            },
        ),
    ];
    let num_thread = match facts.performance_cores {
        Some(cores) => setting(
            "num_thread",
            cores.to_string(),
            format!(
                "the {cores} performance cores; efficiency cores would slow the CPU share of the work (env OLLAMA_NUM_THREADS does not exist)"
            ),
        ),
        None => Setting {
            name: "num_thread",
            value: None,
            reason: "no performance-core count on this Mac (Intel?): leave it to Ollama"
                .to_string(),
        },
    };
    let num_ctx_setting = setting(
        "num_ctx",
        num_ctx.to_string(),
        format!(
            "Ollama would use {} here; {num_ctx} keeps {REFERENCE_MODEL}'s cache at {} (q8_0){}",
            default_context(budget),
            mib(cache_of("q8_0")),
            if gb <= 8 {
                " in an 8 GB Mac's few GiB"
            } else {
                ", long enough for documents and code"
            }
        ),
    );
    Tier {
        name,
        env,
        parameters: vec![num_thread, num_ctx_setting],
        num_ctx,
        parallel,
        kv_cache_type,
    }
}

/// Pads `cells` to `widths`: the first `left` columns left-aligned, the rest right-aligned.
fn row(cells: &[String], widths: &[usize], left: usize) -> String {
    let mut line = String::from(" ");
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        line.push_str("  ");
        if i < left {
            line.push_str(&format!("{cell:<width$}"));
        } else {
            line.push_str(&format!("{cell:>width$}"));
        }
    }
    line
}

pub fn render(r: &Recommendation) -> String {
    let mut out = format!(
        "\n{}, {} GB: the GPU may use about {}{}; Ollama's default num_ctx here is {}.\n",
        if r.chip.is_empty() {
            "This Mac"
        } else {
            &r.chip
        },
        r.memory_gb,
        gib(r.gpu_budget_bytes),
        r.gpu_wired_limit_mb
            .map_or(String::new(), |mb| format!(" (iogpu.wired_limit_mb={mb})")),
        r.ollama_default_context
    );
    match r.memory_bandwidth_gbps {
        Some(gbps) => out.push_str(&format!("Memory bandwidth {gbps} GB/s.\n")),
        None => out.push_str("Memory bandwidth unknown (chip not in macllm's table).\n"),
    }
    out.push_str(&format!(
        "\nModels at num_ctx {} (or their trained context if shorter), 1 slot, {} KV cache:\n\n",
        r.tier.num_ctx, r.tier.kv_cache_type
    ));
    let header: Vec<String> = [
        "model",
        "params",
        "quant",
        "size GiB",
        "fits",
        "max ctx f16",
        "max ctx q8_0",
        "bound tok/s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = vec![header];
    for m in &r.models {
        let ctx = |n: u64| {
            if n == 0 {
                "-".to_string()
            } else if n >= m.trained_context {
                format!("{n}*")
            } else {
                n.to_string()
            }
        };
        rows.push(vec![
            m.tag.to_string(),
            m.parameter_size.clone(),
            m.quantization.to_string(),
            format!(
                "{}{:.1}",
                if m.size_source == catalog::SizeSource::Estimate {
                    "~"
                } else {
                    ""
                },
                m.size_bytes as f64 / (1u64 << 30) as f64
            ),
            if m.fits { "yes" } else { "no" }.to_string(),
            ctx(m.max_num_ctx_f16),
            ctx(m.max_num_ctx_q8_0),
            m.bound_tokens_per_second
                .map_or("-".to_string(), |b| format!("{b:.1}")),
        ]);
    }
    let mut widths = vec![0; rows[0].len()];
    for cells in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for cells in &rows {
        out.push_str(&row(cells, &widths, 3));
        out.push('\n');
    }
    out.push_str(&format!(
        "\n  * the model's trained context: Ollama clamps num_ctx to it.\n  fits: weights + KV cache + {} overhead within the GPU's {}.{}\n  bound: bandwidth / size; every token reads the whole model, so no run is faster.\n",
        gib(OVERHEAD_BYTES),
        gib(r.gpu_budget_bytes),
        if r.tier.parallel > 1 {
            format!(
                "\n  With OLLAMA_NUM_PARALLEL={} each loaded model holds {} caches: divide max num_ctx by {}.",
                r.tier.parallel, r.tier.parallel, r.tier.parallel
            )
        } else {
            String::new()
        }
    ));
    out.push_str(&format!(
        "\n{} tier: what `use: ollama-tuning` applies on this Mac\n\n",
        r.tier.name
    ));
    let settings: Vec<&Setting> = r.tier.env.iter().chain(&r.tier.parameters).collect();
    let name_width = settings.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let value_width = settings
        .iter()
        .map(|s| s.value.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0);
    for s in settings {
        out.push_str(&format!(
            "  {:<name_width$}  {:<value_width$}  {}\n",
            s.name,
            s.value.as_deref().unwrap_or("-"),
            s.reason
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{PRESETS, facts_of_preset, find_preset as find};

    fn preset(name: &str) -> Facts {
        facts_of_preset(find(name).unwrap())
    }

    fn model<'a>(r: &'a Recommendation, tag: &str) -> &'a ModelFit {
        r.models.iter().find(|m| m.tag == tag).unwrap()
    }

    fn env<'a>(r: &'a Recommendation, name: &str) -> &'a str {
        r.tier
            .env
            .iter()
            .chain(&r.tier.parameters)
            .find(|s| s.name == name)
            .and_then(|s| s.value.as_deref())
            .unwrap()
    }

    #[test]
    fn tier_settings_per_preset() {
        // (preset, tier, parallel = loaded models, keep-alive, num_thread, num_ctx)
        let expected = [
            ("m1-8gb-monterey", "8 GB", "1", "5m", "4", "2048"),
            ("m2-16gb-sonoma", "16 GB", "1", "30m", "4", "8192"),
            ("m2-16gb-sonoma-ssh", "16 GB", "1", "30m", "4", "8192"),
            ("m4pro-48gb-sequoia", "32+ GB", "2", "30m", "10", "16384"),
            ("m4max-64gb-sequoia", "32+ GB", "2", "30m", "12", "16384"),
        ];
        assert_eq!(expected.len(), PRESETS.len());
        for (name, tier, parallel, keep_alive, threads, ctx) in expected {
            let r = recommend(&preset(name));
            assert_eq!(r.tier.name, tier, "{name}");
            assert_eq!(env(&r, "OLLAMA_NUM_PARALLEL"), parallel, "{name}");
            assert_eq!(env(&r, "OLLAMA_MAX_LOADED_MODELS"), parallel, "{name}");
            assert_eq!(env(&r, "OLLAMA_MAX_QUEUE"), "64", "{name}");
            assert_eq!(env(&r, "OLLAMA_KEEP_ALIVE"), keep_alive, "{name}");
            assert_eq!(env(&r, "OLLAMA_FLASH_ATTENTION"), "1", "{name}");
            assert_eq!(env(&r, "OLLAMA_KV_CACHE_TYPE"), "q8_0", "{name}");
            assert_eq!(env(&r, "num_thread"), threads, "{name}");
            assert_eq!(env(&r, "num_ctx"), ctx, "{name}");
            assert_eq!(r.tier.num_ctx.to_string(), ctx);
            for s in r.tier.env.iter().chain(&r.tier.parameters) {
                assert!(!s.reason.is_empty() && !s.reason.contains('\n'), "{s:?}");
                if s.name.starts_with("OLLAMA_") {
                    let variable = crate::ollama::env::find(s.name).unwrap();
                    let value = s.value.as_deref().unwrap();
                    assert_eq!(
                        crate::ollama::env::check(variable, value).as_deref(),
                        Ok(value)
                    );
                }
            }
        }
    }

    /// The tier is what `use: ollama-tuning` (with a model) renders to on the same host.
    #[test]
    fn tier_matches_the_ollama_tuning_module() {
        let (_, text) = crate::spec::modules::SHIPPED
            .iter()
            .find(|(name, _)| *name == "ollama-tuning")
            .unwrap();
        for preset in PRESETS {
            let facts = facts_of_preset(preset);
            let context = serde_json::json!({
                "host": facts,
                "params": { "model": "llama3.1:8b" },
                "vars": {},
            });
            let file = std::path::Path::new("ollama-tuning.yaml");
            let document = crate::spec::document::parse(file, text).unwrap();
            let (yaml, _) = crate::spec::document::render(
                file,
                text,
                document,
                &["module", "description", "params"],
                &context,
            )
            .unwrap();
            let text_of = |v: &serde_yaml::Value| match v {
                serde_yaml::Value::String(s) => s.clone(),
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::Bool(b) => b.to_string(),
                other => panic!("{other:?}"),
            };
            let r = recommend(&facts);
            let module_env = yaml["ollama"]["env"].as_mapping().unwrap();
            assert_eq!(module_env.len(), r.tier.env.len(), "{}", preset.name);
            for (name, value) in module_env {
                let name = name.as_str().unwrap();
                let variable = crate::ollama::env::find(name).unwrap();
                let value = crate::ollama::env::check(variable, &text_of(value)).unwrap();
                assert_eq!(env(&r, name), value, "{} {name}", preset.name);
            }
            let parameters = &yaml["ollama"]["models"][0]["parameters"];
            assert_eq!(
                env(&r, "num_ctx"),
                text_of(&parameters["num_ctx"]),
                "{}",
                preset.name
            );
            assert_eq!(
                env(&r, "num_thread"),
                text_of(&parameters["num_thread"]),
                "{}",
                preset.name
            );
        }
    }

    #[test]
    fn an_8_gb_m1_fits_small_models_only() {
        let r = recommend(&preset("m1-8gb-monterey"));
        assert_eq!(r.gpu_budget_bytes, (8u64 << 30) / 3 * 2);
        let small = model(&r, "llama3.2:3b");
        assert!(small.fits, "{small:?}");
        assert!(small.max_num_ctx_q8_0 > small.max_num_ctx_f16);
        assert!(small.max_num_ctx_f16 >= 16384, "{small:?}");
        let big = model(&r, "llama3.3:70b");
        assert!(!big.fits);
        assert_eq!((big.max_num_ctx_f16, big.max_num_ctx_q8_0), (0, 0));
        // A 4.9 GB 8B Q4 leaves nothing for a cache in 5.3 GiB.
        assert!(!model(&r, "llama3.1:8b").fits);
        // The guide's "mistral:7b-q4_K_M (~4.1 GB) - Maximum size" for 8 GB: it fits, barely.
        let mistral = model(&r, "mistral:7b-instruct-q4_K_M");
        assert!(
            mistral.fits && mistral.max_num_ctx_q8_0 < 8192,
            "{mistral:?}"
        );
        for m in &r.models {
            assert_eq!(m.num_ctx, 2048);
            assert_eq!(m.fits, m.needs_bytes <= r.gpu_budget_bytes, "{}", m.tag);
        }
    }

    /// Seed guide 002 ("M1 LLM optimization reference", Expected Performance): "M1 MacBook
    /// Air (8GB) ... mistral:7b-q4_K_M: 18-22 tok/s (2048 ctx)" and "llama3.2:3b-q4_K_M:
    /// 45-50 tok/s"; "M1 Pro (32GB) ... llama3.1:8b-q8_0: 30-35 tok/s". Every token reads the
    /// whole model, so on the M1's 68.25 GB/s no 7-8B Q4 model passes ~14-16 tok/s and a 3B
    /// Q4 ~34; the M1 Pro's 200 GB/s caps an 8B Q8_0 near 23. The guide's figures exceed
    /// what the hardware can move.
    #[test]
    fn the_guides_speeds_exceed_the_bandwidth_bound() {
        let m1 = preset("m1-8gb-monterey");
        assert_eq!(m1.memory_bandwidth_gbps, Some(68.25));
        let r = recommend(&m1);
        let llama = model(&r, "llama3.1:8b").bound_tokens_per_second.unwrap();
        assert!((llama - 13.9).abs() < 0.05, "{llama}");
        let mistral = model(&r, "mistral:7b-instruct-q4_K_M")
            .bound_tokens_per_second
            .unwrap();
        assert!(mistral < 18.0, "{mistral}");
        let small = model(&r, "llama3.2:3b").bound_tokens_per_second.unwrap();
        assert!(small < 45.0, "{small}");

        let mut pro = m1.clone();
        pro.chip = "Apple M1 Pro".to_string();
        pro.memory_bytes = 32 << 30;
        pro.memory_gb = 32;
        pro.memory_bandwidth_gbps = crate::chips::memory_bandwidth_gbps(&pro.chip, 10, Some(16));
        let q8 = model(&recommend(&pro), "llama3.1:8b-instruct-q8_0")
            .bound_tokens_per_second
            .unwrap();
        assert!(q8 < 30.0, "{q8}");
    }

    #[test]
    fn a_64_gb_m4_max_runs_a_32b_model_with_a_long_context() {
        let r = recommend(&preset("m4max-64gb-sequoia"));
        assert_eq!(r.tier.name, "32+ GB");
        assert_eq!(r.ollama_default_context, 262_144);
        let qwen = model(&r, "qwen2.5:32b");
        assert!(qwen.fits, "{qwen:?}");
        // Its whole trained context, even at f16.
        assert_eq!(qwen.max_num_ctx_f16, 32_768);
        assert_eq!(qwen.max_num_ctx_q8_0, 32_768);
        let llama = model(&r, "llama3.3:70b");
        assert!(llama.fits, "{llama:?}");
        assert!(llama.max_num_ctx_f16 >= 16384 && llama.max_num_ctx_f16 < 32768);
        // The bound: 546 GB/s over 19.9 GB.
        let bound = qwen.bound_tokens_per_second.unwrap();
        assert!((bound - 27.5).abs() < 0.1, "{bound}");
        // gemma2 is checked at its own 8192.
        assert_eq!(model(&r, "gemma2:27b").num_ctx, 8192);
        // A 48 GB M4 Pro lets the GPU have 36 GiB: not enough for 70B Q4 weights.
        let pro = recommend(&preset("m4pro-48gb-sequoia"));
        assert!(!model(&pro, "llama3.3:70b").fits);
        assert!(model(&pro, "qwen2.5:32b").fits);
    }

    /// `sudo sysctl iogpu.wired_limit_mb=14336` on a 16 GB mini: 14 GiB for the GPU, so
    /// gemma2:27b still does not fit but the budget, the table and the text follow it.
    #[test]
    fn the_wired_limit_is_the_budget() {
        let mut facts = preset("m2-16gb-sonoma");
        let before = recommend(&facts);
        facts.gpu_wired_limit_mb = Some(14336);
        let r = recommend(&facts);
        assert_eq!(r.gpu_budget_bytes, 14 << 30);
        assert_eq!(r.gpu_wired_limit_mb, Some(14336));
        let qwen = |r: &Recommendation| model(r, "qwen2.5:14b").max_num_ctx_f16;
        assert!(qwen(&r) > qwen(&before), "{} {}", qwen(&r), qwen(&before));
        assert!(render(&r).contains(
            "Apple M2, 16 GB: the GPU may use about 14.0 GiB (iogpu.wired_limit_mb=14336);"
        ));
        assert!(render(&before).contains("Apple M2, 16 GB: the GPU may use about 10.7 GiB;"));
    }

    #[test]
    fn the_16_gb_mini_fits_14b_but_not_27b() {
        let r = recommend(&preset("m2-16gb-sonoma"));
        assert!(model(&r, "qwen2.5:14b").fits);
        assert!(model(&r, "llama3.1:8b-instruct-q8_0").fits);
        assert!(!model(&r, "gemma2:27b").fits);
        assert!(!model(&r, "qwen2.5:32b").fits);
    }

    #[test]
    fn models_are_sorted_by_size_and_all_there() {
        for preset in PRESETS {
            let r = recommend(&facts_of_preset(preset));
            assert_eq!(r.models.len(), catalog::all().len());
            assert!(
                r.models
                    .windows(2)
                    .all(|w| w[0].size_bytes <= w[1].size_bytes)
            );
            // More memory never makes a model fit less.
            for m in &r.models {
                assert!(m.max_num_ctx_q8_0 >= m.max_num_ctx_f16, "{}", m.tag);
                assert!(m.max_num_ctx_f16 <= m.trained_context, "{}", m.tag);
            }
        }
    }

    #[test]
    fn render_aligns_the_table() {
        let r = recommend(&preset("m1-8gb-monterey"));
        let text = render(&r);
        let lines: Vec<&str> = text.lines().collect();
        let header = lines
            .iter()
            .position(|l| l.trim_start().starts_with("model"))
            .unwrap();
        let table = &lines[header..=header + r.models.len()];
        let width = table[0].len();
        for line in table {
            assert_eq!(line.len(), width, "{line:?}");
        }
        let at = table[0].find("bound tok/s").unwrap();
        assert!(
            table[1..]
                .iter()
                .all(|l| l.len() == at + "bound tok/s".len())
        );
        assert!(text.contains("llama3.1:8b-instruct-q8_0"));
        assert!(text.contains("~8.0"), "{text}");
        assert!(text.contains("8 GB tier"));
        assert!(text.contains("  OLLAMA_KV_CACHE_TYPE"));
        assert!(text.contains("num_thread"));
        assert!(!text.contains("divide max num_ctx"));
        let max = render(&recommend(&preset("m4max-64gb-sequoia")));
        assert!(max.contains("OLLAMA_NUM_PARALLEL=2"));
    }

    #[test]
    fn unknown_chips_have_no_bound_and_no_thread_count() {
        let mut facts = preset("m2-16gb-sonoma");
        facts.chip = "Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz".to_string();
        facts.memory_bandwidth_gbps = None;
        facts.performance_cores = None;
        let r = recommend(&facts);
        assert!(r.models.iter().all(|m| m.bound_tokens_per_second.is_none()));
        let threads = r.tier.parameters.iter().find(|s| s.name == "num_thread");
        assert_eq!(threads.unwrap().value, None);
        let text = render(&r);
        assert!(text.contains("Memory bandwidth unknown"));
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["models"][0]["bound_tokens_per_second"].is_null());
        assert_eq!(json["tier"]["name"], "16 GB");
    }
}
