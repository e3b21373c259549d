//! The `server config` line `ollama serve` logs at start, and what each variable looks like
//! in it. The line prints every value *after* parsing, with Go's `%v`, so a value must be
//! parsed the way the server parses it before it can be compared (ollama/ollama v0.32.15
//! `envconfig/config.go` `AsMap`/`Values`, unchanged since v0.32.3; `server/routes.go`
//! `slog.Info("server config", "env", envconfig.Values())`):
//!
//! ```text
//! time=... level=INFO source=routes.go:1951 msg="server config" env="map[HTTPS_PROXY: ... OLLAMA_KEEP_ALIVE:5m0s ... no_proxy:]"
//! ```
//!
//! - the map prints in sorted key order, `KEY:VALUE` separated by single spaces; the whole
//!   text is one `strconv.Quote`d string (`\"`, `\\` escaped), and a value with spaces (a
//!   path) appears raw, so keys are found by name, never by splitting at spaces;
//! - durations are `time.Duration.String()`; a negative keep-alive and a load timeout <= 0
//!   mean forever, `2562047h47m16.854775807s` (`math.MaxInt64` ns, `TestKeepAlive`,
//!   `TestLoadTimeout`);
//! - `OLLAMA_DEBUG` is a `slog.Level` (`INFO`, `DEBUG`, `DEBUG-4`, `WARN`, `ERROR`; `LogLevel`,
//!   `TestLogLevel`);
//! - `OLLAMA_ORIGINS` is the user's entries (split at `,`, not trimmed) followed by 17 fixed
//!   ones, `OLLAMA_REMOTES` its entries or `[ollama.com]`, both as Go slices `[a b]`;
//! - `OLLAMA_HOST` is a URL with scheme and port (`Host`, `TestHost`);
//! - `OLLAMA_AUTH` is read but not in `AsMap`, so the log cannot show it.

use std::collections::BTreeMap;

/// What the server logs for a variable set to a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logged {
    As(String),
    /// The server reads the variable but never logs it: a restart cannot be verified.
    NotLogged,
}

/// `math.MaxInt64` nanoseconds as `time.Duration.String()`.
const FOREVER: &str = "2562047h47m16.854775807s";

/// `AllowedOrigins`' fixed entries, always after the user's (`TestOrigins`).
const DEFAULT_ORIGINS: [&str; 17] = [
    "http://localhost",
    "https://localhost",
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1",
    "https://127.0.0.1",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://0.0.0.0",
    "https://0.0.0.0",
    "http://0.0.0.0:*",
    "https://0.0.0.0:*",
    "app://*",
    "file://*",
    "tauri://*",
    "vscode-webview://*",
    "vscode-file://*",
];

/// The server variables `AsMap` holds on darwin (envconfig/config.go 311-364); the rest
/// (`OLLAMA_AUTH`, `OLLAMA_VULKAN`, names Ollama does not read) never reach the log.
const LOGGED: [&str; 26] = [
    "LLAMA_ARG_FIT",
    "LLAMA_ARG_FIT_TARGET",
    "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_DEBUG",
    "OLLAMA_DEBUG_LOG_REQUESTS",
    "OLLAMA_EDITOR",
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_GO_TEMPLATE",
    "OLLAMA_GPU_OVERHEAD",
    "OLLAMA_HOST",
    "OLLAMA_IGPU_ENABLE",
    "OLLAMA_KEEP_ALIVE",
    "OLLAMA_KV_CACHE_TYPE",
    "OLLAMA_LLM_LIBRARY",
    "OLLAMA_LOAD_TIMEOUT",
    "OLLAMA_MAX_LOADED_MODELS",
    "OLLAMA_MAX_QUEUE",
    "OLLAMA_MAX_TRANSFER_STREAMS",
    "OLLAMA_MODELS",
    "OLLAMA_NOHISTORY",
    "OLLAMA_NOPRUNE",
    "OLLAMA_NO_CLOUD",
    "OLLAMA_NUM_PARALLEL",
    "OLLAMA_ORIGINS",
    "OLLAMA_REMOTES",
    "OLLAMA_SCHED_SPREAD",
];

