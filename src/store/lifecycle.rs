//! The data lifecycle's SQL: reading a whole workspace for an export,
//! erasing one person (right to erasure) in one transaction, and an online
//! SQLite backup (`VACUUM INTO`). The policy is written down in README
//! "Backups and your data" and carried out by `crate::lifecycle`.
//!
//! Erasure keeps the person's row as a tombstone instead of deleting it:
//! `series`, `talking_points`, `comments`, `action_items` and `templates`
//! reference people with `on delete cascade`, so deleting the row would
//! also delete the partner's half of every 1:1 they shared. The tombstone
//! carries nothing personal: its name is [`ERASED_NAME`], its platform id
//! `erased:{id}` (so the real user, if they come back, is a new person),
//! and every setting is reset. People lookups skip tombstones.

use super::rows::*;
use super::{Db, Result, StoreError, TxPool};
use crate::domain::model::*;
use chrono::{DateTime, Utc};
use std::path::Path;

/// The display name an erased person's row keeps (the partner's history
/// still shows *someone* was on the other side).
pub const ERASED_NAME: &str = "a former member";

/// The platform-id prefix of an erased person's row. No chat platform issues
/// such ids (Slack `U…`, Teams `29:…`), so no message can ever resolve to it.
pub const ERASED_PREFIX: &str = "erased:";

/// The text left on a talking point the erased person wrote when the
/// partner commented under it: the partner's comments keep their place.
pub const ERASED_POINT_TEXT: &str = "(removed: its author's data was erased)";

/// One confirmation of attendance (✅ on an agenda).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    pub meeting_id: MeetingId,
    pub person_id: PersonId,
    pub confirmed_at: DateTime<Utc>,
}

/// Everything a workspace holds that an export carries, read in one
/// transaction so the parts agree with each other. Private notes are read
/// separately, per author ([`Db::private_notes_by`]).
#[derive(Debug, Clone, Default)]
pub struct WorkspaceContent {
    pub people: Vec<Person>,
    pub series: Vec<Series>,
    pub meetings: Vec<Meeting>,
    pub talking_points: Vec<TalkingPoint>,
    pub comments: Vec<Comment>,
    pub action_items: Vec<ActionItem>,
    pub ratings: Vec<Rating>,
    pub attendance: Vec<Attendance>,
    pub templates: Vec<Template>,
    pub requests: Vec<MeetingRequest>,
}

/// What an erasure removed or changed, for the summary the command prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub private_notes: u64,
    pub ratings: u64,
    pub attendance: u64,
    pub comments: u64,
    /// Talking points they wrote, deleted.
    pub talking_points: u64,
    /// Talking points they wrote that carry the partner's comments: text blanked.
    pub talking_points_blanked: u64,
    /// Action items they owned.
    pub action_items: u64,
    pub requests: u64,
    pub posted_agendas: u64,
    pub deliveries: u64,
    pub teams_conversations: u64,
    /// Their 1:1s, ended (kept for the partner's history).
    pub series_ended: u64,
    /// Whether the profile (name, e-mail, platform id, settings) was still there to erase.
    pub profile: bool,
}

impl PurgeCounts {
    /// Nothing was left to erase (a second run).
    pub fn is_empty(&self) -> bool {
        *self == PurgeCounts::default()
    }
}

row! {
    struct AttendanceRow {
        meeting_id: i64,
        person_id: i64,
        confirmed_at: i64,
    }
}

fn decode<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

impl Db {
    /// Workspaces with this platform id, on any platform (a Slack team id, a
    /// Teams tenant id, a console name): the id an operator can find.
    pub async fn workspaces_by_external(&self, external_id: &str) -> Result<Vec<Workspace>> {
        const Q: &str = "select id, platform, external_id, name, overdue_after_days from workspaces
            where external_id = $1 order by id";
        let rows: Vec<WorkspaceRow> =
            on_db!(self, p => sqlx::query_as(Q).bind(external_id.to_string()).fetch_all(p).await)?;
        decode(rows)
    }

