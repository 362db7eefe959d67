//! The scheduler through its real path: `run_once` (what `oneonone tick`
//! runs) against the store and the fake Slack, with time driven by hand.

use crate::both_engines;
use crate::support::*;
use chrono::{TimeZone, Utc};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn dms_to(app: &TestApp, user: &str) -> Vec<serde_json::Value> {
    app.slack
        .calls_to("chat.postMessage")
        .into_iter()
        // The scheduler posts to the user id; commands' notices to the opened DM.
        .filter(|c| c.body["channel"] == user || c.body["channel"] == format!("D{user}"))
        .map(|c| c.body)
        .collect()
}

both_engines!(the_agenda_reaches_both_a_day_before_in_working_hours_once, |app| {
    // Maria (Berlin) and Rahul (Kolkata); 1:1 on Tuesdays 10:00 Berlin = 09:00 UTC.
    app.with_pair().await;
    app.ok(REPORT, "add Conference budget").await;
    let before = dms_to(app, REPORT).len();
    // Sunday: too early for the agenda.
    let (planned, worked) = app.tick(at(2026, 11, 29, 8, 0)).await;
    assert_eq!(worked.sent, 0, "{planned:?}");
    // Monday 09:00 UTC = 24 h before: both are inside working hours (10:00 Berlin, 14:30 Kolkata).
    let (_, worked) = app.tick(at(2026, 11, 30, 9, 0)).await;
    assert_eq!(worked.sent, 2);
    let to_report = dms_to(app, REPORT);
    assert_eq!(to_report.len(), before + 1);
    assert!(to_report.last().unwrap().to_string().contains("Conference budget"));
    assert_eq!(dms_to(app, MANAGER).len(), 1);
    // Every later pass sends nothing new.
    for minutes in [1, 2, 30, 120] {
        let (_, worked) = app
            .tick(at(2026, 11, 30, 9, 0) + chrono::Duration::minutes(minutes))
            .await;
        assert_eq!(worked.sent, 0);
    }
    // The posted agenda is live: a change updates it in place.
    app.ok(MANAGER, "add hiring plan").await;
    app.slack
        .wait_for_match("chat.update", |u| u.body.to_string().contains("hiring plan"))
        .await;
});

both_engines!(
    nothing_goes_out_of_working_hours_it_waits_for_the_next_allowed_moment,
    |app| {
        app.with_pair().await;
        // Rahul works 09:00–18:00 Kolkata (03:30–12:30 UTC). Make the lead time put
        // the agenda at 20:00 UTC Monday, the middle of his night.
        app.ok(REPORT, "settings hours 09:00-18:00").await;
        let ws = app
            .db
            .workspace_by_external(oneonone::domain::model::Platform::Slack, TEAM)
            .await
            .unwrap()
            .unwrap();
        let m = app.db.person_by_external(ws.id, MANAGER).await.unwrap().unwrap();
        let mut s = app.db.series_for_person(ws.id, m.id, false).await.unwrap().remove(0);
        s.lead_minutes = 13 * 60; // 09:00 UTC Tuesday - 13 h = 20:00 UTC Monday
        app.db.update_series(&s).await.unwrap();
        app.tick(at(2026, 11, 30, 20, 0)).await;
        assert!(
            dms_to(app, REPORT)
                .iter()
                .all(|b| !b.to_string().contains("Talking points") && !b.to_string().contains("No talking points"))
        );
        // 03:30 UTC Tuesday is 09:00 in Kolkata: now it goes.
        let (_, worked) = app.tick(at(2026, 12, 1, 3, 30)).await;
        assert!(worked.sent >= 1);
        assert!(
            dms_to(app, REPORT)
                .last()
                .unwrap()
                .to_string()
                .contains("1:1 with maria")
        );
    }
);

both_engines!(a_follow_up_asks_if_an_unmarked_meeting_happened, |app| {
    app.with_pair().await;
    app.tick(at(2026, 11, 30, 9, 0)).await; // agendas
    // The meeting ends 09:30 UTC; an hour later both are asked.
    let (_, worked) = app.tick(at(2026, 12, 1, 10, 30)).await;
    assert_eq!(worked.sent, 2, "{worked:?}");
    let last = dms_to(app, MANAGER).pop().unwrap().to_string();
    assert!(
        last.contains("happen?") && last.contains("meeting_held") && last.contains("meeting_skip"),
        "{last}"
    );
    // Once marked held, nothing more about it.
    app.ok(MANAGER, "held").await;
    let (_, worked) = app.tick(at(2026, 12, 1, 12, 0)).await;
    assert_eq!(worked.sent, 0);
});

