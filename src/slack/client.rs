//! The outbound side of the Slack adapter: the few Slack Web API calls the
//! bot makes (`users.info`, `conversations.open`, `chat.postMessage`,
//! `chat.update`, `response_url` posts), as one small [`SlackApi`] type.
//!
//! Built on slack-morphism so its request/response models and Block Kit types
//! are shared with `slack/render`; this module only adds what the crate leaves
//! to us: a base URL that may be plain `http://` (the fake Slack in tests), a
//! timeout around every call, tokens that stay `SecretString` until the last
//! moment, and a three-way error ([`SlackApiError`]) the scheduler can act on
//! (wait and retry, give up, or retry later).
//!
//! Must not import: the domain's rules, the store. It returns plain data
//! ([`Profile`], channel ids, message timestamps).

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use hyper_rustls::HttpsConnectorBuilder;
use hyper_rustls::builderstates::WantsSchemes;
use secrecy::{ExposeSecret, SecretString};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use url::Url;

use crate::domain::model::{Platform, Profile};

/// How long one Web API call may take before we give up on it. Slack answers
/// in well under a second; a call stuck longer is better retried by the
/// delivery worker than waited for.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong talking to Slack, in the three shapes callers treat
/// differently.
#[derive(Debug, thiserror::Error)]
pub enum SlackApiError {
    /// HTTP 429: try again after the given delay (Slack's `Retry-After`).
    #[error("Slack rate limit, retry after {0:?}")]
    RateLimited(Option<Duration>),
    /// Slack answered `ok: false`; the value is its error code, such as
    /// `channel_not_found`, `not_in_channel` or `invalid_auth`.
    #[error("Slack API error: {0}")]
    Api(String),
    /// Slack could not be reached or answered something unexpected (timeout,
    /// connection refused, HTTP 5xx, undecodable JSON).
    #[error("Slack transport error")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What `auth.test` says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub team_id: String,
    pub user_id: String,
    pub bot_id: Option<String>,
}

