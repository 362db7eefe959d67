//! The delivery worker: claims due deliveries with a lease, renders each
//! through the same `Reply` the commands use, sends it through the
//! platform's `ChatSender`, and records the outcome.
//!
//! Exactly once: a delivery row exists once (unique key); a claim takes it
//! for one worker until its lease ends; completion only counts from the
//! claimed state. A crash between claim and send leaves the row to be
//! claimed again when the lease expires. Failures are retried with
//! exponential backoff (never sooner than a 429's `Retry-After`) and kept as
//! `failed` after the last attempt.

use super::pass::still_relevant;
use crate::commands::objects::agenda_view;
use crate::commands::{self, Actor, Ctx, Directory, DirectoryFuture};
use crate::domain::model::{Delivery, DeliveryKind, MeetingId, Person, Platform, Profile, SeriesId, Workspace};
use crate::domain::reply::{Button, Reply, Text};
use crate::store::{Db, StoreError, backoff};
use chrono::{DateTime, Duration, Utc};
use std::future::Future;
use std::pin::Pin;

/// How long a claim is exclusive before another worker may take it over.
pub const LEASE: Duration = Duration::minutes(2);
const BATCH: u32 = 50;

/// Where a sent message landed (Slack: the DM channel and the message ts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub channel: String,
    pub ts: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later (rate limit, outage); `after` is the platform's Retry-After.
    #[error("temporary failure: {reason}")]
    Retry {
        after: Option<std::time::Duration>,
        reason: String,
    },
    /// It will never work (user gone, app not installed): keep as failed.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Sent, SendError>> + Send + 'a>>;

/// A platform's way to put a message in a person's DMs. A seam: the worker
/// never imports an adapter.
pub trait ChatSender: Send + Sync {
    /// Posts `reply` in `to`'s direct messages with the bot.
    fn send<'a>(&'a self, workspace: &'a Workspace, to: &'a Person, reply: &'a Reply) -> SendFuture<'a>;
    /// The platform whose workspaces this sender serves.
    fn platform(&self) -> Platform;
}

/// What one round of work did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Worked {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
    pub dropped: u32,
}

/// The worker needs no directory lookups; every person it renders for is known.
struct NoDirectory;

impl Directory for NoDirectory {
    fn profile<'a>(&'a self, _: &'a Workspace, _: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async { Ok(None::<Profile>) })
    }
}