both_engines!(
    an_agenda_whose_meeting_passed_during_downtime_is_dropped_not_sent,
    |app| {
        app.with_pair().await;
        // Planned on Monday, but the service was down until Wednesday.
        let (planned, _) = {
            app.clock.set(at(2026, 11, 29, 8, 0));
            let planned = oneonone::scheduler::pass::plan(&app.db, at(2026, 11, 30, 8, 0))
                .await
                .unwrap();
            (planned, ())
        };
        assert!(planned.agendas >= 2);
        let before = app.slack.calls_to("chat.postMessage").len();
        let (_, worked) = app.tick(at(2026, 12, 2, 10, 0)).await;
        assert!(worked.dropped >= 2, "{worked:?}");
        let agendas: Vec<_> = app.slack.calls_to("chat.postMessage")[before..]
            .iter()
            .filter(|c| c.body.to_string().contains("open_add_point") && c.body.to_string().contains("Tue 1 Dec"))
            .cloned()
            .collect();
        assert!(agendas.is_empty(), "no agenda for a meeting that already passed");
    }
);

both_engines!(a_rate_limited_send_is_retried_after_retry_after_and_sent_once, |app| {
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await; // the set-up notice, before the 429 is armed
    app.slack.fail_next(
        "chat.postMessage",
        429,
        serde_json::json!({"ok": false, "error": "ratelimited"}),
        Some(30),
    );
    let t0 = at(2026, 11, 30, 9, 0);
    let (_, worked) = app.tick(t0).await;
    // The 429 pauses the workspace: the other agenda waits instead of meeting another 429.
    assert_eq!((worked.sent, worked.retried, worked.postponed), (0, 1, 1), "{worked:?}");
    // Not before Retry-After…
    let (_, worked) = app.tick(t0 + chrono::Duration::seconds(10)).await;
    assert_eq!(worked.sent, 0);
    // …then both, once.
    let (_, worked) = app.tick(t0 + chrono::Duration::minutes(5)).await;
    assert_eq!(worked.sent, 2);
    let (_, worked) = app.tick(t0 + chrono::Duration::minutes(10)).await;
    assert_eq!(worked.sent, 0);
    // Three agenda calls reached Slack: one refused with 429, then one accepted for each person.
    let agendas = app
        .slack
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.body.to_string().contains("open_add_point"))
        .count();
    assert_eq!(agendas, 3);
});

both_engines!(a_permanent_slack_error_is_kept_as_failed_not_retried, |app| {
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await; // the set-up notice, before the failure is armed
    app.slack.fail_next(
        "chat.postMessage",
        200,
        serde_json::json!({"ok": false, "error": "user_not_found"}),
        None,
    );
    let (_, worked) = app.tick(at(2026, 11, 30, 9, 0)).await;
    assert_eq!((worked.sent, worked.failed), (1, 1), "{worked:?}");
    let (_, worked) = app.tick(at(2026, 11, 30, 12, 0)).await;
    assert_eq!(worked.sent + worked.failed, 0);
});

#[tokio::test]
async fn two_concurrent_passes_on_postgresql_send_each_notification_once() {
    let Some(app) = TestApp::spawn(Engine::Postgres).await else {
        return;
    };
    app.with_pair().await;
    app.ok(
        MANAGER,
        "setup <@U0REPORT02> weekly on tuesday at 10:00 tz Europe/Berlin",
    )
    .await;
    let now = at(2026, 11, 30, 14, 0);
    app.clock.set(now);
    let (a, b) = (app.sender(), app.sender());
    let (ra, rb) = tokio::join!(
        oneonone::scheduler::runner::run_once(&app.db, now, &a),
        oneonone::scheduler::runner::run_once(&app.db, now, &b)
    );
    let (ra, rb) = (ra.unwrap().1, rb.unwrap().1);
    assert_eq!(ra.sent + rb.sent, 4, "{ra:?} {rb:?}");
    let agendas = app
        .slack
        .calls_to("chat.postMessage")
        .into_iter()
        .filter(|c| c.body.to_string().contains("open_add_point"))
        .count();
    assert_eq!(agendas, 4);
}

both_engines!(a_manager_is_nudged_once_when_no_1_1_was_held_for_two_weeks, |app| {
    app.with_pair().await;
    // Tuesday 15 December, 10:00 UTC: 15 days since the 1:1 was set up, none held.
    let (planned, _) = app.tick(at(2026, 12, 15, 10, 0)).await;
    assert!(planned.nudges >= 1, "{planned:?}");
    let nudges: Vec<_> = dms_to(app, MANAGER)
        .into_iter()
        .filter(|b| b.to_string().contains("without a 1:1"))
        .collect();
    assert_eq!(nudges.len(), 1);
    assert!(nudges[0].to_string().contains("open_extra"), "a button to schedule one");
    assert!(
        !dms_to(app, REPORT)
            .iter()
            .any(|b| b.to_string().contains("without a 1:1")),
        "only the manager"
    );
    app.tick(at(2026, 12, 15, 11, 0)).await;
    assert_eq!(
        dms_to(app, MANAGER)
            .iter()
            .filter(|b| b.to_string().contains("without a 1:1"))
            .count(),
        1
    );
});

