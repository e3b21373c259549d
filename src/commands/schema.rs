//! `macllm schema [--module]`: the JSON Schema of a spec (or of a module) for editors.

use super::Context;
use anyhow::Result;

pub fn run(context: &Context, module: bool) -> Result<i32> {
    let schema = if module {
        crate::spec::schema::module()
    } else {
        crate::spec::schema::spec()
    };
    context
        .ui
        .data(&(serde_json::to_string_pretty(&schema)? + "\n"));
    Ok(0)
}
