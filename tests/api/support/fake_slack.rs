//! A fake Slack Web API for integration tests: an in-process axum server on
//! `127.0.0.1:0` that answers in Slack's wire format and records every call.
//!
//! Point the app's `SLACK_API_URL` at [`FakeSlack::base_url`], hand out
//! [`FakeSlack::response_url`] in signed command payloads, then assert on
//! [`FakeSlack::calls_to`] / [`FakeSlack::wait_for`]. Failures are scripted
//! per method with [`FakeSlack::fail_next`].
//!
//! OAuth: `/oauth/v2/authorize` plays the person who approves the install
//! (or cancels it, [`FakeSlack::cancel_next_authorize`]) and sends the
//! browser back with a code; `oauth.v2.access` exchanges codes and refresh
//! tokens like Slack (POST only, Basic auth with [`CLIENT_ID`] and
//! [`CLIENT_SECRET`], form body; each refresh token works once), and
//! `auth.test` answers for whichever team a token was issued to.
//!
//! Two details real clients depend on (see the Slack reference, §0): every
//! answer is `Content-Type: application/json` (slack-morphism treats anything
//! else as `{}`), and views carry `id`, `team_id` and `hash`, which
//! slack-morphism's `SlackStatefulView` requires.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use chrono::Offset;
use serde_json::{Map, Value, json};

/// The team every fake user and view belongs to (matches the fixtures).
pub const TEAM_ID: &str = "T0AAAAAAA";
/// The bot's own ids, as `auth.test` and posted messages report them.
pub const BOT_USER_ID: &str = "U0ONEONBOT";
pub const BOT_ID: &str = "B0ONEONBOT";
/// The app's OAuth credentials, as the fake expects them.
pub const CLIENT_ID: &str = "1111111111.2222222222";
pub const CLIENT_SECRET: &str = "fake-client-secret-0123456789";
/// The app id `oauth.v2.access` reports.
pub const APP_ID: &str = "A0APPID001";

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Call {
    /// The Web API method (`chat.postMessage`), or `response_url`.
    pub method: String,
    /// The bearer token, if the request carried one.
    pub token: Option<String>,
    /// The JSON body, or the form/query parameters as a JSON object of strings.
    pub body: Value,
    /// `GET`, `POST`, …
    pub http_method: String,
    /// `user:password` of a Basic `Authorization`, decoded.
    pub basic_auth: Option<String>,
    /// The request's `Content-Type`.
    pub content_type: Option<String>,
}

