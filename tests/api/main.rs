//! API tests: signed Slack requests into the real router, a fake Slack Web API
//! out, on SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod manifest;
mod metrics;
mod oauth;
mod scheduler;
mod slack_client;
mod support;
mod teams;

use oneonone::domain::model::Platform;
use support::*;

async fn team(app: &TestApp) -> oneonone::domain::model::Workspace {
    app.db
        .workspace_by_external(Platform::Slack, TEAM)
        .await
        .unwrap()
        .expect("workspace exists")
}

async fn points_of_next(app: &TestApp) -> Vec<String> {
    let ws = team(app).await;
    let m = app.db.person_by_external(ws.id, MANAGER).await.unwrap().unwrap();
    let r = app.db.person_by_external(ws.id, REPORT).await.unwrap().unwrap();
    let s = app.db.series_between(ws.id, m.id, r.id).await.unwrap().unwrap();
    let pending = app.db.pending_meetings(s.id).await.unwrap();
    let mut out = Vec::new();
    for m in pending {
        for tp in app.db.talking_points(m.id).await.unwrap() {
            out.push(tp.text);
        }
    }
    out
}

// ---------------------------------------------------------------- verification

both_engines!(
    unsigned_and_badly_signed_requests_are_refused_and_change_nothing,
    |app| {
        let body = TestApp::command_form(MANAGER, "setup <@U0REPORT01> weekly on monday");
        let now = app.clock.now().timestamp();
        let good = support::slack_signing::sign(SECRET, now, &body);
        type Case<'a> = (&'a str, Option<(i64, String)>, String);
        let cases: Vec<Case> = vec![
            ("no headers", None, body.clone()),
            (
                "wrong secret",
                Some((now, support::slack_signing::sign("other", now, &body))),
                body.clone(),
            ),
            (
                "stale",
                Some((now - 301, support::slack_signing::sign(SECRET, now - 301, &body))),
                body.clone(),
            ),
            (
                "future",
                Some((now + 301, support::slack_signing::sign(SECRET, now + 301, &body))),
                body.clone(),
            ),
            ("tampered", Some((now, good.clone())), body.replace("monday", "friday")),
            ("garbage signature", Some((now, "v0=zz".to_string())), body.clone()),
        ];
        for (what, signed, b) in cases {
            let res = app
                .post_with("/slack/commands", "application/x-www-form-urlencoded", &b, signed)
                .await;
            assert_eq!(res.status().as_u16(), 401, "{what}");
        }
        assert!(
            app.db
                .workspace_by_external(Platform::Slack, TEAM)
                .await
                .unwrap()
                .is_none()
        );
        assert!(app.slack.calls().is_empty(), "no Slack call for a refused request");
    }
);

both_engines!(oversize_bodies_get_413_and_ssl_check_gets_200, |app| {
    let big = format!("text={}", "a".repeat((1 << 20) + 10));
    let res = app
        .post_signed("/slack/commands", "application/x-www-form-urlencoded", &big)
        .await;
    assert_eq!(res.status().as_u16(), 413);
    let probe = std::fs::read_to_string(fixture("slack/ssl_check.form")).unwrap();
    let res = app
        .post_with(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            probe.trim(),
            None,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        app.db
            .workspace_by_external(Platform::Slack, TEAM)
            .await
            .unwrap()
            .is_none()
    );
});

/// The payload fixtures, copied from the product's shared fixtures into
/// `tests/fixtures/` so the tests run from a lone checkout.
fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read_fixture(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

both_engines!(the_slash_command_fixture_is_verified_parsed_and_answered, |app| {
    app.with_pair().await;
    let body = read_fixture("slack/slash_command.form");
    let body = body.trim().replace("U0REPORT01", REPORT).replace("U0MANAGER1", MANAGER);
    let res = app
        .post_signed("/slack/commands", "application/x-www-form-urlencoded", &body)
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let json: serde_json::Value = res.json().await.unwrap();
    let text = json["text"].as_str().unwrap();
    assert!(text.contains("Conference budget for next quarter"), "{text}");
    assert_eq!(
        points_of_next(app).await,
        vec!["Conference budget for next quarter".to_string()]
    );
});

both_engines!(health_and_readiness_answer, |app| {
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "ready");
});

// ---------------------------------------------------------------- setup

both_engines!(setup_answers_with_the_next_three_dates_and_tells_the_report, |app| {
    let t = app
        .ok(
            MANAGER,
            "setup <@U0REPORT01|rahul> weekly on tuesday at 10:00 for 45m tz Europe/Berlin",
        )
        .await;
    assert!(t.contains("rahul") && t.contains("Tuesday"), "{t}");
    assert!(t.contains("Tue 1 Dec 2026, 10:00 CET"), "{t}");
    assert!(t.contains("Tue 8 Dec 2026") && t.contains("Tue 15 Dec 2026"), "{t}");
    let dms = app.slack.wait_for("chat.postMessage", 1).await;
    assert_eq!(dms[0].body["channel"], format!("D{REPORT}"));
    let open = app.slack.calls_to("conversations.open");
    assert!(open.iter().any(|c| c.body.to_string().contains(REPORT)));
    assert!(dms[0].body.to_string().contains("maria"));
});

both_engines!(setup_by_the_report_cannot_change_the_managers_cadence, |app| {
    app.with_pair().await;
    let t = app.ok(REPORT, "setup <@U0MANAGER1> monthly on the first friday").await;
    assert!(t.contains("only your manager"), "{t}");
    let t = app.ok(MANAGER, "agenda").await;
    assert!(t.contains("Tue 1 Dec 2026"), "cadence unchanged: {t}");
});

both_engines!(setup_with_a_bad_cadence_explains_the_usage_and_creates_nothing, |app| {
    let t = app.ok(MANAGER, "setup <@U0REPORT01> fortnightly-ish").await;
    assert!(t.to_lowercase().contains("setup"), "{t}");
    let ws = team(app).await;
    let m = app.db.person_by_external(ws.id, MANAGER).await.unwrap().unwrap();
    assert!(app.db.series_for_person(ws.id, m.id, true).await.unwrap().is_empty());
});

both_engines!(setup_with_an_unknown_or_self_person_is_refused, |app| {
    let t = app.ok(MANAGER, "setup <@U0NOBODY99> weekly on monday").await;
    assert!(t.contains("couldn't find"), "{t}");
    let t = app.ok(MANAGER, "setup <@U0MANAGER1> weekly on monday").await;
    assert!(t.contains("That's you"), "{t}");
});

both_engines!(setup_again_by_the_manager_updates_the_1_1, |app| {
    app.with_pair().await;
    let t = app
        .ok(
            MANAGER,
            "setup <@U0REPORT01> biweekly on thursday at 2:30pm tz Europe/Berlin",
        )
        .await;
    assert!(t.contains("Updated"), "{t}");
    let t = app.ok(MANAGER, "agenda").await;
    assert!(t.contains("Thu 3 Dec 2026, 14:30 CET"), "{t}");
});

// ---------------------------------------------------------------- add / agenda / comment

both_engines!(add_puts_a_point_on_the_next_agenda_with_its_category, |app| {
    app.with_pair().await;
    let t = app.ok(REPORT, "add #development Conference budget").await;
    assert!(t.contains("Conference budget") && t.contains("#development"), "{t}");
    let t = app.ok(MANAGER, "agenda").await;
    assert!(t.contains("1. Conference budget") && t.contains("rahul"), "{t}");
    assert_eq!(points_of_next(app).await, vec!["Conference budget"]);
});

both_engines!(a_third_person_cannot_add_to_or_read_a_pairs_1_1, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add secret topic").await;
    let t = app.ok(OTHER, "add <@U0REPORT01> sneaky").await;
    assert!(t.contains("don't have a 1:1"), "{t}");
    let t = app.ok(OTHER, "agenda <@U0MANAGER1>").await;
    assert!(t.contains("don't have a 1:1") && !t.contains("secret topic"), "{t}");
    let t = app.ok(OTHER, "agenda").await;
    assert!(!t.contains("secret topic"), "{t}");
    assert_eq!(points_of_next(app).await, vec!["secret topic"]);
});

both_engines!(add_with_bad_input_explains_and_changes_nothing, |app| {
    app.with_pair().await;
    for bad in ["add", "add #nonsense talk", &format!("add {}", "x".repeat(10_000))] {
        let t = app.ok(REPORT, bad).await;
        assert!(t.contains("Usage") || t.contains("add"), "{bad}: {t}");
    }
    assert!(points_of_next(app).await.is_empty());
});

