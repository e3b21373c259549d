//! Popular Ollama models with their sizes and shapes (being written).
