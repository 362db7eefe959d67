//! Microsoft Teams: a second thin adapter over the same commands, store and
//! scheduler, speaking the Bot Framework protocol directly (SPEC §7).
//!
//! - [`auth`]: the Bot Connector's JWT on every inbound request (keys from
//!   the OpenID metadata, cached, refreshed on an unknown key id).
//! - [`connector`]: outbound — the client-credentials token, the Connector
//!   REST calls, and the trusted service URLs the token may go to.
//! - [`inbound`]: `POST /api/messages` — messages, card clicks, reactions,
//!   installation and conversation updates.
//! - [`activity`]: the activity fields the bot reads, and a message as a
//!   line of the command grammar (mentions rewritten).
//! - [`actions`]: card clicks as the same id-addressed operations as Slack's buttons.
//! - [`cards`]: `Reply` → Adaptive Card 1.5 (Universal Actions), and card
//!   actions read back.
//! - [`forms`]: the set-up form (a people picker).
//! - [`sender`]: proactive messages for the scheduler and notices.
//! - [`package`]: the Teams app package (`oneonone teams-package`).

pub mod actions;
pub mod activity;
pub mod auth;
pub mod cards;
pub mod connector;
pub mod forms;
pub mod inbound;
pub mod package;
pub mod sender;

use crate::clock::Clock;
use crate::commands::{Directory, DirectoryFuture};
use crate::config::TeamsConfig;
use crate::domain::model::{Profile, Workspace};
use crate::http::AppState;
use crate::store::Db;
use axum::Router;
use axum::routing::post;
use std::sync::Arc;

/// The route the Azure Bot's messaging endpoint points at.
pub const MESSAGES_PATH: &str = "/api/messages";

/// The Teams pieces: inbound auth, the Connector, the proactive sender.
#[derive(Clone)]
pub struct TeamsState {
    pub config: Arc<TeamsConfig>,
    pub auth: auth::BotAuth,
    pub connector: Arc<connector::Connector>,
    pub sender: sender::TeamsSender,
}

impl TeamsState {
    pub fn new(config: &TeamsConfig, db: Db, clock: Clock) -> anyhow::Result<Self> {
        let connector = Arc::new(connector::Connector::new(config, clock.clone())?);
        Ok(TeamsState {
            config: Arc::new(config.clone()),
            auth: auth::BotAuth::new(config, clock.clone())?,
            sender: sender::TeamsSender {
                db,
                connector: connector.clone(),
                clock,
            },
            connector,
        })
    }
}

/// State of the Teams route: the app's plus the Teams pieces.
#[derive(Clone)]
pub struct TeamsAppState {
    pub app: AppState,
    pub teams: TeamsState,
}

pub fn routes(app: AppState, teams: TeamsState) -> Router {
    Router::new()
        .route(MESSAGES_PATH, post(inbound::messages))
        .with_state(TeamsAppState { app, teams })
}

/// A directory that knows nobody: for rendering and refreshing, where every
/// person involved is already stored.
pub(crate) struct NoDirectory;

impl Directory for NoDirectory {
    fn profile<'a>(&'a self, _: &'a Workspace, _: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async { Ok(None::<Profile>) })
    }
}
