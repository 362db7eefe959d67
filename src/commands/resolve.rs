//! Finding things for a command: the caller, the person they named, the 1:1
//! they mean, and the meeting a command acts on (materialized from the
//! cadence on first use, idempotently).

use super::{Ctx, Fail, Res, oops};
use crate::domain::command::PersonRef;
use crate::domain::content;
use crate::domain::model::{Category, Meeting, MeetingId, Person, Profile, Series, SeriesState, Workspace};
use crate::domain::reply::{Button, Reply, Text};
use crate::domain::schedule;
use crate::store::{AgendaContent, CallerWith, Partnership};
use chrono::{DateTime, Duration, Utc};
use std::future::Future;
use std::pin::Pin;

/// The verified caller.
#[derive(Debug, Clone)]
pub struct Actor {
    pub workspace: Workspace,
    pub person: Person,
    /// What was read with the caller: their 1:1s, and for `agenda` the
    /// agenda it will most likely show.
    pub prefetched: Prefetched,
}

impl Actor {
    pub fn new(workspace: Workspace, person: Person) -> Actor {
        Actor {
            workspace,
            person,
            prefetched: Prefetched::default(),
        }
    }
}

/// The caller's 1:1s that have not ended ([`crate::store::Db::partnerships`]),
/// read in the caller's own read transaction for a command that goes on to
/// pick one ([`Command::picks_the_callers_one_on_one`]), and for `agenda`
/// the agenda of the meeting it will most likely show. Taken by the first
/// use of the request: a later pick reads the 1:1s as they are then, and an
/// agenda is used only for the meeting it was read for. A copy of the actor
/// carries none.
///
/// [`Command::picks_the_callers_one_on_one`]: crate::domain::command::Command::picks_the_callers_one_on_one
#[derive(Debug, Default)]
pub struct Prefetched(std::sync::Mutex<Prefetch>);

#[derive(Debug, Default)]
struct Prefetch {
    partnerships: Option<Vec<Partnership>>,
    agenda: Option<(MeetingId, AgendaContent)>,
}

