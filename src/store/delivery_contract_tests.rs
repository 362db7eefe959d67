//! The delivery queue's contract, on SQLite and PostgreSQL: idempotent
//! enqueue, claims with a lease, fenced completion, retries, and claims by
//! concurrent workers that never overlap.

use super::contract_tests::contract;
use super::*;
use chrono::{Duration, TimeZone};
use std::collections::HashSet;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

fn lease() -> Duration {
    Duration::minutes(5)
}

struct Fixture {
    ws: WorkspaceId,
    to: PersonId,
}

async fn fixture(db: &Db) -> Fixture {
    let ws = db.ensure_workspace(Platform::Slack, "T1", "acme").await.unwrap();
    let to = db.ensure_person(ws.id, "U1", "maria").await.unwrap();
    Fixture { ws: ws.id, to: to.id }
}

fn new(f: &Fixture, kind: DeliveryKind, subject: &str, due_at: DateTime<Utc>) -> NewDelivery {
    NewDelivery {
        workspace_id: f.ws,
        kind,
        subject: subject.into(),
        slot: due_at + Duration::days(1),
        recipient_id: f.to,
        payload: serde_json::json!({ "subject": subject, "text": "Zoë's agenda ✅" }),
        due_at,
        max_attempts: 3,
    }
}

async fn queued(db: &Db, n: &NewDelivery) -> Delivery {
    assert!(db.enqueue_delivery(n, t0()).await.unwrap());
    let mut all = db.deliveries_for_subject(n.kind, &n.subject).await.unwrap();
    all.retain(|d| d.dedupe_key == n.dedupe_key());
    all.pop().unwrap()
}

contract!(enqueueing_the_same_notification_twice_keeps_one_row, |db| {
    let f = fixture(&db).await;
    let n = new(&f, DeliveryKind::Agenda, "meeting:17", t0());
    assert!(db.enqueue_delivery(&n, t0()).await.unwrap());
    assert!(!db.enqueue_delivery(&n, t0() + Duration::minutes(1)).await.unwrap());
    let mut changed = n.clone();
    changed.payload = serde_json::json!({ "other": true });
    changed.due_at = t0() + Duration::hours(3);
    assert!(
        !db.enqueue_delivery(&changed, t0()).await.unwrap(),
        "same key, whatever else differs"
    );

    let rows = db
        .deliveries_for_subject(DeliveryKind::Agenda, "meeting:17")
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let d = &rows[0];
    assert_eq!(
        d.dedupe_key,
        format!("agenda:meeting:17:{}:{}", n.slot.timestamp(), f.to)
    );
    assert_eq!(d.payload, n.payload, "the payload round-trips");
    assert_eq!((d.state, d.attempts, d.max_attempts), (DeliveryState::Pending, 0, 3));
    assert_eq!(
        (d.slot, d.due_at, d.created_at, d.updated_at),
        (n.slot, t0(), t0(), t0())
    );
    assert_eq!((d.lease_until, d.sent_at, d.last_error.as_deref()), (None, None, None));
    assert_eq!(db.delivery(d.id).await.unwrap().as_ref(), Some(d));

    // Another slot, kind or recipient is another notification.
    let mut next = n.clone();
    next.slot += Duration::weeks(2);
    assert!(db.enqueue_delivery(&next, t0()).await.unwrap());
    let mut follow = n.clone();
    follow.kind = DeliveryKind::FollowUp;
    assert!(db.enqueue_delivery(&follow, t0()).await.unwrap());
    let mut other = n.clone();
    other.recipient_id = db.ensure_person(f.ws, "U2", "rahul").await.unwrap().id;
    assert!(db.enqueue_delivery(&other, t0()).await.unwrap());
    assert_eq!(
        db.deliveries_for_subject(DeliveryKind::Agenda, "meeting:17")
            .await
            .unwrap()
            .len(),
        3
    );

    let mut none = n.clone();
    none.slot += Duration::weeks(4);
    none.max_attempts = 0;
    assert!(matches!(
        db.enqueue_delivery(&none, t0()).await,
        Err(StoreError::Conflict(_))
    ));
});

