//! Go's text formats as Ollama (a Go program) prints them: `encoding/json` output, `fmt`'s
//! `%v` and `%#v`, `strconv.Quote`, `time.Duration` and `time.Time` strings.
//!
//! Sources (Go standard library): `encoding/json/encode.go` (`floatEncoder`: `'f'` format
//! unless `|x| < 1e-6 || |x| >= 1e21`, then `'e'` with `e-09` cleaned to `e-9`; strings escape
//! `<`, `>`, `&`, U+2028 and U+2029 because `HTMLEscape` is on for `json.Marshal` and
//! `json.NewEncoder`), `strconv/ftoa.go` (`%g` with the shortest digits switches to `%e` when
//! the exponent is `< -4` or `>= 6`, hence `1e+06`: ollama/ollama issue #6763),
//! `strconv/quote.go`, `time/time.go` (`Duration.String`), `time/format.go` (`RFC3339Nano`).

use std::time::{SystemTime, UNIX_EPOCH};

/// A JSON value with its object keys in the order Go would write them: struct fields in
/// declaration order, map keys sorted (encoding/json sorts map keys).
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A Go `float32` (embedding vectors): encoded with the shortest digits that round-trip
    /// at 32 bits.
    Float32(f32),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn str(s: impl Into<String>) -> J {
        J::Str(s.into())
    }

    /// An object from `(key, value)` pairs, in this order.
    pub fn obj<const N: usize>(fields: [(&str, J); N]) -> J {
        J::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// Go's `encoding/json` text of this value (compact, HTML-escaped).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }

    /// What Go's `json.Unmarshal` into `any` makes of a JSON value: every number a float64,
    /// objects as maps (written back with sorted keys).
    pub fn from_value(value: &serde_json::Value) -> J {
        match value {
            serde_json::Value::Null => J::Null,
            serde_json::Value::Bool(b) => J::Bool(*b),
            serde_json::Value::Number(n) => J::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => J::Str(s.clone()),
            serde_json::Value::Array(items) => J::Arr(items.iter().map(J::from_value).collect()),
            serde_json::Value::Object(map) => J::Obj(
                map.iter()
                    .map(|(k, v)| (k.clone(), J::from_value(v)))
                    .collect(),
            ),
        }
    }
}

fn write_json(value: &J, out: &mut String) {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(i) => out.push_str(&i.to_string()),
        J::Float(f) => out.push_str(&json_float(*f)),
        J::Float32(f) => out.push_str(&json_float32(*f)),
        J::Str(s) => json_string(s, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        J::Obj(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// `encoding/json`'s string encoder with HTML escaping (Go 1.22+: `\b` and `\f` short forms).
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The shortest decimal digits of `|f|` and the decimal point position: `f = 0.DIGITS ×
/// 10^dp` (Go's `decimalSlice` after `shortest`).
fn shortest_digits(f: f64) -> (String, i32) {
    if f == 0.0 {
        return (String::new(), 0);
    }
    // Rust's `{:e}` without a precision prints the shortest round-trip digits, as Go does.
    digits_of(&format!("{:e}", f.abs()))
}

/// `shortest_digits` at 32 bits (`strconv.FormatFloat(f, 'g', -1, 32)`).
fn shortest_digits32(f: f32) -> (String, i32) {
    if f == 0.0 {
        return (String::new(), 0);
    }
    digits_of(&format!("{:e}", f.abs()))
}

fn digits_of(text: &str) -> (String, i32) {
    let text = text.to_string();
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0').to_string();
    (digits, exp + 1)
}

fn fmt_f(neg: bool, digits: &str, dp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let bytes = digits.as_bytes();
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(bytes.get(i).map_or('0', |b| *b as char));
        }
    } else {
        out.push('0');
    }
    if (digits.len() as i32) > dp {
        out.push('.');
        for i in dp..digits.len() as i32 {
            if i < 0 {
                out.push('0');
            } else {
                out.push(bytes[i as usize] as char);
            }
        }
    }
    out
}

fn fmt_e(neg: bool, digits: &str, dp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let digits = if digits.is_empty() { "0" } else { digits };
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    let exp = if digits == "0" { 0 } else { dp - 1 };
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
    out
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// `encoding/json`'s float32 (`floatEncoder(32)`): the same cut-offs as for float64, digits
/// that round-trip at 32 bits (`0.1` stays `0.1`, not `0.10000000149011612`).
pub fn json_float32(f: f32) -> String {
    if let Some(s) = special(f64::from(f)) {
        return s.to_string();
    }
    let neg = f.is_sign_negative() && f != 0.0;
    let (digits, dp) = shortest_digits32(f);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = fmt_e(neg, &digits, dp);
        return match text.rsplit_once("e-0") {
            Some((head, tail)) if tail.len() == 1 => format!("{head}e-{tail}"),
            _ => text,
        };
    }
    fmt_f(neg, &digits, dp)
}

/// `encoding/json`'s float64: `8192`, `0.7`, `1000000`, `1e+21`, `1e-7`.
pub fn json_float(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let neg = f.is_sign_negative() && f != 0.0;
    let (digits, dp) = shortest_digits(f);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = fmt_e(neg, &digits, dp);
        // clean up e-09 to e-9
        return match text.rsplit_once("e-0") {
            Some((head, tail)) if tail.len() == 1 => format!("{head}e-{tail}"),
            _ => text,
        };
    }
    fmt_f(neg, &digits, dp)
}

/// `fmt`'s `%v` (and `%#v`) of a float64: `%g` with the shortest digits, `%e` once the
/// exponent is below -4 or at least 6 (`1e+06`, `1.048576e+06`, `1e-05`).
pub fn go_float(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let neg = f.is_sign_negative();
    let (digits, dp) = shortest_digits(f);
    if digits.is_empty() {
        return if neg { "-0".into() } else { "0".into() };
    }
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        fmt_e(neg, &digits, dp)
    } else {
        fmt_f(neg, &digits, dp)
    }
}

