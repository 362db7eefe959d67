//! Builds the service from a `Config`: connects and migrates the database,
//! binds the listener, assembles the router. `main` and the tests build the
//! same `App` (tests on port 0 with a frozen clock and a fake Slack).

use crate::clock::Clock;
use crate::config::Config;
use crate::http;
use crate::slack;
use crate::store::Db;
use anyhow::Context;
use std::future::Future;
use tokio::net::TcpListener;

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    port: u16,
    stop_scheduler: tokio::sync::watch::Sender<bool>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
    /// After-the-answer work of the chat adapters, awaited at shutdown.
    background: Vec<tokio_util::task::TaskTracker>,
}

impl App {
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<App> {
        let db = Db::connect(&config.database_url)
            .await
            .with_context(|| format!("cannot open the database ({})", redact_url(&config.database_url)))?;
        App::with_db(config, db, clock).await
    }

    /// Builds the app on an already opened database (tests hand in a fresh one).
    pub async fn with_db(config: Config, db: Db, clock: Clock) -> anyhow::Result<App> {
        // reqwest is built without a rustls crypto provider (to keep aws-lc-rs
        // out); every `reqwest::Client` in the process, the tests' included,
        // needs this one installed before it is built.
        crate::teams::connector::install_crypto_provider();
        db.migrate().await.context("cannot apply the database migrations")?;

        let slack = match &config.slack {
            Some(sc) => Some(slack::SlackState::new(sc, db.clone(), clock.clone())?),
            None => {
                tracing::warn!("Slack is off: SLACK_SIGNING_SECRET is not set");
                None
            }
        };
        let teams = match &config.teams {
            Some(tc) => Some(crate::teams::TeamsState::new(tc, db.clone(), clock.clone())?),
            None => {
                tracing::info!("Teams is off: MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD are not set");
                None
            }
        };
        // The in-process scheduler: a pass on every ONEONONE_TICK, stopped with the server.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let senders = senders(slack.as_ref(), teams.as_ref());
        let scheduler = match (&config.tick, senders.0.is_empty()) {
            (Some(schedule), false) => Some(tokio::spawn(crate::scheduler::runner::run_loop(
                db.clone(),
                clock.clone(),
                schedule.clone(),
                Box::new(senders),
                stop_rx.clone(),
            ))),
            (Some(_), true) => {
                tracing::warn!("scheduler idle: no chat platform is configured to send through");
                None
            }
            (None, _) => {
                tracing::info!("scheduler off (--no-scheduler): run `oneonone tick` from cron");
                None
            }
        };
        // Histogram samples are drained into buckets even when nobody scrapes.
        tokio::spawn(crate::telemetry::metrics::upkeep(stop_rx.clone()));
        let background = slack.iter().map(|s| s.background.clone()).collect();
        let router = http::router(
            http::AppState {
                db: db.clone(),
                clock: clock.clone(),
            },
            slack,
            teams,
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (ONEONONE_LISTEN)", config.listen))?;
        let port = listener.local_addr()?.port();
        tracing::info!(%port, db.engine = db.engine(), "oneonone is ready");
        Ok(App {
            listener,
            router,
            db,
            port,
            stop_scheduler: stop_tx,
            scheduler,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: stops
    /// accepting, finishes in-flight requests and the work they left for
    /// after their answer, lets the scheduler finish the delivery in hand and
    /// hand its other claims back, and closes the pool — all within
    /// [`SHUTDOWN_GRACE`] of the signal.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (signalled_tx, mut signalled_rx) = tokio::sync::watch::channel(None::<tokio::time::Instant>);
        let stop_scheduler = self.stop_scheduler.clone();
        let shutdown = async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, finishing what is in flight");
            // The scheduler stops at once, alongside the requests finishing.
            let _ = stop_scheduler.send(true);
            let _ = signalled_tx.send(Some(tokio::time::Instant::now() + SHUTDOWN_GRACE));
        };
        let server = axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown);
        let bounded = async {
            // In-flight requests have until the deadline, then are cut.
            let deadline = signalled_rx.wait_for(Option::is_some).await.ok().and_then(|d| *d);
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            served = server => served.context("the HTTP server stopped with an error")?,
            _ = bounded => tracing::warn!("in-flight requests did not finish within the grace period"),
        }
        let deadline = (*signalled_rx.borrow()).unwrap_or_else(|| tokio::time::Instant::now() + SHUTDOWN_GRACE);
        let _ = self.stop_scheduler.send(true);
        for tracker in &self.background {
            tracker.close();
        }
        let background = async {
            for tracker in &self.background {
                tracker.wait().await;
            }
        };
        if tokio::time::timeout_at(deadline, background).await.is_err() {
            tracing::warn!("work after answers (message refreshes, DMs) did not finish within the grace period");
        }
        if let Some(scheduler) = self.scheduler
            && tokio::time::timeout_at(deadline, scheduler).await.is_err()
        {
            tracing::warn!("the scheduler did not stop within the grace period; its claims expire with their lease");
        }
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// How long shutdown waits, from the signal, for in-flight requests, the
/// work they left for after their answer, and the scheduler.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = term => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// A database URL without its password, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// `oneonone tick`: one scheduler pass as of `now`, then exit.
pub async fn tick(config: Config, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact_url(&config.database_url)))?;
    db.migrate().await.context("cannot apply the database migrations")?;
    crate::teams::connector::install_crypto_provider();
    // Time runs from `now` at real speed, so pacing waits really wait.
    let clock = Clock::starting_at(now);
    let slack = match &config.slack {
        Some(sc) => Some(slack::SlackState::new(sc, db.clone(), clock.clone())?),
        None => None,
    };
    let teams = match &config.teams {
        Some(tc) => Some(crate::teams::TeamsState::new(tc, db.clone(), clock.clone())?),
        None => None,
    };
    let senders = senders(slack.as_ref(), teams.as_ref());
    if senders.0.is_empty() {
        let planned = crate::scheduler::pass::plan(&db, now).await?;
        tracing::warn!(
            planned.agendas = planned.agendas,
            "nothing sent: no chat platform is configured"
        );
        db.close().await;
        return Ok(());
    }
    let mut pacer = crate::scheduler::pace::Pacer::new();
    let (planned, worked) = crate::scheduler::runner::run_pass(&db, &clock, &senders, &mut pacer).await?;
    tracing::info!(
        planned.agendas = planned.agendas,
        planned.follow_ups = planned.follow_ups,
        sent = worked.sent,
        retried = worked.retried,
        failed = worked.failed,
        dropped = worked.dropped,
        "tick done"
    );
    db.close().await;
    Ok(())
}

/// The senders of every configured platform, for the scheduler.
fn senders(
    slack: Option<&slack::SlackState>,
    teams: Option<&crate::teams::TeamsState>,
) -> crate::scheduler::worker::Senders {
    let mut senders = crate::scheduler::worker::Senders::default();
    if let Some(slack) = slack {
        senders
            .0
            .push(Box::new(crate::slack::sender::SlackSender { slack: slack.clone() }));
    }
    if let Some(teams) = teams {
        senders.0.push(Box::new(teams.sender.clone()));
    }
    senders
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