contract!(claiming_returns_only_due_rows_oldest_first_within_the_limit, |db| {
    let f = fixture(&db).await;
    for (subject, minutes) in [
        ("meeting:3", 0),
        ("meeting:1", -30),
        ("meeting:4", 10),
        ("meeting:2", -10),
    ] {
        queued(
            &db,
            &new(&f, DeliveryKind::Agenda, subject, t0() + Duration::minutes(minutes)),
        )
        .await;
    }
    // Leases outlast this scenario: only the due time decides.
    let lease = || Duration::hours(1);
    let first = db.claim_due_deliveries(t0(), lease(), 2).await.unwrap();
    let subjects: Vec<&str> = first.iter().map(|d| d.subject.as_str()).collect();
    assert_eq!(subjects, ["meeting:1", "meeting:2"]);
    for d in &first {
        assert_eq!(d.state, DeliveryState::Sending);
        assert_eq!(d.attempts, 1);
        assert_eq!(d.lease_until, Some(t0() + lease()));
        assert_eq!(d.updated_at, t0());
    }
    let rest = db.claim_due_deliveries(t0(), lease(), 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|d| d.subject.as_str()).collect::<Vec<_>>(),
        ["meeting:3"],
        "due_at <= now only"
    );
    assert!(db.claim_due_deliveries(t0(), lease(), 10).await.unwrap().is_empty());
    let later = db
        .claim_due_deliveries(t0() + Duration::minutes(10), lease(), 10)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|d| d.subject.as_str()).collect::<Vec<_>>(),
        ["meeting:4"]
    );
});

