//! Secrets: the only user of `keyring` (Keychain on macOS, the kernel keyring on Linux).
//! Values fetched in a run are remembered so every output can mask them, and state files
//! keep a keyed digest (HMAC-SHA256 under a key kept in the keyring too), never the value.

use crate::value::Value;
use anyhow::{Context, Result, anyhow};
use chacha20poly1305::aead::Aead;

const SERVICE: &str = "macllm";
/// The keyring entry holding the key for state digests (random, made on first use).
const DIGEST_KEY: &str = "macllm-state-digest-key";
/// The keyring entry holding the key that encrypts sensitive resources' originals.
const ORIGINAL_KEY: &str = "macllm-state-original-key";
/// The marker of an encrypted original in the state file: a dict with this key (naming the
/// cipher), `nonce` and `ciphertext`.
const SEALED: &str = "macllm-encrypted";
const CIPHER: &str = "chacha20poly1305";

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

/// The random key in the keyring entry `name`, made on first use.
fn key_or_new(name: &str, what: &str) -> Result<String> {
    match entry(name)?.get_password() {
        Ok(key) => Ok(key),
        Err(keyring::Error::NoEntry) => {
            let key = crate::random::random_hex(32)?;
            entry(name)?
                .set_password(&key)
                .map_err(|err| anyhow!("cannot store the {what}: {err}"))?;
            Ok(key)
        }
        Err(other) => Err(anyhow!("cannot read the {what}: {other}")),
    }
}

/// A keyed digest of `value`, stable across runs on this machine: what state files keep.
pub fn digest(value: &str) -> Result<String> {
    let key = key_or_new(DIGEST_KEY, "state digest key")?;
    Ok(format!(
        "hmac-sha256:{}",
        hmac_sha256_hex(key.as_bytes(), value)
    ))
}

/// Whether `value` is an original encrypted by [`seal`].
pub fn is_sealed(value: &Value) -> bool {
    matches!(value, Value::Dict(dict) if dict.len() == 3
        && dict.contains_key(SEALED)
        && dict.contains_key("nonce")
        && dict.contains_key("ciphertext"))
}

/// `original` encrypted for the state file (ChaCha20-Poly1305 under a random key kept in the
/// keyring, a random nonce, the resource's id as associated data so a ciphertext cannot be
/// moved to another resource): a dict marked `macllm-encrypted`.
pub fn seal(id: &str, original: &Value) -> Result<Value> {
    let key = cipher_key(&key_or_new(ORIGINAL_KEY, "key for sensitive originals")?)?;
    seal_with(&key, id, original)
}

fn seal_with(key: &[u8; 32], id: &str, original: &Value) -> Result<Value> {
    let nonce = crate::random::random_hex(12)?;
    let nonce_bytes = crate::value::hex_decode(&nonce)?;
    let plain = serde_json::to_vec(original)?;
    let ciphertext = aead(key)
        .encrypt(
            chacha20poly1305::Nonce::from_slice(&nonce_bytes),
            chacha20poly1305::aead::Payload {
                msg: &plain,
                aad: id.as_bytes(),
            },
        )
        .map_err(|_| anyhow!("cannot encrypt the original of {id}"))?;
    Ok(Value::Dict(
        [
            (SEALED.to_string(), Value::String(CIPHER.to_string())),
            ("nonce".to_string(), Value::Data(nonce)),
            (
                "ciphertext".to_string(),
                Value::Data(crate::value::hex_encode(&ciphertext)),
            ),
        ]
        .into_iter()
        .collect(),
    ))
}

/// The original [`seal`] encrypted for `id`; an error naming the resource when the key is gone
/// or the record was altered, never a wrong value.
pub fn open(id: &str, sealed: &Value) -> Result<Value> {
    open_with(id, sealed, || match entry(ORIGINAL_KEY) {
        Err(err) => Err(format!("{err:#}")),
        Ok(entry) => match entry.get_password() {
            Ok(key) => cipher_key(&key).map_err(|err| format!("{err:#}")),
            Err(keyring::Error::NoEntry) => Err(format!(
                "the key that encrypted it (`{ORIGINAL_KEY}` in the keyring) is gone"
            )),
            Err(other) => Err(format!("cannot read the key that encrypted it: {other}")),
        },
    })
}

