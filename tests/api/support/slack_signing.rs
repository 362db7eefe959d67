//! Signs test requests the way Slack does (v0), so API tests can post to the
//! app's Slack routes with a known signing secret and a frozen clock.
#![allow(dead_code)]

/// `v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))`, the `X-Slack-Signature`
/// value for `body` sent with `X-Slack-Request-Timestamp: ts`.
pub fn sign(secret: &str, ts: i64, body: &str) -> String {
    oneonone::slack::verify::sign(secret.as_bytes(), &ts.to_string(), body.as_bytes())
}
