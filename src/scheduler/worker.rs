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

use super::pace::{Pacer, Pacing};
use super::pass::still_relevant;
use crate::clock::Clock;
use crate::commands::objects::agenda_view;
use crate::commands::{self, Actor, Ctx, Directory, DirectoryFuture};
use crate::domain::model::{
    Delivery, DeliveryKind, MeetingId, Person, Platform, Profile, SeriesId, Workspace, WorkspaceId,
};
use crate::domain::reply::{Button, Reply, Text};
use crate::store::{Db, StoreError, backoff};
use crate::telemetry::metrics::{self, DeliveryOutcome};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

/// How long a claim is exclusive before another worker may take it over.
pub const LEASE: Duration = Duration::minutes(2);
const BATCH: u32 = 50;
/// A row whose turn (by the pacer) is at most this far off is waited for;
/// further off, it goes back to the queue until its turn. A batch therefore
/// always finishes well inside its lease.
const INLINE_WAIT: Duration = Duration::milliseconds(1500);
/// A pass stops claiming after this long, so planning runs again on the next
/// tick while a large burst drains over several passes.
pub const WORK_BUDGET: Duration = Duration::seconds(50);

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
    /// It will never work (user gone, bot token revoked): keep as failed.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// It cannot work until a person acts (a Teams user who has not installed
    /// the app): wait `after` without using an attempt; nothing is lost.
    #[error("waiting: {reason}")]
    Waiting { after: std::time::Duration, reason: String },
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Sent, SendError>> + Send + 'a>>;

/// A platform's way to put a message in a person's DMs. A seam: the worker
/// never imports an adapter.
pub trait ChatSender: Send + Sync {
    /// Posts `reply` in `to`'s direct messages with the bot.
    fn send<'a>(&'a self, workspace: &'a Workspace, to: &'a Person, reply: &'a Reply) -> SendFuture<'a>;
    /// Whether this sender can deliver into workspaces of `platform`.
    fn serves(&self, platform: Platform) -> bool;
    /// The rates at which `platform` accepts messages.
    fn pacing(&self, platform: Platform) -> Pacing;
}

/// Every platform this process can send through (Slack, Teams, both): one
/// sender for the worker, each delivery going to the one that serves its
/// workspace's platform.
#[derive(Default)]
pub struct Senders(pub Vec<Box<dyn ChatSender>>);

impl Senders {
    fn get(&self, platform: Platform) -> Option<&dyn ChatSender> {
        self.0.iter().find(|s| s.serves(platform)).map(|s| s.as_ref())
    }
}

impl ChatSender for Senders {
    fn send<'a>(&'a self, workspace: &'a Workspace, to: &'a Person, reply: &'a Reply) -> SendFuture<'a> {
        match self.get(workspace.platform) {
            Some(s) => s.send(workspace, to, reply),
            None => Box::pin(async move {
                Err(SendError::Permanent(format!(
                    "no sender for {} here",
                    workspace.platform.as_str()
                )))
            }),
        }
    }

    fn serves(&self, platform: Platform) -> bool {
        self.get(platform).is_some()
    }

    fn pacing(&self, platform: Platform) -> Pacing {
        self.get(platform).map_or(Pacing::SLACK, |s| s.pacing(platform))
    }
}

/// What one round of work did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Worked {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
    pub dropped: u32,
    /// Put back untried: outside working hours, or the workspace is rate limited.
    pub postponed: u32,
}

impl Worked {
    /// Counts one delivery's outcome here and in the process's metrics.
    fn count(&mut self, kind: DeliveryKind, outcome: DeliveryOutcome) {
        metrics::delivery(kind, outcome);
        match outcome {
            DeliveryOutcome::Sent => self.sent += 1,
            DeliveryOutcome::Retried => self.retried += 1,
            DeliveryOutcome::Failed => self.failed += 1,
            DeliveryOutcome::Postponed => self.postponed += 1,
            DeliveryOutcome::Dropped => self.dropped += 1,
            DeliveryOutcome::Lost => {}
        }
    }
}

