//! The outbound side of the Teams adapter: the Bot Connector REST API, spoken
//! directly (no SDK). It owns three things:
//!
//! - [`TrustedUrls`]: which service URLs may receive the bot's token
//!   (`TEAMS_TRUSTED_SERVICE_URLS`), matched on the parsed URL, never as a
//!   string prefix.
//! - The client-credentials token (`MICROSOFT_TOKEN_URL`): fetched once,
//!   cached until five minutes before it expires, refreshed by one caller at a
//!   time, and refreshed once more when the Connector answers 401.
//! - [`Connector`]: send, reply, update and create-conversation, each one
//!   attempt (the delivery queue retries), with errors in the shapes the
//!   caller acts on ([`ConnectorError`]). [`with_retries`] is for interactive
//!   paths that cannot wait for the queue.
//!
//! The bot's token is as good as its password: it only ever goes in the
//! `Authorization` header of a request to a trusted URL, over `https` (plain
//! `http` only to a loopback host, for the local fakes in tests), and never
//! into a log, an error or `Debug` output. Redirects are never followed.
//!
//! Must not import: the domain's rules, the store, axum. It takes and returns
//! plain data (JSON activities, ids).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use url::{Host, Url};

use crate::clock::Clock;
use crate::config::TeamsConfig;
use crate::domain::model::Platform;

/// How long one HTTP call (token, Connector, signing keys) may take. The
/// Connector answers in well under a second; a call stuck longer is better
/// retried by the delivery worker than waited for.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The OAuth scope of a token for the Bot Connector.
pub const BOT_FRAMEWORK_SCOPE: &str = "https://api.botframework.com/.default";

/// A cached token is replaced this long before it expires (as the Bot
/// Framework SDKs do), so a request never leaves with a token about to lapse.
const TOKEN_REFRESH_MARGIN_SECS: i64 = 300;

/// Installs *ring* as the process-wide rustls crypto provider, which every
/// `reqwest::Client` needs: reqwest is built with `rustls-no-provider` so that
/// aws-lc-rs stays out of the build (the rest of the crate uses *ring*).
/// Idempotent; a provider installed earlier wins.
pub fn install_crypto_provider() {
    // `Err` only means a provider is already installed, which is the goal.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client for every Bot Framework call: a timeout on each request,
/// and no redirects (a redirect must never carry the token elsewhere).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// `https`, or plain `http` to a loopback host (`127.0.0.1`, `localhost`,
/// `[::1]`): the rule for every URL the bot sends its token, secret or trust
/// to. Loopback `http` exists only so tests can run local fakes; nothing on
/// another machine is ever reached without TLS.
pub(crate) fn secure_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Why an entry of `TEAMS_TRUSTED_SERVICE_URLS` was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustedUrlError {
    /// The list has no entries.
    #[error("the list is empty")]
    Empty,
    /// An entry does not parse as a URL.
    #[error("{entry:?} is not a URL ({reason})")]
    NotAUrl {
        /// The entry as written.
        entry: String,
        /// What the URL parser said.
        reason: url::ParseError,
    },
    /// An entry is not `https` (or `http` on a loopback host).
    #[error("{0:?} must be an https:// URL (http:// only for 127.0.0.1 or localhost)")]
    Insecure(String),
    /// An entry carries a user name, password, query or fragment.
    #[error("{0:?} must be scheme, host, optional port and path only")]
    Extra(String),
    /// A `*` anywhere but a leading `*.` before a domain with a dot.
    #[error("{0:?}: a wildcard must be a leading `*.` before a domain, as in https://*.botframework.com/")]
    BadWildcard(String),
}

/// How an entry's host is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// The host itself.
    Exact(String),
    /// `*.example.com`: any host ending in `.example.com` (not the bare domain).
    Subdomains(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TrustedUrl {
    scheme: String,
    host: HostPattern,
    port: Option<u16>,
    /// Always ends with `/`, so `/amer/` does not admit `/amerx`.
    path: String,
}

/// The service URLs that may receive the bot's token, parsed from a
/// comma-separated list such as `https://smba.trafficmanager.net/,https://*.botframework.com/`.
///
/// A URL is trusted when, on the *parsed* URL, its scheme and port equal an
/// entry's, its host equals the entry's host (or, for a `*.domain` entry,
/// ends with `.domain` at a dot boundary), and its path starts with the entry's
/// path at a `/` boundary. It must carry no user name, query or fragment. So
/// `https://smba.trafficmanager.net.evil.example/` is not trusted by
/// `https://smba.trafficmanager.net/`, whatever a string prefix would say.
///
/// Entries must be `https`; plain `http` is accepted only for loopback hosts
/// (`127.0.0.1`, `localhost`, `[::1]`), which is what tests point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedUrls {
    entries: Vec<TrustedUrl>,
}

impl TrustedUrls {
    /// Parses a comma-separated list; blank entries are skipped.
    pub fn parse(list: &str) -> Result<Self, TrustedUrlError> {
        let entries = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        if entries.is_empty() {
            return Err(TrustedUrlError::Empty);
        }
        Ok(TrustedUrls { entries })
    }

    /// Whether the bot's token may be sent to `url` (see the type's docs).
    pub fn is_trusted(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| self.is_trusted_url(&u))
    }

    fn is_trusted_url(&self, url: &Url) -> bool {
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        let path = url.path();
        self.entries.iter().any(|e| {
            e.scheme == url.scheme()
                && e.port == url.port_or_known_default()
                && match &e.host {
                    HostPattern::Exact(h) => h == host,
                    HostPattern::Subdomains(domain) => host
                        .strip_suffix(domain.as_str())
                        .and_then(|rest| rest.strip_suffix('.'))
                        .is_some_and(|label| !label.is_empty()),
                }
                && (path.starts_with(&e.path) || e.path.strip_suffix('/') == Some(path))
        })
    }
}

