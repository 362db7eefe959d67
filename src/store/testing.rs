//! Fresh, migrated databases for tests (the store's contract suite and the
//! API tests). Compiled always so integration tests can use it; tiny.
//!
//! PostgreSQL runs when `ONEONONE_TEST_POSTGRES_URL` is set: each call makes a
//! new database through that connection. Unset, the PostgreSQL half is
//! skipped with one loud line on stderr; set but unreachable, tests fail.

use super::Db;
use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);
static SKIP_NOTICE: Once = Once::new();

fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{n}_{nanos}", std::process::id())
}

/// A new SQLite database in a temporary file, migrated.
pub async fn fresh_sqlite() -> Db {
    fresh_sqlite_with_url().await.0
}

/// [`fresh_sqlite`] and its `DATABASE_URL`, for tests that start the binary on it.
pub async fn fresh_sqlite_with_url() -> (Db, String) {
    let path = std::env::temp_dir().join(format!("oneonone_test_{}.db", unique_suffix()));
    let url = format!("sqlite://{}", path.display());
    let db = Db::connect(&url).await.expect("open a temporary SQLite database");
    db.migrate().await.expect("migrate SQLite");
    (db, url)
}

/// A new PostgreSQL database, migrated; `None` when the PostgreSQL half is
/// not configured (after saying so loudly, once).
pub async fn fresh_postgres() -> Option<Db> {
    Some(fresh_postgres_with_url().await?.0)
}