/// Whether Go's `unicode.IsPrint` holds (approximated: control, format, separator and
/// private-use characters are not printable; ASCII space is).
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || (0x200b..=0x200f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2060..=0x206f).contains(&u)
        || u == 0xfeff
        || u == 0xad
        || (0xe000..=0xf8ff).contains(&u)
        || (0xfff9..=0xfffb).contains(&u)
        || u >= 0xf0000)
}

/// `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `fmt.Sprintf("%v", v)` of a value decoded from JSON into `any`.
pub fn plain_v(value: &J) -> String {
    match value {
        J::Null => "<nil>".into(),
        J::Bool(b) => b.to_string(),
        J::Int(i) => i.to_string(),
        J::Float(f) => go_float(*f),
        J::Float32(f) => go_float(f64::from(*f)),
        J::Str(s) => s.clone(),
        J::Arr(items) => format!(
            "[{}]",
            items.iter().map(plain_v).collect::<Vec<_>>().join(" ")
        ),
        J::Obj(fields) => {
            let mut sorted: Vec<_> = fields.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            let inner: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{k}:{}", plain_v(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
    }
}

/// `fmt.Sprintf("%#v", v)` of a value decoded from JSON into `any`: strings Go-quoted,
/// numbers as `%v`, `[]interface {}{…}` and `map[string]interface {}{…}` for nested values.
pub fn sharp_v(value: &J) -> String {
    match value {
        J::Null => "<nil>".into(),
        J::Str(s) => go_quote(s),
        J::Arr(items) => format!(
            "[]interface {{}}{{{}}}",
            items.iter().map(sharp_v).collect::<Vec<_>>().join(", ")
        ),
        J::Obj(fields) => {
            let mut sorted: Vec<_> = fields.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            let inner: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), sharp_v(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", inner.join(", "))
        }
        other => plain_v(other),
    }
}

/// Nanoseconds in a Go `time.Duration` (int64).
pub const MAX_DURATION: i64 = i64::MAX;

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` with units ns, us, µs, μs, ms, s,
/// m, h; `"0"` alone is allowed; overflow is an error. `None` for anything it rejects.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut s = text;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(rest) = s.strip_prefix('.') {
            let frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[..frac_len];
            s = &rest[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut value = whole.checked_mul(scale)?;
        if !frac_part.is_empty() {
            let mut frac_scale = scale;
            let mut frac = 0u128;
            let mut denom = 1u128;
            for digit in frac_part.bytes().take(30) {
                frac = frac * 10 + u128::from(digit - b'0');
                denom *= 10;
            }
            frac_scale *= frac;
            value += frac_scale / denom;
        }
        total = total.checked_add(value)?;
        if total > i64::MAX as u128 + u128::from(neg) {
            return None;
        }
    }
    if neg {
        Some((-(total as i128)) as i64)
    } else {
        Some(total as i64)
    }
}

/// `time.Duration.String`: `5m0s`, `1h0m0s`, `1.5s`, `500ms`, `0s`,
/// `2562047h47m16.854775807s`.
pub fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(u, scale));
    }
    let seconds = u / 1_000_000_000;
    let frac = u % 1_000_000_000;
    let mut secs = (seconds % 60).to_string();
    if frac > 0 {
        let digits = format!("{frac:09}");
        secs = format!("{secs}.{}", digits.trim_end_matches('0'));
    }
    let minutes = seconds / 60;
    if minutes == 0 {
        return format!("{sign}{secs}s");
    }
    let hours = minutes / 60;
    if hours == 0 {
        return format!("{sign}{}m{secs}s", minutes % 60);
    }
    format!("{sign}{hours}h{}m{secs}s", minutes % 60)
}

fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// `time.Time` as `encoding/json` writes it (RFC 3339 with up to nanoseconds, trailing
/// zeros dropped); UTC, which is all the emulated Mac uses.
pub fn rfc3339_nano(time: SystemTime) -> String {
    let (_, nanos) = unix_parts(time);
    let mut out = utc_format(
        time,
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    );
    if nanos > 0 {
        let digits = format!("{nanos:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// The `time=` value of Go's slog text handler: RFC 3339 with milliseconds.
pub fn rfc3339_millis(time: SystemTime) -> String {
    utc_format(
        time,
        time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ),
    )
}

/// `time` in UTC, in `format`; the emulated Mac runs in UTC.
pub fn utc_format(
    time: SystemTime,
    format: &[time::format_description::BorrowedFormatItem],
) -> String {
    time::OffsetDateTime::from(time)
        .format(format)
        .unwrap_or_default()
}

/// Whole seconds since 1970 and the nanoseconds past them.
pub fn unix_parts(time: SystemTime) -> (i64, u32) {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(_) => (0, 0),
    }
}

/// A slog text-handler value: bare unless it is empty or holds a space, `=`, `"` or an
/// unprintable character, then `strconv.Quote`d (`log/slog/text_handler.go needsQuoting`).
pub fn slog_value(s: &str) -> String {
    let needs = s.is_empty()
        || s.chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || !is_print(c));
    if needs { go_quote(s) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go `encoding/json` float64 output (`floatEncoder`): fixed notation below 1e21,
    /// exponent above and below 1e-6 with `e-09` cleaned to `e-9`.
    #[test]
    fn json_floats_follow_encoding_json() {
        assert_eq!(json_float(8192.0), "8192");
        assert_eq!(json_float(0.7), "0.7");
        assert_eq!(json_float(1e6), "1000000");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(0.00001), "0.00001");
        assert_eq!(json_float(-2.5), "-2.5");
        assert_eq!(json_float(0.0), "0");
        assert_eq!(json_float32(0.1), "0.1");
        assert_eq!(json_float(f64::from(0.1f32)), "0.10000000149011612");
        assert_eq!(json_float32(-0.018_234_5), "-0.0182345");
        assert_eq!(json_float32(1e-7), "1e-7");
    }

    /// `%v`/`%#v` of float64 is `%g` with the shortest digits (issue #6763: `1e+06`).
    #[test]
    fn go_v_floats_switch_to_exponent_at_1e6() {
        assert_eq!(go_float(8192.0), "8192");
        assert_eq!(go_float(0.7), "0.7");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1048576.0), "1.048576e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(1e100), "1e+100");
        assert_eq!(go_float(-1.0), "-1");
        assert_eq!(go_float(0.0), "0");
    }

    /// `encoding/json` escapes HTML characters (`\u003c|eot_id|\u003e` in real responses).
    #[test]
    fn json_strings_escape_html() {
        assert_eq!(
            J::str("<|eot_id|> & \"x\"\n").to_json(),
            r#""\u003c|eot_id|\u003e \u0026 \"x\"\n""#
        );
    }

    /// `strconv.Quote` and `%#v`.
    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("<|eot_id|>"), "\"<|eot_id|>\"");
        assert_eq!(go_quote("a\"b\\\n\t"), "\"a\\\"b\\\\\\n\\t\"");
        assert_eq!(go_quote("\u{1}"), "\"\\x01\"");
        assert_eq!(sharp_v(&J::Bool(true)), "true");
        assert_eq!(sharp_v(&J::Float(8192.0)), "8192");
    }

    /// `time.ParseDuration` and `Duration.String` (envconfig's `TestKeepAlive` cases).
    #[test]
    fn durations_parse_and_print_like_go() {
        assert_eq!(parse_duration("5m"), Some(300_000_000_000));
        assert_eq!(parse_duration("1h2m3s"), Some(3_723_000_000_000));
        assert_eq!(parse_duration("-1m"), Some(-60_000_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("3600"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("."), None);
        assert_eq!(format_duration(300_000_000_000), "5m0s");
        assert_eq!(format_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(500_000_000), "500ms");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(i64::MAX), "2562047h47m16.854775807s");
        assert_eq!(format_duration(-60_000_000_000), "-1m0s");
    }

    #[test]
    fn times_are_rfc3339() {
        let t = UNIX_EPOCH + std::time::Duration::new(1_754_042_400, 123_456_789);
        assert_eq!(rfc3339_nano(t), "2025-08-01T10:00:00.123456789Z");
        assert_eq!(rfc3339_millis(t), "2025-08-01T10:00:00.123Z");
        assert_eq!(
            rfc3339_nano(UNIX_EPOCH + std::time::Duration::new(1, 500_000_000)),
            "1970-01-01T00:00:01.5Z"
        );
    }
}
