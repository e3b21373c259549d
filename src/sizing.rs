//! Will a model fit? At plan time, for each model in the spec: weights (the model's real size
//! from `/api/tags`, or from the catalogue before the first pull) plus KV cache (layers x context x KV heads x head dim x 2 for K and V x
//! bytes per element of the cache type, so grouped-query attention counts, x parallel slots)
//! plus runtime overhead, against what macOS lets the GPU wire.

use crate::facts::Facts;
use serde_json::Value as Json;

/// Bytes per cached element: f16 2; q8_0 and q4_0 are ggml blocks of 32 values in 34 and 18
/// bytes (ggml `block_q8_0`, `block_q4_0`).
pub fn kv_bytes_per_element(cache_type: &str) -> f64 {
    match cache_type {
        "q8_0" => 34.0 / 32.0,
        "q4_0" => 18.0 / 32.0,
        _ => 2.0,
    }
}

/// What Metal lets the GPU wire by default (`recommendedMaxWorkingSetSize`, which Ollama
/// counts as VRAM), from users' ggml-metal logs (notes/issue10-research.md section 7):
///
/// - below 36 GiB, 2/3 (16 GiB logs 11453.25 MB, 24 GiB 17179.89 MB, 32 GiB 22906.50 MB);
/// - from 36 GiB, 3/4 (a 36 GB M4 Max and a 36 GB M3 Max log 28991.03 MB, a 64 GB M2 Max
///   51539.61 MB, 128 GB Macs on macOS 15 103079.22 MB);
/// - 128 GiB on macOS 26 and later, 0.84 (115448.73 MB = 107.52 GiB on an M5 Max under
///   Darwin 25.3 and on an M4 Max with Metal 4; antirez/ds4 PR #893 measured 107.52 GiB on
///   two machines).
///
/// UNCONFIRMED: 96 GiB (no log found; 3/4 assumed) and more than 128 GiB on macOS 26 (0.84
/// assumed, as at 128 GiB).
pub fn default_working_set(memory_bytes: u64, macos_major: u32) -> u64 {
    if memory_bytes < 36 << 30 {
        memory_bytes / 3 * 2
    } else if memory_bytes >= 128 << 30 && macos_major >= 26 {
        memory_bytes / 25 * 21
    } else {
        memory_bytes / 4 * 3
    }
}

/// What this Mac lets the GPU use: `iogpu.wired_limit_mb` when set (non-zero), which
/// Metal's working set then follows exactly (llmfit PR #754 measured 12000 and 14000 MiB on
/// a 16 GB M3; antirez/ds4 PR #893 112.00 GiB with 114688), else [`default_working_set`]
/// for its memory and macOS.
pub fn gpu_budget_bytes(facts: &Facts) -> u64 {
    if let Some(limit) = wired_limit_mb(facts) {
        return limit << 20;
    }
    let major = facts
        .macos_version
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    default_working_set(facts.memory_bytes, major)
}

/// `iogpu.wired_limit_mb` when it is set (0 means the system default).
pub fn wired_limit_mb(facts: &Facts) -> Option<u64> {
    facts.gpu_wired_limit_mb.filter(|&mb| mb > 0)
}

/// Where the budget comes from, for messages: ` (iogpu.wired_limit_mb=N)` when the sysctl
/// sets it, else nothing.
pub fn budget_source(facts: &Facts) -> String {
    wired_limit_mb(facts).map_or(String::new(), |mb| format!(" (iogpu.wired_limit_mb={mb})"))
}

/// Compute buffers and the runtime beside weights and cache; llama.cpp's Metal compute
/// buffer for 7-8B models at 4-8k context is a few hundred MiB. A rounded allowance.
pub const OVERHEAD_BYTES: u64 = 768 << 20;

/// The shape that decides a model's KV cache, from `/api/show`'s `model_info`.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub layers: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub trained_context: u64,
}

impl Shape {
    pub fn from_model_info(info: &Json) -> Option<Shape> {
        let arch = info["general.architecture"].as_str()?;
        let get = |key: &str| info[format!("{arch}.{key}")].as_u64();
        let heads = get("attention.head_count")?;
        let head_dim =
            get("attention.key_length").or_else(|| Some(get("embedding_length")? / heads))?;
        Some(Shape {
            layers: get("block_count")?,
            kv_heads: get("attention.head_count_kv").unwrap_or(heads),
            head_dim,
            trained_context: get("context_length").unwrap_or(0),
        })
    }

