//! The server variables Ollama really reads, with their types (reference/ollama.md 3.1, from
//! `envconfig/config.go` at v0.33.0-rc2), and the names popular guides invent (3.2), each with
//! the real knob where one exists.

/// How Ollama parses a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `strconv.ParseBool`; macllm accepts only true/false (and 1/0), because Ollama reads
    /// any other non-empty value, `off` and `no` included, as true.
    Bool,
    /// Decimal unsigned integer; anything else silently falls back to the default.
    Uint,
    /// Go duration (`5m`, `1h30m`, `-1m`) or whole seconds; `1d` is not a duration.
    Duration,
    /// `[scheme://]host[:port]`.
    HostPort,
    /// One of a few words.
    Choice(&'static [&'static str]),
    /// Free text (paths, comma lists).
    Text,
}

pub struct Variable {
    pub name: &'static str,
    pub kind: Kind,
    pub meaning: &'static str,
}

pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "OLLAMA_HOST",
        kind: Kind::HostPort,
        meaning: "bind address, default 127.0.0.1:11434",
    },
    Variable {
        name: "OLLAMA_ORIGINS",
        kind: Kind::Text,
        meaning: "extra CORS origins, comma separated",
    },
    Variable {
        name: "OLLAMA_MODELS",
        kind: Kind::Text,
        meaning: "model store, default ~/.ollama/models",
    },
    Variable {
        name: "OLLAMA_KEEP_ALIVE",
        kind: Kind::Duration,
        meaning: "how long a model stays loaded, default 5m",
    },
    Variable {
        name: "OLLAMA_LOAD_TIMEOUT",
        kind: Kind::Duration,
        meaning: "stall timeout while loading, default 5m",
    },
    Variable {
        name: "OLLAMA_CONTEXT_LENGTH",
        kind: Kind::Uint,
        meaning: "default num_ctx",
    },
    Variable {
        name: "OLLAMA_NUM_PARALLEL",
        kind: Kind::Uint,
        meaning: "parallel requests per model, default 1",
    },
    Variable {
        name: "OLLAMA_MAX_LOADED_MODELS",
        kind: Kind::Uint,
        meaning: "models resident at once, default 3 on a Mac",
    },
    Variable {
        name: "OLLAMA_MAX_QUEUE",
        kind: Kind::Uint,
        meaning: "queued requests before 503, default 512",
    },
    Variable {
        name: "OLLAMA_FLASH_ATTENTION",
        kind: Kind::Bool,
        meaning: "flash attention; unset = auto",
    },
    Variable {
        name: "OLLAMA_KV_CACHE_TYPE",
        kind: Kind::Choice(&["f16", "q8_0", "q4_0"]),
        meaning: "KV cache quantisation; needs flash attention",
    },
    Variable {
        name: "OLLAMA_GPU_OVERHEAD",
        kind: Kind::Uint,
        meaning: "bytes of GPU memory to keep free",
    },
    Variable {
        name: "OLLAMA_SCHED_SPREAD",
        kind: Kind::Bool,
        meaning: "spread a model over all GPUs",
    },
    Variable {
        name: "OLLAMA_NOPRUNE",
        kind: Kind::Bool,
        meaning: "keep unused blobs",
    },
    Variable {
        name: "OLLAMA_DEBUG",
        kind: Kind::Choice(&["0", "1", "2", "-1", "-2", "false", "true"]),
        meaning: "log level",
    },
    Variable {
        name: "OLLAMA_DEBUG_LOG_REQUESTS",
        kind: Kind::Bool,
        meaning: "log inference requests",
    },
    Variable {
        name: "OLLAMA_LLM_LIBRARY",
        kind: Kind::Text,
        meaning: "force a backend library",
    },
    Variable {
        name: "OLLAMA_NO_CLOUD",
        kind: Kind::Bool,
        meaning: "disable cloud features",
    },
    Variable {
        name: "OLLAMA_REMOTES",
        kind: Kind::Text,
        meaning: "allowed remote-model hosts",
    },
    Variable {
        name: "OLLAMA_GO_TEMPLATE",
        kind: Kind::Bool,
        meaning: "Go template rendering",
    },
    Variable {
        name: "OLLAMA_MAX_TRANSFER_STREAMS",
        kind: Kind::Uint,
        meaning: "parallel download streams",
    },
    Variable {
        name: "OLLAMA_AUTH",
        kind: Kind::Bool,
        meaning: "client/server authentication",
    },
];

/// Names guides tell people to set that no Ollama release ever read, with the real knob
/// (reference/ollama.md 3.2: a search of every commit found none of them).
pub const INVENTED: &[(&str, &str)] = &[
    (
        "OLLAMA_NUM_THREADS",
        "the Modelfile parameter `num_thread` (ollama.models[].parameters.num_thread)",
    ),
    (
        "OLLAMA_MAX_MEMORY",
        "OLLAMA_GPU_OVERHEAD (bytes to keep free); nothing caps Ollama's memory",
    ),
    ("OLLAMA_CPU_LIMIT", "nothing: Ollama has no CPU limit"),
    (
        "OLLAMA_CONTEXT_SIZE",
        "OLLAMA_CONTEXT_LENGTH, or the parameter `num_ctx`",
    ),
    ("OLLAMA_PARALLEL_REQUESTS", "OLLAMA_NUM_PARALLEL"),
    (
        "OLLAMA_USE_METAL",
        "nothing: Metal is used automatically (`num_gpu 0` forces the CPU)",
    ),
    (
        "OLLAMA_METAL_DEVICE_ID",
        "the parameter `main_gpu` (a Mac has one GPU)",
    ),
    ("OLLAMA_THERMAL_THROTTLE", "nothing"),
    ("OLLAMA_POWER_EFFICIENT", "nothing"),
    (
        "OLLAMA_MODEL_CACHE_SIZE",
        "OLLAMA_MAX_LOADED_MODELS and OLLAMA_KEEP_ALIVE",
    ),
    ("OLLAMA_MMAP", "the parameter `use_mmap`"),
    (
        "OLLAMA_NUMA",
        "nothing (the `numa` option was removed in 2024)",
    ),
    ("OLLAMA_METRICS", "nothing: Ollama has no /metrics endpoint"),
    ("OLLAMA_LOG_LEVEL", "OLLAMA_DEBUG (0, 1, 2, -1, -2)"),
    (
        "OLLAMA_MAX_VRAM",
        "OLLAMA_GPU_OVERHEAD (OLLAMA_MAX_VRAM was removed in v0.7.0)",
    ),
    ("OLLAMA_NEW_ENGINE", "nothing (removed in v0.30.0)"),
    ("OLLAMA_MULTIUSER_CACHE", "nothing (removed in v0.30.0)"),
];

