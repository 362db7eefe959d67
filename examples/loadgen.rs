//! Load generator: validly signed Slack requests against a running
//! `oneonone serve`, reporting throughput, latency percentiles, errors, the
//! server's CPU per request, its RSS and its start-up time. Not a test:
//! timings on shared machines are noisy; see BENCHMARKS.md for how the
//! published figures were taken.
//!
//! ```sh
//! cargo build --release && cargo run --release --example loadgen -- --scenario add
//! cargo run --release --example loadgen -- --scenario agenda --concurrency 32
//! cargo run --release --example loadgen -- --scenario add --rate 1000 --duration 10
//! cargo run --release --example loadgen -- --scenario mixed --pairs 1000
//! ```
//!
//! By default it starts `target/release/oneonone serve` itself (a fresh
//! SQLite database in a temporary directory, `--no-scheduler`), with
//! `SLACK_API_URL` pointed at a fake Slack Web API served by this process:
//! `users.info`, `conversations.open`, `chat.postMessage`, `chat.update`,
//! `views.publish`/`open` and `response_url` all answer at once in Slack's
//! wire format. `--database-url postgres://…` runs the same against
//! PostgreSQL. `--server URL --signing-secret S [--pid PID]` drives a server
//! you started yourself; point its `SLACK_API_URL` at `--fake-slack ADDR`.
//!
//! It first creates its own data through signed commands: `--pairs` 1:1s
//! (`setup`), and on the first `--agenda-pairs` of them 30 talking points
//! and 10 action items (`add`, `action`). Then, for `--duration` seconds
//! after a `--warmup`:
//!
//! - `add`: `/oneonone add …` on a rotating 1:1 (a write);
//! - `agenda`: `/oneonone agenda` on a 1:1 with 30 points and 10 items (a read);
//! - `discuss`: the "discussed" button of an agenda's talking point (a block
//!   action: answered at once, the message is then replaced through
//!   `response_url`, which is counted);
//! - `mixed`: 60 % agenda, 30 % add, 10 % discuss.
//!
//! Two modes: maximum throughput with `--concurrency` requests in flight
//! (default), or `--rate N` requests a second, open loop (latency measured
//! from when each request was due, so a stalled server shows in p99).
//!
//! The measured requests go through a small HTTP/1.1 client of its own
//! (`--client raw`: prepared request bytes on kept-alive connections, as wrk
//! sends them) on one tokio worker, so that the load generator takes as
//! little as it can of the cores it shares with the server; `--client
//! reqwest` sends them with reqwest, as the figures before the sixth
//! session were taken.

use anyhow::{Context, bail, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TEAM: &str = "T0LOADGEN";
/// Signed bodies older than this would be refused (Slack's 5-minute window).
const MAX_RUN: Duration = Duration::from_secs(240);

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Add,
    Agenda,
    Discuss,
    Mixed,
}

