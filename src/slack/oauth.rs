//! Slack OAuth v2 for many workspaces (only with `SLACK_CLIENT_ID` and
//! `SLACK_CLIENT_SECRET`): `GET /slack/install` and
//! `GET /slack/oauth_redirect`, and the `oauth.v2.access` calls (the code
//! exchange here, the refresh in `slack::tokens`).
//!
//! Written by hand rather than with slack-morphism's OAuth routes, which have
//! no `state` (no CSRF protection), take a plain `fn` callback, call
//! `oauth.v2.access` by GET and drop `refresh_token`/`expires_in` (so token
//! rotation could not work); see the Slack reference, §2(f).
//!
//! The flow, as Bolt does it: `/slack/install` makes a random `state`, stores
//! its SHA-256 for 10 minutes (in the database, so any replica can finish the
//! install), sets it as an HttpOnly cookie on `/slack` and redirects to
//! Slack's consent page. `/slack/oauth_redirect` requires the same state in
//! the query and the cookie, consumes it (once, atomically), exchanges the
//! code (POST, Basic auth), asks `auth.test` for the bot id, and saves the
//! install with its tokens encrypted. Every failure is a small page saying
//! what to do, with a 4xx for the person's own mistakes and nothing secret.

use super::tokens::{BOT_TOKEN, REFRESH_TOKEN};
use super::{SlackAppState, catalog};
use crate::config::SlackOAuthConfig;
use crate::store::{OAuthStateCheck, SlackInstallation};
use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long an install may take between `/slack/install` and the redirect
/// back (Bolt's default).
pub const STATE_TTL_SECONDS: i64 = 600;
/// The cookie that binds an install's `state` to the browser that began it.
pub const STATE_COOKIE: &str = "oneonone_slack_oauth_state";

/// Why `oauth.v2.access` gave no tokens.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Slack answered `ok: false` with this code (`invalid_code`,
    /// `invalid_refresh_token`, `bad_client_secret`, …).
    #[error("Slack refused: {0}")]
    Refused(String),
    /// Slack could not be reached, or answered something that is not an
    /// `oauth.v2.access` response.
    #[error("Slack OAuth endpoint unreachable or malformed answer")]
    Transport(#[source] reqwest::Error),
}

#[derive(Debug, Deserialize, Default)]
struct Named {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

/// The fields of an `oauth.v2.access` answer we use (a bot install; no user
/// token is asked for).
#[derive(Deserialize)]
pub struct OAuthAccess {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    bot_user_id: Option<String>,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    team: Option<Named>,
    #[serde(default)]
    enterprise: Option<Named>,
    #[serde(default)]
    is_enterprise_install: bool,
    #[serde(default)]
    authed_user: Option<Named>,
    /// With token rotation on: the refresh token and the access token's lifetime.
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

impl std::fmt::Debug for OAuthAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAccess")
            .field("ok", &self.ok)
            .field("team", &self.team.as_ref().map(|t| &t.id))
            .finish_non_exhaustive()
    }
}

/// New tokens from a code exchange or a refresh.
pub struct Tokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token lives; `None` when it does not expire.
    pub expires_in: Option<i64>,
}

impl OAuthAccess {
    fn tokens(&self) -> Option<Tokens> {
        Some(Tokens {
            access_token: SecretString::from(self.access_token.clone()?),
            refresh_token: self.refresh_token.clone().map(SecretString::from),
            expires_in: self.expires_in,
        })
    }
}

/// `oauth.v2.access` with the app's credentials, and the consent page's URL.
pub struct OAuthClient {
    http: reqwest::Client,
    access_url: String,
    config: SlackOAuthConfig,
}

