//! What `ollama serve` makes of its environment: ollama/ollama `envconfig/config.go` at
//! v0.32.15 (unchanged since v0.32.3, identical to the reference's HEAD v0.33.0-rc2; reference ollama.md section 3.1).
//!
//! - `Var`: surrounding spaces, then `"` and `'`, trimmed.
//! - `Bool`/`BoolWithDefault`: `strconv.ParseBool`, and any other non-empty value is **true**
//!   (`TestBool`: `"random"` → true, so `off` means on).
//! - `Uint`/`Uint64`: decimal only (`strconv.ParseUint(s, 10, 64)`); anything else logs
//!   `WARN invalid environment variable, using default` and gives the default (`TestUint`).
//! - `KeepAlive`/`LoadTimeout`: `time.ParseDuration`, else an integer number of seconds, else
//!   the default silently (`TestKeepAlive`: `1d` → 5m); negative keep-alive (and a load
//!   timeout ≤ 0) is forever, `2562047h47m16.854775807s`.
//! - `Host`: `[scheme://]host[:port][/path]`, `http://x` without a port → 80, `https` → 443,
//!   an invalid port → the default with `WARN invalid port, using default` (`TestHost`).
//!
//! `AsMap` lists the keys below on darwin (the GPU-vendor variables are left out there); the
//! startup log prints `Values()`, each value formatted with `%v`.

use super::gofmt::{self, MAX_DURATION};
use std::collections::BTreeMap;

/// The environment of one `ollama serve` process, and the user's home for the defaults.
#[derive(Clone, Debug)]
pub struct EnvConfig {
    vars: BTreeMap<String, String>,
    home: String,
    /// `~/.ollama/server.json` `{"disable_ollama_cloud": true}`.
    cloud_disabled_by_config: bool,
}

/// The parsed `OLLAMA_HOST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostUrl {
    pub scheme: String,
    pub host: String,
    pub port: String,
    pub path: String,
}

impl HostUrl {
    /// `host:port` as `net.JoinHostPort` writes it.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `url.URL.String()`.
    pub fn url(&self) -> String {
        let mut out = format!("{}://{}", self.scheme, self.host_port());
        if !self.path.is_empty() {
            out.push('/');
            out.push_str(&self.path);
        }
        out
    }
}

/// `net.SplitHostPort`.
fn split_host_port(hostport: &str) -> Option<(String, String)> {
    let colon = hostport.rfind(':')?;
    let host = if let Some(rest) = hostport.strip_prefix('[') {
        let end = rest.find(']')? + 1;
        if end + 1 != colon {
            return None;
        }
        hostport[1..end].to_string()
    } else {
        let host = &hostport[..colon];
        if host.contains(':') {
            return None;
        }
        host.to_string()
    };
    Some((host, hostport[colon + 1..].to_string()))
}

/// `net.ParseIP(s).String()` for the address forms Ollama users write.
fn parse_ip(s: &str) -> Option<String> {
    s.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

/// `strconv.ParseUint(s, 10, 64)`.
fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// One `level=WARN` line the evaluation logged, as slog key/values after `msg=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub source_line: u32,
    pub text: String,
}

impl EnvConfig {
    pub fn new(vars: BTreeMap<String, String>, home: &str, cloud_disabled_by_config: bool) -> Self {
        EnvConfig {
            vars,
            home: home.to_string(),
            cloud_disabled_by_config,
        }
    }

    /// `envconfig.Var`.
    pub fn var(&self, key: &str) -> String {
        let raw = self.vars.get(key).map(String::as_str).unwrap_or_default();
        raw.trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string()
    }

    fn bool_with_default(&self, key: &str, default: bool) -> bool {
        let s = self.var(key);
        if s.is_empty() {
            return default;
        }
        parse_bool(&s).unwrap_or(true)
    }

    fn bool(&self, key: &str) -> bool {
        self.bool_with_default(key, false)
    }

    /// An explicitly set `BoolWithDefault` variable: `None` when unset (Ollama's "auto").
    pub fn explicit_bool(&self, key: &str) -> Option<bool> {
        let s = self.var(key);
        if s.is_empty() {
            None
        } else {
            Some(parse_bool(&s).unwrap_or(true))
        }
    }

