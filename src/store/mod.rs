//! The store: every SQL statement of the product, on SQLite or PostgreSQL.
//!
//! `Db` is a closed set of two engines. Methods are named after domain
//! operations and return domain types; rows are decoded by `rows.rs`. The
//! same SQL text serves both engines wherever it can (`$n` placeholders,
//! `returning`, `on conflict` work on both); the `on_db!` macro expands one
//! body per pool. Where dialects differ, both literals sit side by side.
//! Imports `domain` only.

mod lite;
mod rows;
pub mod testing;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod delivery_contract_tests;
#[cfg(test)]
mod lifecycle_contract_tests;
#[cfg(test)]
mod slack_installs_contract_tests;

use crate::domain::model::*;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use rows::*;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub use rows::{decode_cadence, encode_cadence};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// An expected clash the domain turns into a message.
    #[error("{0}")]
    Conflict(&'static str),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("unsupported DATABASE_URL: {0}")]
    BadUrl(String),
    /// A statement on SQLite's own connections (`lite.rs`: the inline
    /// reads and the writer thread) failed.
    #[error("database error")]
    Lite(#[source] rusqlite::Error),
    #[error("the database was closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Lite(e)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database: SQLite (single node) or PostgreSQL (several replicas).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(Sqlite),
    Postgres(PgPool),
}

/// A SQLite database: sqlx's pool for writes and transactions, and
/// connections of our own for reads on the caller's thread (`lite.rs`).
#[derive(Clone, Debug)]
pub struct Sqlite {
    pub pool: SqlitePool,
    readers: std::sync::Arc<lite::Readers>,
    writer: std::sync::Arc<lite::Writer>,
}

/// Runs the same body against whichever pool this is. The body is expanded
/// twice, so each copy is type-checked against its own engine.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($crate::store::Sqlite { pool: $pool, .. }) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

/// A read: on SQLite inline on this thread (`lite.rs`), on PostgreSQL
/// through the pool. `read!(db, optional Q, a, b)` decodes rows (`row!` types
/// of `rows.rs`), `read!(db, one scalar Q, a)` a single column; the ways are
/// `optional`, `one` and `all`, as sqlx's `fetch_*`. The arguments are bound
/// to `$1`, `$2`, … by number on both engines.
macro_rules! read {
    (@go $db:expr, $how:ident, $ctor:ident, $q:expr $(, $arg:expr)*) => {
        match $db {
            $crate::store::Db::Sqlite(s) => s.readers.read(|c| read!(@lite c, $how, $q $(, $arg)*)),
            $crate::store::Db::Postgres(p) => read!(@pg $how, sqlx::$ctor($q)$(.bind($arg))*, p),
        }
    };
    // On a rusqlite connection at hand (several reads in one snapshot).
    (@lite $c:expr, $how:ident, $q:expr $(, $arg:expr)*) => {{
        let mut st = $c.prepare_cached($q)?;
        $crate::store::lite::bind::<&dyn rusqlite::ToSql>(&mut st, &[$(&$arg as &dyn rusqlite::ToSql),*])?;
        $crate::store::lite::$how(st.raw_query(), $q)
    }};
    (@pg optional, $query:expr, $p:ident) => {
        $query.fetch_optional($p).await.map_err($crate::store::StoreError::from)
    };
    (@pg one, $query:expr, $p:ident) => {
        $query.fetch_one($p).await.map_err($crate::store::StoreError::from)
    };
    (@pg all, $query:expr, $p:ident) => {
        $query.fetch_all($p).await.map_err($crate::store::StoreError::from)
    };
    ($db:expr, $how:ident scalar $q:expr $(, $arg:expr)* $(,)?) => {
        read!(@go $db, $how, query_scalar, $q $(, $arg)*)
    };
    ($db:expr, $how:ident $q:expr $(, $arg:expr)* $(,)?) => {
        read!(@go $db, $how, query_as, $q $(, $arg)*)
    };
}

/// A write: on SQLite on the writer thread (`lite.rs`: one hand-off, group
/// commit), on PostgreSQL through the pool. `change!(db, execute Q, a, b)`
/// answers the number of rows changed; `one`, `optional` and `all`, with or
/// without `scalar`, decode `returning` rows as [`read!`] does.
macro_rules! change {
    (@go $db:expr, $how:ident, $ctor:ident, $q:expr $(, $arg:expr)*) => {
        match $db {
            $crate::store::Db::Sqlite(s) => {
                // Copied before the hand-off (the borrowed list is not `Send`).
                let args = $crate::store::lite::owned(&[$(&$arg as &dyn rusqlite::ToSql),*]);
                match args {
                    Ok(args) => s.writer.write(move |c| {
                        let mut st = c.prepare_cached($q)?;
                        $crate::store::lite::bind(&mut st, &args)?;
                        change!(@lite $how, st, $q)
                    }).await,
                    Err(e) => Err($crate::store::StoreError::from(e)),
                }
            }
            $crate::store::Db::Postgres(p) => change!(@pg $how, sqlx::$ctor($q)$(.bind($arg))*, p),
        }
    };
    (@lite execute, $st:ident, $q:expr) => { $st.raw_execute().map(|n| n as u64) };
    (@lite $how:ident, $st:ident, $q:expr) => { $crate::store::lite::$how($st.raw_query(), $q) };
    (@pg execute, $query:expr, $p:ident) => {
        $query.execute($p).await.map(|r| r.rows_affected()).map_err($crate::store::StoreError::from)
    };
    (@pg $how:ident, $query:expr, $p:ident) => { read!(@pg $how, $query, $p) };
    ($db:expr, execute $q:expr $(, $arg:expr)* $(,)?) => {
        change!(@go $db, execute, query, $q $(, $arg)*)
    };
    ($db:expr, $how:ident scalar $q:expr $(, $arg:expr)* $(,)?) => {
        change!(@go $db, $how, query_scalar, $q $(, $arg)*)
    };
    ($db:expr, $how:ident $q:expr $(, $arg:expr)* $(,)?) => {
        change!(@go $db, $how, query_as, $q $(, $arg)*)
    };
}

// After `on_db!`: macros are visible only to modules declared below them.
mod deliveries;
mod lifecycle;
mod slack_installs;
mod teams;

pub use deliveries::{RetryOutcome, backoff};
pub use lifecycle::{Attendance, ERASED_NAME, ERASED_POINT_TEXT, ERASED_PREFIX, PurgeCounts, WorkspaceContent};
pub use slack_installs::{OAuthStateCheck, SlackInstallation};
pub use teams::{SeenConversation, TeamsConversation};

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Fields of a new series.
#[derive(Debug, Clone)]
pub struct NewSeries {
    pub workspace_id: WorkspaceId,
    pub manager_id: PersonId,
    pub report_id: PersonId,
    pub cadence: Cadence,
    pub time: NaiveTime,
    pub tz: Tz,
    pub duration_minutes: u32,
    pub template: Option<String>,
    pub lead_minutes: u32,
    pub anchor_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// The connection pool's use (`Db::pool_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections lent out to a query or transaction.
    pub in_use: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The most connections the pool will open.
    pub max: u32,
}

/// A person's 1:1 with the partner's record ([`Db::partnerships`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Partnership {
    pub series: Series,
    pub partner: Person,
    /// The 1:1's pending meetings, read with it when it is the person's only
    /// one (else `None`: read them when needed).
    pub pending: Option<Vec<Meeting>>,
}

/// What [`Db::caller_with`] reads beside the caller, in the same read
/// transaction on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerWith {
    /// The caller's workspace and person only.
    Nothing,
    /// Their 1:1s that have not ended ([`Db::partnerships`]).
    OneOnOnes,
    /// Their 1:1s and, when there is only one, the agenda ([`Db::agenda_content`],
    /// as the caller sees it) of its earliest pending meeting not over at
    /// this time. PostgreSQL reads no agenda here (its reads are separate
    /// round trips either way).
    Agenda(DateTime<Utc>),
}

