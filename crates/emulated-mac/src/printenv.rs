//! Emulated `printenv NAME`: prints the variable's value and exits 0, or prints nothing and
//! exits 1 when it is not set (FreeBSD/macOS `printenv.c`). The emulated Mac's commands run
//! with an empty environment of their own (the caller's `LC_ALL=C` aside), so every name is
//! unset: a Mac whose shell exports nothing for non-interactive commands.

use crate::output::Output;

pub fn run(args: &[String]) -> Output {
    match args {
        [] => Output::ok(""),
        [_name] => Output::failed(1, ""),
        _ => Output::failed(1, "usage: printenv [name]\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_variable_prints_nothing_and_exits_1() {
        assert_eq!(run(&["XDG_CONFIG_HOME".into()]), Output::failed(1, ""));
    }
}
