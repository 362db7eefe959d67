//! The Slack adapter: verifies every request on its raw bytes, translates
//! slash commands (and DMs to the bot) into `Command`s for the command layer,
//! renders the `Reply` as Block Kit, and sends direct messages through the
//! Web API. It owns no rules of its own.

pub mod catalog;
pub mod client;
pub mod events;
pub mod inbound;
pub mod interactivity;
pub mod modals;
pub mod render;
pub mod sender;
pub mod sync;
pub mod verify;

use crate::clock::Clock;
use crate::commands::{Directory, DirectoryError, DirectoryFuture};
use crate::config::SlackConfig;
use crate::domain::model::Workspace;
use crate::domain::reply::Notice;
use crate::http::AppState;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::post;
use client::{SlackApi, SlackApiError};
use secrecy::SecretString;
use std::time::Duration;
use verify::SlackSigning;

/// How long a command waits for `users.info` before going on with what it
/// knows: Slack wants an answer within 3 s.
const DIRECTORY_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Clone)]
pub struct SlackState {
    pub signing: SlackSigning,
    pub api: SlackApi,
    pub bot_token: Option<SecretString>,
}

impl SlackState {
    pub fn new(config: &SlackConfig, clock: Clock) -> anyhow::Result<Self> {
        Ok(SlackState {
            signing: SlackSigning::new(config.signing_secret.clone(), clock),
            api: SlackApi::new(&config.api_url)?,
            bot_token: config.bot_token.clone(),
        })
    }

    /// The bot token for a workspace (single-workspace mode: the configured one).
    pub fn token_for(&self, _team_id: &str) -> Option<&SecretString> {
        self.bot_token.as_ref()
    }
}

/// State of the Slack routes: the app's plus the Slack pieces.
#[derive(Clone)]
pub struct SlackAppState {
    pub app: AppState,
    pub slack: SlackState,
}

impl FromRef<SlackAppState> for SlackSigning {
    fn from_ref(s: &SlackAppState) -> Self {
        s.slack.signing.clone()
    }
}

pub fn routes(app: AppState, slack: SlackState) -> Router {
    Router::new()
        .route(catalog::COMMANDS_PATH, post(inbound::slash_command))
        .route(catalog::EVENTS_PATH, post(events::events))
        .route(catalog::INTERACTIVITY_PATH, post(interactivity::interactivity))
        .with_state(SlackAppState { app, slack })
}

/// Slack's user directory (`users.info`) behind the command layer's seam.
pub struct SlackDirectory<'a> {
    pub slack: &'a SlackState,
}

impl Directory for SlackDirectory<'_> {
    fn profile<'a>(&'a self, workspace: &'a Workspace, external_id: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async move {
            let Some(token) = self.slack.token_for(&workspace.external_id) else {
                return Err(DirectoryError("no Slack bot token configured".into()));
            };
            let call = self.slack.api.users_info(token, &workspace.external_id, external_id);
            match tokio::time::timeout(DIRECTORY_TIMEOUT, call).await {
                Ok(Ok(profile)) => Ok(Some(profile)),
                Ok(Err(SlackApiError::Api(code))) if code == "user_not_found" => Ok(None),
                Ok(Err(e)) => Err(DirectoryError(e.to_string())),
                Err(_) => Err(DirectoryError("users.info timed out".into())),
            }
        })
    }
}

/// Sends each notice as a DM (`conversations.open` + `chat.postMessage`),
/// after the command has been answered. Failures are logged, once each.
pub fn deliver_notices(slack: SlackState, team_id: String, notices: Vec<Notice>) {
    if notices.is_empty() {
        return;
    }
    tokio::spawn(tracing::Instrument::in_current_span(async move {
        let Some(token) = slack.token_for(&team_id).cloned() else {
            tracing::warn!(
                count = notices.len(),
                "cannot send direct messages: no Slack bot token configured"
            );
            return;
        };
        for n in notices {
            let sent = async {
                let channel = slack.api.open_dm(&token, &team_id, &n.to_external).await?;
                slack
                    .api
                    .post_message(&token, &team_id, &channel, render::message(&n.reply))
                    .await
            }
            .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, person.id = %n.to, "direct message not sent");
            }
        }
    }));
}
