//! Observability through the HTTP surface: `GET /metrics` after real traffic
//! (signed commands, a refused signature, an unknown path, a scheduler pass
//! that meets a Slack outage and retries), request ids on every answer, and
//! the Grafana dashboard checked against the metrics the code exports.
//!
//! The metrics recorder is one per process and every test here shares it, so
//! assertions are on increases and on labelled series, never on absolute
//! counts; the database gauges are read per scrape from the scraped app.

use crate::both_engines;
use crate::support::*;
use chrono::{TimeZone, Utc};
use oneonone::telemetry::metrics::{Kind, METRICS};
use std::collections::{BTreeMap, BTreeSet};

/// One sample line of the text format: `name{label="value",…} value`.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

struct Scrape {
    text: String,
    samples: Vec<Sample>,
}

impl Scrape {
    /// The sum over the samples named `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels).next().is_some()
    }

    fn matching<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// Every metric name with a `# TYPE` line.
    fn typed_names(&self) -> BTreeMap<String, String> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }
}

fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                (name.to_string(), parse_labels(body, line))
            }
        };
        out.push(Sample { name, labels, value });
    }
    out
}

/// `a="x",b="y \"quoted\""` (the format escapes `\`, `"` and newlines).
fn parse_labels(body: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => panic!("dangling escape: {line}"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_string(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

async fn scrape(app: &TestApp) -> Scrape {
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    Scrape {
        samples: parse(&text),
        text,
    }
}

fn at(h: u32, mi: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, h, mi, 0).unwrap()
}

const REQUESTS: &str = "oneonone_http_requests_total";

both_engines!(
    metrics_count_requests_commands_deliveries_and_retries_by_label_and_never_user_text,
    |app| {
        let before = scrape(app).await;
        app.with_pair().await;
        app.ok(REPORT, "add Zanzibar budget").await;
        let refused = app.ok(OTHER, "add <@U0REPORT01> Zanzibar sneaky").await;
        assert!(refused.contains("don't have a 1:1"), "{refused}");
        let body = TestApp::command_form(MANAGER, "add Zanzibar forged");
        let res = app
            .post_with(
                "/slack/commands",
                "application/x-www-form-urlencoded",
                &body,
                Some((app.clock.now().timestamp(), "v0=00".into())),
            )
            .await;
        assert_eq!(res.status().as_u16(), 401);
        let res = app.http.get(app.url("/zanzibar/secret-path")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404);

        // The agendas go out Monday 09:00 UTC; Slack fails the first one with a 500.
        app.slack.wait_for("chat.postMessage", 1).await; // the set-up notice
        app.slack.fail_next(
            "chat.postMessage",
            500,
            serde_json::json!({"ok": false, "error": "internal_error"}),
            None,
        );
        let (_, worked) = app.tick(at(9, 0)).await;
        assert_eq!((worked.sent, worked.retried), (1, 1), "{worked:?}");
        let (_, worked) = app.tick(at(9, 2)).await;
        assert_eq!(worked.sent, 1, "{worked:?}");

        let after = scrape(app).await;
        let grew = |name: &str, labels: &[(&str, &str)], by: f64| {
            let (b, a) = (before.sum(name, labels), after.sum(name, labels));
            assert!(
                a - b >= by,
                "{name}{labels:?}: {b} -> {a}, expected +{by}\n{}",
                after.text
            );
        };
        let commands = [("route", "/slack/commands"), ("method", "POST")];
        grew(REQUESTS, &[commands[0], commands[1], ("status", "200")], 3.0);
        grew(REQUESTS, &[commands[0], commands[1], ("status", "401")], 1.0);
        grew(
            REQUESTS,
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")],
            1.0,
        );
        grew(REQUESTS, &[("route", "/metrics"), ("status", "200")], 1.0);
        grew("oneonone_http_request_duration_seconds_count", &commands, 4.0);
        assert!(
            after.has(
                "oneonone_http_request_duration_seconds_bucket",
                &[commands[0], ("le", "+Inf")]
            ),
            "a histogram, not a summary"
        );
        let slack_cmd = |c: &'static str, o: &'static str| [("command", c), ("platform", "slack"), ("outcome", o)];
        grew("oneonone_commands_total", &slack_cmd("setup", "ok"), 1.0);
        grew("oneonone_commands_total", &slack_cmd("add", "ok"), 1.0);
        grew("oneonone_commands_total", &slack_cmd("add", "refused"), 1.0);
        let agenda = |o: &'static str| [("kind", "agenda"), ("outcome", o)];
        grew("oneonone_deliveries_total", &agenda("sent"), 2.0);
        grew("oneonone_deliveries_total", &agenda("retried"), 1.0);
        grew(
            "oneonone_delivery_retries_total",
            &[("kind", "agenda"), ("reason", "error")],
            1.0,
        );
        grew("oneonone_scheduler_passes_total", &[("outcome", "ok")], 2.0);
        grew("oneonone_scheduler_pass_duration_seconds_count", &[], 2.0);
        let post = |o: &'static str| [("platform", "slack"), ("method", "chat.postMessage"), ("outcome", o)];
        grew("oneonone_chat_api_calls_total", &post("ok"), 3.0);
        grew("oneonone_chat_api_calls_total", &post("transport_error"), 1.0);
        grew(
            "oneonone_chat_api_calls_total",
            &[("platform", "slack"), ("method", "users.info"), ("outcome", "ok")],
            1.0,
        );

        // Read from this app's database at scrape time.
        assert_eq!(
            after.sum("oneonone_deliveries", &[("kind", "agenda"), ("state", "sent")]),
            2.0
        );
        assert_eq!(
            after.sum("oneonone_deliveries", &[("kind", "agenda"), ("state", "pending")]),
            0.0,
            "an emptied state reads 0"
        );
        assert_eq!(after.sum("oneonone_scheduler_lag_seconds", &[]), 0.0);
        let max = after.sum("oneonone_db_pool_max_connections", &[]);
        let used = after.sum("oneonone_db_pool_connections", &[]);
        assert!(max >= 1.0 && used >= 1.0 && used <= max, "pool {used}/{max}");

        // Labels are route templates and fixed names only.
        for leak in ["Zanzibar", "secret-path", REPORT, MANAGER, TEAM, "internal_error"] {
            assert!(!after.text.contains(leak), "{leak} leaked into /metrics");
        }
        let routes: BTreeSet<&str> = after
            .matching(REQUESTS, &[])
            .map(|s| s.labels["route"].as_str())
            .collect();
        assert!(
            routes.iter().all(|r| *r == "unmatched" || r.starts_with('/')),
            "{routes:?}"
        );
    }
);

both_engines!(
    the_scheduler_lag_is_how_long_the_oldest_due_delivery_has_waited,
    |app| {
        app.with_pair().await;
        // Planned at 09:00 but not sent: both agendas wait in the queue.
        oneonone::scheduler::pass::plan(&app.db, at(9, 0)).await.unwrap();
        app.clock.set(at(9, 10));
        let s = scrape(app).await;
        let lag = s.sum("oneonone_scheduler_lag_seconds", &[]);
        assert!((600.0..=3600.0).contains(&lag), "lag {lag}\n{}", s.text);
        assert_eq!(
            s.sum("oneonone_deliveries", &[("kind", "agenda"), ("state", "pending")]),
            2.0
        );
        let (_, worked) = app.tick(at(9, 10)).await;
        assert_eq!(worked.sent, 2);
        let s = scrape(app).await;
        assert_eq!(s.sum("oneonone_scheduler_lag_seconds", &[]), 0.0);
    }
);

both_engines!(
    every_answer_carries_a_request_id_and_an_unsafe_incoming_one_is_replaced,
    |app| {
        let id_of = |res: &reqwest::Response| {
            res.headers()
                .get("x-request-id")
                .unwrap_or_else(|| panic!("no x-request-id on {}", res.url()))
                .to_str()
                .unwrap()
                .to_string()
        };
        let is_uuid = |s: &str| s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        let mut seen = BTreeSet::new();
        for path in ["/healthz", "/metrics", "/no-such-route"] {
            let res = app.http.get(app.url(path)).send().await.unwrap();
            let id = id_of(&res);
            assert!(is_uuid(&id), "{path}: {id}");
            assert!(seen.insert(id), "ids are unique");
        }
        let res = app
            .post_with("/slack/commands", "application/x-www-form-urlencoded", "text=x", None)
            .await;
        assert_eq!(res.status().as_u16(), 401);
        assert!(is_uuid(&id_of(&res)), "a refused request has an id too");

        // A proxy's id is kept when it is short and plain…
        let res = app
            .http
            .get(app.url("/healthz"))
            .header("x-request-id", "edge-4f2a.7_b")
            .send()
            .await
            .unwrap();
        assert_eq!(id_of(&res), "edge-4f2a.7_b");
        // …and replaced when it could forge a log line or is too long.
        for bad in ["x\",\"level\":\"ERROR".to_string(), "a b".to_string(), "z".repeat(65)] {
            let res = app
                .http
                .get(app.url("/healthz"))
                .header("x-request-id", bad.as_str())
                .send()
                .await
                .unwrap();
            let id = id_of(&res);
            assert!(is_uuid(&id) && id != bad, "{bad:?} -> {id}");
        }
    }
);

/// The metric names a PromQL expression uses.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("oneonone_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_the_service_exports() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/grafana/oneonone-dashboard.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert!(dashboard["title"].is_string() && dashboard["panels"].is_array());
    let mut all = Vec::new();
    exprs(&dashboard, &mut all);
    assert!(all.len() >= 10, "{} queries", all.len());
    let mut used = BTreeSet::new();
    for e in &all {
        let names = metric_names(e);
        assert!(!names.is_empty(), "a query on no oneonone metric: {e}");
        for n in names {
            let known = METRICS.iter().any(|(name, kind, _, _)| {
                n == *name
                    || (*kind == Kind::Histogram
                        && ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|suffix| n == format!("{name}{suffix}")))
            });
            assert!(
                known,
                "the dashboard queries {n}, which the service does not export: {e}"
            );
            used.insert(n);
        }
    }
    // Every panel has a datasource variable, not a fixed one, so it imports anywhere.
    assert!(text.contains("${datasource}") || text.contains("$datasource"));
    for (name, kind, _, _) in METRICS {
        let on_a_panel = used.iter().any(|u| {
            u == name || (*kind == Kind::Histogram && u.strip_prefix(name).is_some_and(|s| s.starts_with('_')))
        });
        assert!(on_a_panel, "{name} is on no dashboard panel");
    }
}

#[tokio::test]
async fn every_listed_metric_is_exported_with_its_type() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    // Enough traffic for every metric to have a sample.
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await;
    app.slack.fail_next(
        "chat.postMessage",
        500,
        serde_json::json!({"ok": false, "error": "internal_error"}),
        None,
    );
    let (_, worked) = app.tick(at(9, 0)).await;
    assert_eq!(worked.retried, 1, "{worked:?}");
    let s = scrape(&app).await;
    let typed = s.typed_names();
    for (name, kind, labels, _) in METRICS {
        let want = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        assert_eq!(typed.get(*name).map(String::as_str), Some(want), "{name}\n{}", s.text);
        let sample_name = match kind {
            Kind::Histogram => format!("{name}_count"),
            _ => name.to_string(),
        };
        let sample = s
            .matching(&sample_name, &[])
            .next()
            .unwrap_or_else(|| panic!("no sample of {name}"));
        let got: BTreeSet<&str> = sample.labels.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = labels.iter().copied().collect();
        assert_eq!(got, want, "{name}'s labels");
    }
}