/// A cheap-to-clone handle on the Slack Web API.
#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackHyperClient>,
    timeout: Duration,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SlackApi {
    /// A client for the Web API at `api_url` (`SLACK_API_URL`), such as
    /// `https://slack.com/api/` or, in tests, `http://127.0.0.1:PORT/api/`.
    ///
    /// The scheme of `api_url` also decides what every call may use: an
    /// `https://` API gets an https-only connector, so a `response_url` can
    /// never send a message over plain http in production; an `http://` API
    /// (a local fake) allows both.
    pub fn new(api_url: &str) -> anyhow::Result<Self> {
        let url = Url::parse(api_url).map_err(|e| anyhow::anyhow!("invalid Slack API URL {api_url:?}: {e}"))?;
        let native =
            HttpsConnectorBuilder::new().with_provider_and_native_roots(rustls::crypto::ring::default_provider());
        Ok(Self::with_connector(connector(&url, native)?, api_url))
    }

    fn with_connector(connector: SlackClientHyperHttpsConnector, api_url: &str) -> Self {
        // slack-morphism joins the base and the method with a `/` of its own.
        let base = api_url.trim_end_matches('/');
        let client = SlackClient::new(connector.with_slack_api_url(base));
        SlackApi {
            client: Arc::new(client),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Replaces the per-call timeout (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `users.info`: the person's name, email, zone and whether they are a
    /// bot or deactivated.
    #[tracing::instrument(name = "slack.users_info", skip_all, fields(slack.team = team_id))]
    pub async fn users_info(&self, token: &SecretString, team_id: &str, user: &str) -> Result<Profile, SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiUsersInfoRequest::new(SlackUserId::new(user.to_owned()));
        let res = self.call("users.info", session.users_info(&req)).await?;
        Ok(profile_of(&res.user))
    }

    /// `auth.test`: who a token belongs to — the team, the bot's user id and
    /// its bot id (`oauth.v2.access` does not return the bot id).
    #[tracing::instrument(name = "slack.auth_test", skip_all, fields(slack.team = team_id))]
    pub async fn auth_test(&self, token: &SecretString, team_id: &str) -> Result<TokenOwner, SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let res = self.call("auth.test", session.auth_test()).await?;
        Ok(TokenOwner {
            team_id: res.team_id.0,
            user_id: res.user_id.0,
            bot_id: res.bot_id.map(|b| b.0),
        })
    }

    /// `conversations.open` with one user: the id of the bot's DM with them.
    #[tracing::instrument(name = "slack.open_dm", skip_all, fields(slack.team = team_id))]
    pub async fn open_dm(&self, token: &SecretString, team_id: &str, user: &str) -> Result<String, SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiConversationsOpenRequest::new().with_users(vec![SlackUserId::new(user.to_owned())]);
        let res = self
            .call("conversations.open", session.conversations_open(&req))
            .await?;
        Ok(res.channel.id.0)
    }

    /// `chat.postMessage`: returns the new message's `ts`, which (with the
    /// channel) is how it is updated later.
    #[tracing::instrument(name = "slack.post_message", skip_all, fields(slack.team = team_id))]
    pub async fn post_message(
        &self,
        token: &SecretString,
        team_id: &str,
        channel: &str,
        content: SlackMessageContent,
    ) -> Result<String, SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiChatPostMessageRequest::new(SlackChannelId::new(channel.to_owned()), content);
        let res = self.call("chat.postMessage", session.chat_post_message(&req)).await?;
        Ok(res.ts.0)
    }

    /// `chat.postMessage` to a person's direct messages with the bot, by their
    /// user id: Slack opens the conversation itself, so a notification costs
    /// one call (no Tier 3 `conversations.open` in a Monday-morning burst).
    /// Returns the conversation's channel id and the message's `ts`.
    #[tracing::instrument(name = "slack.post_dm", skip_all, fields(slack.team = team_id))]
    pub async fn post_dm(
        &self,
        token: &SecretString,
        team_id: &str,
        user: &str,
        content: SlackMessageContent,
    ) -> Result<(String, String), SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiChatPostMessageRequest::new(SlackChannelId::new(user.to_owned()), content);
        let res = self.call("chat.postMessage", session.chat_post_message(&req)).await?;
        Ok((res.channel.0, res.ts.0))
    }

    /// `chat.update`: replaces the message `ts` in `channel`.
    #[tracing::instrument(name = "slack.update_message", skip_all, fields(slack.team = team_id))]
    pub async fn update_message(
        &self,
        token: &SecretString,
        team_id: &str,
        channel: &str,
        ts: &str,
        content: SlackMessageContent,
    ) -> Result<(), SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiChatUpdateRequest::new(
            SlackChannelId::new(channel.to_owned()),
            content,
            SlackTs::new(ts.to_owned()),
        );
        self.call("chat.update", session.chat_update(&req)).await?;
        Ok(())
    }

    /// `views.publish`: sets `user`'s App Home tab to `blocks`.
    #[tracing::instrument(name = "slack.publish_home", skip_all, fields(slack.team = team_id))]
    pub async fn publish_home(
        &self,
        token: &SecretString,
        team_id: &str,
        user: &str,
        blocks: Vec<SlackBlock>,
    ) -> Result<(), SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiViewsPublishRequest::new(
            SlackUserId::new(user.to_owned()),
            SlackView::Home(SlackHomeView::new(blocks)),
        );
        self.call("views.publish", session.views_publish(&req)).await?;
        Ok(())
    }

    /// `views.open`: shows a modal; `trigger_id` comes from the click and is
    /// valid for 3 seconds.
    #[tracing::instrument(name = "slack.open_view", skip_all, fields(slack.team = team_id))]
    pub async fn open_view(
        &self,
        token: &SecretString,
        team_id: &str,
        trigger_id: &str,
        view: SlackView,
    ) -> Result<(), SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiViewsOpenRequest::new(SlackTriggerId::new(trigger_id.to_owned()), view);
        self.call("views.open", session.views_open(&req)).await?;
        Ok(())
    }

    /// `reactions.add`: the bot reacts to a message (acknowledging a thread reply).
    #[tracing::instrument(name = "slack.add_reaction", skip_all, fields(slack.team = team_id))]
    pub async fn add_reaction(
        &self,
        token: &SecretString,
        team_id: &str,
        channel: &str,
        ts: &str,
        name: &str,
    ) -> Result<(), SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req = SlackApiReactionsAddRequest::new(
            SlackChannelId::new(channel.to_owned()),
            SlackReactionName::new(name.to_owned()),
            SlackTs::new(ts.to_owned()),
        );
        self.call("reactions.add", session.reactions_add(&req)).await?;
        Ok(())
    }

    /// `chat.getPermalink`: a link to a message, for talking points made from it.
    #[tracing::instrument(name = "slack.permalink", skip_all, fields(slack.team = team_id))]
    pub async fn permalink(
        &self,
        token: &SecretString,
        team_id: &str,
        channel: &str,
        ts: &str,
    ) -> Result<String, SlackApiError> {
        let token = api_token(token, team_id);
        let session = self.client.open_session(&token);
        let req =
            SlackApiChatGetPermalinkRequest::new(SlackChannelId::new(channel.to_owned()), SlackTs::new(ts.to_owned()));
        let res = self.call("chat.getPermalink", session.chat_get_permalink(&req)).await?;
        Ok(res.permalink.to_string())
    }

    /// Posts to a command's or action's absolute `response_url` (no token:
    /// the URL is the credential, so it is never logged either).
    #[tracing::instrument(name = "slack.respond", skip_all)]
    pub async fn respond(
        &self,
        response_url: &str,
        content: SlackMessageContent,
        replace_original: bool,
    ) -> Result<(), SlackApiError> {
        let url = Url::parse(response_url).map_err(|e| SlackApiError::Transport(Box::new(e)))?;
        let req = SlackApiPostWebhookMessageRequest::new(content).with_replace_original(replace_original);
        self.call(
            "response_url",
            self.client.respond_to_event(&SlackResponseUrl::new(url), &req),
        )
        .await?;
        Ok(())
    }

    /// Runs one slack-morphism call under the timeout, maps its error, and
    /// counts it by `method` and outcome.
    async fn call<T>(
        &self,
        method: &'static str,
        fut: impl Future<Output = Result<T, SlackClientError>>,
    ) -> Result<T, SlackApiError> {
        let res = match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(map_error(err)),
            Err(elapsed) => Err(SlackApiError::Transport(Box::new(elapsed))),
        };
        let outcome = match &res {
            Ok(_) => "ok",
            Err(SlackApiError::RateLimited(_)) => "rate_limited",
            // Slack's error codes are many; the logs and the delivery rows say which.
            Err(SlackApiError::Api(_)) => "api_error",
            Err(SlackApiError::Transport(_)) => "transport_error",
        };
        crate::telemetry::metrics::chat_api_call(Platform::Slack, method, outcome);
        res
    }
}

