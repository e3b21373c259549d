//! Emulated `defaults` (to be written).

use super::machine::Machine;
use crate::host::Output;

pub fn run(_machine: &Machine, _args: &[String], _stdin: &[u8]) -> Output {
    Output::failed(1, "not yet emulated\n")
}