contract!(a_claimed_row_is_claimed_again_only_after_its_lease_expires, |db| {
    let f = fixture(&db).await;
    let d = queued(&db, &new(&f, DeliveryKind::FollowUp, "meeting:9", t0())).await;
    let first = db.claim_due_deliveries(t0(), lease(), 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, d.id);
    // The worker crashed. Up to the end of the lease, nobody takes the row over.
    for later in [Duration::seconds(1), lease()] {
        assert!(
            db.claim_due_deliveries(t0() + later, lease(), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
    let now = t0() + lease() + Duration::seconds(1);
    let second = db.claim_due_deliveries(now, lease(), 10).await.unwrap();
    assert_eq!(second.len(), 1, "recovered once the lease has passed");
    assert_eq!(second[0].id, d.id);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].lease_until, Some(now + lease()));
    assert!(db.claim_due_deliveries(now, lease(), 10).await.unwrap().is_empty());
});

contract!(
    concurrent_claimers_take_each_of_a_thousand_rows_exactly_once,
    multi_thread,
    |db| {
        let f = fixture(&db).await;
        for i in 0..1000 {
            let n = new(
                &f,
                DeliveryKind::Notice,
                &format!("person:{i}"),
                t0() - Duration::seconds(i),
            );
            assert!(db.enqueue_delivery(&n, t0()).await.unwrap());
        }
        // All four start together, so their claims really overlap.
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(4));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                let start = start.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    let mut mine = Vec::new();
                    loop {
                        // Any error (SQLite's "database is locked" included) fails the test.
                        let batch = db.claim_due_deliveries(t0(), Duration::hours(1), 50).await.unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        assert!(batch.len() <= 50);
                        mine.extend(batch.into_iter().map(|d| (d.id, d.attempts)));
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut per_worker = Vec::new();
        for w in workers {
            let mine = w.await.unwrap();
            per_worker.push(mine.len());
            all.extend(mine);
        }
        let distinct: HashSet<DeliveryId> = all.iter().map(|(id, _)| *id).collect();
        assert_eq!(all.len(), 1000, "claims per worker: {per_worker:?}");
        assert_eq!(distinct.len(), 1000, "no row claimed twice");
        assert!(all.iter().all(|(_, attempts)| *attempts == 1));
        let counts = db.delivery_counts().await.unwrap();
        assert_eq!(counts, vec![(DeliveryKind::Notice, DeliveryState::Sending, 1000)]);
    }
);

contract!(completion_applies_only_to_the_current_claim, |db| {
    let f = fixture(&db).await;
    let pending = queued(&db, &new(&f, DeliveryKind::Agenda, "meeting:5", t0())).await;
    assert!(
        !db.complete_delivery(&pending, Some("D1"), Some("1.1"), t0())
            .await
            .unwrap(),
        "never claimed"
    );

    let late = db.claim_due_deliveries(t0(), lease(), 1).await.unwrap().remove(0);
    // The first worker stalls past its lease; a second one takes over.
    let now = t0() + lease() + Duration::seconds(1);
    let current = db.claim_due_deliveries(now, lease(), 1).await.unwrap().remove(0);
    assert_eq!(current.attempts, 2);
    assert!(!db.complete_delivery(&late, Some("D1"), Some("1.1"), now).await.unwrap());
    assert_eq!(
        db.retry_delivery(&late, now, "timeout", now).await.unwrap(),
        RetryOutcome::Lost
    );
    assert!(!db.fail_delivery(&late, "timeout", now).await.unwrap());
    assert_eq!(
        db.delivery(current.id).await.unwrap().unwrap().state,
        DeliveryState::Sending,
        "untouched"
    );

    assert!(
        db.complete_delivery(&current, Some("D1"), Some("1.2"), now)
            .await
            .unwrap()
    );
    let sent = db.delivery(current.id).await.unwrap().unwrap();
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(
        (sent.message_channel.as_deref(), sent.message_ts.as_deref()),
        (Some("D1"), Some("1.2"))
    );
    assert_eq!(
        (sent.sent_at, sent.updated_at, sent.lease_until),
        (Some(now), now, None)
    );
    assert!(
        !db.complete_delivery(&current, Some("D1"), Some("1.3"), now)
            .await
            .unwrap(),
        "only once"
    );
    assert_eq!(
        db.retry_delivery(&current, now, "late", now).await.unwrap(),
        RetryOutcome::Lost
    );
    assert!(!db.drop_delivery(&current, "late", now).await.unwrap());
    assert_eq!(db.delivery(current.id).await.unwrap().unwrap(), sent);
    let far = now + Duration::days(1);
    assert!(
        db.claim_due_deliveries(far, lease(), 10).await.unwrap().is_empty(),
        "sent is final"
    );

    // A platform without message references still completes.
    queued(&db, &new(&f, DeliveryKind::Notice, "person:1", t0())).await;
    let claim = db.claim_due_deliveries(now, lease(), 1).await.unwrap().remove(0);
    assert!(db.complete_delivery(&claim, None, None, now).await.unwrap());
    assert_eq!(db.delivery(claim.id).await.unwrap().unwrap().message_ts, None);
});

contract!(
    a_failed_attempt_is_retried_later_until_the_last_one_fails_for_good,
    |db| {
        let f = fixture(&db).await;
        let mut n = new(&f, DeliveryKind::ActionDigest, "person:4", t0());
        n.max_attempts = 2;
        let d = queued(&db, &n).await;

        let first = db.claim_due_deliveries(t0(), lease(), 1).await.unwrap().remove(0);
        let retry_at = t0() + backoff(first.attempts, Some(std::time::Duration::from_secs(90)));
        assert!(retry_at >= t0() + Duration::seconds(90));
        let error = format!("chat API said ratelimited {}", "x".repeat(1000));
        let outcome = db.retry_delivery(&first, retry_at, &error, t0()).await.unwrap();
        assert_eq!(outcome, RetryOutcome::Rescheduled);
        let waiting = db.delivery(d.id).await.unwrap().unwrap();
        assert_eq!((waiting.state, waiting.attempts), (DeliveryState::Pending, 1));
        assert_eq!((waiting.due_at, waiting.lease_until), (retry_at, None));
        let stored = waiting.last_error.unwrap();
        assert_eq!(stored.chars().count(), 500);
        assert!(error.starts_with(&stored));

        assert!(
            db.claim_due_deliveries(retry_at - Duration::seconds(1), lease(), 1)
                .await
                .unwrap()
                .is_empty()
        );
        let second = db.claim_due_deliveries(retry_at, lease(), 1).await.unwrap().remove(0);
        assert_eq!(second.attempts, 2);
        let outcome = db
            .retry_delivery(&second, retry_at + Duration::hours(1), "still down", retry_at)
            .await
            .unwrap();
        assert_eq!(outcome, RetryOutcome::Failed);
        let failed = db.delivery(d.id).await.unwrap().unwrap();
        assert_eq!(
            (failed.state, failed.attempts, failed.due_at),
            (DeliveryState::Failed, 2, retry_at)
        );
        assert_eq!(
            (failed.last_error.as_deref(), failed.lease_until),
            (Some("still down"), None)
        );
        let far = retry_at + Duration::days(1);
        assert!(
            db.claim_due_deliveries(far, lease(), 10).await.unwrap().is_empty(),
            "failed is kept, not retried"
        );
    }
);

contract!(failing_and_dropping_keep_the_row_for_the_record, |db| {
    let f = fixture(&db).await;
    let gone = queued(&db, &new(&f, DeliveryKind::StuckTopic, "point:8", t0())).await;
    let claim = db.claim_due_deliveries(t0(), lease(), 1).await.unwrap().remove(0);
    assert!(
        db.fail_delivery(&claim, "recipient left the workspace", t0())
            .await
            .unwrap()
    );
    let failed = db.delivery(gone.id).await.unwrap().unwrap();
    assert_eq!((failed.state, failed.attempts), (DeliveryState::Failed, 1));
    assert_eq!(failed.last_error.as_deref(), Some("recipient left the workspace"));

    let agenda = queued(&db, &new(&f, DeliveryKind::Agenda, "meeting:2", t0())).await;
    assert!(
        db.drop_delivery(&agenda, "the meeting already passed", t0())
            .await
            .unwrap()
    );
    let dropped = db.delivery(agenda.id).await.unwrap().unwrap();
    assert_eq!((dropped.state, dropped.attempts), (DeliveryState::Dropped, 0));
    assert_eq!(dropped.last_error.as_deref(), Some("the meeting already passed"));
    assert!(!db.drop_delivery(&agenda, "again", t0()).await.unwrap());

    // A snapshot taken before a worker claimed the row does not drop it.
    let follow = queued(&db, &new(&f, DeliveryKind::FollowUp, "meeting:2", t0())).await;
    let claim = db.claim_due_deliveries(t0(), lease(), 1).await.unwrap().remove(0);
    assert!(!db.drop_delivery(&follow, "stale", t0()).await.unwrap());
    assert!(
        db.drop_delivery(&claim, "the meeting already passed", t0())
            .await
            .unwrap(),
        "its own claim"
    );
    assert!(
        db.claim_due_deliveries(t0() + Duration::days(1), lease(), 10)
            .await
            .unwrap()
            .is_empty()
    );
});

contract!(counts_group_deliveries_by_kind_and_state, |db| {
    let f = fixture(&db).await;
    assert!(db.delivery_counts().await.unwrap().is_empty());
    for i in 0..3 {
        queued(&db, &new(&f, DeliveryKind::Agenda, &format!("meeting:{i}"), t0())).await;
    }
    queued(
        &db,
        &new(&f, DeliveryKind::Overdue, "series:1", t0() + Duration::hours(1)),
    )
    .await;
    let claims = db.claim_due_deliveries(t0(), lease(), 2).await.unwrap();
    assert!(
        db.complete_delivery(&claims[0], Some("D1"), Some("1.1"), t0())
            .await
            .unwrap()
    );
    assert_eq!(
        db.delivery_counts().await.unwrap(),
        vec![
            (DeliveryKind::Agenda, DeliveryState::Pending, 1),
            (DeliveryKind::Agenda, DeliveryState::Sending, 1),
            (DeliveryKind::Agenda, DeliveryState::Sent, 1),
            (DeliveryKind::Overdue, DeliveryState::Pending, 1),
        ]
    );
});

contract!(the_lag_is_when_the_oldest_due_pending_delivery_was_due, |db| {
    let f = fixture(&db).await;
    assert_eq!(db.oldest_due_pending(t0()).await.unwrap(), None, "an empty queue");
    queued(
        &db,
        &new(&f, DeliveryKind::Agenda, "meeting:1", t0() + Duration::hours(1)),
    )
    .await;
    assert_eq!(db.oldest_due_pending(t0()).await.unwrap(), None, "nothing due yet");
    queued(
        &db,
        &new(&f, DeliveryKind::Agenda, "meeting:2", t0() - Duration::minutes(10)),
    )
    .await;
    queued(
        &db,
        &new(&f, DeliveryKind::Overdue, "series:1", t0() - Duration::minutes(3)),
    )
    .await;
    assert_eq!(
        db.oldest_due_pending(t0()).await.unwrap(),
        Some(t0() - Duration::minutes(10))
    );
    // A claimed row is no longer waiting; the next oldest is.
    let claimed = db.claim_due_deliveries(t0(), lease(), 1).await.unwrap();
    assert_eq!(claimed[0].subject, "meeting:2");
    assert_eq!(
        db.oldest_due_pending(t0()).await.unwrap(),
        Some(t0() - Duration::minutes(3))
    );
});

contract!(pool_stats_count_connections_within_the_maximum, |db| {
    db.ping().await.unwrap();
    let s = db.pool_stats();
    assert!(s.max >= 1, "{s:?}");
    assert!(s.in_use + s.idle >= 1 && s.in_use + s.idle <= s.max, "{s:?}");
    // A held connection counts as in use.
    let held = match &db {
        Db::Sqlite(p) => {
            let _c = p.pool.acquire().await.unwrap();
            db.pool_stats()
        }
        Db::Postgres(p) => {
            let _c = p.acquire().await.unwrap();
            db.pool_stats()
        }
    };
    assert!(held.in_use >= 1, "{held:?}");
});

contract!(a_sent_message_leads_back_to_its_delivery, |db| {
    let f = fixture(&db).await;
    queued(&db, &new(&f, DeliveryKind::Agenda, "meeting:1", t0())).await;
    queued(&db, &new(&f, DeliveryKind::Agenda, "meeting:2", t0())).await;
    let claims = db.claim_due_deliveries(t0(), lease(), 2).await.unwrap();
    for (d, ts) in claims.iter().zip(["100.1", "100.2"]) {
        assert!(db.complete_delivery(d, Some("D1"), Some(ts), t0()).await.unwrap());
    }
    let found = db.delivery_by_message("D1", "100.2").await.unwrap().unwrap();
    assert_eq!((found.id, found.subject.as_str()), (claims[1].id, "meeting:2"));
    assert!(db.delivery_by_message("D2", "100.2").await.unwrap().is_none());
    assert!(db.delivery_by_message("D1", "100.3").await.unwrap().is_none());
});

contract!(a_burst_in_one_workspace_does_not_starve_another, |db| {
    let a = fixture(&db).await;
    let ws_b = db.ensure_workspace(Platform::Slack, "T2", "beta").await.unwrap();
    let to_b = db.ensure_person(ws_b.id, "U9", "bea").await.unwrap();
    let b = Fixture {
        ws: ws_b.id,
        to: to_b.id,
    };
    // Workspace A's 300 are due a minute before B's 3: oldest-first alone would starve B.
    for i in 0..300 {
        db.enqueue_delivery(
            &new(&a, DeliveryKind::Agenda, &format!("a{i}"), t0() - Duration::minutes(1)),
            t0(),
        )
        .await
        .unwrap();
    }
    for i in 0..3 {
        db.enqueue_delivery(&new(&b, DeliveryKind::Agenda, &format!("b{i}"), t0()), t0())
            .await
            .unwrap();
    }
    let claimed = db.claim_due_deliveries_fairly(t0(), lease(), 50).await.unwrap();
    assert_eq!(
        claimed.iter().filter(|d| d.workspace_id == b.ws).count(),
        3,
        "B's three are in the first batch"
    );
    assert!(claimed.len() <= 50 + 5);
    let ids: HashSet<_> = claimed.iter().map(|d| d.id).collect();
    assert_eq!(ids.len(), claimed.len());
});

contract!(a_postponed_claim_goes_back_to_wait_without_using_an_attempt, |db| {
    let f = fixture(&db).await;
    let d = queued(&db, &new(&f, DeliveryKind::Agenda, "p", t0())).await;
    let claim = db.claim_due_deliveries(t0(), lease(), 10).await.unwrap().remove(0);
    assert_eq!(claim.attempts, 1);
    assert!(
        db.postpone_delivery(&claim, t0() + Duration::minutes(30), "rate limited", t0())
            .await
            .unwrap()
    );
    let back = db.delivery(d.id).await.unwrap().unwrap();
    assert_eq!(
        (back.state, back.attempts, back.max_attempts),
        (DeliveryState::Pending, 1, 4)
    );
    assert!(
        db.claim_due_deliveries(t0() + Duration::minutes(29), lease(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.claim_due_deliveries(t0() + Duration::minutes(30), lease(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // A stale claim cannot postpone.
    assert!(!db.postpone_delivery(&claim, t0(), "late", t0()).await.unwrap());
});
