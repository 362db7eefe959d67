//! Commands about one meeting of a 1:1: its agenda, talking points, comments,
//! action items, private notes, and whether it was held, skipped or moved.

use super::format::{format_date, format_instant};
use super::resolve::{Actor, Want, current_or_latest, inv, meeting_after, next_meeting, pick_meeting, pick_series};
use super::{Ctx, Res, oops};
use crate::domain::command::{DateSpec, OwnerRef, PersonRef, WhenSpec};
use crate::domain::content;
use crate::domain::model::{ActionItem, Category, Meeting, MeetingState, Person, PersonId, PointState, Series};
use crate::domain::reply::{Button, Notice, Outcome, Reply, Text};
use crate::domain::schedule;
use crate::store::{AgendaContent, StoreError};
use chrono::NaiveDate;

/// Most talking points listed in one reply; the rest are counted.
const MAX_POINTS_SHOWN: usize = 60;

pub(crate) fn today_for(ctx: &Ctx<'_>, p: &Person) -> NaiveDate {
    ctx.now.with_timezone(&p.tz()).date_naive()
}

fn name_of<'a>(id: PersonId, a: &'a Person, b: &'a Person) -> &'a str {
    if id == a.id {
        &a.display_name
    } else if id == b.id {
        &b.display_name
    } else {
        "someone"
    }
}