/// Every session carries the team id: slack-morphism's rate limiter keys its
/// counters by it, and without it all workspaces would share one counter.
fn api_token(token: &SecretString, team_id: &str) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(token.expose_secret().to_owned()))
        .with_team_id(SlackTeamId::new(team_id.to_owned()))
}

fn map_error(err: SlackClientError) -> SlackApiError {
    match err {
        SlackClientError::RateLimitError(e) => SlackApiError::RateLimited(e.retry_after),
        SlackClientError::ApiError(e) => SlackApiError::Api(e.code),
        other => SlackApiError::Transport(Box::new(other)),
    }
}

/// Builds the connector. slack-morphism's own `SlackClientHyperConnector::new()`
/// is https-only, which a local `http://` fake cannot use, so we build the
/// same connector type ourselves.
///
/// `native` is the result of loading the system's root certificates. Some CI
/// machines have none: then an `http://` API still works (with an empty root
/// store: no https call could succeed, and none is meant to), while an
/// `https://` API is a start-up error that says what is missing.
fn connector(
    api_url: &Url,
    native: std::io::Result<HttpsConnectorBuilder<WantsSchemes>>,
) -> anyhow::Result<SlackClientHyperHttpsConnector> {
    let plain_http = match api_url.scheme() {
        "http" => true,
        "https" => false,
        other => anyhow::bail!("Slack API URL must be http:// or https://, not {other}://"),
    };
    let builder = match native {
        Ok(builder) => builder,
        Err(err) if plain_http => {
            tracing::warn!(error = %err, "no native root certificates; only plain http will work");
            no_roots_builder()?
        }
        Err(err) => {
            return Err(anyhow::Error::new(err).context(format!(
                "cannot call the Slack API at {api_url} over https: no native root certificates could be loaded"
            )));
        }
    };
    let schemes = if plain_http {
        builder.https_or_http()
    } else {
        builder.https_only()
    };
    let https = schemes.enable_http1().enable_http2().build();
    Ok(SlackClientHyperConnector::from(https))
}

