//! Signs test requests the way Slack does (v0), so API tests can post to the
//! app's Slack routes with a known signing secret and a frozen clock.
#![allow(dead_code)]

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// `v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))`, the `X-Slack-Signature`
/// value for `body` sent with `X-Slack-Request-Timestamp: ts`.
pub fn sign(secret: &str, ts: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}
