//! Popular models of the Ollama library (ollama.com/library) in their common quantisations,
//! with what decides whether they fit on a Mac: the bytes `ollama pull` downloads and the
//! shape of the KV cache (layers, KV heads, head width, trained context).
//!
//! Sources, per field:
//! - `size`: bytes, never rounded. Where the emulated registry (`sandbox/ollama/registry.rs`)
//!   has the model, its model-layer size from the library's manifest, copied exactly (a test
//!   holds the two tables together). Elsewhere the `size` that real `GET /api/tags` responses
//!   report for the library tag (with the digest they report), collected from public
//!   projects that paste those responses; that total also counts the template, licence and
//!   params layers, a few KB to ~20 KB more than the weights (e.g. `llama3.1:8b`: 4,920,734,016
//!   weights, 4,920,753,328 in `/api/tags`). [`SizeSource`] says which one each entry is;
//!   `Estimate` marks the one size computed rather than seen.
//! - `parameters`: `general.parameter_count` of the GGUF where the registry has it, else the
//!   Hugging Face safetensors total of the model the tag is built from (Ollama shows it
//!   rounded: `8.2B`, `32.8B`, `70.6B`).
//! - shape: the model's `config.json` on Hugging Face (`num_hidden_layers`,
//!   `num_key_value_heads`, `head_dim` or `hidden_size / num_attention_heads`,
//!   `max_position_embeddings`), which is what the GGUF's `<arch>.block_count`,
//!   `.attention.head_count_kv`, `.attention.key_length` and `.context_length` carry.
//!
//! The library moves: tags are re-pointed (`deepseek-r1:8b` was a Llama-3.1 distill of 4.9 GB
//! until May 2025, digest 28f8fd6c; it is now the Qwen3-8B distill of 5.2 GB, digest
//! 6995872b), so a host's own `/api/tags` and `/api/show` always win over this table.

use serde::Serialize;

/// Where a [`CatalogModel::size`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeSource {
    /// The model (GGUF) layer of the library's manifest, as the emulated registry has it.
    ModelLayer,
    /// The `size` of real `/api/tags` responses for this tag: all layers.
    TagsTotal,
    /// Computed from the parameter count and the quantisation; UNCONFIRMED to the byte.
    Estimate,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogModel {
    /// The library tag, `model:tag`.
    pub tag: &'static str,
    /// Other names of the same manifest (`:latest`, the long quantisation tag).
    pub aliases: &'static [&'static str],
    /// `general.architecture`.
    pub architecture: &'static str,
    pub parameters: u64,
    /// `general.file_type` as Ollama names it: `Q4_K_M`, `Q4_0`, `Q8_0`, `F16`.
    pub quantization: &'static str,
    /// Bytes; see [`SizeSource`].
    pub size: u64,
    pub size_source: SizeSource,
    pub layers: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub trained_context: u64,
}

impl CatalogModel {
    pub fn shape(&self) -> crate::sizing::Shape {
        crate::sizing::Shape {
            layers: self.layers,
            kv_heads: self.kv_heads,
            head_dim: self.head_dim,
            trained_context: self.trained_context,
        }
    }

    /// The parameter count as Ollama prints it: `3.2B`, `8.0B`, `70.6B`.
    pub fn parameter_size(&self) -> String {
        format!("{:.1}B", self.parameters as f64 / 1e9)
    }

    /// Average bits per weight of the download.
    pub fn bits_per_weight(&self) -> f64 {
        self.size as f64 * 8.0 / self.parameters as f64
    }
}