impl OAuthClient {
    pub fn new(config: &SlackOAuthConfig, api_url: &str) -> anyhow::Result<Self> {
        // reqwest is built without a crypto provider; *ring* is the crate's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(super::client::DEFAULT_TIMEOUT)
            // A redirect must never carry the client secret elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(OAuthClient {
            http,
            access_url: format!("{}oauth.v2.access", api_url),
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &SlackOAuthConfig {
        &self.config
    }

    /// POST `oauth.v2.access` with Basic auth (client id and secret) and a form.
    async fn access(&self, form: &[(&str, &str)]) -> Result<OAuthAccess, OAuthError> {
        let answer: OAuthAccess = self
            .http
            .post(&self.access_url)
            .basic_auth(&self.config.client_id, Some(self.config.client_secret.expose_secret()))
            .form(form)
            .send()
            .await
            .map_err(OAuthError::Transport)?
            .json()
            .await
            .map_err(OAuthError::Transport)?;
        if !answer.ok {
            return Err(OAuthError::Refused(
                answer.error.unwrap_or_else(|| "unknown_error".to_owned()),
            ));
        }
        Ok(answer)
    }

    /// Exchanges the code Slack sent the browser back with.
    pub async fn exchange_code(&self, code: &str) -> Result<OAuthAccess, OAuthError> {
        self.access(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.config.redirect_uri),
        ])
        .await
    }

    /// Trades a refresh token for a new access token and a new refresh token
    /// (the old refresh token stops working).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Tokens, OAuthError> {
        let answer = self
            .access(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ])
            .await?;
        answer
            .tokens()
            .ok_or_else(|| OAuthError::Refused("no_access_token".to_owned()))
    }

    /// Slack's consent page for a new install with `state`.
    fn authorize_url(&self, state: &str) -> String {
        let scopes = catalog::bot_scopes().into_iter().collect::<Vec<_>>().join(",");
        let mut url = match url::Url::parse(&self.config.authorize_url) {
            Ok(url) => url,
            // Checked at start-up (config); kept total all the same.
            Err(_) => return self.config.authorize_url.clone(),
        };
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("scope", &scopes)
            .append_pair("user_scope", "")
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("state", state);
        url.to_string()
    }

    /// `https://slack.com/app_redirect?app=…&team=…`: opens the app in the
    /// workspace it was just installed in.
    fn app_link(&self, app_id: &str, team_id: &str) -> Option<String> {
        let mut url = url::Url::parse(&self.config.authorize_url)
            .ok()?
            .join("/app_redirect")
            .ok()?;
        url.query_pairs_mut()
            .append_pair("app", app_id)
            .append_pair("team", team_id);
        Some(url.to_string())
    }
}

