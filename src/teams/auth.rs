//! The inbound side of the Teams adapter: the JWT the Bot Connector puts in
//! `Authorization: Bearer …` on every activity it posts to `/api/messages`.
//!
//! [`BotAuth::verify`] does every check of the Bot Connector authentication
//! protocol: the `Bearer` scheme; RS256 only, with a `kid`; a signature by a
//! key from the OpenID metadata's `jwks_uri`; issuer
//! `https://api.botframework.com`; audience = the app id; `exp` and `nbf`
//! within five minutes of skew; a `serviceurl` claim equal to the activity's
//! `serviceUrl`; and, when the signing key lists endorsements, the activity's
//! `channelId` among them.
//!
//! Signing keys are cached. The cache is refreshed when it is older than 24
//! hours, and when a token names an unknown `kid` — then by one caller at a
//! time and at most once per [`UNKNOWN_KID_REFRESH_INTERVAL`], so tokens with
//! random key ids cannot make us hammer the key endpoint. A failed refresh
//! keeps the keys we have.
//!
//! All time comes from the injected [`Clock`]: jsonwebtoken's own `exp`/`nbf`
//! checks read the system clock, so they are off and done here instead.
//!
//! Errors ([`AuthError`]) say why, for the log; none contains the token.
//! Must not import: the domain's rules, the store, axum.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use url::Url;

use crate::clock::Clock;
use crate::config::TeamsConfig;
use crate::teams::connector::{DEFAULT_TIMEOUT, http_client, secure_or_loopback};

/// The issuer of every token the Bot Connector sends (public cloud), for
/// single- and multi-tenant bots alike.
pub const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";

/// Allowed clock skew on `exp` and `nbf`, as the protocol prescribes.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Cached signing keys older than this are fetched again before use.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// At most one refresh for unknown key ids per this interval. The SDKs use an
/// hour; five minutes picks up a genuine key rotation sooner.
pub const UNKNOWN_KID_REFRESH_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// After a failed scheduled or first fetch, wait this long before trying again.
const FETCH_FAILURE_BACKOFF: Duration = Duration::from_secs(30);

/// Longer tokens are refused unread (a real one is about 1.5 KB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a request was refused. For logs: it says what failed (and the `kid`
/// or `iss` involved), never the token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("no Authorization header")]
    MissingHeader,
    /// An `Authorization` header that is not `Bearer <token>`.
    #[error("the Authorization header is not a Bearer token")]
    NotBearer,
    /// Not a well-formed JWT, or claims of the wrong type.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Signed with anything but RS256.
    #[error("token algorithm {0} is not allowed (RS256 only)")]
    WrongAlgorithm(String),
    /// The header has no `kid`.
    #[error("the token header has no kid")]
    MissingKid,
    /// No signing key with this `kid`, even after a refresh (or a refresh was
    /// not allowed yet).
    #[error("no signing key with kid {kid:?}")]
    UnknownKey {
        /// The key id the token named.
        kid: String,
    },
    /// No signing keys at all: the OpenID metadata or key set could not be
    /// fetched. The fault is ours or the network's, not the caller's.
    #[error("no signing keys available (the OpenID metadata or key set could not be fetched)")]
    KeysUnavailable,
    /// The signature does not verify.
    #[error("bad token signature")]
    BadSignature,
    /// `iss` is not `https://api.botframework.com`.
    #[error("wrong issuer {iss:?}")]
    WrongIssuer {
        /// The token's issuer, when it could be read.
        iss: Option<String>,
    },
    /// `aud` is not the app id.
    #[error("wrong audience (not this bot's app id)")]
    WrongAudience,
    /// A required claim (`exp`, `nbf`, `iss`, `aud`) is missing.
    #[error("the token has no {0} claim")]
    MissingClaim(String),
    /// `exp` is more than five minutes past.
    #[error("the token expired")]
    Expired,
    /// `nbf` is more than five minutes ahead.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The token has no `serviceurl` claim.
    #[error("the token has no serviceurl claim")]
    MissingServiceUrlClaim,
    /// The activity has no `serviceUrl`.
    #[error("the activity has no serviceUrl")]
    MissingActivityServiceUrl,
    /// The `serviceurl` claim is not the activity's `serviceUrl`.
    #[error("the token's serviceurl {claim:?} is not the activity's serviceUrl {activity:?}")]
    ServiceUrlMismatch {
        /// The token's claim.
        claim: String,
        /// The activity's `serviceUrl`.
        activity: String,
    },
    /// The signing key is not endorsed for the activity's channel.
    #[error("the signing key is not endorsed for channel {channel_id:?}")]
    NotEndorsed {
        /// The activity's `channelId`, if it had one.
        channel_id: Option<String>,
    },
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `iss`: always [`BOT_FRAMEWORK_ISSUER`].
    pub issuer: String,
    /// `aud`: the bot's app id.
    pub audience: String,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
    /// `nbf`.
    pub not_before: DateTime<Utc>,
    /// `serviceurl`: where replies to this activity go.
    pub service_url: String,
}