pub(crate) async fn add(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    category: Option<Category>,
    text: String,
) -> Res<Outcome> {
    let (s, p, m) = pick_meeting(ctx, actor, partner.as_ref(), Want::Active, "add").await?;
    let cat = category.unwrap_or(Category::Other);
    let (tp, n) = ctx
        .db
        .append_point(s.id, m.id, actor.person.id, cat, &text, ctx.now)
        .await?;
    let reply = Reply::text(
        Text::new()
            .plain("Added to your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(format!(" on {}: ", format_instant(m.scheduled_at, actor.person.tz())))
            .user(tp.text.clone())
            .plain(format!(" (#{}). It's point {n} on the agenda.", cat.as_str())),
    );
    Ok(Outcome {
        reply,
        changed: vec![s.id],
        changed_marked: true,
        ..Outcome::default()
    })
}

pub(crate) async fn agenda(ctx: &Ctx<'_>, actor: &Actor, partner: Option<PersonRef>) -> Res<Outcome> {
    let (s, p, m) = pick_meeting(ctx, actor, partner.as_ref(), Want::NotEnded, "agenda").await?;
    let read = actor.prefetched.take_agenda(m.id);
    let reply = agenda_reply(ctx, &actor.person, &p, &s, &m, read).await?;
    Ok(Outcome {
        reply,
        agenda: Some(m.id),
        ..Outcome::default()
    })
}

/// The agenda of `m` as `viewer` sees it: talking points with their comments,
/// the 1:1's open action items, and the viewer's own private notes; `read`
/// is its content when already read (with the caller), else it is read here.
pub(crate) async fn agenda_reply(
    ctx: &Ctx<'_>,
    viewer: &Person,
    partner: &Person,
    s: &Series,
    m: &Meeting,
    read: Option<AgendaContent>,
) -> Result<Reply, StoreError> {
    let tz = viewer.tz();
    let mut reply = Reply::new().header(format!("1:1 with {}", truncate(&partner.display_name, 100)));
    let mut when = Text::new().plain(format!(
        "{} · {}",
        format_instant(m.scheduled_at, tz),
        super::format::format_minutes(s.duration_minutes)
    ));
    match m.state {
        MeetingState::Rescheduled => when = when.plain(" · rescheduled"),
        MeetingState::Held => when = when.plain(" · held ✓"),
        MeetingState::Skipped => when = when.plain(" · skipped"),
        MeetingState::Upcoming => {}
    }
    let content = match read {
        Some(content) => content,
        None => ctx.db.agenda_content(m.id, s.id, viewer.id).await?,
    };
    let confirmed = &content.attendance;
    if !confirmed.is_empty() {
        let names: Vec<&str> = confirmed.iter().map(|id| name_of(*id, viewer, partner)).collect();
        when = when.plain(format!(" · ✅ {} will be there", names.join(" and ")));
    }
    reply = reply.context(when);

    let (points, comments) = (&content.points, &content.comments);
    if points.is_empty() {
        let mut t = Text::new()
            .bold("No talking points yet.")
            .plain(" 1:1s work best when the report brings the topics. Add one with ")
            .code(format!("{}add your topic", inv(ctx)))
            .newline()
            .plain("Some questions to start from:");
        for q in content::suggest(m.id.0 as u64, 3) {
            t = t.newline().plain(format!("• {}", q.text));
        }
        reply = reply.section(t);
    } else {
        let t = points_text(points, comments, viewer, partner, MAX_POINTS_SHOWN);
        reply = reply.section(t);
    }

    let items = &content.items;
    if !items.is_empty() {
        let today = ctx.now.with_timezone(&tz).date_naive();
        let mut t = Text::new().bold(format!("Open action items ({})", items.len()));
        for a in items.iter().take(MAX_POINTS_SHOWN) {
            t = t.newline();
            t = action_line(t, a, name_of(a.owner_id, viewer, partner), today);
        }
        reply = reply.section(t);
    }

    let notes = &content.notes;
    if !notes.is_empty() {
        let mut t = Text::new().bold("Your private notes (only you see these)");
        for n in notes.iter().take(20) {
            t = t.newline().plain("• ").user(n.text.clone());
        }
        reply = reply.section(t);
    }
    if points.len() > MAX_POINTS_SHOWN {
        reply = reply.buttons(vec![Button::new(
            format!("Show all {} talking points", points.len()),
            "show_all_points",
            m.id.to_string(),
        )]);
    }
    if m.state.is_pending() {
        reply = agenda_controls(reply, m, points, items);
    }
    Ok(reply)
}

/// The agenda's controls: pick a point to mark discussed or an item to
/// complete, and the buttons of SPEC §6. Values name objects by id; whatever
/// comes back is re-checked against the caller (`commands::objects`).
fn agenda_controls(
    reply: Reply,
    m: &Meeting,
    points: &[crate::domain::model::TalkingPoint],
    items: &[ActionItem],
) -> Reply {
    let open_points: Vec<(String, String)> = points
        .iter()
        .enumerate()
        .filter(|(_, tp)| tp.state == PointState::Open)
        .map(|(i, tp)| (format!("{}. {}", i + 1, tp.text), tp.id.to_string()))
        .collect();
    let open_items: Vec<(String, String)> = items
        .iter()
        .map(|a| (format!("#{} {}", a.id, a.text), a.id.to_string()))
        .collect();
    let id = m.id.to_string();
    reply
        .select("Mark a point discussed…", "tp_discussed", open_points)
        .select("Complete an action item…", "ai_complete", open_items)
        .buttons(vec![
            Button::new("Add talking point", "open_add_point", id.clone()).primary(),
            Button::new("Add action item", "open_add_action", id.clone()),
            Button::new("Private note", "open_note", id.clone()),
            Button::new("Held ✓", "meeting_held", id.clone()),
            Button::new("Skip", "meeting_skip", id.clone())
                .confirm("Skip this 1:1? Open talking points move to the next one and your partner is told."),
            Button::new("Reschedule", "open_reschedule", id),
        ])
}

/// The talking points, grouped by category (in the order of SPEC §4), each
/// with its agenda number N (the order it was added: what `comment N`
/// means), author, comments, "discussed" mark and carry-over count. At most
/// `limit` points are listed; the rest are counted.
pub(crate) fn points_text(
    points: &[crate::domain::model::TalkingPoint],
    comments: &[crate::domain::model::Comment],
    viewer: &Person,
    partner: &Person,
    limit: usize,
) -> Text {
    let mut t = Text::new().bold(format!("Talking points ({})", points.len()));
    let mut shown = 0;
    for cat in Category::ALL {
        let in_cat: Vec<(usize, &crate::domain::model::TalkingPoint)> =
            points.iter().enumerate().filter(|(_, tp)| tp.category == cat).collect();
        if in_cat.is_empty() || shown >= limit {
            continue;
        }
        t = t.newline().bold(cat.title());
        for (i, tp) in in_cat {
            if shown >= limit {
                break;
            }
            shown += 1;
            t = t.newline().plain(format!("{}. ", i + 1));
            if tp.state == PointState::Discussed {
                t = t.plain("✓ ");
            }
            t = t
                .user(tp.text.clone())
                .plain(format!("  — {}", name_of(tp.author_id, viewer, partner)));
            if tp.rollover_count > 0 {
                t = t.plain(format!(" (carried over {}×)", tp.rollover_count));
            }
            for c in comments.iter().filter(|c| c.talking_point_id == tp.id) {
                t = t
                    .newline()
                    .plain(format!("      ↳ {}: ", name_of(c.author_id, viewer, partner)))
                    .user(c.text.clone());
            }
        }
    }
    if points.len() > shown {
        t = t.newline().plain(format!("…and {} more.", points.len() - shown));
    }
    t
}

/// "#12 Send the offer letter — Rahul, due Fri 4 Dec 2026 (overdue)"
pub(crate) fn action_line(t: Text, a: &ActionItem, owner: &str, today: NaiveDate) -> Text {
    let mut t = t
        .plain(format!("#{} ", a.id))
        .user(a.text.clone())
        .plain(format!(" — {owner}"));
    if let Some(due) = a.due {
        t = t.plain(format!(", due {}", format_date(due)));
        if due < today {
            t = t.bold(" (overdue)");
        }
    }
    t
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

pub(crate) async fn comment(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    point: u32,
    text: String,
) -> Res<Outcome> {
    let (_, p, m) = pick_meeting(ctx, actor, partner.as_ref(), Want::NotEnded, "comment").await?;
    let points = ctx.db.talking_points(m.id).await?;
    let Some(tp) = points.get((point as usize).wrapping_sub(1)) else {
        return oops(
            Text::new()
                .plain(format!("There is no talking point {point} on your next 1:1 with "))
                .bold_user(p.display_name.clone())
                .plain(format!(" (it has {}). See the numbers with ", points.len()))
                .code(format!("{}agenda", inv(ctx))),
        );
    };
    ctx.db.add_comment(tp.id, actor.person.id, &text, ctx.now).await?;
    Ok(Reply::text(
        Text::new()
            .plain(format!("Comment added to point {point}, "))
            .user(tp.text.clone())
            .plain(": ")
            .user(text),
    )
    .into())
}

pub(crate) async fn action(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    text: String,
    due: Option<DateSpec>,
    owner: Option<OwnerRef>,
) -> Res<Outcome> {
    let (s, p) = pick_series(ctx, actor, partner.as_ref(), Want::Active, "action").await?;
    let owner = match owner {
        None => p.clone(),
        Some(OwnerRef::Me) => actor.person.clone(),
        Some(OwnerRef::Person(r)) => {
            let o = match &r {
                PersonRef::Mention(id) => ctx.db.person_by_external(actor.workspace.id, id).await?,
                PersonRef::Email(e) => ctx
                    .db
                    .people_by_email(actor.workspace.id, e)
                    .await?
                    .into_iter()
                    .find(|x| s.is_participant(x.id)),
                PersonRef::Name(n) => {
                    let n = n.to_lowercase();
                    [&actor.person, &p]
                        .into_iter()
                        .find(|x| x.display_name.to_lowercase() == n || x.external_id.to_lowercase() == n)
                        .cloned()
                }
            };
            match o {
                Some(o) if s.is_participant(o.id) => o,
                _ => {
                    return oops(
                        Text::new()
                            .plain("An action item's owner is one of the two people in the 1:1: ")
                            .code("owner me")
                            .plain(" or ")
                            .code(format!("owner @{}", p.display_name)),
                    );
                }
            }
        }
    };
    let today = today_for(ctx, &actor.person);
    let due = due.map(|d| d.resolve(today));
    if let Some(d) = due
        && d < today
    {
        return oops(format!("The due date {} is in the past.", format_date(d)));
    }
    let m = next_meeting(ctx, &s).await?;
    let item = ctx
        .db
        .add_action_item(s.id, m.id, owner.id, actor.person.id, &text, due, ctx.now)
        .await?;
    let mut t = Text::new()
        .plain(format!("Action item #{} for ", item.id))
        .bold_user(owner.display_name.clone());
    if let Some(d) = due {
        t = t.plain(format!(", due {}", format_date(d)));
    }
    t = t.plain(": ").user(item.text.clone());
    let mut outcome: Outcome = Reply::text(t).into();
    if owner.id != actor.person.id {
        outcome.notices.push(Notice {
            to: owner.id,
            to_external: owner.external_id.clone(),
            reply: Reply::text(
                Text::new()
                    .bold_user(actor.person.display_name.clone())
                    .plain(format!(" gave you action item #{}", item.id))
                    .plain(match due {
                        Some(d) => format!(" (due {})", format_date(d)),
                        None => String::new(),
                    })
                    .plain(": ")
                    .user(item.text.clone())
                    .newline()
                    .plain("Mark it done with ")
                    .code(format!("{}complete {}", inv(ctx), item.id)),
            ),
        });
    }
    Ok(outcome)
}

pub(crate) async fn note(ctx: &Ctx<'_>, actor: &Actor, partner: Option<PersonRef>, text: String) -> Res<Outcome> {
    let (_, p, m) = pick_meeting(ctx, actor, partner.as_ref(), Want::NotEnded, "note").await?;
    ctx.db.add_private_note(m.id, actor.person.id, &text, ctx.now).await?;
    Ok(Reply::text(
        Text::new()
            .plain("Private note saved on your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(format!(
                " on {}. Only you can see it.",
                format_instant(m.scheduled_at, actor.person.tz())
            )),
    )
    .into())
}

/// The caller's answer plus a DM telling the partner, for a change to 1:1 `series`.
pub(crate) fn told(mine: Reply, partner: &Person, theirs: Reply, series: crate::domain::model::SeriesId) -> Outcome {
    Outcome {
        reply: mine,
        notices: vec![Notice {
            to: partner.id,
            to_external: partner.external_id.clone(),
            reply: theirs,
        }],
        changed: vec![series],
        changed_marked: false,
        agenda: None,
    }
}

/// Rating buttons 1–5 for a held meeting (answered through interactivity).
pub(crate) fn rating_buttons(m: &Meeting) -> Vec<Button> {
    (1..=5)
        .map(|n| Button::new(format!("{n}"), "rate", format!("{}:{n}", m.id)))
        .collect()
}

pub(crate) async fn held(ctx: &Ctx<'_>, actor: &Actor, partner: Option<PersonRef>) -> Res<Outcome> {
    let (s, p) = pick_series(ctx, actor, partner.as_ref(), Want::NotEnded, "held").await?;
    let Some(m) = current_or_latest(ctx, &s).await? else {
        let next = next_meeting(ctx, &s).await?;
        return oops(
            Text::new()
                .plain("There's no meeting to mark held yet: your next 1:1 with ")
                .bold_user(p.display_name.clone())
                .plain(format!(
                    " is on {}.",
                    format_instant(next.scheduled_at, actor.person.tz())
                )),
        );
    };
    hold(ctx, actor, &s, &p, &m).await
}

/// Marks `m` held: open points roll to the next meeting, both are asked for a rating.
pub(crate) async fn hold(ctx: &Ctx<'_>, actor: &Actor, s: &Series, p: &Person, m: &Meeting) -> Res<Outcome> {
    let next = meeting_after(ctx, s, m).await?;
    let rolled = match ctx
        .db
        .close_meeting(m.id, MeetingState::Held, None, ctx.now, Some(next.id))
        .await
    {
        Ok(n) => n,
        Err(StoreError::Conflict(_)) => return oops("That meeting was already marked held or skipped."),
        Err(e) => return Err(e.into()),
    };
    let question = "How useful was this 1:1? (1 = not at all, 5 = very) Only aggregates are ever shown.";
    let mine = Reply::text(
        Text::new()
            .plain("Marked your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(format!(
                " on {} as held.",
                format_instant(m.scheduled_at, actor.person.tz())
            ))
            .plain(rolled_text(rolled, &next, actor.person.tz())),
    )
    .context(question)
    .buttons(rating_buttons(m));
    let theirs = Reply::text(
        Text::new()
            .bold_user(actor.person.display_name.clone())
            .plain(format!(
                " marked your 1:1 on {} as held.",
                format_instant(m.scheduled_at, p.tz())
            ))
            .plain(rolled_text(rolled, &next, p.tz())),
    )
    .context(question)
    .buttons(rating_buttons(m));
    Ok(told(mine, p, theirs, s.id))
}

