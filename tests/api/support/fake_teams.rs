//! A fake Microsoft Bot Framework for integration tests: one in-process axum
//! server on `127.0.0.1:0` playing three Microsoft services at once.
//!
//! - **Signing keys** (inbound auth): the OpenID metadata at
//!   [`FakeTeams::openid_metadata_url`], whose `jwks_uri` points back here, and
//!   a JWK set whose keys carry `endorsements: ["msteams"]`. Tokens are signed
//!   with the test-only RSA keys in `tests/fixtures/teams/` by
//!   [`FakeTeams::sign_token`]; [`FakeTeams::add_key`] and
//!   [`FakeTeams::rotate`] change the published keys.
//! - **The token endpoint** (outbound auth) at [`FakeTeams::token_url`]:
//!   counts requests, answers `expires_in`, and can be scripted to fail.
//! - **The Bot Connector** under [`FakeTeams::service_url`]: create
//!   conversation, send, reply, update. Every call is recorded with its
//!   `Authorization` header and JSON body; each message gets a unique
//!   activity id; failures are scripted per route with [`FakeTeams::fail_next`].
//!
//! Point the app's `MICROSOFT_OPENID_METADATA_URL`, `MICROSOFT_TOKEN_URL` and
//! `TEAMS_TRUSTED_SERVICE_URLS` here ([`FakeTeams::teams_config`] does all
//! three), send activities whose `serviceUrl` is [`FakeTeams::service_url`]
//! with a token from [`valid_claims`], then assert on [`FakeTeams::calls_to`]
//! or [`FakeTeams::wait_for`].
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oneonone::config::{AppType, TeamsConfig};
use oneonone::teams::connector::TrustedUrls;
use secrecy::SecretString;
use serde_json::{Value, json};

/// The Bot Connector's issuer, which every inbound token carries.
pub const ISSUER: &str = "https://api.botframework.com";
/// An app id and password for the fake bot registration.
pub const APP_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
pub const APP_PASSWORD: &str = "fake-teams-app-password";
/// The tenant of the fake users.
pub const TENANT_ID: &str = "72f988bf-0000-4000-8000-00000000beef";

/// The two TEST-ONLY RSA key pairs (generated for this repository's tests,
/// never used anywhere else): private halves as PEM, public halves as JWK.
const KEY_PEMS: [&str; 2] = [
    include_str!("../../fixtures/teams/test_rsa_key.pem"),
    include_str!("../../fixtures/teams/test_rsa_key_2.pem"),
];
const KEY_JWKS: [&str; 2] = [
    include_str!("../../fixtures/teams/test_rsa_key.jwk.json"),
    include_str!("../../fixtures/teams/test_rsa_key_2.jwk.json"),
];

/// The Connector operation a call was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST /v3/conversations`
    CreateConversation,
    /// `POST /v3/conversations/{id}/activities`
    Send,
    /// `POST /v3/conversations/{id}/activities/{activityId}`
    Reply,
    /// `PUT /v3/conversations/{id}/activities/{activityId}`
    Update,
}

