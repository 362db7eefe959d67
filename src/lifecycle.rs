//! The data lifecycle behind `oneonone export`, `purge-person` and `backup`
//! (README "Backups and your data"): finding a workspace and a person by the
//! ids an operator can see, building the JSON export, erasing a person, and
//! writing files atomically. The SQL lives in `store::lifecycle`; this
//! module decides what goes into an export and what a summary says.
//!
//! Imports `domain` and `store`; no adapter.

use crate::domain::model::*;
use crate::store::{Db, ERASED_PREFIX, PurgeCounts, WorkspaceContent, encode_cadence};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

/// The version of the export's JSON layout; raised when a field changes
/// meaning or disappears (new fields may appear without a raise).
pub const FORMAT_VERSION: u32 = 1;

/// A request the operator has to correct: one line on stderr and exit code 2
/// (like a usage error), nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no workspace {0:?}: give its Slack team id (T…), Teams tenant id, console name or numeric id")]
    UnknownWorkspace(String),
    #[error("{0:?} names several workspaces (ids {1}); give the numeric id")]
    AmbiguousWorkspace(String, String),
    #[error(
        "no person {0:?} in workspace {1}: give their Slack user id (U…), Teams id (29:…) or Entra object id, e-mail or numeric id (an erased person is found by numeric id only)"
    )]
    UnknownPerson(String, String),
    #[error("{0:?} names several people in workspace {1} (ids {2}); give the numeric id")]
    AmbiguousPerson(String, String, String),
    #[error("not confirmed; nothing was erased")]
    NotConfirmed,
    #[error("{0}")]
    Backup(String),
}

fn ids<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

fn numeric(arg: &str) -> Option<i64> {
    (!arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()))
        .then(|| arg.parse().ok())
        .flatten()
}

/// The workspace named by `arg`: a numeric id, else a platform id (Slack team,
/// Teams tenant, console name) on any platform.
pub async fn find_workspace(db: &Db, arg: &str) -> anyhow::Result<Workspace> {
    let arg = arg.trim();
    if let Some(n) = numeric(arg)
        && let Some(ws) = db.workspace(WorkspaceId(n)).await?
    {
        return Ok(ws);
    }
    let mut found = db.workspaces_by_external(arg).await?;
    match found.len() {
        0 => Err(Refusal::UnknownWorkspace(arg.into()).into()),
        1 => Ok(found.remove(0)),
        _ => Err(Refusal::AmbiguousWorkspace(arg.into(), ids(found.iter().map(|w| w.id))).into()),
    }
}

/// The person of `ws` named by `arg`: a numeric id, their platform user id
/// (Slack `U…`, Teams `29:…`), their Teams Entra (AAD) object id, or their
/// e-mail address.
pub async fn find_person(db: &Db, ws: &Workspace, arg: &str) -> anyhow::Result<Person> {
    let arg = arg.trim();
    if let Some(n) = numeric(arg)
        && let Some(p) = db.person(ws.id, PersonId(n)).await?
    {
        return Ok(p);
    }
    if let Some(p) = db.person_by_external(ws.id, arg).await? {
        return Ok(p);
    }
    let mut found = db.people_by_aad_object_id(ws.id, arg).await?;
    if found.is_empty() && arg.contains('@') {
        found = db.people_by_email(ws.id, arg).await?;
    }
    let label = format!("{} ({})", ws.external_id, ws.id);
    match found.len() {
        0 => Err(Refusal::UnknownPerson(arg.into(), label).into()),
        1 => Ok(found.remove(0)),
        _ => Err(Refusal::AmbiguousPerson(arg.into(), label, ids(found.iter().map(|p| p.id))).into()),
    }
}

// ------------------------------------------------------------------ export

