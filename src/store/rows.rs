//! Row types as the database returns them, and their checked conversion into
//! domain types. A value that does not decode (an unknown zone, a bad date)
//! is `StoreError::Corrupt`, never a panic.

use super::StoreError;
use crate::domain::model::*;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

type Result<T> = std::result::Result<T, StoreError>;

/// A short text column (an enum's name, a date) read without a heap
/// allocation: rows of talking points and action items have two each, and an
/// agenda reads forty rows. Longer text does not decode (an error, as any
/// other corrupt value).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Tag {
    len: u8,
    bytes: [u8; Tag::CAPACITY],
}

impl Tag {
    const CAPACITY: usize = 23;

    pub(super) fn new(s: &str) -> Option<Tag> {
        let mut bytes = [0; Tag::CAPACITY];
        bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(Tag {
            len: s.len() as u8,
            bytes,
        })
    }

    fn too_long(s: &str) -> String {
        format!("a text of {} bytes where at most {} fit", s.len(), Tag::CAPACITY)
    }
}

impl std::ops::Deref for Tag {
    type Target = str;
    fn deref(&self) -> &str {
        // Copied from a `&str` whole: valid UTF-8 by construction.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl rusqlite::types::FromSql for Tag {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = value.as_str()?;
        Tag::new(s).ok_or_else(|| rusqlite::types::FromSqlError::Other(Tag::too_long(s).into()))
    }
}

impl<DB: sqlx::Database> sqlx::Type<DB> for Tag
where
    str: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <str as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <str as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Tag
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        let s = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
        Tag::new(s).ok_or_else(|| Tag::too_long(s).into())
    }
}

/// A row struct decoded by sqlx (`FromRow`) and by the inline SQLite reads
/// (`FromLite`), both by column name, written once.
macro_rules! row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        #[derive(sqlx::FromRow)]
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $field: $ty ),*
        }

        impl super::lite::FromLite for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn from_lite(row: &rusqlite::Row<'_>, at: &[usize]) -> rusqlite::Result<Self> {
                let mut at = at.iter();
                Ok($name { $( $field: row.get(*at.next().ok_or_else(|| rusqlite::Error::InvalidColumnIndex(0))?)? ),* })
            }
        }
    };
}
pub(super) use row;

pub(super) fn from_ts(t: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(t, 0).ok_or_else(|| StoreError::Corrupt(format!("timestamp {t}")))
}

fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("date {s:?}")))
}

fn time_of(min: i64) -> Result<NaiveTime> {
    u32::try_from(min)
        .ok()
        .and_then(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0))
        .ok_or_else(|| StoreError::Corrupt(format!("time of day {min}")))
}

fn zone(s: &str) -> Result<Tz> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("zone {s:?}")))
}

fn u32_of(v: i64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v}")))
}

fn enum_of<T>(s: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("{what} {s:?}")))
}

fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// `weekly:2:mon`, `monthly:last:fri`, `cron:0 0 10 * * Mon`.
pub fn encode_cadence(c: &Cadence) -> String {
    match c {
        Cadence::Weekly { interval, weekday } => format!("weekly:{interval}:{}", weekday_code(*weekday)),
        Cadence::Monthly { week, weekday } => format!("monthly:{}:{}", week.as_str(), weekday_code(*weekday)),
        Cadence::Cron(expr) => format!("cron:{expr}"),
    }
}

pub fn decode_cadence(s: &str) -> Option<Cadence> {
    let (kind, rest) = s.split_once(':')?;
    match kind {
        "weekly" => {
            let (n, day) = rest.split_once(':')?;
            Some(Cadence::Weekly {
                interval: n.parse().ok()?,
                weekday: day.parse().ok()?,
            })
        }
        "monthly" => {
            let (w, day) = rest.split_once(':')?;
            let week = match w {
                "first" => MonthWeek::First,
                "second" => MonthWeek::Second,
                "third" => MonthWeek::Third,
                "fourth" => MonthWeek::Fourth,
                "last" => MonthWeek::Last,
                _ => return None,
            };
            Some(Cadence::Monthly {
                week,
                weekday: day.parse().ok()?,
            })
        }
        "cron" if !rest.is_empty() => Some(Cadence::Cron(rest.to_string())),
        _ => None,
    }
}

row! {
    pub(super) struct WorkspaceRow {
        id: i64,
        platform: Tag,
        external_id: String,
        name: String,
        overdue_after_days: i64,
    }
}