    fn uint(&self, key: &str, default: u64, warnings: &mut Vec<Warning>) -> u64 {
        let s = self.var(key);
        if s.is_empty() {
            return default;
        }
        match parse_uint(&s) {
            Some(n) => n,
            None => {
                warnings.push(Warning {
                    source_line: 263,
                    text: format!(
                        "msg=\"invalid environment variable, using default\" key={} value={} default={default}",
                        gofmt::slog_value(key),
                        gofmt::slog_value(&s)
                    ),
                });
                default
            }
        }
    }

    fn duration(&self, key: &str) -> i64 {
        let mut value = 5 * 60 * 1_000_000_000;
        let s = self.var(key);
        if !s.is_empty() {
            if let Some(d) = gofmt::parse_duration(&s) {
                value = d;
            } else if let Ok(n) = s.parse::<i64>() {
                value = n.saturating_mul(1_000_000_000);
            }
        }
        value
    }

    /// `KeepAlive()` in nanoseconds: negative → forever.
    pub fn keep_alive(&self) -> i64 {
        let d = self.duration("OLLAMA_KEEP_ALIVE");
        if d < 0 { MAX_DURATION } else { d }
    }

    /// `LoadTimeout()`: zero or negative → forever.
    pub fn load_timeout(&self) -> i64 {
        let d = self.duration("OLLAMA_LOAD_TIMEOUT");
        if d <= 0 { MAX_DURATION } else { d }
    }

    /// `Host()`.
    pub fn host_url(&self, warnings: &mut Vec<Warning>) -> HostUrl {
        let s = self.var("OLLAMA_HOST").trim().to_string();
        let mut default_port = "11434";
        let (scheme, hostport) = match s.split_once("://") {
            None if s == "ollama.com" => ("https".to_string(), "ollama.com:443".to_string()),
            None => ("http".to_string(), s.clone()),
            Some((scheme, rest)) => {
                if scheme == "http" {
                    default_port = "80";
                } else if scheme == "https" {
                    default_port = "443";
                }
                (scheme.to_string(), rest.to_string())
            }
        };
        let (hostport, path) = match hostport.split_once('/') {
            Some((hp, path)) => (hp.to_string(), path.to_string()),
            None => (hostport, String::new()),
        };
        let (host, mut port) = match split_host_port(&hostport) {
            Some(pair) => pair,
            None => {
                let host = parse_ip(hostport.trim_matches(|c| c == '[' || c == ']'))
                    .unwrap_or_else(|| {
                        if hostport.is_empty() {
                            "127.0.0.1".to_string()
                        } else {
                            hostport.clone()
                        }
                    });
                (host, default_port.to_string())
            }
        };
        let valid = port.parse::<i64>().ok().filter(|n| (0..=65535).contains(n));
        if valid.is_none() {
            warnings.push(Warning {
                source_line: 51,
                text: format!(
                    "msg=\"invalid port, using default\" port={} default={default_port}",
                    gofmt::slog_value(&port)
                ),
            });
            port = default_port.to_string();
        }
        HostUrl {
            scheme,
            host,
            port,
            path,
        }
    }