struct ScriptedFailure {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

/// Slack's limits on `chat.postMessage`, as a sliding-window model: about one
/// message a second per channel with short bursts, and several hundred a
/// minute per workspace.
struct RateLimits {
    clock: oneonone::clock::Clock,
    /// Per channel: at most this many in any one second.
    per_channel_per_second: usize,
    /// Per workspace: at most this many in any one second, and in any minute.
    per_workspace_per_second: usize,
    per_workspace_per_minute: usize,
    channels: HashMap<String, VecDeque<chrono::DateTime<chrono::Utc>>>,
    workspace: VecDeque<chrono::DateTime<chrono::Utc>>,
    /// Calls answered with 429.
    refused: usize,
}

impl RateLimits {
    /// `Some(retry_after_seconds)` when this call breaks a limit; else counts it.
    fn check(&mut self, channel: &str) -> Option<u64> {
        let now = self.clock.now();
        let second = now - chrono::Duration::seconds(1);
        let minute = now - chrono::Duration::seconds(60);
        let ch = self.channels.entry(channel.to_owned()).or_default();
        while ch.front().is_some_and(|t| *t <= second) {
            ch.pop_front();
        }
        while self.workspace.front().is_some_and(|t| *t <= minute) {
            self.workspace.pop_front();
        }
        let in_last_second = self.workspace.iter().filter(|t| **t > second).count();
        let wait_until = if ch.len() >= self.per_channel_per_second {
            ch.front().map(|t| *t + chrono::Duration::seconds(1))
        } else if in_last_second >= self.per_workspace_per_second {
            self.workspace
                .iter()
                .find(|t| **t > second)
                .map(|t| *t + chrono::Duration::seconds(1))
        } else if self.workspace.len() >= self.per_workspace_per_minute {
            self.workspace.front().map(|t| *t + chrono::Duration::seconds(60))
        } else {
            None
        };
        if let Some(until) = wait_until {
            self.refused += 1;
            let secs = (until - now).num_milliseconds().max(0) as u64;
            return Some(secs.div_ceil(1000).max(1));
        }
        ch.push_back(now);
        self.workspace.push_back(now);
        None
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// Methods whose calls are recorded and then never answered.
    stalled: std::collections::HashSet<String>,
    /// Methods answered only after a delay (a slow Slack).
    delays: HashMap<String, Duration>,
    limits: Option<RateLimits>,
    users: HashMap<String, Value>,
    failures: HashMap<String, VecDeque<ScriptedFailure>>,
    /// Counts issued message timestamps and view ids, so each is unique.
    serial: u64,
    oauth: OAuthState,
}

/// One install the next consent will grant.
#[derive(Clone, Debug)]
pub struct Grant {
    pub team_id: String,
    pub team_name: String,
    /// With token rotation: the access token's lifetime in seconds.
    pub expires_in: Option<i64>,
    pub enterprise_install: bool,
}

#[derive(Default)]
struct OAuthState {
    /// What the next consents grant, in order (then a default).
    next: VecDeque<Grant>,
    cancel_next: bool,
    /// Issued, unused codes: the grant and the redirect_uri they were issued for.
    codes: HashMap<String, (Grant, String)>,
    /// Every access token ever issued, with its team.
    access: HashMap<String, String>,
    /// Live refresh tokens (each works once) and their grant.
    refresh: HashMap<String, Grant>,
    /// The newest access token per team.
    latest: HashMap<String, String>,
    issued: u64,
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

pub struct FakeSlack {
    /// `http://127.0.0.1:PORT/api/`
    pub base_url: String,
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route("/api/{method}", any(api))
            .route("/hooks/{id}", post(hook))
            .route("/oauth/v2/authorize", axum::routing::get(authorize))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Slack binds a loopback port");
        let addr = listener.local_addr().expect("fake Slack has a local address");
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("fake Slack stopped: {err}");
            }
        });
        FakeSlack {
            base_url: format!("http://{addr}/api/"),
            addr,
            shared,
            server,
        }
    }

    /// Registers a user that `users.info` knows. `name` becomes the display
    /// and real name; the handle is its first word, lowercased.
    pub fn add_user(&self, id: &str, name: &str, tz: &str, email: &str) {
        let handle = name.split_whitespace().next().unwrap_or(id).to_lowercase();
        let offset = tz
            .parse::<chrono_tz::Tz>()
            .map(|z| chrono::Utc::now().with_timezone(&z).offset().fix().local_minus_utc())
            .unwrap_or(0);
        self.add_user_object(json!({
            "id": id,
            "team_id": TEAM_ID,
            "name": handle,
            "real_name": name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": offset,
            "deleted": false,
            "is_bot": false,
            "is_admin": false,
            "is_app_user": false,
            "updated": 1_764_300_000,
            "profile": {
                "display_name": name,
                "display_name_normalized": name,
                "real_name": name,
                "real_name_normalized": name,
                "email": email,
                "team": TEAM_ID,
            },
        }));
    }

    /// Registers a user object exactly as given (it must have an `"id"`), for
    /// bots, deactivated users or users without a zone.
    pub fn add_user_object(&self, user: Value) {
        let id = user["id"].as_str().expect("a Slack user object has an id").to_owned();
        self.shared.lock().users.insert(id, user);
    }

    /// Slack's consent page on this fake (what the app derives from its
    /// `SLACK_API_URL`).
    pub fn authorize_url(&self) -> String {
        format!("http://{}/oauth/v2/authorize", self.addr)
    }

    /// The next consent grants an install into this workspace (without this,
    /// `T0BBBBBBB` "Second Workspace", no rotation).
    pub fn next_install(&self, grant: Grant) {
        self.shared.lock().oauth.next.push_back(grant);
    }

    /// The next consent is cancelled by the person (`error=access_denied`).
    pub fn cancel_next_authorize(&self) {
        self.shared.lock().oauth.cancel_next = true;
    }

    /// The newest bot token issued to `team_id`, if any.
    pub fn bot_token_of(&self, team_id: &str) -> Option<String> {
        self.shared.lock().oauth.latest.get(team_id).cloned()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The calls to one method (`chat.postMessage`, `response_url`, …).
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits up to 5 s for at least `n` calls to `method` and returns them
    /// all; panics listing what was seen if they do not come.
    pub async fn wait_for(&self, method: &str, n: usize) -> Vec<Call> {
        self.wait_for_within(method, n, Duration::from_secs(5)).await
    }

    /// Every call so far, a line each, for a failing wait's message.
    fn listing(&self) -> String {
        let seen: Vec<String> = self
            .calls()
            .iter()
            .map(|c| format!("  {} {}", c.method, c.body))
            .collect();
        if seen.is_empty() {
            "  (none)".to_owned()
        } else {
            seen.join("\n")
        }
    }

    /// Waits up to 5 s for a call to `method` that `matches` accepts and
    /// returns it. Use it instead of [`FakeSlack::wait_for`] with a count when
    /// other calls to the same method may arrive in any order (work done
    /// after the answer runs in the background).
    pub async fn wait_for_match(&self, method: &str, matches: impl Fn(&Call) -> bool) -> Call {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(c) = self.calls_to(method).into_iter().find(|c| matches(c)) {
                return c;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "fake Slack: waited 5 s for a matching call to {method}; all calls:\n{}",
                    self.listing()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// [`FakeSlack::wait_for`] with a chosen limit.
    pub async fn wait_for_within(&self, method: &str, n: usize, limit: Duration) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let calls = self.calls_to(method);
            if calls.len() >= n {
                return calls;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "fake Slack: waited {limit:?} for {n} call(s) to {method}, got {}; all calls:\n{}",
                    calls.len(),
                    self.listing()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next call to `method` gets this answer instead of the normal one
    /// (queued: calling this twice scripts the next two calls). For example
    /// `fail_next("chat.postMessage", 429, json!({"ok":false,"error":"ratelimited"}), Some(3))`
    /// or `fail_next("chat.postMessage", 200, json!({"ok":false,"error":"channel_not_found"}), None)`.
    pub fn fail_next(&self, method: &str, status: u16, body: Value, retry_after: Option<u64>) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status");
        self.shared
            .lock()
            .failures
            .entry(method.to_owned())
            .or_default()
            .push_back(ScriptedFailure {
                status,
                body,
                retry_after,
            });
    }

    /// From now on `chat.postMessage` enforces Slack's rate limits on
    /// `clock`'s time (the app's clock): more than 2 messages into one channel
    /// in a second, or into the workspace more than 20 in a second or 300 in a
    /// minute, is answered with 429 and a Retry-After, like Slack does.
    pub fn enforce_rate_limits(&self, clock: oneonone::clock::Clock) {
        self.shared.lock().limits = Some(RateLimits {
            clock,
            per_channel_per_second: 2,
            per_workspace_per_second: 20,
            per_workspace_per_minute: 300,
            channels: HashMap::new(),
            workspace: VecDeque::new(),
            refused: 0,
        });
    }

    /// Calls to `method` are recorded and then never answered, until
    /// [`FakeSlack::unstall`] (calls already waiting stay unanswered).
    pub fn stall(&self, method: &str) {
        self.shared.lock().stalled.insert(method.to_owned());
    }

    /// Calls to `method` are answered after `delay`.
    pub fn delay(&self, method: &str, delay: Duration) {
        self.shared.lock().delays.insert(method.to_owned(), delay);
    }

    pub fn unstall(&self, method: &str) {
        self.shared.lock().stalled.remove(method);
    }

    /// How many calls the rate limits refused with 429.
    pub fn rate_limited(&self) -> usize {
        self.shared.lock().limits.as_ref().map_or(0, |l| l.refused)
    }

    /// A `response_url` on this fake; posts to it are recorded as method
    /// `response_url` (with `"response_url_id": id` added to the body).
    pub fn response_url(&self, id: &str) -> String {
        format!("http://{}/hooks/{id}", self.addr)
    }
}

async fn api(
    http_method: axum::http::Method,
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        token: bearer(&headers),
        body: request_params(&headers, query.as_deref(), &body),
        method,
        http_method: http_method.to_string(),
        basic_auth: basic(&headers),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let delay = shared.lock().delays.get(&call.method).copied();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let stalled = {
        let mut inner = shared.lock();
        let stalled = inner.stalled.contains(&call.method);
        if stalled {
            inner.calls.push(call.clone());
        }
        stalled
    };
    if stalled {
        // Like a Slack that accepted the connection and never answered.
        return std::future::pending().await;
    }
    answer(&shared, call)
}

async fn hook(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let mut body = request_params(&headers, None, &body);
    if let Value::Object(map) = &mut body {
        map.insert("response_url_id".to_owned(), Value::String(id));
    }
    let call = Call {
        method: "response_url".to_owned(),
        token: bearer(&headers),
        body,
        http_method: "POST".to_owned(),
        basic_auth: None,
        content_type: None,
    };
    answer(&shared, call)
}

/// Records the call, then answers it: a scripted failure if one is queued,
/// else the method's normal answer.
fn answer(shared: &Shared, call: Call) -> Response {
    let mut inner = shared.lock();
    inner.calls.push(call.clone());
    if let Some(failure) = inner.failures.get_mut(&call.method).and_then(VecDeque::pop_front) {
        let mut res = json_response(failure.status, failure.body);
        if let Some(secs) = failure.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return res;
    }
    if call.method == "chat.postMessage"
        && let Some(limits) = inner.limits.as_mut()
        && let Some(secs) = limits.check(call.body["channel"].as_str().unwrap_or_default())
    {
        let mut res = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"ok": false, "error": "ratelimited"}),
        );
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return res;
    }
    let body = ok_answer(&mut inner, &call);
    json_response(StatusCode::OK, body)
}

