//! Prometheus metrics: the one process-wide recorder, the names and labels of
//! every metric the service exports ([`METRICS`]), and small functions that
//! record them, so each metric has one spelling and one label set.
//!
//! Built on the `metrics` facade with `metrics-exporter-prometheus` as the
//! recorder, without its HTTP listener: `GET /metrics` is served by our own
//! router (`http::metrics`), on the same port as everything else (SPEC §3).
//!
//! Label values always come from closed sets (route templates, command
//! names, delivery kinds, API method names, status codes): never a raw path,
//! user text, an id or an error message, so the number of series stays bounded.
//!
//! The recorder is global (the `metrics` facade allows one per process) and
//! installed on first use; an `App` built twice in one process (the tests
//! build many) shares it. Code that runs without it (`oneonone tick`, unit
//! tests) records into the facade's no-op recorder.
//!
//! Imports nothing else of the crate except the domain's closed sets.

use crate::domain::model::{DeliveryKind, Platform};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// What a metric is, for its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

pub const HTTP_REQUESTS: &str = "oneonone_http_requests_total";
pub const HTTP_DURATION: &str = "oneonone_http_request_duration_seconds";
pub const COMMANDS: &str = "oneonone_commands_total";
pub const DELIVERIES_TOTAL: &str = "oneonone_deliveries_total";
pub const DELIVERY_RETRIES: &str = "oneonone_delivery_retries_total";
pub const DELIVERIES: &str = "oneonone_deliveries";
pub const SCHEDULER_PASSES: &str = "oneonone_scheduler_passes_total";
pub const SCHEDULER_PASS_DURATION: &str = "oneonone_scheduler_pass_duration_seconds";
pub const SCHEDULER_LAG: &str = "oneonone_scheduler_lag_seconds";
pub const CHAT_API_CALLS: &str = "oneonone_chat_api_calls_total";
pub const DB_POOL_CONNECTIONS: &str = "oneonone_db_pool_connections";
pub const DB_POOL_MAX: &str = "oneonone_db_pool_max_connections";

/// Every metric the service exports: name, kind, labels and meaning. The
/// README's table and the Grafana dashboard are checked against this list.
pub const METRICS: &[(&str, Kind, &[&str], &str)] = &[
    (
        HTTP_REQUESTS,
        Kind::Counter,
        &["route", "method", "status"],
        "HTTP requests answered, by route template (\"unmatched\" for unknown paths), method and status",
    ),
    (
        HTTP_DURATION,
        Kind::Histogram,
        &["route", "method"],
        "Time to answer an HTTP request, by route template and method",
    ),
    (
        COMMANDS,
        Kind::Counter,
        &["command", "platform", "outcome"],
        "Commands carried out, by name, platform and outcome (ok, refused: a person's mistake, error: ours)",
    ),
    (
        DELIVERIES_TOTAL,
        Kind::Counter,
        &["kind", "outcome"],
        "Delivery attempts by kind and outcome (sent, retried, failed, postponed, dropped, lost)",
    ),
    (
        DELIVERY_RETRIES,
        Kind::Counter,
        &["kind", "reason"],
        "Deliveries rescheduled after a temporary failure, by kind and reason (rate_limited, error)",
    ),
    (
        DELIVERIES,
        Kind::Gauge,
        &["kind", "state"],
        "Deliveries in the queue by kind and state, read from the database at scrape time",
    ),
    (
        SCHEDULER_PASSES,
        Kind::Counter,
        &["outcome"],
        "Scheduler passes, by outcome (ok, error)",
    ),
    (
        SCHEDULER_PASS_DURATION,
        Kind::Histogram,
        &[],
        "Time a scheduler pass took (planning and sending)",
    ),
    (
        SCHEDULER_LAG,
        Kind::Gauge,
        &[],
        "How long the oldest due pending delivery has waited (0 when none is due), at scrape time",
    ),
    (
        CHAT_API_CALLS,
        Kind::Counter,
        &["platform", "method", "outcome"],
        "Calls to the Slack Web API and the Bot Connector, by method and outcome (ok, rate_limited, …)",
    ),
    (
        DB_POOL_CONNECTIONS,
        Kind::Gauge,
        &["state"],
        "Database pool connections, idle or in use, at scrape time",
    ),
    (
        DB_POOL_MAX,
        Kind::Gauge,
        &[],
        "The database pool's maximum number of connections",
    ),
];

/// Histogram buckets for request and pass durations, in seconds: from a
/// fast health check to Slack's 3-second limit and the 50-second pass budget.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        // Only fails for an empty bucket list, which BUCKETS is not; the
        // fallback renders summaries instead of histograms.
        let builder = match builder.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS) {
            Ok(b) => b,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will stay empty");
        }
        for (name, kind, _, help) in METRICS {
            match kind {
                Kind::Counter => metrics::describe_counter!(*name, *help),
                Kind::Gauge => metrics::describe_gauge!(*name, *help),
                Kind::Histogram => metrics::describe_histogram!(*name, metrics::Unit::Seconds, *help),
            }
        }
        handle
    })
}

/// Drains recorded histogram samples into their buckets every few seconds, so
/// memory stays bounded when nobody scrapes, until `stop` reads `true`.
pub async fn upkeep(mut stop: tokio::sync::watch::Receiver<bool>) {
    let handle = handle();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
        }
    }
}

