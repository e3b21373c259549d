//! Secrets: the only user of `keyring` (Keychain on macOS, the kernel keyring on Linux).
//! Values fetched in a run are remembered so every output can mask them, and state files
//! keep a keyed digest (HMAC-SHA256 under a key kept in the keyring too), never the value.

use anyhow::{Context, Result, anyhow};

const SERVICE: &str = "macllm";
/// The keyring entry holding the key for state digests (random, made on first use).
const DIGEST_KEY: &str = "macllm-state-digest-key";

fn entry(name: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, name)
        .with_context(|| format!("opening the keyring entry `{name}`"))
}

/// Reads a secret and remembers it for masking (`mask.rs`).
pub fn get(name: &str) -> Result<String> {
    let value = entry(name)?.get_password().map_err(|err| match err {
        keyring::Error::NoEntry => anyhow!(
            "there is no secret `{name}` in the keyring\nhint: store it with `macllm secret set {name}`"
        ),
        other => anyhow!("cannot read the secret `{name}` from the keyring: {other}"),
    })?;
    crate::mask::reveal(&value);
    Ok(value)
}

pub fn set(name: &str, value: &str) -> Result<()> {
    entry(name)?
        .set_password(value)
        .map_err(|err| anyhow!("cannot store the secret `{name}` in the keyring: {err}"))
}

pub fn remove(name: &str) -> Result<()> {
    entry(name)?.delete_credential().map_err(|err| match err {
        keyring::Error::NoEntry => anyhow!("there is no secret `{name}` in the keyring"),
        other => anyhow!("cannot remove the secret `{name}`: {other}"),
    })
}

/// A keyed digest of `value`, stable across runs on this machine: what state files keep.
pub fn digest(value: &str) -> Result<String> {
    let key = match entry(DIGEST_KEY)?.get_password() {
        Ok(key) => key,
        Err(keyring::Error::NoEntry) => {
            let key = crate::random::random_hex(32)?;
            entry(DIGEST_KEY)?
                .set_password(&key)
                .map_err(|err| anyhow!("cannot store the state digest key: {err}"))?;
            key
        }
        Err(other) => return Err(anyhow!("cannot read the state digest key: {other}")),
    };
    Ok(format!(
        "hmac-sha256:{}",
        hmac_sha256_hex(key.as_bytes(), value)
    ))
}

fn hmac_sha256_hex(key: &[u8], value: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(value.as_bytes());
    crate::value::hex_encode(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231's test cases 1, 2, 6 and 7 (SHA-256 rows): a short key, a key shorter than
    /// the data, and keys longer than the block (hashed first).
    #[test]
    fn hmac_matches_rfc_4231() {
        let long_key = [0xaau8; 131];
        let cases: [(&[u8], &str, &str); 4] = [
            (
                &[0x0b; 20],
                "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &long_key,
                "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                &long_key,
                "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hmac_sha256_hex(key, data), expected, "{data}");
        }
    }
}