#[derive(Parser, Debug)]
#[command(about = "Signed-Slack-request load generator for oneonone")]
struct Args {
    #[arg(long, value_enum, default_value = "add")]
    scenario: Scenario,
    /// Requests a second (open loop); without it, maximum throughput.
    #[arg(long)]
    rate: Option<u64>,
    /// Requests in flight in maximum-throughput mode (and the cap in rate mode).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// 1:1s created before the run.
    #[arg(long, default_value_t = 1000)]
    pairs: usize,
    /// Of those, how many get 30 talking points and 10 action items.
    #[arg(long, default_value_t = 100)]
    agenda_pairs: usize,
    /// The server binary to start.
    #[arg(long, default_value = "target/release/oneonone")]
    bin: PathBuf,
    /// Database of the started server (default: SQLite in a temporary directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Drive this running server instead of starting one.
    #[arg(long)]
    server: Option<String>,
    /// The running server's SLACK_SIGNING_SECRET (with --server).
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    signing_secret: Option<String>,
    /// The running server's process id, for CPU and RSS (with --server).
    #[arg(long)]
    pid: Option<u32>,
    /// Where the fake Slack Web API listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    fake_slack: SocketAddr,
    /// The HTTP client of the measured load: `raw` writes each prepared
    /// request on a kept-alive connection (as wrk does); `reqwest` is the
    /// general client the figures before the sixth session were taken with.
    #[arg(long, value_enum, default_value = "raw")]
    client: ClientKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ClientKind {
    Raw,
    Reqwest,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        Duration::from_secs(args.warmup + args.duration) < MAX_RUN,
        "--warmup + --duration must stay under {} s (signatures are made up front)",
        MAX_RUN.as_secs()
    );
    ensure!(
        args.pairs > 0 && args.agenda_pairs <= args.pairs,
        "need --agenda-pairs <= --pairs, and --pairs > 0"
    );
    ensure!(
        args.scenario == Scenario::Add || args.agenda_pairs > 0,
        "the {:?} scenario reads full agendas: give --agenda-pairs at least 1",
        args.scenario
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    // One worker: a second one mostly woke the first (the load generator's
    // CPU per request was 24 µs with two, 22 µs with one).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let fake = FakeSlack::start(args.fake_slack).await?;
    let tmp = tempfile::tempdir()?;
    let (server, secret) = match &args.server {
        Some(url) => {
            let secret = args
                .signing_secret
                .clone()
                .context("--server needs --signing-secret (or SLACK_SIGNING_SECRET)")?;
            println!("server: {url} (fake Slack at {}/api/)", fake.base);
            (
                Server::External {
                    url: url.clone(),
                    pid: args.pid,
                },
                secret,
            )
        }
        None => {
            let secret = format!("loadgen-{:x}", std::process::id() as u64 * 7919 + 17);
            let db = args
                .database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}/loadgen.db", tmp.path().display()));
            let started = Server::start(&args.bin, &db, &secret, &fake.base).await?;
            (started, secret)
        }
    };
    let base = server.url();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(64))
        .tcp_nodelay(true)
        .build()?;
    let signer = Signer { secret };
    if let Some(rss) = server.pid().and_then(|p| proc_status(p, "VmRSS")) {
        println!(
            "idle RSS after start-up: {:.1} MiB{}",
            rss as f64 / 1024.0,
            server.pid().map(rss_split).unwrap_or_default()
        );
    }

    // Data first: 1:1s, then full agendas on some of them.
    let started = Instant::now();
    let setups: Vec<String> = (0..args.pairs)
        .map(|i| {
            command_form(
                &manager(i),
                &format!(
                    "setup <@{}|r{i}> weekly on tuesday at 10:00 tz Europe/Berlin",
                    report(i)
                ),
            )
        })
        .collect();
    run_setup(&client, &base, &signer, setups).await?;
    let mut fill = Vec::new();
    for i in 0..args.agenda_pairs {
        for k in 0..30 {
            let who = if k % 2 == 0 { manager(i) } else { report(i) };
            fill.push(command_form(
                &who,
                &format!("add Talking point number {k} about the roadmap and the team"),
            ));
        }
        for k in 0..10 {
            fill.push(command_form(
                &manager(i),
                &format!("action Follow up on item {k} with the team"),
            ));
        }
    }
    run_setup(&client, &base, &signer, fill).await?;
    println!(
        "setup: {} 1:1s, {} with 30 points and 10 action items, in {:.1} s",
        args.pairs,
        args.agenda_pairs,
        started.elapsed().as_secs_f64()
    );

    // The "discussed" buttons, as the agenda renders them.
    let mut buttons = Vec::new();
    if matches!(args.scenario, Scenario::Discuss | Scenario::Mixed) {
        for i in 0..args.agenda_pairs {
            let answer = send(
                &client,
                &base,
                "/slack/commands",
                &signer,
                &command_form(&manager(i), "agenda"),
            )
            .await?;
            let v: Value = serde_json::from_slice(&answer).context("agenda answer is not JSON")?;
            let mut found = Vec::new();
            collect_actions(&v["blocks"], "tp_discussed", &mut found);
            ensure!(
                !found.is_empty(),
                "the agenda of 1:1 {i} offers no \"discussed\" choice"
            );
            buttons.extend(found.into_iter().map(|action| (manager(i), action)));
        }
    }

    let bodies = Arc::new(Bodies::build(&args, &base, &signer, &buttons, &fake));
    let run = Arc::new(Run::default());
    let measure_from = Instant::now() + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.duration);
    let mut cpu_at_start = None;
    let mut own_at_start = None;
    let mut hooks_at_start = 0;
    {
        let load = match args.client {
            ClientKind::Raw => Load::Raw(Arc::new(RawClient::new(&base).await?)),
            ClientKind::Reqwest => Load::Reqwest(client.clone(), base.clone()),
        };
        let driver = drive(&args, &load, &bodies, &run, measure_from, end);
        tokio::pin!(driver);
        let mut marked = false;
        loop {
            tokio::select! {
                r = &mut driver => { r?; break; }
                _ = tokio::time::sleep_until(measure_from.into()), if !marked => {
                    marked = true;
                    cpu_at_start = server.pid().and_then(proc_cpu_ticks);
                    own_at_start = proc_cpu_ticks(std::process::id());
                    hooks_at_start = fake.hooks();
                }
            }
        }
    }
    let cpu_after = server.pid().and_then(proc_cpu_ticks);
    let own_after = proc_cpu_ticks(std::process::id());
    let hooks_after = fake.hooks();

    let mut lat = run.take_latencies();
    lat.sort_unstable();
    let n = lat.len() as f64;
    let secs = args.duration as f64;
    let mode = match args.rate {
        Some(r) => format!("rate {r}/s"),
        None => format!("max, {} in flight", args.concurrency),
    };
    println!(
        "scenario {:?} ({mode}), {} s measured after {} s warm-up",
        args.scenario, args.duration, args.warmup
    );
    println!(
        "  requests/s: {:.0}  ({} ok, {} errors)",
        n / secs,
        lat.len(),
        run.errors.load(Ordering::Relaxed)
    );
    if !lat.is_empty() {
        println!(
            "  latency: p50 {}  p99 {}  p99.9 {}  max {}",
            micros(pct(&lat, 0.50)),
            micros(pct(&lat, 0.99)),
            micros(pct(&lat, 0.999)),
            micros(*lat.last().unwrap_or(&0))
        );
    }
    let mut late = run.late.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
    if !late.is_empty() {
        late.sort_unstable();
        println!(
            "  of which sent late by the load generator: p50 {}  p99 {}",
            micros(pct(&late, 0.50)),
            micros(pct(&late, 0.99))
        );
    }
    if let (Some(a), Some(b)) = (cpu_at_start, cpu_after) {
        let server_us = (b - a) as f64 * 1e6 / clock_ticks() as f64;
        println!(
            "  server CPU: {:.0} µs per request ({:.2} cores)",
            server_us / n.max(1.0),
            server_us / 1e6 / secs
        );
    }
    if let (Some(a), Some(b)) = (own_at_start, own_after) {
        let own_us = (b - a) as f64 * 1e6 / clock_ticks() as f64;
        println!(
            "  load generator and fake Slack CPU: {:.0} µs per request",
            own_us / n.max(1.0)
        );
    }
    if matches!(args.scenario, Scenario::Discuss | Scenario::Mixed) {
        println!(
            "  messages replaced through response_url: {:.0}/s",
            (hooks_after - hooks_at_start) as f64 / secs
        );
    }
    if let Some(pid) = server.pid()
        && let (Some(rss), Some(hwm)) = (proc_status(pid, "VmRSS"), proc_status(pid, "VmHWM"))
    {
        println!(
            "  server RSS after the run: {:.1} MiB (peak {:.1} MiB){}",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0,
            rss_split(pid)
        );
    }
    if run.errors.load(Ordering::Relaxed) > 0
        && let Some(e) = run.first_error.lock().ok().and_then(|e| e.clone())
    {
        println!("  first error: {e}");
    }
    server.stop();
    Ok(())
}