fn parse_entry(entry: &str) -> Result<TrustedUrl, TrustedUrlError> {
    let url = Url::parse(entry).map_err(|reason| TrustedUrlError::NotAUrl {
        entry: entry.to_string(),
        reason,
    })?;
    if !secure_or_loopback(&url) {
        return Err(TrustedUrlError::Insecure(entry.to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(TrustedUrlError::Extra(entry.to_string()));
    }
    let host = url.host_str().unwrap_or_default();
    let host = match host.strip_prefix("*.") {
        Some(domain) if !domain.contains('*') && domain.contains('.') => HostPattern::Subdomains(domain.to_string()),
        Some(_) => return Err(TrustedUrlError::BadWildcard(entry.to_string())),
        None if host.contains('*') => return Err(TrustedUrlError::BadWildcard(entry.to_string())),
        None => HostPattern::Exact(host.to_string()),
    };
    let mut path = url.path().to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    Ok(TrustedUrl {
        scheme: url.scheme().to_string(),
        host,
        port: url.port_or_known_default(),
        path,
    })
}

/// What went wrong sending to Teams, in the shapes callers treat differently.
/// None of them contains the token or the app password.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The service URL is not on `TEAMS_TRUSTED_SERVICE_URLS`: nothing was
    /// sent, not even a token request.
    #[error("service URL {0:?} is not trusted (TEAMS_TRUSTED_SERVICE_URLS); nothing was sent")]
    Untrusted(String),
    /// An id or activity the caller passed cannot be sent (empty id, `..`,
    /// an activity that is not a JSON object). A bug, not a Teams answer.
    #[error("cannot send: {0}")]
    InvalidInput(&'static str),
    /// The token endpoint refused the bot's credentials (HTTP 4xx): a
    /// configuration error that retrying will not fix.
    #[error(
        "the token endpoint refused the bot's credentials (HTTP {status}{}): check MICROSOFT_APP_ID, \
         MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID and MICROSOFT_APP_TYPE",
        .code.as_deref().map(|c| format!(", {c}")).unwrap_or_default()
    )]
    TokenRejected {
        /// The HTTP status.
        status: u16,
        /// The OAuth error and the Entra `AADSTS…` code, when given.
        code: Option<String>,
    },
    /// The token endpoint could not be reached or failed (timeout, 5xx,
    /// 429, an answer without a token): try again later.
    #[error("the token endpoint is unavailable{}", .status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    TokenUnavailable {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// `Retry-After` in seconds, when given.
        retry_after: Option<Duration>,
    },
    /// 412, 429, 502, 503 or 504: the Connector wants the call again later,
    /// after `retry_after` when it said so (`Retry-After`, seconds).
    #[error("the Bot Connector answered HTTP {status}{}; retry later", .code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Retryable {
        /// The HTTP status.
        status: u16,
        /// The error code from the body (`Throttled`, `PreconditionFailed`…).
        code: Option<String>,
        /// `Retry-After`, when given in seconds.
        retry_after: Option<Duration>,
    },
    /// The Connector could not be reached or did not answer in time. The
    /// message may or may not have been posted (the Connector has no
    /// idempotency key); retrying may post it twice.
    #[error("the Bot Connector could not be reached")]
    Transport(#[source] reqwest::Error),
    /// 403: the bot may not post there. `code` says why:
    /// `ForbiddenOperationException` (app not installed in the user's personal
    /// scope), `BotNotInConversationRoster`, `ConversationBlockedByUser`,
    /// `BotDisabledByAdmin`, `InvalidBotApiHost`, `NotEnoughPermissions`…
    #[error("the Bot Connector refused: {code}: {message}")]
    Forbidden {
        /// The error code from the body (empty when there was none).
        code: String,
        /// The error message from the body.
        message: String,
    },
    /// 404: the conversation or activity is gone (`ConversationNotFound`,
    /// `ActivityNotFoundInConversation`).
    #[error("the Bot Connector does not know that conversation or activity ({code})")]
    NotFound {
        /// The error code from the body (empty when there was none).
        code: String,
    },
    /// Any other 4xx, or 500: retrying will not help (400 `BadArgument`, 401
    /// after a fresh token, 413 `MessageSizeTooBig`, 500 `ServiceError`).
    #[error("the Bot Connector answered HTTP {status}: {code}: {message}")]
    Permanent {
        /// The HTTP status.
        status: u16,
        /// The error code from the body (empty when there was none).
        code: String,
        /// The error message from the body.
        message: String,
    },
    /// A 2xx answer without the id it should carry.
    #[error("the Bot Connector's answer had no {0}")]
    UnexpectedResponse(&'static str),
}

impl ConnectorError {
    /// Whether the same call may succeed later (412, 429, 502–504, transport
    /// failures, an unavailable token endpoint).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::Retryable { .. } | ConnectorError::Transport(_) | ConnectorError::TokenUnavailable { .. }
        )
    }

    /// A short fixed name for this kind of failure, for metrics labels.
    pub fn outcome_label(&self) -> &'static str {
        match self {
            ConnectorError::Retryable { status: 429, .. } => "rate_limited",
            ConnectorError::Retryable { .. } => "retryable",
            ConnectorError::Transport(_) => "transport_error",
            ConnectorError::TokenUnavailable { .. } => "token_unavailable",
            ConnectorError::TokenRejected { .. } => "token_rejected",
            ConnectorError::Forbidden { .. } => "forbidden",
            ConnectorError::NotFound { .. } => "not_found",
            ConnectorError::Permanent { .. } => "rejected",
            ConnectorError::Untrusted(_) => "untrusted",
            ConnectorError::InvalidInput(_) => "invalid_input",
            ConnectorError::UnexpectedResponse(_) => "unexpected_response",
        }
    }

    /// How long the other side asked us to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::Retryable { retry_after, .. } | ConnectorError::TokenUnavailable { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