/// Tells a running pass to stop: set on shutdown. The worker finishes the
/// delivery in hand, hands its other claimed rows back (due at once, no
/// attempt used) and returns, so another process or the next start sends
/// them without waiting for a lease to expire.
#[derive(Clone, Debug, Default)]
pub struct Stop(Option<tokio::sync::watch::Receiver<bool>>);

impl Stop {
    /// A stop that is never set (one-off passes, tests).
    pub fn never() -> Self {
        Stop(None)
    }

    /// Set when `rx` reads `true`.
    pub fn on(rx: tokio::sync::watch::Receiver<bool>) -> Self {
        Stop(Some(rx))
    }

    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|rx| *rx.borrow())
    }
}

/// The workspaces a pass has looked up (each once), with their pacing.
#[derive(Default)]
struct Workspaces(HashMap<WorkspaceId, Option<(Workspace, Pacing)>>);

impl Workspaces {
    async fn get(
        &mut self,
        db: &Db,
        sender: &dyn ChatSender,
        id: WorkspaceId,
    ) -> Result<Option<(Workspace, Pacing)>, StoreError> {
        if let Some(w) = self.0.get(&id) {
            return Ok(w.clone());
        }
        let w = db.workspace(id).await?.map(|w| {
            let pacing = sender.pacing(w.platform);
            (w, pacing)
        });
        self.0.insert(id, w.clone());
        Ok(w)
    }
}

/// The worker needs no directory lookups; every person it renders for is known.
pub(crate) struct NoDirectory;

impl Directory for NoDirectory {
    fn profile<'a>(&'a self, _: &'a Workspace, _: &'a str) -> DirectoryFuture<'a> {
        Box::pin(async { Ok(None::<Profile>) })
    }
}

/// Sends what is due, batch by batch, until nothing due is left or the
/// pass has used its [`WORK_BUDGET`]. Within a batch the row whose turn comes
/// first (by the pacer: the workspace's and the recipient's rates) goes
/// first; a row whose turn is further off than `INLINE_WAIT` (1.5 s) goes back to
/// the queue until then, without using a retry. A 429 pauses its workspace
/// in the pacer until Retry-After, so its other rows wait instead of meeting
/// another 429, while other workspaces carry on.
pub async fn work(
    db: &Db,
    clock: &Clock,
    sender: &dyn ChatSender,
    pacer: &mut Pacer,
    stop: &Stop,
) -> Result<Worked, StoreError> {
    let mut worked = Worked::default();
    let mut workspaces = Workspaces::default();
    let started = clock.now();
    // Bounded: a pass never spins forever, the next one continues.
    for _ in 0..200 {
        if clock.now() - started >= WORK_BUDGET || stop.is_set() {
            break;
        }
        let mut queue = db.claim_due_deliveries_fairly(clock.now(), LEASE, BATCH).await?;
        if queue.is_empty() {
            break;
        }
        while !queue.is_empty() {
            let now = clock.now();
            if now - started >= WORK_BUDGET || stop.is_set() {
                // Out of time, or shutting down: hand the rest back, due now.
                let why = if stop.is_set() {
                    "released at shutdown"
                } else {
                    "the pass ran out of time"
                };
                for d in queue.drain(..) {
                    db.postpone_delivery(&d, now, why, now).await?;
                    worked.count(d.kind, DeliveryOutcome::Postponed);
                }
                break;
            }
            let mut turns: Vec<DateTime<Utc>> = Vec::with_capacity(queue.len());
            for d in &queue {
                let turn = match workspaces.get(db, sender, d.workspace_id).await? {
                    Some((_, pacing)) => pacer.earliest(&pacing, d.workspace_id, d.recipient_id, now),
                    None => now,
                };
                turns.push(turn);
            }
            let Some((next, at)) = turns.iter().copied().enumerate().min_by_key(|(_, at)| *at) else {
                break;
            };
            if at > now + INLINE_WAIT {
                for (d, at) in queue.drain(..).zip(turns) {
                    db.postpone_delivery(&d, at, "paced: waiting for the platform's rate limit", now)
                        .await?;
                    worked.count(d.kind, DeliveryOutcome::Postponed);
                }
                break;
            }
            let d = queue.swap_remove(next);
            clock.sleep_until(at).await;
            let workspace = workspaces.get(db, sender, d.workspace_id).await?;
            deliver(db, clock.now(), sender, pacer, workspace, d, &mut worked).await?;
        }
    }
    Ok(worked)
}