// ---------------------------------------------------------------- the load

#[derive(Default)]
struct Run {
    /// Latencies in µs, measured requests only.
    latencies: std::sync::Mutex<Vec<u32>>,
    /// Rate mode: how late each measured request was sent, in µs (the load
    /// generator's own delay, included in its latency).
    late: std::sync::Mutex<Vec<u32>>,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Run {
    fn record(&self, local: &mut Vec<u32>) {
        if let Ok(mut all) = self.latencies.lock() {
            all.append(local);
        }
    }

    fn record_paced(&self, latency: Duration, late: Duration) {
        self.record(&mut vec![latency.as_micros() as u32]);
        if let Ok(mut all) = self.late.lock() {
            all.push(late.as_micros() as u32);
        }
    }

    fn fail(&self, e: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(e);
        }
    }

    fn take_latencies(&self) -> Vec<u32> {
        self.latencies
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// One prepared request: path, signed headers and body, and all of it as
/// the bytes of an HTTP/1.1 request.
struct Prepared {
    path: &'static str,
    timestamp: String,
    signature: String,
    body: Bytes,
    wire: Bytes,
}

/// Every request a run sends, signed up front and used in rotation.
struct Bodies {
    all: Vec<Prepared>,
}

impl Bodies {
    fn build(args: &Args, base: &str, signer: &Signer, buttons: &[(String, Value)], fake: &FakeSlack) -> Bodies {
        let host = base.split_once("://").map_or(base, |(_, rest)| rest);
        let pool = 8192;
        let mut all = Vec::with_capacity(pool);
        for k in 0..pool {
            let kind = match args.scenario {
                Scenario::Add => Scenario::Add,
                Scenario::Agenda => Scenario::Agenda,
                Scenario::Discuss => Scenario::Discuss,
                // 60 % agenda, 30 % add, 10 % discuss, interleaved.
                Scenario::Mixed => match k % 10 {
                    0..=5 => Scenario::Agenda,
                    6..=8 => Scenario::Add,
                    _ => Scenario::Discuss,
                },
            };
            let (path, body) = match kind {
                Scenario::Agenda => {
                    let i = k % args.agenda_pairs.max(1);
                    let who = if k % 2 == 0 { manager(i) } else { report(i) };
                    ("/slack/commands", command_form(&who, "agenda"))
                }
                Scenario::Discuss => {
                    let (user, action) = &buttons[k % buttons.len()];
                    ("/slack/interactivity", block_action(user, action, &fake.hook_url(k)))
                }
                // Writes go to the 1:1s without full agendas (when there are
                // any), so reads keep seeing 30 points.
                _ => {
                    let spare = args.pairs - args.agenda_pairs;
                    let i = if spare > 0 {
                        args.agenda_pairs + k % spare
                    } else {
                        k % args.pairs
                    };
                    let who = if k % 2 == 0 { manager(i) } else { report(i) };
                    (
                        "/slack/commands",
                        command_form(
                            &who,
                            &format!("add #growth Load-test point {k}: how's the quarter going?"),
                        ),
                    )
                }
            };
            let (timestamp, signature) = signer.sign(&body);
            let wire = format!(
                "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
                 x-slack-request-timestamp: {timestamp}\r\nx-slack-signature: {signature}\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            );
            all.push(Prepared {
                path,
                timestamp,
                signature,
                body: Bytes::from(body),
                wire: Bytes::from(wire),
            });
        }
        Bodies { all }
    }
}

async fn drive(
    args: &Args,
    load: &Load,
    bodies: &Arc<Bodies>,
    run: &Arc<Run>,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    match args.rate {
        None => {
            for _ in 0..args.concurrency {
                let (load, bodies, run, next) = (load.clone(), bodies.clone(), run.clone(), next.clone());
                tasks.spawn(async move {
                    let mut local = Vec::with_capacity(1 << 16);
                    loop {
                        let now = Instant::now();
                        if now >= end {
                            break;
                        }
                        let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let p = &bodies.all[k % bodies.all.len()];
                        match load.fire(p).await {
                            Ok(()) if now >= measure_from => local.push(now.elapsed().as_micros() as u32),
                            Ok(()) => {}
                            Err(e) if now >= measure_from => run.fail(e),
                            Err(_) => {}
                        }
                    }
                    run.record(&mut local);
                });
            }
        }
        Some(rate) => {
            ensure!(rate > 0, "--rate must be positive");
            let gap = Duration::from_secs_f64(1.0 / rate as f64);
            let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(256)));
            // Paced by a thread of its own: tokio's timer wheel has a
            // resolution of 1 ms and rounds up, so `sleep_until` started
            // requests up to a millisecond late, and that lateness counted
            // as latency. `std::thread::sleep` wakes within tens of µs.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
            let pacer = std::thread::spawn(move || {
                let start = Instant::now();
                for k in 0.. {
                    let due = start + gap.mul_f64(k as f64);
                    if due >= end {
                        break;
                    }
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if tx.send((k, due)).is_err() {
                        break;
                    }
                }
            });
            while let Some((k, due)) = rx.recv().await {
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    break;
                };
                let (load, bodies, run) = (load.clone(), bodies.clone(), run.clone());
                let i = k as usize;
                tasks.spawn(async move {
                    let p = &bodies.all[i % bodies.all.len()];
                    let late = due.elapsed();
                    let result = load.fire(p).await;
                    if due >= measure_from {
                        match result {
                            // From when it was due: a late start counts.
                            Ok(()) => run.record_paced(due.elapsed(), late),
                            Err(e) => run.fail(e),
                        }
                    }
                    drop(permit);
                });
                // Reap finished tasks now and then so the set stays small.
                while tasks.try_join_next().is_some() {}
            }
            pacer.join().map_err(|_| anyhow::anyhow!("the pacer thread panicked"))?;
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.context("a load task panicked")?;
    }
    Ok(())
}