/// The claims as they arrive. All optional: jsonwebtoken deserializes them
/// *before* it checks that `exp`, `nbf`, `iss` and `aud` are present, and a
/// missing claim should be reported as such, not as malformed JSON.
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    serviceurl: Option<String>,
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<String>,
}

/// One signing key and the channels it is endorsed for.
#[derive(Clone)]
struct SigningKey {
    key: Arc<DecodingKey>,
    endorsements: Arc<[String]>,
}

/// The cached key set.
#[derive(Default)]
struct KeySet {
    keys: HashMap<String, SigningKey>,
    /// When these keys were fetched; `None` before the first success.
    fetched_at: Option<DateTime<Utc>>,
}

/// Bookkeeping of the refresh lock.
#[derive(Default)]
struct RefreshState {
    /// The last fetch attempt, successful or not.
    last_attempt: Option<DateTime<Utc>>,
    /// The last fetch made because of an unknown `kid`.
    last_unknown_kid: Option<DateTime<Utc>>,
}

/// `{"keys": [...]}`, parsed by hand: jsonwebtoken's `JwkSet` drops the
/// Bot Framework's `endorsements`.
#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    endorsements: Vec<String>,
}

#[derive(Deserialize)]
struct OpenIdMetadata {
    jwks_uri: String,
}

/// Why fetching the signing keys failed (logged; the request then fails
/// with [`AuthError::UnknownKey`] or [`AuthError::KeysUnavailable`]).
#[derive(Debug, thiserror::Error)]
enum KeyFetchError {
    #[error("cannot fetch {what}")]
    Http {
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{what} answered HTTP {status}")]
    Status { what: &'static str, status: u16 },
    #[error("the OpenID metadata's jwks_uri is not an https URL")]
    InsecureJwksUri,
    #[error("the key set has no usable RSA signing key")]
    NoKeys,
}

struct Inner {
    http: reqwest::Client,
    clock: Clock,
    app_id: String,
    metadata_url: String,
    validation: Validation,
    keys: RwLock<Arc<KeySet>>,
    /// Single flight: whoever holds it fetches; the others wait and then use
    /// what it fetched.
    refresh: tokio::sync::Mutex<RefreshState>,
}

/// Verifies the Bot Connector's JWTs. Cheap to clone; clones share the key cache.
#[derive(Clone)]
pub struct BotAuth {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BotAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotAuth")
            .field("metadata_url", &self.inner.metadata_url)
            .finish_non_exhaustive()
    }
}

impl BotAuth {
    /// A verifier for the configured bot, with its own HTTP client.
    pub fn new(config: &TeamsConfig, clock: Clock) -> Result<Self, reqwest::Error> {
        Ok(Self::with_http(config, clock, http_client(DEFAULT_TIMEOUT)?))
    }

    /// A verifier on a given HTTP client.
    pub fn with_http(config: &TeamsConfig, clock: Clock, http: reqwest::Client) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.set_issuer(&[BOT_FRAMEWORK_ISSUER]);
        validation.set_audience(&[config.app_id.as_str()]);
        // Without this a token with no `iss` (or `aud`, `nbf`) would pass.
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
        // jsonwebtoken would compare exp/nbf with the system clock; we compare
        // them with the injected clock in `verify`, with the same leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = CLOCK_SKEW.as_secs();
        BotAuth {
            inner: Arc::new(Inner {
                http,
                clock,
                app_id: config.app_id.clone(),
                metadata_url: config.openid_metadata_url.clone(),
                validation,
                keys: RwLock::new(Arc::new(KeySet::default())),
                refresh: tokio::sync::Mutex::new(RefreshState::default()),
            }),
        }
    }