/// How [`with_retries`] retries: for interactive paths (answering a card
/// click) that cannot hand the work to the delivery queue.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// A `Retry-After` longer than this ends the retries: the caller cannot
    /// wait that long, and should queue the work or give up.
    pub max_retry_after: Duration,
    /// The wait before attempt 2, 3, … when no `Retry-After` was given (the
    /// last entry repeats).
    pub backoff: Vec<Duration>,
}

impl RetryPolicy {
    /// Up to 3 attempts; honours `Retry-After` up to 5 s; otherwise waits
    /// 0.5 s, then 1.5 s.
    pub fn interactive() -> Self {
        RetryPolicy {
            attempts: 3,
            max_retry_after: Duration::from_secs(5),
            backoff: vec![Duration::from_millis(500), Duration::from_millis(1500)],
        }
    }
}

/// Runs `op` until it succeeds, fails for good, or `policy` runs out: only
/// retryable errors ([`ConnectorError::is_retryable`]) are retried, waiting
/// `Retry-After` when given (and giving up at once when it is longer than
/// `policy.max_retry_after`). Returns the last error.
///
/// ```no_run
/// # async fn demo(c: oneonone::teams::connector::Connector, activity: serde_json::Value)
/// # -> Result<(), oneonone::teams::connector::ConnectorError> {
/// use oneonone::teams::connector::{RetryPolicy, with_retries};
/// let policy = RetryPolicy::interactive();
/// let id = with_retries(&policy, || c.send("https://smba.trafficmanager.net/emea/", "a:1", &activity)).await?;
/// # let _ = id; Ok(()) }
/// ```
pub async fn with_retries<T, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    let mut attempt = 1;
    loop {
        let err = match op().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !err.is_retryable() || attempt >= policy.attempts {
            return Err(err);
        }
        let wait = match err.retry_after() {
            Some(d) if d > policy.max_retry_after => return Err(err),
            Some(d) => d,
            None => {
                let i = usize::try_from(attempt - 1).unwrap_or(usize::MAX);
                policy
                    .backoff
                    .get(i)
                    .or(policy.backoff.last())
                    .copied()
                    .unwrap_or_default()
            }
        };
        tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "retrying a Bot Connector call");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// A token and when to stop using it.
struct CachedToken {
    value: SecretString,
    refresh_at: DateTime<Utc>,
    /// Counts fetches, so a caller that saw a 401 can tell whether someone
    /// else already replaced the token it used.
    generation: u64,
}

/// The client-credentials token for the Connector, fetched lazily and cached.
struct TokenSource {
    http: reqwest::Client,
    url: String,
    app_id: String,
    app_password: SecretString,
    clock: Clock,
    /// Held across a fetch: concurrent callers wait for one refresh instead
    /// of each asking the token endpoint.
    cache: tokio::sync::Mutex<Option<CachedToken>>,
}

impl TokenSource {
    /// The current token and its generation. With `replace`, a token of that
    /// generation is not good enough (the Connector rejected it): fetch a new
    /// one unless another caller already did.
    async fn get(&self, replace: Option<u64>) -> Result<(SecretString, u64), ConnectorError> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.as_ref()
            && Some(t.generation) != replace
            && self.clock.now() < t.refresh_at
        {
            return Ok((t.value.clone(), t.generation));
        }
        let (value, expires_in) = self.fetch().await?;
        // Refresh five minutes early; a token that lives less than ten minutes
        // is used for half its life instead.
        let early = TOKEN_REFRESH_MARGIN_SECS.min(expires_in / 2);
        let generation = cache.as_ref().map_or(1, |t| t.generation + 1);
        *cache = Some(CachedToken {
            value: value.clone(),
            refresh_at: self.clock.now() + chrono::Duration::seconds(expires_in - early),
            generation,
        });
        Ok((value, generation))
    }

    async fn fetch(&self) -> Result<(SecretString, i64), ConnectorError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.app_id.as_str()),
            ("client_secret", self.app_password.expose_secret()),
            ("scope", BOT_FRAMEWORK_SCOPE),
        ];
        let res = self.http.post(&self.url).form(&form).send().await.map_err(|e| {
            tracing::warn!(error = %e.without_url(), "token endpoint unreachable");
            ConnectorError::TokenUnavailable {
                status: None,
                retry_after: None,
            }
        })?;
        let status = res.status();
        let retry_after = retry_after(res.headers());
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            let token = body["access_token"].as_str().filter(|t| !t.is_empty());
            // Entra sends a number; the older v1 endpoint a string of digits.
            let expires_in = match &body["expires_in"] {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            };
            return match (token, expires_in) {
                (Some(token), Some(secs)) if secs > 0 => Ok((SecretString::from(token.to_string()), secs)),
                _ => Err(ConnectorError::TokenUnavailable {
                    status: Some(status.as_u16()),
                    retry_after: None,
                }),
            };
        }
        if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::REQUEST_TIMEOUT
        {
            return Err(ConnectorError::TokenRejected {
                status: status.as_u16(),
                code: oauth_error_code(&body),
            });
        }
        Err(ConnectorError::TokenUnavailable {
            status: Some(status.as_u16()),
            retry_after,
        })
    }
}

/// `invalid_client AADSTS7000215` from an OAuth error body: the error and the
/// Entra code, not the description (which is long and carries trace ids).
fn oauth_error_code(body: &Value) -> Option<String> {
    let error = body["error"].as_str()?;
    let aadsts = body["error_description"].as_str().and_then(|d| {
        d.split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| w.starts_with("AADSTS"))
    });
    Some(match aadsts {
        Some(code) => format!("{error} {code}"),
        None => error.to_string(),
    })
}