both_engines!(user_text_is_escaped_and_can_never_ping_or_mention, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add <!channel> @here *bold* <@U0OTHER001> & done 🎉 中文")
        .await;
    let a = app.command(MANAGER, "agenda").await;
    let blocks = a.json["blocks"].to_string();
    // Slack parses mentions only in mrkdwn (and the fallback text); plain_text
    // (headers, buttons, select options) is shown literally and pings nobody.
    let mut mrkdwn = vec![a.json["text"].as_str().unwrap().to_string()];
    collect_mrkdwn(&a.json["blocks"], &mut mrkdwn);
    for t in &mrkdwn {
        assert!(
            !t.contains("<!channel>") && !t.contains("<@U0OTHER001>") && !t.contains("*bold*"),
            "{t}"
        );
    }
    assert!(mrkdwn.iter().any(|t| t.contains("&lt;!channel&gt;")), "{blocks}");
    assert!(blocks.contains("🎉") && blocks.contains("中文"));
});

both_engines!(comments_attach_to_a_numbered_point, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add first").await;
    app.ok(REPORT, "add second").await;
    let t = app.ok(MANAGER, "comment 2 great idea").await;
    assert!(t.contains("second") && t.contains("great idea"), "{t}");
    let t = app.ok(REPORT, "agenda").await;
    assert!(t.contains("↳ maria: great idea"), "{t}");
    let t = app.ok(MANAGER, "comment 7 nope").await;
    assert!(t.contains("no talking point 7"), "{t}");
    let t = app.ok(MANAGER, "comment x y").await;
    assert!(t.contains("Usage"), "{t}");
});

both_engines!(an_empty_agenda_invites_the_report_with_three_questions, |app| {
    app.with_pair().await;
    let t = app.ok(REPORT, "agenda").await;
    assert!(t.contains("No talking points yet"), "{t}");
    assert_eq!(t.matches("• ").count(), 3, "{t}");
});

// ---------------------------------------------------------------- actions

both_engines!(
    action_items_have_owners_due_dates_and_can_be_completed_by_participants_only,
    |app| {
        app.with_pair().await;
        let t = app.ok(MANAGER, "action Send the offer letter due 2026-12-04").await;
        assert!(t.contains("rahul") && t.contains("Fri 4 Dec 2026"), "{t}");
        let id: i64 = t
            .split('#')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let t = app.ok(REPORT, "actions").await;
        assert!(t.contains("Send the offer letter"), "{t}");
        let dm = app.slack.wait_for("chat.postMessage", 2).await;
        assert!(dm.iter().any(|c| c.body.to_string().contains("Send the offer letter")));
        let t = app.ok(OTHER, &format!("complete {id}")).await;
        assert!(t.contains("couldn't find"), "{t}");
        let t = app.ok(REPORT, &format!("complete {id}")).await;
        assert!(t.contains("Done"), "{t}");
        let t = app.ok(REPORT, &format!("complete {id}")).await;
        assert!(t.contains("already done"), "{t}");
        let t = app.ok(REPORT, "actions").await;
        assert!(t.contains("no open action items"), "{t}");
    }
);

both_engines!(action_owner_must_be_in_the_1_1_and_due_dates_not_in_the_past, |app| {
    app.with_pair().await;
    let t = app.ok(MANAGER, "action Do it owner <@U0OTHER001>").await;
    assert!(t.contains("owner"), "{t}");
    let t = app.ok(MANAGER, "action Do it due 2020-01-01").await;
    assert!(t.contains("in the past"), "{t}");
    let t = app.ok(MANAGER, "action Mine owner me due tomorrow").await;
    assert!(t.contains("maria") && t.contains("Tue 1 Dec 2026"), "{t}");
    let t = app.ok(MANAGER, "complete abc").await;
    assert!(t.contains("Usage"), "{t}");
});

// ---------------------------------------------------------------- notes

both_engines!(private_notes_are_seen_only_by_their_author, |app| {
    app.with_pair().await;
    let t = app.ok(MANAGER, "note ask about the move").await;
    assert!(t.contains("Only you"), "{t}");
    assert!(app.ok(MANAGER, "agenda").await.contains("ask about the move"));
    assert!(!app.ok(REPORT, "agenda").await.contains("ask about the move"));
});

// ---------------------------------------------------------------- held / skip / reschedule

both_engines!(held_rolls_open_points_over_and_asks_both_for_a_rating, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add carry me").await;
    // Tuesday 1 Dec 10:00 Berlin = 09:00 UTC; mark it held just after.
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 40, 0).unwrap());
    let a = app.command(MANAGER, "held").await;
    assert!(
        a.text.contains("held") && a.text.contains("1 open talking point moved"),
        "{}",
        a.text
    );
    assert!(a.json["blocks"].to_string().contains("\"rate\""), "rating buttons");
    app.slack
        .wait_for_match("chat.postMessage", |c| {
            c.body["blocks"].to_string().contains("\"rate\"")
        })
        .await;
    let t = app.ok(REPORT, "agenda").await;
    assert!(
        t.contains("Tue 8 Dec 2026") && t.contains("carry me") && t.contains("carried over 1×"),
        "{t}"
    );
    let t = app.ok(OTHER, "held <@U0REPORT01>").await;
    assert!(t.contains("don't have a 1:1"), "{t}");
});

both_engines!(held_before_any_meeting_has_happened_says_so, |app| {
    app.with_pair().await;
    let t = app.ok(MANAGER, "held").await;
    assert!(t.contains("no meeting to mark held"), "{t}");
});

both_engines!(skip_tells_the_partner_and_rolls_points_over, |app| {
    app.with_pair().await;
    app.ok(MANAGER, "add keep me").await;
    let t = app.ok(REPORT, "skip conference trip").await;
    assert!(t.contains("Skipped") && t.contains("Tue 1 Dec 2026"), "{t}");
    let told = app
        .slack
        .wait_for_match("chat.postMessage", |c| c.body.to_string().contains("conference trip"))
        .await;
    assert_eq!(told.body["channel"], format!("D{MANAGER}"));
    assert!(app.ok(MANAGER, "agenda").await.contains("Tue 8 Dec 2026"));
    assert_eq!(points_of_next(app).await, vec!["keep me"]);
    let t = app.ok(REPORT, "history").await;
    assert!(t.contains("skipped") && t.contains("conference trip"), "{t}");
});

both_engines!(reschedule_moves_the_next_meeting_and_tells_the_partner, |app| {
    app.with_pair().await;
    let t = app.ok(MANAGER, "reschedule wednesday 3pm").await;
    assert!(t.contains("Wed 2 Dec 2026, 15:00 CET"), "{t}");
    // Rahul is in Asia/Kolkata: 15:00 CET is 19:30 IST.
    app.slack
        .wait_for_match("chat.postMessage", |c| {
            c.body.to_string().contains("Wed 2 Dec 2026, 19:30 IST")
        })
        .await;
    let t = app.ok(MANAGER, "reschedule 2020-01-01").await;
    assert!(t.contains("in the past"), "{t}");
    let t = app.ok(MANAGER, "reschedule").await;
    assert!(t.contains("Usage"), "{t}");
});

// ---------------------------------------------------------------- state changes

both_engines!(only_the_manager_can_pause_resume_or_end, |app| {
    app.with_pair().await;
    for cmd in ["pause", "resume", "end"] {
        let t = app.ok(REPORT, cmd).await;
        assert!(t.contains("Only the manager"), "{cmd}: {t}");
    }
    assert!(app.ok(MANAGER, "pause").await.contains("Paused"));
    assert!(app.ok(REPORT, "add x").await.contains("paused"));
    assert!(app.ok(MANAGER, "resume").await.contains("Resumed"));
    assert!(app.ok(MANAGER, "end").await.contains("Ended"));
    assert!(app.ok(MANAGER, "history").await.contains("History"));
});

// ---------------------------------------------------------------- several partners

both_engines!(
    with_several_1_1s_the_partner_must_be_named_and_buttons_offer_each,
    |app| {
        app.with_pair().await;
        app.ok(MANAGER, "setup <@U0REPORT02> weekly on friday at 4pm").await;
        let a = app.command(MANAGER, "add a topic").await;
        assert!(a.text.contains("several"), "{}", a.text);
        let blocks = a.json["blocks"].to_string();
        assert!(
            blocks.contains("pick_partner") && blocks.contains("rahul") && blocks.contains("sam"),
            "{blocks}"
        );
        assert!(app.ok(MANAGER, "add <@U0REPORT02> a topic").await.contains("sam"));
        assert!(app.ok(MANAGER, "add @rahul by name").await.contains("rahul"));
    }
);

