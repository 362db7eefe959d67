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
pub mod oauth;
pub mod render;
pub mod sender;
pub mod sync;
pub mod tokens;
pub mod verify;

use crate::clock::Clock;
use crate::commands::{Directory, DirectoryError, DirectoryFuture};
use crate::config::SlackConfig;
use crate::domain::model::{SeriesId, Workspace};
use crate::domain::reply::Notice;
use crate::http::AppState;
use crate::store::Db;
use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use client::{SlackApi, SlackApiError};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokens::{Installations, TokenError};
use verify::SlackSigning;

/// Clicks and events worked on at once after their answer (see
/// [`SlackState::after_answer`]).
pub const MAX_AFTER_ANSWER: usize = 256;

/// How long a command waits for `users.info` before going on with what it
/// knows: Slack wants an answer within 3 s.
const DIRECTORY_TIMEOUT: Duration = Duration::from_millis(1500);

/// The Slack side of the app, shared: a clone is one reference count (axum
/// clones the state for every request).
#[derive(Clone)]
pub struct SlackState(Arc<SlackParts>);

impl std::ops::Deref for SlackState {
    type Target = SlackParts;
    fn deref(&self) -> &SlackParts {
        &self.0
    }
}

pub struct SlackParts {
    pub signing: SlackSigning,
    pub api: SlackApi,
    /// Single-workspace mode: `SLACK_BOT_TOKEN`.
    pub bot_token: Option<SecretString>,
    /// Many workspaces: the OAuth installs (with `SLACK_CLIENT_ID`).
    pub installs: Option<Installations>,
    /// With OAuth on, `SLACK_BOT_TOKEN` serves only its own workspace,
    /// learned once from `auth.test`.
    bot_token_team: Arc<tokio::sync::OnceCell<String>>,
    /// Work finished after Slack has had its answer (message refreshes,
    /// DMs, events). Shutdown waits for it, within the grace period.
    pub background: tokio_util::task::TaskTracker,
    /// Slots for clicks and events worked on after their answer: see
    /// [`SlackState::after_answer`].
    after_answer_slots: Arc<tokio::sync::Semaphore>,
    /// 1:1s whose posted agendas and homes are being refreshed, and whether
    /// they changed again since (see [`sync::refresh`]).
    refreshing: Arc<std::sync::Mutex<HashMap<(String, SeriesId), bool>>>,
}

impl SlackState {
    pub fn new(config: &SlackConfig, db: Db, clock: Clock) -> anyhow::Result<Self> {
        let installs = match &config.oauth {
            Some(oauth) => Some(Installations::new(oauth, &config.api_url, db, clock.clone())?),
            None => None,
        };
        Ok(SlackState(Arc::new(SlackParts {
            signing: SlackSigning::new(config.signing_secret.clone(), clock),
            api: SlackApi::new(&config.api_url)?,
            bot_token: config.bot_token.clone(),
            installs,
            bot_token_team: Arc::default(),
            background: tokio_util::task::TaskTracker::new(),
            refreshing: Arc::default(),
            after_answer_slots: Arc::new(tokio::sync::Semaphore::new(MAX_AFTER_ANSWER)),
        })))
    }

    /// The bot token for a workspace: its OAuth install's (refreshed if it
    /// is about to expire), else `SLACK_BOT_TOKEN`; `Ok(None)` when it has
    /// neither.
    pub async fn token(&self, team_id: &str) -> Result<Option<SecretString>, TokenError> {
        let Some(installs) = &self.installs else {
            // Single-workspace mode: the one token, whatever the team.
            return Ok(self.bot_token.clone());
        };
        if let Some(token) = installs.bot_token(team_id).await? {
            return Ok(Some(token));
        }
        let Some(bot_token) = &self.bot_token else {
            return Ok(None);
        };
        // Never hand one workspace's token to another (an uninstalled one,
        // say): SLACK_BOT_TOKEN answers only for the team it belongs to.
        let own_team = self
            .bot_token_team
            .get_or_try_init(|| async {
                let owner = self
                    .api
                    .auth_test(bot_token, "")
                    .await
                    .map_err(TokenError::BotTokenOwner)?;
                Ok::<_, TokenError>(owner.team_id)
            })
            .await?;
        Ok((own_team == team_id).then(|| bot_token.clone()))
    }