/// What [`Db::caller_with`] read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CallerRead {
    pub workspace: Option<Workspace>,
    /// The caller, if known in that workspace.
    pub person: Option<Person>,
    /// Asked for and the caller known: their 1:1s.
    pub partnerships: Option<Vec<Partnership>>,
    /// Asked for and found: the agenda of that meeting.
    pub agenda: Option<(MeetingId, AgendaContent)>,
}

/// What a refresh after changes to some 1:1s shows again
/// ([`Db::refresh_targets`]): each posted copy of their agendas (with the
/// person it was posted to) and the people among their participants who
/// have opened their App Home.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTargets {
    pub workspace: Workspace,
    pub agendas: Vec<(PostedAgenda, Person)>,
    pub homes: Vec<Person>,
}

/// What an agenda shows ([`Db::agenda_content`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaContent {
    /// Who confirmed they will be there, in the order they did.
    pub attendance: Vec<PersonId>,
    pub points: Vec<TalkingPoint>,
    pub comments: Vec<Comment>,
    /// The 1:1's open action items.
    pub items: Vec<ActionItem>,
    /// The viewer's own private notes.
    pub notes: Vec<PrivateNote>,
}

/// How long a PostgreSQL connection may rest in the pool and still be used
/// without a ping first (it was pinged when it went back).
const PG_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A person's 1:1s. `+workspace_id` keeps SQLite's planner off the
/// workspace index (a scan of every 1:1 of the workspace) and on the two
/// person indexes (a multi-index OR); PostgreSQL reads the unary plus as a
/// no-op. `query_plans_use_the_indexes` holds SQLite to it.
const SERIES_OF_PERSON: &str = "select * from series where +workspace_id = $1
    and (manager_id = $2 or report_id = $2) and ($3 or state <> 'ended') order by id";
/// The partners in a person's 1:1s (those of [`SERIES_OF_PERSON`]), through
/// the same indexes, then each partner by id.
const PARTNERS_OF_PERSON: &str = "select p.* from series s
    join people p on p.id = case when s.manager_id = $2 then s.report_id else s.manager_id end
    where +s.workspace_id = $1 and (s.manager_id = $2 or s.report_id = $2) and ($3 or s.state <> 'ended')";
/// A 1:1's meetings not yet held or skipped, earliest first.
const PENDING_OF_SERIES: &str = "select id, series_id, slot, scheduled_at, state, skip_reason, closed_at
    from meetings where series_id = $1 and state in ('upcoming', 'rescheduled') order by scheduled_at, id";
const PERSON_BY_ID: &str = "select * from people where workspace_id = $1 and id = $2";
/// A person of the workspace, if they have opened their App Home.
const PERSON_WITH_HOME: &str = "select p.* from people p join slack_home_opened h on h.person_id = p.id
    where p.workspace_id = $1 and p.id = $2";
const SERIES_BY_ID: &str = "select * from series where workspace_id = $1 and id = $2";
const POSTED_OF_SERIES: &str = "select p.id, p.meeting_id, p.person_id, p.channel, p.ts from posted_agendas p
    join meetings m on m.id = p.meeting_id
    where m.series_id = $1 and p.created_at >= $2 order by p.id";
const WORKSPACE_BY_EXTERNAL: &str = "select id, platform, external_id, name, overdue_after_days from workspaces
    where platform = $1 and external_id = $2";
const PERSON_BY_EXTERNAL: &str = "select * from people where workspace_id = $1 and external_id = $2";
/// A workspace by its platform id with, if known there, the person of this
/// platform id ([`CallerRow`]: the columns of each in its row type's order).
const CALLER_BY_EXTERNALS: &str = "select w.id, w.platform, w.external_id, w.name, w.overdue_after_days,
        p.id, p.workspace_id, p.external_id, p.display_name, p.email, p.platform_tz, p.tz_override,
        p.work_start_min, p.work_end_min, p.nudges, p.away_until, p.profile_refreshed_at, p.name_key
    from workspaces w left join people p on p.workspace_id = w.id and p.external_id = $3
    where w.platform = $1 and w.external_id = $2";
/// People by a typed name or platform id, any case. Two indexed halves: an
/// `or` of the two would read every person of the workspace on SQLite.
const PEOPLE_BY_NAME: &str = "select * from people where workspace_id = $1 and name_key = $2
        and external_id not like 'erased:%'
    union select * from people where workspace_id = $1 and lower(external_id) = $2
        and external_id not like 'erased:%'
    order by id";
/// Appends a talking point: its position is computed in the insert itself
/// (atomic on SQLite's single writer; PostgreSQL locks the meeting first,
/// [`LOCK_MEETING_PG`]).
const APPEND_POINT: &str = "insert into talking_points
        (meeting_id, author_id, text, category, position, state, rollover_count, origin_meeting_id, created_at)
    values ($1, $2, $3, $4,
        (select coalesce(max(position), 0) + 1 from talking_points where meeting_id = $1),
        'open', 0, $1, $5)
    returning *";
const LOCK_MEETING_PG: &str = "select id from meetings where id = $1 for update";
const ATTENDANCE_OF_MEETING: &str =
    "select person_id from attendance where meeting_id = $1 order by confirmed_at, person_id";
const POINTS_OF_MEETING: &str = "select * from talking_points where meeting_id = $1 order by position, id";
const COMMENTS_OF_MEETING: &str = "select c.id, c.talking_point_id, c.author_id, c.text, c.created_at
    from comments c join talking_points t on t.id = c.talking_point_id
    where t.meeting_id = $1 order by c.id";
/// A 1:1's open action items, in no order: [`open_items_of`] puts them in
/// order (the sort in SQL was a temporary B-tree on every read).
const OPEN_ITEMS_OF_SERIES: &str = "select * from action_items where series_id = $1 and state = 'open'";
const NOTES_OF_AUTHOR: &str = "select id, meeting_id, author_id, text, created_at from private_notes
    where meeting_id = $1 and author_id = $2 order by id";

/// A manager's view of one series over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesStats {
    pub last_held: Option<DateTime<Utc>>,
    pub held: u32,
    pub skipped: u32,
    pub open_actions: u32,
    pub overdue_actions: u32,
    pub avg_rating: Option<f64>,
    pub ratings: u32,
}

fn ts_of(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn minutes(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.hour() * 60 + t.minute())
}

fn lo_hi(a: PersonId, b: PersonId) -> (i64, i64) {
    (a.0.min(b.0), a.0.max(b.0))
}

fn is_sqlx_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_unique_violation(e: &StoreError) -> bool {
    match e {
        StoreError::Database(e) => is_sqlx_unique_violation(e),
        StoreError::Lite(e) => matches!(
            e.sqlite_error().map(|f| f.extended_code),
            Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
        ),
        _ => false,
    }
}

/// A check constraint said no (a 1:1 with oneself, a rating of 6): the
/// caller's data was wrong, not the database.
fn constraint_error(e: impl Into<StoreError>, what: &'static str) -> StoreError {
    let e = e.into();
    let clash = is_unique_violation(&e)
        || match &e {
            StoreError::Database(sqlx::Error::Database(d)) => d.is_check_violation(),
            StoreError::Lite(e) => {
                e.sqlite_error().map(|f| f.extended_code) == Some(rusqlite::ffi::SQLITE_CONSTRAINT_CHECK)
            }
            _ => false,
        };
    if clash { StoreError::Conflict(what) } else { e }
}