    /// `AllowedOrigins()`: the variable split on `,` (items not trimmed), then the defaults.
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = Vec::new();
        let s = self.var("OLLAMA_ORIGINS");
        if !s.is_empty() {
            origins.extend(s.split(',').map(str::to_string));
        }
        for origin in ["localhost", "127.0.0.1", "0.0.0.0"] {
            origins.push(format!("http://{origin}"));
            origins.push(format!("https://{origin}"));
            origins.push(format!("http://{origin}:*"));
            origins.push(format!("https://{origin}:*"));
        }
        for extra in [
            "app://*",
            "file://*",
            "tauri://*",
            "vscode-webview://*",
            "vscode-file://*",
        ] {
            origins.push(extra.to_string());
        }
        origins
    }

    /// `Models()`: the variable as given (no `~` expansion), else `$HOME/.ollama/models`.
    pub fn models(&self) -> String {
        let s = self.var("OLLAMA_MODELS");
        if s.is_empty() {
            format!("{}/.ollama/models", self.home)
        } else {
            s
        }
    }

    /// `LogLevel()` as `slog.Level.String()`: 0/false INFO, 1/true DEBUG, 2 `DEBUG-4`
    /// (trace), -1 WARN, -2 ERROR.
    pub fn log_level(&self) -> String {
        let s = self.var("OLLAMA_DEBUG");
        let mut level: i64 = 0;
        if !s.is_empty() {
            if parse_bool(&s) == Some(true) {
                level = -4;
            } else if let Ok(i) = s.parse::<i64>()
                && i != 0
            {
                level = i.saturating_mul(-4);
            }
        }
        let named = |base: &str, offset: i64| {
            if offset == 0 {
                base.to_string()
            } else {
                format!("{base}{offset:+}")
            }
        };
        match level {
            l if l < 0 => named("DEBUG", l + 4),
            l if l < 4 => named("INFO", l),
            l if l < 8 => named("WARN", l - 4),
            l => named("ERROR", l - 8),
        }
    }

    /// `Remotes()`.
    pub fn remotes(&self) -> Vec<String> {
        let raw = self.var("OLLAMA_REMOTES");
        let raw = raw.trim();
        if raw.is_empty() {
            vec!["ollama.com".to_string()]
        } else {
            raw.split(',').map(str::to_string).collect()
        }
    }

    pub fn no_cloud_env(&self) -> bool {
        self.bool("OLLAMA_NO_CLOUD")
    }

    /// `NoCloud()`: the variable or `~/.ollama/server.json`.
    pub fn no_cloud(&self) -> bool {
        self.no_cloud_env() || self.cloud_disabled_by_config
    }

    /// `NoCloudSource()`: `none`, `env`, `config` or `both`.
    pub fn no_cloud_source(&self) -> &'static str {
        match (self.no_cloud_env(), self.cloud_disabled_by_config) {
            (true, true) => "both",
            (true, false) => "env",
            (false, true) => "config",
            (false, false) => "none",
        }
    }

    pub fn context_length(&self) -> u64 {
        self.uint("OLLAMA_CONTEXT_LENGTH", 0, &mut Vec::new())
    }

    pub fn num_parallel(&self) -> u64 {
        self.uint("OLLAMA_NUM_PARALLEL", 1, &mut Vec::new())
    }

    pub fn max_loaded_models(&self) -> u64 {
        self.uint("OLLAMA_MAX_LOADED_MODELS", 0, &mut Vec::new())
    }

    pub fn gpu_overhead(&self) -> u64 {
        self.uint("OLLAMA_GPU_OVERHEAD", 0, &mut Vec::new())
    }

    pub fn noprune(&self) -> bool {
        self.bool("OLLAMA_NOPRUNE")
    }

    pub fn kv_cache_type(&self) -> String {
        self.var("OLLAMA_KV_CACHE_TYPE")
    }

    /// `Values()`: every `AsMap` key with its `%v` text, and the warnings the evaluation
    /// logged, in the order of the `AsMap` literal.
    pub fn values(&self) -> (BTreeMap<String, String>, Vec<Warning>) {
        let mut warnings = Vec::new();
        let mut map = BTreeMap::new();
        let mut put = |key: &str, value: String| {
            map.insert(key.to_string(), value);
        };
        let b = |v: bool| v.to_string();
        put("OLLAMA_DEBUG", self.log_level());
        put(
            "OLLAMA_DEBUG_LOG_REQUESTS",
            b(self.bool("OLLAMA_DEBUG_LOG_REQUESTS")),
        );
        put(
            "OLLAMA_GO_TEMPLATE",
            b(self.bool_with_default("OLLAMA_GO_TEMPLATE", true)),
        );
        put(
            "OLLAMA_FLASH_ATTENTION",
            b(self.bool_with_default("OLLAMA_FLASH_ATTENTION", false)),
        );
        put("OLLAMA_KV_CACHE_TYPE", self.var("OLLAMA_KV_CACHE_TYPE"));
        put(
            "OLLAMA_GPU_OVERHEAD",
            self.uint("OLLAMA_GPU_OVERHEAD", 0, &mut warnings)
                .to_string(),
        );
        if let Some(last) = warnings.last_mut() {
            // Uint64 logs from its own line.
            if last.text.contains("key=OLLAMA_GPU_OVERHEAD ") {
                last.source_line = 292;
            }
        }
        put("OLLAMA_IGPU_ENABLE", self.var("OLLAMA_IGPU_ENABLE"));
        put("LLAMA_ARG_FIT", self.var("LLAMA_ARG_FIT"));
        put("LLAMA_ARG_FIT_TARGET", self.var("LLAMA_ARG_FIT_TARGET"));
        put("OLLAMA_HOST", self.host_url(&mut warnings).url());
        put(
            "OLLAMA_KEEP_ALIVE",
            gofmt::format_duration(self.keep_alive()),
        );
        put("OLLAMA_LLM_LIBRARY", self.var("OLLAMA_LLM_LIBRARY"));
        put(
            "OLLAMA_LOAD_TIMEOUT",
            gofmt::format_duration(self.load_timeout()),
        );
        put(
            "OLLAMA_MAX_LOADED_MODELS",
            self.uint("OLLAMA_MAX_LOADED_MODELS", 0, &mut warnings)
                .to_string(),
        );
        put(
            "OLLAMA_MAX_TRANSFER_STREAMS",
            self.uint("OLLAMA_MAX_TRANSFER_STREAMS", 4, &mut warnings)
                .to_string(),
        );
        put(
            "OLLAMA_MAX_QUEUE",
            self.uint("OLLAMA_MAX_QUEUE", 512, &mut warnings)
                .to_string(),
        );
        put("OLLAMA_MODELS", self.models());
        put("OLLAMA_NO_CLOUD", b(self.no_cloud()));
        put("OLLAMA_NOHISTORY", b(self.bool("OLLAMA_NOHISTORY")));
        put("OLLAMA_NOPRUNE", b(self.bool("OLLAMA_NOPRUNE")));
        put(
            "OLLAMA_NUM_PARALLEL",
            self.uint("OLLAMA_NUM_PARALLEL", 1, &mut warnings)
                .to_string(),
        );
        put(
            "OLLAMA_ORIGINS",
            format!("[{}]", self.allowed_origins().join(" ")),
        );
        put("OLLAMA_SCHED_SPREAD", b(self.bool("OLLAMA_SCHED_SPREAD")));
        put(
            "OLLAMA_CONTEXT_LENGTH",
            self.uint("OLLAMA_CONTEXT_LENGTH", 0, &mut warnings)
                .to_string(),
        );
        put("OLLAMA_EDITOR", self.var("OLLAMA_EDITOR"));
        put("OLLAMA_REMOTES", format!("[{}]", self.remotes().join(" ")));
        for key in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
        ] {
            put(key, self.var(key));
        }
        (map, warnings)
    }

    /// The `env=` value of the `server config` line: `fmt`'s `%v` of the map (keys sorted).
    pub fn values_text(&self) -> String {
        let (map, _) = self.values();
        let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("map[{}]", items.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvConfig {
        EnvConfig::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            "/Users/admin",
            false,
        )
    }

    fn value(pairs: &[(&str, &str)], key: &str) -> String {
        env(pairs).values().0[key].clone()
    }

    /// `TestBool`: any non-empty value that ParseBool rejects is true (`off` → true).
    #[test]
    fn bool_quirks_follow_test_bool() {
        assert_eq!(
            value(
                &[("OLLAMA_FLASH_ATTENTION", "off")],
                "OLLAMA_FLASH_ATTENTION"
            ),
            "true"
        );
        assert_eq!(
            value(&[("OLLAMA_FLASH_ATTENTION", "0")], "OLLAMA_FLASH_ATTENTION"),
            "false"
        );
        assert_eq!(value(&[], "OLLAMA_FLASH_ATTENTION"), "false");
        assert_eq!(value(&[("OLLAMA_NOPRUNE", "no")], "OLLAMA_NOPRUNE"), "true");
        assert_eq!(value(&[], "OLLAMA_GO_TEMPLATE"), "true");
        // Var trims spaces and quotes first.
        assert_eq!(
            value(&[("OLLAMA_NOPRUNE", " 'false' ")], "OLLAMA_NOPRUNE"),
            "false"
        );
    }

    /// `TestKeepAlive`: Go durations, integer seconds, invalid → default, negative → forever.
    #[test]
    fn keep_alive_follows_test_keep_alive() {
        let ka = |v: &str| value(&[("OLLAMA_KEEP_ALIVE", v)], "OLLAMA_KEEP_ALIVE");
        assert_eq!(value(&[], "OLLAMA_KEEP_ALIVE"), "5m0s");
        assert_eq!(ka("1d"), "5m0s");
        assert_eq!(ka("1w"), "5m0s");
        assert_eq!(ka("3600"), "1h0m0s");
        assert_eq!(ka("1h"), "1h0m0s");
        assert_eq!(ka("0"), "0s");
        assert_eq!(ka("-1"), "2562047h47m16.854775807s");
        assert_eq!(ka("-1m"), "2562047h47m16.854775807s");
        assert_eq!(
            value(&[("OLLAMA_LOAD_TIMEOUT", "0")], "OLLAMA_LOAD_TIMEOUT"),
            "2562047h47m16.854775807s"
        );
    }

    /// `TestUint`: decimal only; `-1`, `0x10`, `0o10` give the default with a warning.
    #[test]
    fn uint_follows_test_uint() {
        for bad in ["-1", "0x10", "0o10", "abc", "+4"] {
            let (map, warnings) = env(&[("OLLAMA_NUM_PARALLEL", bad)]).values();
            assert_eq!(map["OLLAMA_NUM_PARALLEL"], "1", "{bad}");
            assert_eq!(warnings.len(), 1, "{bad}");
            assert!(
                warnings[0].text.contains("key=OLLAMA_NUM_PARALLEL"),
                "{warnings:?}"
            );
        }
        assert_eq!(
            value(&[("OLLAMA_NUM_PARALLEL", "4")], "OLLAMA_NUM_PARALLEL"),
            "4"
        );
        assert_eq!(value(&[], "OLLAMA_MAX_QUEUE"), "512");
    }

    /// `TestHost`: scheme defaults, bare addresses, ports.
    #[test]
    fn host_follows_test_host() {
        let host = |v: &str| value(&[("OLLAMA_HOST", v)], "OLLAMA_HOST");
        assert_eq!(value(&[], "OLLAMA_HOST"), "http://127.0.0.1:11434");
        assert_eq!(host("0.0.0.0"), "http://0.0.0.0:11434");
        assert_eq!(host("1.2.3.4:1234"), "http://1.2.3.4:1234");
        assert_eq!(host(":1234"), "http://:1234");
        assert_eq!(host("::1"), "http://[::1]:11434");
        assert_eq!(host("[::1]:1234"), "http://[::1]:1234");
        assert_eq!(host("http://1.2.3.4"), "http://1.2.3.4:80");
        assert_eq!(host("https://1.2.3.4"), "https://1.2.3.4:443");
        assert_eq!(host("example.com"), "http://example.com:11434");
        assert_eq!(host("example.com/path"), "http://example.com:11434/path");
        assert_eq!(host("1.2.3.4:99999"), "http://1.2.3.4:11434");
        assert_eq!(host("ollama.com"), "https://ollama.com:443");
    }

    /// `OLLAMA_DEBUG` levels print as slog levels.
    #[test]
    fn debug_levels() {
        let level = |v: &str| value(&[("OLLAMA_DEBUG", v)], "OLLAMA_DEBUG");
        assert_eq!(level("0"), "INFO");
        assert_eq!(level("1"), "DEBUG");
        assert_eq!(level("true"), "DEBUG");
        assert_eq!(level("2"), "DEBUG-4");
        assert_eq!(level("-1"), "WARN");
        assert_eq!(level("-2"), "ERROR");
        assert_eq!(level("x"), "INFO");
    }

    /// The `env=` map text: keys sorted by fmt, origins and remotes as Go slices.
    #[test]
    fn values_text_is_a_sorted_go_map() {
        let text = env(&[]).values_text();
        assert!(
            text.starts_with("map[HTTPS_PROXY: HTTP_PROXY: LLAMA_ARG_FIT: LLAMA_ARG_FIT_TARGET: NO_PROXY: OLLAMA_CONTEXT_LENGTH:0 OLLAMA_DEBUG:INFO"),
            "{text}"
        );
        assert!(text.contains(" OLLAMA_MODELS:/Users/admin/.ollama/models "));
        assert!(text.contains(" OLLAMA_ORIGINS:[http://localhost https://localhost http://localhost:* https://localhost:* http://127.0.0.1 "));
        assert!(text.contains(" OLLAMA_REMOTES:[ollama.com] "));
        assert!(text.ends_with(" http_proxy: https_proxy: no_proxy:]"));
    }
}
