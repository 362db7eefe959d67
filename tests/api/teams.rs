//! Microsoft Teams through its real surface: activities signed like the Bot
//! Connector's (the fake's RSA key) posted to `/api/messages`, answers and
//! proactive messages observed at the fake Connector.

use crate::both_engines;
use crate::support::fake_teams::{self, BOT_ID, TENANT};
use crate::support::*;
use oneonone::domain::model::Platform;
use serde_json::{Value, json};

const MARIA: &str = "29:1aUserIdOfMaria";
const RAHUL: &str = "29:1bUserIdOfRahul";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/teams/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// An activity of `kind` from `from` (Maria or Rahul) in their personal chat.
fn activity(app: &TestApp, base: &str, from: &str, name: &str) -> Value {
    let mut a = fixture(base);
    a["serviceUrl"] = json!(app.teams.service_url());
    a["from"] = json!({"id": from, "name": name, "aadObjectId": format!("aad-{from}")});
    a["conversation"]["id"] = json!(format!("a:chat-{from}"));
    a
}

fn message(app: &TestApp, from: &str, name: &str, text: &str) -> Value {
    let mut a = activity(app, "message_with_mention.json", from, name);
    a["text"] = json!(text);
    a["entities"] = json!([{"type": "clientInfo", "timezone": "Europe/Berlin"}]);
    a
}

impl TestApp {
    async fn post_activity(&self, activity: &Value, token: Option<String>) -> reqwest::Response {
        let mut req = self.http.post(self.url("/api/messages")).json(activity);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.send().await.expect("request sent")
    }

    /// Posts `activity` with a valid Connector token; asserts 200.
    async fn teams_ok(&self, activity: &Value) -> reqwest::Response {
        let url = activity["serviceUrl"].as_str().unwrap().to_string();
        let res = self
            .post_activity(activity, Some(self.teams.token(&url, self.clock.now())))
            .await;
        assert_eq!(res.status(), 200, "{activity}");
        res
    }

    async fn install(&self, who: &str, name: &str) {
        let mut a = activity(self, "installation_update_add.json", who, name);
        a["localTimezone"] = json!("Europe/Berlin");
        self.teams_ok(&a).await;
    }

    /// Maria sets up a weekly 1:1 with Rahul, mentioning him.
    async fn teams_pair(&self) {
        let mut a = message(
            self,
            MARIA,
            "Maria Manager",
            "<at>oneonone</at> setup <at>Rahul Report</at> weekly on tuesday at 10:00 tz Europe/Berlin",
        );
        a["entities"] = json!([
            {"type": "mention", "text": "<at>oneonone</at>", "mentioned": {"id": BOT_ID, "name": "oneonone"}},
            {"type": "mention", "text": "<at>Rahul Report</at>", "mentioned": {"id": RAHUL, "name": "Rahul Report"}},
        ]);
        self.teams_ok(&a).await;
    }

    async fn teams_workspace(&self) -> Option<oneonone::domain::model::Workspace> {
        self.db.workspace_by_external(Platform::Teams, TENANT).await.unwrap()
    }
}

fn text_of(call: &fake_teams::ConnectorCall) -> String {
    call.body.to_string()
}

