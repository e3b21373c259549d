//! `macllm init`: a starter spec for one Mac, sized by `recommend`: the tier's modules and
//! the largest 4-bit model that fits, each with a comment saying why. Checked by loading it
//! as `plan` does before it is handed out.

use super::yaml::{comment, indented, map};
use crate::facts::Facts;
use crate::host::Host;
use crate::recommend::{Recommendation, STARTER_SHARE_PERCENT, recommend, starter_model};
use crate::sizing::gib;
use crate::spec::Spec;
use crate::spec::modules::{SHIPPED, description};
use anyhow::{Context, Result};
use serde_yaml::Value as Yaml;

/// How wide comment lines may get.
const WIDTH: usize = 96;

pub fn spec(host: &dyn Host) -> Result<String> {
    let facts = Facts::read(host)?;
    let text = text(&facts, &recommend(&facts));
    check(&facts, &text)?;
    Ok(text)
}

/// The modules a Mac of this tier starts with, and why beyond the module's description.
fn modules(r: &Recommendation) -> Vec<(&'static str, Option<String>)> {
    let mut modules = vec![("no-app-nap", None), ("quiet-background", None)];
    if r.memory_gb <= 8 {
        modules.push((
            "lean-ui",
            Some(format!(
                "With {} GB, every bit the window server and Dock do not use is left to the model.",
                r.memory_gb
            )),
        ));
    }
    modules
}

fn text(facts: &Facts, r: &Recommendation) -> String {
    let tier = &r.tier;
    let mut out = String::new();
    wrap(
        &mut out,
        "",
        &format!(
            "A starter spec for {}, {} GB (the {} tier), from `macllm init`. `macllm recommend` \
             explains every number here; `macllm plan` shows what `macllm apply` would change.",
            comment(&r.chip),
            r.memory_gb,
            tier.name
        ),
    );
    out.push_str("macllm: 1\nuse:\n");
    let model = starter_model(r);
    let env: Vec<String> = tier
        .env
        .iter()
        .filter_map(|s| s.value.as_ref().map(|v| format!("{} {v}", s.name)))
        .collect();
    let tuning = match model {
        Some(model) => format!(
            "Ollama's server variables for the {} tier ({}), and {}-tuned: a copy of {} with \
             num_ctx {} and num_thread {} (the performance cores).",
            tier.name,
            env.join(", "),
            model.tag.replace(':', "-"),
            model.tag,
            tier.num_ctx.min(model.trained_context),
            facts.performance_cores.unwrap_or(facts.cpu_cores)
        ),
        None => format!(
            "Ollama's server variables for the {} tier ({}).",
            tier.name,
            env.join(", ")
        ),
    };
    wrap(&mut out, "  ", &tuning);
    let mut entry = serde_yaml::Mapping::new();
    entry.insert("module".into(), "ollama-tuning".into());
    if let Some(model) = model {
        entry.insert(
            "with".into(),
            map([("model", Yaml::String(model.tag.into()))]),
        );
    }
    out.push_str(&indented(&Yaml::Sequence(vec![Yaml::Mapping(entry)]), 2));
    for (name, why) in modules(r) {
        let text = SHIPPED
            .iter()
            .find(|(shipped, _)| *shipped == name)
            .map(|(_, text)| description(text))
            .unwrap_or_default();
        let said = match why {
            Some(why) => format!("{text} {why}"),
            None => text,
        };
        wrap(&mut out, "  ", &said);
        out.push_str(&indented(
            &Yaml::Sequence(vec![map([("module", Yaml::String(name.into()))])]),
            2,
        ));
    }
    out.push_str("ollama:\n  pull:\n");
    match model {
        Some(model) => {
            let speed = model
                .bound_tokens_per_second
                .map(|t| format!("; at most {t:.1} tokens/s here (memory bandwidth / size)"))
                .unwrap_or_default();
            wrap(
                &mut out,
                "    ",
                &format!(
                    "The largest 4-bit model in macllm's catalogue that takes at most \
                     {STARTER_SHARE_PERCENT}% of the {} the GPU may use, leaving the rest to other \
                     apps: {} of weights, {} with its KV cache at num_ctx {} and overhead{speed}.",
                    gib(r.gpu_budget_bytes),
                    gib(model.size_bytes),
                    gib(model.needs_bytes),
                    model.num_ctx
                ),
            );
            out.push_str(&indented(
                &Yaml::Sequence(vec![Yaml::String(model.tag.into())]),
                4,
            ));
        }
        None => {
            wrap(
                &mut out,
                "    ",
                &format!(
                    "No 4-bit model in macllm's catalogue takes at most {STARTER_SHARE_PERCENT}% of this Mac's GPU memory at the tier's context; add one with `pull:`."
                ),
            );
            out.push_str("    []\n");
        }
    }
    out
}

/// `text` as `# ` comment lines of at most [`WIDTH`] characters, indented by `pad`.
fn wrap(out: &mut String, pad: &str, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && pad.len() + 2 + line.len() + 1 + word.len() > WIDTH {
            out.push_str(&format!("{pad}# {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{pad}# {line}\n"));
    }
}

/// The starter spec loads for this Mac, as `validate` and `plan` load it.
fn check(facts: &Facts, text: &str) -> Result<()> {
    let file = tempfile::Builder::new()
        .prefix("macllm-init-")
        .suffix(".yaml")
        .tempfile()?;
    std::fs::write(file.path(), text)?;
    Spec::load(
        file.path(),
        Default::default(),
        &|| Ok(facts.clone()),
        &serde_json::Value::Null,
    )
    .map(|_| ())
    .context("the starter spec does not load (a bug in macllm)")
}