fn rolled_text(rolled: u32, next: &Meeting, tz: chrono_tz::Tz) -> String {
    match rolled {
        0 => String::new(),
        1 => format!(
            " 1 open talking point moved to {}.",
            format_instant(next.scheduled_at, tz)
        ),
        n => format!(
            " {n} open talking points moved to {}.",
            format_instant(next.scheduled_at, tz)
        ),
    }
}

pub(crate) async fn skip(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    reason: Option<String>,
) -> Res<Outcome> {
    let (s, p, m) = pick_meeting(ctx, actor, partner.as_ref(), Want::Active, "skip").await?;
    skip_one(ctx, actor, &s, &p, &m, reason).await
}

/// Skips `m`: open points roll to the next meeting, the partner is told.
pub(crate) async fn skip_one(
    ctx: &Ctx<'_>,
    actor: &Actor,
    s: &Series,
    p: &Person,
    m: &Meeting,
    reason: Option<String>,
) -> Res<Outcome> {
    let next = meeting_after(ctx, s, m).await?;
    let rolled = match ctx
        .db
        .close_meeting(m.id, MeetingState::Skipped, reason.as_deref(), ctx.now, Some(next.id))
        .await
    {
        Ok(n) => n,
        Err(StoreError::Conflict(_)) => return oops("That meeting was already marked held or skipped."),
        Err(e) => return Err(e.into()),
    };
    let reason_text = |t: Text| match &reason {
        Some(r) => t.plain(" Reason: ").user(r.clone()),
        None => t,
    };
    let mine = Reply::text(reason_text(
        Text::new()
            .plain("Skipped your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(format!(" on {}.", format_instant(m.scheduled_at, actor.person.tz())))
            .plain(rolled_text(rolled, &next, actor.person.tz()))
            .plain(format!(
                " Next one: {}. ",
                format_instant(next.scheduled_at, actor.person.tz())
            ))
            .plain("I've let them know."),
    ));
    let theirs = Reply::text(reason_text(
        Text::new()
            .bold_user(actor.person.display_name.clone())
            .plain(format!(
                " skipped your 1:1 on {}.",
                format_instant(m.scheduled_at, p.tz())
            ))
            .plain(rolled_text(rolled, &next, p.tz()))
            .plain(format!(" Next one: {}.", format_instant(next.scheduled_at, p.tz()))),
    ));
    Ok(told(mine, p, theirs, s.id))
}

pub(crate) async fn reschedule(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    when: WhenSpec,
) -> Res<Outcome> {
    let (s, p, m) = pick_meeting(ctx, actor, partner.as_ref(), Want::Active, "reschedule").await?;
    let date = when.date.resolve(today_for(ctx, &actor.person));
    // A typed time is in the caller's zone; without one the 1:1 keeps its usual time.
    let at = match when.time {
        Some(t) => schedule::localize(actor.person.tz(), date, t),
        None => schedule::localize(s.tz, date, s.time),
    };
    move_to(ctx, actor, &s, &p, &m, at).await
}

/// Moves `m` to `at` (in the future, within a year); the partner is told.
pub(crate) async fn move_to(
    ctx: &Ctx<'_>,
    actor: &Actor,
    s: &Series,
    p: &Person,
    m: &Meeting,
    at: chrono::DateTime<chrono::Utc>,
) -> Res<Outcome> {
    if at <= ctx.now {
        return oops(format!(
            "{} is in the past — pick a time that's still ahead.",
            format_instant(at, actor.person.tz())
        ));
    }
    if at - ctx.now > chrono::Duration::days(366) {
        return oops("That's more than a year away — pick a date within the next year.");
    }
    match ctx.db.reschedule_meeting(m.id, at).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return oops("That meeting was already marked held or skipped."),
        Err(e) => return Err(e.into()),
    }
    let mine = Reply::text(
        Text::new()
            .plain("Moved your 1:1 with ")
            .bold_user(p.display_name.clone())
            .plain(format!(
                " from {} to {}. I've let them know.",
                format_instant(m.scheduled_at, actor.person.tz()),
                format_instant(at, actor.person.tz())
            )),
    );
    let theirs = Reply::text(Text::new().bold_user(actor.person.display_name.clone()).plain(format!(
        " moved your 1:1 from {} to {}.",
        format_instant(m.scheduled_at, p.tz()),
        format_instant(at, p.tz())
    )));
    Ok(told(mine, p, theirs, s.id))
}