    /// Runs `work` after the request is answered, on the tracker shutdown
    /// waits for. At most [`MAX_AFTER_ANSWER`] such jobs run at once; when
    /// all slots are taken this waits for one, so the answer itself slows
    /// down (Slack sees backpressure) instead of work queuing in memory
    /// without bound under a flood of clicks.
    pub async fn after_answer<F>(&self, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        // The semaphore is never closed: acquiring fails only if it were.
        let slot = self.after_answer_slots.clone().acquire_owned().await.ok();
        self.background.spawn(tracing::Instrument::in_current_span(async move {
            work.await;
            drop(slot);
        }));
    }

    /// The refresh bookkeeping of [`sync::refresh`]. A poisoned lock only
    /// means a refresh panicked mid-update; the map is still right.
    fn refreshing(&self) -> std::sync::MutexGuard<'_, HashMap<(String, SeriesId), bool>> {
        self.refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// [`SlackState::token`] for callers that can only skip the call: a
    /// workspace without a token, or a failure, is logged here and `None`.
    pub async fn token_for(&self, team_id: &str) -> Option<SecretString> {
        match self.token(team_id).await {
            Ok(Some(token)) => Some(token),
            Ok(None) => {
                tracing::warn!(slack.team = %team_id, "no Slack bot token for this workspace (not installed)");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), slack.team = %team_id, "no Slack bot token for this workspace");
                None
            }
        }
    }

    /// The workspace uninstalled the app or revoked its bot token: its
    /// install and tokens are deleted. Single-workspace mode keeps no
    /// stored token (the operator removes `SLACK_BOT_TOKEN`).
    pub async fn forget_workspace(&self, team_id: &str) {
        let Some(installs) = &self.installs else {
            tracing::info!(slack.team = %team_id, "Slack app uninstalled or tokens revoked (no stored tokens)");
            return;
        };
        match installs.forget(team_id).await {
            Ok(true) => tracing::info!(slack.team = %team_id, "Slack install and its tokens deleted"),
            Ok(false) => {
                tracing::info!(slack.team = %team_id, "Slack uninstall for a workspace with no stored install")
            }
            Err(e) => tracing::error!(error = %e, slack.team = %team_id, "Slack install not deleted"),
        }
    }
}

/// State of the Slack routes: the app's plus the Slack pieces, shared (axum
/// clones it for every request; the store handle alone is three reference
/// counts).
#[derive(Clone)]
pub struct SlackAppState(Arc<SlackAppParts>);

impl std::ops::Deref for SlackAppState {
    type Target = SlackAppParts;
    fn deref(&self) -> &SlackAppParts {
        &self.0
    }
}

pub struct SlackAppParts {
    pub app: AppState,
    pub slack: SlackState,
}

impl FromRef<SlackAppState> for SlackSigning {
    fn from_ref(s: &SlackAppState) -> Self {
        s.slack.signing.clone()
    }
}

pub fn routes(app: AppState, slack: SlackState) -> Router {
    let mut router = Router::new()
        .route(catalog::COMMANDS_PATH, post(inbound::slash_command))
        .route(catalog::EVENTS_PATH, post(events::events))
        .route(catalog::INTERACTIVITY_PATH, post(interactivity::interactivity));
    // The install flow exists only with SLACK_CLIENT_ID/SECRET (404 otherwise).
    if slack.installs.is_some() {
        router = router
            .route(catalog::INSTALL_PATH, get(oauth::install))
            .route(catalog::OAUTH_REDIRECT_PATH, get(oauth::oauth_redirect));
    }
    router.with_state(SlackAppState(Arc::new(SlackAppParts { app, slack })))
}

/// Slack's user directory (`users.info`) behind the command layer's seam.
pub struct SlackDirectory<'a> {
    pub slack: &'a SlackState,
}

impl Directory for SlackDirectory<'_> {
    fn profile<'a>(&'a self, workspace: &'a Workspace, external_id: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async move {
            let Some(token) = self.slack.token_for(&workspace.external_id).await else {
                return Err(DirectoryError("no Slack bot token for this workspace".into()));
            };
            let call = self.slack.api.users_info(&token, &workspace.external_id, external_id);
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
    let background = slack.background.clone();
    background.spawn(tracing::Instrument::in_current_span(async move {
        let Some(token) = slack.token_for(&team_id).await else {
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
                    .post_message(&token, &team_id, &channel, render::message(n.reply))
                    .await
            }
            .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, person.id = %n.to, "direct message not sent");
            }
        }
    }));
}