/// One request the fake Connector received.
#[derive(Clone, Debug)]
pub struct ConnectorCall {
    pub route: Route,
    /// The path as sent, still percent-encoded.
    pub raw_path: String,
    /// The conversation id, decoded (`None` for create-conversation).
    pub conversation_id: Option<String>,
    /// The activity id in the path, decoded (reply and update).
    pub activity_id: Option<String>,
    /// The whole `Authorization` header, e.g. `Bearer fake-token-1`.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

struct ScriptedFailure {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

/// A published signing key: its kid and which test key pair it uses.
#[derive(Clone)]
struct PublishedKey {
    kid: String,
    pair: usize,
}

struct Inner {
    base_url: String,
    keys: Vec<PublishedKey>,
    signing: PublishedKey,
    endorsements: Vec<String>,
    key_failures: VecDeque<StatusCode>,
    metadata_requests: usize,
    jwks_requests: usize,
    token_forms: Vec<Value>,
    token_failures: VecDeque<ScriptedFailure>,
    expires_in: u64,
    calls: Vec<ConnectorCall>,
    failures: HashMap<Route, VecDeque<ScriptedFailure>>,
    /// Counts issued keys and activity ids, so each is unique.
    serial: u64,
}

struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    /// A poisoned lock only means another request panicked mid-update; the
    /// recorded data is still the best we have, so keep serving it.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct FakeTeams {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTeams {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTeams {
    pub async fn start() -> FakeTeams {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Teams binds a loopback port");
        let addr = listener.local_addr().expect("fake Teams has a local address");
        let base_url = format!("http://{addr}");
        let first = PublishedKey {
            kid: "test-key-1".to_owned(),
            pair: 0,
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                base_url: base_url.clone(),
                keys: vec![first.clone()],
                signing: first,
                endorsements: vec!["msteams".to_owned()],
                key_failures: VecDeque::new(),
                metadata_requests: 0,
                jwks_requests: 0,
                token_forms: Vec::new(),
                token_failures: VecDeque::new(),
                expires_in: 3600,
                calls: Vec::new(),
                failures: HashMap::new(),
                serial: 1,
            }),
        });
        let app = Router::new()
            .route("/v1/.well-known/openidconfiguration", get(metadata))
            .route("/v1/.well-known/keys", get(jwks))
            .route("/oauth2/v2.0/token", post(token))
            .route("/teams/v3/conversations", post(create_conversation))
            .route("/teams/v3/conversations/{conversation}/activities", post(send))
            .route(
                "/teams/v3/conversations/{conversation}/activities/{activity}",
                post(reply).put(update),
            )
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("fake Teams stopped: {err}");
            }
        });
        FakeTeams {
            base_url,
            shared,
            server,
        }
    }

    /// `MICROSOFT_OPENID_METADATA_URL` for this fake.
    pub fn openid_metadata_url(&self) -> String {
        format!("{}/v1/.well-known/openidconfiguration", self.base_url)
    }

    /// `MICROSOFT_TOKEN_URL` for this fake.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v2.0/token", self.base_url)
    }

    /// The `serviceUrl` of activities from this fake (trusted by [`FakeTeams::teams_config`]).
    pub fn service_url(&self) -> String {
        format!("{}/teams/", self.base_url)
    }

    /// A Teams configuration pointing every URL at this fake.
    pub fn teams_config(&self) -> TeamsConfig {
        TeamsConfig {
            app_id: APP_ID.to_owned(),
            app_password: SecretString::from(APP_PASSWORD),
            app_type: AppType::SingleTenant,
            tenant_id: Some(TENANT_ID.to_owned()),
            openid_metadata_url: self.openid_metadata_url(),
            token_url: self.token_url(),
            trusted_service_urls: TrustedUrls::parse(&self.service_url()).expect("the fake's URL is trusted"),
        }
    }

    // --- signing keys -------------------------------------------------------

    /// The kid that [`FakeTeams::sign_token`] signs with.
    pub fn kid(&self) -> String {
        self.shared.lock().signing.kid.clone()
    }

    /// Signs `claims` (RS256) with the current signing key.
    pub fn sign_token(&self, claims: &Value) -> String {
        let signing = self.shared.lock().signing.clone();
        sign(&signing.kid, signing.pair, claims)
    }

    /// Signs `claims` with a given kid and key pair (0 or 1), published or
    /// not: for unknown-kid and wrong-key tests.
    pub fn sign_token_as(&self, kid: &str, pair: usize, claims: &Value) -> String {
        sign(kid, pair % 2, claims)
    }

    /// Publishes a new key next to the old ones and signs with it from now
    /// on; returns its kid.
    pub fn add_key(&self) -> String {
        let mut inner = self.shared.lock();
        let key = next_key(&mut inner);
        inner.keys.push(key.clone());
        inner.signing = key.clone();
        key.kid
    }

    /// Replaces every published key with a new one and signs with it from now
    /// on; returns its kid. Tokens signed before stop verifying once the
    /// verifier refreshes.
    pub fn rotate(&self) -> String {
        let mut inner = self.shared.lock();
        let key = next_key(&mut inner);
        inner.keys = vec![key.clone()];
        inner.signing = key.clone();
        key.kid
    }

    /// The channels every published key is endorsed for (default `["msteams"]`;
    /// empty publishes keys without endorsements).
    pub fn set_endorsements(&self, channels: &[&str]) {
        self.shared.lock().endorsements = channels.iter().map(|c| (*c).to_owned()).collect();
    }

    /// The next request for the key set answers `status` (queued).
    pub fn fail_keys_next(&self, status: u16) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status");
        self.shared.lock().key_failures.push_back(status);
    }

    /// Requests for the OpenID metadata so far.
    pub fn metadata_requests(&self) -> usize {
        self.shared.lock().metadata_requests
    }

    /// Requests for the key set so far.
    pub fn jwks_requests(&self) -> usize {
        self.shared.lock().jwks_requests
    }

    // --- token endpoint -----------------------------------------------------

    /// Token requests so far.
    pub fn token_requests(&self) -> usize {
        self.shared.lock().token_forms.len()
    }

    /// The form of every token request, as JSON objects of strings.
    pub fn token_forms(&self) -> Vec<Value> {
        self.shared.lock().token_forms.clone()
    }

    /// The `expires_in` of tokens issued from now on (default 3600).
    pub fn set_token_expires_in(&self, secs: u64) {
        self.shared.lock().expires_in = secs;
    }

    /// The next token request gets this answer (queued), e.g.
    /// `fail_token_next(401, json!({"error": "invalid_client", "error_description": "AADSTS7000215: …"}))`.
    pub fn fail_token_next(&self, status: u16, body: Value) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status");
        self.shared.lock().token_failures.push_back(ScriptedFailure {
            status,
            body,
            retry_after: None,
        });
    }

    // --- connector ----------------------------------------------------------

    /// Every Connector call so far, in order.
    pub fn calls(&self) -> Vec<ConnectorCall> {
        self.shared.lock().calls.clone()
    }

    /// The Connector calls of one kind.
    pub fn calls_to(&self, route: Route) -> Vec<ConnectorCall> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.route == route)
            .cloned()
            .collect()
    }

    /// Waits up to 5 s for at least `n` calls of `route` and returns them
    /// all; panics listing what was seen if they do not come.
    pub async fn wait_for(&self, route: Route, n: usize) -> Vec<ConnectorCall> {
        let limit = Duration::from_secs(5);
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let calls = self.calls_to(route);
            if calls.len() >= n {
                return calls;
            }
            if tokio::time::Instant::now() >= deadline {
                let seen: Vec<String> = self
                    .calls()
                    .iter()
                    .map(|c| format!("  {:?} {} {}", c.route, c.raw_path, c.body))
                    .collect();
                panic!(
                    "fake Teams: waited {limit:?} for {n} {route:?} call(s), got {}; all calls:\n{}",
                    calls.len(),
                    if seen.is_empty() {
                        "  (none)".to_owned()
                    } else {
                        seen.join("\n")
                    }
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next call of `route` gets this answer instead of the normal one
    /// (queued: calling this twice scripts the next two calls). For example
    /// `fail_next(Route::Send, 429, json!({"error": {"code": "Throttled", "message": "slow down"}}), Some(3))`
    /// or `fail_next(Route::CreateConversation, 403, json!({"error": {"code": "ForbiddenOperationException", "message": "Bot is not installed in user's personal scope"}}), None)`.
    pub fn fail_next(&self, route: Route, status: u16, body: Value, retry_after: Option<u64>) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status");
        self.shared
            .lock()
            .failures
            .entry(route)
            .or_default()
            .push_back(ScriptedFailure {
                status,
                body,
                retry_after,
            });
    }
}

/// Claims the Bot Connector would send for an activity posted at `now`:
/// issuer, audience `app_id`, `serviceurl`, `nbf` a minute ago, `exp` in 59
/// minutes. Change or remove fields to build invalid tokens.
pub fn valid_claims(app_id: &str, service_url: &str, now: DateTime<Utc>) -> Value {
    json!({
        "iss": ISSUER,
        "aud": app_id,
        "serviceurl": service_url,
        "nbf": now.timestamp() - 60,
        "exp": now.timestamp() + 3540,
    })
}

fn sign(kid: &str, pair: usize, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(KEY_PEMS[pair].as_bytes()).expect("the test key parses");
    jsonwebtoken::encode(&header, claims, &key).expect("the test key signs")
}

/// A new kid, on the other key pair than the current signing key.
fn next_key(inner: &mut Inner) -> PublishedKey {
    inner.serial += 1;
    PublishedKey {
        kid: format!("test-key-{}", inner.serial),
        pair: (inner.signing.pair + 1) % 2,
    }
}

fn jwk(key: &PublishedKey, endorsements: &[String]) -> Value {
    let mut jwk: Value = serde_json::from_str(KEY_JWKS[key.pair]).expect("the test JWK parses");
    jwk["kid"] = json!(key.kid);
    if !endorsements.is_empty() {
        jwk["endorsements"] = json!(endorsements);
    }
    jwk
}

async fn metadata(State(shared): State<Arc<Shared>>) -> Response {
    let mut inner = shared.lock();
    inner.metadata_requests += 1;
    json_response(
        StatusCode::OK,
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": format!("{}/v1/.well-known/keys", inner.base_url),
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }),
    )
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    let mut inner = shared.lock();
    inner.jwks_requests += 1;
    if let Some(status) = inner.key_failures.pop_front() {
        return json_response(status, json!({}));
    }
    let keys: Vec<Value> = inner.keys.iter().map(|k| jwk(k, &inner.endorsements)).collect();
    json_response(StatusCode::OK, json!({ "keys": keys }))
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let form = Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    let mut inner = shared.lock();
    inner.token_forms.push(form.clone());
    if let Some(failure) = inner.token_failures.pop_front() {
        return json_response(failure.status, failure.body);
    }
    if form["grant_type"] != "client_credentials" || form["scope"] != "https://api.botframework.com/.default" {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "AADSTS900144: bad grant or scope"}),
        );
    }
    if form["client_id"] != APP_ID || form["client_secret"] != APP_PASSWORD {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
        );
    }
    let n = inner.token_forms.len();
    json_response(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "expires_in": inner.expires_in,
            "ext_expires_in": inner.expires_in,
            "access_token": format!("fake-token-{n}"),
        }),
    )
}

