//! Emulated `ioreg`, only as `ioreg -rd1 -c IOPlatformExpertDevice` (also spelled
//! `-r -d 1 -c IOPlatformExpertDevice`): the root-matched platform expert entry, one level
//! deep, whose `IOPlatformUUID` is the Mac's hardware UUID (machine.json `hardware_uuid`).
//! The shape follows public captures of that command: a `+-o NAME  <class
//! IOPlatformExpertDevice, id 0x..., registered, matched, active, busy 0 (N ms), retain N>`
//! line, then the properties between braces as `"key" = value`, one per line (for example the
//! capture of this entry in a public README describing `IOPlatformExpertDevice`, found with
//! the code search for `"IOPlatformUUID" = "`, and the `ioreg` entries quoted in
//! https://forums.developer.apple.com/forums/thread/128947). Any other query fails with exit 1
//! naming the one that is emulated.

use super::machine::Machine;
use crate::output::Output;

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let supported = matches!(
        args.as_slice(),
        ["-rd1", "-c", "IOPlatformExpertDevice"]
            | ["-r", "-d1", "-c", "IOPlatformExpertDevice"]
            | ["-r", "-d", "1", "-c", "IOPlatformExpertDevice"]
    );
    if !supported {
        return Output::failed(
            1,
            "ioreg: the emulated Mac answers only `ioreg -rd1 -c IOPlatformExpertDevice`\n",
        );
    }
    let info = &machine.info;
    Output::ok(format!(
        "+-o Mac  <class IOPlatformExpertDevice, id 0x100000209, registered, matched, active, busy 0 (1203 ms), retain 36>\n\
         \x20 {{\n\
         \x20   \"IOPlatformSerialNumber\" = \"EMULATED0001\"\n\
         \x20   \"IOPolledInterface\" = \"AppleARMWatchdogTimerHibernateHandler is not serializable\"\n\
         \x20   \"IOPlatformUUID\" = \"{uuid}\"\n\
         \x20   \"manufacturer\" = <\"Apple Inc.\">\n\
         \x20   \"target-type\" = <\"Mac\">\n\
         \x20   \"name\" = <\"/\">\n\
         \x20   \"IOBusyInterest\" = \"IOCommand is not serializable\"\n\
         \x20 }}\n\
         \n",
        uuid = info.hardware_uuid
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    #[test]
    fn prints_the_platform_uuid() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = run(&machine, &args(&["-rd1", "-c", "IOPlatformExpertDevice"]));
        assert_eq!(out.status, 0);
        assert!(
            out.stdout
                .starts_with("+-o Mac  <class IOPlatformExpertDevice, ")
        );
        assert!(out.stdout.contains(&format!(
            "    \"IOPlatformUUID\" = \"{}\"\n",
            machine.info.hardware_uuid
        )));
    }

    #[test]
    fn other_queries_fail() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = run(&machine, &args(&["-l"]));
        assert_eq!(out.status, 1);
        assert!(out.stdout.is_empty());
    }
}