// ---------------------------------------------------------------- library, stats, settings

both_engines!(help_questions_and_templates_answer, |app| {
    let t = app.ok(MANAGER, "help").await;
    assert!(t.contains("/oneonone setup") && t.contains("/oneonone add"), "{t}");
    assert!(app.ok(MANAGER, "help add").await.contains("Example"));
    assert!(app.ok(MANAGER, "questions wellbeing").await.contains("Wellbeing"));
    assert!(app.ok(MANAGER, "templates").await.contains("weekly check-in"));
    assert!(app.ok(MANAGER, "template weekly check-in").await.contains("1."));
    let t = app.ok(MANAGER, "agnda").await;
    assert!(t.contains("agenda"), "{t}");
});

both_engines!(
    workspace_templates_can_be_made_used_and_deleted_by_their_author,
    |app| {
        let t = app
            .ok(MANAGER, "template new Sprint retro: What went well?; What to change?")
            .await;
        assert!(t.contains("2 items"), "{t}");
        assert!(app.ok(MANAGER, "templates").await.contains("Sprint retro"));
        assert!(
            app.ok(MANAGER, "template new sprint RETRO: x")
                .await
                .contains("already has")
        );
        assert!(
            app.ok(MANAGER, "template delete weekly check-in")
                .await
                .contains("built in")
        );
        assert!(
            app.ok(MANAGER, "template new weekly check-in: x")
                .await
                .contains("built-in")
        );
        assert!(app.ok(REPORT, "template delete Sprint retro").await.contains("Only"));
        app.ok(MANAGER, "setup <@U0REPORT01> weekly on tuesday template Sprint retro")
            .await;
        assert!(app.ok(REPORT, "agenda").await.contains("What went well?"));
        assert!(
            app.ok(MANAGER, "template delete sprint retro")
                .await
                .contains("Deleted")
        );
    }
);

both_engines!(stats_are_for_managers_and_show_aggregates, |app| {
    app.with_pair().await;
    assert!(app.ok(REPORT, "stats").await.contains("for managers"));
    let t = app.ok(MANAGER, "stats").await;
    assert!(
        t.contains("rahul") && t.contains("held 0") && t.contains("Not held yet"),
        "{t}"
    );
});

both_engines!(settings_away_and_back_change_only_the_callers_preferences, |app| {
    app.with_pair().await;
    let t = app
        .ok(REPORT, "settings tz Europe/London hours 08:00-16:30 nudges off")
        .await;
    assert!(
        t.contains("Europe/London") && t.contains("08:00–16:30") && t.contains("off"),
        "{t}"
    );
    let t = app.ok(REPORT, "settings hours 18:00-09:00").await;
    assert!(t.contains("Usage") || t.contains("before"), "{t}");
    let t = app.ok(REPORT, "away until 2026-12-09").await;
    assert!(t.contains("2 meetings skipped"), "{t}");
    app.slack
        .wait_for_match("chat.postMessage", |c| c.body.to_string().contains("away until"))
        .await;
    assert!(app.ok(MANAGER, "agenda").await.contains("Tue 15 Dec 2026"));
    assert!(app.ok(REPORT, "back").await.contains("Welcome back"));
});

both_engines!(request_sends_the_person_a_dm_with_a_button, |app| {
    let t = app.ok(REPORT2, "request <@U0MANAGER1> career chat please").await;
    assert!(t.contains("maria"), "{t}");
    let dms = app.slack.wait_for("chat.postMessage", 1).await;
    let body = dms[0].body.to_string();
    assert!(
        body.contains("request_setup") && body.contains("career chat please"),
        "{body}"
    );
    let t = app.ok(REPORT2, "request").await;
    assert!(t.contains("Usage"), "{t}");
});

both_engines!(the_empty_command_shows_home, |app| {
    assert!(app.ok(MANAGER, "").await.contains("don't have any 1:1s"));
    app.with_pair().await;
    let t = app.ok(MANAGER, "").await;
    assert!(t.contains("rahul") && t.contains("your report"), "{t}");
    let t = app.ok(REPORT, "home").await;
    assert!(t.contains("maria") && t.contains("your manager"), "{t}");
});

// ---------------------------------------------------------------- events and buttons

