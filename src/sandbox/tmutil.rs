//! Emulated `tmutil` (to be written).

use super::machine::Machine;
use crate::host::Output;

pub fn run(_machine: &Machine, _args: &[String]) -> Output {
    Output::failed(1, "not yet emulated\n")
}