/// The client of the measured load.
#[derive(Clone)]
enum Load {
    Raw(Arc<RawClient>),
    Reqwest(reqwest::Client, String),
}

impl Load {
    async fn fire(&self, p: &Prepared) -> Result<(), String> {
        match self {
            Load::Raw(raw) => raw.fire(&p.wire).await,
            Load::Reqwest(client, base) => fire_reqwest(client, base, p).await,
        }
    }
}

async fn fire_reqwest(client: &reqwest::Client, base: &str, p: &Prepared) -> Result<(), String> {
    let res = client
        .post(format!("{base}{}", p.path))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &p.timestamp)
        .header("x-slack-signature", &p.signature)
        .body(p.body.clone())
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| format!("answer cut off: {e}"))?;
    check_answer(status.as_u16(), &body)
}

/// A 2xx answer that is not the server's apology for its own failure.
fn check_answer(status: u16, body: &[u8]) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(body)));
    }
    if memchr::memmem::find(body, b"went wrong on ou").is_some() {
        return Err(format!("server-side failure: {}", String::from_utf8_lossy(body)));
    }
    Ok(())
}

/// HTTP/1.1 on kept-alive connections, each request written as one prepared
/// buffer and each answer read into a reused one, as wrk does: the load
/// generator shares the two cores with the server, so every microsecond it
/// spends per request is one the server does not get. With reqwest the load
/// generator spent 42–51 µs per `agenda` request (URL parsing, header maps,
/// its pool and connection tasks); with this, 20–24 µs.
struct RawClient {
    addr: SocketAddr,
    idle: std::sync::Mutex<Vec<RawConn>>,
}

