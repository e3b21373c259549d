//! `macllm recommend`: which models, quantizations and contexts fit each host.

use super::Context;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    context.for_each_host(|host, _| {
        let facts = crate::facts::Facts::read(host)?;
        let recommendation = crate::recommend::recommend(&facts);
        if context.ui.json {
            let mut value = serde_json::to_value(&recommendation)?;
            value["format_version"] = crate::plan::PLAN_FORMAT_VERSION.into();
            value["host"] = host.name().into();
            context
                .ui
                .data(&(serde_json::to_string_pretty(&value)? + "\n"));
        } else {
            context.ui.data(&crate::recommend::render(&recommendation));
        }
        Ok(0)
    })
}
