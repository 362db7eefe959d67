//! Verification of inbound Slack requests (SPEC §3, STYLE 8): the v0 request
//! signature is checked on the raw bytes **before** anything parses the body.
//!
//! Owns: the signature algorithm ([`verify_signature`]) and the axum extractor
//! [`VerifiedSlackBody`] that every Slack route takes as its last argument.
//! Must not import: the store, the domain, or anything that parses Slack
//! payloads — a handler only sees bytes that passed this module.
//!
//! Why we verify ourselves instead of using slack-morphism's events middleware:
//! - its clock is the wall clock (`verify_at_time` is private), so fixed test
//!   vectors cannot be checked; ours takes `now` from the injected [`Clock`];
//! - it reads the whole body with no size limit; we cap it at 1 MiB (413);
//! - it does not know Slack's unsigned `ssl_check=1` probe, which must get a
//!   200 and nothing else;
//! - it parses into its own event types, where we want the raw bytes so that
//!   `slack/inbound` decides how to translate them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::clock::Clock;

/// Largest request body we read (SPEC §3): 1 MiB; larger bodies get `413`.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Slack's replay window, applied in both directions: a timestamp more than
/// five minutes in the past *or* the future is refused.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// Header names as `http` stores them (lowercase); `HeaderMap` lookups are
/// case-insensitive, so `X-Slack-Signature` matches too.
const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
const SIGNATURE_HEADER: &str = "x-slack-signature";

/// The one body every failed verification gets: it tells an attacker nothing
/// about which check failed.
const UNAUTHORIZED_BODY: &str = "invalid Slack signature";

/// Why a request was refused. The texts are safe to log: they never contain
/// the secret, the expected signature, or the received one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature header")]
    MissingHeaders,
    #[error("X-Slack-Request-Timestamp is not an integer")]
    BadTimestamp,
    #[error("X-Slack-Request-Timestamp is more than 5 minutes from now")]
    Stale,
    #[error("X-Slack-Signature does not match")]
    WrongSignature,
}

/// Checks a Slack v0 signature: `signature` must equal
/// `v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))`, compared in
/// constant time, and `timestamp` must be within five minutes of `now_unix`
/// either way.
///
/// The timestamp is checked first: it is cheap, and a replayed request is
/// refused without computing a MAC.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    if ts.abs_diff(now_unix) > MAX_CLOCK_SKEW_SECS {
        return Err(VerifyError::Stale);
    }
    // HMAC accepts an empty key, and anyone can compute a MAC with it; an
    // empty secret must therefore accept nothing rather than everything.
    if secret.is_empty() {
        return Err(VerifyError::WrongSignature);
    }
    let received = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(VerifyError::WrongSignature)?;

    let expected = v0_mac(secret, timestamp, body);

    // `ct_eq` on slices of different lengths is false without looking at the
    // contents, so a short or long signature cannot leak timing either.
    if bool::from(expected.as_slice().ct_eq(&received)) {
        Ok(())
    } else {
        Err(VerifyError::WrongSignature)
    }
}

/// `HMAC-SHA256(secret, "v0:{timestamp}:{body}")`, Slack's v0 MAC.
fn v0_mac(secret: &[u8], timestamp: &str, body: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `X-Slack-Signature` value Slack sends with `body` at `timestamp`:
/// exactly what [`verify_signature`] accepts. For clients of the app's own
/// Slack routes (the API tests, the load generator, the benchmarks).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!("v0={}", hex::encode(v0_mac(secret, timestamp, body)))
}

/// What the extractor needs from the application state: the signing secret
/// and the clock. Provide it through `FromRef` (STYLE 2).
#[derive(Clone, Debug)]
pub struct SlackSigning {
    secret: Arc<SecretString>,
    clock: Clock,
}

impl SlackSigning {
    pub fn new(secret: SecretString, clock: Clock) -> Self {
        SlackSigning {
            secret: Arc::new(secret),
            clock,
        }
    }
}

/// The raw body of a Slack request whose signature has been verified.
/// Take it as the last handler argument; parse `body` only after this.
#[derive(Debug, Clone)]
pub struct VerifiedSlackBody {
    pub body: Bytes,
}