pub(crate) async fn history(
    ctx: &Ctx<'_>,
    actor: &Actor,
    partner: Option<PersonRef>,
    count: Option<u32>,
) -> Res<Outcome> {
    let (s, p) = pick_series(ctx, actor, partner.as_ref(), Want::Any, "history").await?;
    let n = count.unwrap_or(5).clamp(1, 20);
    let meetings = ctx.db.closed_meetings(s.id, n).await?;
    let tz = actor.person.tz();
    let mut reply = Reply::new().header(format!("History of your 1:1 with {}", truncate(&p.display_name, 90)));
    if meetings.is_empty() {
        return Ok(reply
            .section("No meetings have been held or skipped yet. After a meeting, mark it with `held` or `skip`.")
            .into());
    }
    let today = today_for(ctx, &actor.person);
    for m in &meetings {
        let mut t = Text::new().bold(format_instant(m.scheduled_at, tz));
        match m.state {
            MeetingState::Skipped => {
                t = t.plain(" — skipped");
                if let Some(r) = &m.skip_reason {
                    t = t.plain(" (").user(r.clone()).plain(")");
                }
            }
            _ => t = t.plain(" — held"),
        }
        let points = ctx.db.talking_points(m.id).await?;
        let comments = ctx.db.comments_for_meeting(m.id).await?;
        for tp in points.iter().take(30) {
            t = t
                .newline()
                .plain(if tp.state == PointState::Discussed {
                    "✓ "
                } else {
                    "• "
                })
                .user(tp.text.clone());
            t = t.plain(format!(" — {}", name_of(tp.author_id, &actor.person, &p)));
            for c in comments.iter().filter(|c| c.talking_point_id == tp.id).take(10) {
                t = t
                    .newline()
                    .plain(format!("      ↳ {}: ", name_of(c.author_id, &actor.person, &p)))
                    .user(c.text.clone());
            }
        }
        for a in ctx.db.action_items_created_in(m.id).await?.iter().take(20) {
            t = t
                .newline()
                .plain(if a.state == crate::domain::model::ActionState::Done {
                    "☑ "
                } else {
                    "☐ "
                });
            t = action_line(t, a, name_of(a.owner_id, &actor.person, &p), today);
        }
        for note in ctx.db.private_notes(m.id, actor.person.id).await?.iter().take(10) {
            t = t.newline().plain("🔒 ").user(note.text.clone());
        }
        // Ratings are private: the caller sees only their own (SPEC §6).
        if let Some(r) = ctx
            .db
            .ratings_for_meeting(m.id)
            .await?
            .into_iter()
            .find(|r| r.person_id == actor.person.id)
        {
            t = t.newline().plain(format!("You rated it {}/5", r.score));
        }
        reply = reply.section(t);
    }
    Ok(reply.into())
}