const CATALOGUE: &[CatalogModel] = &[
    // meta-llama/Llama-3.2-1B-Instruct config.json: 16 layers, 32 heads, 8 KV heads,
    // hidden 2048 (head 64), 131072 positions.
    CatalogModel {
        tag: "llama3.2:1b",
        aliases: &["llama3.2:1b-instruct-q8_0"],
        architecture: "llama",
        parameters: 1_235_814_432,
        quantization: "Q8_0",
        size: 1_321_082_688,
        size_source: SizeSource::ModelLayer,
        layers: 16,
        kv_heads: 8,
        head_dim: 64,
        trained_context: 131_072,
    },
    // meta-llama/Llama-3.2-3B-Instruct config.json: 28 layers, 24 heads, 8 KV heads,
    // hidden 3072 (head 128), 131072 positions.
    CatalogModel {
        tag: "llama3.2:3b",
        aliases: &["llama3.2:latest", "llama3.2:3b-instruct-q4_K_M"],
        architecture: "llama",
        parameters: 3_212_749_888,
        quantization: "Q4_K_M",
        size: 2_019_377_376,
        size_source: SizeSource::ModelLayer,
        layers: 28,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
    // The same model unquantised: what a Q4 saves (a third of the size, three times the
    // bound on tokens/s).
    CatalogModel {
        tag: "llama3.2:3b-instruct-fp16",
        aliases: &[],
        architecture: "llama",
        parameters: 3_212_749_888,
        quantization: "F16",
        size: 6_433_687_776,
        size_source: SizeSource::ModelLayer,
        layers: 28,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
    // microsoft/Phi-3-mini config.json: 32 layers, 32 heads, 32 KV heads (no grouped-query
    // attention, so a large cache per token), hidden 3072 (head 96). Context: the registry's
    // 131072 (the 128k variant); UNCONFIRMED which variant `phi3:mini` points at today: the
    // library page lists a 4k `mini` and a separate `mini-128k`.
    CatalogModel {
        tag: "phi3:mini",
        aliases: &["phi3:latest", "phi3:3.8b"],
        architecture: "phi3",
        parameters: 3_821_079_552,
        quantization: "Q4_0",
        size: 2_176_177_120,
        size_source: SizeSource::ModelLayer,
        layers: 32,
        kv_heads: 32,
        head_dim: 96,
        trained_context: 131_072,
    },
    // mistralai/Mistral-7B-Instruct-v0.3 config.json: 32 layers, 32 heads, 8 KV heads,
    // hidden 4096 (head 128), 32768 positions. `mistral:latest` in real `/api/tags`:
    // 4,113,301,824 (digest f974a743), consistent with this layer.
    CatalogModel {
        tag: "mistral:7b",
        aliases: &["mistral:latest", "mistral:7b-instruct"],
        architecture: "llama",
        parameters: 7_248_023_552,
        quantization: "Q4_0",
        size: 4_113_289_184,
        size_source: SizeSource::ModelLayer,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 32_768,
    },
    CatalogModel {
        tag: "mistral:7b-instruct-q4_K_M",
        aliases: &[],
        architecture: "llama",
        parameters: 7_248_023_552,
        quantization: "Q4_K_M",
        size: 4_372_812_000,
        size_source: SizeSource::ModelLayer,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 32_768,
    },
    // Qwen/Qwen2.5-7B-Instruct config.json: 28 layers, 28 heads, 4 KV heads, hidden 3584
    // (head 128), 32768 positions (131072 only with YaRN, which the GGUF does not enable).
    // Real `/api/tags`: 4,683,087,332.
    CatalogModel {
        tag: "qwen2.5:7b",
        aliases: &["qwen2.5:latest", "qwen2.5:7b-instruct-q4_K_M"],
        architecture: "qwen2",
        parameters: 7_615_616_512,
        quantization: "Q4_K_M",
        size: 4_683_073_184,
        size_source: SizeSource::ModelLayer,
        layers: 28,
        kv_heads: 4,
        head_dim: 128,
        trained_context: 32_768,
    },
    // meta-llama/Llama-3.1-8B-Instruct config.json: 32 layers, 32 heads, 8 KV heads, hidden
    // 4096 (head 128), 131072 positions. Real `/api/tags`: 4,920,753,328 (digest 46e0c10c).
    CatalogModel {
        tag: "llama3.1:8b",
        aliases: &["llama3.1:latest", "llama3.1:8b-instruct-q4_K_M"],
        architecture: "llama",
        parameters: 8_030_261_248,
        quantization: "Q4_K_M",
        size: 4_920_734_016,
        size_source: SizeSource::ModelLayer,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
    // deepseek-ai/DeepSeek-R1-0528-Qwen3-8B config.json (Qwen3-8B): 36 layers, 32 heads,
    // 8 KV heads, head_dim 128, 131072 positions (YaRN x4 over 32768, in the config).
    // Real `/api/tags`: 5,225,376,047, digest 6995872b, family qwen3, 8.2B, Q4_K_M.
    CatalogModel {
        tag: "deepseek-r1:8b",
        aliases: &["deepseek-r1:latest"],
        architecture: "qwen3",
        parameters: 8_190_735_360,
        quantization: "Q4_K_M",
        size: 5_225_376_047,
        size_source: SizeSource::TagsTotal,
        layers: 36,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
    // google/gemma-2-9b-it config.json: 42 layers, 16 heads, 8 KV heads, head_dim 256 (set
    // explicitly; not hidden 3584 / 16), 8192 positions. Every other layer uses a 4096-token
    // sliding window, so llama.cpp's SWA cache can hold less than this full-cache estimate.
    CatalogModel {
        tag: "gemma2:9b",
        aliases: &["gemma2:latest", "gemma2:9b-instruct-q4_0"],
        architecture: "gemma2",
        parameters: 9_241_705_984,
        quantization: "Q4_0",
        size: 5_443_143_456,
        size_source: SizeSource::ModelLayer,
        layers: 42,
        kv_heads: 8,
        head_dim: 256,
        trained_context: 8192,
    },
    // The library lists this tag at 8.5 GB (`ollama list` shows 8.5 GB, ID b158ded76fa0); the
    // byte count is computed, UNCONFIRMED: every 2-D tensor in Q8_0 (34 bytes per 32 weights)
    // for 8,029,995,008 weights, the norms in F32, plus the ~7.8 MB of tokenizer metadata and
    // padding that `llama3.2:1b`'s Q8_0 layer shows over the same formula.
    CatalogModel {
        tag: "llama3.1:8b-instruct-q8_0",
        aliases: &[],
        architecture: "llama",
        parameters: 8_030_261_248,
        quantization: "Q8_0",
        size: 8_540_766_000,
        size_source: SizeSource::Estimate,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
    // Qwen/Qwen2.5-14B-Instruct config.json: 48 layers, 40 heads, 8 KV heads, hidden 5120
    // (head 128), 32768 positions.
    CatalogModel {
        tag: "qwen2.5:14b",
        aliases: &["qwen2.5:14b-instruct-q4_K_M"],
        architecture: "qwen2",
        parameters: 14_770_033_664,
        quantization: "Q4_K_M",
        size: 8_988_110_976,
        size_source: SizeSource::ModelLayer,
        layers: 48,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 32_768,
    },
    // deepseek-ai/DeepSeek-R1-Distill-Qwen-14B config.json: Qwen2.5-14B's shape, 131072
    // positions. Real `/api/tags`: 8,988,112,040, digest ea35dfe1, qwen2, 14.8B, Q4_K_M.
    CatalogModel {
        tag: "deepseek-r1:14b",
        aliases: &[],
        architecture: "qwen2",
        parameters: 14_770_033_664,
        quantization: "Q4_K_M",
        size: 8_988_112_040,
        size_source: SizeSource::TagsTotal,
        layers: 48,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
    // google/gemma-2-27b-it config.json: 46 layers, 32 heads, 16 KV heads, head_dim 128,
    // 8192 positions (sliding window on every other layer, as for 9b). Real `/api/tags`:
    // 15,628,387,458.
    CatalogModel {
        tag: "gemma2:27b",
        aliases: &["gemma2:27b-instruct-q4_0"],
        architecture: "gemma2",
        parameters: 27_227_128_320,
        quantization: "Q4_0",
        size: 15_628_387_458,
        size_source: SizeSource::TagsTotal,
        layers: 46,
        kv_heads: 16,
        head_dim: 128,
        trained_context: 8192,
    },
    // Qwen/Qwen2.5-32B-Instruct config.json: 64 layers, 40 heads, 8 KV heads, hidden 5120
    // (head 128), 32768 positions. Real `/api/tags`: 19,851,349,669, digest 9f13ba12, 32.8B.
    CatalogModel {
        tag: "qwen2.5:32b",
        aliases: &["qwen2.5:32b-instruct-q4_K_M"],
        architecture: "qwen2",
        parameters: 32_763_876_352,
        quantization: "Q4_K_M",
        size: 19_851_349_669,
        size_source: SizeSource::TagsTotal,
        layers: 64,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 32_768,
    },
    // meta-llama/Llama-3.3-70B-Instruct config.json: 80 layers, 64 heads, 8 KV heads, hidden
    // 8192 (head 128), 131072 positions. Real `/api/tags`: 42,520,413,916, digest a6eb4748,
    // 70.6B, Q4_K_M.
    CatalogModel {
        tag: "llama3.3:70b",
        aliases: &["llama3.3:latest", "llama3.3:70b-instruct-q4_K_M"],
        architecture: "llama",
        parameters: 70_553_706_496,
        quantization: "Q4_K_M",
        size: 42_520_413_916,
        size_source: SizeSource::TagsTotal,
        layers: 80,
        kv_heads: 8,
        head_dim: 128,
        trained_context: 131_072,
    },
];

pub fn all() -> &'static [CatalogModel] {
    CATALOGUE
}

/// The entry for `name`: a tag or alias, compared case-insensitively; a name without a tag
/// means `:latest`, and the library's own prefixes (`registry.ollama.ai/library/`,
/// `library/`) are ignored.
pub fn find(name: &str) -> Option<&'static CatalogModel> {
    let name = name.trim();
    let name = name
        .strip_prefix("registry.ollama.ai/library/")
        .or_else(|| name.strip_prefix("library/"))
        .unwrap_or(name);
    let wanted = if name.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    };
    CATALOGUE.iter().find(|m| {
        std::iter::once(m.tag)
            .chain(m.aliases.iter().copied())
            .any(|n| n.eq_ignore_ascii_case(&wanted))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::Shape;
    use emulated_mac::ollama::names::Name;
    use emulated_mac::ollama::registry;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_found() {
        let mut seen = BTreeSet::new();
        for model in all() {
            for name in std::iter::once(model.tag).chain(model.aliases.iter().copied()) {
                assert!(seen.insert(name.to_lowercase()), "{name} twice");
                assert!(std::ptr::eq(find(name).unwrap(), model), "{name}");
            }
        }
        assert_eq!(find("llama3.2").unwrap().tag, "llama3.2:3b");
        assert_eq!(find("LLAMA3.1:8B").unwrap().tag, "llama3.1:8b");
        assert_eq!(
            find("registry.ollama.ai/library/qwen2.5:14b").unwrap().tag,
            "qwen2.5:14b"
        );
        assert!(find("me/llama3.2").is_none());
        assert!(find("nonexistent").is_none());
    }

    /// Sizes against what their quantisation allows: Q4 files run 4.4-5.2 bits per weight
    /// (the embeddings and output stay at 6 bits and more), Q8_0 8.5 plus metadata, F16 16.
    #[test]
    fn sizes_match_their_quantisation() {
        for model in all() {
            let bits = model.bits_per_weight();
            let range = match model.quantization {
                "Q4_0" => 4.4..4.9,
                "Q4_K_M" => 4.7..5.2,
                "Q8_0" => 8.45..8.7,
                "F16" => 15.9..16.2,
                other => panic!("{}: no range for {other}", model.tag),
            };
            assert!(range.contains(&bits), "{}: {bits:.2} bits", model.tag);
            assert!(model.trained_context >= 8192, "{}", model.tag);
        }
    }

    /// For every model both tables have, the catalogue says what the emulated registry
    /// serves: sizes to the byte, parameter count, file type, and the shape
    /// `sizing::Shape::from_model_info` reads from the registry's `/api/show` metadata.
    #[test]
    fn agrees_with_the_emulated_registry() {
        // Head widths the registry cannot express yet: it writes no
        // `<arch>.attention.key_length`, so `/api/show` readers derive embedding / heads.
        // gemma2:9b's real GGUF has key_length 256 (google/gemma-2-9b-it config.json
        // `head_dim`); 3584 / 16 = 224 would understate its cache by an eighth.
        const REGISTRY_HEAD_DIM_GAPS: &[(&str, u64)] = &[("gemma2:9b", 224)];
        let mut shared = 0;
        for model in all() {
            let Some(base) = registry::find(&Name::parse(model.tag)) else {
                continue;
            };
            shared += 1;
            for alias in model.aliases {
                if let Some(other) = registry::find(&Name::parse(alias)) {
                    assert!(std::ptr::eq(base, other), "{alias} is another model there");
                }
            }
            assert_eq!(model.size, base.size, "{}", model.tag);
            assert_eq!(model.size_source, SizeSource::ModelLayer, "{}", model.tag);
            assert_eq!(model.parameters, base.parameter_count, "{}", model.tag);
            assert_eq!(model.quantization, base.file_type.name(), "{}", model.tag);
            assert_eq!(model.architecture, base.architecture, "{}", model.tag);
            let json: serde_json::Value = serde_json::from_str(&base.gguf_kv().to_json()).unwrap();
            let theirs = Shape::from_model_info(&json).unwrap();
            let mut ours = model.shape();
            if let Some((_, width)) = REGISTRY_HEAD_DIM_GAPS
                .iter()
                .find(|(tag, width)| *tag == model.tag && theirs.head_dim == *width)
            {
                ours.head_dim = *width;
            }
            assert_eq!(ours, theirs, "{}", model.tag);
        }
        assert!(
            shared >= 10,
            "only {shared} models shared with the registry"
        );
    }
}
