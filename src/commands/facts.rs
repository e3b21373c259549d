//! `macllm facts`: what macllm reads about each host.

use super::Context;
use crate::facts::Facts;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    context.for_each_host(|host, _| {
        let facts = Facts::read(host)?;
        if context.ui.json {
            let mut value = serde_json::to_value(&facts)?;
            value["format_version"] = crate::plan::PLAN_FORMAT_VERSION.into();
            value["host"] = host.name().into();
            context.ui.data(&(serde_json::to_string_pretty(&value)? + "\n"));
        } else {
            let cores = match (facts.performance_cores, facts.efficiency_cores) {
                (Some(p), Some(e)) => format!("{} ({p} performance + {e} efficiency)", facts.cpu_cores),
                _ => facts.cpu_cores.to_string(),
            };
            let bandwidth = facts
                .memory_bandwidth_gbps
                .map_or("unknown".to_string(), |b| format!("{b} GB/s"));
            // Under sudo the uid above is the user's; say that macllm itself runs as root.
            let root = if facts.root {
                format!("root:     yes (per-user settings go to {})\n", facts.user)
            } else {
                String::new()
            };
            context.ui.data(&format!(
                "host:     {}\nhostname: {}\nchip:     {}\nmemory:   {} GB ({} bytes), {bandwidth}\ncores:    {cores}\nGPU:      {}\nmacOS:    {} ({})\nuid:      {}\n{root}",
                host.name(),
                facts.hostname,
                facts.chip,
                facts.memory_gb,
                facts.memory_bytes,
                facts.gpu_cores.map_or("unknown".to_string(), |c| format!("{c} cores")),
                facts.macos_version,
                facts.macos_build,
                facts.uid
            ));
        }
        Ok(0)
    })
}
