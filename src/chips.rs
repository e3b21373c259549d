//! Apple silicon memory bandwidth, the bound on how fast a Mac can generate tokens (every
//! token reads the whole model once). Figures are Apple's own, from each chip's launch press
//! release and the Mac technical specifications pages (support.apple.com/specs): M1 68 GB/s;
//! M1 Pro 200; M1 Max 400; M1 Ultra 800; M2 100; M2 Pro 200; M2 Max 400; M2 Ultra 800;
//! M3 100; M3 Pro 150; M3 Max 300 (14-core CPU) or 400 (16-core); M3 Ultra 819; M4 120;
//! M4 Pro 273; M4 Max 410 (14-core CPU) or 546 (16-core).

/// GB/s for `chip` (`machdep.cpu.brand_string`, e.g. `Apple M4 Max`); the CPU core count
/// tells the binned Max parts apart. `None` for chips not in the table (Intel, newer).
pub fn memory_bandwidth_gbps(chip: &str, cpu_cores: u32) -> Option<f64> {
    let name = chip.trim().strip_prefix("Apple ")?;
    Some(match name {
        "M1" => 68.25,
        "M1 Pro" => 200.0,
        "M1 Max" => 400.0,
        "M1 Ultra" => 800.0,
        "M2" => 100.0,
        "M2 Pro" => 200.0,
        "M2 Max" => 400.0,
        "M2 Ultra" => 800.0,
        "M3" => 100.0,
        "M3 Pro" => 150.0,
        "M3 Max" if cpu_cores <= 14 => 300.0,
        "M3 Max" => 400.0,
        "M3 Ultra" => 819.0,
        "M4" => 120.0,
        "M4 Pro" => 273.0,
        "M4 Max" if cpu_cores <= 14 => 410.0,
        "M4 Max" => 546.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_binned_parts() {
        assert_eq!(memory_bandwidth_gbps("Apple M1", 8), Some(68.25));
        assert_eq!(memory_bandwidth_gbps("Apple M4 Max", 16), Some(546.0));
        assert_eq!(memory_bandwidth_gbps("Apple M4 Max", 14), Some(410.0));
        assert_eq!(memory_bandwidth_gbps("Intel(R) Core(TM) i9", 8), None);
    }
}