both_engines!(two_skips_in_a_row_nudge_the_manager, |app| {
    app.with_pair().await;
    app.ok(REPORT, "skip busy").await;
    app.ok(REPORT, "skip still busy").await;
    app.tick(at(2026, 12, 2, 10, 0)).await;
    let nudges: Vec<_> = dms_to(app, MANAGER)
        .into_iter()
        .filter(|b| b.to_string().contains("were skipped"))
        .collect();
    assert_eq!(nudges.len(), 1, "{:?}", dms_to(app, MANAGER));
});

both_engines!(
    overdue_action_items_come_as_one_digest_a_day_at_the_start_of_working_hours,
    |app| {
        app.with_pair().await;
        app.ok(MANAGER, "action Send the figures due 2026-12-01").await;
        // Wednesday 2 December, 03:30 UTC = 09:00 in Kolkata: Rahul's day starts.
        app.tick(at(2026, 12, 2, 3, 30)).await;
        let digests: Vec<_> = dms_to(app, REPORT)
            .into_iter()
            .filter(|b| b.to_string().contains("overdue action item"))
            .collect();
        assert_eq!(digests.len(), 1);
        assert!(digests[0].to_string().contains("Send the figures") && digests[0].to_string().contains("ai_complete"));
        app.tick(at(2026, 12, 2, 8, 0)).await;
        assert_eq!(
            dms_to(app, REPORT)
                .iter()
                .filter(|b| b.to_string().contains("overdue action item"))
                .count(),
            1,
            "once a day"
        );
        // Done: no digest the next day.
        app.ok(REPORT, "complete 1").await;
        app.tick(at(2026, 12, 3, 3, 30)).await;
        assert_eq!(
            dms_to(app, REPORT)
                .iter()
                .filter(|b| b.to_string().contains("overdue action item"))
                .count(),
            1
        );
    }
);

both_engines!(a_point_that_rolled_over_three_times_is_raised_with_its_author, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add the thing we never get to").await;
    for _ in 0..3 {
        app.ok(MANAGER, "skip").await;
    }
    app.tick(at(2026, 12, 1, 4, 0)).await;
    let stuck: Vec<_> = dms_to(app, REPORT)
        .into_iter()
        .filter(|b| b.to_string().contains("3 times"))
        .collect();
    assert_eq!(stuck.len(), 1, "{:?}", dms_to(app, REPORT));
    let tp = crate::value_of(&stuck[0]["blocks"], "tp_drop").expect("a drop button");
    crate::click(app, REPORT, crate::button("tp_drop", &tp), crate::ephemeral(), "drop").await;
    app.slack.wait_for("response_url", 1).await;
    assert!(!app.ok(REPORT, "agenda").await.contains("the thing we never get to"));
});

both_engines!(away_people_and_paused_1_1s_get_no_agenda, |app| {
    app.with_pair().await;
    app.ok(REPORT, "away until 2026-12-02").await;
    app.tick(at(2026, 12, 7, 9, 0)).await; // the agenda of Tue 8 Dec: Rahul is back by then
    assert!(
        dms_to(app, REPORT)
            .iter()
            .any(|b| b.to_string().contains("Tue 8 Dec 2026"))
    );
    app.ok(MANAGER, "pause").await;
    let before = app.slack.calls_to("chat.postMessage").len();
    app.tick(at(2026, 12, 14, 9, 0)).await;
    let agendas = app.slack.calls_to("chat.postMessage")[before..]
        .iter()
        .filter(|c| c.body.to_string().contains("open_add_point"))
        .count();
    assert_eq!(agendas, 0, "a paused 1:1 gets no agenda");
});

both_engines!(
    a_1_1_set_up_inside_someones_time_away_is_skipped_and_the_partner_told_once,
    |app| {
        // Rahul is away first; the 1:1 is set up afterwards, its first meeting
        // (Tue 1 Dec) inside his time away.
        app.ok(REPORT, "away until 2026-12-02").await;
        app.with_pair().await;
        let t = at(2026, 11, 30, 9, 0);
        app.tick(t).await;
        app.tick(t + chrono::Duration::minutes(1)).await;
        app.tick(t + chrono::Duration::minutes(2)).await;
        let told: Vec<_> = dms_to(app, MANAGER)
            .into_iter()
            .filter(|b| b.to_string().contains("is away until"))
            .collect();
        assert_eq!(told.len(), 1, "told once: {told:?}");
        assert!(told[0].to_string().contains("Tue 1 Dec 2026"), "{}", told[0]);
        assert!(
            !dms_to(app, REPORT)
                .iter()
                .any(|b| b.to_string().contains("open_add_point")),
            "nothing reaches Rahul while he is away"
        );
        let history = app.ok(MANAGER, "history").await;
        assert!(history.contains("away"), "{history}");
        // The next meeting's agenda comes as usual, to both.
        app.tick(at(2026, 12, 7, 9, 0)).await;
        assert!(
            dms_to(app, REPORT)
                .iter()
                .any(|b| b.to_string().contains("Tue 8 Dec 2026"))
        );
        assert!(
            dms_to(app, MANAGER)
                .iter()
                .any(|b| b.to_string().contains("Tue 8 Dec 2026"))
        );
    }
);