impl WorkspaceRow {
    pub(super) fn id(&self) -> i64 {
        self.id
    }
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = StoreError;
    fn try_from(r: WorkspaceRow) -> Result<Self> {
        Ok(Workspace {
            id: WorkspaceId(r.id),
            platform: enum_of(&r.platform, Platform::parse, "platform")?,
            external_id: r.external_id,
            name: r.name,
            overdue_after_days: u32_of(r.overdue_after_days, "overdue_after_days")?,
        })
    }
}

row! {
    pub(super) struct PersonRow {
        id: i64,
        workspace_id: i64,
        external_id: String,
        display_name: String,
        email: Option<String>,
        platform_tz: Option<String>,
        tz_override: Option<String>,
        work_start_min: i64,
        work_end_min: i64,
        nudges: bool,
        away_until: Option<Tag>,
        profile_refreshed_at: Option<i64>,
        /// The case-folded display name, for lookups only.
        #[allow(dead_code)]
        name_key: String,
    }
}

impl PersonRow {
    pub(super) fn id(&self) -> i64 {
        self.id
    }
}

/// Columns of [`WorkspaceRow`] and of [`PersonRow`] (checked at compile time).
const WORKSPACE_COLUMNS: usize = 5;
const PERSON_COLUMNS: usize = 13;
const _: () = assert!(WORKSPACE_COLUMNS == <WorkspaceRow as super::lite::FromLite>::COLUMNS.len());
const _: () = assert!(PERSON_COLUMNS == <PersonRow as super::lite::FromLite>::COLUMNS.len());

/// A workspace and, when known there, a person: one row of a statement that
/// selects the workspace's columns, then the person's (left-joined), each in
/// the order of its row type (`CALLER_BY_EXTERNALS`; a test holds the two
/// orders together).
pub(super) struct CallerRow(pub(super) WorkspaceRow, pub(super) Option<PersonRow>);

impl super::lite::FromLite for CallerRow {
    fn from_lite(row: &rusqlite::Row<'_>, _: &[usize]) -> rusqlite::Result<Self> {
        let ws: [usize; WORKSPACE_COLUMNS] = std::array::from_fn(|i| i);
        let person: [usize; PERSON_COLUMNS] = std::array::from_fn(|i| WORKSPACE_COLUMNS + i);
        let known = row.get::<_, Option<i64>>(WORKSPACE_COLUMNS)?.is_some();
        Ok(CallerRow(
            WorkspaceRow::from_lite(row, &ws)?,
            known.then(|| PersonRow::from_lite(row, &person)).transpose()?,
        ))
    }
}

impl TryFrom<PersonRow> for Person {
    type Error = StoreError;
    fn try_from(r: PersonRow) -> Result<Self> {
        Ok(Person {
            id: PersonId(r.id),
            workspace_id: WorkspaceId(r.workspace_id),
            external_id: r.external_id,
            display_name: r.display_name,
            email: r.email,
            // An unknown platform zone is not worth failing a request for.
            platform_tz: r.platform_tz.and_then(|z| z.parse().ok()),
            tz_override: r.tz_override.as_deref().map(zone).transpose()?,
            work_start: time_of(r.work_start_min)?,
            work_end: time_of(r.work_end_min)?,
            nudges: r.nudges,
            away_until: r.away_until.as_deref().map(date).transpose()?,
            profile_refreshed_at: r.profile_refreshed_at.map(from_ts).transpose()?,
        })
    }
}

row! {
    pub(super) struct SeriesRow {
        id: i64,
        workspace_id: i64,
        manager_id: i64,
        report_id: i64,
        cadence: String,
        time_min: i64,
        tz: String,
        duration_minutes: i64,
        template: Option<String>,
        lead_minutes: i64,
        state: Tag,
        anchor_date: Tag,
        created_at: i64,
        /// Scheduler bookkeeping, not part of the domain's `Series`.
        #[allow(dead_code)]
        plan_at: i64,
    }
}

impl SeriesRow {
    pub(super) fn id(&self) -> i64 {
        self.id
    }
    /// The manager's and the report's person ids.
    pub(super) fn participants(&self) -> [i64; 2] {
        [self.manager_id, self.report_id]
    }
    pub(super) fn duration_minutes(&self) -> i64 {
        self.duration_minutes
    }
}

