//! Randomness from the operating system, for state lineages and the key that digests
//! secrets. There is no fallback: a digest key guessed from the clock would let anyone with
//! the state file test guesses of a secret offline, so no randomness is an error.

use anyhow::{Result, anyhow};

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|err| anyhow!("cannot get random bytes from the operating system: {err}"))?;
    Ok(crate::value::hex_encode(&buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_the_length_asked_and_differs_between_calls() {
        let a = random_hex(16).unwrap();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, random_hex(16).unwrap());
    }
}