fn ok_answer(inner: &mut Inner, call: &Call) -> Value {
    let p = &call.body;
    match call.method.as_str() {
        "users.info" => match p["user"].as_str().and_then(|id| inner.users.get(id)) {
            Some(user) => json!({"ok": true, "user": user}),
            None => json!({"ok": false, "error": "user_not_found"}),
        },
        "conversations.open" => {
            // `users` is a JSON array from slack-morphism, a comma-separated
            // string from form-encoded clients.
            let first = match &p["users"] {
                Value::Array(users) => users.first().and_then(Value::as_str).map(str::to_owned),
                Value::String(users) => users.split(',').next().map(str::to_owned),
                _ => None,
            };
            match first {
                Some(user) => json!({"ok": true, "channel": {"id": format!("D{user}")}}),
                None => json!({"ok": false, "error": "users_list_not_supplied"}),
            }
        }
        "chat.postMessage" => {
            let ts = next_ts(inner);
            let mut message = message_echo(p);
            message.insert("ts".to_owned(), json!(ts));
            if let Some(thread_ts) = p.get("thread_ts") {
                message.insert("thread_ts".to_owned(), thread_ts.clone());
            }
            // A user id as the channel posts into that person's DM with the
            // bot; Slack answers with the DM's channel id.
            let channel = match p["channel"].as_str() {
                Some(user) if user.starts_with('U') || user.starts_with('W') => json!(format!("D{user}")),
                _ => p["channel"].clone(),
            };
            json!({"ok": true, "channel": channel, "ts": ts, "message": message})
        }
        "chat.update" => json!({
            "ok": true,
            "channel": p["channel"],
            "ts": p["ts"],
            "text": p.get("text").cloned().unwrap_or(json!("")),
            "message": message_echo(p),
        }),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": next_ts(inner)}),
        "views.open" | "views.update" | "views.publish" => {
            let id = match p.get("view_id").and_then(Value::as_str) {
                Some(id) => id.to_owned(),
                None => {
                    inner.serial += 1;
                    format!("V{:010}", inner.serial)
                }
            };
            inner.serial += 1;
            let mut view = match p.get("view") {
                Some(Value::Object(view)) => view.clone(),
                // A form-encoded client sends the view as a JSON string.
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
                _ => Map::new(),
            };
            view.entry("type").or_insert(json!("modal"));
            view.entry("blocks").or_insert(json!([]));
            if view.get("type") == Some(&json!("modal")) {
                view.entry("title")
                    .or_insert(json!({"type": "plain_text", "text": "View"}));
            }
            view.insert("id".to_owned(), json!(id));
            view.insert("team_id".to_owned(), json!(TEAM_ID));
            view.insert("hash".to_owned(), json!(format!("1764317000.h{:08}", inner.serial)));
            view.insert("app_id".to_owned(), json!("A0APPID001"));
            view.insert("bot_id".to_owned(), json!(BOT_ID));
            view.insert("state".to_owned(), json!({"values": {}}));
            json!({"ok": true, "view": view})
        }
        "reactions.add" => json!({"ok": true}),
        "chat.getPermalink" => json!({
            "ok": true,
            "channel": p["channel"],
            "permalink": format!(
                "https://fake-workspace.slack.com/archives/{}/p{}",
                p["channel"].as_str().unwrap_or_default(),
                p["message_ts"].as_str().unwrap_or_default().replace('.', "")
            ),
        }),
        "auth.test" => {
            let token = call.token.clone().unwrap_or_default();
            match inner.oauth.access.get(&token).cloned() {
                Some(team) => json!({
                    "ok": true,
                    "url": "https://fake-workspace.slack.com/",
                    "team": "Installed Workspace",
                    "user": "oneonone",
                    "team_id": team,
                    "user_id": bot_user_of(&team),
                    "bot_id": format!("B{team}"),
                }),
                None if token.is_empty() => json!({"ok": false, "error": "not_authed"}),
                None => json!({
                    "ok": true,
                    "url": "https://fake-workspace.slack.com/",
                    "team": "Fake Workspace",
                    "user": "oneonone",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                }),
            }
        }
        "oauth.v2.access" => oauth_access(inner, call),
        "response_url" => json!({"ok": true}),
        _ => json!({"ok": false, "error": "unknown_method"}),
    }
}