impl TryFrom<SeriesRow> for Series {
    type Error = StoreError;
    fn try_from(r: SeriesRow) -> Result<Self> {
        Ok(Series {
            id: SeriesId(r.id),
            workspace_id: WorkspaceId(r.workspace_id),
            manager_id: PersonId(r.manager_id),
            report_id: PersonId(r.report_id),
            cadence: decode_cadence(&r.cadence)
                .ok_or_else(|| StoreError::Corrupt(format!("cadence {:?}", r.cadence)))?,
            time: time_of(r.time_min)?,
            tz: zone(&r.tz)?,
            duration_minutes: u32_of(r.duration_minutes, "duration")?,
            template: r.template,
            lead_minutes: u32_of(r.lead_minutes, "lead")?,
            state: enum_of(&r.state, SeriesState::parse, "series state")?,
            anchor_date: date(&r.anchor_date)?,
            created_at: from_ts(r.created_at)?,
        })
    }
}

row! {
    pub(super) struct MeetingRow {
        id: i64,
        series_id: i64,
        slot: i64,
        scheduled_at: i64,
        state: Tag,
        skip_reason: Option<String>,
        closed_at: Option<i64>,
    }
}

impl MeetingRow {
    pub(super) fn id(&self) -> i64 {
        self.id
    }
    /// When it is scheduled, in seconds since the epoch (as stored).
    pub(super) fn scheduled_at(&self) -> i64 {
        self.scheduled_at
    }
}

impl TryFrom<MeetingRow> for Meeting {
    type Error = StoreError;
    fn try_from(r: MeetingRow) -> Result<Self> {
        Ok(Meeting {
            id: MeetingId(r.id),
            series_id: SeriesId(r.series_id),
            slot: from_ts(r.slot)?,
            scheduled_at: from_ts(r.scheduled_at)?,
            state: enum_of(&r.state, MeetingState::parse, "meeting state")?,
            skip_reason: r.skip_reason,
            closed_at: r.closed_at.map(from_ts).transpose()?,
        })
    }
}

row! {
    pub(super) struct TalkingPointRow {
        id: i64,
        meeting_id: i64,
        author_id: i64,
        text: String,
        category: Tag,
        position: i64,
        state: Tag,
        rollover_count: i64,
        origin_meeting_id: i64,
        created_at: i64,
    }
}

impl TryFrom<TalkingPointRow> for TalkingPoint {
    type Error = StoreError;
    fn try_from(r: TalkingPointRow) -> Result<Self> {
        Ok(TalkingPoint {
            id: TalkingPointId(r.id),
            meeting_id: MeetingId(r.meeting_id),
            author_id: PersonId(r.author_id),
            text: r.text,
            category: enum_of(&r.category, Category::parse, "category")?,
            position: r.position,
            state: enum_of(&r.state, PointState::parse, "point state")?,
            rollover_count: u32_of(r.rollover_count, "rollover_count")?,
            origin_meeting_id: MeetingId(r.origin_meeting_id),
            created_at: from_ts(r.created_at)?,
        })
    }
}

row! {
    pub(super) struct CommentRow {
        id: i64,
        talking_point_id: i64,
        author_id: i64,
        text: String,
        created_at: i64,
    }
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;
    fn try_from(r: CommentRow) -> Result<Self> {
        Ok(Comment {
            id: CommentId(r.id),
            talking_point_id: TalkingPointId(r.talking_point_id),
            author_id: PersonId(r.author_id),
            text: r.text,
            created_at: from_ts(r.created_at)?,
        })
    }
}

row! {
    pub(super) struct NoteRow {
        id: i64,
        meeting_id: i64,
        author_id: i64,
        text: String,
        created_at: i64,
    }
}

impl TryFrom<NoteRow> for PrivateNote {
    type Error = StoreError;
    fn try_from(r: NoteRow) -> Result<Self> {
        Ok(PrivateNote {
            id: NoteId(r.id),
            meeting_id: MeetingId(r.meeting_id),
            author_id: PersonId(r.author_id),
            text: r.text,
            created_at: from_ts(r.created_at)?,
        })
    }
}

row! {
    pub(super) struct ActionRow {
        id: i64,
        series_id: i64,
        meeting_id: i64,
        owner_id: i64,
        created_by: i64,
        text: String,
        due: Option<Tag>,
        state: Tag,
        created_at: i64,
        completed_at: Option<i64>,
    }
}

impl TryFrom<ActionRow> for ActionItem {
    type Error = StoreError;
    fn try_from(r: ActionRow) -> Result<Self> {
        Ok(ActionItem {
            id: ActionItemId(r.id),
            series_id: SeriesId(r.series_id),
            meeting_id: MeetingId(r.meeting_id),
            owner_id: PersonId(r.owner_id),
            created_by: PersonId(r.created_by),
            text: r.text,
            due: r.due.as_deref().map(date).transpose()?,
            state: enum_of(&r.state, ActionState::parse, "action state")?,
            created_at: from_ts(r.created_at)?,
            completed_at: r.completed_at.map(from_ts).transpose()?,
        })
    }
}