async fn create_conversation(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body = json_body(&body);
    // Idempotent per user, like the real one: the same member, the same id.
    let id = body["members"][0]["id"]
        .as_str()
        .map(|m| format!("a:1{}", m.trim_start_matches("29:")));
    record(
        &shared,
        Route::CreateConversation,
        uri,
        headers,
        None,
        None,
        body,
        |_| match id {
            Some(id) => (StatusCode::CREATED, json!({ "id": id })),
            None => (
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": "BadSyntax", "message": "exactly one member is required"}}),
            ),
        },
    )
}

async fn send(
    State(shared): State<Arc<Shared>>,
    Path(conversation): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(
        &shared,
        Route::Send,
        uri,
        headers,
        Some(conversation),
        None,
        json_body(&body),
        |inner| (StatusCode::CREATED, json!({ "id": next_activity_id(inner) })),
    )
}

async fn reply(
    State(shared): State<Arc<Shared>>,
    Path((conversation, activity)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(
        &shared,
        Route::Reply,
        uri,
        headers,
        Some(conversation),
        Some(activity),
        json_body(&body),
        |inner| (StatusCode::CREATED, json!({ "id": next_activity_id(inner) })),
    )
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((conversation, activity)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = activity.clone();
    record(
        &shared,
        Route::Update,
        uri,
        headers,
        Some(conversation),
        Some(activity),
        json_body(&body),
        |_| (StatusCode::OK, json!({ "id": id })),
    )
}

/// Records the call, then answers it: a scripted failure if one is queued,
/// else what `ok` says.
#[allow(clippy::too_many_arguments)]
fn record(
    shared: &Shared,
    route: Route,
    uri: Uri,
    headers: HeaderMap,
    conversation_id: Option<String>,
    activity_id: Option<String>,
    body: Value,
    ok: impl FnOnce(&mut Inner) -> (StatusCode, Value),
) -> Response {
    let mut inner = shared.lock();
    inner.calls.push(ConnectorCall {
        route,
        raw_path: uri.path().to_owned(),
        conversation_id,
        activity_id,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
    });
    if let Some(failure) = inner.failures.get_mut(&route).and_then(VecDeque::pop_front) {
        let mut res = json_response(failure.status, failure.body);
        if let Some(secs) = failure.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return res;
    }
    let (status, body) = ok(&mut inner);
    json_response(status, body)
}

/// Unique, increasing activity ids in the shape Teams uses in personal chats
/// (a millisecond timestamp).
fn next_activity_id(inner: &mut Inner) -> String {
    inner.serial += 1;
    (1_764_489_600_000u64 + inner.serial).to_string()
}

fn json_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| json!({"unparsed_body": String::from_utf8_lossy(bytes)}))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// The fake checked against the real verifier and client, so a test failing
/// elsewhere is not the fake's fault.
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use oneonone::clock::Clock;
    use oneonone::teams::auth::{AuthError, BotAuth};
    use oneonone::teams::connector::{Connector, ConnectorError};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
    }

    async fn verify(auth: &BotAuth, fake: &FakeTeams, token: &str) -> Result<(), AuthError> {
        auth.verify(
            Some(&format!("Bearer {token}")),
            Some("msteams"),
            Some(&fake.service_url()),
        )
        .await
        .map(drop)
    }

    #[tokio::test]
    async fn fake_teams_tokens_verify_and_a_rotation_costs_one_refresh() {
        let fake = FakeTeams::start().await;
        let clock = Clock::frozen(now());
        let auth = BotAuth::new(&fake.teams_config(), clock.clone()).unwrap();
        let claims = valid_claims(APP_ID, &fake.service_url(), now());
        verify(&auth, &fake, &fake.sign_token(&claims)).await.unwrap();
        assert_eq!((fake.metadata_requests(), fake.jwks_requests()), (1, 1));

        let old = fake.sign_token(&claims);
        fake.rotate();
        verify(&auth, &fake, &fake.sign_token(&claims)).await.unwrap();
        assert_eq!(fake.jwks_requests(), 2);
        // The old key is gone from the set now.
        assert!(matches!(
            verify(&auth, &fake, &old).await,
            Err(AuthError::UnknownKey { .. })
        ));

        // Unknown kids refresh at most once per five minutes.
        clock.advance(chrono::Duration::minutes(6));
        fake.add_key();
        fake.set_endorsements(&["webchat"]);
        let r = verify(&auth, &fake, &fake.sign_token(&claims)).await;
        assert!(matches!(r, Err(AuthError::NotEndorsed { .. })), "{r:?}");
    }

    #[tokio::test]
    async fn fake_teams_records_connector_calls_and_scripts_failures() {
        let fake = FakeTeams::start().await;
        let connector = Connector::new(&fake.teams_config(), Clock::frozen(now())).unwrap();
        let url = fake.service_url();
        let conversation = connector
            .create_conversation(&url, TENANT_ID, "29:1aUserIdOfMaria")
            .await
            .unwrap();
        assert_eq!(conversation, "a:11aUserIdOfMaria");
        let first = connector
            .send(&url, &conversation, &json!({"type": "message", "text": "hi"}))
            .await
            .unwrap();
        let second = connector
            .reply(
                &url,
                &conversation,
                &first,
                &json!({"type": "message", "text": "again"}),
            )
            .await
            .unwrap();
        assert_ne!(first, second);
        connector
            .update(
                &url,
                &conversation,
                &first,
                &json!({"type": "message", "text": "edited"}),
            )
            .await
            .unwrap();

        let sent = fake.wait_for(Route::Send, 1).await;
        assert_eq!(sent[0].conversation_id.as_deref(), Some("a:11aUserIdOfMaria"));
        assert_eq!(
            sent[0].raw_path,
            "/teams/v3/conversations/a%3A11aUserIdOfMaria/activities"
        );
        assert_eq!(sent[0].authorization.as_deref(), Some("Bearer fake-token-1"));
        assert_eq!(
            fake.calls_to(Route::Update)[0].activity_id.as_deref(),
            Some(first.as_str())
        );
        assert_eq!(fake.token_requests(), 1);
        assert_eq!(fake.token_forms()[0]["client_id"], APP_ID);

        fake.fail_next(
            Route::Send,
            429,
            json!({"error": {"code": "Throttled", "message": "slow down"}}),
            Some(3),
        );
        let err = connector
            .send(&url, &conversation, &json!({"type": "message"}))
            .await
            .unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));

        fake.fail_next(Route::Send, 401, json!({}), None);
        connector
            .send(&url, &conversation, &json!({"type": "message"}))
            .await
            .unwrap();
        assert_eq!(fake.token_requests(), 2, "a 401 forces one new token");

        fake.fail_token_next(401, json!({"error": "invalid_client"}));
        fake.fail_next(Route::Send, 401, json!({}), None);
        let err = connector
            .send(&url, &conversation, &json!({"type": "message"}))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectorError::TokenRejected { status: 401, .. }),
            "{err:?}"
        );
    }
}