struct RawConn {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

/// How one exchange on a connection ended.
enum Exchange {
    /// An answer was read; the connection can carry the next request.
    Done(Result<(), String>),
    /// An answer was read and the server closes the connection.
    DoneClosing(Result<(), String>),
    /// Nothing came back: a kept-alive connection the server had closed, or
    /// a broken one.
    Broken(String),
}

impl RawClient {
    async fn new(base: &str) -> anyhow::Result<RawClient> {
        let url = reqwest::Url::parse(base).context("the server's URL")?;
        ensure!(
            url.scheme() == "http",
            "the raw client speaks plain HTTP only; use --client reqwest for {base}"
        );
        let host = url.host_str().context("the server's URL has no host")?;
        let port = url.port_or_known_default().unwrap_or(80);
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .with_context(|| format!("{host} resolves to no address"))?;
        Ok(RawClient {
            addr,
            idle: std::sync::Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<RawConn, String> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        Ok(RawConn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    async fn fire(&self, wire: &[u8]) -> Result<(), String> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let reused = idle.is_some();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        let mut outcome = conn.exchange(wire).await;
        // A kept-alive connection may have been closed by the server while
        // idle: the request was not answered, so send it once more.
        if reused && matches!(outcome, Exchange::Broken(_)) {
            conn = self.connect().await?;
            outcome = conn.exchange(wire).await;
        }
        match outcome {
            Exchange::Done(result) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(conn);
                }
                result
            }
            Exchange::DoneClosing(result) => result,
            Exchange::Broken(e) => Err(e),
        }
    }
}

impl RawConn {
    /// Writes one request and reads its answer (`Content-Length` framed;
    /// the server frames every answer of these routes so).
    async fn exchange(&mut self, wire: &[u8]) -> Exchange {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Err(e) = self.stream.write_all(wire).await {
            return Exchange::Broken(format!("write: {e}"));
        }
        self.buf.clear();
        let (status, head, len, closing) = loop {
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) if self.buf.is_empty() => return Exchange::Broken("connection closed".into()),
                Ok(0) => return Exchange::DoneClosing(Err("answer cut off".into())),
                Ok(_) => {}
                Err(e) => return Exchange::Broken(format!("read: {e}")),
            }
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut res = httparse::Response::new(&mut headers);
            match res.parse(&self.buf) {
                Ok(httparse::Status::Complete(head)) => {
                    let mut len = None;
                    let mut closing = res.version == Some(0);
                    for h in res.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            len = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok());
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            return Exchange::DoneClosing(Err(
                                "a chunked answer: use --client reqwest for this route".into()
                            ));
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            closing = h.value.eq_ignore_ascii_case(b"close");
                        }
                    }
                    let Some(len) = len else {
                        return Exchange::DoneClosing(Err("an answer without Content-Length".into()));
                    };
                    break (res.code.unwrap_or(0), head, len, closing);
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => return Exchange::DoneClosing(Err(format!("not HTTP: {e}"))),
            }
        };
        while self.buf.len() < head + len {
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) => return Exchange::DoneClosing(Err("answer cut off".into())),
                Ok(_) => {}
                Err(e) => return Exchange::DoneClosing(Err(format!("read: {e}"))),
            }
        }
        let result = check_answer(status, &self.buf[head..head + len]);
        if closing {
            Exchange::DoneClosing(result)
        } else {
            Exchange::Done(result)
        }
    }
}