both_engines!(url_verification_echoes_the_challenge, |app| {
    let body = read_fixture("slack/url_verification.json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let res = app.post_signed("/slack/events", "application/json", &body).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.text().await.unwrap(), v["challenge"].as_str().unwrap());
    let res = app.post_with("/slack/events", "application/json", &body, None).await;
    assert_eq!(res.status().as_u16(), 401);
});

both_engines!(a_dm_to_the_bot_runs_the_command_once_even_when_slack_retries, |app| {
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await; // the report's set-up notice
    let before = app.slack.calls_to("chat.postMessage").len();
    let body = read_fixture("slack/event_message_im.json");
    let body = body.replace("\"text\": \"agenda\"", "\"text\": \"add from a DM\"");
    for _ in 0..2 {
        let res = app.post_signed("/slack/events", "application/json", &body).await;
        assert_eq!(res.status().as_u16(), 200);
    }
    let posts = app.slack.wait_for("chat.postMessage", before + 1).await;
    assert!(posts.last().unwrap().body.to_string().contains("from a DM"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.slack.calls_to("chat.postMessage").len(),
        before + 1,
        "answered once"
    );
    assert_eq!(points_of_next(app).await, vec!["from a DM"]);
});

both_engines!(app_home_opened_publishes_the_home_view, |app| {
    app.with_pair().await;
    let body = read_fixture("slack/event_app_home_opened.json");
    let res = app.post_signed("/slack/events", "application/json", &body).await;
    assert_eq!(res.status().as_u16(), 200);
    let calls = app.slack.wait_for("views.publish", 1).await;
    assert!(calls[0].body.to_string().contains("Your 1:1s"));
});

both_engines!(every_slack_fixture_is_accepted_without_a_server_error, |app| {
    app.with_pair().await;
    for (file, path) in [
        ("slack/event_reaction_added.json", "/slack/events"),
        ("slack/event_message_thread_reply.json", "/slack/events"),
        ("slack/event_app_uninstalled.json", "/slack/events"),
        ("slack/event_tokens_revoked.json", "/slack/events"),
    ] {
        let body = read_fixture(file);
        let res = app.post_signed(path, "application/json", &body).await;
        assert_eq!(res.status().as_u16(), 200, "{file}");
    }
    for file in [
        "slack/block_actions.json",
        "slack/view_submission.json",
        "slack/message_action.json",
    ] {
        let payload = read_fixture(file);
        // Answers go to the fake, never to the real hooks.slack.com.
        let payload = payload.replace("https://hooks.slack.com/", &app.slack.response_url("fixture/"));
        let body = serde_urlencoded::to_string([("payload", payload.as_str())]).unwrap();
        let res = app
            .post_signed("/slack/interactivity", "application/x-www-form-urlencoded", &body)
            .await;
        assert_eq!(res.status().as_u16(), 200, "{file}");
    }
});

fn block_action(user: &str, action_id: &str, value: &str, response_url: &str) -> String {
    let payload = serde_json::json!({
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user, "team_id": TEAM},
        "api_app_id": "A0APPID001",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "value": value, "action_ts": "1764317000.1"}]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

both_engines!(rating_buttons_are_rechecked_against_the_caller, |app| {
    app.with_pair().await;
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 40, 0).unwrap());
    let a = app.command(MANAGER, "held").await;
    let blocks = a.json["blocks"].to_string();
    let value = blocks
        .split("\"value\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (meeting, _) = value.split_once(':').unwrap();
    let url = app.slack.response_url("r1");
    // A forged click by someone outside the 1:1 changes nothing.
    let res = app
        .post_signed(
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            &block_action(OTHER, "rate", &format!("{meeting}:1"), &url),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let calls = app.slack.wait_for("response_url", 1).await;
    assert!(calls[0].body.to_string().contains("no longer valid"));
    let m = oneonone::domain::model::MeetingId(meeting.parse().unwrap());
    assert!(app.db.ratings_for_meeting(m).await.unwrap().is_empty());
    // The report's own click is stored.
    app.post_signed(
        "/slack/interactivity",
        "application/x-www-form-urlencoded",
        &block_action(REPORT, "rate", &format!("{meeting}:4"), &url),
    )
    .await;
    let calls = app.slack.wait_for("response_url", 2).await;
    assert!(calls[1].body.to_string().contains("4/5"));
    assert_eq!(app.db.ratings_for_meeting(m).await.unwrap().len(), 1);
});

both_engines!(
    pick_partner_buttons_rerun_the_command_for_the_chosen_1_1_only_for_participants,
    |app| {
        app.with_pair().await;
        app.ok(MANAGER, "setup <@U0REPORT02> weekly on friday at 4pm").await;
        let a = app.command(MANAGER, "add from a button").await;
        let blocks = a.json["blocks"].to_string();
        let value = blocks
            .split("\"value\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let url = app.slack.response_url("p1");
        app.post_signed(
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            &block_action(OTHER, "pick_partner", &value, &url),
        )
        .await;
        let calls = app.slack.wait_for("response_url", 1).await;
        assert!(calls[0].body.to_string().contains("no longer valid"));
        app.post_signed(
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            &block_action(MANAGER, "pick_partner", &value, &url),
        )
        .await;
        let calls = app.slack.wait_for("response_url", 2).await;
        assert!(
            calls[1].body.to_string().contains("from a button"),
            "{:?}",
            calls[1].body
        );
    }
);

// ---------------------------------------------------------------- every command: malformed and forbidden

/// A snapshot of everything a command could change, to prove it did not.
async fn fingerprint(app: &TestApp) -> String {
    let ws = team(app).await;
    let mut out = String::new();
    for who in [MANAGER, REPORT, OTHER] {
        let Some(p) = app.db.person_by_external(ws.id, who).await.unwrap() else {
            continue;
        };
        out.push_str(&format!(
            "{who}:{:?}/{:?}/{}/{:?};",
            p.tz_override, p.work_start, p.nudges, p.away_until
        ));
        for s in app.db.series_for_person(ws.id, p.id, true).await.unwrap() {
            out.push_str(&format!("s{}:{:?}:{:?}:{};", s.id, s.state, s.cadence, s.manager_id));
            for m in app.db.pending_meetings(s.id).await.unwrap() {
                out.push_str(&format!("m{}:{:?}:{};", m.id, m.state, m.scheduled_at));
                for tp in app.db.talking_points(m.id).await.unwrap() {
                    out.push_str(&format!("tp{}:{:?}:{};", tp.id, tp.state, tp.text));
                }
                out.push_str(&format!("c{};", app.db.comments_for_meeting(m.id).await.unwrap().len()));
                for who in [MANAGER, REPORT, OTHER] {
                    if let Some(q) = app.db.person_by_external(ws.id, who).await.unwrap() {
                        out.push_str(&format!("n{};", app.db.private_notes(m.id, q.id).await.unwrap().len()));
                    }
                }
            }
            for a in app.db.open_action_items_for_series(s.id).await.unwrap() {
                out.push_str(&format!("a{}:{:?};", a.id, a.state));
            }
            out.push_str(&format!(
                "closed{};",
                app.db.closed_meetings(s.id, 100).await.unwrap().len()
            ));
        }
    }
    out.push_str(&format!("templates{};", app.db.templates(ws.id).await.unwrap().len()));
    out
}

both_engines!(
    malformed_input_to_any_command_answers_with_usage_and_changes_nothing,
    |app| {
        app.with_pair().await;
        app.ok(REPORT, "add a point").await;
        app.ok(MANAGER, "action an item").await;
        let before = fingerprint(app).await;
        let bad = [
            "setup",
            "setup <@U0REPORT01>",
            "setup <@U0REPORT01> weekly on funday",
            "setup <@U0REPORT01> weekly on monday at 25:00",
            "setup <@U0REPORT01> weekly on monday tz Mars/Base",
            "setup <@U0REPORT01> cron \"not a cron\"",
            "add",
            "add #bogus text",
            "comment",
            "comment 1",
            "comment zero text",
            "action",
            "action due tomorrow",
            "complete",
            "complete x",
            "note",
            "reschedule",
            "reschedule someday",
            "history lots",
            "questions astrology",
            "template new",
            "template new name without items",
            "template delete",
            "settings tz Nowhere/City",
            "settings nudges maybe",
            "away",
            "away until whenever",
            "request",
            "agnda",
            "frobnicate everything",
            &format!("add {}", "x".repeat(10_000)),
            &format!("note {}", "é".repeat(2_001)),
        ];
        for line in bad {
            let t = app.ok(MANAGER, line).await;
            assert!(t.contains("Usage") || t.contains("Did you mean"), "`{line}` → {t}");
        }
        assert_eq!(fingerprint(app).await, before);
    }
);

both_engines!(a_third_person_gets_nowhere_with_any_command_on_a_pairs_1_1, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add private topic").await;
    let t = app.ok(MANAGER, "action Secret item").await;
    let id: i64 = t
        .split('#')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    app.ok(OTHER, "help").await; // the third person exists before the snapshot
    let before = fingerprint(app).await;
    for target in [REPORT, MANAGER] {
        for cmd in [
            "add sneaky",
            "agenda",
            "comment 1 sneaky",
            "action sneaky",
            "note sneaky",
            "held",
            "skip",
            "reschedule friday 3pm",
            "history",
            "pause",
            "resume",
            "end",
        ] {
            let (word, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
            let line = format!("{word} <@{target}> {rest}");
            let t = app.ok(OTHER, &line).await;
            assert!(t.contains("don't have a 1:1"), "`{line}` → {t}");
            assert!(
                !t.contains("private topic") && !t.contains("Secret item"),
                "`{line}` leaked: {t}"
            );
        }
    }
    for line in [
        format!("complete {id}"),
        "actions".to_string(),
        "stats".to_string(),
        "".to_string(),
    ] {
        let t = app.ok(OTHER, &line).await;
        assert!(
            !t.contains("private topic") && !t.contains("Secret item"),
            "`{line}` leaked: {t}"
        );
    }
    assert_eq!(fingerprint(app).await, before);
});

both_engines!(a_long_agenda_still_renders_within_slacks_limits, |app| {
    app.with_pair().await;
    for i in 0..70 {
        app.ok(REPORT, &format!("add point {i} {}", "word ".repeat(60))).await;
    }
    app.ok(MANAGER, &format!("comment 1 {}", "long comment ".repeat(150)))
        .await;
    app.ok(MANAGER, "agenda").await; // `ok` validates every block against Slack's limits
    let blocks = app.command(MANAGER, "agenda").await.json["blocks"].to_string();
    assert!(
        blocks.contains("Talking points (70)") && blocks.contains("…and 10 more"),
        "{blocks}"
    );
});

// ---------------------------------------------------------------- the binary

#[test]
fn a_malformed_setting_is_a_one_line_error_naming_the_variable() {
    for (var, value) in [
        ("DATABASE_URL", "mysql://nope"),
        ("ONEONONE_LISTEN", "not-an-address"),
        ("ONEONONE_LOG_FORMAT", "xml"),
        ("SLACK_API_URL", "::"),
        ("ONEONONE_TICK", "nonsense"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_oneonone"))
            .arg("serve")
            .env(var, value)
            .env("SLACK_SIGNING_SECRET", "s")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{var}: {err}");
        assert!(err.contains(var) && !err.contains("panicked"), "{var}: {err}");
    }
}

#[test]
fn the_console_plays_a_whole_session_on_sqlite() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("oneonone_console_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oneonone"))
        .args([
            "console",
            "--as",
            "maria",
            "--tz",
            "Europe/Berlin",
            "--now",
            "2026-11-30T08:00:00Z",
        ])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"setup @rahul weekly on tuesday at 10am\n:as rahul\nadd #goals Q1 planning <!channel>\nagenda\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("You're set up for a 1:1 with rahul"), "{text}");
    assert!(text.contains("→ DM to @rahul"), "{text}");
    assert!(text.contains("1. Q1 planning <!channel>"), "{text}");
    assert!(text.contains("Tue 1 Dec 2026, 10:00 CET"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every mrkdwn text object inside a block list.
fn collect_mrkdwn(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("type").and_then(|t| t.as_str()) == Some("mrkdwn")
                && let Some(t) = o.get("text").and_then(|t| t.as_str())
            {
                out.push(t.to_string());
            }
            o.values().for_each(|x| collect_mrkdwn(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_mrkdwn(x, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------- interactivity: the live agenda

fn interaction(user: &str, action: serde_json::Value, container: serde_json::Value, response_url: &str) -> String {
    let payload = serde_json::json!({
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user, "team_id": TEAM},
        "api_app_id": "A0APPID001",
        "trigger_id": "12345.98765.abcd",
        "response_url": response_url,
        "container": container,
        "actions": [action]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

fn select(action_id: &str, value: &str) -> serde_json::Value {
    serde_json::json!({"action_id": action_id, "block_id": "b", "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value}, "action_ts": "1.2"})
}

pub(crate) fn button(action_id: &str, value: &str) -> serde_json::Value {
    serde_json::json!({"action_id": action_id, "block_id": "b", "type": "button", "value": value, "action_ts": "1.2"})
}

pub(crate) fn ephemeral() -> serde_json::Value {
    serde_json::json!({"type": "message", "message_ts": "1764317000.000100", "channel_id": "D0DMCHAN01", "is_ephemeral": true})
}

/// The value of the first element with `action_id` in a block list.
pub(crate) fn value_of(blocks: &serde_json::Value, action_id: &str) -> Option<String> {
    let mut found = None;
    fn walk(v: &serde_json::Value, id: &str, found: &mut Option<String>) {
        match v {
            serde_json::Value::Object(o) => {
                if o.get("action_id").and_then(|a| a.as_str()) == Some(id) {
                    let val = o.get("value").and_then(|x| x.as_str()).or_else(|| {
                        o.get("options")
                            .and_then(|os| os.get(0))
                            .and_then(|op| op.get("value"))
                            .and_then(|x| x.as_str())
                    });
                    if found.is_none() {
                        *found = val.map(str::to_string);
                    }
                }
                o.values().for_each(|x| walk(x, id, found));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, id, found)),
            _ => {}
        }
    }
    walk(blocks, action_id, &mut found);
    found
}

pub(crate) async fn click(
    app: &TestApp,
    user: &str,
    action: serde_json::Value,
    container: serde_json::Value,
    hook: &str,
) {
    let url = app.slack.response_url(hook);
    let res = app
        .post_signed(
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            &interaction(user, action, container, &url),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
}

/// Posts the agenda into the report's DM as Slack would on a DM "agenda";
/// returns the posted message's ts.
async fn post_agenda_in_dm(app: &TestApp, user: &str) -> String {
    let before = app.slack.calls_to("chat.postMessage").len();
    // The fixtures put the manager's DM with the bot in D0DMCHAN01, the report's in D0DMCHAN02.
    let channel = if user == REPORT { "D0DMCHAN02" } else { "D0DMCHAN01" };
    let body = read_fixture("slack/event_message_im.json")
        .replace("U0MANAGER1", user)
        .replace("D0DMCHAN01", channel)
        .replace("Ev0MESSAGE01", &format!("EvAgenda{user}{before}"))
        .replace("1764317000.000500", &format!("1764317000.{:06}", 500 + before));
    let res = app.post_signed("/slack/events", "application/json", &body).await;
    assert_eq!(res.status().as_u16(), 200);
    let posts = app.slack.wait_for("chat.postMessage", before + 1).await;
    let last = posts.last().unwrap();
    assert!(last.body.to_string().contains("Talking points") || last.body.to_string().contains("No talking points"));
    // The fake answers each post with a new ts; ask the database which one it recorded.
    for _ in 0..50 {
        let ws = team(app).await;
        let p = app.db.person_by_external(ws.id, user).await.unwrap().unwrap();
        let m = app.db.series_for_person(ws.id, p.id, false).await.unwrap();
        let pending = app.db.pending_meetings(m[0].id).await.unwrap();
        let since = app.clock.now() - chrono::Duration::days(30);
        let posted = app.db.posted_agendas_for_series(m[0].id, since).await.unwrap();
        if let Some(p) = posted
            .iter()
            .rev()
            .find(|x| x.person_id == p.id && pending.iter().any(|m| m.id == x.meeting_id))
        {
            return p.ts.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the agenda message was not recorded");
}

both_engines!(the_agenda_has_controls_for_every_action_of_spec_section_6, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add first topic").await;
    app.ok(MANAGER, "action Do the thing").await;
    let a = app.command(REPORT, "agenda").await;
    for id in [
        "tp_discussed",
        "ai_complete",
        "open_add_point",
        "open_add_action",
        "open_note",
        "meeting_held",
        "meeting_skip",
        "open_reschedule",
    ] {
        assert!(
            value_of(&a.json["blocks"], id).is_some(),
            "missing {id}: {}",
            a.json["blocks"]
        );
    }
});

both_engines!(
    marking_a_point_discussed_from_an_ephemeral_agenda_replaces_it_in_place,
    |app| {
        app.with_pair().await;
        app.ok(REPORT, "add discuss me").await;
        let a = app.command(REPORT, "agenda").await;
        let tp = value_of(&a.json["blocks"], "tp_discussed").unwrap();
        click(app, REPORT, select("tp_discussed", &tp), ephemeral(), "e1").await;
        let calls = app.slack.wait_for("response_url", 1).await;
        assert_eq!(calls[0].body["replace_original"], true);
        assert!(calls[0].body.to_string().contains("✓ discuss me"), "{}", calls[0].body);
        assert!(app.ok(MANAGER, "agenda").await.contains("✓ discuss me"));
    }
);

both_engines!(forged_ids_in_buttons_and_selects_change_nothing, |app| {
    app.with_pair().await;
    app.ok(MANAGER, "setup <@U0REPORT02> weekly on friday at 4pm").await;
    app.ok(REPORT2, "add sams secret").await;
    let theirs = app.command(REPORT2, "agenda").await;
    let tp = value_of(&theirs.json["blocks"], "tp_discussed").unwrap();
    let meeting = value_of(&theirs.json["blocks"], "meeting_held").unwrap();
    let before = fingerprint(app).await;
    // Rahul is not in Maria's 1:1 with Sam: every id of it is refused.
    let mut n = 0;
    for action in [
        select("tp_discussed", &tp),
        button("meeting_held", &meeting),
        button("meeting_skip", &meeting),
        button("open_add_point", &meeting),
        select("ai_complete", "1"),
        button("rate", &format!("{meeting}:5")),
        button("tp_discussed", "not-a-number"),
        button("no_such_action", "1"),
    ] {
        n += 1;
        click(app, REPORT, action, ephemeral(), &format!("f{n}")).await;
    }
    let calls = app.slack.wait_for("response_url", n).await;
    for c in &calls {
        assert!(c.body.to_string().contains("no longer valid"), "{}", c.body);
    }
    assert!(
        app.slack.calls_to("views.open").is_empty(),
        "no modal for a forged meeting"
    );
    assert_eq!(fingerprint(app).await, before);
    assert!(app.ok(REPORT2, "agenda").await.contains("sams secret"));
});

both_engines!(
    a_dm_agenda_is_posted_recorded_and_updated_in_place_after_any_change,
    |app| {
        app.with_pair().await;
        app.slack.wait_for("chat.postMessage", 1).await;
        let ts = post_agenda_in_dm(app, REPORT).await;
        // Only a Home someone has opened is republished after a change.
        app.ok(REPORT, "add first point").await;
        app.slack
            .wait_for_match("chat.update", |u| u.body.to_string().contains("first point"))
            .await;
        assert!(
            app.slack.calls_to("views.publish").is_empty(),
            "no Home published for people who never opened it"
        );
        for (user, event) in [(MANAGER, "EvHome00001"), (REPORT, "EvHome00002")] {
            let body = read_fixture("slack/event_app_home_opened.json")
                .replace("U0MANAGER1", user)
                .replace("Ev0HOMEOPEN1", event);
            app.post_signed("/slack/events", "application/json", &body).await;
        }
        app.slack.wait_for("views.publish", 2).await;
        // A change from a slash command updates the posted copy.
        app.ok(MANAGER, "add budget review").await;
        let u = app
            .slack
            .wait_for_match("chat.update", |u| u.body.to_string().contains("budget review"))
            .await;
        assert_eq!(u.body["ts"], ts.as_str());
        // Both participants' App Home is republished after the change (each
        // was published when opened, showing the one point there was then).
        for user in [MANAGER, REPORT] {
            app.slack
                .wait_for_match("views.publish", |c| {
                    c.body["user_id"] == user && c.body.to_string().contains("2 talking points")
                })
                .await;
        }
    }
);

both_engines!(
    held_from_the_agenda_button_closes_that_meeting_and_asks_for_ratings,
    |app| {
        app.with_pair().await;
        app.ok(REPORT, "add roll me").await;
        let a = app.command(REPORT, "agenda").await;
        let meeting = value_of(&a.json["blocks"], "meeting_held").unwrap();
        app.clock
            .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 45, 0).unwrap());
        click(app, REPORT, button("meeting_held", &meeting), ephemeral(), "h1").await;
        let calls = app.slack.wait_for("response_url", 1).await;
        assert!(
            calls[0].body.to_string().contains("held") && calls[0].body.to_string().contains("rate"),
            "{}",
            calls[0].body
        );
        assert_eq!(points_of_next(app).await, vec!["roll me"]);
        // Twice is refused, nothing changes.
        click(app, REPORT, button("meeting_held", &meeting), ephemeral(), "h2").await;
        let calls = app.slack.wait_for("response_url", 2).await;
        assert!(calls[1].body.to_string().contains("already"), "{}", calls[1].body);
    }
);

both_engines!(
    reactions_on_a_posted_agenda_confirm_ask_to_skip_or_offer_rescheduling,
    |app| {
        app.with_pair().await;
        app.slack.wait_for("chat.postMessage", 1).await;
        let ts = post_agenda_in_dm(app, REPORT).await;
        let fixture = read_fixture("slack/event_reaction_added.json");
        let react = |name: &str, n: usize| {
            fixture
                .replace("\"white_check_mark\"", &format!("\"{name}\""))
                .replace("Ev0REACTION1", &format!("EvReact{n}"))
                .replace("1764316800.000100", &ts)
        };
        let posts_before = app.slack.calls_to("chat.postMessage").len();
        app.post_signed("/slack/events", "application/json", &react("white_check_mark", 1))
            .await;
        app.slack
            .wait_for_match("chat.update", |u| u.body.to_string().contains("will be there"))
            .await;
        app.post_signed("/slack/events", "application/json", &react("x", 2))
            .await;
        let posts = app.slack.wait_for("chat.postMessage", posts_before + 1).await;
        assert!(
            posts.last().unwrap().body.to_string().contains("confirm_skip"),
            "a confirm button, not a skip"
        );
        assert!(points_of_next(app).await.is_empty());
        let ws = team(app).await;
        let r = app.db.person_by_external(ws.id, REPORT).await.unwrap().unwrap();
        let s = &app.db.series_for_person(ws.id, r.id, false).await.unwrap()[0];
        assert!(
            app.db.closed_meetings(s.id, 5).await.unwrap().is_empty(),
            "not skipped before the confirm"
        );
        app.post_signed("/slack/events", "application/json", &react("repeat", 3))
            .await;
        let posts = app.slack.wait_for("chat.postMessage", posts_before + 2).await;
        assert!(posts.last().unwrap().body.to_string().contains("open_reschedule"));
        // A reaction on any other message is ignored.
        let n = app.slack.calls().len();
        app.post_signed(
            "/slack/events",
            "application/json",
            &react("x", 4).replace(&ts, "1111111111.000001"),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.slack.calls().len(), n);
    }
);

both_engines!(thread_replies_on_a_posted_agenda_become_points_by_their_author, |app| {
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await;
    let ts = post_agenda_in_dm(app, REPORT).await;
    let fixture = read_fixture("slack/event_message_thread_reply.json");
    let thread_ts = fixture
        .split("\"thread_ts\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let body = fixture.replace(&thread_ts, &ts);
    let res = app.post_signed("/slack/events", "application/json", &body).await;
    assert_eq!(res.status().as_u16(), 200);
    let reactions = app.slack.wait_for("reactions.add", 1).await;
    assert_eq!(reactions[0].body["name"], "white_check_mark");
    let text: serde_json::Value = serde_json::from_str(&fixture).unwrap();
    assert_eq!(
        points_of_next(app).await,
        vec![text["event"]["text"].as_str().unwrap().to_string()]
    );
    // Slack's retry of the same event does not add it twice.
    app.post_signed("/slack/events", "application/json", &body).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(points_of_next(app).await.len(), 1);
    // Someone outside the 1:1 replying in that thread is ignored.
    let other = body
        .replace(REPORT, OTHER)
        .replace("Ev0THREAD001", "EvOther")
        .replace("1764316950.000400", "1764316999.000400");
    app.post_signed("/slack/events", "application/json", &other).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(points_of_next(app).await.len(), 1);
});

both_engines!(the_add_buttons_open_modals_with_the_trigger_id, |app| {
    app.with_pair().await;
    let a = app.command(REPORT, "agenda").await;
    let meeting = value_of(&a.json["blocks"], "open_add_point").unwrap();
    for action in ["open_add_point", "open_add_action", "open_note", "open_reschedule"] {
        click(app, REPORT, button(action, &meeting), ephemeral(), action).await;
    }
    let opened = app.slack.wait_for("views.open", 4).await;
    assert!(opened.iter().all(|c| c.body["trigger_id"] == "12345.98765.abcd"));
});

// ---------------------------------------------------------------- interactivity: modals and the shortcut

/// A `view_submission` in Slack's shape for the view the bot opened (its
/// blocks, callback id and metadata), with the person's input `values`.
fn submission(user: &str, opened: &serde_json::Value, values: serde_json::Value) -> String {
    let view = &opened["view"];
    let payload = serde_json::json!({
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user, "team_id": TEAM},
        "api_app_id": "A0APPID001",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V0000000001", "team_id": TEAM, "type": "modal", "hash": "1.h",
            "callback_id": view["callback_id"], "private_metadata": view["private_metadata"].as_str().unwrap_or(""),
            "blocks": view["blocks"], "state": {"values": values}
        }
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

fn input(kind: &str, key: &str, value: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({"type": kind});
    v[key] = value;
    v
}

fn opt(value: &str) -> serde_json::Value {
    serde_json::json!({"text": {"type": "plain_text", "text": value}, "value": value})
}

async fn open_modal(app: &TestApp, user: &str, action: &str, value: &str, n: usize) -> serde_json::Value {
    click(app, user, button(action, value), ephemeral(), &format!("m{n}")).await;
    app.slack.wait_for("views.open", n).await.pop().unwrap().body
}

async fn submit(app: &TestApp, body: &str) -> (u16, String) {
    let res = app
        .post_signed("/slack/interactivity", "application/x-www-form-urlencoded", body)
        .await;
    (res.status().as_u16(), res.text().await.unwrap())
}

both_engines!(
    the_add_point_modal_adds_a_categorised_point_or_names_the_field_to_fix,
    |app| {
        app.with_pair().await;
        let a = app.command(REPORT, "agenda").await;
        let meeting = value_of(&a.json["blocks"], "open_add_point").unwrap();
        let opened = open_modal(app, REPORT, "open_add_point", &meeting, 1).await;
        let text = |v: &str| input("plain_text_input", "value", serde_json::json!(v));
        let category = |v: &str| input("static_select", "selected_option", opt(v));
        // Blank text: the modal stays open with an error on the text field.
        let (status, body) = submit(
            app,
            &submission(
                REPORT,
                &opened,
                serde_json::json!({
                    "text": {"text": text("   ")}, "category": {"category": category("goals")}
                }),
            ),
        )
        .await;
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["response_action"], "errors");
        assert!(v["errors"]["text"].is_string(), "{body}");
        assert!(points_of_next(app).await.is_empty());
        // Valid: closes (empty 200) and the point is there, with its category.
        let (status, body) = submit(
            app,
            &submission(
                REPORT,
                &opened,
                serde_json::json!({
                    "text": {"text": text("Promotion path")}, "category": {"category": category("development")}
                }),
            ),
        )
        .await;
        assert_eq!((status, body.as_str()), (200, ""));
        assert_eq!(points_of_next(app).await, vec!["Promotion path"]);
        assert!(
            app.ok(MANAGER, "agenda")
                .await
                .contains("Development\n1. Promotion path  — rahul")
        );
    }
);

both_engines!(a_modal_submitted_with_another_1_1s_meeting_changes_nothing, |app| {
    app.with_pair().await;
    app.ok(MANAGER, "setup <@U0REPORT02> weekly on friday at 4pm").await;
    let theirs = app.command(REPORT2, "agenda").await;
    let foreign = value_of(&theirs.json["blocks"], "open_add_point").unwrap();
    let mine = app.command(REPORT, "agenda").await;
    let meeting = value_of(&mine.json["blocks"], "open_add_point").unwrap();
    let mut opened = open_modal(app, REPORT, "open_add_point", &meeting, 1).await;
    // Forge the metadata: point it at Maria and Sam's meeting.
    opened["view"]["private_metadata"] = serde_json::json!(foreign);
    let before = fingerprint(app).await;
    let (status, body) = submit(
        app,
        &submission(
            REPORT,
            &opened,
            serde_json::json!({
                "text": {"text": input("plain_text_input", "value", serde_json::json!("sneaky"))},
                "category": {"category": input("static_select", "selected_option", opt("other"))}
            }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("no longer valid"), "{body}");
    assert_eq!(fingerprint(app).await, before);
    assert!(!app.ok(REPORT2, "agenda").await.contains("sneaky"));
});

both_engines!(the_reschedule_modal_moves_the_meeting_and_tells_the_partner, |app| {
    app.with_pair().await;
    app.slack.wait_for("chat.postMessage", 1).await;
    let a = app.command(MANAGER, "agenda").await;
    let meeting = value_of(&a.json["blocks"], "open_reschedule").unwrap();
    let opened = open_modal(app, MANAGER, "open_reschedule", &meeting, 1).await;
    let (status, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "date": {"date": input("datepicker", "selected_date", serde_json::json!("2026-12-02"))},
                "time": {"time": input("timepicker", "selected_time", serde_json::json!("15:00"))}
            }),
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert!(app.ok(REPORT, "agenda").await.contains("Wed 2 Dec 2026, 19:30 IST"));
    app.slack
        .wait_for_match("chat.postMessage", |c| {
            c.body["channel"] == format!("D{REPORT}") && c.body.to_string().contains("moved")
        })
        .await;
    // A time in the past is refused on the form.
    let (_, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "date": {"date": input("datepicker", "selected_date", serde_json::json!("2020-01-01"))},
                "time": {"time": input("timepicker", "selected_time", serde_json::json!("15:00"))}
            }),
        ),
    )
    .await;
    assert!(body.contains("response_action") && body.contains("past"), "{body}");
});

both_engines!(the_setup_modal_from_app_home_sets_up_a_1_1, |app| {
    // Home: any click needs a known workspace; Maria has used the bot.
    app.ok(MANAGER, "help").await;
    click(
        app,
        MANAGER,
        button("open_setup", "home"),
        serde_json::json!({"type": "view", "view_id": "V1"}),
        "s",
    )
    .await;
    let opened = app.slack.wait_for("views.open", 1).await.pop().unwrap().body;
    assert_eq!(opened["view"]["callback_id"], "setup");
    let (status, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "report": {"report": input("users_select", "selected_user", serde_json::json!(REPORT))},
                "frequency": {"frequency": input("static_select", "selected_option", opt("every_2_weeks"))},
                "weekday": {"weekday": input("static_select", "selected_option", opt("thursday"))},
                "time": {"time": input("timepicker", "selected_time", serde_json::json!("11:30"))},
                "duration": {"duration": input("static_select", "selected_option", opt("45"))},
                "zone": {"zone": input("plain_text_input", "value", serde_json::json!("Europe/Berlin"))},
                "template": {"template": input("static_select", "selected_option", opt("none"))}
            }),
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, ""), "{body}");
    let t = app.ok(MANAGER, "agenda").await;
    assert!(t.contains("Thu 3 Dec 2026, 11:30 CET · 45 min"), "{t}");
});

both_engines!(
    the_message_shortcut_adds_a_message_to_a_chosen_agenda_with_its_link,
    |app| {
        app.with_pair().await;
        let payload = read_fixture("slack/message_action.json")
            .replace("https://hooks.slack.com/", &app.slack.response_url("sc/"));
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let user = v["user"]["id"].as_str().unwrap().to_string();
        let body = serde_urlencoded::to_string([("payload", payload.as_str())]).unwrap();
        let res = app
            .post_signed("/slack/interactivity", "application/x-www-form-urlencoded", &body)
            .await;
        assert_eq!(res.status().as_u16(), 200);
        let opened = app.slack.wait_for("views.open", 1).await.pop().unwrap().body;
        assert_eq!(opened["view"]["callback_id"], "add_to_agenda");
        let view = opened["view"].to_string();
        assert!(
            view.contains("fake-workspace.slack.com/archives"),
            "the permalink is in the text: {view}"
        );
        let series = value_of(&opened["view"]["blocks"], "series").unwrap();
        let (status, body) = submit(app, &submission(&user, &opened, serde_json::json!({
        "series": {"series": input("static_select", "selected_option", opt(&series))},
        "category": {"category": input("static_select", "selected_option", opt("feedback"))},
        "text": {"text": input("plain_text_input", "value", serde_json::json!("From a message: see thread"))}
    }))).await;
        assert_eq!((status, body.as_str()), (200, ""), "{body}");
        assert_eq!(points_of_next(app).await, vec!["From a message: see thread"]);
    }
);

both_engines!(a_rating_can_get_an_optional_comment_that_stays_private, |app| {
    app.with_pair().await;
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 9, 40, 0).unwrap());
    let a = app.command(MANAGER, "held").await;
    let rate = value_of(&a.json["blocks"], "rate").unwrap();
    let meeting = rate.split(':').next().unwrap().to_string();
    click(app, REPORT, button("rate", &format!("{meeting}:4")), ephemeral(), "r1").await;
    let answer = app.slack.wait_for("response_url", 1).await.pop().unwrap().body;
    let comment_value = value_of(&answer["blocks"], "open_rate_comment").expect("an Add a comment button");
    click(
        app,
        REPORT,
        button("open_rate_comment", &comment_value),
        ephemeral(),
        "r2",
    )
    .await;
    let opened = app.slack.wait_for("views.open", 1).await.pop().unwrap().body;
    assert_eq!(opened["view"]["callback_id"], "rate_comment");
    let (status, body) = submit(app, &submission(REPORT, &opened, serde_json::json!({
        "score": {"score": input("static_select", "selected_option", opt("4"))},
        "comment": {"comment": input("plain_text_input", "value", serde_json::json!("More time on growth, please"))}
    }))).await;
    assert_eq!((status, body.as_str()), (200, ""), "{body}");
    let ratings = app
        .db
        .ratings_for_meeting(oneonone::domain::model::MeetingId(meeting.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(ratings[0].comment.as_deref(), Some("More time on growth, please"));
    // The manager's stats never show it, nor a single rating.
    let t = app.ok(MANAGER, "stats").await;
    assert!(!t.contains("growth") && !t.contains("4.0"), "{t}");
});

both_engines!(talking_points_are_grouped_by_category_and_keep_their_numbers, |app| {
    app.with_pair().await;
    app.ok(REPORT, "add #wellbeing sleep").await;
    app.ok(REPORT, "add #goals ship it").await;
    app.ok(MANAGER, "add #goals hire").await;
    let t = app.ok(REPORT, "agenda").await;
    assert!(
        t.contains("Goals\n2. ship it  — rahul\n3. hire  — maria\nWellbeing\n1. sleep  — rahul"),
        "{t}"
    );
    assert!(app.ok(MANAGER, "comment 1 rest well").await.contains("sleep"));
});

both_engines!(a_huge_agenda_offers_a_path_to_every_point_and_stays_valid, |app| {
    app.with_pair().await;
    for i in 0..200 {
        app.ok(REPORT, &format!("add point {i} {}", "x".repeat(150))).await;
    }
    let a = app.command(REPORT, "agenda").await;
    assert!(oneonone::slack::render::validate_blocks(&a.json["blocks"], 50).is_empty());
    let meeting = value_of(&a.json["blocks"], "show_all_points").expect("a show-all path");
    click(app, REPORT, button("show_all_points", &meeting), ephemeral(), "all").await;
    let all = app.slack.wait_for("response_url", 1).await.pop().unwrap().body;
    let blocks = all["blocks"].to_string();
    assert!(
        blocks.contains("point 199") && blocks.contains("point 0 "),
        "every point is listed"
    );
    assert!(oneonone::slack::render::validate_blocks(&all["blocks"], 50).is_empty());
});

// ---------------------------------------------------------------- snapshots of what people see

#[tokio::test]
async fn the_agenda_message_and_home_view_look_like_this() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    app.with_pair().await;
    app.ok(REPORT, "add #development Conference budget for next quarter")
        .await;
    app.ok(REPORT, "add #wellbeing Workload after the launch").await;
    app.ok(MANAGER, "add #recognition The migration went really well").await;
    app.ok(MANAGER, "comment 1 Let's look at the Berlin one").await;
    app.ok(MANAGER, "action Send the budget proposal due 2026-12-04").await;
    app.ok(REPORT, "note Ask about the team lead role").await;
    let agenda = app.command(REPORT, "agenda").await;
    assert!(oneonone::slack::render::validate_blocks(&agenda.json["blocks"], 50).is_empty());
    insta::assert_json_snapshot!("agenda_message", agenda.json);

    let body = read_fixture("slack/event_app_home_opened.json").replace("U0MANAGER1", REPORT);
    app.post_signed("/slack/events", "application/json", &body).await;
    let home = loop {
        let calls = app.slack.wait_for("views.publish", 1).await;
        // Changes refresh the home too (coalesced, a second apart): take the
        // one that shows the last change, the action item.
        if let Some(c) = calls
            .iter()
            .rev()
            .find(|c| c.body["user_id"] == REPORT && c.body.to_string().contains("Send the budget proposal"))
        {
            break c.body.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(oneonone::slack::render::validate_blocks(&home["view"]["blocks"], 100).is_empty());
    insta::assert_json_snapshot!("home_view", home["view"]["blocks"]);
}

both_engines!(the_action_item_and_note_modals_add_what_they_say, |app| {
    app.with_pair().await;
    let a = app.command(MANAGER, "agenda").await;
    let meeting = value_of(&a.json["blocks"], "open_add_action").unwrap();
    let opened = open_modal(app, MANAGER, "open_add_action", &meeting, 1).await;
    let (status, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "text": {"text": input("plain_text_input", "value", serde_json::json!("Book the offsite venue"))},
                "owner": {"owner": input("static_select", "selected_option", opt(REPORT))},
                "due": {"due": input("datepicker", "selected_date", serde_json::json!("2026-12-04"))}
            }),
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, ""), "{body}");
    let t = app.ok(REPORT, "actions").await;
    assert!(
        t.contains("Book the offsite venue") && t.contains("Fri 4 Dec 2026"),
        "{t}"
    );
    // An owner outside the 1:1 is refused on the form.
    let (_, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "text": {"text": input("plain_text_input", "value", serde_json::json!("x"))},
                "owner": {"owner": input("static_select", "selected_option", opt(OTHER))},
                "due": {"due": input("datepicker", "selected_date", serde_json::Value::Null)}
            }),
        ),
    )
    .await;
    assert!(body.contains("response_action"), "{body}");
    let opened = open_modal(app, MANAGER, "open_note", &meeting, 2).await;
    let (status, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "text": {"text": input("plain_text_input", "value", serde_json::json!("Mention the promo budget"))}
            }),
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, ""), "{body}");
    assert!(app.ok(MANAGER, "agenda").await.contains("Mention the promo budget"));
    assert!(!app.ok(REPORT, "agenda").await.contains("Mention the promo budget"));
});