    /// People of `ws` whose Teams AAD object id is `aad` (from their
    /// conversation reference): the id a Teams admin sees in Entra ID.
    pub async fn people_by_aad_object_id(&self, ws: WorkspaceId, aad: &str) -> Result<Vec<Person>> {
        const Q: &str = "select p.* from people p join teams_conversations t on t.person_id = p.id
            where p.workspace_id = $1 and lower(t.aad_object_id) = lower($2) order by p.id";
        let rows: Vec<PersonRow> =
            on_db!(self, p => sqlx::query_as(Q).bind(ws.0).bind(aad.to_string()).fetch_all(p).await)?;
        decode(rows)
    }

    /// Everything of `ws` an export carries (private notes aside), in one
    /// read transaction, each list in id order.
    pub async fn workspace_content(&self, ws: WorkspaceId) -> Result<WorkspaceContent> {
        const PEOPLE: &str = "select * from people where workspace_id = $1 order by id";
        const SERIES: &str = "select * from series where workspace_id = $1 order by id";
        const MEETINGS: &str = "select m.id, m.series_id, m.slot, m.scheduled_at, m.state, m.skip_reason, m.closed_at
            from meetings m join series s on s.id = m.series_id where s.workspace_id = $1 order by m.id";
        const POINTS: &str = "select t.* from talking_points t join meetings m on m.id = t.meeting_id
            join series s on s.id = m.series_id where s.workspace_id = $1 order by t.id";
        const COMMENTS: &str = "select c.id, c.talking_point_id, c.author_id, c.text, c.created_at
            from comments c join talking_points t on t.id = c.talking_point_id join meetings m on m.id = t.meeting_id
            join series s on s.id = m.series_id where s.workspace_id = $1 order by c.id";
        const ACTIONS: &str = "select a.* from action_items a join series s on s.id = a.series_id
            where s.workspace_id = $1 order by a.id";
        const RATINGS: &str = "select r.meeting_id, r.person_id, r.score, r.comment, r.created_at
            from ratings r join meetings m on m.id = r.meeting_id join series s on s.id = m.series_id
            where s.workspace_id = $1 order by r.meeting_id, r.person_id";
        const ATTENDANCE: &str = "select a.meeting_id, a.person_id, a.confirmed_at
            from attendance a join meetings m on m.id = a.meeting_id join series s on s.id = m.series_id
            where s.workspace_id = $1 order by a.meeting_id, a.person_id";
        const TEMPLATES: &str = "select id, workspace_id, name, items, created_by, created_at from templates
            where workspace_id = $1 order by id";
        const REQUESTS: &str = "select id, workspace_id, from_id, to_id, text, created_at from meeting_requests
            where workspace_id = $1 order by id";
        on_db!(self, p => {
            // One snapshot: a purge or a command running meanwhile cannot
            // leave comments without their point in the export.
            let mut tx = p.begin().await?;
            let people: Vec<PersonRow> = sqlx::query_as(PEOPLE).bind(ws.0).fetch_all(&mut *tx).await?;
            let series: Vec<SeriesRow> = sqlx::query_as(SERIES).bind(ws.0).fetch_all(&mut *tx).await?;
            let meetings: Vec<MeetingRow> = sqlx::query_as(MEETINGS).bind(ws.0).fetch_all(&mut *tx).await?;
            let points: Vec<TalkingPointRow> = sqlx::query_as(POINTS).bind(ws.0).fetch_all(&mut *tx).await?;
            let comments: Vec<CommentRow> = sqlx::query_as(COMMENTS).bind(ws.0).fetch_all(&mut *tx).await?;
            let actions: Vec<ActionRow> = sqlx::query_as(ACTIONS).bind(ws.0).fetch_all(&mut *tx).await?;
            let ratings: Vec<RatingRow> = sqlx::query_as(RATINGS).bind(ws.0).fetch_all(&mut *tx).await?;
            let attendance: Vec<AttendanceRow> = sqlx::query_as(ATTENDANCE).bind(ws.0).fetch_all(&mut *tx).await?;
            let templates: Vec<TemplateRow> = sqlx::query_as(TEMPLATES).bind(ws.0).fetch_all(&mut *tx).await?;
            let requests: Vec<RequestRow> = sqlx::query_as(REQUESTS).bind(ws.0).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok(WorkspaceContent {
                people: decode(people)?,
                series: decode(series)?,
                meetings: decode(meetings)?,
                talking_points: decode(points)?,
                comments: decode(comments)?,
                action_items: decode(actions)?,
                ratings: decode(ratings)?,
                attendance: attendance
                    .into_iter()
                    .map(|a| {
                        Ok(Attendance {
                            meeting_id: MeetingId(a.meeting_id),
                            person_id: PersonId(a.person_id),
                            confirmed_at: from_ts(a.confirmed_at)?,
                        })
                    })
                    .collect::<Result<_>>()?,
                templates: decode(templates)?,
                requests: decode(requests)?,
            })
        })
    }