/// Why [`VerifiedSlackBody`] did not reach the handler. Each variant renders
/// a short constant response; nothing from the request is echoed back.
#[derive(Debug)]
pub enum SlackRejection {
    /// Slack's unsigned certificate probe: answered `200` with an empty body.
    SslCheck,
    /// The body is over [`MAX_BODY_BYTES`]: `413`.
    TooLarge,
    /// The body could not be read (the client went away mid-request): `400`.
    UnreadableBody,
    /// The signature did not verify: `401`.
    Unverified(VerifyError),
}

impl IntoResponse for SlackRejection {
    fn into_response(self) -> Response {
        match self {
            SlackRejection::SslCheck => StatusCode::OK.into_response(),
            SlackRejection::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
            SlackRejection::UnreadableBody => (StatusCode::BAD_REQUEST, "could not read request body").into_response(),
            SlackRejection::Unverified(_) => (StatusCode::UNAUTHORIZED, UNAUTHORIZED_BODY).into_response(),
        }
    }
}

impl<S> FromRequest<S> for VerifiedSlackBody
where
    SlackSigning: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SlackRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let signing = SlackSigning::from_ref(state);
        let (parts, body) = req.into_parts();

        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|err| {
            let over_limit =
                std::error::Error::source(&err).is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if over_limit {
                tracing::warn!(limit = MAX_BODY_BYTES, "Slack request body too large");
                SlackRejection::TooLarge
            } else {
                tracing::warn!("could not read Slack request body");
                SlackRejection::UnreadableBody
            }
        })?;

        if is_ssl_check(&parts.headers, &body) {
            tracing::debug!("answered Slack ssl_check probe");
            return Err(SlackRejection::SslCheck);
        }

        let verified = match (parts.headers.get(TIMESTAMP_HEADER), parts.headers.get(SIGNATURE_HEADER)) {
            (Some(ts), Some(sig)) => match (ts.to_str(), sig.to_str()) {
                (Ok(ts), Ok(sig)) => verify_signature(
                    signing.secret.expose_secret().as_bytes(),
                    ts,
                    sig,
                    &body,
                    signing.clock.now().timestamp(),
                ),
                (Err(_), _) => Err(VerifyError::BadTimestamp),
                (_, Err(_)) => Err(VerifyError::WrongSignature),
            },
            _ => Err(VerifyError::MissingHeaders),
        };

        match verified {
            Ok(()) => Ok(VerifiedSlackBody { body }),
            Err(reason) => {
                tracing::warn!(%reason, "rejected Slack request");
                Err(SlackRejection::Unverified(reason))
            }
        }
    }
}

