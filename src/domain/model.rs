//! The model of SPEC §4 as plain data: ids, people, 1:1 series, meetings and
//! everything hanging off a meeting. No I/O here; the store maps rows to these
//! types and the command layer reasons about them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { self.0.fmt(f) }
        }
    )*};
}

id_type!(
    /// A Slack team or a Teams tenant.
    WorkspaceId,
    /// A chat user inside one workspace.
    PersonId,
    /// A 1:1: the recurring relationship between a manager and a report.
    SeriesId,
    /// One occurrence of a series.
    MeetingId,
    TalkingPointId,
    CommentId,
    NoteId,
    /// Action items are numbered by this id in every listing (`complete 12`).
    ActionItemId,
    TemplateId,
    RequestId,
    PostedAgendaId,
    /// One queued notification (SPEC §8).
    DeliveryId,
);

/// The chat platform a workspace lives on. A closed set: an enum, not a trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Slack,
    Teams,
    /// The local `oneonone console` playground.
    Console,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Slack => "slack",
            Platform::Teams => "teams",
            Platform::Console => "console",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "slack" => Some(Platform::Slack),
            "teams" => Some(Platform::Teams),
            "console" => Some(Platform::Console),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub platform: Platform,
    /// Slack team id (`T…`), Teams tenant id, or the console workspace name.
    pub external_id: String,
    pub name: String,
    /// Days without a held meeting before the manager is nudged (SPEC §8, default 14).
    pub overdue_after_days: u32,
}

/// A person's own settings and what the platform told us about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub workspace_id: WorkspaceId,
    /// Slack user id (`U…`), Teams `29:` id, or the console name.
    pub external_id: String,
    pub display_name: String,
    pub email: Option<String>,
    /// Zone reported by the platform.
    pub platform_tz: Option<Tz>,
    /// Zone the person chose with `settings tz`; wins over `platform_tz`.
    pub tz_override: Option<Tz>,
    pub work_start: NaiveTime,
    pub work_end: NaiveTime,
    pub nudges: bool,
    /// Out of office through this date (inclusive), in the person's zone.
    pub away_until: Option<NaiveDate>,
    /// When the profile was last fetched from the platform (`users.info`).
    pub profile_refreshed_at: Option<DateTime<Utc>>,
}

impl Person {
    /// The zone used for everything shown to or scheduled for this person.
    pub fn tz(&self) -> Tz {
        self.tz_override.or(self.platform_tz).unwrap_or(Tz::UTC)
    }
}

/// Default working hours (SPEC §4): 09:00–18:00 local.
pub fn default_work_start() -> NaiveTime {
    NaiveTime::from_hms_opt(9, 0, 0).expect("valid time")
}
pub fn default_work_end() -> NaiveTime {
    NaiveTime::from_hms_opt(18, 0, 0).expect("valid time")
}

/// What the platform tells us about a user (Slack `users.info`, Teams roster).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub external_id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub tz: Option<Tz>,
    pub is_bot: bool,
    pub deleted: bool,
}

/// Which week of the month a monthly cadence falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonthWeek {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl MonthWeek {
    pub fn as_str(self) -> &'static str {
        match self {
            MonthWeek::First => "first",
            MonthWeek::Second => "second",
            MonthWeek::Third => "third",
            MonthWeek::Fourth => "fourth",
            MonthWeek::Last => "last",
        }
    }
}

/// How often a 1:1 recurs (SPEC §5 CADENCE). The time of day, zone and the
/// anchor date live on the series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cadence {
    /// `weekly DAY` (interval 1), `biweekly DAY` (2), `every N weeks DAY` (N).
    Weekly { interval: u32, weekday: Weekday },
    /// `monthly first|second|third|fourth|last DAY`.
    Monthly { week: MonthWeek, weekday: Weekday },
    /// `cron "EXPR"`: the `cron` crate's syntax (seconds first, 6 or 7 fields),
    /// evaluated in the series' zone. A 5-field expression is accepted and
    /// stored with a leading `0 ` for seconds.
    Cron(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesState {
    Active,
    Paused,
    Ended,
}

impl SeriesState {
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesState::Active => "active",
            SeriesState::Paused => "paused",
            SeriesState::Ended => "ended",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(SeriesState::Active),
            "paused" => Some(SeriesState::Paused),
            "ended" => Some(SeriesState::Ended),
            _ => None,
        }
    }
}

