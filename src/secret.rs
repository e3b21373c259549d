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
            let key = crate::state::random_hex(32);
            entry(DIGEST_KEY)?
                .set_password(&key)
                .map_err(|err| anyhow!("cannot store the state digest key: {err}"))?;
            key
        }
        Err(other) => return Err(anyhow!("cannot read the state digest key: {other}")),
    };
    Ok(format!(
        "hmac-sha256:{}",
        crate::sha256::hmac_hex(key.as_bytes(), value.as_bytes())
    ))
}