row! {
    pub(super) struct TemplateRow {
        id: i64,
        workspace_id: i64,
        name: String,
        items: String,
        created_by: i64,
        created_at: i64,
    }
}

impl TryFrom<TemplateRow> for Template {
    type Error = StoreError;
    fn try_from(r: TemplateRow) -> Result<Self> {
        Ok(Template {
            id: TemplateId(r.id),
            workspace_id: WorkspaceId(r.workspace_id),
            name: r.name,
            items: serde_json::from_str(&r.items).map_err(|_| StoreError::Corrupt("template items".into()))?,
            created_by: PersonId(r.created_by),
            created_at: from_ts(r.created_at)?,
        })
    }
}

row! {
    pub(super) struct RatingRow {
        meeting_id: i64,
        person_id: i64,
        score: i64,
        comment: Option<String>,
        created_at: i64,
    }
}

impl TryFrom<RatingRow> for Rating {
    type Error = StoreError;
    fn try_from(r: RatingRow) -> Result<Self> {
        Ok(Rating {
            meeting_id: MeetingId(r.meeting_id),
            person_id: PersonId(r.person_id),
            score: u8::try_from(r.score).map_err(|_| StoreError::Corrupt(format!("score {}", r.score)))?,
            comment: r.comment,
            created_at: from_ts(r.created_at)?,
        })
    }
}

row! {
    pub(super) struct RequestRow {
        id: i64,
        workspace_id: i64,
        from_id: i64,
        to_id: i64,
        text: Option<String>,
        created_at: i64,
    }
}

impl TryFrom<RequestRow> for MeetingRequest {
    type Error = StoreError;
    fn try_from(r: RequestRow) -> Result<Self> {
        Ok(MeetingRequest {
            id: RequestId(r.id),
            workspace_id: WorkspaceId(r.workspace_id),
            from_id: PersonId(r.from_id),
            to_id: PersonId(r.to_id),
            text: r.text,
            created_at: from_ts(r.created_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_holds_short_text_exactly_and_refuses_longer() {
        for s in ["", "open", "2026-12-04", "rescheduled", "ü€ and 123456789012"] {
            assert!(s.len() <= Tag::CAPACITY);
            assert_eq!(&*Tag::new(s).unwrap(), s);
        }
        assert!(Tag::new(&"x".repeat(Tag::CAPACITY + 1)).is_none());
        // Through both decoders: a value too long for a tag is an error, not a cut.
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let short: Tag = c.query_row("select 'discussed'", [], |r| r.get(0)).unwrap();
        assert_eq!(&*short, "discussed");
        let long = c.query_row("select printf('%.30c', 'x')", [], |r| r.get::<_, Tag>(0));
        assert!(long.is_err(), "{long:?}");
    }

    #[test]
    fn every_cadence_survives_encoding() {
        let all = [
            Cadence::Weekly {
                interval: 1,
                weekday: Weekday::Mon,
            },
            Cadence::Weekly {
                interval: 3,
                weekday: Weekday::Sun,
            },
            Cadence::Monthly {
                week: MonthWeek::Last,
                weekday: Weekday::Fri,
            },
            Cadence::Monthly {
                week: MonthWeek::Second,
                weekday: Weekday::Tue,
            },
            Cadence::Cron("0 30 9 * * Mon,Thu".into()),
        ];
        for c in all {
            assert_eq!(decode_cadence(&encode_cadence(&c)), Some(c));
        }
        assert_eq!(decode_cadence("weekly:x:mon"), None);
        assert_eq!(decode_cadence("cron:"), None);
        assert_eq!(decode_cadence("yearly:1"), None);
    }
}

row! {
    pub(super) struct PostedRow {
        id: i64,
        meeting_id: i64,
        person_id: i64,
        channel: String,
        ts: String,
    }
}

impl PostedRow {
    pub(super) fn person_id(&self) -> i64 {
        self.person_id
    }
}

impl From<PostedRow> for PostedAgenda {
    fn from(r: PostedRow) -> Self {
        PostedAgenda {
            id: PostedAgendaId(r.id),
            meeting_id: MeetingId(r.meeting_id),
            person_id: PersonId(r.person_id),
            channel: r.channel,
            ts: r.ts,
        }
    }
}
