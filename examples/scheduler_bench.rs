//! Scheduler benchmark: a pass over many active 1:1s with nothing due, and
//! one with a batch due. Not a test: timings on shared machines are noisy;
//! run it, read the medians, record them in BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release --example scheduler_bench                      # SQLite, 100,000 1:1s
//! BENCH_SERIES=20000 BENCH_DUE=1000 cargo run --release --example scheduler_bench
//! ONEONONE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo run --release --example scheduler_bench
//! ```

use chrono::{Duration, TimeZone, Utc, Weekday};
use oneonone::domain::model::Platform;
use oneonone::scheduler::pass::plan;
use oneonone::store::{Db, testing};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn bench(name: &str, db: Db, n: usize, due: usize) -> anyhow::Result<()> {
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 30, 8, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("time"))?;
    let ws = db.ensure_workspace(Platform::Slack, "TBENCH", "bench").await?;
    let started = Instant::now();
    let ids = testing::weekly_pairs(&db, ws.id, n, Weekday::Tue, t0).await?;
    println!(
        "[{name}] created {n} active 1:1s in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Steady state: every 1:1 planned, its next look a day ahead.
    for id in &ids {
        db.set_plan_at(*id, t0 + Duration::days(1)).await?;
    }
    let mut idle = Vec::new();
    for k in 0..7 {
        let now = t0 + Duration::minutes(k);
        let started = Instant::now();
        let planned = plan(&db, now).await?;
        idle.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(planned.agendas + planned.follow_ups + planned.nudges, 0);
    }
    println!(
        "[{name}] idle pass over {n} 1:1s: median {:.2} ms (7 runs: {:?})",
        median(idle.clone()),
        idle.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>()
    );

    // A batch due (BENCH_DUE, default 5,000): those 1:1s come up for
    // planning; their Tuesday meetings are inside the horizon, so each queues
    // two agendas.
    let due = ids.len().min(due);
    for id in ids.iter().take(due) {
        db.set_plan_at(*id, t0).await?;
    }
    let started = Instant::now();
    let planned = plan(&db, t0 + Duration::minutes(10)).await?;
    println!(
        "[{name}] pass with {due} 1:1s due: {:.1} ms ({} agendas queued, {:.0} µs per due 1:1)",
        started.elapsed().as_secs_f64() * 1000.0,
        planned.agendas,
        started.elapsed().as_secs_f64() * 1e6 / due as f64
    );
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("BENCH_SERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let due: usize = std::env::var("BENCH_DUE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    bench("sqlite", testing::fresh_sqlite().await, n, due).await?;
    if let Some(db) = testing::fresh_postgres().await {
        bench("postgres", db, n, due).await?;
    }
    Ok(())
}