    /// Checks the `Authorization` header of an activity whose root carries
    /// `channelId` and `serviceUrl` (pass them as read from the body, before
    /// acting on anything in it). Returns the token's claims.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        channel_id: Option<&str>,
        service_url: Option<&str>,
    ) -> Result<Claims, AuthError> {
        let token = bearer_token(authorization.ok_or(AuthError::MissingHeader)?)?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed("token too long".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::WrongAlgorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.filter(|k| !k.is_empty()).ok_or(AuthError::MissingKid)?;
        let key = self.key_for(&kid).await?;

        let data = jsonwebtoken::decode::<RawClaims>(token, &key.key, &self.inner.validation)
            .map_err(|e| map_jwt_error(e, token))?;
        let claims = data.claims;
        let missing = |claim: &str| AuthError::MissingClaim(claim.to_string());
        let (exp, nbf) = (
            claims.exp.ok_or_else(|| missing("exp"))?,
            claims.nbf.ok_or_else(|| missing("nbf"))?,
        );
        let issuer = claims.iss.ok_or_else(|| missing("iss"))?;
        let now = self.inner.clock.now().timestamp();
        let skew = i64::try_from(CLOCK_SKEW.as_secs()).unwrap_or(i64::MAX);
        if now > exp.saturating_add(skew) {
            return Err(AuthError::Expired);
        }
        if nbf > now.saturating_add(skew) {
            return Err(AuthError::NotYetValid);
        }
        let expires_at =
            DateTime::from_timestamp(exp, 0).ok_or_else(|| AuthError::Malformed("exp out of range".into()))?;
        let not_before =
            DateTime::from_timestamp(nbf, 0).ok_or_else(|| AuthError::Malformed("nbf out of range".into()))?;

        let claim_url = claims.serviceurl.ok_or(AuthError::MissingServiceUrlClaim)?;
        let activity_url = service_url.ok_or(AuthError::MissingActivityServiceUrl)?;
        if !same_service_url(&claim_url, activity_url) {
            return Err(AuthError::ServiceUrlMismatch {
                claim: claim_url,
                activity: activity_url.to_string(),
            });
        }

        // A Teams-only bot requires the channel id when the key is endorsed
        // (botbuilder lets a missing one pass; being stricter costs nothing).
        if !key.endorsements.is_empty() && !channel_id.is_some_and(|c| key.endorsements.iter().any(|e| e == c)) {
            return Err(AuthError::NotEndorsed {
                channel_id: channel_id.map(str::to_string),
            });
        }

        Ok(Claims {
            issuer,
            audience: self.inner.app_id.clone(),
            expires_at,
            not_before,
            service_url: claim_url,
        })
    }

    fn snapshot(&self) -> Arc<KeySet> {
        // A poisoned lock only means a writer panicked between two whole-Arc
        // swaps; the value inside is still a complete key set.
        self.inner.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn is_fresh(set: &KeySet, now: DateTime<Utc>) -> bool {
        set.fetched_at.is_some_and(|t| elapsed(t, now) < KEYS_MAX_AGE)
    }

    /// The key for `kid`, refreshing the cache when it is old or lacks `kid`.
    async fn key_for(&self, kid: &str) -> Result<SigningKey, AuthError> {
        let set = self.snapshot();
        if Self::is_fresh(&set, self.inner.clock.now())
            && let Some(key) = set.keys.get(kid)
        {
            return Ok(key.clone());
        }

        let mut state = self.inner.refresh.lock().await;
        // Someone may have refreshed while we waited for the lock.
        let set = self.snapshot();
        let now = self.inner.clock.now();
        let fresh = Self::is_fresh(&set, now);
        if fresh && let Some(key) = set.keys.get(kid) {
            return Ok(key.clone());
        }
        let since = |t: Option<DateTime<Utc>>, limit: Duration| t.is_none_or(|t| elapsed(t, now) >= limit);
        let may_fetch = if fresh {
            // Fresh keys, unknown kid: rate-limited.
            since(state.last_unknown_kid, UNKNOWN_KID_REFRESH_INTERVAL)
        } else {
            // First load, or keys older than a day: back off after a failure.
            since(state.last_attempt, FETCH_FAILURE_BACKOFF)
        };
        if may_fetch {
            state.last_attempt = Some(now);
            if fresh {
                state.last_unknown_kid = Some(now);
            }
            match self.fetch_keys().await {
                Ok(keys) => {
                    tracing::info!(keys = keys.len(), "fetched the Bot Framework signing keys");
                    let new = Arc::new(KeySet {
                        keys,
                        fetched_at: Some(now),
                    });
                    *self.inner.keys.write().unwrap_or_else(|p| p.into_inner()) = new;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    cached_keys = set.keys.len(),
                    "cannot refresh the Bot Framework signing keys; keeping the cached ones"
                ),
            }
        }
        drop(state);

        let set = self.snapshot();
        match set.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if set.keys.is_empty() => Err(AuthError::KeysUnavailable),
            None => Err(AuthError::UnknownKey { kid: kid.to_string() }),
        }
    }

    /// Metadata, then its `jwks_uri`, then the RSA signing keys in it.
    async fn fetch_keys(&self) -> Result<HashMap<String, SigningKey>, KeyFetchError> {
        let metadata: OpenIdMetadata = self.get_json("the OpenID metadata", &self.inner.metadata_url).await?;
        let jwks_uri = Url::parse(&metadata.jwks_uri).map_err(|_| KeyFetchError::InsecureJwksUri)?;
        if !secure_or_loopback(&jwks_uri) {
            return Err(KeyFetchError::InsecureJwksUri);
        }
        let jwks: Jwks = self.get_json("the key set", jwks_uri.as_str()).await?;
        let mut keys = HashMap::new();
        for jwk in jwks.keys {
            if jwk.kty != "RSA" || jwk.usage.as_deref().is_some_and(|u| u != "sig") {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    keys.insert(
                        kid,
                        SigningKey {
                            key: Arc::new(key),
                            endorsements: jwk.endorsements.into(),
                        },
                    );
                }
                Err(err) => tracing::debug!(%kid, error = %err, "skipping an unusable signing key"),
            }
        }
        if keys.is_empty() {
            return Err(KeyFetchError::NoKeys);
        }
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        url: &str,
    ) -> Result<T, KeyFetchError> {
        let http = |source: reqwest::Error| KeyFetchError::Http { what, source };
        let res = self.inner.http.get(url).send().await.map_err(http)?;
        if !res.status().is_success() {
            return Err(KeyFetchError::Status {
                what,
                status: res.status().as_u16(),
            });
        }
        res.json().await.map_err(http)
    }
}