both_engines!(a_slack_outage_is_retried_and_the_agenda_still_arrives_once, |app| {
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await;
    app.slack.fail_next(
        "chat.postMessage",
        503,
        serde_json::json!({"ok": false, "error": "service_unavailable"}),
        None,
    );
    let t0 = at(2026, 11, 30, 9, 0);
    let (_, worked) = app.tick(t0).await;
    assert_eq!((worked.sent, worked.retried), (1, 1), "{worked:?}");
    let (_, worked) = app.tick(t0 + chrono::Duration::minutes(2)).await;
    assert_eq!(worked.sent, 1, "{worked:?}");
    let (_, worked) = app.tick(t0 + chrono::Duration::hours(1)).await;
    assert_eq!(worked.sent, 0);
});

#[tokio::test]
async fn serve_runs_the_scheduler_in_process_on_its_tick() {
    let app = TestApp::spawn_with(Engine::Sqlite, Some("* * * * * *")).await.unwrap();
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await; // the set-up notice
    // Monday 09:00 UTC: the agendas of Tuesday's 1:1 are due.
    app.clock.set(at(2026, 11, 30, 9, 0));
    let posts = app.slack.wait_for("chat.postMessage", 3).await;
    assert!(
        posts
            .iter()
            .filter(|c| c.body.to_string().contains("open_add_point"))
            .count()
            >= 2
    );
}

both_engines!(
    a_tokyo_report_of_a_los_angeles_manager_gets_the_agenda_in_tokyo_hours,
    |app| {
        app.slack
            .add_user("U0LAMANAGR", "lee", "America/Los_Angeles", "lee@example.com");
        app.slack
            .add_user("U0TOKYOREP", "aiko", "Asia/Tokyo", "aiko@example.com");
        app.ok(
            "U0LAMANAGR",
            "setup <@U0TOKYOREP> weekly on tuesday at 9am tz America/Los_Angeles",
        )
        .await;
        // Tue 1 Dec 09:00 in Los Angeles = 17:00 UTC = Wed 02:00 in Tokyo.
        // Lee's agenda: Mon 09:00 LA = 17:00 UTC, inside his hours.
        app.tick(at(2026, 11, 30, 17, 0)).await;
        assert_eq!(
            dms_to(app, "U0LAMANAGR")
                .iter()
                .filter(|b| b.to_string().contains("open_add_point"))
                .count(),
            1
        );
        // Aiko's would be Tue 02:00 Tokyo: it waits for her 09:00 (Tue 00:00 UTC), still before the meeting.
        assert_eq!(
            dms_to(app, "U0TOKYOREP")
                .iter()
                .filter(|b| b.to_string().contains("open_add_point"))
                .count(),
            0
        );
        app.tick(at(2026, 11, 30, 23, 59)).await;
        assert_eq!(
            dms_to(app, "U0TOKYOREP")
                .iter()
                .filter(|b| b.to_string().contains("open_add_point"))
                .count(),
            0
        );
        app.tick(at(2026, 12, 1, 0, 0)).await;
        let agenda: Vec<_> = dms_to(app, "U0TOKYOREP")
            .into_iter()
            .filter(|b| b.to_string().contains("open_add_point"))
            .collect();
        assert_eq!(agenda.len(), 1);
        assert!(
            agenda[0].to_string().contains("Wed 2 Dec 2026, 02:00 JST"),
            "shown in her zone: {}",
            agenda[0]
        );
    }
);

both_engines!(across_the_spring_change_the_agenda_follows_local_time, |app| {
    // Set up the week before Europe's change to summer time (Sunday 28 March 2027).
    app.clock.set(at(2027, 3, 22, 8, 0));
    app.ok(
        MANAGER,
        "setup <@U0REPORT01> weekly on tuesday at 10:00 tz Europe/Berlin",
    )
    .await;
    app.slack.wait_for("chat.postMessage", 1).await;
    // Tue 23 Mar 10:00 CET = 09:00 UTC; Tue 30 Mar 10:00 CEST = 08:00 UTC.
    app.ok(MANAGER, "skip").await; // the 23rd
    app.slack.wait_for("chat.postMessage", 2).await; // Rahul is told about the skip
    let before = app.slack.calls_to("chat.postMessage").len();
    app.tick(at(2027, 3, 29, 7, 59)).await;
    assert_eq!(
        app.slack.calls_to("chat.postMessage").len(),
        before,
        "not a minute early"
    );
    app.tick(at(2027, 3, 29, 8, 0)).await;
    let agenda: Vec<_> = dms_to(app, MANAGER)
        .into_iter()
        .filter(|b| b.to_string().contains("open_add_point"))
        .collect();
    assert_eq!(agenda.len(), 1);
    assert!(
        agenda[0].to_string().contains("Tue 30 Mar 2027, 10:00 CEST"),
        "{}",
        agenda[0]
    );
});

