//! The Slack install store's contract, on SQLite and PostgreSQL: installs
//! round-trip and reinstalls replace, a refresh is claimed by one replica
//! and written only at the version it started from, and an install state is
//! consumed exactly once, even by concurrent requests.

use super::contract_tests::contract;
use super::*;
use chrono::{Duration, TimeZone};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

fn install(team: &str) -> SlackInstallation {
    SlackInstallation {
        team_id: team.into(),
        enterprise_id: None,
        team_name: "Acme Ltd".into(),
        app_id: "A0APP".into(),
        bot_user_id: "U0BOT".into(),
        bot_id: "B0BOT".into(),
        bot_scopes: "chat:write,commands".into(),
        bot_token: vec![1, 2, 3, 0, 255],
        bot_refresh_token: Some(vec![9, 8, 7]),
        bot_token_expires_at: Some(t0() + Duration::hours(12)),
        installer_user_id: "U0ADMIN".into(),
        installed_at: t0(),
        token_version: 0,
        refresh_claimed_until: None,
    }
}

contract!(an_install_round_trips_and_a_reinstall_replaces_it, |db| {
    assert_eq!(db.slack_installation("T1").await.unwrap(), None);
    let first = install("T1");
    db.save_slack_installation(&first, t0()).await.unwrap();
    let stored = db.slack_installation("T1").await.unwrap().unwrap();
    assert_eq!(stored, first, "every field round-trips, bytes included");

    let again = SlackInstallation {
        bot_token: vec![4, 4],
        bot_refresh_token: None,
        bot_token_expires_at: None,
        team_name: "Acme".into(),
        installed_at: t0() + Duration::days(1),
        ..first.clone()
    };
    db.save_slack_installation(&again, t0() + Duration::days(1))
        .await
        .unwrap();
    let stored = db.slack_installation("T1").await.unwrap().unwrap();
    assert_eq!(stored.bot_token, vec![4, 4]);
    assert_eq!((stored.bot_refresh_token, stored.bot_token_expires_at), (None, None));
    assert_eq!(stored.team_name, "Acme");
    assert_eq!(stored.token_version, 1, "a reinstall fences out refreshes in flight");
    assert_eq!(
        db.slack_installation("T2").await.unwrap(),
        None,
        "other teams untouched"
    );
});

contract!(deleting_an_install_forgets_its_tokens_once, |db| {
    db.save_slack_installation(&install("T1"), t0()).await.unwrap();
    db.save_slack_installation(&install("T2"), t0()).await.unwrap();
    assert!(db.delete_slack_installation("T1").await.unwrap());
    assert!(!db.delete_slack_installation("T1").await.unwrap(), "already gone");
    assert_eq!(db.slack_installation("T1").await.unwrap(), None);
    assert!(db.slack_installation("T2").await.unwrap().is_some());
});

contract!(one_replica_claims_a_refresh_and_only_its_version_is_written, |db| {
    db.save_slack_installation(&install("T1"), t0()).await.unwrap();
    let v = db.slack_installation("T1").await.unwrap().unwrap().token_version;
    let until = t0() + Duration::seconds(30);
    assert!(db.claim_slack_token_refresh("T1", v, t0(), until).await.unwrap());
    assert!(
        !db.claim_slack_token_refresh("T1", v, t0(), until).await.unwrap(),
        "the second replica finds the live claim"
    );
    let claimed = db.slack_installation("T1").await.unwrap().unwrap();
    assert_eq!(claimed.refresh_claimed_until, Some(until));

    let expires = t0() + Duration::hours(12);
    assert!(
        db.rotate_slack_tokens("T1", v, &[5], &[6], Some(expires), t0())
            .await
            .unwrap()
    );
    assert!(
        !db.rotate_slack_tokens("T1", v, &[7], &[8], Some(expires), t0())
            .await
            .unwrap(),
        "a stale version writes nothing"
    );
    let rotated = db.slack_installation("T1").await.unwrap().unwrap();
    assert_eq!((rotated.bot_token, rotated.bot_refresh_token), (vec![5], Some(vec![6])));
    assert_eq!(rotated.token_version, v + 1);
    assert_eq!(rotated.refresh_claimed_until, None);
    assert!(
        !db.claim_slack_token_refresh("T1", v, t0(), until).await.unwrap(),
        "an old version cannot be claimed"
    );
});

contract!(a_claim_expires_and_a_released_claim_is_free_again, |db| {
    db.save_slack_installation(&install("T1"), t0()).await.unwrap();
    let v = db.slack_installation("T1").await.unwrap().unwrap().token_version;
    let until = t0() + Duration::seconds(30);
    assert!(db.claim_slack_token_refresh("T1", v, t0(), until).await.unwrap());
    assert!(
        db.claim_slack_token_refresh("T1", v, until, until + Duration::seconds(30))
            .await
            .unwrap(),
        "a crashed replica's claim lapses"
    );
    db.release_slack_token_refresh("T1", v).await.unwrap();
    assert!(
        db.claim_slack_token_refresh("T1", v, until, until + Duration::seconds(30))
            .await
            .unwrap()
    );
});

contract!(a_state_is_consumed_once_and_an_expired_one_is_refused, |db| {
    db.issue_oauth_state("h1", t0() + Duration::minutes(10), t0())
        .await
        .unwrap();
    db.issue_oauth_state("h2", t0() + Duration::minutes(10), t0())
        .await
        .unwrap();
    assert_eq!(
        db.consume_oauth_state("h1", t0()).await.unwrap(),
        OAuthStateCheck::Valid
    );
    assert_eq!(
        db.consume_oauth_state("h1", t0()).await.unwrap(),
        OAuthStateCheck::Unknown
    );
    assert_eq!(
        db.consume_oauth_state("nope", t0()).await.unwrap(),
        OAuthStateCheck::Unknown
    );
    let late = t0() + Duration::minutes(10);
    assert_eq!(
        db.consume_oauth_state("h2", late).await.unwrap(),
        OAuthStateCheck::Expired
    );
    assert_eq!(
        db.consume_oauth_state("h2", late).await.unwrap(),
        OAuthStateCheck::Unknown
    );
});

contract!(issuing_a_state_clears_expired_ones, |db| {
    db.issue_oauth_state("old", t0() + Duration::minutes(10), t0())
        .await
        .unwrap();
    let later = t0() + Duration::hours(1);
    db.issue_oauth_state("new", later + Duration::minutes(10), later)
        .await
        .unwrap();
    assert_eq!(
        db.consume_oauth_state("old", t0()).await.unwrap(),
        OAuthStateCheck::Unknown,
        "purged"
    );
    assert_eq!(
        db.consume_oauth_state("new", later).await.unwrap(),
        OAuthStateCheck::Valid
    );
});

contract!(
    concurrent_requests_with_one_state_let_exactly_one_through,
    multi_thread,
    |db| {
        db.issue_oauth_state("h", t0() + Duration::minutes(10), t0())
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { db.consume_oauth_state("h", t0()).await.unwrap() })
            })
            .collect();
        let mut valid = 0;
        for t in tasks {
            if t.await.unwrap() == OAuthStateCheck::Valid {
                valid += 1;
            }
        }
        assert_eq!(valid, 1);
    }
);
