//! API tests: signed Slack requests into the real router, a fake Slack Web API
//! out, on SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod manifest;
mod slack_client;
mod support;

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
    assert!(
        !blocks.contains("<!channel>") && !blocks.contains("<@U0OTHER001>"),
        "{blocks}"
    );
    assert!(blocks.contains("&lt;!channel&gt;"), "{blocks}");
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
    let dms = app.slack.wait_for("chat.postMessage", 2).await;
    assert!(dms.last().unwrap().body.to_string().contains("rate"));
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
    let dms = app.slack.wait_for("chat.postMessage", 2).await;
    let last = dms.last().unwrap();
    assert_eq!(last.body["channel"], format!("D{MANAGER}"));
    assert!(last.body.to_string().contains("conference trip"));
    assert!(app.ok(MANAGER, "agenda").await.contains("Tue 8 Dec 2026"));
    assert_eq!(points_of_next(app).await, vec!["keep me"]);
    let t = app.ok(REPORT, "history").await;
    assert!(t.contains("skipped") && t.contains("conference trip"), "{t}");
});

both_engines!(reschedule_moves_the_next_meeting_and_tells_the_partner, |app| {
    app.with_pair().await;
    let t = app.ok(MANAGER, "reschedule wednesday 3pm").await;
    assert!(t.contains("Wed 2 Dec 2026, 15:00 CET"), "{t}");
    let dms = app.slack.wait_for("chat.postMessage", 2).await;
    // Rahul is in Asia/Kolkata: 15:00 CET is 19:30 IST.
    assert!(
        dms.last()
            .unwrap()
            .body
            .to_string()
            .contains("Wed 2 Dec 2026, 19:30 IST")
    );
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
    let dms = app.slack.wait_for("chat.postMessage", 2).await;
    assert!(dms.last().unwrap().body.to_string().contains("away until"));
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