/// `Retry-After` in seconds. The HTTP-date form is not used by the Connector
/// and is ignored (the caller's backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A path segment with everything but `A–Z a–z 0–9 - . _ ~` percent-encoded,
/// as the official Python SDK sends it (`:` as `%3A`, `@` as `%40`, `;` as `%3B`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn segment(id: &str, what: &'static str) -> Result<String, ConnectorError> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(ConnectorError::InvalidInput(what));
    }
    Ok(utf8_percent_encode(id, SEGMENT).to_string())
}

/// The Bot Connector REST API client. Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct Connector {
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
    trusted: TrustedUrls,
    /// `28:<app id>`, the bot's id in Teams.
    bot_id: String,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("bot_id", &self.bot_id)
            .field("token_url", &self.tokens.url)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A client for the configured bot, with its own HTTP client
    /// ([`DEFAULT_TIMEOUT`] on every request).
    pub fn new(config: &TeamsConfig, clock: Clock) -> Result<Self, reqwest::Error> {
        Ok(Self::with_http(config, clock, http_client(DEFAULT_TIMEOUT)?))
    }

    /// A client on a given HTTP client (which should not follow redirects
    /// and should time out; see [`http_client`]).
    pub fn with_http(config: &TeamsConfig, clock: Clock, http: reqwest::Client) -> Self {
        Connector {
            tokens: Arc::new(TokenSource {
                http: http.clone(),
                url: config.token_url.clone(),
                app_id: config.app_id.clone(),
                app_password: config.app_password.clone(),
                clock,
                cache: tokio::sync::Mutex::new(None),
            }),
            http,
            trusted: config.trusted_service_urls.clone(),
            bot_id: format!("28:{}", config.app_id),
        }
    }

    /// The trusted service URLs, to check a `serviceUrl` before storing it.
    pub fn trusted_urls(&self) -> &TrustedUrls {
        &self.trusted
    }

    /// Posts `activity` to a conversation (`POST …/v3/conversations/{id}/activities`),
    /// e.g. a proactive message; returns the new activity's id.
    pub async fn send<A: Serialize + ?Sized>(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity: &A,
    ) -> Result<String, ConnectorError> {
        let conversation = segment(conversation_id, "empty or dot conversation id")?;
        let url = self.url(service_url, &format!("v3/conversations/{conversation}/activities"))?;
        let body = activity_object(activity)?;
        let answer = self.call("send_activity", Method::POST, url, &body).await?;
        resource_id(&answer, "activity id")
    }

    /// Replies to an activity (`POST …/activities/{replyToId}`); in a personal
    /// chat this is the same as [`Connector::send`]. Sets the activity's
    /// `replyToId` when it has none. Returns the new activity's id.
    pub async fn reply<A: Serialize + ?Sized>(
        &self,
        service_url: &str,
        conversation_id: &str,
        reply_to_id: &str,
        activity: &A,
    ) -> Result<String, ConnectorError> {
        let conversation = segment(conversation_id, "empty or dot conversation id")?;
        let reply_to = segment(reply_to_id, "empty or dot activity id")?;
        let url = self.url(
            service_url,
            &format!("v3/conversations/{conversation}/activities/{reply_to}"),
        )?;
        let mut body = activity_object(activity)?;
        if let Value::Object(map) = &mut body {
            map.entry("replyToId").or_insert_with(|| json!(reply_to_id));
        }
        let answer = self.call("reply_to_activity", Method::POST, url, &body).await?;
        resource_id(&answer, "activity id")
    }

    /// Replaces one of the bot's own activities (`PUT …/activities/{activityId}`),
    /// e.g. to edit a card. Sets the activity's `id` when it has none.
    pub async fn update<A: Serialize + ?Sized>(
        &self,
        service_url: &str,
        conversation_id: &str,
        activity_id: &str,
        activity: &A,
    ) -> Result<(), ConnectorError> {
        let conversation = segment(conversation_id, "empty or dot conversation id")?;
        let id = segment(activity_id, "empty or dot activity id")?;
        let url = self.url(service_url, &format!("v3/conversations/{conversation}/activities/{id}"))?;
        let mut body = activity_object(activity)?;
        if let Value::Object(map) = &mut body {
            map.entry("id").or_insert_with(|| json!(activity_id));
        }
        self.call("update_activity", Method::PUT, url, &body).await.map(drop)
    }

    /// Opens (or finds: the call is idempotent per user) the bot's personal
    /// chat with `user_id` (`29:…`) in `tenant_id`, for a proactive message.
    /// Returns the conversation id (`a:…`). A 403 here usually means the user
    /// has not installed the app ([`ConnectorError::Forbidden`]).
    pub async fn create_conversation(
        &self,
        service_url: &str,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<String, ConnectorError> {
        if tenant_id.is_empty() || user_id.is_empty() {
            return Err(ConnectorError::InvalidInput("empty tenant or user id"));
        }
        let url = self.url(service_url, "v3/conversations")?;
        let body = json!({
            "isGroup": false,
            "bot": { "id": self.bot_id },
            "members": [ { "id": user_id } ],
            "tenantId": tenant_id,
            "channelData": { "tenant": { "id": tenant_id } },
        });
        let answer = self.call("create_conversation", Method::POST, url, &body).await?;
        resource_id(&answer, "conversation id")
    }

    /// `service_url` (trimmed of `/`) + `/` + `path`, after checking that
    /// both the service URL and the final URL are trusted.
    fn url(&self, service_url: &str, path: &str) -> Result<Url, ConnectorError> {
        let untrusted = || ConnectorError::Untrusted(service_url.to_string());
        if !self.trusted.is_trusted(service_url) {
            return Err(untrusted());
        }
        let url = Url::parse(&format!("{}/{path}", service_url.trim_end_matches('/'))).map_err(|_| untrusted())?;
        if !self.trusted.is_trusted_url(&url) {
            return Err(untrusted());
        }
        Ok(url)
    }

    /// One call, counted by operation and outcome (`oneonone_chat_api_calls_total`).
    async fn call(&self, op: &'static str, method: Method, url: Url, body: &Value) -> Result<Value, ConnectorError> {
        let res = self.call_once(method, url, body).await;
        let outcome = match &res {
            Ok(_) => "ok",
            Err(e) => e.outcome_label(),
        };
        crate::telemetry::metrics::chat_api_call(Platform::Teams, op, outcome);
        res
    }

    /// One call with the cached token; on 401, one more with a fresh token.
    async fn call_once(&self, method: Method, url: Url, body: &Value) -> Result<Value, ConnectorError> {
        let body = serde_json::to_vec(body).map_err(|_| ConnectorError::InvalidInput("unserializable activity"))?;
        let (token, generation) = self.tokens.get(None).await?;
        let mut res = self.request(method.clone(), url.clone(), &token, body.clone()).await?;
        if res.status() == StatusCode::UNAUTHORIZED {
            tracing::info!("the Bot Connector refused the token; fetching a new one and trying once more");
            let (token, _) = self.tokens.get(Some(generation)).await?;
            res = self.request(method, url, &token, body).await?;
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| ConnectorError::Transport(e.without_url()))?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(answer);
        }
        let code = answer["error"]["code"].as_str().unwrap_or_default().to_string();
        let message = answer["error"]["message"].as_str().unwrap_or_default().to_string();
        tracing::debug!(
            http.status = status.as_u16(),
            error.code = %code,
            correlation.operation_id = header_str(&headers, "x-correlating-operationid"),
            correlation.ms_cv = header_str(&headers, "ms-cv"),
            "the Bot Connector refused a call"
        );
        Err(match status.as_u16() {
            412 | 429 | 502 | 503 | 504 => ConnectorError::Retryable {
                status: status.as_u16(),
                code: (!code.is_empty()).then_some(code),
                retry_after: retry_after(&headers),
            },
            403 => ConnectorError::Forbidden { code, message },
            404 => ConnectorError::NotFound { code },
            other => ConnectorError::Permanent {
                status: other,
                code,
                message,
            },
        })
    }

    async fn request(
        &self,
        method: Method,
        url: Url,
        token: &SecretString,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, ConnectorError> {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()))
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            // The URL is not secret, but keep errors short and uniform.
            .map_err(|e| ConnectorError::Transport(e.without_url()))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn activity_object<A: Serialize + ?Sized>(activity: &A) -> Result<Value, ConnectorError> {
    match serde_json::to_value(activity) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(ConnectorError::InvalidInput(
            "the activity must serialize to a JSON object",
        )),
    }
}

