//! C-library behaviours the emulated tools share.

/// strtol(3) with base 0 over the whole word, as pmset's `checkAndSetIntValue` and
/// sysctl's integer parsing read values: decimal, `0x` hex or leading-0 octal; an empty
/// string is 0 (the end pointer is at the end).
pub fn strtol(text: &str) -> Option<i64> {
    let trimmed = text.trim_start();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let (radix, digits) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() {
        // strtol("") is 0 with the end pointer at the (empty) end: accepted.
        return (trimmed.is_empty() || radix == 8).then_some(0);
    }
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let value = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// Standard base64 with padding, as CoreFoundation writes `<data>` in XML plists.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