    /// KV-cache bytes per token of context, for one parallel slot.
    pub fn kv_bytes_per_token(&self, cache_type: &str) -> f64 {
        (self.layers * self.kv_heads * self.head_dim * 2) as f64 * kv_bytes_per_element(cache_type)
    }
}

/// One model's estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub weights: u64,
    pub kv_cache: u64,
    pub budget: u64,
    /// The largest `num_ctx` (a multiple of 256) that fits, 0 if not even that.
    pub max_context: u64,
}

impl Fit {
    pub fn estimate(
        facts: &Facts,
        weights: u64,
        shape: &Shape,
        num_ctx: u64,
        parallel: u64,
        cache_type: &str,
    ) -> Fit {
        let per_token = shape.kv_bytes_per_token(cache_type) * parallel.max(1) as f64;
        let budget = gpu_budget_bytes(facts);
        let room = budget.saturating_sub(weights + OVERHEAD_BYTES) as f64;
        Fit {
            weights,
            kv_cache: (per_token * num_ctx as f64) as u64,
            budget,
            max_context: ((room / per_token) as u64 / 256) * 256,
        }
    }

    pub fn total(&self) -> u64 {
        self.weights + self.kv_cache + OVERHEAD_BYTES
    }

    pub fn fits(&self) -> bool {
        self.total() <= self.budget
    }
}

pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Ollama's default context when neither the model nor `OLLAMA_CONTEXT_LENGTH` sets one:
/// 4096 below 23 GiB of GPU memory, 32768 below 47 GiB, else 262144 (reference/ollama.md
/// 3.1, "VRAM tier", since v0.15.5).
pub fn default_context(budget: u64) -> u64 {
    if budget < 23 << 30 {
        4096
    } else if budget < 47 << 30 {
        32768
    } else {
        262_144
    }
}

/// Memory-fit warnings for every model the spec builds or pulls, with the numbers and the
/// largest `num_ctx` that fits. A base model that is not on the host yet (the first apply) is
/// sized from the catalogue; one the catalogue does not know is reported as not sized (a
/// warning on `target`, which `--strict` does not count: nothing says it will not fit).
pub fn check(
    spec: &crate::spec::Spec,
    target: &crate::target::Target,
) -> anyhow::Result<Vec<String>> {
    use crate::resources::AnyResource;
    use crate::resources::ollama_models::full_name;
    let mut env = std::collections::BTreeMap::new();
    let mut models = Vec::new();
    // Custom models by full name, with their base and `num_ctx`: a model built on another
    // model of the spec is sized by the base at the root of that chain.
    let mut built = std::collections::BTreeMap::new();
    for declared in &spec.resources {
        match &declared.resource {
            AnyResource::OllamaEnv(v) => {
                env.insert(v.name.as_str(), v.value.as_str());
            }
            AnyResource::OllamaModel(m) => {
                let num_ctx = m.parameters.get("num_ctx").and_then(|v| match v {
                    crate::value::Value::Integer(n) => u64::try_from(*n).ok(),
                    _ => None,
                });
                built.insert(full_name(&m.name), (m.from.clone(), num_ctx));
                models.push((format!("ollama_model:{}", m.name), m.from.clone(), num_ctx));
            }
            // A base pulled for a custom model is sized as that model.
            AnyResource::OllamaPull(p) if p.base_of.is_empty() => {
                models.push((format!("ollama_pull:{}", p.model), p.model.clone(), None))
            }
            _ => {}
        }
    }
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let facts = target.facts()?;
    let client = crate::ollama::client::Client::new(target.host());
    let tags = client.tags()?;
    let parallel = env
        .get("OLLAMA_NUM_PARALLEL")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let cache_type = env.get("OLLAMA_KV_CACHE_TYPE").copied().unwrap_or("f16");
    let budget = gpu_budget_bytes(facts);
    let mut warnings = Vec::new();
    for (id, mut base, mut num_ctx) in models {
        // At most as many steps as there are custom models: the graph has no cycles, but a
        // bound costs nothing.
        for _ in 0..built.len() {
            let Some((from, parent_ctx)) = built.get(&full_name(&base)) else {
                break;
            };
            num_ctx = num_ctx.or(*parent_ctx);
            base = from.clone();
        }
        let weights = match base_weights(&client, &tags, &base)? {
            Base::Sized(weights) => weights,
            Base::Unknown => {
                target.warn(format!(
                    "{id} cannot be sized against this Mac's memory: its base {base} is not on the Mac yet and not in macllm's catalogue; plan again after it is pulled"
                ));
                continue;
            }
            // On the Mac, but `/api/show` gives no shape (an architecture without the usual
            // keys): nothing to size it by.
            Base::Shapeless => continue,
        };
        let num_ctx = num_ctx
            .or(weights.num_ctx)
            .or_else(|| {
                env.get("OLLAMA_CONTEXT_LENGTH")
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
            })
            .unwrap_or_else(|| default_context(budget));
        let shape = &weights.shape;
        let num_ctx = if shape.trained_context > 0 {
            num_ctx.min(shape.trained_context)
        } else {
            num_ctx
        };
        let fit = Fit::estimate(facts, weights.bytes, shape, num_ctx, parallel, cache_type);
        if !fit.fits() {
            let source = if weights.from_catalogue {
                format!(" ({base} is not on the Mac yet: its size is from macllm's catalogue)")
            } else {
                String::new()
            };
            warnings.push(format!(
                "{id} needs about {} (weights {} + KV cache {} for num_ctx {num_ctx} x {parallel} parallel at {cache_type} + {} overhead) but this Mac lets the GPU use about {} of its {}{}; {}{source}",
                gib(fit.total()),
                gib(fit.weights),
                gib(fit.kv_cache),
                gib(OVERHEAD_BYTES),
                gib(fit.budget),
                gib(facts.memory_bytes),
                budget_source(facts),
                match fit.max_context {
                    0 => "the model does not fit at any context".to_string(),
                    n => format!("the largest num_ctx that fits is {n}"),
                }
            ));
        }
    }
    Ok(warnings)
}