both_engines!(
    complete_and_skip_from_the_agenda_and_confirm_skip_after_a_reaction,
    |app| {
        app.with_pair().await;
        app.ok(MANAGER, "action Ship the report").await;
        app.ok(REPORT, "add keep me").await;
        let a = app.command(REPORT, "agenda").await;
        let item = value_of(&a.json["blocks"], "ai_complete").unwrap();
        click(app, REPORT, select("ai_complete", &item), ephemeral(), "c1").await;
        app.slack.wait_for("response_url", 1).await;
        assert!(app.ok(REPORT, "actions").await.contains("no open action items"));
        let meeting = value_of(&a.json["blocks"], "meeting_skip").unwrap();
        // The confirm button that a ⏭️ reaction offers skips for real.
        click(app, REPORT, button("confirm_skip", &meeting), ephemeral(), "c2").await;
        let answer = app.slack.wait_for("response_url", 2).await.pop().unwrap().body;
        assert!(answer.to_string().contains("Skipped"), "{answer}");
        assert_eq!(points_of_next(app).await, vec!["keep me"]);
        assert!(app.ok(MANAGER, "history").await.contains("skipped"));
        click(app, REPORT, button("dismiss", "keep"), ephemeral(), "c3").await;
        assert!(
            app.slack
                .wait_for("response_url", 3)
                .await
                .pop()
                .unwrap()
                .body
                .to_string()
                .contains("nothing changed")
        );
    }
);