/// Sends everything due at `now`, batch by batch, until nothing is left.
pub async fn work(db: &Db, now: DateTime<Utc>, sender: &dyn ChatSender) -> Result<Worked, StoreError> {
    let mut worked = Worked::default();
    // Bounded: a pass never spins forever, the next one continues.
    for _ in 0..200 {
        let batch = db.claim_due_deliveries(now, LEASE, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        for d in batch {
            deliver(db, now, sender, d, &mut worked).await?;
        }
    }
    Ok(worked)
}

async fn deliver(
    db: &Db,
    now: DateTime<Utc>,
    sender: &dyn ChatSender,
    d: Delivery,
    worked: &mut Worked,
) -> Result<(), StoreError> {
    let Some(workspace) = db.workspace(d.workspace_id).await? else {
        db.drop_delivery(&d, "workspace gone", now).await?;
        worked.dropped += 1;
        return Ok(());
    };
    if workspace.platform == Platform::Console {
        // The playground has no direct messages to deliver into.
        db.drop_delivery(&d, "console workspaces receive no notifications", now)
            .await?;
        worked.dropped += 1;
        return Ok(());
    }
    if workspace.platform != sender.platform() {
        // Another platform's notification: leave it for a worker that can send it.
        db.retry_delivery(&d, now + LEASE, "no sender for this platform here", now)
            .await?;
        return Ok(());
    }
    let Some(to) = db.person(workspace.id, d.recipient_id).await? else {
        db.drop_delivery(&d, "recipient gone", now).await?;
        worked.dropped += 1;
        return Ok(());
    };
    // Nothing reaches someone who is away, and nothing but a last-minute
    // agenda goes out of working hours (a pass after downtime may find work
    // that was due in hours that have since ended): wait for the next allowed moment.
    if super::plan::is_away(&to, now) || (d.kind != DeliveryKind::Agenda && !super::plan::is_allowed(&to, now)) {
        match super::plan::next_allowed(&to, now) {
            Some(next) => {
                db.retry_delivery(&d, next, "waiting for the recipient's working hours", now)
                    .await?;
            }
            None => {
                db.drop_delivery(&d, "the recipient has no working hours ahead", now)
                    .await?;
                worked.dropped += 1;
            }
        }
        return Ok(());
    }
    let meeting = d.payload.get("meeting").and_then(|v| v.as_i64()).map(MeetingId);
    let reply = match render(db, now, &workspace, &to, &d, meeting).await? {
        Some(reply) => reply,
        None => {
            db.drop_delivery(&d, "no longer relevant (held, skipped, moved or passed)", now)
                .await?;
            worked.dropped += 1;
            return Ok(());
        }
    };
    match sender.send(&workspace, &to, &reply).await {
        Ok(sent) => {
            if d.kind == DeliveryKind::Agenda
                && let Some(m) = meeting
            {
                db.record_posted_agenda(m, to.id, &sent.channel, &sent.ts, now).await?;
            }
            db.complete_delivery(&d, Some(&sent.channel), Some(&sent.ts), now)
                .await?;
            worked.sent += 1;
        }
        Err(SendError::Retry { after, reason }) => {
            let next = now + backoff(d.attempts, after);
            match db.retry_delivery(&d, next, &reason, now).await? {
                crate::store::RetryOutcome::Rescheduled => worked.retried += 1,
                crate::store::RetryOutcome::Failed => worked.failed += 1,
                // Our lease ran out and another worker took the row over: it decides.
                crate::store::RetryOutcome::Lost => {}
            }
            tracing::warn!(delivery.id = %d.id, delivery.kind = d.kind.as_str(), error = %reason, "delivery will be retried");
        }
        Err(SendError::Permanent(reason)) => {
            db.fail_delivery(&d, &reason, now).await?;
            worked.failed += 1;
            tracing::warn!(delivery.id = %d.id, delivery.kind = d.kind.as_str(), error = %reason, "delivery failed");
        }
    }
    Ok(())
}

/// The message for a delivery, rendered now (so it shows the agenda as it is
/// at sending time); `None` when it should not be sent any more.
async fn render(
    db: &Db,
    now: DateTime<Utc>,
    workspace: &Workspace,
    to: &Person,
    d: &Delivery,
    meeting: Option<MeetingId>,
) -> Result<Option<Reply>, StoreError> {
    let Some(m) = meeting else { return Ok(None) };
    let Some(meeting) = db.meeting(m).await? else {
        return Ok(None);
    };
    if !still_relevant(d.kind, &meeting, now) {
        return Ok(None);
    }
    let ctx = Ctx {
        db,
        now,
        directory: &NoDirectory,
        platform: workspace.platform,
        invocation: if workspace.platform == Platform::Slack {
            "/oneonone"
        } else {
            ""
        },
        line: "",
    };
    let actor = Actor {
        workspace: workspace.clone(),
        person: to.clone(),
    };
    let agenda = agenda_view(&ctx, &actor, meeting.id).await.map_err(command_error)?;
    let Some(agenda) = agenda else { return Ok(None) };
    match d.kind {
        DeliveryKind::Agenda => Ok(Some(agenda)),
        DeliveryKind::FollowUp => {
            let series = d.payload.get("series").and_then(|v| v.as_i64()).map(SeriesId);
            let partner = match series {
                Some(sid) => match db.series(workspace.id, sid).await? {
                    Some(s) => match s.partner_of(to.id) {
                        Some(pid) => db.person(workspace.id, pid).await?,
                        None => None,
                    },
                    None => None,
                },
                None => None,
            };
            let Some(partner) = partner else { return Ok(None) };
            let when = commands::format_instant(meeting.scheduled_at, to.tz());
            let id = meeting.id.to_string();
            Ok(Some(
                Reply::text(
                    Text::new()
                        .plain("Did your 1:1 with ")
                        .bold_user(partner.display_name.clone())
                        .plain(format!(" on {when} happen?")),
                )
                .buttons(vec![
                    Button::new("Yes, held", "meeting_held", id.clone()).primary(),
                    Button::new("No, skipped", "meeting_skip", id.clone()),
                    Button::new("Reschedule…", "open_reschedule", id),
                ]),
            ))
        }
        _ => Ok(None),
    }
}

fn command_error(e: commands::CommandError) -> StoreError {
    match e {
        commands::CommandError::Store(e) => e,
        commands::CommandError::Directory(e) => StoreError::Corrupt(e.to_string()),
    }
}