fn hash_state(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn cookie(value: &str, max_age: i64) -> HeaderValue {
    let v = format!("{STATE_COOKIE}={value}; HttpOnly; Secure; SameSite=Lax; Path=/slack; Max-Age={max_age}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The value of our state cookie in the request's `Cookie` headers.
fn state_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == STATE_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// `GET /slack/install`: a fresh state, its cookie, and off to Slack.
pub async fn install(State(st): State<SlackAppState>) -> Response {
    let Some(installs) = &st.slack.installs else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = st.app.clock.now();
    if let Err(e) = st
        .app
        .db
        .issue_oauth_state(&hash_state(&state), now + Duration::seconds(STATE_TTL_SECONDS), now)
        .await
    {
        tracing::error!(error = %e, "install state not stored");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again",
            "The installation could not be started just now. Please try again in a moment.",
            Some(("Try again", catalog::INSTALL_PATH)),
        );
    }
    let location = installs.oauth().authorize_url(&state);
    let mut res = StatusCode::FOUND.into_response();
    let h = res.headers_mut();
    if let Ok(loc) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, loc);
    }
    h.insert(header::SET_COOKIE, cookie(&state, STATE_TTL_SECONDS));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[derive(Debug, Deserialize, Default)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /slack/oauth_redirect`: Slack sends the browser back here.
pub async fn oauth_redirect(State(st): State<SlackAppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let mut res = finish(&st, &headers, q.as_deref().unwrap_or_default()).await;
    // The state is spent either way: the cookie goes, and nothing is cached.
    let h = res.headers_mut();
    h.insert(header::SET_COOKIE, cookie("", 0));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    res
}

const START_AGAIN: Option<(&str, &str)> = Some(("Start the installation again", catalog::INSTALL_PATH));

async fn finish(st: &SlackAppState, headers: &HeaderMap, query: &str) -> Response {
    let Some(installs) = &st.slack.installs else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let q: Callback = serde_urlencoded::from_str(query).unwrap_or_default();
    if let Some(error) = &q.error {
        // Consume the state anyway, so the link cannot be replayed.
        if let Some(state) = &q.state {
            let _ = st
                .app
                .db
                .consume_oauth_state(&hash_state(state), st.app.clock.now())
                .await;
        }
        tracing::info!(slack.oauth_error = %error, "Slack install cancelled or refused");
        let why = if error == "access_denied" {
            "You cancelled the installation, so nothing was installed.".to_owned()
        } else {
            format!("Slack did not complete the installation ({error}), so nothing was installed.")
        };
        return page(StatusCode::BAD_REQUEST, "Not installed", &why, START_AGAIN);
    }
    let Some(state) = q.state.as_deref().filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "This page only works as the last step of installing the app from Slack.",
            START_AGAIN,
        );
    };
    let same_browser = state_cookie(headers).is_some_and(|c| bool::from(c.as_bytes().ct_eq(state.as_bytes())));
    if !same_browser {
        return page(
            StatusCode::BAD_REQUEST,
            "Please start again",
            "This installation was started in another browser, or its cookie has expired. \
             Start it again from this browser.",
            START_AGAIN,
        );
    }
    let now = st.app.clock.now();
    match st.app.db.consume_oauth_state(&hash_state(state), now).await {
        Ok(OAuthStateCheck::Valid) => {}
        Ok(OAuthStateCheck::Expired) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This installation link has expired",
                "An installation must be finished within 10 minutes. Please start again.",
                START_AGAIN,
            );
        }
        Ok(OAuthStateCheck::Unknown) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This installation link was already used",
                "Each installation link works once. If the app is not installed yet, please start again.",
                START_AGAIN,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "install state not checked");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "The installation could not be finished just now. Please start again in a moment.",
                START_AGAIN,
            );
        }
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "Slack sent no authorization code. Please start again.",
            START_AGAIN,
        );
    };
    let access = match installs.oauth().exchange_code(code).await {
        Ok(a) => a,
        Err(OAuthError::Refused(why)) => {
            tracing::warn!(slack.oauth_error = %why, "oauth.v2.access refused the code");
            return page(
                StatusCode::BAD_REQUEST,
                "Slack refused the installation",
                &format!("Slack said: {why}. Please start again."),
                START_AGAIN,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "oauth.v2.access failed");
            return unreachable_slack();
        }
    };
    match save(st, installs, access).await {
        Ok(saved) => {
            tracing::info!(slack.team = %saved.team_id, "Slack app installed");
            let link = installs.oauth().app_link(&saved.app_id, &saved.team_id);
            let name = if saved.team_name.is_empty() {
                "your workspace".to_owned()
            } else {
                saved.team_name.clone()
            };
            page(
                StatusCode::OK,
                "oneonone is installed",
                &format!(
                    "oneonone is now installed in {name}. Type /oneonone help in Slack, or open the app to begin."
                ),
                link.as_deref().map(|l| ("Open oneonone in Slack", l)),
            )
        }
        Err(SaveError::Unsupported(what)) => page(StatusCode::BAD_REQUEST, "Not installed", what, None),
        Err(SaveError::Slack) => unreachable_slack(),
        Err(SaveError::Store(e)) => {
            tracing::error!(error = %e, "installation not saved");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "The installation could not be saved just now. Please start again in a moment.",
                START_AGAIN,
            )
        }
    }
}

fn unreachable_slack() -> Response {
    page(
        StatusCode::BAD_GATEWAY,
        "Slack could not be reached",
        "The installation could not be finished because Slack did not answer. Please start again in a moment.",
        START_AGAIN,
    )
}

enum SaveError {
    Unsupported(&'static str),
    Slack,
    Store(crate::store::StoreError),
}

/// Checks the answer is a bot install, learns the bot id, encrypts and saves.
async fn save(
    st: &SlackAppState,
    installs: &super::tokens::Installations,
    access: OAuthAccess,
) -> Result<SlackInstallation, SaveError> {
    if access.is_enterprise_install {
        return Err(SaveError::Unsupported(
            "oneonone installs into one workspace at a time; org-wide (Enterprise Grid) installs are not supported. \
             Install it into each workspace instead.",
        ));
    }
    let (Some(tokens), Some(team), Some(bot_user_id), Some(app_id)) = (
        access.tokens(),
        access.team.as_ref(),
        access.bot_user_id.clone(),
        access.app_id.clone(),
    ) else {
        return Err(SaveError::Unsupported(
            "Slack's answer had no bot token for a workspace, so nothing was installed.",
        ));
    };
    if access.token_type.as_deref().is_some_and(|t| t != "bot") {
        return Err(SaveError::Unsupported(
            "Slack's answer had no bot token, so nothing was installed.",
        ));
    }
    let owner = match st.slack.api.auth_test(&tokens.access_token, &team.id).await {
        Ok(owner) if owner.team_id == team.id => owner,
        Ok(_) => return Err(SaveError::Unsupported("Slack's token belongs to another workspace.")),
        Err(e) => {
            tracing::warn!(error = %e, "auth.test with the new token failed");
            return Err(SaveError::Slack);
        }
    };
    let now = st.app.clock.now();
    let cipher = installs.cipher();
    let install = SlackInstallation {
        team_id: team.id.clone(),
        enterprise_id: access.enterprise.as_ref().map(|e| e.id.clone()),
        team_name: team.name.clone().unwrap_or_default(),
        app_id,
        bot_user_id,
        bot_id: owner.bot_id.unwrap_or_default(),
        bot_scopes: access.scope.clone().unwrap_or_default(),
        bot_token: cipher.encrypt(&team.id, BOT_TOKEN, &tokens.access_token),
        bot_refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(|r| cipher.encrypt(&team.id, REFRESH_TOKEN, r)),
        bot_token_expires_at: tokens.expires_in.map(|s| now + Duration::seconds(s)),
        installer_user_id: access.authed_user.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
        installed_at: now,
        token_version: 0,
        refresh_claimed_until: None,
    };
    st.app
        .db
        .save_slack_installation(&install, now)
        .await
        .map_err(SaveError::Store)?;
    Ok(install)
}

/// `&`, `<`, `>`, `"` and `'` as entities: anything shown in a page.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small self-contained HTML page; every piece of text is escaped.
fn page(status: StatusCode, title: &str, message: &str, link: Option<(&str, &str)>) -> Response {
    let link = link
        .map(|(text, href)| format!("<p><a href=\"{}\">{}</a></p>", escape_html(href), escape_html(text)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}}</style>\
         </head><body><h1>{title}</h1><p>{message}</p>{link}</body></html>\n",
        title = escape_html(title),
        message = escape_html(message),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pages_escape_everything_they_show() {
        assert_eq!(
            escape_html("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn the_state_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; oneonone_slack_oauth_state=xyz; b=2"),
        );
        assert_eq!(state_cookie(&h).as_deref(), Some("xyz"));
        assert_eq!(state_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cookie_is_http_only_secure_lax_and_scoped_to_slack() {
        let c = cookie("abc", 600);
        assert_eq!(
            c.to_str().unwrap(),
            "oneonone_slack_oauth_state=abc; HttpOnly; Secure; SameSite=Lax; Path=/slack; Max-Age=600"
        );
    }
}
