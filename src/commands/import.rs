//! `macllm import`: the spec of what the host has today (see `import`).

use super::Context;
use crate::cli::WriteSpecArgs;
use anyhow::Result;

pub fn run(context: &Context, args: WriteSpecArgs) -> Result<i32> {
    let WriteSpecArgs { out, force } = args;
    super::init::one_host(context, "import")?;
    super::init::refuse_existing(out.as_deref(), force)?;
    context.for_each_host(|host, _| {
        let imported = crate::import::import(host)?;
        for warning in &imported.warnings {
            context.ui.warn(warning);
        }
        super::init::emit(context, host.name(), &imported.text, out.as_deref(), force)?;
        Ok(0)
    })
}