/// What sizes a base model: its bytes and shape, and the `num_ctx` its Modelfile sets.
struct BaseWeights {
    bytes: u64,
    shape: Shape,
    num_ctx: Option<u64>,
    from_catalogue: bool,
}

/// How a base model can be sized.
enum Base {
    Sized(BaseWeights),
    /// On the Mac, without the shape keys in `/api/show`.
    Shapeless,
    /// Neither on the Mac nor in the catalogue.
    Unknown,
}

/// The base as the Mac has it (`/api/tags` and `/api/show`, which win: library tags are
/// re-pointed), else as the catalogue knows it.
fn base_weights(
    client: &crate::ollama::client::Client,
    tags: &std::collections::BTreeMap<String, u64>,
    base: &str,
) -> anyhow::Result<Base> {
    let Some(&bytes) = tags.get(&crate::resources::ollama_models::full_name(base)) else {
        return Ok(crate::catalog::find(base).map_or(Base::Unknown, |model| {
            Base::Sized(BaseWeights {
                bytes: model.size,
                shape: model.shape(),
                num_ctx: None,
                from_catalogue: true,
            })
        }));
    };
    let Some(show) = client.show(base)? else {
        return Ok(Base::Shapeless);
    };
    let Some(shape) = Shape::from_model_info(&show["model_info"]) else {
        return Ok(Base::Shapeless);
    };
    let num_ctx =
        crate::ollama::parameters::parse_show(show["parameters"].as_str().unwrap_or_default())
            .get("num_ctx")
            .and_then(|v| v.first().cloned())
            .and_then(|v| match v {
                crate::value::Value::Integer(n) => u64::try_from(n).ok(),
                _ => None,
            });
    Ok(Base::Sized(BaseWeights {
        bytes,
        shape,
        num_ctx,
        from_catalogue: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(gb: u64) -> Facts {
        let mut facts = crate::sandbox::facts_of_preset(
            crate::sandbox::find_preset("m1-8gb-monterey").unwrap(),
        );
        facts.memory_bytes = gb << 30;
        facts
    }

    /// The logged `recommendedMaxWorkingSetSize` figures (`default_working_set`), in MB as
    /// ggml-metal prints them, within a 16 KiB page and the print's rounding.
    #[test]
    fn the_budget_follows_metals_working_set() {
        let mb = |gib: u64, major: u32| default_working_set(gib << 30, major) as f64 / 1e6;
        for (gib, major, logged) in [
            (16, 14, 11453.25),
            (24, 15, 17179.89),
            (32, 15, 22906.50),
            (36, 15, 28991.03),
            (64, 14, 51539.61),
            (128, 15, 103079.22),
            (128, 26, 115448.73),
        ] {
            let got = mb(gib, major);
            assert!((got - logged).abs() < 0.025, "{gib} GiB on {major}: {got}");
        }
        // 36 GiB is 3/4 of it: 27 GiB, not 24.
        let mut facts = facts(36);
        facts.macos_version = "15.5".to_string();
        assert_eq!(gpu_budget_bytes(&facts), 27 << 30);
        facts.memory_bytes = 128 << 30;
        assert_eq!(gpu_budget_bytes(&facts), 96 << 30);
        facts.macos_version = "26.3".to_string();
        assert_eq!(gib(gpu_budget_bytes(&facts)), "107.5 GiB");
    }

    /// A non-zero `iogpu.wired_limit_mb` is the budget, in MiB; 0 is the default.
    #[test]
    fn the_wired_limit_sets_the_budget() {
        let mut facts = facts(16);
        facts.gpu_wired_limit_mb = Some(0);
        assert_eq!(gpu_budget_bytes(&facts), (16u64 << 30) / 3 * 2);
        assert_eq!(budget_source(&facts), "");
        facts.gpu_wired_limit_mb = Some(14000);
        assert_eq!(gpu_budget_bytes(&facts), 14000 << 20);
        assert_eq!(budget_source(&facts), " (iogpu.wired_limit_mb=14000)");
        facts.gpu_wired_limit_mb = None;
        assert_eq!(gpu_budget_bytes(&facts), (16u64 << 30) / 3 * 2);
    }

    /// A custom model built on another model of the spec is sized by the base at the root of
    /// the chain (not on the Mac yet: from the catalogue), with the nearest `num_ctx`.
    #[test]
    fn a_model_on_a_model_of_the_spec_is_sized_by_the_root_base() {
        let dir = tempfile::tempdir().unwrap();
        let host = crate::sandbox::SandboxHost::open_or_create(&dir.path().join("mac")).unwrap();
        let file = dir.path().join("macllm.yaml");
        let text = "macllm: 1\nollama:\n  models:\n    - name: chat\n      from: qwen2.5:32b\n      parameters: { num_ctx: 8192 }\n    - name: chat-terse\n      from: chat\n      system: Be brief.\n";
        let spec = crate::spec::Spec::parse(&file, text.to_string(), Default::default()).unwrap();
        let target = crate::target::Target::new(&host);
        let warnings = check(&spec, &target).unwrap();
        let expected = |id: &str| {
            format!(
                "ollama_model:{id} needs about 21.2 GiB (weights 18.5 GiB + KV cache 2.0 GiB for num_ctx 8192 x 1 parallel at f16 + 0.8 GiB overhead) but this Mac lets the GPU use about 10.7 GiB of its 16.0 GiB; the model does not fit at any context (qwen2.5:32b is not on the Mac yet: its size is from macllm's catalogue)"
            )
        };
        assert_eq!(warnings, [expected("chat"), expected("chat-terse")]);
        assert!(target.take_warnings().is_empty());
    }

    #[test]
    fn grouped_query_attention_counts() {
        // llama3.1:8b: 32 layers, 8 KV heads of 128: 128 KiB per token at f16.
        let shape = Shape {
            layers: 32,
            kv_heads: 8,
            head_dim: 128,
            trained_context: 131_072,
        };
        assert_eq!(shape.kv_bytes_per_token("f16"), 131_072.0);
        assert_eq!(shape.kv_bytes_per_token("q8_0"), 69_632.0);
        let fit = Fit::estimate(&facts(8), 4_920_753_328, &shape, 8192, 1, "f16");
        assert_eq!(fit.kv_cache, 1 << 30);
        assert_eq!(fit.budget, (8u64 << 30) / 3 * 2);
        assert!(!fit.fits(), "{fit:?}");
        assert!(fit.max_context < 8192);
        assert!(Fit::estimate(&facts(16), 4_920_753_328, &shape, 8192, 1, "f16").fits());
    }
}