/// [`open`] with the key from `key` (`Err`: why there is none).
fn open_with(
    id: &str,
    sealed: &Value,
    key: impl FnOnce() -> Result<[u8; 32], String>,
) -> Result<Value> {
    let cannot = |why: String| {
        anyhow!(
            "the original of {id} cannot be restored: {why}\nhint: the value it replaced is lost; set it by hand, then remove {id} from the state"
        )
    };
    let Value::Dict(dict) = sealed else {
        return Err(cannot("its record is not an encrypted value".into()));
    };
    let field = |name: &str| match dict.get(name) {
        Some(Value::Data(hex)) => crate::value::hex_decode(hex),
        _ => Err(anyhow!("the field `{name}` is missing")),
    };
    if dict.get(SEALED) != Some(&Value::String(CIPHER.to_string())) {
        return Err(cannot(format!("it is not encrypted with {CIPHER}")));
    }
    let (nonce, ciphertext) = match (field("nonce"), field("ciphertext")) {
        (Ok(nonce), Ok(ciphertext)) if nonce.len() == 12 => (nonce, ciphertext),
        _ => return Err(cannot("its encrypted record is malformed".into())),
    };
    let key = key().map_err(cannot)?;
    let plain = aead(&key)
        .decrypt(
            chacha20poly1305::Nonce::from_slice(&nonce),
            chacha20poly1305::aead::Payload {
                msg: &ciphertext,
                aad: id.as_bytes(),
            },
        )
        .map_err(|_| {
            cannot(format!(
                "it does not decrypt under the key in the keyring (`{ORIGINAL_KEY}` was replaced, or the state file was altered)"
            ))
        })?;
    serde_json::from_slice(&plain)
        .map_err(|err| cannot(format!("its decrypted value is unreadable: {err}")))
}

fn cipher_key(hex: &str) -> Result<[u8; 32]> {
    crate::value::hex_decode(hex)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            anyhow!("the keyring entry `{ORIGINAL_KEY}` does not hold a 256-bit hex key")
        })
}

fn aead(key: &[u8; 32]) -> chacha20poly1305::ChaCha20Poly1305 {
    use chacha20poly1305::KeyInit;
    chacha20poly1305::ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key))
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
    /// Sealed values open to exactly what was sealed, under the same key and id only; each
    /// seal has its own nonce; a flipped bit, another id or another key is an error naming
    /// the resource, never a value.
    #[test]
    fn sealed_originals_open_only_unaltered_under_their_key_and_id() {
        let key = [7u8; 32];
        let id = "defaults:com.example.app:token";
        let original = Value::Dict(
            [
                ("a".to_string(), Value::String("old \"value\" ✓".into())),
                ("b".to_string(), Value::Integer(-3)),
            ]
            .into_iter()
            .collect(),
        );
        let sealed = seal_with(&key, id, &original).unwrap();
        assert!(is_sealed(&sealed));
        assert!(!is_sealed(&original));
        assert!(!format!("{sealed:?}").contains("old"));
        assert_ne!(
            sealed,
            seal_with(&key, id, &original).unwrap(),
            "a fresh nonce"
        );
        assert_eq!(open_with(id, &sealed, || Ok(key)).unwrap(), original);
        let fails = |id: &str, sealed: &Value, key: Result<[u8; 32], String>| {
            format!("{:#}", open_with(id, sealed, || key).unwrap_err())
        };
        let err = fails("defaults:other:k", &sealed, Ok(key));
        assert!(
            err.starts_with(
                "the original of defaults:other:k cannot be restored: it does not decrypt"
            ),
            "{err}"
        );
        let err = fails(id, &sealed, Ok([8u8; 32]));
        assert!(err.contains("it does not decrypt"), "{err}");
        let err = fails(id, &sealed, Err("the key is gone".into()));
        assert!(
            err.starts_with(&format!(
                "the original of {id} cannot be restored: the key is gone"
            )),
            "{err}"
        );
        let Value::Dict(mut dict) = sealed else {
            unreachable!()
        };
        let Some(Value::Data(hex)) = dict.get_mut("ciphertext") else {
            unreachable!()
        };
        let flipped = if hex.starts_with('0') { "1" } else { "0" };
        hex.replace_range(0..1, flipped);
        let err = fails(id, &Value::Dict(dict), Ok(key));
        assert!(err.contains("it does not decrypt"), "{err}");
    }

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
