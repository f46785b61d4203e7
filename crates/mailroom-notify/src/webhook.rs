//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): every request carries
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated
//! list of `v1,<base64 HMAC-SHA256>` signatures of `{id}.{timestamp}.{body}` keyed with the
//! secret's bytes. Secrets are written `whsec_<base64>`.

use crate::ConfigError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The key bytes of a `whsec_<base64>` secret (the prefix is optional).
fn secret_key(secret: &str) -> Result<Vec<u8>, ConfigError> {
    let b64 = secret.trim();
    let b64 = b64.strip_prefix("whsec_").unwrap_or(b64);
    let key = B64.decode(b64).map_err(|_| ConfigError::new("a webhook secret is written whsec_ followed by base64"))?;
    if key.len() < 16 {
        return Err(ConfigError::new("a webhook secret must hold at least 16 bytes"));
    }
    Ok(key)
}

pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, ConfigError> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| ConfigError::new("unusable HMAC key"))?;
    for p in parts {
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The `webhook-signature` header value (`v1,<base64>`) for a message.
pub fn sign_webhook(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, ConfigError> {
    let key = secret_key(secret)?;
    let ts = timestamp.to_string();
    let sig = hmac_sha256(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body])?;
    Ok(format!("v1,{}", B64.encode(sig)))
}

/// Checks a received webhook as a receiver should: one of the `v1` signatures in
/// `signature_header` matches (compared in constant time) and the timestamp is within
/// `tolerance_secs` of `now` (Unix seconds). A bad secret verifies nothing.
pub fn verify_webhook(
    secret: &str,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let Ok(key) = secret_key(secret) else { return false };
    let Ok(ts) = timestamp.trim().parse::<i64>() else { return false };
    if (now - ts).abs() > tolerance_secs {
        return false;
    }
    let ts = ts.to_string();
    signature_header.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|sig| {
        let Ok(sig) = B64.decode(sig) else { return false };
        let Ok(mut mac) = HmacSha256::new_from_slice(&key) else { return false };
        for p in [id.as_bytes(), b".", ts.as_bytes(), b".", body] {
            mac.update(p);
        }
        mac.verify_slice(&sig).is_ok()
    })
}

/// A new random secret, `whsec_` and 32 random bytes in base64.
pub fn generate_webhook_secret() -> Result<String, ConfigError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| ConfigError::new(format!("no randomness: {e}")))?;
    Ok(format!("whsec_{}", B64.encode(key)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks specification. Checked
    /// independently with Python:
    /// `base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ///  b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}', hashlib.sha256).digest())`.
    #[test]
    fn published_test_vector() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // The prefix is optional.
        assert_eq!(
            sign_webhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            sig
        );
        assert!(verify_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &sig, body, 1614265330, 300));
    }

    #[test]
    fn verification_rejects_tampering_and_stale_messages() {
        let secret = generate_webhook_secret().unwrap();
        assert!(secret.starts_with("whsec_"));
        let body = br#"{"type":"arrival"}"#;
        let sig = sign_webhook(&secret, "msg_1", 1_700_000_000, body).unwrap();
        let ok =
            |id: &str, ts: &str, sig: &str, body: &[u8], now: i64| verify_webhook(&secret, id, ts, sig, body, now, 300);
        assert!(ok("msg_1", "1700000000", &sig, body, 1_700_000_100));
        // Several signatures (secret rotation): any one may match.
        assert!(ok("msg_1", "1700000000", &format!("v1,AAAA {sig}"), body, 1_700_000_000));
        assert!(!ok("msg_2", "1700000000", &sig, body, 1_700_000_000));
        assert!(!ok("msg_1", "1700000001", &sig, body, 1_700_000_000));
        assert!(!ok("msg_1", "1700000000", &sig, br#"{"type":"arrivaL"}"#, 1_700_000_000));
        assert!(!ok("msg_1", "1700000000", &sig, body, 1_700_000_301));
        assert!(!ok("msg_1", "1700000000", &sig, body, 1_699_999_699));
        assert!(!ok("msg_1", "1700000000", &sig.replace("v1,", "v2,"), body, 1_700_000_000));
        let other = generate_webhook_secret().unwrap();
        assert!(!verify_webhook(&other, "msg_1", "1700000000", &sig, body, 1_700_000_000, 300));
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(sign_webhook("whsec_not base64!", "m", 1, b"").is_err());
        assert!(sign_webhook("whsec_c2hvcnQ=", "m", 1, b"").is_err());
        assert!(!verify_webhook("whsec_", "m", "1", "v1,AAAA", b"", 1, 300));
    }
}