/// Delivers one claimed row, counting what it sends in the pacer.
async fn deliver(
    db: &Db,
    now: DateTime<Utc>,
    sender: &dyn ChatSender,
    pacer: &mut Pacer,
    workspace: Option<(Workspace, Pacing)>,
    d: Delivery,
    worked: &mut Worked,
) -> Result<(), StoreError> {
    let Some((workspace, pacing)) = workspace else {
        db.drop_delivery(&d, "workspace gone", now).await?;
        worked.count(d.kind, DeliveryOutcome::Dropped);
        return Ok(());
    };
    if workspace.platform == Platform::Console {
        // The playground has no direct messages to deliver into.
        db.drop_delivery(&d, "console workspaces receive no notifications", now)
            .await?;
        worked.count(d.kind, DeliveryOutcome::Dropped);
        return Ok(());
    }
    if !sender.serves(workspace.platform) {
        // Another platform's notification: leave it for a worker that can send it.
        db.postpone_delivery(&d, now + LEASE, "no sender for this platform here", now)
            .await?;
        worked.count(d.kind, DeliveryOutcome::Postponed);
        return Ok(());
    }
    let Some(to) = db.person(workspace.id, d.recipient_id).await? else {
        db.drop_delivery(&d, "recipient gone", now).await?;
        worked.count(d.kind, DeliveryOutcome::Dropped);
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
                // Untried, like a paced row; `Worked` has never counted these.
                metrics::delivery(d.kind, DeliveryOutcome::Postponed);
            }
            None => {
                db.drop_delivery(&d, "the recipient has no working hours ahead", now)
                    .await?;
                worked.count(d.kind, DeliveryOutcome::Dropped);
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
            worked.count(d.kind, DeliveryOutcome::Dropped);
            return Ok(());
        }
    };
    pacer.take(&pacing, d.workspace_id, d.recipient_id, now);
    match sender.send(&workspace, &to, &reply).await {
        Ok(sent) => {
            if d.kind == DeliveryKind::Agenda
                && let Some(m) = meeting
            {
                db.record_posted_agenda(m, to.id, &sent.channel, &sent.ts, now).await?;
            }
            db.complete_delivery(&d, Some(&sent.channel), Some(&sent.ts), now)
                .await?;
            worked.count(d.kind, DeliveryOutcome::Sent);
        }
        Err(SendError::Retry { after, reason }) => {
            let next = now + backoff(d.attempts, after);
            // A rate limit pauses the whole workspace until Retry-After.
            if after.is_some() {
                pacer.pause(&pacing, d.workspace_id, next);
            }
            match db.retry_delivery(&d, next, &reason, now).await? {
                crate::store::RetryOutcome::Rescheduled => {
                    worked.count(d.kind, DeliveryOutcome::Retried);
                    metrics::delivery_retry(d.kind, after.is_some());
                }
                crate::store::RetryOutcome::Failed => worked.count(d.kind, DeliveryOutcome::Failed),
                // Our lease ran out and another worker took the row over: it decides.
                crate::store::RetryOutcome::Lost => worked.count(d.kind, DeliveryOutcome::Lost),
            }
            tracing::warn!(delivery.id = %d.id, delivery.kind = d.kind.as_str(), error = %reason, "delivery will be retried");
        }
        Err(SendError::Waiting { after, reason }) => {
            let until = now + Duration::from_std(after).unwrap_or(Duration::hours(1));
            db.postpone_delivery(&d, until, &reason, now).await?;
            worked.count(d.kind, DeliveryOutcome::Postponed);
            tracing::info!(delivery.id = %d.id, delivery.kind = d.kind.as_str(), reason = %reason, "delivery waits");
        }
        Err(SendError::Permanent(reason)) => {
            db.fail_delivery(&d, &reason, now).await?;
            worked.count(d.kind, DeliveryOutcome::Failed);
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
    match d.kind {
        DeliveryKind::Overdue => return render_overdue(db, now, workspace, to, d).await,
        DeliveryKind::ActionDigest => return render_digest(db, now, to).await,
        DeliveryKind::StuckTopic => return render_stuck(db, workspace, to, d).await,
        DeliveryKind::Notice => return render_notice(db, workspace, to, d, meeting).await,
        _ => {}
    }
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
    let actor = Actor::new(workspace.clone(), to.clone());
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

/// "It's been 20 days since your last 1:1 with Rahul" / "…skipped twice in a
/// row", with a button to schedule one. Dropped if the 1:1 is no longer
/// active or the recipient no longer manages it.
async fn render_overdue(
    db: &Db,
    now: DateTime<Utc>,
    workspace: &Workspace,
    to: &Person,
    d: &Delivery,
) -> Result<Option<Reply>, StoreError> {
    let Some(sid) = d.payload.get("series").and_then(|v| v.as_i64()).map(SeriesId) else {
        return Ok(None);
    };
    let Some(s) = db.series(workspace.id, sid).await? else {
        return Ok(None);
    };
    if s.state != crate::domain::model::SeriesState::Active || s.manager_id != to.id {
        return Ok(None);
    }
    let Some(report) = db.person(workspace.id, s.report_id).await? else {
        return Ok(None);
    };
    // Still overdue now? (A meeting may have been held since it was planned.)
    let Some(super::pass::Overdue { reason, .. }) =
        super::pass::overdue(db, &s, workspace.overdue_after_days, now).await?
    else {
        return Ok(None);
    };
    let text = match reason {
        super::plan::OverdueReason::NoneHeldFor(days) => Text::new()
            .plain(format!("It's been {days} days without a 1:1 with "))
            .bold_user(report.display_name.clone())
            .plain(". Regular 1:1s are where problems surface early — put one on the calendar."),
        super::plan::OverdueReason::SkippedTwiceInARow => Text::new()
            .plain("Your last two 1:1s with ")
            .bold_user(report.display_name.clone())
            .plain(" were skipped. Skipping tells people they're not a priority — find a time that works."),
    };
    Ok(Some(Reply::text(text).buttons(vec![
        Button::new("Schedule a 1:1", "open_extra", s.id.to_string()).primary(),
    ])))
}

/// The owner's overdue action items, with a way to complete each. Dropped
/// when nothing is overdue any more by sending time.
async fn render_digest(db: &Db, now: DateTime<Utc>, to: &Person) -> Result<Option<Reply>, StoreError> {
    let today = now.with_timezone(&to.tz()).date_naive();
    let overdue: Vec<_> = db
        .open_action_items_owned_by(to.workspace_id, to.id)
        .await?
        .into_iter()
        .filter(|a| a.due.is_some_and(|d| d < today))
        .collect();
    if overdue.is_empty() {
        return Ok(None);
    }
    let mut t = Text::new().bold(format!(
        "{} overdue action item{}",
        overdue.len(),
        if overdue.len() == 1 { "" } else { "s" }
    ));
    for a in overdue.iter().take(30) {
        t = t.newline().plain(format!("#{} ", a.id)).user(a.text.clone());
        if let Some(due) = a.due {
            t = t.plain(format!(" — due {}", commands::format_date(due)));
        }
    }
    let options = overdue
        .iter()
        .map(|a| (format!("#{} {}", a.id, a.text), a.id.to_string()))
        .collect();
    Ok(Some(Reply::text(t).select("Mark one done…", "ai_complete", options)))
}

/// A talking point that keeps rolling over, to its author: resolve it, make
/// it an action item, or drop it. Dropped if it was discussed or removed.
async fn render_stuck(db: &Db, workspace: &Workspace, to: &Person, d: &Delivery) -> Result<Option<Reply>, StoreError> {
    let Some(tp_id) = d.payload.get("point").and_then(|v| v.as_i64()) else {
        return Ok(None);
    };
    let Some(tp) = db.talking_point(crate::domain::model::TalkingPointId(tp_id)).await? else {
        return Ok(None);
    };
    if tp.state != crate::domain::model::PointState::Open || tp.author_id != to.id {
        return Ok(None);
    }
    let Some(m) = db.meeting(tp.meeting_id).await? else {
        return Ok(None);
    };
    if db.series(workspace.id, m.series_id).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(
        Reply::text(
            Text::new()
                .plain("Your talking point “")
                .user(tp.text.clone())
                .plain(format!(
                    "” has moved to the next 1:1 {} times. Resolve it, turn it into an action item, or drop it.",
                    tp.rollover_count
                )),
        )
        .buttons(vec![
            Button::new("Resolved", "tp_discussed", tp.id.to_string()).primary(),
            Button::new("Make it an action item", "open_add_action", m.id.to_string()),
            Button::new("Drop it", "tp_drop", tp.id.to_string())
                .danger()
                .confirm("Remove this talking point from the agenda?"),
        ]),
    ))
}

/// A durable one-off message: "Maria is away until …, so your 1:1 on … is
/// skipped." for a meeting the pass skipped because it fell into someone's
/// time away, or "Rahul hasn't installed the app" from a platform sender.
async fn render_notice(
    db: &Db,
    workspace: &Workspace,
    to: &Person,
    d: &Delivery,
    meeting: Option<MeetingId>,
) -> Result<Option<Reply>, StoreError> {
    if let Some(who) = d.payload.get("not_installed").and_then(|v| v.as_i64()) {
        let who = db.person(workspace.id, crate::domain::model::PersonId(who)).await?;
        return Ok(who.map(|who| not_installed_notice(&who)));
    }
    let away = d
        .payload
        .get("away")
        .and_then(|v| v.as_i64())
        .map(crate::domain::model::PersonId);
    let (Some(away), Some(m)) = (away, meeting) else {
        return Ok(None);
    };
    let (Some(away), Some(m)) = (db.person(workspace.id, away).await?, db.meeting(m).await?) else {
        return Ok(None);
    };
    let Some(until) = away.away_until else { return Ok(None) };
    Ok(Some(commands::away_notice(&away, to, until, &[m.scheduled_at])))
}

/// What a partner is told when someone cannot be messaged because they have
/// not installed the app (Teams).
pub fn not_installed_notice(who: &Person) -> Reply {
    Reply::text(
        Text::new()
            .plain("I can't reach ")
            .bold_user(who.display_name.clone())
            .plain(
                " in Teams: the 1:1s app isn't installed for them (or they blocked it), so they get no agendas \
         or reminders. Ask them to add it (in Teams: Apps, search for the app, Add), or ask your Teams \
         admin to pre-install it for everyone with an app setup policy. Nothing is lost: what is \
         waiting for them goes out as soon as they install it.",
            ),
    )
}

pub(crate) fn command_error(e: commands::CommandError) -> StoreError {
    match e {
        commands::CommandError::Store(e) => e,
        commands::CommandError::Directory(e) => StoreError::Corrupt(e.to_string()),
    }
}
