//! BSD getopt(3), as the emulated BSD tools parse their options.

/// Options after BSD getopt(3) (Apple Libc `stdlib/FreeBSD/getopt.c`): the options in order
/// with their arguments, and the operands.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Getopt {
    pub options: Vec<(char, Option<String>)>,
    pub operands: Vec<String>,
}

/// BSD getopt(3). Options end at the first operand, at a lone `-`, or after `--`; `-abc` is a
/// cluster; an option followed by `:` in `optstring` takes the rest of its word or the next
/// word. On a bad option returns the diagnostic getopt prints, `PROG: illegal option -- c` or
/// `PROG: option requires an argument -- c`; the programs then print their usage. Shared by
/// the emulated BSD tools (`sysctl`, `id`, `hostname`, `killall`).
pub fn getopt(program: &str, args: &[String], optstring: &str) -> Result<Getopt, String> {
    let mut parsed = Getopt::default();
    let mut index = 0;
    while index < args.len() {
        let word = &args[index];
        if word == "--" {
            index += 1;
            break;
        }
        let Some(cluster) = word.strip_prefix('-').filter(|rest| !rest.is_empty()) else {
            break;
        };
        index += 1;
        let chars: Vec<char> = cluster.chars().collect();
        let mut at = 0;
        while at < chars.len() {
            let option = chars[at];
            at += 1;
            let spec = optstring.find(option).filter(|_| option != ':');
            let Some(spec) = spec else {
                return Err(format!("{program}: illegal option -- {option}\n"));
            };
            if optstring[spec + option.len_utf8()..].starts_with(':') {
                let argument = if at < chars.len() {
                    chars[at..].iter().collect()
                } else if index < args.len() {
                    index += 1;
                    args[index - 1].clone()
                } else {
                    return Err(format!(
                        "{program}: option requires an argument -- {option}\n"
                    ));
                };
                parsed.options.push((option, Some(argument)));
                break;
            }
            parsed.options.push((option, None));
        }
    }
    parsed.operands = args[index..].to_vec();
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apple Libc getopt: clusters, a lone `-`, `--`, and option arguments.
    #[test]
    fn getopt_follows_bsd() {
        let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let parsed = getopt("t", &args(&["-ab", "-c", "x", "-", "-d"]), "abc:d").unwrap();
        assert_eq!(
            parsed.options,
            vec![('a', None), ('b', None), ('c', Some("x".into()))]
        );
        assert_eq!(parsed.operands, args(&["-", "-d"]));
        let parsed = getopt("t", &args(&["-cy", "--", "-a"]), "ac:").unwrap();
        assert_eq!(parsed.options, vec![('c', Some("y".into()))]);
        assert_eq!(parsed.operands, args(&["-a"]));
        assert_eq!(
            getopt("t", &args(&["-c"]), "c:"),
            Err("t: option requires an argument -- c\n".into())
        );
    }
}