fn resource_id(answer: &Value, what: &'static str) -> Result<String, ConnectorError> {
    answer["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or(ConnectorError::UnexpectedResponse(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AppType;
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode as AxumStatus, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use chrono::TimeZone;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    const APP_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const PASSWORD: &str = "the-app-password-value";

    #[derive(Debug, Clone)]
    struct Recorded {
        method: String,
        path: String,
        authorization: String,
        body: Value,
    }

    #[derive(Default)]
    struct Fake {
        token_forms: Vec<Vec<(String, String)>>,
        token_failures: VecDeque<(u16, Value)>,
        expires_in: i64,
        calls: Vec<Recorded>,
        failures: VecDeque<(u16, Value, Option<u64>)>,
        serial: u64,
    }

    type Shared = Arc<Mutex<Fake>>;

    async fn token(State(s): State<Shared>, body: Bytes) -> Response {
        let mut s = s.lock().unwrap();
        s.token_forms.push(serde_urlencoded::from_bytes(&body).unwrap());
        if let Some((status, body)) = s.token_failures.pop_front() {
            return (AxumStatus::from_u16(status).unwrap(), axum::Json(body)).into_response();
        }
        let n = s.token_forms.len();
        axum::Json(json!({"token_type": "Bearer", "expires_in": s.expires_in, "access_token": format!("tok-{n}")}))
            .into_response()
    }

    async fn connector(
        State(s): State<Shared>,
        method: AxumMethod,
        uri: Uri,
        headers: AxumHeaders,
        body: Bytes,
    ) -> Response {
        let mut s = s.lock().unwrap();
        s.calls.push(Recorded {
            method: method.to_string(),
            path: uri.path().to_string(),
            authorization: headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        if let Some((status, body, retry_after)) = s.failures.pop_front() {
            let mut res = (AxumStatus::from_u16(status).unwrap(), axum::Json(body)).into_response();
            if let Some(secs) = retry_after {
                res.headers_mut().insert("retry-after", secs.into());
            }
            return res;
        }
        s.serial += 1;
        let id = if uri.path().ends_with("/v3/conversations") {
            format!("a:conv-{}", s.serial)
        } else {
            format!("act-{}", s.serial)
        };
        axum::Json(json!({ "id": id })).into_response()
    }

    struct Fixture {
        fake: Shared,
        connector: Connector,
        clock: Clock,
        /// `http://127.0.0.1:PORT/teams/`, the only trusted service URL.
        service_url: String,
        base: String,
    }

    impl Fixture {
        async fn start() -> Fixture {
            let fake: Shared = Arc::new(Mutex::new(Fake {
                expires_in: 3600,
                ..Default::default()
            }));
            let app = Router::new()
                .route("/oauth2/v2.0/token", post(token))
                .fallback(connector)
                .with_state(fake.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            let service_url = format!("{base}/teams/");
            let config = TeamsConfig {
                app_id: APP_ID.into(),
                app_password: SecretString::from(PASSWORD),
                app_type: AppType::SingleTenant,
                tenant_id: Some("72f9".into()),
                openid_metadata_url: format!("{base}/unused"),
                token_url: format!("{base}/oauth2/v2.0/token"),
                trusted_service_urls: TrustedUrls::parse(&format!("{service_url},https://smba.trafficmanager.net/"))
                    .unwrap(),
            };
            let clock = Clock::frozen(Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap());
            let connector = Connector::new(&config, clock.clone()).unwrap();
            Fixture {
                fake,
                connector,
                clock,
                service_url,
                base,
            }
        }

        fn token_requests(&self) -> usize {
            self.fake.lock().unwrap().token_forms.len()
        }

        fn calls(&self) -> Vec<Recorded> {
            self.fake.lock().unwrap().calls.clone()
        }

        fn fail_next(&self, status: u16, body: Value, retry_after: Option<u64>) {
            self.fake
                .lock()
                .unwrap()
                .failures
                .push_back((status, body, retry_after));
        }

        async fn send(&self) -> Result<String, ConnectorError> {
            self.connector
                .send(&self.service_url, "a:1p0ii", &json!({"type": "message", "text": "hi"}))
                .await
        }
    }

    fn error_body(code: &str) -> Value {
        json!({"error": {"code": code, "message": format!("{code} happened")}})
    }

    #[tokio::test]
    async fn one_token_is_fetched_with_client_credentials_and_reused_across_calls() {
        let f = Fixture::start().await;
        for _ in 0..3 {
            f.send().await.unwrap();
        }
        assert_eq!(f.token_requests(), 1);
        let form = f.fake.lock().unwrap().token_forms[0].clone();
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(field("grant_type").as_deref(), Some("client_credentials"));
        assert_eq!(field("client_id").as_deref(), Some(APP_ID));
        assert_eq!(field("client_secret").as_deref(), Some(PASSWORD));
        assert_eq!(field("scope").as_deref(), Some("https://api.botframework.com/.default"));
        assert!(f.calls().iter().all(|c| c.authorization == "Bearer tok-1"));
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_token_request() {
        let f = Fixture::start().await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let (c, url) = (f.connector.clone(), f.service_url.clone());
            set.spawn(async move { c.send(&url, "a:1", &json!({"type": "message"})).await });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap().unwrap();
        }
        assert_eq!(f.token_requests(), 1);
    }

    #[tokio::test]
    async fn the_token_is_replaced_five_minutes_before_it_expires() {
        let f = Fixture::start().await;
        f.send().await.unwrap();
        f.clock.advance(chrono::Duration::minutes(54));
        f.send().await.unwrap();
        assert_eq!(f.token_requests(), 1);
        f.clock.advance(chrono::Duration::minutes(2));
        f.send().await.unwrap();
        assert_eq!(f.token_requests(), 2);
        assert_eq!(f.calls().last().unwrap().authorization, "Bearer tok-2");
    }

    #[tokio::test]
    async fn a_401_from_the_connector_refreshes_the_token_once_and_retries_once() {
        let f = Fixture::start().await;
        f.fail_next(401, json!({}), None);
        assert_eq!(f.send().await.unwrap(), "act-1");
        let calls = f.calls();
        assert_eq!(f.token_requests(), 2);
        assert_eq!(
            calls.iter().map(|c| c.authorization.as_str()).collect::<Vec<_>>(),
            ["Bearer tok-1", "Bearer tok-2"]
        );

        // Refused again with the fresh token: a configuration error, no third try.
        f.fail_next(401, error_body("BotNotRegistered"), None);
        f.fail_next(401, error_body("BotNotRegistered"), None);
        let r = f.send().await;
        assert!(
            matches!(&r, Err(ConnectorError::Permanent { status: 401, code, .. }) if code == "BotNotRegistered"),
            "{r:?}"
        );
        assert_eq!((f.token_requests(), f.calls().len()), (3, 4));
    }

    #[tokio::test]
    async fn an_untrusted_service_url_gets_no_token_request_and_no_request_at_all() {
        let f = Fixture::start().await;
        let port = f.base.rsplit(':').next().unwrap().to_string();
        let other_port: u16 = port.parse::<u16>().unwrap().wrapping_add(1);
        for url in [
            "https://smba.trafficmanager.net.evil.example/".to_string(),
            "http://smba.trafficmanager.net/".to_string(),
            format!("{}/other/", f.base),
            format!("{}/teamsx/", f.base),
            format!("{}/teams/../other/", f.base),
            format!("http://127.0.0.1:{other_port}/teams/"),
            format!("http://user@127.0.0.1:{port}/teams/"),
            format!("{}/teams/?x=1", f.base),
            "not a url".to_string(),
        ] {
            let r = f.connector.send(&url, "a:1", &json!({"type": "message"})).await;
            assert!(matches!(r, Err(ConnectorError::Untrusted(_))), "{url}: {r:?}");
            let r = f.connector.create_conversation(&url, "72f9", "29:1").await;
            assert!(matches!(r, Err(ConnectorError::Untrusted(_))), "{url}: {r:?}");
        }
        assert_eq!((f.token_requests(), f.calls().len()), (0, 0));
    }

    #[tokio::test]
    async fn retryable_statuses_carry_retry_after_and_are_tried_once() {
        let f = Fixture::start().await;
        for (status, retry_after) in [(429, Some(7)), (503, None), (412, None), (502, None), (504, Some(1))] {
            f.fail_next(status, error_body("Throttled"), retry_after);
            let err = f.send().await.unwrap_err();
            assert!(err.is_retryable(), "{status}: {err:?}");
            assert!(matches!(err, ConnectorError::Retryable { status: s, .. } if s == status));
            assert_eq!(err.retry_after(), retry_after.map(Duration::from_secs), "{status}");
        }
        assert_eq!(f.calls().len(), 5, "one attempt per call");
    }

    #[tokio::test]
    async fn a_403_says_why_and_is_not_retried() {
        let f = Fixture::start().await;
        for code in [
            "ForbiddenOperationException",
            "BotNotInConversationRoster",
            "ConversationBlockedByUser",
            "BotDisabledByAdmin",
        ] {
            f.fail_next(403, error_body(code), None);
            let err = f.send().await.unwrap_err();
            assert!(!err.is_retryable());
            assert!(
                matches!(&err, ConnectorError::Forbidden { code: c, message } if c == code && message.contains(code)),
                "{err:?}"
            );
        }
        assert_eq!(f.calls().len(), 4);
    }

    #[tokio::test]
    async fn a_404_is_not_found_and_500_or_other_4xx_are_permanent() {
        let f = Fixture::start().await;
        f.fail_next(404, error_body("ConversationNotFound"), None);
        let err = f.send().await.unwrap_err();
        assert!(matches!(&err, ConnectorError::NotFound { code } if code == "ConversationNotFound"));
        for status in [500, 400, 413] {
            f.fail_next(status, error_body("ServiceError"), Some(3));
            let err = f.send().await.unwrap_err();
            assert!(!err.is_retryable(), "{status}");
            assert!(matches!(err, ConnectorError::Permanent { status: s, .. } if s == status));
        }
        // An answer without a body still maps by status.
        f.fail_next(500, Value::Null, None);
        assert!(matches!(
            f.send().await,
            Err(ConnectorError::Permanent { status: 500, .. })
        ));
        assert_eq!(f.calls().len(), 5);
    }

    #[tokio::test]
    async fn each_path_segment_is_fully_percent_encoded() {
        let f = Fixture::start().await;
        f.connector
            .send(&f.service_url, "a:1p0iiXyZ-_.~", &json!({"type": "message"}))
            .await
            .unwrap();
        let channel = "19:abc@thread.tacv2;messageid=1";
        let id = f
            .connector
            .reply(
                f.service_url.trim_end_matches('/'),
                channel,
                "1727431200000",
                &json!({"type": "message"}),
            )
            .await
            .unwrap();
        assert_eq!(id, "act-2");
        f.connector
            .update(
                &f.service_url,
                "a:1p0ii",
                "1:abc/def",
                &json!({"type": "message", "text": "new"}),
            )
            .await
            .unwrap();
        let calls = f.calls();
        assert_eq!(calls[0].path, "/teams/v3/conversations/a%3A1p0iiXyZ-_.~/activities");
        assert_eq!(
            calls[1].path,
            "/teams/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1/activities/1727431200000"
        );
        assert_eq!(calls[1].body["replyToId"], "1727431200000");
        assert_eq!(calls[2].method, "PUT");
        assert_eq!(
            calls[2].path,
            "/teams/v3/conversations/a%3A1p0ii/activities/1%3Aabc%2Fdef"
        );
        assert_eq!(
            calls[2].body,
            json!({"type": "message", "text": "new", "id": "1:abc/def"})
        );
    }

    #[tokio::test]
    async fn ids_that_would_change_the_path_are_refused_before_sending() {
        let f = Fixture::start().await;
        for id in ["", ".", ".."] {
            let r = f.connector.send(&f.service_url, id, &json!({"type": "message"})).await;
            assert!(matches!(r, Err(ConnectorError::InvalidInput(_))), "{id:?}");
        }
        let r = f
            .connector
            .send(&f.service_url, "a:1", &json!(["not", "an", "object"]))
            .await;
        assert!(matches!(r, Err(ConnectorError::InvalidInput(_))));
        assert_eq!((f.token_requests(), f.calls().len()), (0, 0));
    }

    #[tokio::test]
    async fn create_conversation_posts_a_one_to_one_conversation_and_returns_its_id() {
        let f = Fixture::start().await;
        let id = f
            .connector
            .create_conversation(&f.service_url, "72f9-tenant", "29:1aUserIdOfMaria")
            .await
            .unwrap();
        assert_eq!(id, "a:conv-1");
        let call = &f.calls()[0];
        assert_eq!(
            (call.method.as_str(), call.path.as_str()),
            ("POST", "/teams/v3/conversations")
        );
        assert_eq!(
            call.body,
            json!({
                "isGroup": false,
                "bot": {"id": format!("28:{APP_ID}")},
                "members": [{"id": "29:1aUserIdOfMaria"}],
                "tenantId": "72f9-tenant",
                "channelData": {"tenant": {"id": "72f9-tenant"}},
            })
        );
        f.fail_next(403, error_body("ForbiddenOperationException"), None);
        let r = f.connector.create_conversation(&f.service_url, "72f9", "29:x").await;
        assert!(matches!(r, Err(ConnectorError::Forbidden { .. })));
    }

    #[tokio::test]
    async fn a_refused_credential_is_a_clear_configuration_error_without_the_secret() {
        let f = Fixture::start().await;
        f.fake.lock().unwrap().token_failures.push_back((
            401,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: 1"}),
        ));
        let err = f.send().await.unwrap_err();
        assert!(!err.is_retryable());
        let shown = err.to_string();
        assert!(shown.contains("HTTP 401, invalid_client AADSTS7000215"), "{shown}");
        assert!(shown.contains("MICROSOFT_APP_PASSWORD"), "{shown}");
        assert!(!shown.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD));
        assert!(f.calls().is_empty(), "no Connector call without a token");

        f.fake.lock().unwrap().token_failures.push_back((503, json!({})));
        let err = f.send().await.unwrap_err();
        assert!(matches!(
            err,
            ConnectorError::TokenUnavailable { status: Some(503), .. }
        ));
        assert!(err.is_retryable());
        // Nothing was cached from the failures: the next call fetches and works.
        f.send().await.unwrap();
        assert_eq!(f.token_requests(), 3);
    }

    #[tokio::test]
    async fn debug_output_shows_neither_the_password_nor_the_token() {
        let f = Fixture::start().await;
        f.send().await.unwrap();
        let shown = format!("{:?}", f.connector);
        assert!(!shown.contains(PASSWORD) && !shown.contains("tok-1"), "{shown}");
    }

    fn retryable(retry_after: Option<u64>) -> ConnectorError {
        ConnectorError::Retryable {
            status: 429,
            code: None,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            backoff: vec![Duration::ZERO],
            ..RetryPolicy::interactive()
        }
    }

    #[tokio::test]
    async fn with_retries_tries_three_times_on_retryable_errors_only() {
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let r: Result<(), _> = with_retries(&quick(), || async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(retryable(Some(0)))
        })
        .await;
        assert!(r.unwrap_err().is_retryable());
        assert_eq!(attempts.swap(0, std::sync::atomic::Ordering::SeqCst), 3);

        let r: Result<(), _> = with_retries(&quick(), || async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(ConnectorError::Forbidden {
                code: "BotDisabledByAdmin".into(),
                message: String::new(),
            })
        })
        .await;
        assert!(r.is_err());
        assert_eq!(attempts.swap(0, std::sync::atomic::Ordering::SeqCst), 1);

        let r = with_retries(&quick(), || async {
            match attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Err(retryable(None)),
                _ => Ok("act-9"),
            }
        })
        .await;
        assert_eq!(r.unwrap(), "act-9");
        assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn with_retries_gives_up_at_once_when_asked_to_wait_longer_than_five_seconds() {
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let started = std::time::Instant::now();
        let r: Result<(), _> = with_retries(&RetryPolicy::interactive(), || async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(retryable(Some(30)))
        })
        .await;
        assert_eq!(r.unwrap_err().retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn with_retries_recovers_from_a_throttled_connector_call() {
        let f = Fixture::start().await;
        f.fail_next(429, error_body("Throttled"), Some(0));
        f.fail_next(503, json!({}), Some(0));
        let id = with_retries(&quick(), || f.send()).await.unwrap();
        assert_eq!(id, "act-1");
        assert_eq!(f.calls().len(), 3);
    }

    fn trusted(list: &str) -> TrustedUrls {
        TrustedUrls::parse(list).unwrap()
    }

    #[test]
    fn a_trusted_host_is_matched_on_the_parsed_url_never_as_a_string_prefix() {
        let t = trusted("https://smba.trafficmanager.net");
        assert!(t.is_trusted("https://smba.trafficmanager.net/emea/"));
        assert!(t.is_trusted("https://SMBA.TrafficManager.net:443/amer/72f9/"));
        for url in [
            "https://smba.trafficmanager.net.evil.example/",
            "https://evil-smba.trafficmanager.net/",
            "https://x.smba.trafficmanager.net/",
            "http://smba.trafficmanager.net/",
            "https://smba.trafficmanager.net:8443/",
            "https://attacker@smba.trafficmanager.net/",
            "https://smba.trafficmanager.net/?next=https://evil.example/",
            "https://smba.trafficmanager.net/#x",
            "ftp://smba.trafficmanager.net/",
            "smba.trafficmanager.net",
        ] {
            assert!(!t.is_trusted(url), "{url}");
        }
    }

    #[test]
    fn a_wildcard_matches_subdomains_at_a_dot_boundary_only() {
        let t = trusted("https://*.botframework.com/");
        assert!(t.is_trusted("https://webchat.botframework.com/"));
        assert!(t.is_trusted("https://a.b.botframework.com/x/"));
        for url in [
            "https://botframework.com/",
            "https://evilbotframework.com/",
            "https://webchat.botframework.com.evil.example/",
        ] {
            assert!(!t.is_trusted(url), "{url}");
        }
        for bad in ["https://*/", "https://*.com/", "https://a.*.com/", "https://*evil.com/"] {
            assert!(
                matches!(TrustedUrls::parse(bad), Err(TrustedUrlError::BadWildcard(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_entry_path_is_a_prefix_at_a_slash_boundary() {
        let t = trusted("https://smba.trafficmanager.net/amer");
        assert!(t.is_trusted("https://smba.trafficmanager.net/amer"));
        assert!(t.is_trusted("https://smba.trafficmanager.net/amer/72f9/"));
        assert!(!t.is_trusted("https://smba.trafficmanager.net/amerx/"));
        assert!(!t.is_trusted("https://smba.trafficmanager.net/emea/"));
        assert!(!t.is_trusted("https://smba.trafficmanager.net/amer/../emea/"));
    }

    #[test]
    fn plain_http_is_accepted_only_for_loopback_hosts() {
        for ok in ["http://127.0.0.1:3978/", "http://localhost:9/x/", "http://[::1]/"] {
            assert!(TrustedUrls::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["http://example.com/", "http://10.0.0.1/", "http://127.0.0.1.nip.io/"] {
            assert!(
                matches!(TrustedUrls::parse(bad), Err(TrustedUrlError::Insecure(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            TrustedUrls::parse("https://u:p@example.com/"),
            Err(TrustedUrlError::Extra(_))
        ));
        assert!(matches!(TrustedUrls::parse(""), Err(TrustedUrlError::Empty)));
        // A loopback entry does not make the same host trusted over https or another port.
        let t = trusted("http://127.0.0.1:3978/");
        assert!(t.is_trusted("http://127.0.0.1:3978/v3/"));
        assert!(!t.is_trusted("https://127.0.0.1:3978/v3/"));
        assert!(!t.is_trusted("http://127.0.0.1:3979/v3/"));
    }
}
