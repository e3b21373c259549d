//! Export of the spec to other formats (being written).