both_engines!(every_bad_token_is_refused_with_401_and_nothing_is_stored, |app| {
    let a = message(app, MARIA, "Maria Manager", "help");
    let url = app.teams.service_url();
    let now = app.clock.now().timestamp();
    let claims = |patch: Value| {
        let mut c = json!({
            "iss": "https://api.botframework.com",
            "aud": fake_teams::APP_ID,
            "serviceurl": url,
            "nbf": now - 60,
            "exp": now + 3600,
        });
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let valid = app.teams.token(&url, app.clock.now());
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let tampered_sig = format!("{head}.{payload}.{}", sig.chars().rev().collect::<String>());
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("garbage", Some("not-a-jwt".into())),
        ("tampered signature", Some(tampered_sig)),
        (
            "wrong audience",
            Some(app.teams.token_with(claims(json!({"aud": "someone-else"})))),
        ),
        (
            "wrong issuer",
            Some(app.teams.token_with(claims(json!({"iss": "https://evil.example"})))),
        ),
        ("no issuer", Some(app.teams.token_with(claims(json!({"iss": null}))))),
        ("expired", Some(app.teams.token_with(claims(json!({"exp": now - 600}))))),
        (
            "not yet valid",
            Some(app.teams.token_with(claims(json!({"nbf": now + 600})))),
        ),
        (
            "no serviceurl claim",
            Some(app.teams.token_with(claims(json!({"serviceurl": null})))),
        ),
        (
            "another service URL",
            Some(
                app.teams
                    .token_with(claims(json!({"serviceurl": "https://smba.trafficmanager.net/emea/"}))),
            ),
        ),
    ];
    for (why, token) in cases {
        let res = app.post_activity(&a, token).await;
        assert_eq!(res.status(), 401, "{why}");
    }
    // A Basic header is not a Bearer token either.
    let res = app
        .http
        .post(app.url("/api/messages"))
        .header("authorization", format!("Basic {valid}"))
        .json(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(app.teams_workspace().await.is_none(), "nothing stored");
    assert!(app.teams.calls().is_empty(), "nothing sent");
    assert!(app.teams.token_requests().is_empty(), "no token fetched");
});

both_engines!(a_message_is_answered_in_the_chat_with_one_token_reused, |app| {
    app.teams_ok(&message(app, MARIA, "Maria Manager", "help")).await;
    app.teams_ok(&message(app, MARIA, "Maria Manager", "list")).await;
    let replies = app.teams.wait_for_messages(2).await;
    assert_eq!(replies.len(), 2);
    for r in &replies {
        assert_eq!(r.method, "POST");
        assert!(
            r.path
                .starts_with("/v3/conversations/a%3Achat-29%3A1aUserIdOfMaria/activities/"),
            "{}",
            r.path
        );
        assert_eq!(r.token.as_deref(), Some("fake-connector-token-1"));
    }
    assert!(
        text_of(&replies[0]).contains("setup"),
        "help answered: {}",
        text_of(&replies[0])
    );
    let tokens = app.teams.token_requests();
    assert_eq!(tokens.len(), 1, "the token is obtained once and reused");
    assert_eq!(tokens[0]["grant_type"], "client_credentials");
    assert_eq!(tokens[0]["scope"], "https://api.botframework.com/.default");
    // The person and their conversation reference are stored.
    let ws = app.teams_workspace().await.unwrap();
    let maria = app.db.person_by_external(ws.id, MARIA).await.unwrap().unwrap();
    assert_eq!(maria.display_name, "Maria Manager");
    assert_eq!(maria.platform_tz, Some(chrono_tz::Europe::Berlin));
    let reference = app.db.teams_conversation(maria.id).await.unwrap().unwrap();
    assert_eq!(reference.conversation_id.as_deref(), Some("a:chat-29:1aUserIdOfMaria"));
});

both_engines!(an_untrusted_service_url_gets_no_token_and_nothing_is_stored, |app| {
    let mut a = message(app, MARIA, "Maria Manager", "help");
    let evil = "https://smba.trafficmanager.net.evil.example/";
    a["serviceUrl"] = json!(evil);
    let res = app
        .post_activity(&a, Some(app.teams.token(evil, app.clock.now())))
        .await;
    assert_eq!(res.status(), 200);
    assert!(app.teams.token_requests().is_empty(), "no token leaves the process");
    assert!(app.teams.calls().is_empty());
    assert!(app.teams_workspace().await.is_none());
});

both_engines!(the_agenda_flow_works_in_teams_cards_clicks_and_reactions, |app| {
    app.install(MARIA, "Maria Manager").await;
    app.install(RAHUL, "Rahul Report").await;
    app.teams_pair().await;
    app.teams_ok(&message(app, RAHUL, "Rahul Report", "add Conference budget"))
        .await;
    app.teams_ok(&message(app, RAHUL, "Rahul Report", "agenda")).await;
    let calls = app.teams.messages();
    let agenda = calls.last().unwrap();
    let card = &agenda.body["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["version"], "1.5");
    assert!(card.to_string().contains("Conference budget"), "{card}");
    assert!(oneonone::teams::cards::validate_card(&card["content"]).is_empty());
    // The posted card is recorded: a click on it answers with its new state.
    let ws = app.teams_workspace().await.unwrap();
    let rahul = app.db.person_by_external(ws.id, RAHUL).await.unwrap().unwrap();
    let series = app.db.series_for_person(ws.id, rahul.id, false).await.unwrap();
    let meeting = app.db.pending_meetings(series[0].id).await.unwrap()[0].clone();
    let points = app.db.talking_points(meeting.id).await.unwrap();
    let point = points.iter().find(|p| p.text == "Conference budget").unwrap();
    let posted_id = app
        .db
        .posted_agendas_for_series(series[0].id, app.clock.now() - chrono::Duration::days(1))
        .await
        .unwrap()[0]
        .ts
        .clone();
    let mut click = activity(app, "invoke_adaptive_card_action.json", RAHUL, "Rahul Report");
    click["replyToId"] = json!(posted_id);
    click["value"] = json!({"action": {"type": "Action.Execute", "verb": "tp_discussed",
        "data": {"value": point.id.0.to_string()}}, "trigger": "manual"});
    let res = app.teams_ok(&click).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["type"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(body["value"]["version"], "1.5");
    let points = app.db.talking_points(meeting.id).await.unwrap();
    assert_eq!(
        points.iter().find(|p| p.id == point.id).unwrap().state,
        oneonone::domain::model::PointState::Discussed
    );
    // A forged id (another meeting's point, or garbage) changes nothing.
    click["value"]["action"]["data"]["value"] = json!("999999");
    let body: Value = app.teams_ok(&click).await.json().await.unwrap();
    assert!(body.to_string().contains("no longer valid"), "{body}");
    // 👍 on the posted agenda confirms attendance.
    let mut like = activity(app, "message_reaction_added.json", RAHUL, "Rahul Report");
    like["replyToId"] = json!(posted_id);
    app.teams_ok(&like).await;
    assert!(app.db.attendance(meeting.id).await.unwrap().contains(&rahul.id));
});

both_engines!(the_scheduler_sends_agendas_to_both_in_teams, |app| {
    app.install(MARIA, "Maria Manager").await;
    app.install(RAHUL, "Rahul Report").await;
    app.teams_pair().await;
    let before = app.teams.messages().len();
    // Monday 09:00 UTC: a day before Tuesday 10:00 Berlin.
    let (_, worked) = app
        .tick(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap())
        .await;
    assert_eq!(worked.sent, 2, "{worked:?}");
    let sent: Vec<_> = app.teams.messages()[before..].to_vec();
    assert_eq!(sent.len(), 2);
    let to: Vec<&str> = sent.iter().map(|c| c.path.as_str()).collect();
    assert!(to.iter().any(|p| p.contains("a%3Achat-29%3A1aUserIdOfMaria")), "{to:?}");
    assert!(to.iter().any(|p| p.contains("a%3Achat-29%3A1bUserIdOfRahul")), "{to:?}");
    assert!(
        sent.iter()
            .all(|c| c.body["attachments"][0]["content"]["version"] == "1.5")
    );
    // A change to the 1:1 updates both posted cards in place (PUT to their ids).
    app.teams_ok(&message(app, RAHUL, "Rahul Report", "add Hiring plan"))
        .await;
    let updates: Vec<_> = app
        .teams
        .messages()
        .into_iter()
        .filter(|c| c.method == "PUT" && text_of(c).contains("Hiring plan"))
        .collect();
    assert_eq!(updates.len(), 2, "{:#?}", app.teams.messages());
});

both_engines!(
    a_report_without_the_app_is_reported_to_the_manager_and_nothing_is_lost,
    |app| {
        // Rahul never installed the app: the bot knows him only from the mention.
        app.install(MARIA, "Maria Manager").await;
        app.teams_pair().await;
        let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap();
        let (_, worked) = app.tick(at).await;
        assert!(worked.postponed >= 1, "Rahul's agenda waits: {worked:?}");
        let (_, worked) = app.tick(at + chrono::Duration::minutes(1)).await;
        let to_maria: Vec<String> = app
            .teams
            .messages()
            .iter()
            .filter(|c| c.path.contains("1aUserIdOfMaria"))
            .map(text_of)
            .collect();
        let told: Vec<&String> = to_maria.iter().filter(|t| t.contains("isn't installed")).collect();
        assert_eq!(told.len(), 1, "told once: {worked:?} {to_maria:#?}");
        assert!(told[0].contains("Rahul Report"));
        // Rahul installs the app: what waited for him goes out on the next pass.
        app.install(RAHUL, "Rahul Report").await;
        let (_, worked) = app.tick(at + chrono::Duration::minutes(2)).await;
        assert_eq!(worked.sent, 1, "{worked:?}");
        assert!(
            app.teams
                .messages()
                .iter()
                .any(|c| c.path.contains("1bUserIdOfRahul") && c.body["attachments"][0]["content"]["version"] == "1.5")
        );
    }
);

both_engines!(a_403_from_the_connector_is_recorded_and_reported_not_retried, |app| {
    app.install(MARIA, "Maria Manager").await;
    app.install(RAHUL, "Rahul Report").await;
    app.teams_pair().await;
    app.teams.fail_next(
        "1bUserIdOfRahul",
        403,
        json!({"error": {"code": "ConversationBlockedByUser", "message": "User blocked the conversation with the bot."}}),
        None,
    );
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap();
    let (_, worked) = app.tick(at).await;
    // Maria's agenda and the notice to her went out; Rahul's agenda waits, not failed.
    assert_eq!((worked.sent, worked.failed, worked.postponed), (2, 0, 1), "{worked:?}");
    let ws = app.teams_workspace().await.unwrap();
    let rahul = app.db.person_by_external(ws.id, RAHUL).await.unwrap().unwrap();
    let reference = app.db.teams_conversation(rahul.id).await.unwrap().unwrap();
    assert!(!reference.installed);
    assert_eq!(reference.problem.as_deref(), Some("ConversationBlockedByUser"));
    app.tick(at + chrono::Duration::minutes(1)).await;
    let told = app
        .teams
        .messages()
        .iter()
        .filter(|c| c.path.contains("1aUserIdOfMaria") && text_of(c).contains("isn't installed"))
        .count();
    assert_eq!(told, 1, "told once");
    let calls_to_rahul = app
        .teams
        .messages()
        .iter()
        .filter(|c| c.path.contains("1bUserIdOfRahul"))
        .count();
    app.tick(at + chrono::Duration::minutes(2)).await;
    assert_eq!(
        app.teams
            .messages()
            .iter()
            .filter(|c| c.path.contains("1bUserIdOfRahul"))
            .count(),
        calls_to_rahul,
        "no retry storm against a 403"
    );
});

both_engines!(installation_and_removal_keep_the_conversation_reference, |app| {
    app.install(MARIA, "Maria Manager").await;
    let ws = app.teams_workspace().await.unwrap();
    let maria = app.db.person_by_external(ws.id, MARIA).await.unwrap().unwrap();
    assert!(app.db.teams_conversation(maria.id).await.unwrap().unwrap().installed);
    let welcome = app.teams.wait_for_messages(1).await;
    assert!(text_of(&welcome[0]).contains("help"));
    app.teams_ok(&activity(
        app,
        "installation_update_remove.json",
        MARIA,
        "Maria Manager",
    ))
    .await;
    assert!(!app.db.teams_conversation(maria.id).await.unwrap().unwrap().installed);
    // Unknown activity types are acknowledged and ignored.
    let mut typing = message(app, MARIA, "Maria Manager", "");
    typing["type"] = json!("typing");
    app.teams_ok(&typing).await;
});

both_engines!(the_setup_form_picks_a_person_and_sets_up_the_1_1, |app| {
    app.install(RAHUL, "Rahul Report").await;
    app.install(MARIA, "Maria Manager").await;
    let mut open = activity(app, "invoke_adaptive_card_action.json", MARIA, "Maria Manager");
    open["value"] = json!({"action": {"type": "Action.Execute", "verb": "open_setup", "data": {"value": ""}}});
    let body: Value = app.teams_ok(&open).await.json().await.unwrap();
    assert_eq!(body["type"], "application/vnd.microsoft.card.adaptive");
    let picker = &body["value"]["body"][1];
    assert_eq!(picker["id"], "partner");
    let choices = picker["choices"].to_string();
    assert!(choices.contains(RAHUL) && !choices.contains(MARIA), "{choices}");
    // Submitted (Universal Action with the inputs merged into data).
    let mut submit = open.clone();
    submit["value"] = json!({"action": {"type": "Action.Execute", "verb": "setup_submit",
        "data": {"value": "", "partner": RAHUL, "cadence": "weekly", "day": "thursday", "time": "14:00"}}});
    let body: Value = app.teams_ok(&submit).await.json().await.unwrap();
    assert_eq!(body["statusCode"], 200, "{body}");
    let ws = app.teams_workspace().await.unwrap();
    let rahul = app.db.person_by_external(ws.id, RAHUL).await.unwrap().unwrap();
    let series = app.db.series_for_person(ws.id, rahul.id, false).await.unwrap();
    assert_eq!(series.len(), 1, "{body}");
    // A forged submission (a value the form never offers) changes nothing.
    let mut forged = open.clone();
    forged["value"] = json!({"action": {"type": "Action.Execute", "verb": "setup_submit",
        "data": {"partner": "29:x> template y", "cadence": "weekly", "day": "monday", "time": "10:00"}}});
    let body: Value = app.teams_ok(&forged).await.json().await.unwrap();
    assert!(body.to_string().contains("no longer valid"), "{body}");
});

both_engines!(the_whole_command_set_works_in_teams_as_in_slack, |app| {
    app.install(MARIA, "Maria Manager").await;
    app.install(RAHUL, "Rahul Report").await;
    app.teams_pair().await;
    // (who, line, something the answer must say)
    let script: &[(&str, &str, &str)] = &[
        (RAHUL, "add #goals Conference budget", "Conference budget"),
        (MARIA, "add Hiring plan", "Hiring plan"),
        (RAHUL, "agenda", "Conference budget"),
        (MARIA, "comment 1 Let's discuss numbers", "comment"),
        (
            MARIA,
            "action Send the offsite plan owner me due 2026-12-04",
            "Send the offsite plan",
        ),
        (MARIA, "actions", "Send the offsite plan"),
        (MARIA, "note Rahul wants to grow into tech lead", "note"),
        (RAHUL, "history", "1:1"),
        (MARIA, "reschedule to thursday at 15:00", "Thu"),
        (RAHUL, "settings hours 08:00-17:00", "08:00"),
        (RAHUL, "away until 2026-12-24", "away"),
        (RAHUL, "back", "back"),
        (MARIA, "pause", "pause"),
        (MARIA, "resume", "resum"),
        (MARIA, "questions", "?"),
        (MARIA, "template list", "template"),
        (MARIA, "stats", "1:1"),
        (MARIA, "help", "setup"),
        (MARIA, "frobnicate", "help"),
        (RAHUL, "", "1:1"),
    ];
    for (who, line, expect) in script {
        let name = if *who == MARIA { "Maria Manager" } else { "Rahul Report" };
        let before = app.teams.messages().len();
        app.teams_ok(&message(app, who, name, line)).await;
        let answers: Vec<String> = app.teams.messages()[before..]
            .iter()
            .filter(|c| c.path.contains(&who.replace(':', "%3A")) && c.method == "POST")
            .map(text_of)
            .collect();
        let answer = answers.first().unwrap_or_else(|| panic!("`{line}` got no answer"));
        assert!(
            answer.to_lowercase().contains(&expect.to_lowercase()),
            "`{line}` answered: {answer}"
        );
        assert!(!answer.contains("went wrong on our side"), "`{line}`: {answer}");
    }
    // A third person in the tenant gets nowhere with the pair's 1:1.
    app.install("29:1cUserIdOfOlga", "Olga Other").await;
    let before = app.teams.messages().len();
    app.teams_ok(&message(app, "29:1cUserIdOfOlga", "Olga Other", "agenda"))
        .await;
    let answer = text_of(&app.teams.messages()[before]);
    assert!(!answer.contains("Conference budget"), "{answer}");
});