/// A TLS setup that trusts no certificate at all: https is impossible with
/// it, plain http unaffected.
fn no_roots_builder() -> anyhow::Result<HttpsConnectorBuilder<WantsSchemes>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(HttpsConnectorBuilder::new().with_tls_config(config))
}

/// What we keep from a Slack user: the display name Slack itself shows
/// (display name, else real name, else handle), a known zone or none.
fn profile_of(user: &SlackUser) -> Profile {
    fn non_empty(s: Option<&String>) -> Option<&str> {
        s.map(|s| s.trim()).filter(|s| !s.is_empty())
    }
    let profile = user.profile.as_ref();
    let display_name = non_empty(profile.and_then(|p| p.display_name.as_ref()))
        .or_else(|| non_empty(user.real_name.as_ref()))
        .or_else(|| non_empty(profile.and_then(|p| p.real_name.as_ref())))
        .or_else(|| non_empty(user.name.as_ref()))
        .unwrap_or(user.id.0.as_str())
        .to_owned();
    Profile {
        external_id: user.id.0.clone(),
        display_name,
        email: non_empty(profile.and_then(|p| p.email.as_ref()).map(|e| &e.0)).map(str::to_owned),
        tz: user.tz.as_deref().and_then(|tz| tz.parse::<Tz>().ok()),
        is_bot: user.flags.is_bot.unwrap_or(false),
        deleted: user.deleted.unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn no_roots() -> std::io::Result<HttpsConnectorBuilder<WantsSchemes>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no native root CA certificates found",
        ))
    }

    #[test]
    fn an_http_api_needs_no_root_certificates() {
        let url = Url::parse("http://127.0.0.1:9/api/").unwrap();
        assert!(connector(&url, no_roots()).is_ok());
    }

    #[test]
    fn an_https_api_without_root_certificates_is_a_clear_error() {
        let url = Url::parse("https://slack.com/api/").unwrap();
        let err = connector(&url, no_roots()).err().unwrap();
        let text = format!("{err:#}");
        assert!(text.contains("no native root certificates"), "{text}");
        assert!(text.contains("https://slack.com/api/"), "{text}");
    }

    #[test]
    fn a_base_url_that_is_not_http_is_refused() {
        assert!(SlackApi::new("ftp://slack.com/api").is_err());
        assert!(SlackApi::new("not a url").is_err());
    }

    #[tokio::test]
    async fn an_https_api_client_never_posts_to_a_plain_http_response_url() {
        let url = Url::parse("https://slack.com/api/").unwrap();
        let api = SlackApi::with_connector(connector(&url, Ok(no_roots_builder().unwrap())).unwrap(), url.as_str());
        // A listener that would see the request if one were sent.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let hook = format!("http://{}/hooks/x", listener.local_addr().unwrap());

        let err = api.respond(&hook, SlackMessageContent::new(), false).await.unwrap_err();

        assert!(matches!(err, SlackApiError::Transport(_)), "{err:?}");
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the client connected: {accepted:?}"
        );
    }

    fn user(json: serde_json::Value) -> SlackUser {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_display_name_falls_back_to_the_real_name_then_the_handle() {
        let full = user(serde_json::json!({
            "id": "U1", "name": "maria", "real_name": "Maria Garcia",
            "profile": {"display_name": "Mari", "real_name": "Maria Garcia"}
        }));
        assert_eq!(profile_of(&full).display_name, "Mari");
        let no_display = user(serde_json::json!({
            "id": "U1", "name": "maria", "real_name": "Maria Garcia",
            "profile": {"display_name": " ", "real_name": "Maria Garcia"}
        }));
        assert_eq!(profile_of(&no_display).display_name, "Maria Garcia");
        let handle_only = user(serde_json::json!({"id": "U1", "name": "maria"}));
        assert_eq!(profile_of(&handle_only).display_name, "maria");
    }

    #[test]
    fn an_unknown_or_missing_zone_is_none_and_flags_default_to_false() {
        let p = profile_of(&user(serde_json::json!({"id": "U1", "tz": "Mars/Olympus"})));
        assert_eq!(p.tz, None);
        assert!(!p.is_bot && !p.deleted);
        assert_eq!(p.email, None);
    }
}
