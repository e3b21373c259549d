//! Emulated file tools (`cat`, `tee`, `mkdir`, `rm`, `mv`, `ln`, `readlink`, `test`) (to be written).

use super::machine::Machine;
use crate::host::Output;

pub fn run(_machine: &Machine, _program: &str, _args: &[String], _stdin: &[u8]) -> Output {
    Output::failed(1, "not yet emulated\n")
}
