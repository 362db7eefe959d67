//! The scheduler's way into Slack: one `chat.postMessage` to the person's
//! user id per notification (Slack puts it in their DM with the bot), paced
//! at Slack's rates ([`Pacing::SLACK`]), with Slack's failures sorted into
//! "try again later" (429 with its Retry-After, outages) and "never"
//! (the user or the app is gone).

use super::client::SlackApiError;
use super::{SlackState, render};
use crate::domain::model::{Person, Platform, Workspace};
use crate::domain::reply::Reply;
use crate::scheduler::pace::Pacing;
use crate::scheduler::worker::{ChatSender, SendError, SendFuture, Sent};

pub struct SlackSender {
    pub slack: SlackState,
}

/// Slack error codes that no retry will fix.
const PERMANENT: &[&str] = &[
    "user_not_found",
    "account_inactive",
    "user_disabled",
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "team_access_not_granted",
];

fn sort(e: SlackApiError) -> SendError {
    match e {
        SlackApiError::RateLimited(after) => SendError::Retry {
            after,
            reason: "Slack rate limit".into(),
        },
        SlackApiError::Api(code) if PERMANENT.contains(&code.as_str()) => {
            SendError::Permanent(format!("Slack: {code}"))
        }
        SlackApiError::Api(code) => SendError::Retry {
            after: None,
            reason: format!("Slack: {code}"),
        },
        SlackApiError::Transport(_) => SendError::Retry {
            after: None,
            reason: "Slack unreachable".into(),
        },
    }
}

impl ChatSender for SlackSender {
    fn send<'a>(&'a self, workspace: &'a Workspace, to: &'a Person, reply: &'a Reply) -> SendFuture<'a> {
        Box::pin(async move {
            let token = match self.slack.token(&workspace.external_id).await {
                Ok(Some(token)) => token,
                // Not installed (or uninstalled): no retry will bring a token.
                Ok(None) => return Err(SendError::Permanent("no Slack bot token for this workspace".into())),
                // The database, the key or a refresh failed: try again later.
                Err(e) => {
                    tracing::warn!(error = %e, "no Slack bot token just now");
                    return Err(SendError::Retry {
                        after: None,
                        reason: "Slack bot token unavailable".into(),
                    });
                }
            };
            let (channel, ts) = self
                .slack
                .api
                .post_dm(
                    &token,
                    &workspace.external_id,
                    &to.external_id,
                    render::message(reply.clone()),
                )
                .await
                .map_err(sort)?;
            Ok(Sent { channel, ts })
        })
    }

    fn serves(&self, platform: Platform) -> bool {
        platform == Platform::Slack
    }

    fn pacing(&self, _: Platform) -> Pacing {
        Pacing::SLACK
    }
}