/// What the server logs for `name` set to `value` (a value macllm's checks accepted).
pub fn logged_form(name: &str, value: &str) -> Logged {
    if !LOGGED.contains(&name) {
        return Logged::NotLogged;
    }
    let value = envconfig_var(value);
    Logged::As(match name {
        "OLLAMA_KEEP_ALIVE" => match duration_nanos(value) {
            Some(n) if n < 0 => FOREVER.to_string(),
            Some(n) => go_duration(n),
            None => "5m0s".to_string(),
        },
        "OLLAMA_LOAD_TIMEOUT" => match duration_nanos(value) {
            Some(n) if n <= 0 => FOREVER.to_string(),
            Some(n) => go_duration(n),
            None => "5m0s".to_string(),
        },
        "OLLAMA_DEBUG" => log_level(value),
        "OLLAMA_ORIGINS" => {
            let mut origins: Vec<&str> = if value.is_empty() {
                Vec::new()
            } else {
                value.split(',').collect()
            };
            origins.extend(DEFAULT_ORIGINS);
            go_slice(&origins)
        }
        "OLLAMA_REMOTES" => match value.trim() {
            "" => go_slice(&["ollama.com"]),
            list => go_slice(&list.split(',').collect::<Vec<_>>()),
        },
        "OLLAMA_HOST" => host_url(value),
        _ => match crate::ollama::env::find(name).map(|v| v.kind) {
            Some(crate::ollama::env::Kind::Bool) => parse_bool(value).to_string(),
            _ => value.to_string(),
        },
    })
}

/// `Var`: surrounding spaces trimmed, then any `"` and `'` at either end.
fn envconfig_var(value: &str) -> &str {
    value.trim().trim_matches(['"', '\''])
}

/// `strconv.ParseBool`, where any other non-empty text counts as true (`TestBool`).
fn parse_bool(value: &str) -> bool {
    !matches!(value, "" | "0" | "f" | "F" | "false" | "FALSE" | "False")
}

/// `LogLevel`: a true bool is DEBUG; a non-zero integer i is `slog.Level(-4 * i)`.
fn log_level(value: &str) -> String {
    let level = if value.is_empty() {
        0
    } else if matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True") {
        -4
    } else {
        value.parse::<i64>().map_or(0, |i| -4 * i)
    };
    // `slog.Level.String()`: the nearest named level at or below, plus the offset.
    let (base, name) = match level {
        l if l < 0 => (-4, "DEBUG"),
        l if l < 4 => (0, "INFO"),
        l if l < 8 => (4, "WARN"),
        _ => (8, "ERROR"),
    };
    match level - base {
        0 => name.to_string(),
        offset => format!("{name}{offset:+}"),
    }
}

/// `Host`: `[scheme://]host[:port][/path]`, http and 11434 when no scheme is given, 80 or 443
/// for an explicit one; printed as `url.URL.String()`.
fn host_url(value: &str) -> String {
    let text = value.trim();
    if text == "ollama.com" {
        return "https://ollama.com:443".to_string();
    }
    let (scheme, default_port, rest) = match text.split_once("://") {
        Some(("https", rest)) => ("https", "443", rest),
        Some((scheme, rest)) => (scheme, "80", rest),
        None => ("http", "11434", text),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    // `net.SplitHostPort` refuses a bare IPv6 address (more than one colon, no brackets):
    // the whole text is then the host.
    let bare_ipv6 = authority.matches(':').count() > 1 && !authority.starts_with('[');
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') && !bare_ipv6 => (host, port),
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() && !authority.contains(':') {
        "127.0.0.1"
    } else {
        host
    };
    let port = match port.parse::<u16>() {
        Ok(_) => port,
        Err(_) => default_port,
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let path = if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    };
    format!("{scheme}://{host}:{port}{path}")
}

/// A Go duration (`5m`, `1h30m`, `-1m`) or a whole number of seconds, in nanoseconds.
fn duration_nanos(value: &str) -> Option<i128> {
    if value.is_empty() {
        return None;
    }
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(i128::from(seconds) * 1_000_000_000);
    }
    let (sign, body) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.strip_prefix('+').unwrap_or(value)),
    };
    if body == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = body;
    while !rest.is_empty() {
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        rest = &rest[number.len()..];
        let (unit, nanos) = [
            ("ns", 1.0),
            ("us", 1e3),
            ("µs", 1e3),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 60e9),
            ("h", 3600e9),
        ]
        .into_iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())?;
        total += number.parse::<f64>().ok()? * nanos;
        rest = &rest[unit.len()..];
    }
    Some(sign * total.round() as i128)
}

