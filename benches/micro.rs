//! Micro benchmarks (issue 7 item 2): the CPU work on the hot paths of a
//! request, without I/O. `cargo bench --bench micro`; figures in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use criterion::{Criterion, criterion_group, criterion_main};
use oneonone::domain::model::{Cadence, MonthWeek};
use oneonone::domain::reply::{Button, Reply, Text};
use std::hint::black_box;

const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";

/// A slash command body as Slack sends it, and its v0 signature.
fn signed_command(now: i64) -> (String, String, Vec<u8>) {
    let body = serde_urlencoded::to_string([
        ("token", "legacy"),
        ("team_id", "T0ACME0001"),
        ("team_domain", "acme"),
        ("channel_id", "D0DMCHAN01"),
        ("user_id", "U0MANAGER1"),
        ("user_name", "maria"),
        ("command", "/oneonone"),
        (
            "text",
            "add Talk about the Q3 hiring plan and the on-call rotation #goals",
        ),
        ("response_url", "https://hooks.slack.com/commands/T0ACME0001/1/abc"),
        ("trigger_id", "13345224609.738474920.8088930838d88f008e0"),
    ])
    .unwrap();
    let ts = now.to_string();
    let sig = oneonone::slack::verify::sign(SECRET, &ts, body.as_bytes());
    (ts, sig, body.into_bytes())
}

/// An agenda shaped like `commands::meetings`' with `points` talking points
/// and `items` open action items (the load generator's `agenda` read).
fn agenda(points: usize, items: usize) -> Reply {
    let mut text = Text::new().bold(format!("Talking points ({points})"));
    for i in 1..=points {
        text = text
            .newline()
            .plain(format!("{i}. "))
            .user(format!("Talking point {i}: how the <b>plan</b> & the *rollout* went"))
            .plain("  — Sam, #goals");
    }
    let mut actions = Text::new().bold(format!("Open action items ({items})"));
    for i in 1..=items {
        actions = actions
            .newline()
            .plain(format!("#{i} "))
            .user(format!("Follow up on item {i}"))
            .plain(" — ")
            .bold_user("Sam Rivera")
            .plain(" · due Fri 5 Dec");
    }
    let meeting = "41";
    Reply::new()
        .header("1:1 with Sam Rivera")
        .context("Thu 4 Dec, 10:00 (Europe/Berlin) · 30 min")
        .section(text)
        .section(actions)
        .select(
            "Mark a point discussed…",
            "tp_discussed",
            (1..=points)
                .map(|i| (format!("{i}. Talking point {i}"), (100 + i).to_string()))
                .collect(),
        )
        .select(
            "Complete an action item…",
            "ai_complete",
            (1..=items)
                .map(|i| (format!("#{i} Follow up on item {i}"), i.to_string()))
                .collect(),
        )
        .buttons(vec![
            Button::new("Add talking point", "open_add_point", meeting).primary(),
            Button::new("Add action item", "open_add_action", meeting),
            Button::new("Private note", "open_note", meeting),
            Button::new("Held ✓", "meeting_held", meeting),
            Button::new("Skip", "meeting_skip", meeting).confirm("Skip this 1:1?"),
            Button::new("Reschedule", "open_reschedule", meeting),
        ])
}

fn benches(c: &mut Criterion) {
    let now = 1_764_400_000;
    let (ts, sig, body) = signed_command(now);
    c.bench_function("slack_verify_signature", |b| {
        b.iter(|| {
            oneonone::slack::verify::verify_signature(SECRET, black_box(&ts), black_box(&sig), black_box(&body), now)
                .unwrap()
        })
    });

    let lines = [
        "add Talk about the Q3 hiring plan and the on-call rotation #goals",
        "setup <@U0REPORT01|rahul> biweekly on tuesday at 10:00 for 45 minutes",
        "action <@U0REPORT01> Draft the hiring plan by friday",
        "agenda <@U0REPORT01>",
    ];
    c.bench_function("parse_command", |b| {
        b.iter(|| {
            for line in &lines {
                let _ = black_box(oneonone::domain::grammar::parse(black_box(line)));
            }
        })
    });

    let reply = agenda(30, 10);
    c.bench_function("render_agenda_block_kit", |b| {
        // What the handler does: render, then serialise straight to the body.
        // The handler gives its reply up to the renderer: the copy is made
        // outside the timing.
        b.iter_batched(
            || reply.clone(),
            |reply| black_box(oneonone::slack::render::CommandResponse::new(black_box(reply)).to_json()),
            criterion::BatchSize::SmallInput,
        )
    });
    let ctx = oneonone::teams::cards::CardContext {
        partner_name: Some("Sam Rivera".into()),
    };
    c.bench_function("render_agenda_adaptive_card", |b| {
        b.iter(|| black_box(oneonone::teams::cards::card(black_box(&reply), &ctx)))
    });

    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let time = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
    let anchor = NaiveDate::from_ymd_opt(2026, 1, 6).unwrap();
    let after = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
    let cadences = [
        (
            "weekly",
            Cadence::Weekly {
                interval: 2,
                weekday: Weekday::Tue,
            },
        ),
        (
            "monthly",
            Cadence::Monthly {
                week: MonthWeek::Last,
                weekday: Weekday::Fri,
            },
        ),
        ("cron", Cadence::Cron("0 0 10 * * Mon,Thu".into())),
    ];
    for (name, cadence) in &cadences {
        c.bench_function(&format!("next_occurrence_{name}"), |b| {
            b.iter(|| {
                oneonone::domain::schedule::next_occurrence(black_box(cadence), time, tz, anchor, black_box(after))
            })
        });
    }
}

criterion_group!(micro, benches);
criterion_main!(micro);