/// The message object Slack echoes back: what was sent, from the bot.
fn message_echo(p: &Value) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert("type".to_owned(), json!("message"));
    message.insert("user".to_owned(), json!(BOT_USER_ID));
    message.insert("bot_id".to_owned(), json!(BOT_ID));
    message.insert("text".to_owned(), p.get("text").cloned().unwrap_or(json!("")));
    if let Some(blocks) = p.get("blocks") {
        message.insert("blocks".to_owned(), blocks.clone());
    }
    message
}

/// Unique, increasing message timestamps in Slack's `seconds.micros` form.
fn next_ts(inner: &mut Inner) -> String {
    inner.serial += 1;
    let micros = 1_764_317_000_000_000u64 + inner.serial * 100;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

/// The request's parameters as one JSON value: a JSON body as is, a form body
/// as an object of strings, plus any query parameters the body lacks.
fn request_params(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Value {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let mut value = if body.is_empty() {
        Value::Object(Map::new())
    } else if is_json {
        serde_json::from_slice(body).unwrap_or_else(|_| json!({"unparsed_body": String::from_utf8_lossy(body)}))
    } else {
        form_object(body)
    };
    if let (Value::Object(map), Some(query)) = (&mut value, query)
        && let Value::Object(params) = form_object(query.as_bytes())
    {
        for (k, v) in params {
            map.entry(k).or_insert(v);
        }
    }
    value
}

fn form_object(bytes: &[u8]) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
    Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn bot_user_of(team: &str) -> String {
    format!("U{team}BOT")
}

fn basic(headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?
        .to_owned();
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    String::from_utf8(bytes).ok()
}

/// The consent page: the person approves (or cancels) and the browser is
/// sent back to `redirect_uri` with a code and the same state.
async fn authorize(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = form_object(query.unwrap_or_default().as_bytes());
    let mut inner = shared.lock();
    inner.calls.push(Call {
        method: "oauth.authorize".to_owned(),
        token: None,
        body: q.clone(),
        http_method: "GET".to_owned(),
        basic_auth: None,
        content_type: None,
    });
    let (Some(redirect_uri), Some(state)) = (q["redirect_uri"].as_str(), q["state"].as_str()) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri and state are required").into_response();
    };
    if q["client_id"] != CLIENT_ID {
        return (StatusCode::BAD_REQUEST, "invalid_client_id").into_response();
    }
    let mut back = url::Url::parse(redirect_uri).expect("redirect_uri is a URL");
    if std::mem::take(&mut inner.oauth.cancel_next) {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", state);
    } else {
        let grant = inner.oauth.next.pop_front().unwrap_or(Grant {
            team_id: "T0BBBBBBB".into(),
            team_name: "Second Workspace".into(),
            expires_in: None,
            enterprise_install: false,
        });
        inner.oauth.issued += 1;
        let code = format!("code-{}-{}", grant.team_id, inner.oauth.issued);
        inner.oauth.codes.insert(code.clone(), (grant, redirect_uri.to_owned()));
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

/// `oauth.v2.access`: a code exchange or a refresh, Slack's way.
fn oauth_access(inner: &mut Inner, call: &Call) -> Value {
    if call.http_method != "POST" {
        return json!({"ok": false, "error": "invalid_request_method"});
    }
    if !call
        .content_type
        .as_deref()
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
    {
        return json!({"ok": false, "error": "invalid_form_data"});
    }
    match call.basic_auth.as_deref().and_then(|b| b.split_once(':')) {
        Some((id, _)) if id != CLIENT_ID => return json!({"ok": false, "error": "invalid_client_id"}),
        Some((_, secret)) if secret != CLIENT_SECRET => return json!({"ok": false, "error": "bad_client_secret"}),
        Some(_) => {}
        None => return json!({"ok": false, "error": "invalid_client_id"}),
    }
    let p = &call.body;
    let grant = if p["grant_type"] == "refresh_token" {
        let Some(grant) = p["refresh_token"].as_str().and_then(|r| inner.oauth.refresh.remove(r)) else {
            return json!({"ok": false, "error": "invalid_refresh_token"});
        };
        // Refreshed tokens live Slack's 12 hours, whatever the install's did.
        Grant {
            expires_in: Some(12 * 3600),
            ..grant
        }
    } else {
        let Some((grant, redirect_uri)) = p["code"].as_str().and_then(|c| inner.oauth.codes.remove(c)) else {
            return json!({"ok": false, "error": "invalid_code"});
        };
        if p["redirect_uri"].as_str() != Some(redirect_uri.as_str()) {
            return json!({"ok": false, "error": "bad_redirect_uri"});
        }
        grant
    };
    inner.oauth.issued += 1;
    let n = inner.oauth.issued;
    let team = grant.team_id.clone();
    let access_token = match grant.expires_in {
        Some(_) => format!("xoxe.xoxb-1-{team}-{n}"),
        None => format!("xoxb-{team}-{n}"),
    };
    inner.oauth.access.insert(access_token.clone(), team.clone());
    inner.oauth.latest.insert(team.clone(), access_token.clone());
    let mut answer = json!({
        "ok": true,
        "access_token": access_token,
        "token_type": "bot",
        "scope": "chat:write,commands,im:history,im:write,reactions:read,reactions:write,users:read,users:read.email",
        "bot_user_id": bot_user_of(&team),
        "app_id": APP_ID,
        "team": {"id": team, "name": grant.team_name},
        "enterprise": if grant.enterprise_install { json!({"id": "E0ENTERPRISE", "name": "Grid"}) } else { Value::Null },
        "is_enterprise_install": grant.enterprise_install,
        "authed_user": {"id": "U0INSTALLER"},
    });
    if let Some(expires_in) = grant.expires_in {
        let refresh = format!("xoxe-1-{team}-{n}");
        answer["refresh_token"] = json!(refresh);
        answer["expires_in"] = json!(expires_in);
        inner.oauth.refresh.insert(refresh, grant);
    }
    answer
}