pub fn find(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

/// Why `name` is not a server variable, with the real knob when there is one.
pub fn unknown(name: &str) -> (String, String) {
    let message = format!("`{name}` is not a variable Ollama reads");
    let hint = match INVENTED.iter().find(|(invented, _)| *invented == name) {
        Some((_, real)) => format!("use {real}"),
        None => {
            let close: Vec<&str> = VARIABLES
                .iter()
                .map(|v| v.name)
                .filter(|real| shares_a_word(real, name))
                .collect();
            if close.is_empty() {
                "`ollama serve -h` lists the documented variables".to_string()
            } else {
                format!("did you mean {}?", close.join(" or "))
            }
        }
    };
    (message, hint)
}

fn shares_a_word(real: &str, name: &str) -> bool {
    let name_words: Vec<&str> = name.trim_start_matches("OLLAMA_").split('_').collect();
    real.trim_start_matches("OLLAMA_")
        .split('_')
        .any(|w| w.len() > 3 && name_words.contains(&w))
}

/// Checks and normalises a value for `variable`; the error says what is accepted.
pub fn check(variable: &Variable, value: &str) -> Result<String, String> {
    let value = value.trim();
    match variable.kind {
        Kind::Bool => match value {
            "true" | "1" => Ok("1".to_string()),
            "false" | "0" => Ok("0".to_string()),
            _ => Err(format!(
                "`{value}` is not true or false; Ollama would read it as true (any non-empty value but 0/false is true)"
            )),
        },
        Kind::Uint => value.parse::<u64>().map(|n| n.to_string()).map_err(|_| {
            format!("`{value}` is not a whole number; Ollama would silently use its default")
        }),
        Kind::Duration => {
            if value.parse::<i64>().is_ok() || is_go_duration(value) {
                Ok(value.to_string())
            } else {
                Err(format!(
                    "`{value}` is not a duration: write it like 5m, 1h30m, 300 (seconds) or -1 (forever); `d` and `w` are not units"
                ))
            }
        }
        Kind::HostPort => {
            let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
            let port_ok = match rest.rsplit_once(':') {
                Some((_, port)) if !rest.ends_with(']') => port.parse::<u16>().is_ok(),
                _ => true,
            };
            if !value.is_empty() && port_ok && !value.contains(char::is_whitespace) {
                Ok(value.to_string())
            } else {
                Err(format!(
                    "`{value}` is not host[:port] (like 127.0.0.1:11434 or 0.0.0.0)"
                ))
            }
        }
        Kind::Choice(choices) => {
            if choices.contains(&value) {
                Ok(value.to_string())
            } else {
                Err(format!("`{value}` is not one of {}", choices.join(", ")))
            }
        }
        Kind::Text => Ok(value.to_string()),
    }
}

/// Go's `time.ParseDuration`: an optional sign, then one or more decimal numbers each with a
/// unit of ns, us, µs, ms, s, m or h.
pub fn is_go_duration(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if body == "0" {
        return true;
    }
    let mut rest = body;
    let mut parts = 0;
    while !rest.is_empty() {
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if number.is_empty() || number.parse::<f64>().is_err() {
            return false;
        }
        rest = &rest[number.len()..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len());
        let Some(unit) = unit else {
            return false;
        };
        rest = &rest[unit.len()..];
        parts += 1;
    }
    parts > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_parses_them() {
        for ok in ["5m", "1h30m", "-1m", "300ms", "1.5h", "0"] {
            assert!(is_go_duration(ok), "{ok}");
        }
        for bad in ["1d", "1w", "5", "m", "5 m", ""] {
            assert!(!is_go_duration(bad), "{bad}");
        }
        let keep = find("OLLAMA_KEEP_ALIVE").unwrap();
        assert!(check(keep, "3600").is_ok());
        assert!(check(keep, "1d").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn booleans_only_as_true_or_false() {
        let flash = find("OLLAMA_FLASH_ATTENTION").unwrap();
        assert_eq!(check(flash, "true"), Ok("1".into()));
        assert!(check(flash, "off").unwrap_err().contains("read it as true"));
    }

    #[test]
    fn invented_names_point_at_the_real_knob() {
        let (message, hint) = unknown("OLLAMA_NUM_THREADS");
        assert!(message.contains("not a variable Ollama reads"));
        assert!(hint.contains("num_thread"));
        let (_, hint) = unknown("OLLAMA_KEEPALIVE_X");
        assert!(
            hint.contains("ollama serve -h") || hint.contains("did you mean"),
            "{hint}"
        );
        assert!(unknown("OLLAMA_PARALLEL").1.contains("OLLAMA_NUM_PARALLEL"));
    }
}