/// `time.Duration.String()` of a non-negative duration.
fn go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let fraction = |value: i128, scale: i128| {
        let digits = format!("{:0width$}", value % scale, width = scale.ilog10() as usize);
        match digits.trim_end_matches('0') {
            "" => (value / scale).to_string(),
            kept => format!("{}.{kept}", value / scale),
        }
    };
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", fraction(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", fraction(nanos, 1_000_000));
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = nanos / 60_000_000_000 % 60;
    let seconds = fraction(nanos % 60_000_000_000, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// `%v` of a `[]string`.
fn go_slice(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

/// The variables of the last `msg="server config"` line in a server log.
pub fn parse_log(log: &str) -> Option<BTreeMap<String, String>> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("msg=\"server config\""))?;
    let start = line.find("env=\"")? + "env=".len();
    let map = go_unquote(&line[start..])?;
    let body = map.strip_prefix("map[")?.strip_suffix(']')?;
    // Keys print sorted, so each key found must sort after the one before; a value holding
    // ` Word:` (a path) cannot be taken for a key unless it is also a name Ollama prints.
    let mut starts: Vec<(usize, &str)> = Vec::new();
    let mut previous = "";
    for (at, _) in body.match_indices(':') {
        let key_start = body[..at].rfind(' ').map_or(0, |space| space + 1);
        let key = &body[key_start..at];
        if is_key(key) && key > previous {
            starts.push((key_start, key));
            previous = key;
        }
    }
    let mut env = BTreeMap::new();
    for (i, (key_start, key)) in starts.iter().enumerate() {
        let value_start = key_start + key.len() + 1;
        let value_end = starts
            .get(i + 1)
            .map_or(body.len(), |(next, _)| next.saturating_sub(1));
        env.insert(
            key.to_string(),
            body[value_start..value_end.max(value_start)].to_string(),
        );
    }
    Some(env)
}

/// A name `AsMap` prints: `OLLAMA_*`, `LLAMA_*`, or a proxy variable in either case.
fn is_key(word: &str) -> bool {
    let upper = !word.is_empty()
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let known_prefix =
        ["OLLAMA_", "LLAMA_"].iter().any(|p| word.starts_with(p)) || word.ends_with("_PROXY");
    (upper && known_prefix) || ["http_proxy", "https_proxy", "no_proxy"].contains(&word)
}

