//! macllm: declarative setup of Macs that run local LLMs.

pub mod host;
pub mod sandbox;
pub mod value;

pub fn main_entry() -> i32 {
    if let Some(code) = sandbox::shim_main() {
        return code;
    }
    0
}