both_engines!(a_request_button_opens_the_setup_form_for_that_person_only, |app| {
    app.ok(REPORT2, "request <@U0MANAGER1> career chat").await;
    let dm = app.slack.wait_for("chat.postMessage", 1).await.pop().unwrap().body;
    let req = value_of(&dm["blocks"], "request_setup").unwrap();
    // Someone else cannot use Maria's request button.
    click(app, OTHER, button("request_setup", &req), ephemeral(), "q1").await;
    assert!(
        app.slack.wait_for("response_url", 1).await[0]
            .body
            .to_string()
            .contains("no longer valid")
    );
    click(app, MANAGER, button("request_setup", &req), ephemeral(), "q2").await;
    let opened = app.slack.wait_for("views.open", 1).await.pop().unwrap().body;
    assert_eq!(opened["view"]["callback_id"], "setup");
    assert!(
        opened["view"].to_string().contains(REPORT2),
        "the requester is preselected"
    );
});

both_engines!(an_invalid_setup_form_names_the_field_to_fix, |app| {
    app.ok(MANAGER, "help").await;
    click(
        app,
        MANAGER,
        button("open_setup", "home"),
        serde_json::json!({"type": "view", "view_id": "V1"}),
        "s",
    )
    .await;
    let opened = app.slack.wait_for("views.open", 1).await.pop().unwrap().body;
    let (_, body) = submit(
        app,
        &submission(
            MANAGER,
            &opened,
            serde_json::json!({
                "report": {"report": input("users_select", "selected_user", serde_json::json!(MANAGER))},
                "frequency": {"frequency": input("static_select", "selected_option", opt("weekly"))},
                "weekday": {"weekday": input("static_select", "selected_option", opt("monday"))},
                "time": {"time": input("timepicker", "selected_time", serde_json::json!("10:00"))},
                "duration": {"duration": input("static_select", "selected_option", opt("30"))},
                "zone": {"zone": input("plain_text_input", "value", serde_json::json!("Mars/Olympus"))},
                "template": {"template": input("static_select", "selected_option", opt("none"))}
            }),
        ),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response_action"], "errors");
    assert!(
        v["errors"]["zone"].is_string() && v["errors"]["report"].is_string(),
        "{body}"
    );
    let ws = team(app).await;
    let m = app.db.person_by_external(ws.id, MANAGER).await.unwrap().unwrap();
    assert!(app.db.series_for_person(ws.id, m.id, true).await.unwrap().is_empty());
});

both_engines!(
    a_request_for_an_extra_meeting_is_answered_with_a_form_that_schedules_one,
    |app| {
        app.with_pair().await;
        app.ok(REPORT, "request <@U0MANAGER1> can we talk about the reorg?")
            .await;
        let dm = app
            .slack
            .wait_for("chat.postMessage", 2)
            .await
            .into_iter()
            .find(|c| c.body.to_string().contains("request_extra"))
            .expect("the request DM")
            .body;
        let req = value_of(&dm["blocks"], "request_extra").unwrap();
        click(app, MANAGER, button("request_extra", &req), ephemeral(), "x1").await;
        let opened = app.slack.wait_for("views.open", 1).await.pop().unwrap().body;
        assert_eq!(opened["view"]["callback_id"], "extra_meeting");
        let (status, body) = submit(
            app,
            &submission(
                MANAGER,
                &opened,
                serde_json::json!({
                    "date": {"date": input("datepicker", "selected_date", serde_json::json!("2026-12-03"))},
                    "time": {"time": input("timepicker", "selected_time", serde_json::json!("16:00"))}
                }),
            ),
        )
        .await;
        assert_eq!((status, body.as_str()), (200, ""), "{body}");
        // The manager's confirmation and the report's notice are both posted
        // after the answer, in either order.
        app.slack
            .wait_for_match("chat.postMessage", |c| {
                c.body["channel"] == format!("D{REPORT}") && c.body.to_string().contains("extra 1:1")
            })
            .await;
        // The extra meeting is the next one; the cadence goes on after it.
        let t = app.ok(REPORT, "agenda").await;
        assert!(t.contains("Tue 1 Dec 2026"), "{t}");
        app.ok(REPORT, "skip").await;
        assert!(app.ok(REPORT, "agenda").await.contains("Thu 3 Dec 2026, 20:30 IST"));
    }
);