    /// Every private note `author` wrote in `ws`, in id order: only ever
    /// read for the author's own export.
    pub async fn private_notes_by(&self, ws: WorkspaceId, author: PersonId) -> Result<Vec<PrivateNote>> {
        const Q: &str = "select n.id, n.meeting_id, n.author_id, n.text, n.created_at
            from private_notes n join meetings m on m.id = n.meeting_id join series s on s.id = m.series_id
            where s.workspace_id = $1 and n.author_id = $2 order by n.id";
        let rows: Vec<NoteRow> = on_db!(self, p => sqlx::query_as(Q).bind(ws.0).bind(author.0).fetch_all(p).await)?;
        decode(rows)
    }

    /// Erases `person` of `ws` in one transaction (README "Backups and your
    /// data"): what they wrote and everything about them goes; the partner's
    /// own data stays; their 1:1s end; their row becomes a tombstone. A
    /// second run finds nothing and changes nothing.
    pub async fn purge_person(&self, ws: WorkspaceId, person: PersonId) -> Result<PurgeCounts> {
        const MINE: &str = "select id from people where workspace_id = $1 and id = $2";
        const NOTES: &str = "delete from private_notes where author_id = $1";
        const RATINGS: &str = "delete from ratings where person_id = $1";
        const ATTENDANCE: &str = "delete from attendance where person_id = $1";
        // Before the points and meetings they name are gone: every
        // notification to them, about them (`person:`, `not_installed:`), or
        // about one of their 1:1s (an `away` notice names them in its
        // payload). Their 1:1s end, so none of these would be sent anyway.
        const DELIVERIES: &str = "delete from deliveries where recipient_id = $1
            or subject = 'person:' || $2 or subject = 'not_installed:' || $2
            or subject in (select 'series:' || cast(s.id as text) from series s
                where s.manager_id = $1 or s.report_id = $1)
            or subject in (select 'meeting:' || cast(m.id as text) from meetings m join series s on s.id = m.series_id
                where s.manager_id = $1 or s.report_id = $1)
            or subject in (select 'away:meeting:' || cast(m.id as text) from meetings m join series s on s.id = m.series_id
                where s.manager_id = $1 or s.report_id = $1)
            or subject in (select 'point:' || cast(t.id as text) from talking_points t join meetings m on m.id = t.meeting_id
                join series s on s.id = m.series_id where s.manager_id = $1 or s.report_id = $1)";
        const COMMENTS: &str = "delete from comments where author_id = $1";
        // Their points under which the partner commented keep their place,
        // blanked; the rest go (with no comments left, nothing is lost).
        const BLANK_POINTS: &str = "update talking_points set text = $2
            where author_id = $1 and text <> $2
            and exists (select 1 from comments c where c.talking_point_id = talking_points.id)";
        const POINTS: &str = "delete from talking_points where author_id = $1
            and not exists (select 1 from comments c where c.talking_point_id = talking_points.id)";
        const ACTIONS: &str = "delete from action_items where owner_id = $1";
        const REQUESTS: &str = "delete from meeting_requests where from_id = $1 or to_id = $1";
        const POSTED: &str = "delete from posted_agendas where person_id = $1";
        const TEAMS: &str = "delete from teams_conversations where person_id = $1";
        const HOME: &str = "delete from slack_home_opened where person_id = $1";
        const END_SERIES: &str = "update series set state = 'ended', plan_at = 0
            where (manager_id = $1 or report_id = $1) and state <> 'ended'";
        const TOMBSTONE: &str = "update people set external_id = $2, display_name = $3, name_key = '',
                email = null, platform_tz = null, tz_override = null, work_start_min = 540, work_end_min = 1080,
                nudges = $4, away_until = null, profile_refreshed_at = null
            where id = $1 and external_id <> $2";
        let tombstone_id = format!("{ERASED_PREFIX}{}", person.0);
        on_db!(self, p => {
            let mut tx = p.begin_write().await?;
            let found: Option<i64> = sqlx::query_scalar(MINE).bind(ws.0).bind(person.0).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::Conflict("no such person in this workspace"));
            }
            let id = person.0;
            let mut c = PurgeCounts {
                private_notes: sqlx::query(NOTES).bind(id).execute(&mut *tx).await?.rows_affected(),
                ratings: sqlx::query(RATINGS).bind(id).execute(&mut *tx).await?.rows_affected(),
                attendance: sqlx::query(ATTENDANCE).bind(id).execute(&mut *tx).await?.rows_affected(),
                deliveries: sqlx::query(DELIVERIES).bind(id).bind(id.to_string()).execute(&mut *tx).await?.rows_affected(),
                comments: sqlx::query(COMMENTS).bind(id).execute(&mut *tx).await?.rows_affected(),
                ..PurgeCounts::default()
            };
            c.talking_points_blanked = sqlx::query(BLANK_POINTS).bind(id).bind(ERASED_POINT_TEXT).execute(&mut *tx).await?.rows_affected();
            c.talking_points = sqlx::query(POINTS).bind(id).execute(&mut *tx).await?.rows_affected();
            c.action_items = sqlx::query(ACTIONS).bind(id).execute(&mut *tx).await?.rows_affected();
            c.requests = sqlx::query(REQUESTS).bind(id).execute(&mut *tx).await?.rows_affected();
            c.posted_agendas = sqlx::query(POSTED).bind(id).execute(&mut *tx).await?.rows_affected();
            c.teams_conversations = sqlx::query(TEAMS).bind(id).execute(&mut *tx).await?.rows_affected();
            sqlx::query(HOME).bind(id).execute(&mut *tx).await?;
            c.series_ended = sqlx::query(END_SERIES).bind(id).execute(&mut *tx).await?.rows_affected();
            c.profile = sqlx::query(TOMBSTONE)
                .bind(id).bind(tombstone_id.clone()).bind(ERASED_NAME).bind(false)
                .execute(&mut *tx).await?.rows_affected() > 0;
            tx.commit().await?;
            Ok(c)
        })
    }

    /// An online, consistent copy of a SQLite database at `dest` (which must
    /// not exist yet): `VACUUM INTO`, safe while the service runs. PostgreSQL
    /// has `pg_dump` for this; asking here is a `Conflict`.
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        const Q: &str = "vacuum into $1";
        let dest = dest
            .to_str()
            .ok_or(StoreError::Conflict("the backup path must be valid UTF-8"))?
            .to_string();
        match self {
            Db::Sqlite(super::Sqlite { pool: p, .. }) => {
                sqlx::query(Q).bind(dest).execute(p).await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Conflict(
                "PostgreSQL is backed up with pg_dump -Fc (see README \"Backups and your data\")",
            )),
        }
    }
}
