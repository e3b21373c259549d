//! Emulated `system_profiler SPDisplaysDataType -json`, the one report macllm reads (GPU core
//! count). Keys as many public tools parse them (`sppci_model`, `sppci_cores` as a string,
//! `spdisplays_mtlgpufamilysupport`, `spdisplays_vendor`; e.g. the benchmark and hardware
//! detection scripts found by searching for `sppci_cores`). Other reports are not emulated.

use super::machine::Machine;
use crate::output::Output;

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if args != ["SPDisplaysDataType", "-json"] && args != ["-json", "SPDisplaysDataType"] {
        return Output::failed(
            1,
            format!(
                "system_profiler: the emulated Mac answers only `SPDisplaysDataType -json`, not `{}`\n",
                args.join(" ")
            ),
        );
    }
    let info = &machine.info;
    let report = serde_json::json!({
        "SPDisplaysDataType": [{
            "_name": info.chip,
            "sppci_model": info.chip,
            "sppci_cores": info.gpu_cores.to_string(),
            "sppci_bus": "spdisplays_builtin",
            "sppci_device_type": "spdisplays_gpu",
            "spdisplays_vendor": "sppci_vendor_Apple",
            "spdisplays_mtlgpufamilysupport": "spdisplays_metal3",
        }]
    });
    Output::ok(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    #[test]
    fn displays_report_carries_the_gpu_core_count_as_text() {
        let (_dir, machine) = mac("m2-16gb-sonoma");
        let out = run(&machine, &args(&["SPDisplaysDataType", "-json"]));
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(json["SPDisplaysDataType"][0]["sppci_cores"], "10");
        assert_eq!(run(&machine, &args(&["SPHardwareDataType"])).status, 1);
    }
}