/// The whole export document. Field names are the contract of
/// `format_version` 1; README "Backups and your data" describes them.
#[derive(Debug, Serialize)]
pub struct Export {
    pub format_version: u32,
    pub exported_at: DateTime<Utc>,
    pub scope: Scope,
    pub workspace: WorkspaceOut,
    pub people: Vec<PersonOut>,
    pub templates: Vec<TemplateOut>,
    pub meeting_requests: Vec<RequestOut>,
    pub series: Vec<SeriesOut>,
    /// What is deliberately not in this export, and why.
    pub not_included: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Scope {
    /// Everything of the workspace except private notes.
    Workspace,
    /// One person's 1:1s and their own private notes and ratings.
    Person { person_id: PersonId },
}

#[derive(Debug, Serialize)]
pub struct WorkspaceOut {
    pub id: WorkspaceId,
    pub platform: &'static str,
    pub external_id: String,
    pub name: String,
    pub overdue_after_days: u32,
}

#[derive(Debug, Serialize)]
pub struct PersonOut {
    pub id: PersonId,
    pub external_id: String,
    pub display_name: String,
    /// The row of a person erased with `purge-person`: nothing personal left.
    pub erased: bool,
    /// Profile and settings: everyone's in a workspace export; only the
    /// person's own in a person export (partners appear by name only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileOut>,
}

#[derive(Debug, Serialize)]
pub struct ProfileOut {
    pub email: Option<String>,
    pub platform_time_zone: Option<String>,
    pub time_zone_override: Option<String>,
    pub work_start: String,
    pub work_end: String,
    pub nudges: bool,
    pub away_until: Option<NaiveDate>,
    pub profile_refreshed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct TemplateOut {
    pub id: TemplateId,
    pub name: String,
    pub items: Vec<String>,
    pub created_by: PersonId,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct RequestOut {
    pub id: RequestId,
    pub from_id: PersonId,
    pub to_id: PersonId,
    pub text: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct SeriesOut {
    pub id: SeriesId,
    pub manager_id: PersonId,
    pub report_id: PersonId,
    pub state: &'static str,
    /// As stored: `weekly:N:DAY`, `monthly:WEEK:DAY` or `cron:EXPR` (seconds first).
    pub cadence: String,
    /// Local time of day in `time_zone`, `HH:MM`.
    pub time: String,
    pub time_zone: String,
    pub duration_minutes: u32,
    pub template: Option<String>,
    pub lead_minutes: u32,
    pub anchor_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub meetings: Vec<MeetingOut>,
    pub action_items: Vec<ActionItemOut>,
}

#[derive(Debug, Serialize)]
pub struct MeetingOut {
    pub id: MeetingId,
    /// The cadence instant the meeting was created for.
    pub slot: DateTime<Utc>,
    pub scheduled_at: DateTime<Utc>,
    pub state: &'static str,
    pub skip_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Who confirmed they would be there (✅).
    pub confirmed: Vec<ConfirmedOut>,
    pub talking_points: Vec<TalkingPointOut>,
    pub ratings: Vec<RatingOut>,
    /// Only in a person's own export, and only their notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_notes: Option<Vec<NoteOut>>,
}

#[derive(Debug, Serialize)]
pub struct ConfirmedOut {
    pub person_id: PersonId,
    pub confirmed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct TalkingPointOut {
    pub id: TalkingPointId,
    pub author_id: PersonId,
    pub text: String,
    pub category: &'static str,
    pub position: i64,
    pub state: &'static str,
    pub rollover_count: u32,
    pub origin_meeting_id: MeetingId,
    pub created_at: DateTime<Utc>,
    pub comments: Vec<CommentOut>,
}

#[derive(Debug, Serialize)]
pub struct CommentOut {
    pub id: CommentId,
    pub author_id: PersonId,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct RatingOut {
    pub person_id: PersonId,
    pub score: u8,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct NoteOut {
    pub id: NoteId,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct ActionItemOut {
    pub id: ActionItemId,
    pub meeting_id: MeetingId,
    pub owner_id: PersonId,
    pub created_by: PersonId,
    pub text: String,
    pub due: Option<NaiveDate>,
    pub state: &'static str,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

const LEFT_OUT_ALWAYS: [&str; 2] = [
    "notification bookkeeping (the delivery queue, references to posted agenda messages, processed event ids): operational, no content of its own",
    "Teams conversation references and chat tokens: how the bot reaches people, not what they wrote",
];
const LEFT_OUT_WORKSPACE: &str =
    "private notes: visible only to their author (SPEC §4); each person's are in their own export (--person)";
const LEFT_OUT_PERSON: &str =
    "other people's private notes and individual ratings: never shown to anyone else (ratings only in aggregate)";

fn hhmm(t: chrono::NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn person_out(p: &Person, with_profile: bool) -> PersonOut {
    PersonOut {
        id: p.id,
        external_id: p.external_id.clone(),
        display_name: p.display_name.clone(),
        erased: p.external_id.starts_with(ERASED_PREFIX),
        profile: with_profile.then(|| ProfileOut {
            email: p.email.clone(),
            platform_time_zone: p.platform_tz.map(|z| z.name().to_string()),
            time_zone_override: p.tz_override.map(|z| z.name().to_string()),
            work_start: hhmm(p.work_start),
            work_end: hhmm(p.work_end),
            nudges: p.nudges,
            away_until: p.away_until,
            profile_refreshed_at: p.profile_refreshed_at,
        }),
    }
}

/// The export of `ws`: the whole workspace (no private notes), or with
/// `person` only their 1:1s, their own private notes and ratings, and their
/// partners by name.
pub async fn export(db: &Db, ws: &Workspace, person: Option<&Person>, now: DateTime<Utc>) -> anyhow::Result<Export> {
    let content = db.workspace_content(ws.id).await?;
    let notes = match person {
        Some(p) => Some(db.private_notes_by(ws.id, p.id).await?),
        None => None,
    };
    Ok(assemble(
        ws,
        person,
        content,
        notes,
        chrono::SubsecRound::trunc_subsecs(now, 0),
    ))
}

fn assemble(
    ws: &Workspace,
    person: Option<&Person>,
    c: WorkspaceContent,
    notes: Option<Vec<PrivateNote>>,
    now: DateTime<Utc>,
) -> Export {
    let me = person.map(|p| p.id);
    let series: Vec<Series> = c
        .series
        .into_iter()
        .filter(|s| me.is_none_or(|me| s.is_participant(me)))
        .collect();
    let series_ids: BTreeSet<SeriesId> = series.iter().map(|s| s.id).collect();
    let meeting_ids: BTreeSet<MeetingId> = c
        .meetings
        .iter()
        .filter(|m| series_ids.contains(&m.series_id))
        .map(|m| m.id)
        .collect();

    let mut comments: BTreeMap<TalkingPointId, Vec<CommentOut>> = BTreeMap::new();
    for cm in c.comments {
        comments.entry(cm.talking_point_id).or_default().push(CommentOut {
            id: cm.id,
            author_id: cm.author_id,
            text: cm.text,
            created_at: cm.created_at,
        });
    }
    let mut points: BTreeMap<MeetingId, Vec<TalkingPoint>> = BTreeMap::new();
    for tp in c
        .talking_points
        .into_iter()
        .filter(|t| meeting_ids.contains(&t.meeting_id))
    {
        points.entry(tp.meeting_id).or_default().push(tp);
    }
    let mut ratings: BTreeMap<MeetingId, Vec<RatingOut>> = BTreeMap::new();
    for r in c.ratings.into_iter().filter(|r| me.is_none_or(|me| r.person_id == me)) {
        ratings.entry(r.meeting_id).or_default().push(RatingOut {
            person_id: r.person_id,
            score: r.score,
            comment: r.comment,
            created_at: r.created_at,
        });
    }
    let mut confirmed: BTreeMap<MeetingId, Vec<ConfirmedOut>> = BTreeMap::new();
    for a in c.attendance {
        confirmed.entry(a.meeting_id).or_default().push(ConfirmedOut {
            person_id: a.person_id,
            confirmed_at: a.confirmed_at,
        });
    }
    let mut my_notes: BTreeMap<MeetingId, Vec<NoteOut>> = BTreeMap::new();
    for n in notes.iter().flatten() {
        my_notes.entry(n.meeting_id).or_default().push(NoteOut {
            id: n.id,
            text: n.text.clone(),
            created_at: n.created_at,
        });
    }
    let mut meetings: BTreeMap<SeriesId, Vec<MeetingOut>> = BTreeMap::new();
    for m in c.meetings.into_iter().filter(|m| meeting_ids.contains(&m.id)) {
        let mut tps = points.remove(&m.id).unwrap_or_default();
        tps.sort_by_key(|t| (t.position, t.id));
        meetings.entry(m.series_id).or_default().push(MeetingOut {
            id: m.id,
            slot: m.slot,
            scheduled_at: m.scheduled_at,
            state: m.state.as_str(),
            skip_reason: m.skip_reason,
            closed_at: m.closed_at,
            confirmed: confirmed.remove(&m.id).unwrap_or_default(),
            talking_points: tps
                .into_iter()
                .map(|t| TalkingPointOut {
                    comments: comments.remove(&t.id).unwrap_or_default(),
                    id: t.id,
                    author_id: t.author_id,
                    text: t.text,
                    category: t.category.as_str(),
                    position: t.position,
                    state: t.state.as_str(),
                    rollover_count: t.rollover_count,
                    origin_meeting_id: t.origin_meeting_id,
                    created_at: t.created_at,
                })
                .collect(),
            ratings: ratings.remove(&m.id).unwrap_or_default(),
            private_notes: notes.is_some().then(|| my_notes.remove(&m.id).unwrap_or_default()),
        });
    }
    let mut actions: BTreeMap<SeriesId, Vec<ActionItemOut>> = BTreeMap::new();
    for a in c.action_items.into_iter().filter(|a| series_ids.contains(&a.series_id)) {
        actions.entry(a.series_id).or_default().push(ActionItemOut {
            id: a.id,
            meeting_id: a.meeting_id,
            owner_id: a.owner_id,
            created_by: a.created_by,
            text: a.text,
            due: a.due,
            state: a.state.as_str(),
            created_at: a.created_at,
            completed_at: a.completed_at,
        });
    }

    // A person export names the person and their partners, nobody else.
    let partners: BTreeSet<PersonId> = series.iter().flat_map(|s| [s.manager_id, s.report_id]).collect();
    let people = c
        .people
        .iter()
        .filter(|p| me.is_none_or(|_| partners.contains(&p.id) || Some(p.id) == me))
        .map(|p| person_out(p, me.is_none_or(|me| me == p.id)))
        .collect();
    let templates = c
        .templates
        .into_iter()
        .filter(|t| me.is_none_or(|me| t.created_by == me))
        .map(|t| TemplateOut {
            id: t.id,
            name: t.name,
            items: t.items,
            created_by: t.created_by,
            created_at: t.created_at,
        })
        .collect();
    let meeting_requests = c
        .requests
        .into_iter()
        .filter(|r| me.is_none_or(|me| r.from_id == me || r.to_id == me))
        .map(|r| RequestOut {
            id: r.id,
            from_id: r.from_id,
            to_id: r.to_id,
            text: r.text,
            created_at: r.created_at,
        })
        .collect();
    let series = series
        .into_iter()
        .map(|s| SeriesOut {
            meetings: meetings.remove(&s.id).unwrap_or_default(),
            action_items: actions.remove(&s.id).unwrap_or_default(),
            id: s.id,
            manager_id: s.manager_id,
            report_id: s.report_id,
            state: s.state.as_str(),
            cadence: encode_cadence(&s.cadence),
            time: hhmm(s.time),
            time_zone: s.tz.name().to_string(),
            duration_minutes: s.duration_minutes,
            template: s.template,
            lead_minutes: s.lead_minutes,
            anchor_date: s.anchor_date,
            created_at: s.created_at,
        })
        .collect();
    let mut not_included = vec![if me.is_some() {
        LEFT_OUT_PERSON
    } else {
        LEFT_OUT_WORKSPACE
    }];
    not_included.extend(LEFT_OUT_ALWAYS);
    Export {
        format_version: FORMAT_VERSION,
        exported_at: now,
        scope: match me {
            Some(person_id) => Scope::Person { person_id },
            None => Scope::Workspace,
        },
        workspace: WorkspaceOut {
            id: ws.id,
            platform: ws.platform.as_str(),
            external_id: ws.external_id.clone(),
            name: ws.name.clone(),
            overdue_after_days: ws.overdue_after_days,
        },
        people,
        templates,
        meeting_requests,
        series,
        not_included,
    }
}

/// Writes `bytes` to `out` atomically: a temporary file beside it, flushed
/// to disk, then renamed over it. A reader never sees half a file.
pub fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".oneonone-export-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(out)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

// ------------------------------------------------------------------ erasure

/// What `purge-person` asks before it erases anything.
pub fn purge_question(ws: &Workspace, p: &Person) -> String {
    format!(
        "Erase person {} ({}) of workspace {} ({}) for good? Their private notes, ratings, talking points, \
         comments and action items are deleted and their 1:1s end. This cannot be undone. Type \"yes\" to go on: ",
        p.id, p.external_id, ws.id, ws.external_id
    )
}

/// Reads one line of confirmation; only `yes` (or `y`) confirms, end of input does not.
pub fn confirmed(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "yes" | "y")
}

/// Erases `p` (see `Db::purge_person`) and says what was done.
pub async fn purge(db: &Db, ws: &Workspace, p: &Person) -> anyhow::Result<String> {
    let counts = db.purge_person(ws.id, p.id).await?;
    Ok(purge_summary(ws, p.id, &counts))
}

/// The summary printed after an erasure: counts only, never the erased
/// person's name.
pub fn purge_summary(ws: &Workspace, id: PersonId, c: &PurgeCounts) -> String {
    if c.is_empty() {
        return format!(
            "Nothing left to erase for person {id} of workspace {} ({}): already erased.",
            ws.id, ws.external_id
        );
    }
    let parts = [
        (c.private_notes, "private note(s)"),
        (c.ratings, "rating(s)"),
        (c.talking_points, "talking point(s)"),
        (
            c.talking_points_blanked,
            "talking point(s) blanked (the partner's comments under them kept)",
        ),
        (c.comments, "comment(s)"),
        (c.action_items, "action item(s) they owned"),
        (c.attendance, "attendance confirmation(s)"),
        (c.requests, "meeting request(s)"),
        (c.posted_agendas, "posted agenda reference(s)"),
        (c.deliveries, "notification(s) to or about them"),
        (c.teams_conversations, "Teams conversation reference(s)"),
    ];
    let mut lines = vec![format!(
        "Erased person {id} of workspace {} ({}):",
        ws.id, ws.external_id
    )];
    lines.push(format!(
        "  profile: {}",
        if c.profile {
            "name, e-mail, platform id and settings erased"
        } else {
            "already erased"
        }
    ));
    for (n, what) in parts {
        if n > 0 {
            lines.push(format!("  {n} {what} deleted"));
        }
    }
    if c.series_ended > 0 {
        lines.push(format!(
            "  {} 1:1(s) ended, kept for the partner's history without this person's content",
            c.series_ended
        ));
    }
    lines.join("\n")
}

// ------------------------------------------------------------------ backup

/// An online backup of a SQLite database into `out` (which must not exist):
/// `VACUUM INTO` a temporary file beside it, then a rename.
pub async fn backup(db: &Db, out: &Path) -> anyhow::Result<String> {
    if !matches!(db, Db::Sqlite(_)) {
        return Err(Refusal::Backup(
            "backup copies SQLite databases; back PostgreSQL up with pg_dump -Fc (README \"Backups and your data\")"
                .into(),
        )
        .into());
    }
    if out.exists() {
        return Err(Refusal::Backup(format!("{} exists; choose a new file", out.display())).into());
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // An empty file is a valid VACUUM INTO target; the name is unique.
    let tmp = tempfile::Builder::new()
        .prefix(".oneonone-backup-")
        .tempfile_in(dir)
        .map_err(|e| anyhow::anyhow!("cannot create a file in {}: {e}", dir.display()))?
        .into_temp_path();
    db.backup_to(&tmp).await?;
    tmp.persist_noclobber(out)
        .map_err(|e| Refusal::Backup(format!("cannot write {}: {}", out.display(), e.error)))?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(format!("Backed up to {} ({size} bytes).", out.display()))
}