/// Slack's certificate probe is an unsigned form post `ssl_check=1&token=…`
/// (bolt-js and bolt-python both answer it before verification). It is
/// recognised as a decoded form field of a form-encoded body, never as a
/// substring: a signed JSON event whose text happens to contain
/// `&ssl_check=1&` must still be verified and delivered. This is the only
/// look into an unverified body, and the only outcome is an empty `200`.
fn is_ssl_check(headers: &HeaderMap, body: &[u8]) -> bool {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        });
    is_form
        && serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .is_ok_and(|fields| fields.iter().any(|(k, v)| k == "ssl_check" && v == "1"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use chrono::{DateTime, Utc};
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::ServiceExt;

    const NOW: i64 = 1_531_420_618;

    const V1_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const V1_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const V1_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    const V2_SECRET: &str = "fa2c05deeef5a4077494e89f54394de0";
    const V2_BODY: &str = "test-body";
    const V2_SIG: &str = "v0=baa91ef62d346e56607bbdd278a8acd570b91226854f15a382f43d33be42f666";

    const V3_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const V3_BODY: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    const V3_SIG: &str = "v0=f9bd80929259f3f6d5fe3a3186c453c89cd1ad4862815a15837584f31c993652";

    const VECTORS: [(&str, &str, &str); 3] = [
        (V1_SECRET, V1_BODY, V1_SIG),
        (V2_SECRET, V2_BODY, V2_SIG),
        (V3_SECRET, V3_BODY, V3_SIG),
    ];

    fn check(secret: &str, ts: &str, sig: &str, body: &str, now: i64) -> Result<(), VerifyError> {
        verify_signature(secret.as_bytes(), ts, sig, body.as_bytes(), now)
    }

    #[test]
    fn the_three_reference_vectors_verify_at_their_timestamp() {
        for (secret, body, sig) in VECTORS {
            assert_eq!(check(secret, "1531420618", sig, body, NOW), Ok(()), "{sig}");
        }
    }

    #[test]
    fn a_signature_up_to_five_minutes_old_or_early_is_accepted() {
        for now in [NOW - 300, NOW + 300] {
            assert_eq!(check(V2_SECRET, "1531420618", V2_SIG, V2_BODY, now), Ok(()));
        }
    }

    #[test]
    fn a_request_301_seconds_old_is_stale() {
        for (secret, body, sig) in VECTORS {
            assert_eq!(
                check(secret, "1531420618", sig, body, NOW + 301),
                Err(VerifyError::Stale)
            );
        }
    }

    #[test]
    fn a_request_301_seconds_in_the_future_is_stale() {
        for (secret, body, sig) in VECTORS {
            assert_eq!(
                check(secret, "1531420618", sig, body, NOW - 301),
                Err(VerifyError::Stale)
            );
        }
    }

    #[test]
    fn changing_one_byte_of_the_body_breaks_the_signature() {
        for (secret, body, sig) in VECTORS {
            let mut tampered = body.as_bytes().to_vec();
            tampered[0] ^= 0x01;
            assert_eq!(
                verify_signature(secret.as_bytes(), "1531420618", sig, &tampered, NOW),
                Err(VerifyError::WrongSignature)
            );
        }
    }

    #[test]
    fn a_different_timestamp_header_breaks_the_signature() {
        // Same instant, different text: the MAC covers the header as sent.
        assert_eq!(
            check(V2_SECRET, "1531420619", V2_SIG, V2_BODY, NOW),
            Err(VerifyError::WrongSignature)
        );
    }

    #[test]
    fn the_wrong_secret_breaks_the_signature() {
        assert_eq!(
            check(V2_SECRET, "1531420618", V1_SIG, V1_BODY, NOW),
            Err(VerifyError::WrongSignature)
        );
    }

    #[test]
    fn an_empty_secret_accepts_nothing() {
        let sig = sign(b"", "1531420618", b"test-body");
        assert_eq!(
            check("", "1531420618", &sig, V2_BODY, NOW),
            Err(VerifyError::WrongSignature)
        );
    }

    #[test]
    fn malformed_signatures_are_wrong_signatures() {
        let no_prefix = V2_SIG.trim_start_matches("v0=");
        let v1_prefix = format!("v1={no_prefix}");
        let short = &V2_SIG[..V2_SIG.len() - 2];
        let long = format!("{V2_SIG}00");
        let odd = &V2_SIG[..V2_SIG.len() - 1];
        for sig in ["v0=zz", no_prefix, &v1_prefix, short, &long, odd, "", "v0="] {
            assert_eq!(
                check(V2_SECRET, "1531420618", sig, V2_BODY, NOW),
                Err(VerifyError::WrongSignature),
                "{sig:?}"
            );
        }
    }

    #[test]
    fn a_non_numeric_timestamp_is_refused() {
        for ts in ["", "abc", "1531420618.5", " 1531420618", "1e9"] {
            assert_eq!(
                check(V2_SECRET, ts, V2_SIG, V2_BODY, NOW),
                Err(VerifyError::BadTimestamp),
                "{ts:?}"
            );
        }
    }

    #[test]
    fn error_texts_never_contain_the_signature_or_the_secret() {
        for e in [
            VerifyError::MissingHeaders,
            VerifyError::BadTimestamp,
            VerifyError::Stale,
            VerifyError::WrongSignature,
        ] {
            let text = e.to_string();
            assert!(!text.contains("v0=") && !text.contains(V2_SECRET), "{text}");
        }
    }

    // ---- the extractor, through a real router ----

    #[derive(Clone, axum::extract::FromRef)]
    struct TestState {
        signing: SlackSigning,
        reached: Arc<AtomicBool>,
    }

    async fn handler(
        axum::extract::State(reached): axum::extract::State<Arc<AtomicBool>>,
        VerifiedSlackBody { body }: VerifiedSlackBody,
    ) -> Bytes {
        reached.store(true, Ordering::SeqCst);
        body
    }

    fn app(now: i64) -> (Router, Arc<AtomicBool>) {
        let at: DateTime<Utc> = DateTime::from_timestamp(now, 0).unwrap();
        let reached = Arc::new(AtomicBool::new(false));
        let state = TestState {
            signing: SlackSigning::new(SecretString::from(V1_SECRET), Clock::frozen(at)),
            reached: reached.clone(),
        };
        let router = Router::new()
            .route("/slack/commands", post(handler))
            .route("/slack/events", post(handler))
            .with_state(state);
        (router, reached)
    }

    fn request(headers: &[(&str, &str)], body: impl Into<Body>) -> Request {
        let mut b = Request::post("/slack/commands").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.into()).unwrap()
    }

    fn signed(body: &str) -> Request {
        request(
            &[
                ("X-Slack-Request-Timestamp", "1531420618"),
                ("X-Slack-Signature", V1_SIG),
            ],
            body.to_owned(),
        )
    }

    async fn send(app: Router, req: Request) -> (StatusCode, String) {
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_correctly_signed_request_reaches_the_handler_with_its_raw_body() {
        let (app, reached) = app(NOW);
        let (status, body) = send(app, signed(V1_BODY)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, V1_BODY);
        assert!(reached.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn header_names_are_matched_case_insensitively() {
        let (app, reached) = app(NOW);
        let req = request(
            &[
                ("x-slack-request-timestamp", "1531420618"),
                ("X-SLACK-SIGNATURE", V1_SIG),
            ],
            V1_BODY,
        );
        assert_eq!(send(app, req).await.0, StatusCode::OK);
        assert!(reached.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_request_without_signature_headers_is_401() {
        for headers in [
            &[][..],
            &[("X-Slack-Request-Timestamp", "1531420618")][..],
            &[("X-Slack-Signature", V1_SIG)][..],
        ] {
            let (app, reached) = app(NOW);
            let (status, body) = send(app, request(headers, V1_BODY)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body, "invalid Slack signature");
            assert!(!reached.load(Ordering::SeqCst));
        }
    }

    #[tokio::test]
    async fn a_stale_or_future_request_is_401() {
        for now in [NOW + 301, NOW - 301] {
            let (app, reached) = app(now);
            let (status, body) = send(app, signed(V1_BODY)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body, "invalid Slack signature");
            assert!(!reached.load(Ordering::SeqCst));
        }
    }

    #[tokio::test]
    async fn a_tampered_body_is_401() {
        let (app, reached) = app(NOW);
        let tampered = V1_BODY.replace("roadrunner", "roadrunnes");
        let (status, _) = send(app, signed(&tampered)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(!reached.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_body_over_one_mebibyte_is_413() {
        let (app, reached) = app(NOW);
        let (status, _) = send(app, signed(&"a".repeat(MAX_BODY_BYTES + 1))).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(!reached.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_body_of_exactly_one_mebibyte_is_read_and_verified() {
        let (app, reached) = app(NOW);
        // Read in full, then refused for its (absent) signature, not its size.
        let (status, _) = send(app, signed(&"a".repeat(MAX_BODY_BYTES))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(!reached.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn the_ssl_check_probe_gets_an_empty_200_and_never_reaches_the_handler() {
        for body in ["ssl_check=1&token=x", "token=x&ssl_check=1"] {
            let (app, reached) = app(NOW);
            let (status, text) = send(app, request(&[], body)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(text, "");
            assert!(!reached.load(Ordering::SeqCst));
        }
    }

    #[tokio::test]
    async fn ssl_check_is_a_form_field_not_a_substring() {
        // An encoded `ssl_check=1` inside a command's text, a JSON body with
        // the text in a string, and `ssl_check=0` are all ordinary requests
        // that must be verified (and, unsigned, refused).
        let json = Request::post("/slack/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"text":"a&ssl_check=1&b"}"#))
            .unwrap();
        for req in [
            request(&[], "command=%2Foneonone&text=ssl_check%3D1"),
            request(&[], "ssl_check=0&token=x"),
            json,
        ] {
            let (app, reached) = app(NOW);
            assert_eq!(send(app, req).await.0, StatusCode::UNAUTHORIZED);
            assert!(!reached.load(Ordering::SeqCst));
        }
    }
}
