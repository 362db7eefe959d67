//! The scheduler's (and the commands' notices') way into Teams: a proactive
//! message in the person's personal chat with the bot (reference §3.2).
//! The personal conversation is created once (idempotent per user) and
//! remembered. A person who has not installed the app cannot be messaged
//! (403): their partners are told once what to do, and the delivery waits for
//! the install instead of being lost.

use super::connector::{Connector, ConnectorError};
use crate::clock::Clock;
use crate::domain::model::{DeliveryKind, NewDelivery, Person, Platform, Workspace};
use crate::domain::reply::Reply;
use crate::scheduler::pace::Pacing;
use crate::scheduler::pass::MAX_ATTEMPTS;
use crate::scheduler::worker::{ChatSender, SendError, SendFuture, Sent};
use crate::store::Db;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a delivery to someone who has not installed the app waits before
/// it is tried again (an install wakes it at once).
const WAIT_FOR_INSTALL: Duration = Duration::from_secs(6 * 3600);

/// The Connector activity for a reply: an Adaptive Card, or markdown text
/// for a reply that is only paragraphs (see [`super::cards`]).
pub fn message_activity(reply: &Reply) -> Value {
    super::cards::message_activity(reply, &super::cards::CardContext::default())
}

#[derive(Clone)]
pub struct TeamsSender {
    pub db: Db,
    pub connector: Arc<Connector>,
    pub clock: Clock,
}

impl TeamsSender {
    /// Posts `reply` in `to`'s personal chat with the bot.
    pub async fn deliver(&self, workspace: &Workspace, to: &Person, reply: &Reply) -> Result<Sent, SendError> {
        let store = |e: crate::store::StoreError| SendError::Retry {
            after: None,
            reason: format!("database: {e}"),
        };
        let now = self.clock.now();
        let reference = self.db.teams_conversation(to.id).await.map_err(store)?;
        let Some(reference) = reference.filter(|r| r.installed) else {
            return Err(self.not_installed(workspace, to, "never installed").await);
        };
        let conversation = match &reference.conversation_id {
            Some(c) => c.clone(),
            None => {
                let created = self
                    .connector
                    .create_conversation(&reference.service_url, &reference.tenant_id, &to.external_id)
                    .await;
                match created {
                    Ok(c) => {
                        self.db.set_teams_conversation_id(to.id, &c, now).await.map_err(store)?;
                        c
                    }
                    Err(e) => return Err(self.sort(workspace, to, e).await),
                }
            }
        };
        match self
            .connector
            .send(&reference.service_url, &conversation, &message_activity(reply))
            .await
        {
            Ok(id) => Ok(Sent {
                channel: conversation,
                ts: id,
            }),
            Err(e) => Err(self.sort(workspace, to, e).await),
        }
    }

    async fn sort(&self, workspace: &Workspace, to: &Person, e: ConnectorError) -> SendError {
        match e {
            ConnectorError::Forbidden { code, .. } => {
                if let Err(e) = self.db.teams_not_installed(to.id, &code, self.clock.now()).await {
                    tracing::warn!(error = %e, "could not record a Teams 403");
                }
                self.not_installed(workspace, to, &code).await
            }
            e if e.is_retryable() => SendError::Retry {
                after: e.retry_after(),
                reason: format!("Teams: {e}"),
            },
            e => SendError::Permanent(format!("Teams: {e}")),
        }
    }

    /// `to` cannot be messaged: each of their 1:1 partners is told once (a
    /// durable notice keyed by the person), and the delivery waits.
    async fn not_installed(&self, workspace: &Workspace, to: &Person, why: &str) -> SendError {
        let now = self.clock.now();
        match self.db.series_for_person(workspace.id, to.id, false).await {
            Ok(series) => {
                for s in series {
                    let Some(partner) = s.partner_of(to.id) else { continue };
                    let notice = NewDelivery {
                        workspace_id: workspace.id,
                        kind: DeliveryKind::Notice,
                        subject: format!("not_installed:{}", to.id),
                        slot: chrono::DateTime::UNIX_EPOCH,
                        recipient_id: partner,
                        payload: json!({ "not_installed": to.id.0 }),
                        due_at: now,
                        max_attempts: MAX_ATTEMPTS,
                    };
                    if let Err(e) = self.db.enqueue_delivery(&notice, now).await {
                        tracing::warn!(error = %e, "could not queue the not-installed notice");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not look up 1:1s for the not-installed notice"),
        }
        SendError::Waiting {
            after: WAIT_FOR_INSTALL,
            reason: format!("the app is not installed for this person in Teams ({why})"),
        }
    }
}

impl ChatSender for TeamsSender {
    fn send<'a>(&'a self, workspace: &'a Workspace, to: &'a Person, reply: &'a Reply) -> SendFuture<'a> {
        Box::pin(self.deliver(workspace, to, reply))
    }

    fn serves(&self, platform: Platform) -> bool {
        platform == Platform::Teams
    }

    fn pacing(&self, _: Platform) -> Pacing {
        Pacing::TEAMS
    }
}
