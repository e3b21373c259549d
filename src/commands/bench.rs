//! `macllm bench MODEL`: a fixed prompt through Ollama a few times, Ollama's own timing
//! fields, and generation speed as a share of the memory-bandwidth bound (every generated
//! token reads the whole model once, so tokens/s <= bandwidth / model size). The bound makes
//! claims checkable: the seed guides' 18-22 tok/s for a 7B Q4 model (about 4.4 GB) on a base
//! M1 (68 GB/s) exceed its ~15 tok/s ceiling.

use super::Context;
use crate::facts::Facts;
use crate::ollama::client::Client;
use anyhow::{Result, bail};
use serde_json::json;

/// The same prompt every time, so runs and Macs compare.
pub const PROMPT: &str = "Explain in three short paragraphs why unified memory bandwidth limits how fast a large language model generates text on a laptop.";

pub fn run(context: &Context, model: &str, runs: u32) -> Result<i32> {
    context.for_each_host(|host, _| {
        let client = Client::new(host);
        let Some(size) = client
            .tags()?
            .get(&crate::resources::ollama_models::full_name(model))
            .copied()
        else {
            bail!("{model} is not installed on {}\nhint: `ollama pull {model}`, or add it to `ollama.pull` in the spec", host.name());
        };
        let facts = Facts::read(host)?;
        unload(context, &client, model)?;
        let mut results = Vec::new();
        for run in 0..runs {
            context.ui.progress(&format!("{model}: run {} of {runs}...", run + 1));
            let answer = client.generate(&json!({
                "model": model,
                "prompt": PROMPT,
                "stream": false,
                "options": { "seed": 42, "temperature": 0, "num_predict": 128 },
            }))?;
            results.push(Run::from(&answer));
        }
        let report = Report::new(model, size, &facts, &results);
        if context.ui.json {
            context.ui.data(&(serde_json::to_string_pretty(&report)? + "\n"));
        } else {
            context.ui.data(&report.render());
        }
        Ok(0)
    })
}

/// How long to wait for Ollama to let go of the model before the first run.
const UNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Unloads `model` so that run 1's load time is a cold load, not that of a model an earlier
/// chat or bench left in memory. An empty prompt with `keep_alive: 0` is Ollama's documented
/// unload (docs/api.md "Unload a model"; `GenerateHandler` in server/routes.go calls
/// `s.sched.expireRunner` and answers `done_reason: "unload"` at once), but the scheduler
/// stops the runner afterwards, on its own goroutine (`processCompleted` in server/sched.go),
/// so macllm waits until `/api/ps` no longer lists the model.
fn unload(context: &Context, client: &Client, model: &str) -> Result<()> {
    use crate::resources::ollama_models::full_name;
    let full = full_name(model);
    let is_loaded =
        || -> Result<bool> { Ok(client.loaded()?.iter().any(|name| full_name(name) == full)) };
    if !is_loaded()? {
        return Ok(());
    }
    context.ui.progress(&format!(
        "{model}: unloading it first, so that run 1 measures a cold load..."
    ));
    client.generate(&json!({ "model": model, "keep_alive": 0 }))?;
    let start = std::time::Instant::now();
    while is_loaded()? {
        if start.elapsed() > UNLOAD_TIMEOUT {
            bail!(
                "{model} is still loaded {} s after Ollama was asked to unload it, so run 1 would not measure a cold load\nhint: `ollama stop {model}`, then bench again",
                UNLOAD_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Run {
    pub load_seconds: f64,
    pub prompt_tokens_per_second: f64,
    pub generation_tokens_per_second: f64,
}

impl Run {
    /// From `/api/generate`'s metrics: counts in tokens, durations in nanoseconds
    /// (reference/ollama.md 1.9).
    fn from(answer: &serde_json::Value) -> Run {
        let number = |key: &str| answer[key].as_f64().unwrap_or(0.0);
        let rate = |count: &str, duration: &str| {
            let seconds = number(duration) / 1e9;
            if seconds > 0.0 {
                number(count) / seconds
            } else {
                0.0
            }
        };
        Run {
            load_seconds: number("load_duration") / 1e9,
            prompt_tokens_per_second: rate("prompt_eval_count", "prompt_eval_duration"),
            generation_tokens_per_second: rate("eval_count", "eval_duration"),
        }
    }
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub format_version: &'static str,
    pub model: String,
    pub size_bytes: u64,
    pub chip: String,
    pub memory_bandwidth_gbps: Option<f64>,
    pub runs: Vec<Run>,
    pub cold_load_seconds: f64,
    pub prompt_tokens_per_second: f64,
    pub generation_tokens_per_second: f64,
    /// bandwidth / size: no Mac of this kind can generate faster.
    pub bound_tokens_per_second: Option<f64>,
    pub share_of_bound: Option<f64>,
}

/// Bytes in a GiB.
const GIB: f64 = (1u64 << 30) as f64;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

impl Report {
    pub fn new(model: &str, size: u64, facts: &Facts, runs: &[Run]) -> Report {
        let generation = median(
            runs.iter()
                .map(|r| r.generation_tokens_per_second)
                .collect(),
        );
        let bound = facts
            .memory_bandwidth_gbps
            .map(|gbps| gbps * 1e9 / size as f64);
        Report {
            format_version: crate::plan::PLAN_FORMAT_VERSION,
            model: model.to_string(),
            size_bytes: size,
            chip: facts.chip.clone(),
            memory_bandwidth_gbps: facts.memory_bandwidth_gbps,
            runs: runs.to_vec(),
            cold_load_seconds: runs.first().map_or(0.0, |r| r.load_seconds),
            prompt_tokens_per_second: median(
                runs.iter().map(|r| r.prompt_tokens_per_second).collect(),
            ),
            generation_tokens_per_second: generation,
            bound_tokens_per_second: bound,
            share_of_bound: bound.map(|b| generation / b),
        }
    }

    /// Sizes in GiB, as `recommend` and the plan's memory checks give them (a Mac's "16 GB"
    /// is 16 GiB); the bandwidth in Apple's GB/s and, for the bound's arithmetic, in GiB/s.
    pub fn render(&self) -> String {
        let mut out = format!(
            "\n{} ({:.2} GiB) on {}, {} run(s)\n\n  load (first run, cold) {:>7.2} s\n  prompt processing     {:>8.1} tokens/s\n  generation            {:>8.1} tokens/s\n",
            self.model,
            self.size_bytes as f64 / GIB,
            self.chip,
            self.runs.len(),
            self.cold_load_seconds,
            self.prompt_tokens_per_second,
            self.generation_tokens_per_second
        );
        match (self.bound_tokens_per_second, self.share_of_bound, self.memory_bandwidth_gbps) {
            (Some(bound), Some(share), Some(gbps)) => out.push_str(&format!(
                "  bandwidth bound       {bound:>8.1} tokens/s ({gbps} GB/s = {:.1} GiB/s, / {:.2} GiB)\n  share of the bound    {:>8.0} %\n\nEvery generated token reads the whole model, so no {} can generate this model faster than {bound:.1} tokens/s.\n",
                gbps * 1e9 / GIB,
                self.size_bytes as f64 / GIB,
                share * 100.0,
                self.chip
            )),
            _ => out.push_str("  bandwidth bound       unknown (chip not in macllm's table)\n"),
        }
        out
    }
}
