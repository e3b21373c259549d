//! "Did you mean ...?": the known name closest to a misspelt one, when one is close enough to
//! be what was meant (a swap, a missing or an extra letter, a wrong `_`).

/// The candidate closest to `written`, if it is close enough to be a typo of it.
pub fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted = normal(written);
    let allowed = match wanted.len() {
        0..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .map(|candidate| (distance(&wanted, &normal(candidate)), candidate))
        .filter(|(distance, candidate)| *distance <= allowed && *candidate != written)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `did you mean `X`?`, for a hint.
pub fn did_you_mean<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(written, candidates).map(|name| format!("did you mean `{name}`?"))
}

/// Case and `_`/`-` are the commonest slips: `OLLAMA_KEEPALIVE`, `autoHide`.
fn normal(name: &str) -> Vec<char> {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_swaps_slips_and_nothing_far() {
        let fields = ["domain", "key", "value", "type", "current_host", "absent"];
        assert_eq!(closest("valeu", fields), Some("value"));
        assert_eq!(closest("currenthost", fields), Some("current_host"));
        assert_eq!(closest("kye", fields), Some("key"));
        assert_eq!(closest("colour", fields), None);
        assert_eq!(
            closest("OLLAMA_KEEPALIVE", ["OLLAMA_HOST", "OLLAMA_KEEP_ALIVE"]),
            Some("OLLAMA_KEEP_ALIVE")
        );
        assert_eq!(
            closest("defualts", ["defaults", "services"]),
            Some("defaults")
        );
    }
}
