//! What fits on this Mac (being written).