/// Sends the setup commands with a few in flight; any failure stops the run.
async fn run_setup(client: &reqwest::Client, base: &str, signer: &Signer, forms: Vec<String>) -> anyhow::Result<()> {
    let forms = Arc::new(forms);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, base, signer, forms, next) = (
            client.clone(),
            base.to_owned(),
            signer.clone(),
            forms.clone(),
            next.clone(),
        );
        tasks.spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(form) = forms.get(k) else { return Ok(()) };
                let answer = send(&client, &base, "/slack/commands", &signer, form).await?;
                let text = String::from_utf8_lossy(&answer);
                ensure!(
                    !text.contains("went wrong") && !text.contains("Usage"),
                    "setup command refused: {text}"
                );
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

async fn send(client: &reqwest::Client, base: &str, path: &str, signer: &Signer, form: &str) -> anyhow::Result<Bytes> {
    let (ts, sig) = signer.sign(form);
    let res = client
        .post(format!("{base}{path}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts)
        .header("x-slack-signature", sig)
        .body(form.to_owned())
        .send()
        .await?;
    let status = res.status();
    let body = res.bytes().await?;
    ensure!(
        status.is_success(),
        "{path} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(body)
}

// ---------------------------------------------------------- Slack payloads

fn manager(i: usize) -> String {
    format!("UM{i:07}")
}

fn report(i: usize) -> String {
    format!("UR{i:07}")
}

#[derive(Clone)]
struct Signer {
    secret: String,
}

impl Signer {
    /// `x-slack-request-timestamp` and `x-slack-signature` for `body`, now.
    fn sign(&self, body: &str) -> (String, String) {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
            .to_string();
        let signature = oneonone::slack::verify::sign(self.secret.as_bytes(), &ts, body.as_bytes());
        (ts, signature)
    }
}

fn command_form(user: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "legacy"),
        ("team_id", TEAM),
        ("team_domain", "loadgen"),
        ("channel_id", "D0LOADGEN1"),
        ("channel_name", "directmessage"),
        ("user_id", user),
        ("user_name", user),
        ("command", "/oneonone"),
        ("text", text),
        ("api_app_id", "A0LOADGEN1"),
        ("response_url", "http://127.0.0.1:9/hooks/commands"),
        ("trigger_id", "1.2.3"),
    ])
    .expect("strings form-encode")
}