impl Prefetched {
    pub fn new(partnerships: Option<Vec<Partnership>>, agenda: Option<(MeetingId, AgendaContent)>) -> Prefetched {
        Prefetched(std::sync::Mutex::new(Prefetch { partnerships, agenda }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Prefetch> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> Option<Vec<Partnership>> {
        self.lock().partnerships.take()
    }

    /// The agenda read with the caller, if it was read for `meeting`.
    pub(crate) fn take_agenda(&self, meeting: MeetingId) -> Option<AgendaContent> {
        match self.lock().agenda.take() {
            Some((id, content)) if id == meeting => Some(content),
            _ => None,
        }
    }
}

impl Clone for Prefetched {
    fn clone(&self) -> Prefetched {
        Prefetched::default()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("directory lookup failed: {0}")]
pub struct DirectoryError(pub String);

pub type DirectoryFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Profile>, DirectoryError>> + Send + 'a>>;

/// The platform's user directory: Slack `users.info`, the Teams roster, the
/// console's names. A seam so the command layer never imports an adapter.
pub trait Directory: Send + Sync {
    /// The profile of `external_id`, or `None` if the platform has no such user.
    fn profile<'a>(&'a self, workspace: &'a Workspace, external_id: &'a str) -> DirectoryFuture<'a>;
}

/// How long a fetched profile is trusted before it is fetched again.
const PROFILE_TTL_HOURS: i64 = 24;

/// Finds the person with this platform id, creating or refreshing them from
/// the directory when unknown or stale. A directory outage never blocks a
/// command: a known person is used as stored, an unknown one is created with
/// `fallback_name` and refreshed on a later call.
pub async fn resolve_actor(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    external_id: &str,
    fallback_name: &str,
) -> Result<Person, super::CommandError> {
    let known = ctx.db.person_by_external(workspace.id, external_id).await?;
    resolve_known_actor(ctx, workspace, known, external_id, fallback_name).await
}

/// [`resolve_actor`] with the stored record (if any) already read.
async fn resolve_known_actor(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    known: Option<Person>,
    external_id: &str,
    fallback_name: &str,
) -> Result<Person, super::CommandError> {
    match settle_person(ctx, workspace, known, external_id, fallback_name).await {
        Ok(p) => Ok(p),
        Err(Fail::Internal(e)) => Err(e),
        // The caller themselves cannot be "not found": the platform vouched for them.
        Err(Fail::User(_)) => Ok(ctx.db.ensure_person(workspace.id, external_id, fallback_name).await?),
    }
}

/// What to read with the caller for `command` (parsed before the caller is
/// read; `None` when it did not parse): the caller's 1:1s for a command on
/// their only one, and for `agenda` also the agenda it will show.
pub fn reads_with_caller(command: Option<&crate::domain::command::Command>, now: DateTime<Utc>) -> CallerWith {
    use crate::domain::command::Command;
    match command {
        Some(Command::Agenda { partner: None }) => CallerWith::Agenda(now),
        Some(c) if c.picks_the_callers_one_on_one() => CallerWith::OneOnOnes,
        _ => CallerWith::Nothing,
    }
}

/// The verified caller by the platform's ids: their workspace (created, or
/// renamed when the platform sends a new name) and their person, as
/// [`resolve_actor`] finds them. Both are read together (`Db::caller_with`),
/// with what `with` asks for (carried in [`Actor::prefetched`]).
pub async fn resolve_caller(
    ctx: &Ctx<'_>,
    workspace_id: &str,
    workspace_name: &str,
    person_id: &str,
    person_name: &str,
    with: CallerWith,
) -> Result<Actor, super::CommandError> {
    let read = ctx.db.caller_with(ctx.platform, workspace_id, person_id, with).await?;
    let (workspace, prefetched) = match read.workspace {
        Some(ws) if workspace_name.is_empty() || ws.name == workspace_name => {
            (ws, Prefetched::new(read.partnerships, read.agenda))
        }
        _ => {
            let ws = ctx
                .db
                .ensure_workspace(ctx.platform, workspace_id, workspace_name)
                .await?;
            (ws, Prefetched::default())
        }
    };
    let person = resolve_known_actor(ctx, &workspace, read.person, person_id, person_name).await?;
    Ok(Actor {
        workspace,
        person,
        prefetched,
    })
}

/// [`resolve_caller`] where the workspace must already be known (the bot has
/// been used there): `None` if it is not.
pub async fn resolve_caller_in_known_workspace(
    ctx: &Ctx<'_>,
    workspace_id: &str,
    person_id: &str,
) -> Result<Option<Actor>, super::CommandError> {
    let (Some(workspace), known) = ctx.db.caller(ctx.platform, workspace_id, person_id).await? else {
        return Ok(None);
    };
    let person = resolve_known_actor(ctx, &workspace, known, person_id, person_id).await?;
    Ok(Some(Actor::new(workspace, person)))
}

pub(crate) async fn person_by_platform_id(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    external_id: &str,
    fallback_name: &str,
) -> Res<Person> {
    let known = ctx.db.person_by_external(workspace.id, external_id).await?;
    settle_person(ctx, workspace, known, external_id, fallback_name).await
}

/// The person as stored if their profile is fresh, else refreshed from the directory.
async fn settle_person(
    ctx: &Ctx<'_>,
    workspace: &Workspace,
    known: Option<Person>,
    external_id: &str,
    fallback_name: &str,
) -> Res<Person> {
    let fresh = known.as_ref().is_some_and(|p| {
        p.profile_refreshed_at
            .is_some_and(|t| ctx.now - t < Duration::hours(PROFILE_TTL_HOURS))
    });
    if fresh && let Some(p) = known {
        return Ok(p);
    }
    match ctx.directory.profile(workspace, external_id).await {
        Ok(Some(profile)) => Ok(ctx.db.upsert_profile(workspace.id, &profile, ctx.now).await?),
        Ok(None) => match known {
            Some(p) => Ok(p),
            None => oops(
                Text::new()
                    .plain("I couldn't find ")
                    .user(external_id.to_string())
                    .plain(" in this workspace."),
            ),
        },
        Err(e) => {
            tracing::warn!(error = %e, "directory lookup failed; using what we know");
            match known {
                Some(p) => Ok(p),
                None => Ok(ctx.db.ensure_person(workspace.id, external_id, fallback_name).await?),
            }
        }
    }
}

/// Resolves `@person` for commands that may name anyone in the workspace
/// (`setup`, `request`). A name or e-mail must match exactly one known person.
pub(crate) async fn resolve_anyone(ctx: &Ctx<'_>, actor: &Actor, r: &PersonRef) -> Res<Person> {
    let person = match r {
        PersonRef::Mention(id) => person_by_platform_id(ctx, &actor.workspace, id, id).await?,
        PersonRef::Email(email) => one_of(
            ctx.db.people_by_email(actor.workspace.id, email).await?,
            email,
            "with the e-mail",
        )?,
        PersonRef::Name(name) => {
            // Prefer the caller's partners, so a common name still works for them.
            let partners = partners_named(ctx, actor, name).await?;
            if partners.len() == 1 {
                partners
                    .into_iter()
                    .next()
                    .map(|(_, p)| p)
                    .ok_or_else(unreachable_user)?
            } else {
                one_of(ctx.db.people_by_name(actor.workspace.id, name).await?, name, "named")?
            }
        }
    };
    if person.id == actor.person.id {
        return oops("That's you! A 1:1 needs two people — mention your report instead.");
    }
    Ok(person)
}

fn unreachable_user() -> Fail {
    Fail::User(Reply::text("I couldn't work out who you meant."))
}

fn one_of(mut people: Vec<Person>, typed: &str, how: &str) -> Res<Person> {
    match people.len() {
        1 => Ok(people.remove(0)),
        0 => oops(
            Text::new()
                .plain(format!("I don't know anyone {how} "))
                .bold_user(typed.to_string())
                .plain(" yet. Mention them (@name from the autocomplete) so I can look them up."),
        ),
        n => oops(
            Text::new()
                .plain(format!("{n} people match "))
                .bold_user(typed.to_string())
                .plain(". Mention the one you mean (@name from the autocomplete)."),
        ),
    }
}

async fn partners_named(ctx: &Ctx<'_>, actor: &Actor, name: &str) -> Res<Vec<(Series, Person)>> {
    let wanted = name.trim_start_matches('@').to_lowercase();
    let mut out = Vec::new();
    for s in ctx
        .db
        .series_for_person(actor.workspace.id, actor.person.id, true)
        .await?
    {
        let Some(pid) = s.partner_of(actor.person.id) else {
            continue;
        };
        if let Some(p) = ctx.db.person(actor.workspace.id, pid).await?
            && (p.display_name.to_lowercase() == wanted || p.external_id.to_lowercase() == wanted)
        {
            out.push((s, p));
        }
    }
    Ok(out)
}

/// Which series states a command accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Only active 1:1s (adding points, skipping, …).
    Active,
    /// Active or paused (viewing, resuming, ending).
    NotEnded,
    /// Any, including ended ones (history).
    Any,
}

impl Want {
    fn accepts(self, s: SeriesState) -> bool {
        match self {
            Want::Active => s == SeriesState::Active,
            Want::NotEnded => s != SeriesState::Ended,
            Want::Any => true,
        }
    }
}

/// The 1:1 a command means: the one with `partner`, or — with no partner
/// named — the caller's only 1:1 in a suitable state. With several, the reply
/// asks which, with a button per partner.
pub(crate) async fn pick_series(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<&PersonRef>,
    want: Want,
    command: &str,
) -> Res<(Series, Person)> {
    let (s, p, _) = pick(ctx, actor, partner, want, command).await?;
    Ok((s, p))
}

/// [`pick_series`], then [`next_meeting`] of that 1:1 (its pending meetings
/// read together with the 1:1 when the caller has only the one).
pub(crate) async fn pick_meeting(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<&PersonRef>,
    want: Want,
    command: &str,
) -> Res<(Series, Person, Meeting)> {
    let (s, p, pending) = pick(ctx, actor, partner, want, command).await?;
    let pending = match pending {
        Some(pending) => pending,
        None => ctx.db.pending_meetings(s.id).await?,
    };
    let m = next_meeting_among(ctx, &s, pending).await?;
    Ok((s, p, m))
}

/// [`pick_series`] with the 1:1's pending meetings when they were read with it.
async fn pick(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<&PersonRef>,
    want: Want,
    command: &str,
) -> Res<(Series, Person, Option<Vec<Meeting>>)> {
    let ws = actor.workspace.id;
    if let Some(r) = partner {
        let candidates: Vec<(Series, Person)> = match r {
            PersonRef::Name(name) => partners_named(ctx, actor, name).await?,
            _ => {
                let p = resolve_anyone(ctx, actor, r).await?;
                match ctx.db.series_between(ws, actor.person.id, p.id).await? {
                    Some(s) => vec![(s, p)],
                    None => {
                        return oops(
                            Text::new()
                                .plain("You don't have a 1:1 with ")
                                .bold_user(p.display_name.clone())
                                .plain(". A manager starts one with ")
                                .code(format!(
                                    "{}setup @{} weekly on monday at 10am",
                                    inv(ctx),
                                    p.display_name
                                )),
                        );
                    }
                }
            }
        };
        let (s, p) = match candidates.len() {
            0 => {
                let typed = match r {
                    PersonRef::Name(n) | PersonRef::Email(n) | PersonRef::Mention(n) => n.clone(),
                };
                return oops(
                    Text::new()
                        .plain("None of your 1:1 partners is called ")
                        .bold_user(typed)
                        .plain(". Try mentioning them, or see your 1:1s with ")
                        .code(format!("{}home", inv(ctx))),
                );
            }
            1 => candidates.into_iter().next().ok_or_else(unreachable_user)?,
            _ => return oops("More than one of your 1:1 partners has that name — mention the one you mean."),
        };
        let (s, p) = check_state(ctx, s, p, want)?;
        return Ok((s, p, None));
    }
    let mut all = Vec::new();
    let mut unsuitable = Vec::new();
    let partnerships = match actor.prefetched.take() {
        Some(prefetched) if want != Want::Any => prefetched,
        _ => ctx.db.partnerships(ws, actor.person.id, want == Want::Any).await?,
    };
    for pp in partnerships {
        if want.accepts(pp.series.state) {
            all.push(pp);
        } else {
            unsuitable.push(pp);
        }
    }
    match all.len() {
        1 => {
            let pp = all.remove(0);
            Ok((pp.series, pp.partner, pp.pending))
        }
        // Only a paused 1:1: say so rather than "you have none".
        0 if unsuitable.len() == 1 => {
            let pp = unsuitable.remove(0);
            let (s, p) = check_state(ctx, pp.series, pp.partner, want)?;
            Ok((s, p, None))
        }
        0 => oops(
            Text::new()
                .plain("You don't have any 1:1s yet. A manager starts one with ")
                .code(format!("{}setup @person weekly on monday at 10am", inv(ctx))),
        ),
        _ => {
            let mut text = Text::new().plain("You have several 1:1s — which one? Add the person to the command, e.g. ");
            text = text.code(format!("{}{command} @{}", inv(ctx), all[0].partner.display_name));
            // Each button re-runs the same line for one partner; a very long line
            // would not fit in a button value, so then the hint has to do.
            let buttons = if ctx.line.len() > 1800 {
                Vec::new()
            } else {
                all.iter()
                    .take(25)
                    .map(|pp| {
                        Button::new(
                            pp.partner.display_name.clone(),
                            "pick_partner",
                            format!("{}:{}", pp.series.id, ctx.line.trim()),
                        )
                    })
                    .collect()
            };
            Err(Fail::User(Reply::text(text).buttons(buttons)))
        }
    }
}

fn check_state(ctx: &Ctx<'_>, s: Series, p: Person, want: Want) -> Res<(Series, Person)> {
    if want.accepts(s.state) {
        return Ok((s, p));
    }
    let t = match s.state {
        SeriesState::Paused => Text::new()
            .plain("Your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(" is paused. The manager can restart it with ")
            .code(format!("{}resume", inv(ctx))),
        SeriesState::Ended => Text::new()
            .plain("Your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(" has ended. The manager can start it again with ")
            .code(format!("{}setup", inv(ctx))),
        SeriesState::Active => Text::new().plain("That 1:1 is active."),
    };
    Err(Fail::User(Reply::text(t)))
}

pub(crate) fn inv(ctx: &Ctx<'_>) -> String {
    if ctx.invocation.is_empty() {
        String::new()
    } else {
        format!("{} ", ctx.invocation)
    }
}

/// Creates (or finds) the meeting for a cadence slot, seeding the series'
/// agenda template into a newly created meeting.
pub(crate) async fn materialize(ctx: &Ctx<'_>, s: &Series, slot: DateTime<Utc>) -> Res<Meeting> {
    let (m, created) = ctx.db.insert_meeting(s.id, slot, slot).await?;
    if created && let Some(name) = &s.template {
        let items: Vec<String> = match content::builtin_template(name) {
            Some(t) => t.items.iter().map(|i| i.to_string()).collect(),
            None => ctx
                .db
                .template_by_name(s.workspace_id, name)
                .await?
                .map(|t| t.items)
                .unwrap_or_default(),
        };
        for item in items {
            ctx.db
                .add_talking_point(m.id, s.manager_id, Category::Other, &item, ctx.now)
                .await?;
        }
    }
    Ok(m)
}

fn end_of(s: &Series, m: &Meeting) -> DateTime<Utc> {
    m.scheduled_at + Duration::minutes(i64::from(s.duration_minutes))
}

/// The meeting a point added now belongs to: the earliest pending meeting
/// that has not ended yet, or the next cadence slot.
pub(crate) async fn next_meeting(ctx: &Ctx<'_>, s: &Series) -> Res<Meeting> {
    let pending = ctx.db.pending_meetings(s.id).await?;
    next_meeting_among(ctx, s, pending).await
}

/// [`next_meeting`] with the 1:1's pending meetings already read.
async fn next_meeting_among(ctx: &Ctx<'_>, s: &Series, pending: Vec<Meeting>) -> Res<Meeting> {
    let existing = pending.iter().find(|m| end_of(s, m) > ctx.now).cloned();
    // The cadence's own next slot may come before an existing pending meeting
    // (an extra meeting next week must not hide this week's regular one).
    let since = ctx.now - Duration::minutes(i64::from(s.duration_minutes));
    let regular = first_pending_slot(ctx, s, since, &pending).await;
    match (existing, regular) {
        (Some(e), Ok(r)) => Ok(if r.scheduled_at < e.scheduled_at && end_of(s, &r) > ctx.now {
            r
        } else {
            e
        }),
        (Some(e), Err(_)) => Ok(e),
        (None, r) => r,
    }
}

/// The first cadence slot after `after` whose meeting is still pending,
/// materializing it. Slots whose meeting was already held or skipped are
/// stepped over. Walking the slots (rather than starting after the latest
/// known one) keeps two concurrent requests from ever skipping a slot that
/// the other one is creating at that moment. `pending` are the 1:1's pending
/// meetings as just read: a slot found there needs no second look.
async fn first_pending_slot(ctx: &Ctx<'_>, s: &Series, mut after: DateTime<Utc>, pending: &[Meeting]) -> Res<Meeting> {
    // Bounded: a year of weekly meetings all closed ahead of time is absurd.
    for _ in 0..60 {
        let Some(slot) = schedule::next_occurrence(&s.cadence, s.time, s.tz, s.anchor_date, after) else {
            return oops("This 1:1's cadence has no future dates. The manager can fix it with `setup`.");
        };
        let m = match pending.iter().find(|m| m.slot == slot) {
            Some(m) => m.clone(),
            None => materialize(ctx, s, slot).await?,
        };
        if m.state.is_pending() {
            return Ok(m);
        }
        after = slot;
    }
    oops("I couldn't find the next meeting of this 1:1. The manager can fix it with `setup`.")
}

/// The meeting after `m`: where open points of `m` roll over to.
pub(crate) async fn meeting_after(ctx: &Ctx<'_>, s: &Series, m: &Meeting) -> Res<Meeting> {
    let pending = ctx.db.pending_meetings(s.id).await?;
    if let Some(next) = pending
        .iter()
        .find(|p| p.id != m.id && p.scheduled_at > m.scheduled_at && p.scheduled_at > ctx.now)
    {
        return Ok(next.clone());
    }
    let after = if m.slot > ctx.now { m.slot } else { ctx.now };
    let next = first_pending_slot(ctx, s, after, &pending).await?;
    if next.id == m.id {
        // `m` itself is the next slot after `after` (it was moved earlier): go past it.
        return first_pending_slot(ctx, s, m.slot.max(after), &pending).await;
    }
    Ok(next)
}

/// The meeting `held` refers to: the latest one that has started and is still
/// open, or one later today. Unmarked past slots are materialized on demand.
pub(crate) async fn current_or_latest(ctx: &Ctx<'_>, s: &Series) -> Res<Option<Meeting>> {
    let pending = ctx.db.pending_meetings(s.id).await?;
    if let Some(m) = pending
        .iter()
        .filter(|m| m.scheduled_at <= ctx.now)
        .max_by_key(|m| m.scheduled_at)
    {
        return Ok(Some(m.clone()));
    }
    // The latest cadence slot at or before now that was never materialized,
    // counting from the last meeting that was closed (a later, future slot
    // may already exist: someone added a point for next week).
    let base = match ctx.db.closed_meetings(s.id, 1).await?.into_iter().next() {
        Some(last) if last.slot <= ctx.now => last.slot,
        _ => s.created_at - Duration::seconds(1),
    };
    let mut latest = None;
    let mut cursor = base;
    for _ in 0..400 {
        match schedule::next_occurrence(&s.cadence, s.time, s.tz, s.anchor_date, cursor) {
            Some(t) if t <= ctx.now => {
                latest = Some(t);
                cursor = t;
            }
            _ => break,
        }
    }
    if let Some(slot) = latest {
        let m = materialize(ctx, s, slot).await?;
        if m.state.is_pending() {
            return Ok(Some(m));
        }
    }
    // A meeting later today may be marked held early.
    if let Some(m) = pending.into_iter().next()
        && m.scheduled_at - ctx.now <= Duration::hours(12)
    {
        return Ok(Some(m));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Cadence, Platform};
    use crate::store::{NewSeries, testing::fresh_sqlite};
    use chrono::{NaiveDate, NaiveTime, TimeZone, Weekday};

    /// The callers are stored with fresh profiles: the directory is never asked.
    struct NoDirectory;
    impl Directory for NoDirectory {
        fn profile<'a>(&'a self, _: &'a Workspace, _: &'a str) -> DirectoryFuture<'a> {
            Box::pin(async { Err(DirectoryError("not asked in this test".into())) })
        }
    }

    fn profile(id: &str, name: &str) -> Profile {
        Profile {
            external_id: id.into(),
            display_name: name.into(),
            email: None,
            tz: Some(chrono_tz::Europe::Berlin),
            is_bot: false,
            deleted: false,
        }
    }

    /// The 1:1s read with the caller serve the request's first pick, and
    /// only that one: a second pick reads them as they are then.
    #[tokio::test]
    async fn the_partnerships_read_with_the_caller_serve_the_first_pick_only() {
        let db = fresh_sqlite().await;
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let ws = db.ensure_workspace(Platform::Slack, "T1", "acme").await.unwrap();
        let m = db.upsert_profile(ws.id, &profile("U1", "maria"), now).await.unwrap();
        let r = db.upsert_profile(ws.id, &profile("U2", "rahul"), now).await.unwrap();
        let s = db
            .create_series(&NewSeries {
                workspace_id: ws.id,
                manager_id: m.id,
                report_id: r.id,
                cadence: Cadence::Weekly {
                    interval: 1,
                    weekday: Weekday::Tue,
                },
                time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
                tz: chrono_tz::Europe::Berlin,
                duration_minutes: 30,
                template: None,
                lead_minutes: 1440,
                anchor_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                created_at: now,
            })
            .await
            .unwrap();
        let ctx = Ctx {
            db: &db,
            now,
            directory: &NoDirectory,
            platform: Platform::Slack,
            invocation: "/oneonone ",
            line: "agenda",
        };
        let without = resolve_caller(&ctx, "T1", "acme", "U2", "rahul", CallerWith::Nothing)
            .await
            .unwrap();
        assert!(without.prefetched.take().is_none());
        let actor = resolve_caller(&ctx, "T1", "acme", "U2", "rahul", CallerWith::OneOnOnes)
            .await
            .unwrap();

        // The 1:1 ends after the caller was read: the first pick still works
        // on what was read with the caller (one snapshot), the next does not.
        let mut ended = s.clone();
        ended.state = SeriesState::Ended;
        db.update_series(&ended).await.unwrap();
        let (picked, partner) = pick_series(&ctx, &actor, None, Want::NotEnded, "agenda")
            .await
            .map_err(|_| "the first pick failed")
            .unwrap();
        assert_eq!((picked.id, picked.state, partner.id), (s.id, SeriesState::Active, m.id));
        assert!(pick_series(&ctx, &actor, None, Want::NotEnded, "agenda").await.is_err());
        // A copy of the actor carries nothing read before.
        assert!(actor.clone().prefetched.take().is_none());
    }

    /// An agenda read with the caller serves only the meeting it was read
    /// for, once; a copy of the actor carries none.
    #[test]
    fn an_agenda_read_with_the_caller_serves_only_its_own_meeting_once() {
        let content = AgendaContent {
            attendance: vec![],
            points: vec![],
            comments: vec![],
            items: vec![],
            notes: vec![],
        };
        let read = Prefetched::new(None, Some((MeetingId(7), content.clone())));
        assert_eq!(read.take_agenda(MeetingId(8)), None, "another meeting");
        assert_eq!(read.take_agenda(MeetingId(7)), None, "a miss drops it");
        let read = Prefetched::new(None, Some((MeetingId(7), content.clone())));
        assert_eq!(read.clone().take_agenda(MeetingId(7)), None);
        assert_eq!(read.take_agenda(MeetingId(7)), Some(content));
        assert_eq!(read.take_agenda(MeetingId(7)), None, "taken once");
    }

    /// `agenda` on the caller's only 1:1 reads its agenda with the caller;
    /// other commands on it their 1:1s; the rest the caller alone.
    #[test]
    fn what_is_read_with_the_caller_follows_the_command() {
        use crate::domain::grammar::parse;
        let now = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap();
        let with = |line: &str| reads_with_caller(Some(&parse(line).unwrap()), now);
        assert_eq!(with("agenda"), CallerWith::Agenda(now));
        assert_eq!(with("add ship it"), CallerWith::OneOnOnes);
        assert_eq!(with("held"), CallerWith::OneOnOnes);
        assert_eq!(with("agenda @sam"), CallerWith::Nothing);
        assert_eq!(with("history"), CallerWith::Nothing);
        assert_eq!(reads_with_caller(None, now), CallerWith::Nothing, "did not parse");
    }

    /// The slash command reads the caller's 1:1s with the caller exactly
    /// for the commands that pick the caller's only 1:1 not ended.
    #[test]
    fn commands_on_the_callers_only_one_on_one_are_known_before_the_caller_is_read() {
        use crate::domain::grammar::parse;
        for line in [
            "add ship it",
            "agenda",
            "comment 2 yes",
            "action call Sam",
            "note hmm",
            "held",
            "skip",
            "pause",
        ] {
            assert!(parse(line).unwrap().picks_the_callers_one_on_one(), "{line}");
        }
        for line in [
            "agenda @sam",
            "add @sam ship it",
            "history",
            "help",
            "home",
            "actions",
            "setup @sam weekly on tuesday",
        ] {
            assert!(!parse(line).unwrap().picks_the_callers_one_on_one(), "{line}");
        }
    }
}
