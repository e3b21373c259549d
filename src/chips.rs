//! Apple silicon memory bandwidth, the bound on how fast a Mac can generate tokens (every
//! token reads the whole model once). Figures are Apple's own, from each chip's launch press
//! release and the Mac technical specifications pages (support.apple.com/specs): M1 68 GB/s;
//! M1 Pro 200; M1 Max 400; M1 Ultra 800; M2 100; M2 Pro 200; M2 Max 400; M2 Ultra 800;
//! M3 100; M3 Pro 150; M3 Max 300 (14-core CPU) or 400 (16-core); M3 Ultra 819; M4 120;
//! M4 Pro 273; M4 Max 410 (14-core CPU) or 546 (16-core).
//!
//! The M5 family (notes/issue10-research.md section 7): M5 153 GB/s (Apple Newsroom,
//! 2025-10-15, "Apple unleashes M5"); M5 Pro 307 GB/s (Apple Newsroom, 2026-03-03, "Apple
//! debuts M5 Pro and M5 Max"); M5 Max 460 GB/s with the 32-core GPU and 614 GB/s with the
//! 40-core GPU, both with the 18-core CPU (apple.com/macbook-pro/specs and
//! apple.com/mac-studio/specs, as quoted in public notes; the newsroom gives "up to 614GB/s").
//! So the GPU core count, not the CPU's, tells the M5 Max parts apart.
//!
//! M5 Pro and M5 Max name their CPU clusters `Super` (`hw.perflevel0`) and `Performance`
//! (`hw.perflevel1`), with no `Efficiency` level (users' `sysctl` captures); macllm's
//! `performance_cores` and `efficiency_cores` facts are those two levels there.

/// GB/s for `chip` (`machdep.cpu.brand_string`, e.g. `Apple M4 Max`); the CPU core count
/// tells the binned M3 and M4 Max parts apart, the GPU core count the M5 Max ones (`None`
/// for an M5 Max whose GPU cores are not known). `None` for chips not in the table (Intel,
/// newer).
pub fn memory_bandwidth_gbps(chip: &str, cpu_cores: u32, gpu_cores: Option<u32>) -> Option<f64> {
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
        "M5" => 153.0,
        "M5 Pro" => 307.0,
        "M5 Max" if gpu_cores? <= 32 => 460.0,
        "M5 Max" => 614.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_binned_parts() {
        assert_eq!(memory_bandwidth_gbps("Apple M1", 8, Some(7)), Some(68.25));
        assert_eq!(
            memory_bandwidth_gbps("Apple M4 Max", 16, Some(40)),
            Some(546.0)
        );
        assert_eq!(
            memory_bandwidth_gbps("Apple M4 Max", 14, Some(32)),
            Some(410.0)
        );
        assert_eq!(memory_bandwidth_gbps("Apple M4 Max", 14, None), Some(410.0));
        assert_eq!(memory_bandwidth_gbps("Intel(R) Core(TM) i9", 8, None), None);
    }

    /// The M5 family; the M5 Max's two parts share the 18-core CPU and differ in GPU cores.
    #[test]
    fn the_m5_family() {
        assert_eq!(memory_bandwidth_gbps("Apple M5", 10, Some(10)), Some(153.0));
        assert_eq!(
            memory_bandwidth_gbps("Apple M5 Pro", 15, Some(16)),
            Some(307.0)
        );
        assert_eq!(
            memory_bandwidth_gbps("Apple M5 Pro", 18, Some(20)),
            Some(307.0)
        );
        assert_eq!(
            memory_bandwidth_gbps("Apple M5 Max", 18, Some(32)),
            Some(460.0)
        );
        assert_eq!(
            memory_bandwidth_gbps("Apple M5 Max", 18, Some(40)),
            Some(614.0)
        );
        assert_eq!(memory_bandwidth_gbps("Apple M5 Max", 18, None), None);
    }
}