/// The text of a Go `strconv.Quote`d string at the start of `text` (escapes `\"`, `\\`,
/// `\n`, `\t`, `\r`, `\xNN`, `\uNNNN`).
fn go_unquote(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars();
    let mut out = String::new();
    let mut bytes = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str(&String::from_utf8_lossy(&bytes));
                return Some(out);
            }
            '\\' => match chars.next()? {
                'n' => bytes.push(b'\n'),
                't' => bytes.push(b'\t'),
                'r' => bytes.push(b'\r'),
                'x' => {
                    let hex: String = chars.by_ref().take(2).collect();
                    bytes.push(u8::from_str_radix(&hex, 16).ok()?);
                }
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                    bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                other => bytes.extend_from_slice(other.encode_utf8(&mut [0; 4]).as_bytes()),
            },
            other => bytes.extend_from_slice(other.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(name: &str, value: &str) -> String {
        match logged_form(name, value) {
            Logged::As(text) => text,
            Logged::NotLogged => panic!("{name} is logged"),
        }
    }

    /// `TestKeepAlive` and `TestLoadTimeout` (envconfig/config_test.go).
    #[test]
    fn durations_print_as_the_server_parsed_them() {
        for (value, printed) in [
            ("", "5m0s"),
            ("0", "0s"),
            ("-0", "0s"),
            ("60", "1m0s"),
            ("3600", "1h0m0s"),
            ("-1", FOREVER),
            ("-1m", FOREVER),
            ("10m", "10m0s"),
            ("1h30m", "1h30m0s"),
            ("1.5s", "1.5s"),
            ("90s", "1m30s"),
            ("250ms", "250ms"),
        ] {
            assert_eq!(logged("OLLAMA_KEEP_ALIVE", value), printed, "{value:?}");
        }
        for (value, printed) in [("0", FOREVER), ("-1", FOREVER), ("60m", "1h0m0s")] {
            assert_eq!(logged("OLLAMA_LOAD_TIMEOUT", value), printed, "{value:?}");
        }
    }

    /// `TestLogLevel`, and `slog.Level.String()` for the offsets.
    #[test]
    fn debug_is_a_log_level() {
        for (value, printed) in [
            ("", "INFO"),
            ("0", "INFO"),
            ("false", "INFO"),
            ("1", "DEBUG"),
            ("true", "DEBUG"),
            ("2", "DEBUG-4"),
            ("-1", "WARN"),
            ("-2", "ERROR"),
        ] {
            assert_eq!(logged("OLLAMA_DEBUG", value), printed, "{value:?}");
        }
    }

    #[test]
    fn origins_and_remotes_are_go_slices() {
        assert!(logged("OLLAMA_ORIGINS", "*").starts_with("[* http://localhost https://"));
        assert!(logged("OLLAMA_ORIGINS", "a,b").starts_with("[a b http://localhost"));
        assert!(logged("OLLAMA_ORIGINS", "*").ends_with(" vscode-file://*]"));
        assert_eq!(logged("OLLAMA_REMOTES", ""), "[ollama.com]");
        assert_eq!(logged("OLLAMA_REMOTES", "a.com,b.com"), "[a.com b.com]");
    }

    /// `TestHost`.
    #[test]
    fn host_is_a_url_with_scheme_and_port() {
        for (value, printed) in [
            ("", "http://127.0.0.1:11434"),
            ("0.0.0.0", "http://0.0.0.0:11434"),
            ("0.0.0.0:8080", "http://0.0.0.0:8080"),
            (":1234", "http://:1234"),
            ("::1", "http://[::1]:11434"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("http://1.2.3.4", "http://1.2.3.4:80"),
            (
                "https://example.com/ollama",
                "https://example.com:443/ollama",
            ),
            ("ollama.com", "https://ollama.com:443"),
            ("example.com:66000", "http://example.com:11434"),
        ] {
            assert_eq!(logged("OLLAMA_HOST", value), printed, "{value:?}");
        }
    }

    #[test]
    fn booleans_and_text() {
        assert_eq!(logged("OLLAMA_FLASH_ATTENTION", "1"), "true");
        assert_eq!(logged("OLLAMA_FLASH_ATTENTION", "0"), "false");
        assert_eq!(logged("OLLAMA_NUM_PARALLEL", "4"), "4");
        assert_eq!(logged("OLLAMA_MODELS", "'/x y'"), "/x y");
        assert_eq!(logged_form("OLLAMA_AUTH", "1"), Logged::NotLogged);
        assert_eq!(logged_form("OLLAMA_NUM_THREADS", "8"), Logged::NotLogged);
    }

    /// A real macOS line (Ollama 0.33.0 run as `ollama serve`, 2026-08-29, a user's pasted
    /// log), with `OLLAMA_MODELS` changed to a path with spaces and a colon.
    #[test]
    fn the_log_line_splits_at_known_keys_only() {
        let line = r#"time=2026-08-29T19:11:33.351+05:30 level=INFO source=routes.go:1951 msg="server config" env="map[HTTPS_PROXY: HTTP_PROXY: LLAMA_ARG_FIT: OLLAMA_CONTEXT_LENGTH:0 OLLAMA_DEBUG:INFO OLLAMA_HOST:http://127.0.0.1:11434 OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_MODELS:/Volumes/My Disk:2/A \"b\" OLLAMA_NUM_PARALLEL:1 OLLAMA_ORIGINS:[http://localhost app://*] OLLAMA_REMOTES:[ollama.com] http_proxy: no_proxy:]""#;
        let env = parse_log(&format!("old line\n{line}\nlater")).unwrap();
        assert_eq!(env["OLLAMA_MODELS"], "/Volumes/My Disk:2/A \"b\"");
        assert_eq!(env["OLLAMA_HOST"], "http://127.0.0.1:11434");
        assert_eq!(env["OLLAMA_KV_CACHE_TYPE"], "");
        assert_eq!(env["OLLAMA_ORIGINS"], "[http://localhost app://*]");
        assert_eq!(env["no_proxy"], "");
        assert_eq!(env["HTTPS_PROXY"], "");
        assert_eq!(env.len(), 14);
    }
}
