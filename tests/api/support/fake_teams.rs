//! A fake Microsoft Bot Framework for integration tests: one in-process axum
//! server on `127.0.0.1:0` serving the OpenID metadata and signing keys (the
//! test's own RSA key, endorsed for `msteams`), the token endpoint, and the
//! Bot Connector REST API, recording every Connector call with its bearer
//! token. Tokens for inbound activities are signed with [`FakeTeams::token`].
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

pub const APP_ID: &str = "00000000-0000-0000-0000-00000000b0t1";
pub const BOT_ID: &str = "28:00000000-0000-0000-0000-00000000b0t1";
pub const TENANT: &str = "00000000-0000-0000-0000-0000000000t1";
pub const APP_PASSWORD: &str = "test-app-password-0123456789";
const KID: &str = "test-key-1";

/// One Connector request.
#[derive(Clone, Debug)]
pub struct ConnectorCall {
    pub method: String,
    /// The raw path under the service URL, e.g. `/v3/conversations/a%3Ax/activities`.
    pub path: String,
    pub token: Option<String>,
    pub body: Value,
}

struct Scripted {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

#[derive(Default)]
struct Inner {
    calls: Vec<ConnectorCall>,
    token_requests: Vec<HashMap<String, String>>,
    failures: VecDeque<(String, Scripted)>,
    serial: u64,
}

struct Shared {
    inner: Mutex<Inner>,
    addr: std::net::SocketAddr,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct FakeTeams {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
    key: jsonwebtoken::EncodingKey,
}

impl Drop for FakeTeams {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/teams/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl FakeTeams {
    pub async fn start() -> FakeTeams {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Teams binds a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            addr,
        });
        let app = Router::new()
            .route("/openid", get(openid))
            .route("/keys", get(keys))
            .route("/token", post(token))
            .route("/connector/{*path}", any(connector))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let key =
            jsonwebtoken::EncodingKey::from_rsa_pem(fixture("test_rsa_key.pem").as_bytes()).expect("the test RSA key");
        FakeTeams { shared, server, key }
    }

    fn base(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/openid", self.base())
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.base())
    }

    /// The service URL activities carry (trusted in the test configuration).
    pub fn service_url(&self) -> String {
        format!("{}/connector/", self.base())
    }

    /// A valid Bot Connector token for an activity from `service_url` at `now`.
    pub fn token(&self, service_url: &str, now: chrono::DateTime<chrono::Utc>) -> String {
        self.token_with(json!({
            "iss": "https://api.botframework.com",
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now.timestamp() - 60,
            "exp": now.timestamp() + 3600,
        }))
    }

    pub fn token_with(&self, claims: Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(KID.into());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("sign a test token")
    }

    pub fn calls(&self) -> Vec<ConnectorCall> {
        self.shared.lock().calls.clone()
    }

    /// Connector calls that post a message (send, reply) or update one.
    pub fn messages(&self) -> Vec<ConnectorCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.path.contains("/activities"))
            .collect()
    }

    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.shared.lock().token_requests.clone()
    }

    /// Waits up to 5 s for at least `n` message calls and returns them all.
    pub async fn wait_for_messages(&self, n: usize) -> Vec<ConnectorCall> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let calls = self.messages();
            if calls.len() >= n {
                return calls;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "fake Teams: waited for {n} message(s), got {}: {:#?}",
                calls.len(),
                self.calls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next Connector call whose path contains `path_part` gets this answer.
    pub fn fail_next(&self, path_part: &str, status: u16, body: Value, retry_after: Option<u64>) {
        self.shared.lock().failures.push_back((
            path_part.to_string(),
            Scripted {
                status: StatusCode::from_u16(status).expect("a status"),
                body,
                retry_after,
            },
        ));
    }
}

async fn openid(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({
        "issuer": "https://api.botframework.com",
        "jwks_uri": format!("http://{}/keys", shared.addr),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

async fn keys() -> Response {
    let mut jwk: Value = serde_json::from_str(&fixture("test_rsa_key.jwk.json")).expect("the test JWK");
    jwk["kid"] = json!(KID);
    jwk["endorsements"] = json!(["msteams"]);
    axum::Json(json!({ "keys": [jwk] })).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let mut inner = shared.lock();
    inner.token_requests.push(form);
    let n = inner.token_requests.len();
    axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": 3600,
        "ext_expires_in": 3600,
        "access_token": format!("fake-connector-token-{n}"),
    }))
    .into_response()
}

async fn connector(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The raw path, as the client encoded it (ids are percent-encoded).
    let path = uri.path().strip_prefix("/connector").unwrap_or(uri.path()).to_string();
    let call = ConnectorCall {
        method: method.to_string(),
        path: path.clone(),
        token: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let mut inner = shared.lock();
    inner.calls.push(call.clone());
    if let Some(i) = inner.failures.iter().position(|(p, _)| path.contains(p.as_str())) {
        let (_, f) = inner.failures.remove(i).expect("a scripted failure");
        let mut res = (f.status, axum::Json(f.body)).into_response();
        if let Some(secs) = f.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return res;
    }
    inner.serial += 1;
    let serial = inner.serial;
    if path == "/v3/conversations" {
        let user = call
            .body
            .pointer("/members/0/id")
            .and_then(Value::as_str)
            .unwrap_or("nobody");
        return axum::Json(json!({ "id": format!("a:conv-{user}") })).into_response();
    }
    if method == Method::PUT {
        let id = path.rsplit('/').next().unwrap_or_default().to_string();
        return axum::Json(json!({ "id": id })).into_response();
    }
    axum::Json(json!({ "id": format!("17643200{serial:05}") })).into_response()
}