/// A 1:1 series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub id: SeriesId,
    pub workspace_id: WorkspaceId,
    pub manager_id: PersonId,
    pub report_id: PersonId,
    pub cadence: Cadence,
    /// Local time of day in `tz`.
    pub time: NaiveTime,
    pub tz: Tz,
    pub duration_minutes: u32,
    /// Name of the agenda template seeded into each new meeting.
    pub template: Option<String>,
    /// How long before a meeting the agenda is posted (default 24 h).
    pub lead_minutes: u32,
    pub state: SeriesState,
    /// The first day the cadence may fall on; `every N weeks` counts weeks from it.
    pub anchor_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl Series {
    pub fn partner_of(&self, me: PersonId) -> Option<PersonId> {
        if me == self.manager_id {
            Some(self.report_id)
        } else if me == self.report_id {
            Some(self.manager_id)
        } else {
            None
        }
    }
    pub fn is_participant(&self, p: PersonId) -> bool {
        p == self.manager_id || p == self.report_id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeetingState {
    Upcoming,
    Held,
    Skipped,
    /// Still to come, but moved away from its cadence slot by `reschedule`.
    Rescheduled,
}

impl MeetingState {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingState::Upcoming => "upcoming",
            MeetingState::Held => "held",
            MeetingState::Skipped => "skipped",
            MeetingState::Rescheduled => "rescheduled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upcoming" => Some(MeetingState::Upcoming),
            "held" => Some(MeetingState::Held),
            "skipped" => Some(MeetingState::Skipped),
            "rescheduled" => Some(MeetingState::Rescheduled),
            _ => None,
        }
    }
    /// Upcoming and rescheduled meetings have not happened yet.
    pub fn is_pending(self) -> bool {
        matches!(self, MeetingState::Upcoming | MeetingState::Rescheduled)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub id: MeetingId,
    pub series_id: SeriesId,
    /// The cadence slot this meeting was created for (UTC). Unique per series,
    /// so two replicas materializing the same meeting create it once.
    pub slot: DateTime<Utc>,
    /// When it actually takes place (differs from `slot` after `reschedule`).
    pub scheduled_at: DateTime<Utc>,
    pub state: MeetingState,
    pub skip_reason: Option<String>,
    /// When it was marked held or skipped.
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Goals,
    Feedback,
    Development,
    Recognition,
    Wellbeing,
    Other,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Goals,
        Category::Feedback,
        Category::Development,
        Category::Recognition,
        Category::Wellbeing,
        Category::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Goals => "goals",
            Category::Feedback => "feedback",
            Category::Development => "development",
            Category::Recognition => "recognition",
            Category::Wellbeing => "wellbeing",
            Category::Other => "other",
        }
    }
    /// Accepts the exact names, case-insensitively, plus a few obvious aliases
    /// (`goal`, `growth`, `career`, `kudos`, `praise`, `wellness`, `misc`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "goals" | "goal" => Some(Category::Goals),
            "feedback" => Some(Category::Feedback),
            "development" | "growth" | "career" | "dev" => Some(Category::Development),
            "recognition" | "kudos" | "praise" => Some(Category::Recognition),
            "wellbeing" | "well-being" | "wellness" => Some(Category::Wellbeing),
            "other" | "misc" => Some(Category::Other),
            _ => None,
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Category::Goals => "Goals",
            Category::Feedback => "Feedback",
            Category::Development => "Development",
            Category::Recognition => "Recognition",
            Category::Wellbeing => "Wellbeing",
            Category::Other => "Other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointState {
    Open,
    Discussed,
}

