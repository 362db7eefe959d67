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