/// [`fresh_postgres`] and its `DATABASE_URL`, for tests that start the binary on it.
pub async fn fresh_postgres_with_url() -> Option<(Db, String)> {
    let Some(admin_url) = std::env::var("ONEONONE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        SKIP_NOTICE.call_once(|| {
            // Written to the real stderr: libtest captures eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** PostgreSQL tests SKIPPED: set ONEONONE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run them ***\n"
            );
        });
        return None;
    };
    let admin = Db::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("ONEONONE_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {e:?}"));
    let name = format!("oneonone_test_{}", unique_suffix());
    let Db::Postgres(pool) = &admin else {
        panic!("ONEONONE_TEST_POSTGRES_URL must be a postgres:// URL")
    };
    // Database names cannot be bound as parameters; this one is ours, digits and letters only.
    let create = format!("create database {name}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(pool)
        .await
        .expect("create a test database");
    admin.close().await;
    let mut url = url::Url::parse(&admin_url).expect("ONEONONE_TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    let db = Db::connect(url.as_str()).await.expect("connect to the test database");
    db.migrate().await.expect("migrate PostgreSQL");
    Some((db, url.to_string()))
}

/// `n` active 1:1s in workspace `ws`, each a new manager and report in
/// Europe/Berlin, weekly on `weekday` at 10:00 Berlin, 30 minutes, agenda a
/// day ahead, created at `at`: the fixture of the scheduler's bulk tests and
/// its benchmark.
pub async fn weekly_pairs(
    db: &Db,
    ws: crate::domain::model::WorkspaceId,
    n: usize,
    weekday: chrono::Weekday,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<crate::domain::model::SeriesId>, super::StoreError> {
    use crate::domain::model::{Cadence, Profile};
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let profile = |who: &str| Profile {
            // Unique across workspaces too: `U` + role + workspace + number.
            external_id: format!("U{who}{}X{i:07}", ws.0),
            display_name: format!("{who}{i}"),
            tz: Some(chrono_tz::Europe::Berlin),
            ..Profile::default()
        };
        let manager = db.upsert_profile(ws, &profile("M"), at).await?;
        let report = db.upsert_profile(ws, &profile("R"), at).await?;
        let series = db
            .create_series(&super::NewSeries {
                workspace_id: ws,
                manager_id: manager.id,
                report_id: report.id,
                cadence: Cadence::Weekly { interval: 1, weekday },
                time: chrono::NaiveTime::MIN + chrono::Duration::hours(10),
                tz: chrono_tz::Europe::Berlin,
                duration_minutes: 30,
                template: None,
                lead_minutes: 24 * 60,
                anchor_date: at.date_naive(),
                created_at: at,
            })
            .await?;
        ids.push(series.id);
    }
    Ok(ids)
}

/// The fixture of the data-lifecycle tests (export, erasure): a Slack
/// workspace where Maria manages Rahul (the person to erase) and Zoë. Rahul
/// and Maria have written something of every kind; every text of Rahul's
/// contains `RAHUL-SECRET`, every text of Maria's `MARIA-OWN`.
pub struct ErasureFixture {
    pub ws: crate::domain::model::Workspace,
    pub manager: crate::domain::model::Person,
    pub erased: crate::domain::model::Person,
    pub other: crate::domain::model::Person,
    pub series: crate::domain::model::Series,
    pub other_series: crate::domain::model::Series,
    /// Held, with talking points, comments, notes and ratings.
    pub held: crate::domain::model::Meeting,
    /// Upcoming, with attendance confirmations and queued agendas.
    pub next: crate::domain::model::Meeting,
    pub other_meeting: crate::domain::model::Meeting,
}

/// Rahul's Microsoft Entra object id in [`erasure_fixture`].
pub const ERASED_AAD_ID: &str = "0c0ffee0-aaaa-4bbb-8ccc-0000000ra4u1";

/// Seeds [`ErasureFixture`] through the store's own operations.
pub async fn erasure_fixture(db: &Db) -> Result<ErasureFixture, super::StoreError> {
    use crate::domain::model::*;
    use chrono::{Duration, TimeZone, Utc};
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 30, 8, 0, 0)
        .single()
        .expect("a valid instant");
    let ws = db.ensure_workspace(Platform::Slack, "T0ACME", "acme").await?;
    let profile = |id: &str, name: &str, email: &str| Profile {
        external_id: id.into(),
        display_name: name.into(),
        email: Some(email.into()),
        tz: Some(chrono_tz::Europe::Berlin),
        ..Profile::default()
    };
    let manager = db
        .upsert_profile(
            ws.id,
            &profile("U0MARIA", "Maria Manager", "maria.manager@example.com"),
            t0,
        )
        .await?;
    let erased = db
        .upsert_profile(
            ws.id,
            &profile("U0RAHUL", "Rahul Erasable", "rahul.erasable@example.com"),
            t0,
        )
        .await?;
    let other = db
        .upsert_profile(ws.id, &profile("U0ZOE", "Zoë Third", "zoe.third@example.com"), t0)
        .await?;
    let mut erased_settings = erased.clone();
    erased_settings.tz_override = Some(chrono_tz::Asia::Kolkata);
    erased_settings.away_until = Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 24).expect("a date"));
    db.save_person_settings(&erased_settings).await?;
    let new_series = |report: PersonId| super::NewSeries {
        workspace_id: ws.id,
        manager_id: manager.id,
        report_id: report,
        cadence: Cadence::Weekly {
            interval: 1,
            weekday: chrono::Weekday::Tue,
        },
        time: chrono::NaiveTime::from_hms_opt(10, 30, 0).expect("a time"),
        tz: chrono_tz::Europe::Berlin,
        duration_minutes: 30,
        template: None,
        lead_minutes: 1440,
        anchor_date: t0.date_naive(),
        created_at: t0,
    };
    let series = db.create_series(&new_series(erased.id)).await?;
    let other_series = db.create_series(&new_series(other.id)).await?;
    let slot1 = t0 + Duration::days(1) + Duration::hours(1);
    let slot2 = slot1 + Duration::days(7);
    let (held, _) = db.insert_meeting(series.id, slot1, slot1).await?;
    let (next, _) = db.insert_meeting(series.id, slot2, slot2).await?;
    let (other_meeting, _) = db.insert_meeting(other_series.id, slot1, slot1).await?;
    let at = t0 + Duration::hours(1);

    // Talking points and comments, every combination of authors.
    db.add_talking_point(held.id, erased.id, Category::Goals, "RAHUL-SECRET alone", at)
        .await?;
    let asked = db
        .add_talking_point(held.id, erased.id, Category::Development, "RAHUL-SECRET asked", at)
        .await?;
    db.add_comment(asked.id, manager.id, "MARIA-OWN answer", at).await?;
    db.add_comment(asked.id, erased.id, "RAHUL-SECRET follow-up", at)
        .await?;
    let topic = db
        .add_talking_point(held.id, manager.id, Category::Feedback, "MARIA-OWN topic", at)
        .await?;
    db.add_comment(topic.id, erased.id, "RAHUL-SECRET reply", at).await?;
    db.add_comment(topic.id, manager.id, "MARIA-OWN reply", at).await?;
    db.add_talking_point(next.id, manager.id, Category::Goals, "MARIA-OWN next", at)
        .await?;
    db.add_talking_point(next.id, erased.id, Category::Wellbeing, "RAHUL-SECRET next", at)
        .await?;
    db.add_talking_point(other_meeting.id, manager.id, Category::Other, "MARIA-OWN for Zoë", at)
        .await?;
    db.add_talking_point(other_meeting.id, other.id, Category::Other, "ZOE-OWN point", at)
        .await?;

    // Private notes, ratings, attendance.
    db.add_private_note(held.id, erased.id, "RAHUL-SECRET note", at).await?;
    db.add_private_note(held.id, manager.id, "MARIA-OWN note", at).await?;
    db.add_private_note(other_meeting.id, other.id, "ZOE-OWN note", at)
        .await?;
    let closed = slot1 + Duration::minutes(30);
    db.close_meeting(held.id, MeetingState::Held, None, closed, None)
        .await?;
    db.upsert_rating(held.id, erased.id, 2, Some("RAHUL-SECRET rating"), closed)
        .await?;
    db.upsert_rating(held.id, manager.id, 4, Some("MARIA-OWN rating"), closed)
        .await?;
    db.confirm_attendance(next.id, erased.id, closed).await?;
    db.confirm_attendance(next.id, manager.id, closed).await?;

    // Action items both ways.
    db.add_action_item(
        series.id,
        held.id,
        erased.id,
        manager.id,
        "RAHUL-SECRET task",
        None,
        closed,
    )
    .await?;
    db.add_action_item(
        series.id,
        held.id,
        manager.id,
        erased.id,
        "MARIA-OWN task",
        None,
        closed,
    )
    .await?;
    db.add_action_item(
        other_series.id,
        other_meeting.id,
        other.id,
        manager.id,
        "ZOE-OWN task",
        None,
        closed,
    )
    .await?;

    // A request, a template, posted agendas, the Teams reference.
    db.create_request(ws.id, erased.id, manager.id, Some("RAHUL-SECRET request"), at)
        .await?;
    db.create_template(ws.id, "retro", &["What went well?".to_string()], erased.id, at)
        .await?;
    db.record_posted_agenda(next.id, erased.id, "D0RAHUL", "1700000000.000100", at)
        .await?;
    db.record_posted_agenda(next.id, manager.id, "D0MARIA", "1700000000.000200", at)
        .await?;
    db.saw_teams_conversation(
        &super::SeenConversation {
            person_id: erased.id,
            service_url: "https://smba.trafficmanager.net/emea/",
            conversation_id: Some("a:1rahul-personal-chat"),
            tenant_id: "72f988bf-0000-4000-8000-000000000000",
            aad_object_id: Some(ERASED_AAD_ID),
        },
        at,
    )
    .await?;

    // Notifications: to each, about each.
    let delivery = |kind: DeliveryKind, subject: String, to: PersonId, payload: serde_json::Value| NewDelivery {
        workspace_id: ws.id,
        kind,
        subject,
        slot: slot2,
        recipient_id: to,
        payload,
        due_at: at,
        max_attempts: 3,
    };
    for new in [
        delivery(
            DeliveryKind::Agenda,
            format!("meeting:{}", next.id),
            erased.id,
            serde_json::json!({}),
        ),
        delivery(
            DeliveryKind::Agenda,
            format!("meeting:{}", next.id),
            manager.id,
            serde_json::json!({}),
        ),
        delivery(
            DeliveryKind::Overdue,
            format!("series:{}", series.id),
            manager.id,
            serde_json::json!({}),
        ),
        delivery(
            DeliveryKind::Notice,
            format!("away:meeting:{}", next.id),
            manager.id,
            serde_json::json!({ "away": erased.id.0 }),
        ),
        delivery(
            DeliveryKind::Notice,
            format!("not_installed:{}", erased.id),
            manager.id,
            serde_json::json!({ "not_installed": erased.id.0 }),
        ),
        delivery(
            DeliveryKind::ActionDigest,
            format!("person:{}", erased.id),
            erased.id,
            serde_json::json!({}),
        ),
        delivery(
            DeliveryKind::ActionDigest,
            format!("person:{}", manager.id),
            manager.id,
            serde_json::json!({}),
        ),
        delivery(
            DeliveryKind::Agenda,
            format!("meeting:{}", other_meeting.id),
            manager.id,
            serde_json::json!({}),
        ),
    ] {
        db.enqueue_delivery(&new, at).await?;
    }
    let held = db.meeting(held.id).await?.expect("the held meeting");
    Ok(ErasureFixture {
        ws,
        manager,
        erased,
        other,
        series,
        other_series,
        held,
        next,
        other_meeting,
    })
}