impl Db {
    /// Opens `sqlite://PATH` (created if missing; WAL, busy timeout, foreign
    /// keys on) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(format!("{e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            if url.contains(":memory:") || url.contains("mode=memory") {
                // Reads run on connections of their own (lite.rs), which
                // could not see a private in-memory database.
                return Err(StoreError::BadUrl(
                    "an in-memory SQLite database vanishes with the process: use sqlite://PATH".into(),
                ));
            }
            let path = opts.get_filename().to_path_buf();
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
            Ok(Db::Sqlite(Sqlite {
                pool,
                writer: std::sync::Arc::new(lite::Writer::start(&path)?),
                readers: std::sync::Arc::new(lite::Readers::new(path)),
            }))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings a connection when it goes back to the pool
                // (always) and, by default, again when it is taken out: two
                // extra round trips around every statement. One that went
                // back moments ago was pinged then; only a connection idle
                // for longer (the server may have dropped it) is pinged
                // before use, and replaced if it does not answer.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PG_PING_AFTER_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(StoreError::BadUrl(format!(
                "scheme {scheme:?}: use sqlite:// or postgres://"
            )))
        }
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(s) => SQLITE_MIGRATOR.run(&s.pool).await,
            Db::Postgres(p) => POSTGRES_MIGRATOR.run(p).await,
        }
        .map_err(StoreError::Migrate)
    }

    pub async fn ping(&self) -> Result<()> {
        on_db!(self, p => sqlx::query("select 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// True when every embedded migration is applied. A database that was
    /// never migrated (no bookkeeping table) is simply not migrated.
    pub async fn is_migrated(&self) -> Result<bool> {
        const Q: &str = "select version from _sqlx_migrations where success";
        let (applied, expected): (Result<Vec<i64>, sqlx::Error>, Vec<i64>) = match self {
            Db::Sqlite(s) => (
                sqlx::query_scalar(Q).fetch_all(&s.pool).await,
                SQLITE_MIGRATOR.iter().map(|m| m.version).collect(),
            ),
            Db::Postgres(p) => (
                sqlx::query_scalar(Q).fetch_all(p).await,
                POSTGRES_MIGRATOR.iter().map(|m| m.version).collect(),
            ),
        };
        match applied {
            Ok(applied) => Ok(expected.iter().all(|v| applied.contains(v))),
            Err(sqlx::Error::Database(_)) => {
                // The table is missing; make sure the server itself answers.
                self.ping().await?;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn close(&self) {
        if let Db::Sqlite(s) = self {
            s.readers.close();
            s.writer.close();
        }
        on_db!(self, p => p.close().await)
    }

    /// How the connection pool is used right now, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        on_db!(self, p => {
            let size = p.size();
            let idle = u32::try_from(p.num_idle()).unwrap_or(u32::MAX).min(size);
            PoolStats {
                in_use: size - idle,
                idle,
                max: p.options().get_max_connections(),
            }
        })
    }

    // ------------------------------------------------------------ workspaces

    pub async fn ensure_workspace(&self, platform: Platform, external_id: &str, name: &str) -> Result<Workspace> {
        // Every command calls this: read first, so a known workspace costs
        // no write (on SQLite a write takes the database's one write lock).
        if let Some(ws) = self.workspace_by_external(platform, external_id).await?
            && (name.is_empty() || ws.name == name)
        {
            return Ok(ws);
        }
        const Q: &str = "insert into workspaces (platform, external_id, name) values ($1, $2, $3)
            on conflict (platform, external_id) do update set
                name = case when excluded.name = '' then workspaces.name else excluded.name end
            returning id, platform, external_id, name, overdue_after_days";
        let row: WorkspaceRow = change!(self, one Q, platform.as_str(), external_id.to_string(), name.to_string())?;
        row.try_into()
    }

    pub async fn workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>> {
        const Q: &str = "select id, platform, external_id, name, overdue_after_days from workspaces where id = $1";
        let row: Option<WorkspaceRow> = read!(self, optional Q, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn workspace_by_external(&self, platform: Platform, external_id: &str) -> Result<Option<Workspace>> {
        let row: Option<WorkspaceRow> =
            read!(self, optional WORKSPACE_BY_EXTERNAL, platform.as_str(), external_id.to_string())?;
        row.map(TryInto::try_into).transpose()
    }

    /// The caller of a request, by the platform's ids: their workspace and, if
    /// known, their person, read together (on SQLite one read transaction
    /// instead of two; every command starts here).
    pub async fn caller(
        &self,
        platform: Platform,
        workspace: &str,
        person: &str,
    ) -> Result<(Option<Workspace>, Option<Person>)> {
        let read = self
            .caller_with(platform, workspace, person, CallerWith::Nothing)
            .await?;
        Ok((read.workspace, read.person))
    }

    /// The caller by the platform's ids ([`Db::caller`]) and what `with`
    /// asks for beside them; on SQLite all in one read transaction.
    pub async fn caller_with(
        &self,
        platform: Platform,
        workspace: &str,
        person: &str,
        with: CallerWith,
    ) -> Result<CallerRead> {
        type Rows = (
            Option<WorkspaceRow>,
            Option<PersonRow>,
            Option<PartnershipRows>,
            Option<(i64, AgendaRows)>,
        );
        let (ws, p, partnerships, agenda): Rows = match self {
            Db::Sqlite(s) => s.readers.snapshot(|c| {
                let found: Option<CallerRow> =
                    read!(@lite c, optional, CALLER_BY_EXTERNALS, platform.as_str(), workspace, person)?;
                let (ws, p) = match found {
                    Some(CallerRow(ws, p)) => (Some(ws), p),
                    None => (None, None),
                };
                // Nothing more to read for an unknown caller, or when nothing is asked.
                let (Some(ws_row), Some(p_row), false) = (&ws, &p, with == CallerWith::Nothing) else {
                    return Ok((ws, p, None, None));
                };
                let partnerships = lite_partnerships(c, ws_row.id(), p_row.id(), false)?;
                // The only 1:1's earliest pending meeting not over yet: the one
                // the agenda command shows unless the cadence has an earlier
                // slot without a meeting (the command checks the id).
                let agenda = match (with, &partnerships) {
                    (CallerWith::Agenda(now), (series, _, Some(pending))) => match series.as_slice() {
                        [only] => pending
                            .iter()
                            .find(|m| m.scheduled_at() + only.duration_minutes() * 60 > ts_of(now))
                            .map(|m| lite_agenda(c, m.id(), only.id(), p_row.id()).map(|rows| (m.id(), rows)))
                            .transpose()?,
                        _ => None,
                    },
                    _ => None,
                };
                Ok((ws, p, Some(partnerships), agenda))
            })?,
            Db::Postgres(_) => {
                let Some(ws) = self.workspace_by_external(platform, workspace).await? else {
                    return Ok(CallerRead::default());
                };
                let p = self.person_by_external(ws.id, person).await?;
                let partnerships = match &p {
                    Some(p) if with != CallerWith::Nothing => Some(self.partnerships(ws.id, p.id, false).await?),
                    _ => None,
                };
                // Separate round trips either way: the agenda command reads it.
                return Ok(CallerRead {
                    workspace: Some(ws),
                    person: p,
                    partnerships,
                    agenda: None,
                });
            }
        };
        let p: Option<Person> = p.map(TryInto::try_into).transpose()?;
        let partnerships = match (&p, partnerships) {
            (Some(p), Some(rows)) => Some(partnerships_of(rows, p.id)?),
            _ => None,
        };
        Ok(CallerRead {
            workspace: ws.map(TryInto::try_into).transpose()?,
            person: p,
            partnerships,
            agenda: agenda
                .map(|(id, rows)| agenda_of(rows).map(|content| (MeetingId(id), content)))
                .transpose()?,
        })
    }

    // ------------------------------------------------------------ people

    pub async fn person(&self, ws: WorkspaceId, id: PersonId) -> Result<Option<Person>> {
        let row: Option<PersonRow> = read!(self, optional PERSON_BY_ID, ws.0, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn person_by_external(&self, ws: WorkspaceId, external_id: &str) -> Result<Option<Person>> {
        let row: Option<PersonRow> = read!(self, optional PERSON_BY_EXTERNAL, ws.0, external_id.to_string())?;
        row.map(TryInto::try_into).transpose()
    }

    /// Inserts the person, or refreshes what the platform says about them,
    /// keeping their own settings.
    pub async fn upsert_profile(&self, ws: WorkspaceId, profile: &Profile, now: DateTime<Utc>) -> Result<Person> {
        const Q: &str =
            "insert into people (workspace_id, external_id, display_name, email, platform_tz, profile_refreshed_at, name_key)
            values ($1, $2, $3, $4, $5, $6, $7)
            on conflict (workspace_id, external_id) do update set
                display_name = excluded.display_name, email = excluded.email,
                platform_tz = excluded.platform_tz, profile_refreshed_at = excluded.profile_refreshed_at,
                name_key = excluded.name_key
            returning *";
        let row: PersonRow = change!(
            self, one Q,
            ws.0, profile.external_id.clone(), profile.display_name.clone(), profile.email.clone(),
            profile.tz.map(|t| t.name().to_string()), ts_of(now), profile.display_name.to_lowercase(),
        )?;
        row.try_into()
    }

    /// The person if known, else a new one with defaults (refreshed later).
    pub async fn ensure_person(&self, ws: WorkspaceId, external_id: &str, display_name: &str) -> Result<Person> {
        const INSERT: &str =
            "insert into people (workspace_id, external_id, display_name, name_key) values ($1, $2, $3, $4)
            on conflict (workspace_id, external_id) do nothing";
        change!(
            self, execute INSERT,
            ws.0, external_id.to_string(), display_name.to_string(), display_name.to_lowercase(),
        )?;
        self.person_by_external(ws, external_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("person vanished after insert".into()))
    }

    pub async fn people_by_email(&self, ws: WorkspaceId, email: &str) -> Result<Vec<Person>> {
        const Q: &str = "select * from people where workspace_id = $1 and lower(email) = lower($2) order by id";
        let rows: Vec<PersonRow> = read!(self, all Q, ws.0, email.to_string())?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Up to `limit` people of a workspace by name (for a picker).
    pub async fn people_in(&self, ws: WorkspaceId, limit: u32) -> Result<Vec<Person>> {
        // Erased people (README "Backups and your data") are nobody to pick.
        const Q: &str = "select * from people where workspace_id = $1 and external_id not like 'erased:%'
            order by name_key, id limit $2";
        let rows: Vec<PersonRow> = read!(self, all Q, ws.0, i64::from(limit))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn people_by_name(&self, ws: WorkspaceId, name: &str) -> Result<Vec<Person>> {
        // Folded in Rust and compared as stored keys: the same on both engines
        // (SQLite's lower() folds only ASCII). Platform ids are ASCII.
        // Erased people (README "Backups and your data") answer to no name.
        let key = name.trim().to_lowercase();
        let rows: Vec<PersonRow> = read!(self, all PEOPLE_BY_NAME, ws.0, key.clone())?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn save_person_settings(&self, person: &Person) -> Result<()> {
        const Q: &str = "update people set tz_override = $1, work_start_min = $2, work_end_min = $3,
            nudges = $4, away_until = $5 where id = $6 and workspace_id = $7";
        change!(
            self, execute Q,
            person.tz_override.map(|t| t.name().to_string()), minutes(person.work_start), minutes(person.work_end),
            person.nudges, person.away_until.map(date_text), person.id.0, person.workspace_id.0,
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ series

    pub async fn create_series(&self, new: &NewSeries) -> Result<Series> {
        const Q: &str = "insert into series (workspace_id, manager_id, report_id, person_lo, person_hi, cadence,
                time_min, tz, duration_minutes, template, lead_minutes, state, anchor_date, created_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13)
            returning *";
        let (lo, hi) = lo_hi(new.manager_id, new.report_id);
        let res: Result<SeriesRow> = change!(
            self, one Q,
            new.workspace_id.0, new.manager_id.0, new.report_id.0, lo, hi, encode_cadence(&new.cadence),
            minutes(new.time), new.tz.name().to_string(), i64::from(new.duration_minutes), new.template.clone(),
            i64::from(new.lead_minutes), date_text(new.anchor_date), ts_of(new.created_at),
        );
        match res {
            Ok(row) => row.try_into(),
            Err(e) => Err(constraint_error(
                e,
                "these two people already have a 1:1, or it would be with oneself",
            )),
        }
    }

    pub async fn update_series(&self, s: &Series) -> Result<()> {
        const Q: &str = "update series set manager_id = $1, report_id = $2, cadence = $3, time_min = $4, tz = $5,
                duration_minutes = $6, template = $7, lead_minutes = $8, state = $9, anchor_date = $10
            where id = $11 and workspace_id = $12";
        change!(
            self, execute Q,
            s.manager_id.0, s.report_id.0, encode_cadence(&s.cadence), minutes(s.time), s.tz.name().to_string(),
            i64::from(s.duration_minutes), s.template.clone(), i64::from(s.lead_minutes), s.state.as_str(),
            date_text(s.anchor_date), s.id.0, s.workspace_id.0,
        )
        .map_err(|e| constraint_error(e, "these two people already have a 1:1, or it would be with oneself"))?;
        Ok(())
    }

    /// Active 1:1s whose planning time has come (`plan_at <= now`): what a
    /// scheduler pass looks at. Indexed on (state, plan_at), so an idle pass
    /// costs one index probe however many 1:1s exist.
    pub async fn series_due_for_planning(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Series>> {
        const Q: &str = "select * from series where state = 'active' and plan_at <= $1 order by plan_at, id limit $2";
        let rows: Vec<SeriesRow> = read!(self, all Q, ts_of(now), i64::from(limit))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// When the scheduler should next look at `series`.
    pub async fn set_plan_at(&self, series: SeriesId, at: DateTime<Utc>) -> Result<()> {
        const Q: &str = "update series set plan_at = $1 where id = $2";
        change!(self, execute Q, ts_of(at), series.0)?;
        Ok(())
    }

    /// Marks 1:1s as changed: the next scheduler pass plans them again.
    pub async fn touch_series(&self, ids: &[SeriesId]) -> Result<()> {
        const PLANNED: &str = "select plan_at <> 0 from series where id = $1";
        const Q: &str = "update series set plan_at = 0 where id = $1";
        for id in ids {
            // Most changes come while the 1:1 is already marked (every `add`
            // after the first until the next pass): a read, not a write.
            let planned: Option<bool> = read!(self, optional scalar PLANNED, id.0)?;
            if planned != Some(false) {
                change!(self, execute Q, id.0)?;
            }
        }
        Ok(())
    }

    /// Every active 1:1 across all workspaces: what a scheduler pass plans for.
    pub async fn active_series(&self) -> Result<Vec<Series>> {
        const Q: &str = "select * from series where state = 'active' order by id";
        let rows: Vec<SeriesRow> = read!(self, all Q)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn series(&self, ws: WorkspaceId, id: SeriesId) -> Result<Option<Series>> {
        let row: Option<SeriesRow> = read!(self, optional SERIES_BY_ID, ws.0, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn series_between(&self, ws: WorkspaceId, a: PersonId, b: PersonId) -> Result<Option<Series>> {
        const Q: &str = "select * from series where workspace_id = $1 and person_lo = $2 and person_hi = $3";
        let (lo, hi) = lo_hi(a, b);
        let row: Option<SeriesRow> = read!(self, optional Q, ws.0, lo, hi)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn series_for_person(
        &self,
        ws: WorkspaceId,
        person: PersonId,
        include_ended: bool,
    ) -> Result<Vec<Series>> {
        let rows: Vec<SeriesRow> = read!(self, all SERIES_OF_PERSON, ws.0, person.0, include_ended)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// A person's 1:1s ([`Db::series_for_person`]), each with the partner's
    /// record: two statements, on SQLite in one read transaction (instead of
    /// one read per 1:1 and one per partner). When the person has exactly
    /// one such 1:1, its pending meetings ([`Db::pending_meetings`]) come
    /// with it, read in the same transaction: most commands go on to them.
    pub async fn partnerships(
        &self,
        ws: WorkspaceId,
        person: PersonId,
        include_ended: bool,
    ) -> Result<Vec<Partnership>> {
        let rows: PartnershipRows = match self {
            Db::Sqlite(s) => s
                .readers
                .snapshot(|c| lite_partnerships(c, ws.0, person.0, include_ended))?,
            Db::Postgres(p) => {
                let series: Vec<SeriesRow> =
                    read!(@pg all, sqlx::query_as(SERIES_OF_PERSON).bind(ws.0).bind(person.0).bind(include_ended), p)?;
                let partners = read!(@pg all, sqlx::query_as(PARTNERS_OF_PERSON).bind(ws.0).bind(person.0).bind(include_ended), p)?;
                let pending = match series.as_slice() {
                    [only] => Some(read!(@pg all, sqlx::query_as(PENDING_OF_SERIES).bind(only.id()), p)?),
                    _ => None,
                };
                (series, partners, pending)
            }
        };
        partnerships_of(rows, person)
    }

    // ------------------------------------------------------------ meetings

    /// Creates the meeting for `slot` unless it exists; `true` when created.
    pub async fn insert_meeting(
        &self,
        series: SeriesId,
        slot: DateTime<Utc>,
        scheduled_at: DateTime<Utc>,
    ) -> Result<(Meeting, bool)> {
        const INSERT: &str =
            "insert into meetings (series_id, slot, scheduled_at, state) values ($1, $2, $3, 'upcoming')
            on conflict (series_id, slot) do nothing returning id";
        const SELECT: &str = "select id, series_id, slot, scheduled_at, state, skip_reason, closed_at
            from meetings where series_id = $1 and slot = $2";
        // Most calls find the meeting already there (every `agenda` and `add`
        // asks for the next slot): look before writing, so they take no write
        // lock; the insert still settles a race between two first callers.
        let existing: Option<MeetingRow> = read!(self, optional SELECT, series.0, ts_of(slot))?;
        if let Some(row) = existing {
            return Ok((row.try_into()?, false));
        }
        let created: Option<i64> = change!(self, optional scalar INSERT, series.0, ts_of(slot), ts_of(scheduled_at))?;
        let row: MeetingRow = read!(self, one SELECT, series.0, ts_of(slot))?;
        Ok((row.try_into()?, created.is_some()))
    }

    pub async fn meeting(&self, id: MeetingId) -> Result<Option<Meeting>> {
        const Q: &str =
            "select id, series_id, slot, scheduled_at, state, skip_reason, closed_at from meetings where id = $1";
        let row: Option<MeetingRow> = read!(self, optional Q, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn pending_meetings(&self, series: SeriesId) -> Result<Vec<Meeting>> {
        let rows: Vec<MeetingRow> = read!(self, all PENDING_OF_SERIES, series.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn last_meeting_by_slot(&self, series: SeriesId) -> Result<Option<Meeting>> {
        const Q: &str = "select id, series_id, slot, scheduled_at, state, skip_reason, closed_at from meetings
            where series_id = $1 order by slot desc limit 1";
        let row: Option<MeetingRow> = read!(self, optional Q, series.0)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn closed_meetings(&self, series: SeriesId, limit: u32) -> Result<Vec<Meeting>> {
        const Q: &str = "select id, series_id, slot, scheduled_at, state, skip_reason, closed_at from meetings
            where series_id = $1 and state in ('held', 'skipped') order by scheduled_at desc, id desc limit $2";
        let rows: Vec<MeetingRow> = read!(self, all Q, series.0, i64::from(limit))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Marks a pending meeting held or skipped and, in the same transaction,
    /// moves its open talking points to `roll_to` (appended, rollover count
    /// +1, author, comments and origin kept). Returns how many rolled.
    pub async fn close_meeting(
        &self,
        meeting: MeetingId,
        state: MeetingState,
        reason: Option<&str>,
        at: DateTime<Utc>,
        roll_to: Option<MeetingId>,
    ) -> Result<u32> {
        const CLOSE: &str = "update meetings set state = $1, skip_reason = $2, closed_at = $3
            where id = $4 and state in ('upcoming', 'rescheduled')";
        const OPEN_POINTS: &str =
            "select id from talking_points where meeting_id = $1 and state = 'open' order by position, id";
        const MAX_POS: &str = "select coalesce(max(position), 0) from talking_points where meeting_id = $1";
        const MOVE: &str =
            "update talking_points set meeting_id = $1, position = $2, rollover_count = rollover_count + 1
            where id = $3";
        const SAME_SERIES: &str = "select b.id from meetings a join meetings b on b.series_id = a.series_id
            where a.id = $1 and b.id = $2 and b.id <> a.id";
        let reason = reason.map(str::to_string);
        on_db!(self, p => {
            let mut tx = p.begin_write().await?;
            if let (Db::Postgres(_), Some(to)) = (self, roll_to) {
                // Serializes with concurrent adds to the target's agenda.
                sqlx::query(LOCK_MEETING_PG).bind(to.0).execute(&mut *tx).await?;
            }
            let closed = sqlx::query(CLOSE)
                .bind(state.as_str()).bind(reason.clone()).bind(ts_of(at)).bind(meeting.0)
                .execute(&mut *tx).await?;
            if closed.rows_affected() == 0 {
                return Err(StoreError::Conflict("meeting already closed"));
            }
            let mut rolled = 0u32;
            if let Some(to) = roll_to {
                // Points only ever move within their own 1:1.
                let same: Option<i64> = sqlx::query_scalar(SAME_SERIES).bind(meeting.0).bind(to.0).fetch_optional(&mut *tx).await?;
                if same.is_none() {
                    return Err(StoreError::Conflict("roll-over target is not in the same 1:1"));
                }
                let ids: Vec<i64> = sqlx::query_scalar(OPEN_POINTS).bind(meeting.0).fetch_all(&mut *tx).await?;
                let mut pos: i64 = sqlx::query_scalar(MAX_POS).bind(to.0).fetch_one(&mut *tx).await?;
                for id in ids {
                    pos += 1;
                    sqlx::query(MOVE).bind(to.0).bind(pos).bind(id).execute(&mut *tx).await?;
                    rolled += 1;
                }
            }
            tx.commit().await?;
            Ok(rolled)
        })
    }

    /// Moves a pending meeting to `at` (state `rescheduled`); its slot stays,
    /// so the cadence does not drift.
    pub async fn reschedule_meeting(&self, meeting: MeetingId, at: DateTime<Utc>) -> Result<()> {
        const Q: &str = "update meetings set scheduled_at = $1, state = 'rescheduled'
            where id = $2 and state in ('upcoming', 'rescheduled')";
        let done = change!(self, execute Q, ts_of(at), meeting.0)?;
        if done == 0 {
            return Err(StoreError::Conflict("meeting already closed"));
        }
        Ok(())
    }

    /// Puts future upcoming meetings on new cadence slots (after the manager
    /// changed the cadence), keeping their agendas, in one transaction. Every
    /// meeting first parks on a placeholder slot (`-id`, never a real
    /// instant) so that moving A onto B's old slot cannot collide with B.
    pub async fn retime_meetings(&self, moves: &[(MeetingId, DateTime<Utc>)]) -> Result<()> {
        const PARK: &str = "update meetings set slot = -id where id = $1 and state = 'upcoming'";
        const MOVE: &str = "update meetings set slot = $1, scheduled_at = $1 where id = $2 and state = 'upcoming'";
        if moves.is_empty() {
            return Ok(());
        }
        on_db!(self, p => {
            let mut tx = p.begin_write().await?;
            for (id, _) in moves {
                sqlx::query(PARK).bind(id.0).execute(&mut *tx).await?;
            }
            for (id, slot) in moves {
                match sqlx::query(MOVE).bind(ts_of(*slot)).bind(id.0).execute(&mut *tx).await {
                    Ok(_) => {}
                    // A closed meeting already holds that instant: leave this one parked
                    // rather than fail the whole change; it is never shown as pending
                    // at a wrong time because its scheduled_at is unchanged.
                    Err(e) if is_sqlx_unique_violation(&e) => {
                        return Err(StoreError::Conflict("a meeting already exists at that time"));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    // ------------------------------------------------------------ talking points

    /// Appends a point to a meeting's agenda. The position is computed in the
    /// insert itself (atomic on SQLite's single writer); PostgreSQL locks the
    /// meeting row first so concurrent adds get distinct positions.
    pub async fn add_talking_point(
        &self,
        meeting: MeetingId,
        author: PersonId,
        category: Category,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<TalkingPoint> {
        let row: TalkingPointRow = match self {
            Db::Sqlite(_) => {
                change!(self, one APPEND_POINT, meeting.0, author.0, text.to_string(), category.as_str(), ts_of(now))?
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                let row = append_point_pg(&mut tx, meeting, author, category, text, now).await?;
                tx.commit().await?;
                row
            }
        };
        row.try_into()
    }

    /// A person's talking point (the `add` command), in one write: appended
    /// as [`Db::add_talking_point`] does, answered with its place on the
    /// agenda (1-based, in the order of [`Db::talking_points`]: the last, so
    /// the count of the meeting's points), and its 1:1 marked for the
    /// scheduler's next pass as [`Db::touch_series`] does.
    pub async fn append_point(
        &self,
        series: SeriesId,
        meeting: MeetingId,
        author: PersonId,
        category: Category,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(TalkingPoint, u64)> {
        const COUNT: &str = "select count(*) from talking_points where meeting_id = $1";
        const TOUCH: &str = "update series set plan_at = 0 where id = $1 and plan_at <> 0";
        let (row, n): (TalkingPointRow, i64) = match self {
            Db::Sqlite(s) => {
                let text = text.to_string();
                s.writer
                    .write(move |c| {
                        let row = read!(@lite c, one, APPEND_POINT, meeting.0, author.0, text, category.as_str(), ts_of(now))?;
                        let n = read!(@lite c, one, COUNT, meeting.0)?;
                        c.prepare_cached(TOUCH)?.execute([series.0])?;
                        Ok((row, n))
                    })
                    .await?
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                let row = append_point_pg(&mut tx, meeting, author, category, text, now).await?;
                let n = sqlx::query_scalar(COUNT).bind(meeting.0).fetch_one(&mut *tx).await?;
                sqlx::query(TOUCH).bind(series.0).execute(&mut *tx).await?;
                tx.commit().await?;
                (row, n)
            }
        };
        Ok((row.try_into()?, u64::try_from(n).unwrap_or_default()))
    }

    pub async fn talking_points(&self, meeting: MeetingId) -> Result<Vec<TalkingPoint>> {
        let rows: Vec<TalkingPointRow> = read!(self, all POINTS_OF_MEETING, meeting.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// `person` opened the bot's App Home (Slack): from now on their Home is
    /// republished after changes.
    pub async fn mark_home_opened(&self, person: PersonId, now: DateTime<Utc>) -> Result<()> {
        const Q: &str = "insert into slack_home_opened (person_id, opened_at) values ($1, $2)
            on conflict (person_id) do update set opened_at = excluded.opened_at";
        change!(self, execute Q, person.0, ts_of(now))?;
        Ok(())
    }

    /// Whether `person` has ever opened the bot's App Home.
    pub async fn has_opened_home(&self, person: PersonId) -> Result<bool> {
        const Q: &str = "select 1 from slack_home_opened where person_id = $1";
        let found: Option<i32> = read!(self, optional scalar Q, person.0)?;
        Ok(found.is_some())
    }

    /// What a refresh after changes to `changed` (1:1s of the workspace
    /// `external_id`) shows again: the copies of their agendas posted since
    /// `since`, each with the person it was posted to, and the participants
    /// who have opened their App Home (each once, in the order of `changed`,
    /// manager first). `None` when the workspace is unknown. On SQLite one
    /// read transaction (a refresh follows most changes).
    pub async fn refresh_targets(
        &self,
        platform: Platform,
        external_id: &str,
        changed: &[SeriesId],
        since: DateTime<Utc>,
    ) -> Result<Option<RefreshTargets>> {
        type Rows = (WorkspaceRow, Vec<(PostedRow, PersonRow)>, Vec<PersonRow>);
        let rows: Option<Rows> = match self {
            Db::Sqlite(s) => s.readers.snapshot(|c| {
                let Some(ws): Option<WorkspaceRow> =
                    read!(@lite c, optional, WORKSPACE_BY_EXTERNAL, platform.as_str(), external_id)?
                else {
                    return Ok(None);
                };
                let (mut agendas, mut homes) = (Vec::new(), Vec::<PersonRow>::new());
                for sid in changed {
                    let Some(series): Option<SeriesRow> = read!(@lite c, optional, SERIES_BY_ID, ws.id(), sid.0)?
                    else {
                        continue;
                    };
                    let posted: Vec<PostedRow> = read!(@lite c, all, POSTED_OF_SERIES, sid.0, ts_of(since))?;
                    for p in posted {
                        if let Some(person) = read!(@lite c, optional, PERSON_BY_ID, ws.id(), p.person_id())? {
                            agendas.push((p, person));
                        }
                    }
                    for pid in series.participants() {
                        if homes.iter().all(|h| h.id() != pid)
                            && let Some(person) = read!(@lite c, optional, PERSON_WITH_HOME, ws.id(), pid)?
                        {
                            homes.push(person);
                        }
                    }
                }
                Ok(Some((ws, agendas, homes)))
            })?,
            Db::Postgres(_) => {
                let Some(workspace) = self.workspace_by_external(platform, external_id).await? else {
                    return Ok(None);
                };
                let (mut agendas, mut homes) = (Vec::new(), Vec::<Person>::new());
                for sid in changed {
                    let Some(series) = self.series(workspace.id, *sid).await? else {
                        continue;
                    };
                    for p in self.posted_agendas_for_series(series.id, since).await? {
                        if let Some(person) = self.person(workspace.id, p.person_id).await? {
                            agendas.push((p, person));
                        }
                    }
                    for pid in [series.manager_id, series.report_id] {
                        if homes.iter().all(|h| h.id != pid)
                            && self.has_opened_home(pid).await?
                            && let Some(person) = self.person(workspace.id, pid).await?
                        {
                            homes.push(person);
                        }
                    }
                }
                return Ok(Some(RefreshTargets {
                    workspace,
                    agendas,
                    homes,
                }));
            }
        };
        let Some((ws, agendas, homes)) = rows else {
            return Ok(None);
        };
        Ok(Some(RefreshTargets {
            workspace: ws.try_into()?,
            agendas: agendas
                .into_iter()
                .map(|(p, person)| Ok((p.into(), person.try_into()?)))
                .collect::<Result<_>>()?,
            homes: homes.into_iter().map(TryInto::try_into).collect::<Result<_>>()?,
        }))
    }

    pub async fn talking_point(&self, id: TalkingPointId) -> Result<Option<TalkingPoint>> {
        const Q: &str = "select * from talking_points where id = $1";
        let row: Option<TalkingPointRow> = read!(self, optional Q, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    /// Removes a talking point (and its comments) from its agenda.
    pub async fn delete_talking_point(&self, id: TalkingPointId) -> Result<bool> {
        const Q: &str = "delete from talking_points where id = $1";
        let done = change!(self, execute Q, id.0)?;
        Ok(done == 1)
    }

    pub async fn set_point_state(&self, id: TalkingPointId, state: PointState) -> Result<()> {
        const Q: &str = "update talking_points set state = $1 where id = $2";
        change!(self, execute Q, state.as_str(), id.0)?;
        Ok(())
    }

    pub async fn add_comment(
        &self,
        point: TalkingPointId,
        author: PersonId,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Comment> {
        const Q: &str = "insert into comments (talking_point_id, author_id, text, created_at) values ($1, $2, $3, $4)
            returning id, talking_point_id, author_id, text, created_at";
        let row: CommentRow = change!(self, one Q, point.0, author.0, text.to_string(), ts_of(now))?;
        row.try_into()
    }

    pub async fn comments_for_meeting(&self, meeting: MeetingId) -> Result<Vec<Comment>> {
        let rows: Vec<CommentRow> = read!(self, all COMMENTS_OF_MEETING, meeting.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn add_private_note(
        &self,
        meeting: MeetingId,
        author: PersonId,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<PrivateNote> {
        const Q: &str = "insert into private_notes (meeting_id, author_id, text, created_at) values ($1, $2, $3, $4)
            returning id, meeting_id, author_id, text, created_at";
        let row: NoteRow = change!(self, one Q, meeting.0, author.0, text.to_string(), ts_of(now))?;
        row.try_into()
    }

    /// Only `author`'s notes: nobody else ever reads them.
    pub async fn private_notes(&self, meeting: MeetingId, author: PersonId) -> Result<Vec<PrivateNote>> {
        let rows: Vec<NoteRow> = read!(self, all NOTES_OF_AUTHOR, meeting.0, author.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    // ------------------------------------------------------------ action items

    #[allow(clippy::too_many_arguments)]
    pub async fn add_action_item(
        &self,
        series: SeriesId,
        meeting: MeetingId,
        owner: PersonId,
        created_by: PersonId,
        text: &str,
        due: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<ActionItem> {
        const Q: &str =
            "insert into action_items (series_id, meeting_id, owner_id, created_by, text, due, state, created_at)
            values ($1, $2, $3, $4, $5, $6, 'open', $7) returning *";
        let row: ActionRow = change!(
            self, one Q,
            series.0, meeting.0, owner.0, created_by.0, text.to_string(), due.map(date_text), ts_of(now),
        )?;
        row.try_into()
    }

    pub async fn action_item(&self, id: ActionItemId) -> Result<Option<ActionItem>> {
        const Q: &str = "select * from action_items where id = $1";
        let row: Option<ActionRow> = read!(self, optional Q, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn open_action_items_for_series(&self, series: SeriesId) -> Result<Vec<ActionItem>> {
        let rows: Vec<ActionRow> = read!(self, all OPEN_ITEMS_OF_SERIES, series.0)?;
        open_items_of(rows)
    }

    pub async fn open_action_items_owned_by(&self, ws: WorkspaceId, person: PersonId) -> Result<Vec<ActionItem>> {
        const Q: &str = "select a.* from action_items a join series s on s.id = a.series_id
            where s.workspace_id = $1 and a.owner_id = $2 and a.state = 'open'";
        let rows: Vec<ActionRow> = read!(self, all Q, ws.0, person.0)?;
        open_items_of(rows)
    }

    pub async fn action_items_created_in(&self, meeting: MeetingId) -> Result<Vec<ActionItem>> {
        const Q: &str = "select * from action_items where meeting_id = $1 order by id";
        let rows: Vec<ActionRow> = read!(self, all Q, meeting.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// `false` when the item was not open (already done, or absent).
    pub async fn complete_action_item(&self, id: ActionItemId, now: DateTime<Utc>) -> Result<bool> {
        const Q: &str = "update action_items set state = 'done', completed_at = $1 where id = $2 and state = 'open'";
        let done = change!(self, execute Q, ts_of(now), id.0)?;
        Ok(done == 1)
    }

    // ------------------------------------------------------------ templates

    pub async fn templates(&self, ws: WorkspaceId) -> Result<Vec<Template>> {
        const Q: &str = "select id, workspace_id, name, items, created_by, created_at from templates
            where workspace_id = $1 order by name_key";
        let rows: Vec<TemplateRow> = read!(self, all Q, ws.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn template_by_name(&self, ws: WorkspaceId, name: &str) -> Result<Option<Template>> {
        const Q: &str = "select id, workspace_id, name, items, created_by, created_at from templates
            where workspace_id = $1 and name_key = $2";
        let row: Option<TemplateRow> = read!(self, optional Q, ws.0, name.trim().to_lowercase())?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn create_template(
        &self,
        ws: WorkspaceId,
        name: &str,
        items: &[String],
        by: PersonId,
        now: DateTime<Utc>,
    ) -> Result<Template> {
        const Q: &str = "insert into templates (workspace_id, name, name_key, items, created_by, created_at)
            values ($1, $2, $3, $4, $5, $6) returning id, workspace_id, name, items, created_by, created_at";
        let items = serde_json::to_string(items).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let name = name.trim();
        let res: Result<TemplateRow> =
            change!(self, one Q, ws.0, name.to_string(), name.to_lowercase(), items.clone(), by.0, ts_of(now));
        match res {
            Ok(row) => row.try_into(),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("template name taken")),
            Err(e) => Err(e),
        }
    }

    pub async fn delete_template(&self, ws: WorkspaceId, name: &str) -> Result<bool> {
        const Q: &str = "delete from templates where workspace_id = $1 and name_key = $2";
        let done = change!(self, execute Q, ws.0, name.trim().to_lowercase())?;
        Ok(done > 0)
    }

    // ------------------------------------------------------------ ratings, requests, stats

    pub async fn upsert_rating(
        &self,
        meeting: MeetingId,
        person: PersonId,
        score: u8,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const Q: &str =
            "insert into ratings (meeting_id, person_id, score, comment, created_at) values ($1, $2, $3, $4, $5)
            on conflict (meeting_id, person_id) do update set score = excluded.score,
                comment = coalesce(excluded.comment, ratings.comment), created_at = excluded.created_at";
        change!(self, execute Q, meeting.0, person.0, i64::from(score), comment.map(str::to_string), ts_of(now))
            .map_err(|e| constraint_error(e, "a rating is 1 to 5"))?;
        Ok(())
    }

    pub async fn ratings_for_meeting(&self, meeting: MeetingId) -> Result<Vec<Rating>> {
        const Q: &str = "select meeting_id, person_id, score, comment, created_at from ratings
            where meeting_id = $1 order by person_id";
        let rows: Vec<RatingRow> = read!(self, all Q, meeting.0)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn create_request(
        &self,
        ws: WorkspaceId,
        from: PersonId,
        to: PersonId,
        text: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<MeetingRequest> {
        const Q: &str = "insert into meeting_requests (workspace_id, from_id, to_id, text, created_at)
            values ($1, $2, $3, $4, $5) returning id, workspace_id, from_id, to_id, text, created_at";
        let row: RequestRow = change!(self, one Q, ws.0, from.0, to.0, text.map(str::to_string), ts_of(now))?;
        row.try_into()
    }

    pub async fn request(&self, ws: WorkspaceId, id: RequestId) -> Result<Option<MeetingRequest>> {
        const Q: &str = "select id, workspace_id, from_id, to_id, text, created_at from meeting_requests
            where workspace_id = $1 and id = $2";
        let row: Option<RequestRow> = read!(self, optional Q, ws.0, id.0)?;
        row.map(TryInto::try_into).transpose()
    }

    /// Held/skipped counts and ratings for meetings since `since`; action
    /// items open now (overdue: due before `today`). Two queries, no N+1.
    pub async fn series_stats(&self, series: SeriesId, since: DateTime<Utc>, today: NaiveDate) -> Result<SeriesStats> {
        const MEETINGS: &str = "select
                (select max(scheduled_at) from meetings where series_id = $1 and state = 'held'),
                (select count(*) from meetings where series_id = $1 and state = 'held' and scheduled_at >= $2),
                (select count(*) from meetings where series_id = $1 and state = 'skipped' and scheduled_at >= $2),
                (select count(*) from action_items where series_id = $1 and state = 'open'),
                (select count(*) from action_items where series_id = $1 and state = 'open' and due < $3)";
        const RATINGS: &str = "select count(*), cast(coalesce(sum(r.score), 0) as bigint) from ratings r join meetings m on m.id = r.meeting_id
            where m.series_id = $1 and m.scheduled_at >= $2";
        let (last, held, skipped, open, overdue): (Option<i64>, i64, i64, i64, i64) =
            read!(self, one MEETINGS, series.0, ts_of(since), date_text(today))?;
        let (count, sum): (i64, i64) = read!(self, one RATINGS, series.0, ts_of(since))?;
        let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(SeriesStats {
            last_held: last.map(from_ts).transpose()?,
            held: n(held),
            skipped: n(skipped),
            open_actions: n(open),
            overdue_actions: n(overdue),
            avg_rating: (count > 0).then(|| sum as f64 / count as f64),
            ratings: n(count),
        })
    }

    // ------------------------------------------------------------ posted agendas, attendance

    /// Remembers an agenda message posted to `person` (idempotent per channel+ts).
    pub async fn record_posted_agenda(
        &self,
        meeting: MeetingId,
        person: PersonId,
        channel: &str,
        ts: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const Q: &str = "insert into posted_agendas (meeting_id, person_id, channel, ts, created_at)
            values ($1, $2, $3, $4, $5) on conflict (channel, ts) do nothing";
        change!(self, execute Q, meeting.0, person.0, channel.to_string(), ts.to_string(), ts_of(now))?;
        Ok(())
    }

    /// The posted agenda message at `channel`/`ts`, if the bot posted one there.
    pub async fn posted_agenda_at(&self, channel: &str, ts: &str) -> Result<Option<PostedAgenda>> {
        const Q: &str =
            "select id, meeting_id, person_id, channel, ts from posted_agendas where channel = $1 and ts = $2";
        let row: Option<PostedRow> = read!(self, optional Q, channel.to_string(), ts.to_string())?;
        Ok(row.map(Into::into))
    }

    /// Every posted copy of the agendas of `series` newer than `since`: what
    /// to update after a change.
    pub async fn posted_agendas_for_series(&self, series: SeriesId, since: DateTime<Utc>) -> Result<Vec<PostedAgenda>> {
        let rows: Vec<PostedRow> = read!(self, all POSTED_OF_SERIES, series.0, ts_of(since))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// `true` the first time `person` confirms `meeting`.
    pub async fn confirm_attendance(&self, meeting: MeetingId, person: PersonId, now: DateTime<Utc>) -> Result<bool> {
        const Q: &str = "insert into attendance (meeting_id, person_id, confirmed_at) values ($1, $2, $3)
            on conflict (meeting_id, person_id) do nothing";
        let done = change!(self, execute Q, meeting.0, person.0, ts_of(now))?;
        Ok(done == 1)
    }

    pub async fn attendance(&self, meeting: MeetingId) -> Result<Vec<PersonId>> {
        let ids: Vec<i64> = read!(self, all scalar ATTENDANCE_OF_MEETING, meeting.0)?;
        Ok(ids.into_iter().map(PersonId).collect())
    }

    /// Everything an agenda shows of `meeting` to `viewer`, read together:
    /// on SQLite in one read transaction (one snapshot, one connection).
    pub async fn agenda_content(
        &self,
        meeting: MeetingId,
        series: SeriesId,
        viewer: PersonId,
    ) -> Result<AgendaContent> {
        match self {
            Db::Sqlite(s) => agenda_of(s.readers.snapshot(|c| lite_agenda(c, meeting.0, series.0, viewer.0))?),
            Db::Postgres(_) => Ok(AgendaContent {
                attendance: self.attendance(meeting).await?,
                points: self.talking_points(meeting).await?,
                comments: self.comments_for_meeting(meeting).await?,
                items: self.open_action_items_for_series(series).await?,
                notes: self.private_notes(meeting, viewer).await?,
            }),
        }
    }

    // ------------------------------------------------------------ inbound events

    /// Records an inbound event key (Slack `event_id`, or `msg:channel:ts`);
    /// `true` the first time it is seen, `false` for a retry or duplicate.
    /// Keys older than a day are dropped on the way: Slack retries within minutes.
    pub async fn first_sight_of_event(&self, key: &str, now: DateTime<Utc>) -> Result<bool> {
        const INSERT: &str =
            "insert into processed_events (key, received_at) values ($1, $2) on conflict (key) do nothing";
        const PRUNE: &str = "delete from processed_events where received_at < $1";
        let done = change!(self, execute INSERT, key.to_string(), ts_of(now))?;
        if done == 1 && now.timestamp() % 64 == 0 {
            change!(self, execute PRUNE, ts_of(now) - 86_400)?;
        }
        Ok(done == 1)
    }
}

/// The rows of [`Db::partnerships`]: the 1:1s, the partners, and the
/// pending meetings when there is exactly one 1:1.
type PartnershipRows = (Vec<SeriesRow>, Vec<PersonRow>, Option<Vec<MeetingRow>>);

/// The rows of an [`AgendaContent`].
type AgendaRows = (
    Vec<i64>,
    Vec<TalkingPointRow>,
    Vec<CommentRow>,
    Vec<ActionRow>,
    Vec<NoteRow>,
);

/// [`AgendaRows`] of `meeting` (of `series`) as `viewer` sees it, read on a
/// SQLite connection (inside a snapshot).
fn lite_agenda(c: &rusqlite::Connection, meeting: i64, series: i64, viewer: i64) -> rusqlite::Result<AgendaRows> {
    Ok((
        read!(@lite c, all, ATTENDANCE_OF_MEETING, meeting)?,
        read!(@lite c, all, POINTS_OF_MEETING, meeting)?,
        read!(@lite c, all, COMMENTS_OF_MEETING, meeting)?,
        read!(@lite c, all, OPEN_ITEMS_OF_SERIES, series)?,
        read!(@lite c, all, NOTES_OF_AUTHOR, meeting, viewer)?,
    ))
}

fn agenda_of((attendance, points, comments, items, notes): AgendaRows) -> Result<AgendaContent> {
    Ok(AgendaContent {
        attendance: attendance.into_iter().map(PersonId).collect(),
        points: points.into_iter().map(TryInto::try_into).collect::<Result<_>>()?,
        comments: comments.into_iter().map(TryInto::try_into).collect::<Result<_>>()?,
        items: open_items_of(items)?,
        notes: notes.into_iter().map(TryInto::try_into).collect::<Result<_>>()?,
    })
}

/// Open action items in the order they are listed everywhere: by due date,
/// those without one last, then as they were added.
fn open_items_of(rows: Vec<ActionRow>) -> Result<Vec<ActionItem>> {
    let mut items: Vec<ActionItem> = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    items.sort_unstable_by_key(|a| (a.due.is_none(), a.due, a.id));
    Ok(items)
}

/// [`PartnershipRows`] read on a SQLite connection (inside a snapshot).
fn lite_partnerships(
    c: &rusqlite::Connection,
    ws: i64,
    person: i64,
    include_ended: bool,
) -> rusqlite::Result<PartnershipRows> {
    let series: Vec<SeriesRow> = read!(@lite c, all, SERIES_OF_PERSON, ws, person, include_ended)?;
    let partners = read!(@lite c, all, PARTNERS_OF_PERSON, ws, person, include_ended)?;
    let pending = match series.as_slice() {
        [only] => Some(read!(@lite c, all, PENDING_OF_SERIES, only.id())?),
        _ => None,
    };
    Ok((series, partners, pending))
}

/// Each 1:1 of `person` with the partner's record (and its pending meetings
/// when it is the only one).
fn partnerships_of((series, partners, pending): PartnershipRows, person: PersonId) -> Result<Vec<Partnership>> {
    let partners: Vec<Person> = partners.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    let mut pending: Option<Vec<Meeting>> = pending
        .map(|rows| rows.into_iter().map(TryInto::try_into).collect::<Result<_>>())
        .transpose()?;
    let mut out = Vec::with_capacity(series.len());
    for row in series {
        let s: Series = row.try_into()?;
        // Two statements apart on PostgreSQL: a 1:1 created in between has
        // no partner in the list and is left out, as if read a moment earlier.
        if let Some(p) = s.partner_of(person).and_then(|id| partners.iter().find(|p| p.id == id)) {
            out.push(Partnership {
                series: s,
                partner: p.clone(),
                pending: pending.take(),
            });
        }
    }
    Ok(out)
}

/// On PostgreSQL, inside `tx`: the meeting locked (so concurrent appends get
/// distinct positions), then the point appended ([`APPEND_POINT`]).
async fn append_point_pg(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    meeting: MeetingId,
    author: PersonId,
    category: Category,
    text: &str,
    now: DateTime<Utc>,
) -> Result<TalkingPointRow> {
    sqlx::query(LOCK_MEETING_PG).bind(meeting.0).execute(&mut **tx).await?;
    Ok(sqlx::query_as(APPEND_POINT)
        .bind(meeting.0)
        .bind(author.0)
        .bind(text.to_string())
        .bind(category.as_str())
        .bind(ts_of(now))
        .fetch_one(&mut **tx)
        .await?)
}

/// A write transaction. SQLite's must start `immediate`: a deferred one that
/// reads and then writes fails with "database is locked" under concurrency
/// instead of waiting for the busy timeout.
trait TxPool {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>>;
}

impl TxPool for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.begin_with("begin immediate").await?)
    }
}

impl TxPool for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.begin().await?)
    }
}