/// The token of `Bearer <token>` (scheme matched case-insensitively).
fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::NotBearer)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(token)
}

/// Equal after trimming trailing `/` and ignoring ASCII case, as the Teams SDK compares them.
fn same_service_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - since).to_std().unwrap_or_default()
}

fn map_jwt_error(e: jsonwebtoken::errors::Error, token: &str) -> AuthError {
    match e.kind() {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::MissingAlgorithm => {
            AuthError::WrongAlgorithm("not RS256".into())
        }
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer {
            // The signature verified before the issuer was compared, so the
            // value is genuine; it is logged to diagnose a new issuer.
            iss: jsonwebtoken::dangerous::insecure_decode::<IssuerOnly>(token)
                .ok()
                .and_then(|d| d.claims.iss),
        },
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
        _ => AuthError::Malformed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AppType;
    use crate::teams::connector::TrustedUrls;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::{Json, Router, routing::get};
    use chrono::TimeZone;
    use jsonwebtoken::{EncodingKey, Header};
    use secrecy::SecretString;
    use serde_json::{Value, json};
    use std::sync::Mutex;

    const APP_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const SERVICE_URL: &str = "https://smba.trafficmanager.net/emea/";
    /// Test-only RSA keys (never used anywhere else), with their public halves.
    const KEY_PEMS: [&str; 2] = [
        include_str!("../../tests/fixtures/teams/test_rsa_key.pem"),
        include_str!("../../tests/fixtures/teams/test_rsa_key_2.pem"),
    ];
    const KEY_JWKS: [&str; 2] = [
        include_str!("../../tests/fixtures/teams/test_rsa_key.jwk.json"),
        include_str!("../../tests/fixtures/teams/test_rsa_key_2.jwk.json"),
    ];

    /// A loopback OpenID metadata + key set endpoint that counts its hits.
    #[derive(Default)]
    struct KeyServer {
        keys: Vec<Value>,
        fail: bool,
        metadata_hits: usize,
        jwks_hits: usize,
        base: String,
    }

    type Shared = Arc<Mutex<KeyServer>>;

    async fn metadata(State(s): State<Shared>) -> impl IntoResponse {
        let mut s = s.lock().unwrap();
        s.metadata_hits += 1;
        Json(json!({
            "issuer": BOT_FRAMEWORK_ISSUER,
            "jwks_uri": format!("{}/keys", s.base),
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
    }

    async fn jwks(State(s): State<Shared>) -> axum::response::Response {
        let mut s = s.lock().unwrap();
        s.jwks_hits += 1;
        if s.fail {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Json(json!({ "keys": s.keys })).into_response()
    }

    fn jwk(kid: &str, which: usize, endorsements: &[&str]) -> Value {
        let mut k: Value = serde_json::from_str(KEY_JWKS[which]).unwrap();
        k["kid"] = json!(kid);
        if !endorsements.is_empty() {
            k["endorsements"] = json!(endorsements);
        }
        k
    }

    fn sign(kid: &str, which: usize, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_string());
        let key = EncodingKey::from_rsa_pem(KEY_PEMS[which].as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn monday_morning() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
    }

    fn claims_at(now: DateTime<Utc>) -> Value {
        json!({
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": APP_ID,
            "serviceurl": SERVICE_URL,
            "nbf": now.timestamp() - 60,
            "exp": now.timestamp() + 3540,
        })
    }

    struct Fixture {
        server: Shared,
        auth: BotAuth,
        clock: Clock,
    }

    impl Fixture {
        /// Key `k1` (the first test key) endorsed for `msteams`.
        async fn start() -> Fixture {
            Self::with_keys(vec![jwk("k1", 0, &["msteams"])]).await
        }

        async fn with_keys(keys: Vec<Value>) -> Fixture {
            let server: Shared = Arc::new(Mutex::new(KeyServer {
                keys,
                ..Default::default()
            }));
            let app = Router::new()
                .route("/v1/.well-known/openidconfiguration", get(metadata))
                .route("/keys", get(jwks))
                .with_state(server.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            server.lock().unwrap().base = base.clone();
            tokio::spawn(async move { axum::serve(listener, app).await });
            let config = TeamsConfig {
                app_id: APP_ID.into(),
                app_password: SecretString::from("unused"),
                app_type: AppType::MultiTenant,
                tenant_id: None,
                openid_metadata_url: format!("{base}/v1/.well-known/openidconfiguration"),
                token_url: format!("{base}/token"),
                trusted_service_urls: TrustedUrls::parse(SERVICE_URL).unwrap(),
            };
            let clock = Clock::frozen(monday_morning());
            let auth = BotAuth::new(&config, clock.clone()).unwrap();
            Fixture { server, auth, clock }
        }

        fn claims(&self) -> Value {
            claims_at(self.clock.now())
        }

        async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
            self.auth
                .verify(Some(&format!("Bearer {token}")), Some("msteams"), Some(SERVICE_URL))
                .await
        }

        /// Verifies with key `which` under `kid` and these claims.
        async fn verify_claims(&self, claims: &Value) -> Result<Claims, AuthError> {
            self.verify(&sign("k1", 0, claims)).await
        }

        fn jwks_hits(&self) -> usize {
            self.server.lock().unwrap().jwks_hits
        }

        fn metadata_hits(&self) -> usize {
            self.server.lock().unwrap().metadata_hits
        }
    }

    #[tokio::test]
    async fn a_valid_connector_token_is_accepted_and_its_claims_returned() {
        let f = Fixture::start().await;
        let claims = f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!(claims.issuer, BOT_FRAMEWORK_ISSUER);
        assert_eq!(claims.audience, APP_ID);
        assert_eq!(claims.service_url, SERVICE_URL);
        assert_eq!(claims.expires_at, monday_morning() + chrono::Duration::seconds(3540));
        assert_eq!(f.jwks_hits(), 1);
        // The second token uses the cached keys.
        f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!((f.metadata_hits(), f.jwks_hits()), (1, 1));
    }

    #[tokio::test]
    async fn requests_without_a_bearer_token_are_refused_before_any_key_fetch() {
        let f = Fixture::start().await;
        let r = f.auth.verify(None, Some("msteams"), Some(SERVICE_URL)).await;
        assert!(matches!(r, Err(AuthError::MissingHeader)), "{r:?}");
        for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token"] {
            let r = f.auth.verify(Some(header), Some("msteams"), Some(SERVICE_URL)).await;
            assert!(matches!(r, Err(AuthError::NotBearer)), "{header}: {r:?}");
        }
        for garbage in ["garbage", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"] {
            let r = f.verify(garbage).await;
            assert!(matches!(r, Err(AuthError::Malformed(_))), "{garbage}: {r:?}");
        }
        assert_eq!(f.jwks_hits(), 0);
    }

    #[tokio::test]
    async fn the_scheme_is_matched_case_insensitively() {
        let f = Fixture::start().await;
        let token = sign("k1", 0, &f.claims());
        let r = f
            .auth
            .verify(Some(&format!("bearer {token}")), Some("msteams"), Some(SERVICE_URL))
            .await;
        assert!(r.is_ok(), "{r:?}");
    }

    #[tokio::test]
    async fn an_hs256_token_is_refused_even_when_signed_with_the_public_key_bytes() {
        let f = Fixture::start().await;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let key = EncodingKey::from_secret(KEY_JWKS[0].as_bytes());
        let token = jsonwebtoken::encode(&header, &f.claims(), &key).unwrap();
        let r = f.verify(&token).await;
        assert!(matches!(r, Err(AuthError::WrongAlgorithm(_))), "{r:?}");
    }

    #[tokio::test]
    async fn a_token_without_a_kid_is_refused() {
        let f = Fixture::start().await;
        let key = EncodingKey::from_rsa_pem(KEY_PEMS[0].as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &f.claims(), &key).unwrap();
        let r = f.verify(&token).await;
        assert!(matches!(r, Err(AuthError::MissingKid)), "{r:?}");
    }

    #[tokio::test]
    async fn an_unknown_kid_is_refused_after_exactly_one_refresh() {
        let f = Fixture::start().await;
        f.verify_claims(&f.claims()).await.unwrap();
        let r = f.verify(&sign("nobody-knows", 0, &f.claims())).await;
        assert!(
            matches!(&r, Err(AuthError::UnknownKey { kid }) if kid == "nobody-knows"),
            "{r:?}"
        );
        assert_eq!(f.jwks_hits(), 2);
    }

    #[tokio::test]
    async fn a_tampered_token_fails_its_signature() {
        let f = Fixture::start().await;
        let genuine = sign("k1", 0, &f.claims());
        let mut forged_claims = f.claims();
        forged_claims["serviceurl"] = json!("https://smba.trafficmanager.net/amer/");
        let forged = sign("k1", 0, &forged_claims);
        // The genuine header and signature around the forged payload.
        let g: Vec<&str> = genuine.split('.').collect();
        let p: Vec<&str> = forged.split('.').collect();
        let spliced = format!("{}.{}.{}", g[0], p[1], g[2]);
        let r = f.verify(&spliced).await;
        assert!(matches!(r, Err(AuthError::BadSignature)), "{r:?}");
        // Signed by another key that claims to be k1.
        let r = f.verify(&sign("k1", 1, &f.claims())).await;
        assert!(matches!(r, Err(AuthError::BadSignature)), "{r:?}");
    }

    #[tokio::test]
    async fn the_issuer_must_be_the_bot_framework_and_must_be_present() {
        let f = Fixture::start().await;
        let mut c = f.claims();
        c["iss"] = json!("https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
        let r = f.verify_claims(&c).await;
        assert!(
            matches!(&r, Err(AuthError::WrongIssuer { iss: Some(i) }) if i.starts_with("https://sts.windows.net/")),
            "{r:?}"
        );
        c.as_object_mut().unwrap().remove("iss");
        let r = f.verify_claims(&c).await;
        assert!(matches!(&r, Err(AuthError::MissingClaim(c)) if c == "iss"), "{r:?}");
    }

    #[tokio::test]
    async fn the_audience_must_be_this_bots_app_id() {
        let f = Fixture::start().await;
        let mut c = f.claims();
        c["aud"] = json!("11111111-2222-3333-4444-555555555555");
        assert!(matches!(f.verify_claims(&c).await, Err(AuthError::WrongAudience)));
        c.as_object_mut().unwrap().remove("aud");
        let r = f.verify_claims(&c).await;
        assert!(matches!(&r, Err(AuthError::MissingClaim(c)) if c == "aud"), "{r:?}");
    }

    #[tokio::test]
    async fn expiry_allows_five_minutes_of_skew_and_no_more() {
        let f = Fixture::start().await;
        let now = f.clock.now().timestamp();
        let mut c = f.claims();
        c["exp"] = json!(now - 4 * 60);
        assert!(f.verify_claims(&c).await.is_ok());
        c["exp"] = json!(now - 6 * 60);
        assert!(matches!(f.verify_claims(&c).await, Err(AuthError::Expired)));
        c.as_object_mut().unwrap().remove("exp");
        let r = f.verify_claims(&c).await;
        assert!(matches!(&r, Err(AuthError::MissingClaim(c)) if c == "exp"), "{r:?}");
    }

    #[tokio::test]
    async fn not_before_allows_five_minutes_of_skew_and_no_more() {
        let f = Fixture::start().await;
        let now = f.clock.now().timestamp();
        let mut c = f.claims();
        c["nbf"] = json!(now + 4 * 60);
        assert!(f.verify_claims(&c).await.is_ok());
        c["nbf"] = json!(now + 6 * 60);
        assert!(matches!(f.verify_claims(&c).await, Err(AuthError::NotYetValid)));
        c.as_object_mut().unwrap().remove("nbf");
        let r = f.verify_claims(&c).await;
        assert!(matches!(&r, Err(AuthError::MissingClaim(c)) if c == "nbf"), "{r:?}");
    }

    #[tokio::test]
    async fn time_is_read_from_the_injected_clock() {
        let f = Fixture::start().await;
        let token = sign("k1", 0, &f.claims());
        assert!(f.verify(&token).await.is_ok());
        // An hour and six minutes later the same token is expired, whatever the wall clock says.
        f.clock.advance(chrono::Duration::minutes(66));
        assert!(matches!(f.verify(&token).await, Err(AuthError::Expired)));
    }

    #[tokio::test]
    async fn the_serviceurl_claim_is_required_and_must_match_the_activity() {
        let f = Fixture::start().await;
        let mut c = f.claims();
        c.as_object_mut().unwrap().remove("serviceurl");
        assert!(matches!(
            f.verify_claims(&c).await,
            Err(AuthError::MissingServiceUrlClaim)
        ));

        let token = sign("k1", 0, &f.claims());
        let bearer = format!("Bearer {token}");
        let r = f
            .auth
            .verify(
                Some(&bearer),
                Some("msteams"),
                Some("https://smba.trafficmanager.net/amer/"),
            )
            .await;
        assert!(matches!(r, Err(AuthError::ServiceUrlMismatch { .. })), "{r:?}");
        let r = f.auth.verify(Some(&bearer), Some("msteams"), None).await;
        assert!(matches!(r, Err(AuthError::MissingActivityServiceUrl)), "{r:?}");
        // A trailing slash and ASCII case do not matter.
        for same in [
            "https://smba.trafficmanager.net/emea",
            "HTTPS://SMBA.trafficmanager.net/EMEA/",
        ] {
            let r = f.auth.verify(Some(&bearer), Some("msteams"), Some(same)).await;
            assert!(r.is_ok(), "{same}: {r:?}");
        }
    }

    #[tokio::test]
    async fn an_endorsed_key_only_signs_for_its_channels() {
        let f = Fixture::with_keys(vec![jwk("k1", 0, &["skype", "webchat"]), jwk("k2", 1, &["msteams"])]).await;
        let bearer = format!("Bearer {}", sign("k1", 0, &f.claims()));
        let r = f.auth.verify(Some(&bearer), Some("msteams"), Some(SERVICE_URL)).await;
        assert!(
            matches!(&r, Err(AuthError::NotEndorsed { channel_id: Some(c) }) if c == "msteams"),
            "{r:?}"
        );
        let bearer = format!("Bearer {}", sign("k2", 1, &f.claims()));
        let r = f.auth.verify(Some(&bearer), None, Some(SERVICE_URL)).await;
        assert!(matches!(r, Err(AuthError::NotEndorsed { channel_id: None })), "{r:?}");
        assert!(
            f.auth
                .verify(Some(&bearer), Some("msteams"), Some(SERVICE_URL))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_key_without_endorsements_signs_for_any_channel() {
        let f = Fixture::with_keys(vec![jwk("k1", 0, &[])]).await;
        let bearer = format!("Bearer {}", sign("k1", 0, &f.claims()));
        assert!(
            f.auth
                .verify(Some(&bearer), Some("msteams"), Some(SERVICE_URL))
                .await
                .is_ok()
        );
        assert!(f.auth.verify(Some(&bearer), None, Some(SERVICE_URL)).await.is_ok());
    }

    #[tokio::test]
    async fn a_rotated_key_is_picked_up_with_exactly_one_refresh() {
        let f = Fixture::start().await;
        f.verify_claims(&f.claims()).await.unwrap();
        f.server.lock().unwrap().keys = vec![jwk("k2", 1, &["msteams"])];
        for _ in 0..3 {
            f.verify(&sign("k2", 1, &f.claims())).await.unwrap();
        }
        assert_eq!(f.jwks_hits(), 2);
    }

    #[tokio::test]
    async fn a_storm_of_unknown_kids_refreshes_at_most_once_per_interval() {
        let f = Fixture::start().await;
        f.verify_claims(&f.claims()).await.unwrap();
        let mut storm = tokio::task::JoinSet::new();
        for i in 0..40 {
            let auth = f.auth.clone();
            let bearer = format!("Bearer {}", sign(&format!("random-{i}"), 0, &f.claims()));
            storm.spawn(async move { auth.verify(Some(&bearer), Some("msteams"), Some(SERVICE_URL)).await });
        }
        while let Some(r) = storm.join_next().await {
            assert!(matches!(r.unwrap(), Err(AuthError::UnknownKey { .. })));
        }
        assert_eq!(f.jwks_hits(), 2, "one refresh for the whole storm");
        // Known keys still work meanwhile, without a fetch.
        f.verify_claims(&f.claims()).await.unwrap();
        f.clock.advance(chrono::Duration::minutes(4));
        let _ = f.verify(&sign("random-x", 0, &f.claims())).await;
        assert_eq!(f.jwks_hits(), 2, "still inside the interval");
        f.clock.advance(chrono::Duration::minutes(2));
        let _ = f.verify(&sign("random-y", 0, &f.claims())).await;
        assert_eq!(f.jwks_hits(), 3, "the next interval allows one more");
    }

    #[tokio::test]
    async fn a_cold_start_under_load_fetches_the_keys_once() {
        let f = Fixture::start().await;
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let auth = f.auth.clone();
            let bearer = format!("Bearer {}", sign("k1", 0, &f.claims()));
            burst.spawn(async move { auth.verify(Some(&bearer), Some("msteams"), Some(SERVICE_URL)).await });
        }
        while let Some(r) = burst.join_next().await {
            r.unwrap().unwrap();
        }
        assert_eq!((f.metadata_hits(), f.jwks_hits()), (1, 1));
    }

    #[tokio::test]
    async fn keys_older_than_a_day_are_refreshed_and_kept_when_the_refresh_fails() {
        let f = Fixture::start().await;
        f.verify_claims(&f.claims()).await.unwrap();
        f.clock.advance(chrono::Duration::hours(23));
        f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!(f.jwks_hits(), 1, "23 hours old: still fresh");

        f.clock.advance(chrono::Duration::hours(2));
        f.server.lock().unwrap().fail = true;
        f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!(f.jwks_hits(), 2, "a refresh was tried");
        // The failure backs off instead of retrying on every request.
        f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!(f.jwks_hits(), 2);

        f.server.lock().unwrap().fail = false;
        f.clock.advance(chrono::Duration::seconds(31));
        f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!(f.jwks_hits(), 3, "retried after the back-off, and succeeded");
        f.verify_claims(&f.claims()).await.unwrap();
        assert_eq!(f.jwks_hits(), 3);
    }

    #[tokio::test]
    async fn without_any_keys_every_token_is_refused() {
        let f = Fixture::start().await;
        f.server.lock().unwrap().fail = true;
        let r = f.verify_claims(&f.claims()).await;
        assert!(matches!(r, Err(AuthError::KeysUnavailable)), "{r:?}");
    }

    #[tokio::test]
    async fn errors_never_contain_the_token() {
        let f = Fixture::start().await;
        let mut c = f.claims();
        c["aud"] = json!("someone-else");
        let tokens = [
            sign("k1", 0, &c),
            sign("nope", 0, &f.claims()),
            format!("{}x", sign("k1", 0, &f.claims())),
            "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.bm90IGpzb24.c2ln".to_string(),
        ];
        for token in tokens {
            let err = f.verify(&token).await.unwrap_err();
            let (shown, debug) = (err.to_string(), format!("{err:?}"));
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(!shown.contains(part) && !debug.contains(part), "{shown}");
            }
        }
    }
}
