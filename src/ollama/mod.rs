//! What macllm knows about Ollama: a small typed client for the endpoints it uses (over the
//! machine interface, so the local Mac, SSH and the sandbox are alike), the server variables
//! Ollama really reads, and the Modelfile parameters with their types.

pub mod client;
pub mod env;
pub mod modelfile;
pub mod parameters;
pub mod server_config;