/// The series of one route, method and status, as registered.
struct HttpSeries {
    route: String,
    method: &'static str,
    status: u16,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

/// Most series a thread remembers; the label sets are closed, so this is
/// only a bound against surprises (past it, series are looked up each time).
const HTTP_SERIES_REMEMBERED: usize = 256;

thread_local! {
    /// The HTTP series this thread has recorded into. Looking a series up in
    /// the recorder builds its labels (three allocations) and hashes them on
    /// every request; the handles it returns stay valid for the process (the
    /// recorder never drops a series: no idle timeout is set).
    static HTTP_SERIES: std::cell::RefCell<Vec<HttpSeries>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn http_series(route: &str, method: &'static str, status: u16) -> (metrics::Counter, metrics::Histogram) {
    let requests = metrics::counter!(HTTP_REQUESTS, "route" => route.to_owned(), "method" => method, "status" => status.to_string());
    let duration = metrics::histogram!(HTTP_DURATION, "route" => route.to_owned(), "method" => method);
    (requests, duration)
}

/// One answered HTTP request. `route` is the matched route template.
pub fn http_request(route: &str, method: &'static str, status: u16, elapsed: Duration) {
    let elapsed = elapsed.as_secs_f64();
    HTTP_SERIES.with_borrow_mut(|known| {
        if let Some(s) = known
            .iter()
            .find(|s| s.status == status && s.method == method && s.route == route)
        {
            s.requests.increment(1);
            s.duration.record(elapsed);
            return;
        }
        let (requests, duration) = http_series(route, method, status);
        requests.increment(1);
        duration.record(elapsed);
        if known.len() < HTTP_SERIES_REMEMBERED {
            known.push(HttpSeries {
                route: route.to_owned(),
                method,
                status,
                requests,
                duration,
            });
        }
    });
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    Ok,
    /// A person's mistake, answered with a helpful reply.
    Refused,
    /// A failure on our side.
    Error,
}

impl CommandOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Ok => "ok",
            CommandOutcome::Refused => "refused",
            CommandOutcome::Error => "error",
        }
    }
}

/// One command carried out; `command` is `Command::name()`.
pub fn command(command: &'static str, platform: Platform, outcome: CommandOutcome) {
    metrics::counter!(COMMANDS, "command" => command, "platform" => platform.as_str(), "outcome" => outcome.as_str())
        .increment(1);
}

/// What became of one claimed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    /// A temporary failure: due again after a backoff.
    Retried,
    /// A permanent failure, or the last attempt failed.
    Failed,
    /// Put back untried: paced, outside working hours, waiting for an install, shutdown.
    Postponed,
    /// No longer relevant (or its workspace or recipient is gone).
    Dropped,
    /// Our lease ran out and another worker took the row over.
    Lost,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Sent => "sent",
            DeliveryOutcome::Retried => "retried",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::Postponed => "postponed",
            DeliveryOutcome::Dropped => "dropped",
            DeliveryOutcome::Lost => "lost",
        }
    }
}

pub fn delivery(kind: DeliveryKind, outcome: DeliveryOutcome) {
    metrics::counter!(DELIVERIES_TOTAL, "kind" => kind.as_str(), "outcome" => outcome.as_str()).increment(1);
}

/// A delivery rescheduled after a temporary failure; `rate_limited` when the
/// platform said when to come back (a 429's `Retry-After`).
pub fn delivery_retry(kind: DeliveryKind, rate_limited: bool) {
    let reason = if rate_limited { "rate_limited" } else { "error" };
    metrics::counter!(DELIVERY_RETRIES, "kind" => kind.as_str(), "reason" => reason).increment(1);
}

/// One scheduler pass.
pub fn scheduler_pass(ok: bool, elapsed: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(SCHEDULER_PASSES, "outcome" => outcome).increment(1);
    metrics::histogram!(SCHEDULER_PASS_DURATION).record(elapsed.as_secs_f64());
}

/// One call to a chat platform's API. `method` is the API method (Slack:
/// `chat.postMessage`; Teams: the connector operation); `outcome` is `ok` or
/// a short fixed error class such as `rate_limited`.
pub fn chat_api_call(platform: Platform, method: &'static str, outcome: &'static str) {
    metrics::counter!(CHAT_API_CALLS, "platform" => platform.as_str(), "method" => method, "outcome" => outcome)
        .increment(1);
}

/// The state read from the database at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every (kind, state) pair with its count; pairs with none are zero.
    pub deliveries: Vec<(&'static str, &'static str, u64)>,
    pub lag: Duration,
    pub pool_in_use: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
}

/// Sets the scrape-time gauges from `s`.
pub fn set_gauges(s: &Snapshot) {
    for (kind, state, n) in &s.deliveries {
        metrics::gauge!(DELIVERIES, "kind" => *kind, "state" => *state).set(*n as f64);
    }
    metrics::gauge!(SCHEDULER_LAG).set(s.lag.as_secs_f64());
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(s.pool_in_use));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(s.pool_idle));
    metrics::gauge!(DB_POOL_MAX).set(f64::from(s.pool_max));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_name_is_prefixed_snake_case_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (name, kind, labels, help) in METRICS {
            assert!(name.starts_with("oneonone_"), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
            assert!(seen.insert(*name), "{name} listed twice");
            assert!(!help.is_empty(), "{name}");
            match kind {
                Kind::Counter => assert!(name.ends_with("_total"), "{name}"),
                Kind::Histogram => assert!(name.ends_with("_seconds"), "{name}"),
                Kind::Gauge => assert!(!name.ends_with("_total"), "{name}"),
            }
            for l in *labels {
                assert!(l.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}: {l}");
            }
        }
    }
}
