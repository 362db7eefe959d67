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
            Some(sc) => Some(slack::SlackState::new(sc, clock.clone())?),
            None => {
                tracing::warn!("Slack is off: SLACK_SIGNING_SECRET is not set");
                None
            }
        };
        // The in-process scheduler: a pass on every ONEONONE_TICK, stopped with the server.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        match (&config.tick, &slack) {
            (Some(schedule), Some(slack)) => {
                let sender = Box::new(crate::slack::sender::SlackSender { slack: slack.clone() });
                let mut stop = stop_rx.clone();
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                tokio::spawn(crate::scheduler::runner::run_loop(
                    db.clone(),
                    clock.clone(),
                    schedule.clone(),
                    sender,
                    stopped,
                ));
            }
            (Some(_), None) => tracing::warn!("scheduler idle: no chat platform is configured to send through"),
            (None, _) => tracing::info!("scheduler off (--no-scheduler): run `oneonone tick` from cron"),
        }
        let router = http::router(
            http::AppState {
                db: db.clone(),
                clock: clock.clone(),
            },
            slack,
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
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server stopped with an error")?;
        let _ = self.stop_scheduler.send(true);
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

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
    let Some(slack) = &config.slack else {
        let planned = crate::scheduler::pass::plan(&db, now).await?;
        tracing::warn!(
            planned.agendas = planned.agendas,
            "nothing sent: no chat platform is configured"
        );
        db.close().await;
        return Ok(());
    };
    let sender = crate::slack::sender::SlackSender {
        slack: slack::SlackState::new(slack, Clock::frozen(now))?,
    };
    let (planned, worked) = crate::scheduler::runner::run_once(&db, now, &sender).await?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