fn block_action(user: &str, action: &Value, response_url: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "loadgen"},
        "user": {"id": user, "username": user, "team_id": TEAM},
        "api_app_id": "A0LOADGEN1",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "is_ephemeral": true},
        "response_url": response_url,
        "actions": [action]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).expect("strings form-encode")
}

/// Every choice in `blocks` whose action name is `name` (action ids may
/// carry a `#N` suffix), as the action a click on it sends: a button's
/// `value`, or each option of a select as its `selected_option`.
fn collect_actions(v: &Value, name: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(id)) = o.get("action_id")
                && id.split('#').next() == Some(name)
            {
                if let Some(value) = o.get("value") {
                    out.push(json!({"action_id": id, "block_id": "b1", "type": "button", "value": value, "action_ts": "1764317000.1"}));
                }
                for option in o.get("options").and_then(Value::as_array).into_iter().flatten() {
                    out.push(json!({"action_id": id, "block_id": "b1", "type": "static_select",
                                    "selected_option": option, "action_ts": "1764317000.1"}));
                }
            }
            o.values().for_each(|x| collect_actions(x, name, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_actions(x, name, out)),
        _ => {}
    }
}

// ------------------------------------------------------------ the server

enum Server {
    Started { url: String, child: std::process::Child },
    External { url: String, pid: Option<u32> },
}

