//! Running passes: once (`oneonone tick`) or on a cron schedule inside
//! `serve` until shutdown. The loop waits for a deadline, not a fixed sleep,
//! and is cancellable; a failed pass is logged and the next one runs.

use super::pace::Pacer;
use super::pass::{Planned, plan};
use super::worker::{ChatSender, Stop, Worked, work};
use crate::clock::Clock;
use crate::store::{Db, StoreError};
use chrono::{DateTime, Utc};

/// One pass as of `now` on a frozen clock: plan, then send what is due.
/// Waiting for the pacer moves that clock instead of taking real time, so
/// tests (and benchmarks) see a paced pass at full speed.
pub async fn run_once(db: &Db, now: DateTime<Utc>, sender: &dyn ChatSender) -> Result<(Planned, Worked), StoreError> {
    run_pass(db, &Clock::frozen(now), sender, &mut Pacer::new()).await
}

/// One pass as of `clock`: plan, then send what is due at the pacer's rates.
pub async fn run_pass(
    db: &Db,
    clock: &Clock,
    sender: &dyn ChatSender,
    pacer: &mut Pacer,
) -> Result<(Planned, Worked), StoreError> {
    run_pass_until(db, clock, sender, pacer, &Stop::never()).await
}

/// [`run_pass`] that stops early (releasing its claims) when `stop` is set.
pub async fn run_pass_until(
    db: &Db,
    clock: &Clock,
    sender: &dyn ChatSender,
    pacer: &mut Pacer,
    stop: &Stop,
) -> Result<(Planned, Worked), StoreError> {
    // Real elapsed time (not the injected clock): what the pass cost.
    let started = std::time::Instant::now();
    let result = async {
        let planned = plan(db, clock.now()).await?;
        let worked = work(db, clock, sender, pacer, stop).await?;
        Ok((planned, worked))
    }
    .await;
    crate::telemetry::metrics::scheduler_pass(result.is_ok(), started.elapsed());
    result
}

/// Runs a pass at every instant of `schedule` until `stop` reads `true`. A
/// pass under way when it does finishes the delivery in hand and hands its
/// other claims back before the loop returns.
pub async fn run_loop(
    db: Db,
    clock: Clock,
    schedule: cron::Schedule,
    sender: Box<dyn ChatSender>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut stopped = stop.clone();
    let shutdown = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    tokio::pin!(shutdown);
    let stop = Stop::on(stop);
    // One pacer for the life of the loop: a burst that drains over several
    // passes keeps its pace across them.
    let mut pacer = Pacer::new();
    loop {
        let now = clock.now();
        let Some(next) = schedule.after(&now).next() else {
            tracing::warn!("the scheduler's cron expression has no future instants; scheduler stopped");
            return;
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("scheduler stopped");
                return;
            }
            _ = tokio::time::sleep(wait) => {}
        }
        let started = std::time::Instant::now();
        match run_pass_until(&db, &clock, sender.as_ref(), &mut pacer, &stop).await {
            Ok((planned, worked)) => tracing::info!(
                planned.agendas = planned.agendas,
                planned.follow_ups = planned.follow_ups,
                sent = worked.sent,
                retried = worked.retried,
                failed = worked.failed,
                dropped = worked.dropped,
                postponed = worked.postponed,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "scheduler pass"
            ),
            Err(e) => tracing::error!(error = %e, "scheduler pass failed"),
        }
    }
}