impl PointState {
    pub fn as_str(self) -> &'static str {
        match self {
            PointState::Open => "open",
            PointState::Discussed => "discussed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(PointState::Open),
            "discussed" => Some(PointState::Discussed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkingPoint {
    pub id: TalkingPointId,
    pub meeting_id: MeetingId,
    pub author_id: PersonId,
    pub text: String,
    pub category: Category,
    /// Order on the agenda; shown 1-based as `N` in commands.
    pub position: i64,
    pub state: PointState,
    /// How many times this point rolled over to a later meeting.
    pub rollover_count: u32,
    /// The meeting the point was first added to.
    pub origin_meeting_id: MeetingId,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: CommentId,
    pub talking_point_id: TalkingPointId,
    pub author_id: PersonId,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateNote {
    pub id: NoteId,
    pub meeting_id: MeetingId,
    pub author_id: PersonId,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionState {
    Open,
    Done,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Open => "open",
            ActionState::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ActionState::Open),
            "done" => Some(ActionState::Done),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionItem {
    pub id: ActionItemId,
    pub series_id: SeriesId,
    /// The meeting it was created in.
    pub meeting_id: MeetingId,
    pub owner_id: PersonId,
    pub created_by: PersonId,
    pub text: String,
    pub due: Option<NaiveDate>,
    pub state: ActionState,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A workspace's own agenda template (built-in ones live in `content`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: TemplateId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub items: Vec<String>,
    pub created_by: PersonId,
    pub created_at: DateTime<Utc>,
}

/// One side's rating of a held meeting (1–5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub meeting_id: MeetingId,
    pub person_id: PersonId,
    pub score: u8,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `request @person`: a report asks for a 1:1 or an extra meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRequest {
    pub id: RequestId,
    pub workspace_id: WorkspaceId,
    pub from_id: PersonId,
    pub to_id: PersonId,
    pub text: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An agenda message the bot posted to one participant (Slack: a DM), so
/// reactions and thread replies find their meeting and copies can be updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedAgenda {
    pub id: PostedAgendaId,
    pub meeting_id: MeetingId,
    pub person_id: PersonId,
    pub channel: String,
    pub ts: String,
}

/// What a notification is (SPEC §8). Part of its dedupe key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryKind {
    Agenda,
    FollowUp,
    Overdue,
    ActionDigest,
    StuckTopic,
    /// A one-off message (a request, a change) that still wants durability.
    Notice,
}

impl DeliveryKind {
    pub const ALL: [DeliveryKind; 6] = [
        DeliveryKind::Agenda,
        DeliveryKind::FollowUp,
        DeliveryKind::Overdue,
        DeliveryKind::ActionDigest,
        DeliveryKind::StuckTopic,
        DeliveryKind::Notice,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Agenda => "agenda",
            DeliveryKind::FollowUp => "follow_up",
            DeliveryKind::Overdue => "overdue",
            DeliveryKind::ActionDigest => "action_digest",
            DeliveryKind::StuckTopic => "stuck_topic",
            DeliveryKind::Notice => "notice",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a delivery is in its life: `pending` -> `sending` (claimed, leased)
/// -> `sent`, or back to `pending` for a retry, or `failed` after the last
/// attempt; `dropped` when it no longer makes sense to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryState {
    Pending,
    Sending,
    Sent,
    Failed,
    Dropped,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 5] = [
        DeliveryState::Pending,
        DeliveryState::Sending,
        DeliveryState::Sent,
        DeliveryState::Failed,
        DeliveryState::Dropped,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Dropped => "dropped",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Sent, failed and dropped deliveries never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Sent | DeliveryState::Failed | DeliveryState::Dropped
        )
    }
}

/// A notification to queue. The store turns it into a `pending` delivery,
/// at most once per `dedupe_key`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub workspace_id: WorkspaceId,
    pub kind: DeliveryKind,
    /// What it is about, e.g. `meeting:17` or `person:4`.
    pub subject: String,
    /// The occurrence it belongs to (a meeting's start, a digest's day).
    pub slot: DateTime<Utc>,
    pub recipient_id: PersonId,
    /// What the worker renders from; opaque to the store.
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    pub max_attempts: u32,
}

impl NewDelivery {
    /// `{kind}:{subject}:{slot}:{recipient}`, the slot in unix seconds: one
    /// notification per occurrence and recipient, however often a pass runs.
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.kind.as_str(),
            self.subject,
            self.slot.timestamp(),
            self.recipient_id
        )
    }
}

/// A queued notification as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub workspace_id: WorkspaceId,
    pub kind: DeliveryKind,
    pub subject: String,
    pub slot: DateTime<Utc>,
    pub dedupe_key: String,
    pub recipient_id: PersonId,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    pub state: DeliveryState,
    /// Claims so far, including the one in progress while `sending`.
    pub attempts: u32,
    pub max_attempts: u32,
    /// While `sending`: when the claim expires and another worker may take it.
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The sent message (Slack: channel and ts), for reactions and `chat.update`.
    pub message_channel: Option<String>,
    pub message_ts: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