impl Server {
    async fn start(bin: &std::path::Path, db: &str, secret: &str, slack_api: &str) -> anyhow::Result<Server> {
        ensure!(
            bin.exists(),
            "{} not found: run `cargo build --release` first (or pass --bin or --server)",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let child = std::process::Command::new(bin)
            .args(["serve", "--no-scheduler"])
            .env_clear()
            .env("DATABASE_URL", db)
            .env("ONEONONE_LISTEN", format!("127.0.0.1:{port}"))
            .env("SLACK_SIGNING_SECRET", secret)
            .env("SLACK_BOT_TOKEN", "xoxb-loadgen-0000")
            .env("SLACK_API_URL", format!("{slack_api}/api/"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let server = Server::Started { url, child };
        // Start-up: from spawn to the first 200 from /readyz.
        let probe = reqwest::Client::new();
        loop {
            if let Ok(r) = probe.get(format!("{}/readyz", server.url())).send().await
                && r.status().is_success()
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                server.stop();
                bail!("the server did not become ready within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        println!(
            "start-up: {:.0} ms from spawn to ready ({db})",
            started.elapsed().as_secs_f64() * 1000.0
        );
        Ok(server)
    }

    fn url(&self) -> String {
        match self {
            Server::Started { url, .. } | Server::External { url, .. } => url.trim_end_matches('/').to_owned(),
        }
    }

    fn pid(&self) -> Option<u32> {
        match self {
            Server::Started { child, .. } => Some(child.id()),
            Server::External { pid, .. } => *pid,
        }
    }

    fn stop(self) {
        drop(self);
    }
}

/// A started server is stopped (SIGTERM, then waited for) however the run
/// ends, errors included.
impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Started { child, .. } = self {
            let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

/// What the RSS is made of: memory the server allocated, and pages of files
/// it maps (mostly its own code, which the kernel maps in as it is run, and
/// more or less of it depending on what is in the page cache).
fn rss_split(pid: u32) -> String {
    match (proc_status(pid, "RssAnon"), proc_status(pid, "RssFile")) {
        (Some(anon), Some(file)) => format!(
            "; allocated {:.1} MiB, code and other file pages {:.1} MiB",
            anon as f64 / 1024.0,
            file as f64 / 1024.0
        ),
        _ => String::new(),
    }
}

/// A field of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`).
fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// User plus system CPU time of a process, in clock ticks.
fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at state.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

fn pct(sorted: &[u32], q: f64) -> u32 {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn micros(us: u32) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{:.2} ms", us as f64 / 1000.0)
    }
}

// ------------------------------------------------------- the fake Slack API

/// The Web API the server calls, answered at once in Slack's wire format.
struct FakeSlack {
    /// `http://127.0.0.1:PORT`
    base: String,
    hooks: Arc<AtomicU64>,
}

impl FakeSlack {
    async fn start(addr: SocketAddr) -> anyhow::Result<FakeSlack> {
        let hooks = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .route("/api/{method}", any(api))
            .route("/hooks/{id}", post(hook))
            .with_state(hooks.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .context("binding the fake Slack")?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake Slack stopped: {e}");
            }
        });
        Ok(FakeSlack { base, hooks })
    }

    fn hook_url(&self, k: usize) -> String {
        format!("{}/hooks/{k}", self.base)
    }

    fn hooks(&self) -> u64 {
        self.hooks.load(Ordering::Relaxed)
    }
}

async fn hook(State(hooks): State<Arc<AtomicU64>>) -> Response {
    hooks.fetch_add(1, Ordering::Relaxed);
    ok(json!({"ok": true}))
}

static SERIAL: AtomicU64 = AtomicU64::new(0);

fn next_ts() -> String {
    let n = SERIAL.fetch_add(1, Ordering::Relaxed);
    format!("1764317000.{n:06}")
}

async fn api(Path(method): Path<String>, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let p = params(&headers, query.as_deref(), &body);
    let str_of = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let answer = match method.as_str() {
        "users.info" => {
            let id = str_of("user");
            let name = format!("person {}", id.to_lowercase());
            json!({"ok": true, "user": {
                "id": id, "team_id": TEAM, "name": id.to_lowercase(), "real_name": name,
                "tz": "Europe/Berlin", "tz_label": "Central European Time", "tz_offset": 3600,
                "deleted": false, "is_bot": false, "is_admin": false, "is_app_user": false,
                "updated": 1_764_300_000,
                "profile": {"display_name": name, "display_name_normalized": name, "real_name": name,
                            "real_name_normalized": name, "email": format!("{}@loadgen.example", id.to_lowercase()), "team": TEAM}
            }})
        }
        "conversations.open" => {
            let users = match p.get("users") {
                Some(Value::Array(u)) => u.first().and_then(Value::as_str).unwrap_or("U0").to_owned(),
                Some(Value::String(u)) => u.split(',').next().unwrap_or("U0").to_owned(),
                _ => "U0".to_owned(),
            };
            json!({"ok": true, "channel": {"id": format!("D{users}")}})
        }
        "chat.postMessage" => {
            let ts = next_ts();
            json!({"ok": true, "channel": p.get("channel"), "ts": ts,
                   "message": {"type": "message", "user": "U0LOADBOT", "bot_id": "B0LOADBOT", "text": p.get("text"), "ts": ts}})
        }
        "chat.update" => json!({"ok": true, "channel": p.get("channel"), "ts": p.get("ts"), "text": p.get("text"),
                                 "message": {"type": "message", "user": "U0LOADBOT", "bot_id": "B0LOADBOT", "text": p.get("text")}}),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": next_ts()}),
        "views.publish" | "views.open" | "views.update" => {
            let mut view = match p.get("view") {
                Some(Value::Object(v)) => v.clone(),
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
                _ => serde_json::Map::new(),
            };
            view.entry("type").or_insert(json!("home"));
            view.entry("blocks").or_insert(json!([]));
            let n = SERIAL.fetch_add(1, Ordering::Relaxed);
            view.insert("id".into(), json!(format!("V{n:010}")));
            view.insert("team_id".into(), json!(TEAM));
            view.insert("hash".into(), json!(format!("1764317000.h{n:08}")));
            view.insert("app_id".into(), json!("A0LOADGEN1"));
            view.insert("bot_id".into(), json!("B0LOADBOT"));
            view.insert("state".into(), json!({"values": {}}));
            json!({"ok": true, "view": view})
        }
        "auth.test" => json!({"ok": true, "url": "https://loadgen.slack.com/", "team": "loadgen", "user": "oneonone",
                              "team_id": TEAM, "user_id": "U0LOADBOT", "bot_id": "B0LOADBOT"}),
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    ok(answer)
}

fn ok(v: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

/// A JSON body as is, or form and query parameters as an object of strings.
fn params(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> serde_json::Map<String, Value> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let mut out = if is_json {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    };
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or_default()).unwrap_or_default() {
        out.entry(k).or_insert(Value::String(v));
    }
    out
}