#[tokio::test]
async fn two_replicas_on_postgresql_deliver_a_thousand_notifications_exactly_once() {
    use oneonone::domain::model::Platform;
    let Some(app) = TestApp::spawn(Engine::Postgres).await else {
        return;
    };
    let db = &app.db;
    let ws = db.ensure_workspace(Platform::Slack, TEAM, "example").await.unwrap();
    let t0 = at(2026, 11, 30, 8, 0);
    // 500 1:1s on Tuesdays at 10:00 Berlin: 1,000 agendas due on Monday at 09:00 UTC.
    oneonone::store::testing::weekly_pairs(db, ws.id, 500, chrono::Weekday::Tue, t0)
        .await
        .unwrap();
    // Two replicas, each with its own clock and pacer (as two processes
    // would have), run passes a minute apart until the burst has drained.
    let (a, b) = (app.sender(), app.sender());
    let (clock_a, clock_b) = (
        oneonone::clock::Clock::frozen(at(2026, 11, 30, 9, 0)),
        oneonone::clock::Clock::frozen(at(2026, 11, 30, 9, 0)),
    );
    let mut pacer_a = oneonone::scheduler::pace::Pacer::new();
    let mut pacer_b = oneonone::scheduler::pace::Pacer::new();
    let (mut sent_a, mut sent_b) = (0, 0);
    for minute in 0..30 {
        let tick = at(2026, 11, 30, 9, 0) + chrono::Duration::minutes(minute);
        clock_a.set(tick.max(clock_a.now()));
        clock_b.set(tick.max(clock_b.now()));
        let (ra, rb) = tokio::join!(
            oneonone::scheduler::runner::run_pass(&app.db, &clock_a, &a, &mut pacer_a),
            oneonone::scheduler::runner::run_pass(&app.db, &clock_b, &b, &mut pacer_b)
        );
        let (ra, rb) = (ra.unwrap().1, rb.unwrap().1);
        sent_a += ra.sent;
        sent_b += rb.sent;
        if ra.sent + rb.sent == 0 && sent_a + sent_b > 0 {
            break;
        }
    }
    assert_eq!(sent_a + sent_b, 1000, "{sent_a} + {sent_b}");
    assert!(sent_a > 0 && sent_b > 0, "both replicas took part: {sent_a} + {sent_b}");
    let now = clock_a.now().max(clock_b.now());
    let mut channels: Vec<String> = app
        .slack
        .calls_to("chat.postMessage")
        .into_iter()
        .map(|c| c.body["channel"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(channels.len(), 1000);
    channels.sort();
    channels.dedup();
    assert_eq!(channels.len(), 1000, "every person exactly once");
    // A third pass finds nothing left.
    let (_, rc) = oneonone::scheduler::runner::run_once(&app.db, now, &a).await.unwrap();
    assert_eq!(rc.sent, 0);
}

#[tokio::test]
async fn a_429_pauses_the_workspace_instead_of_meeting_a_storm_of_them() {
    use oneonone::domain::model::Platform;
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let db = &app.db;
    let ws = db.ensure_workspace(Platform::Slack, TEAM, "example").await.unwrap();
    let t0 = at(2026, 11, 30, 8, 0);
    oneonone::store::testing::weekly_pairs(db, ws.id, 10, chrono::Weekday::Tue, t0)
        .await
        .unwrap();
    app.slack.fail_next(
        "chat.postMessage",
        429,
        serde_json::json!({"ok": false, "error": "ratelimited"}),
        Some(30),
    );
    let now = at(2026, 11, 30, 9, 0);
    let (_, worked) = app.tick(now).await;
    assert_eq!(
        (worked.sent, worked.retried, worked.postponed),
        (0, 1, 19),
        "{worked:?}"
    );
    assert_eq!(app.slack.calls_to("chat.postMessage").len(), 1, "one 429, not twenty");
    let (_, worked) = app.tick(now + chrono::Duration::seconds(31)).await;
    assert_eq!(worked.sent, 20, "{worked:?}");
}

both_engines!(
    a_pass_looks_only_at_1_1s_whose_time_has_come_and_changes_bring_them_back,
    |app| {
        app.with_pair().await;
        let now = at(2026, 11, 30, 8, 0);
        app.tick(now).await;
        // Planned: not looked at again before its next event (the agenda horizon, a follow-up, or a day).
        assert!(
            app.db
                .series_due_for_planning(now + chrono::Duration::minutes(30), 100)
                .await
                .unwrap()
                .is_empty()
        );
        // Any change to the 1:1 brings it back on the next pass.
        app.ok(REPORT, "add a new topic").await;
        assert_eq!(
            app.db
                .series_due_for_planning(now + chrono::Duration::minutes(30), 100)
                .await
                .unwrap()
                .len(),
            1
        );
        // And time alone does too, at the latest a day later.
        let later = now + chrono::Duration::minutes(30);
        app.tick(later).await;
        assert!(
            app.db
                .series_due_for_planning(later + chrono::Duration::hours(23), 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            app.db
                .series_due_for_planning(later + chrono::Duration::days(1), 100)
                .await
                .unwrap()
                .len(),
            1
        );
    }
);

#[tokio::test]
async fn a_burst_of_5000_agendas_drains_at_slacks_pace_without_a_429_or_starving_another_workspace() {
    use oneonone::domain::model::Platform;
    use oneonone::scheduler::pace::Pacer;
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let db = &app.db;
    let t0 = at(2026, 11, 30, 8, 0);
    // 2,500 1:1s in one workspace (5,000 agendas due Monday 09:00 UTC) and
    // three in another, created after them.
    let big = db.ensure_workspace(Platform::Slack, TEAM, "big").await.unwrap();
    oneonone::store::testing::weekly_pairs(db, big.id, 2500, chrono::Weekday::Tue, t0)
        .await
        .unwrap();
    let small = db
        .ensure_workspace(Platform::Slack, "T0SMALL01", "small")
        .await
        .unwrap();
    oneonone::store::testing::weekly_pairs(db, small.id, 3, chrono::Weekday::Tue, t0)
        .await
        .unwrap();
    // The fake now answers like Slack: 429 beyond its per-channel and
    // per-workspace rates, on the app's clock.
    app.slack.enforce_rate_limits(app.clock.clone());
    let sender = app.sender();
    let mut pacer = Pacer::new();
    let start = at(2026, 11, 30, 9, 0);
    app.clock.set(start);
    let mut passes = 0;
    let mut first_pass_sent = 0;
    let mut sent = 0;
    loop {
        let (_, worked) = oneonone::scheduler::runner::run_pass(db, &app.clock, &sender, &mut pacer)
            .await
            .unwrap();
        passes += 1;
        if passes == 1 {
            first_pass_sent = worked.sent;
        }
        sent += worked.sent;
        assert_eq!((worked.failed, worked.retried), (0, 0), "pass {passes}: {worked:?}");
        if sent >= 5006 || passes > 60 {
            break;
        }
        // The next tick: the start of the next minute.
        let now = app.clock.now();
        app.clock
            .set(now + chrono::Duration::seconds(60 - i64::from(chrono::Timelike::second(&now))));
    }
    let elapsed = app.clock.now() - start;
    assert_eq!(sent, 5006, "after {passes} passes");
    assert_eq!(app.slack.rate_limited(), 0, "no 429 at all");
    let posts = app.slack.calls_to("chat.postMessage");
    assert_eq!(posts.len(), 5006, "each agenda posted once");
    let mut to: Vec<&str> = posts.iter().map(|c| c.body["channel"].as_str().unwrap()).collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), 5006, "each person exactly once");
    // The small workspace was served in the first pass, not after the burst.
    assert!(first_pass_sent > 6, "{first_pass_sent}");
    let small_prefixes = [format!("UM{}X", small.id.0), format!("UR{}X", small.id.0)];
    let small_positions: Vec<usize> = posts
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let to = c.body["channel"].as_str().unwrap();
            small_prefixes.iter().any(|p| to.starts_with(p.as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(small_positions.len(), 6);
    assert!(
        small_positions.iter().all(|i| *i < 60),
        "the small workspace's agendas went out among the first, not behind the burst: {small_positions:?}"
    );
    // At Slack's pace (4 a second after a burst of 10), 50 seconds of each
    // minute's pass: about 25 minutes.
    assert!(
        elapsed >= chrono::Duration::minutes(20) && elapsed <= chrono::Duration::minutes(27),
        "drained in {elapsed}"
    );
}

/// `oneonone tick` is killed (SIGKILL) after it has claimed the due agendas
/// and while its first send hangs: nobody sends them while its lease holds,
/// and once the lease has expired the next pass delivers every one, once.
async fn a_tick_killed_between_claim_and_send_loses_nothing_and_doubles_nothing(db: oneonone::store::Db, url: String) {
    use oneonone::domain::model::Platform;
    let slack = crate::support::fake_slack::FakeSlack::start().await;
    let ws = db.ensure_workspace(Platform::Slack, TEAM, "example").await.unwrap();
    let t0 = at(2026, 11, 30, 8, 0);
    oneonone::store::testing::weekly_pairs(&db, ws.id, 10, chrono::Weekday::Tue, t0)
        .await
        .unwrap();
    slack.stall("chat.postMessage");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oneonone"))
        .args(["tick", "--now", "2026-11-30T09:00:00Z"])
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", "xoxb-test-token")
        .env("SLACK_API_URL", &slack.base_url)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start oneonone tick");
    // The process has claimed its batch and is inside its first send.
    slack
        .wait_for_within("chat.postMessage", 1, std::time::Duration::from_secs(30))
        .await;
    child.kill().expect("kill the tick");
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished: {status}");
    slack.unstall("chat.postMessage");
    let hung = slack.calls_to("chat.postMessage").len();
    assert_eq!(hung, 1, "it died inside its first send");

    let sender = oneonone::slack::sender::SlackSender {
        slack: oneonone::slack::SlackState::new(
            &oneonone::config::SlackConfig {
                signing_secret: secrecy::SecretString::from(SECRET.to_string()),
                bot_token: Some(secrecy::SecretString::from("xoxb-test-token".to_string())),
                api_url: slack.base_url.clone(),
                oauth: None,
            },
            db.clone(),
            oneonone::clock::Clock::frozen(t0),
        )
        .unwrap(),
    };
    // Within the dead worker's lease nobody else may send its rows.
    let (_, worked) = oneonone::scheduler::runner::run_once(&db, at(2026, 11, 30, 9, 1), &sender)
        .await
        .unwrap();
    assert_eq!(worked.sent, 0, "{worked:?}");
    // After it: every agenda, once.
    let after = at(2026, 11, 30, 9, 0) + oneonone::scheduler::worker::LEASE + chrono::Duration::seconds(30);
    let (_, worked) = oneonone::scheduler::runner::run_once(&db, after, &sender)
        .await
        .unwrap();
    assert_eq!(worked.sent, 20, "{worked:?}");
    let mut to: Vec<String> = slack.calls_to("chat.postMessage")[hung..]
        .iter()
        .map(|c| c.body["channel"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(to.len(), 20);
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 20, "each person once");
    let (_, worked) = oneonone::scheduler::runner::run_once(&db, after + chrono::Duration::minutes(5), &sender)
        .await
        .unwrap();
    assert_eq!(worked.sent, 0);
}

#[tokio::test]
async fn a_killed_tick_on_sqlite_loses_and_doubles_nothing() {
    let (db, url) = oneonone::store::testing::fresh_sqlite_with_url().await;
    a_tick_killed_between_claim_and_send_loses_nothing_and_doubles_nothing(db, url).await;
}

#[tokio::test]
async fn a_killed_tick_on_postgresql_loses_and_doubles_nothing() {
    let Some((db, url)) = oneonone::store::testing::fresh_postgres_with_url().await else {
        return;
    };
    a_tick_killed_between_claim_and_send_loses_nothing_and_doubles_nothing(db, url).await;
}

/// Shutdown in the middle of a pass: the server stops, the scheduler finishes
/// the send in hand and hands its other claims back (nothing stays claimed
/// until a lease expires), and the next pass sends the rest — each agenda
/// exactly once.
async fn shutdown_mid_pass_releases_claims_and_nothing_is_lost_or_doubled(engine: Engine) {
    use oneonone::domain::model::{DeliveryState, Platform};
    let (db, url) = match engine {
        Engine::Sqlite => oneonone::store::testing::fresh_sqlite_with_url().await,
        Engine::Postgres => match oneonone::store::testing::fresh_postgres_with_url().await {
            Some(x) => x,
            None => return,
        },
    };
    let ws = db.ensure_workspace(Platform::Slack, TEAM, "example").await.unwrap();
    oneonone::store::testing::weekly_pairs(&db, ws.id, 10, chrono::Weekday::Tue, at(2026, 11, 30, 8, 0))
        .await
        .unwrap();
    let slack = crate::support::fake_slack::FakeSlack::start().await;
    slack.delay("chat.postMessage", std::time::Duration::from_millis(150));
    let slack_config = oneonone::config::SlackConfig {
        signing_secret: secrecy::SecretString::from(SECRET.to_string()),
        bot_token: Some(secrecy::SecretString::from("xoxb-test-token".to_string())),
        api_url: slack.base_url.clone(),
        oauth: None,
    };
    let config = oneonone::config::Config {
        database_url: url.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        slack: Some(slack_config.clone()),
        teams: None,
        log_format: oneonone::config::LogFormat::Text,
        tick: Some("* * * * * *".parse().unwrap()),
    };
    let clock = oneonone::clock::Clock::frozen(at(2026, 11, 30, 9, 0));
    let app = oneonone::app::App::with_db(config, db.clone(), clock.clone())
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop_rx.await;
    }));
    // The pass is under way (a send or two done, one in hand).
    slack.wait_for("chat.postMessage", 2).await;
    stop_tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("shut down within the grace period")
        .unwrap()
        .unwrap();
    let sent_before = slack.calls_to("chat.postMessage").len();
    assert!(sent_before < 20, "stopped mid-pass: {sent_before}");
    // Nothing is left claimed: what was not sent is pending again.
    let db = oneonone::store::Db::connect(&url).await.unwrap();
    let counts = db.delivery_counts().await.unwrap();
    assert!(
        counts.iter().all(|(_, state, _)| *state != DeliveryState::Sending),
        "{counts:?}"
    );
    // The next pass (another replica, or after the restart) sends the rest at once.
    let sender = oneonone::slack::sender::SlackSender {
        slack: oneonone::slack::SlackState::new(&slack_config, db.clone(), clock.clone()).unwrap(),
    };
    let (_, worked) = oneonone::scheduler::runner::run_once(&db, at(2026, 11, 30, 9, 0), &sender)
        .await
        .unwrap();
    assert_eq!(worked.sent as usize, 20 - sent_before, "{worked:?}");
    let mut to: Vec<String> = slack
        .calls_to("chat.postMessage")
        .iter()
        .map(|c| c.body["channel"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(to.len(), 20);
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 20, "each agenda exactly once");
}

#[tokio::test]
async fn shutdown_mid_pass_on_sqlite() {
    shutdown_mid_pass_releases_claims_and_nothing_is_lost_or_doubled(Engine::Sqlite).await;
}

#[tokio::test]
async fn shutdown_mid_pass_on_postgresql() {
    shutdown_mid_pass_releases_claims_and_nothing_is_lost_or_doubled(Engine::Postgres).await;
}

/// `oneonone serve` under load gets SIGTERM: it stops accepting, answers what
/// it accepted, and exits 0; every command it answered is stored, once.
#[tokio::test]
async fn sigterm_under_load_answers_what_it_accepted_and_loses_nothing() {
    let (db, url) = oneonone::store::testing::fresh_sqlite_with_url().await;
    let slack = crate::support::fake_slack::FakeSlack::start().await;
    slack.add_user(MANAGER, "maria", "Europe/Berlin", "maria@example.com");
    slack.add_user(REPORT, "rahul", "Asia/Kolkata", "rahul@example.com");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oneonone"))
        .args(["serve", "--no-scheduler"])
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("ONEONONE_LISTEN", format!("127.0.0.1:{port}"))
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", "xoxb-test-token")
        .env("SLACK_API_URL", &slack.base_url)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start oneonone serve");
    // Read the log as it comes (a full pipe would stall the server).
    let stderr = {
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut log = String::new();
            std::io::Read::read_to_string(&mut pipe, &mut log).unwrap();
            log
        })
    };
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let post = {
        let (http, base) = (http.clone(), base.clone());
        move |text: String| {
            let http = http.clone();
            let base = base.clone();
            async move {
                let body = TestApp::command_form(REPORT, &text);
                let ts = chrono::Utc::now().timestamp();
                http.post(format!("{base}/slack/commands"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-slack-request-timestamp", ts.to_string())
                    .header(
                        "x-slack-signature",
                        crate::support::slack_signing::sign(SECRET, ts, &body),
                    )
                    .body(body)
                    .send()
                    .await
            }
        }
    };
    // Up, and the 1:1 exists.
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "serve came up");
    let body = TestApp::command_form(MANAGER, &format!("setup <@{REPORT}|rahul> weekly on tuesday at 10:00"));
    let ts = chrono::Utc::now().timestamp();
    let res = http
        .post(format!("{base}/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts.to_string())
        .header(
            "x-slack-signature",
            crate::support::slack_signing::sign(SECRET, ts, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Load: commands in flight, then SIGTERM in the middle of it.
    let load = tokio::spawn({
        let post = post.clone();
        async move {
            let mut answered = Vec::new();
            for i in 0..400 {
                match post(format!("add load point {i}")).await {
                    Ok(r) if r.status() == 200 => answered.push(i),
                    Ok(r) => panic!("point {i} answered {}", r.status()),
                    Err(_) => break, // refused: the server stopped accepting
                }
            }
            answered
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(25),
            "exits within the grace period"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    // The work each answer left for afterwards (refreshing the agenda
    // message) finished before the pool closed: nothing was cut off.
    let log = stderr.join().unwrap();
    assert!(!log.contains("database error"), "{log}");
    assert!(!log.contains("grace period"), "{log}");
    let answered = load.await.unwrap();
    assert!(!answered.is_empty(), "some load was served before the signal");
    // Every answered command is stored, once; nothing else is.
    let ws = db
        .workspace_by_external(oneonone::domain::model::Platform::Slack, TEAM)
        .await
        .unwrap()
        .unwrap();
    let rahul = db.person_by_external(ws.id, REPORT).await.unwrap().unwrap();
    let series = db.series_for_person(ws.id, rahul.id, false).await.unwrap();
    let meeting = db.pending_meetings(series[0].id).await.unwrap()[0].clone();
    let mut stored: Vec<String> = db
        .talking_points(meeting.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    stored.sort();
    let mut expected: Vec<String> = answered.iter().map(|i| format!("load point {i}")).collect();
    expected.sort();
    assert_eq!(stored, expected);
}
