//! The data lifecycle's store contract, on SQLite and PostgreSQL: a
//! workspace read whole, an erasure that keeps the partner's data, lookups
//! by the ids an operator has, and the online SQLite backup.

use super::contract_tests::contract;
use super::testing::{ERASED_AAD_ID, ErasureFixture, erasure_fixture};
use super::*;

async fn fixture(db: &Db) -> ErasureFixture {
    erasure_fixture(db).await.expect("seed the erasure fixture")
}

fn texts_of_points(points: &[TalkingPoint]) -> Vec<&str> {
    points.iter().map(|t| t.text.as_str()).collect()
}

contract!(a_workspace_is_read_whole_and_no_other_workspace_leaks_in, |db| {
    let f = fixture(&db).await;
    let elsewhere = db.ensure_workspace(Platform::Slack, "T0OTHER", "other").await.unwrap();
    let stranger = db.ensure_person(elsewhere.id, "U0STRANGER", "stranger").await.unwrap();
    let p2 = db.ensure_person(elsewhere.id, "U0PAL", "pal").await.unwrap();
    let s = db
        .create_series(&new_series_for(elsewhere.id, stranger.id, p2.id, f.series.created_at))
        .await
        .unwrap();
    let (m, _) = db.insert_meeting(s.id, f.held.slot, f.held.slot).await.unwrap();
    db.add_talking_point(
        m.id,
        stranger.id,
        Category::Other,
        "STRANGER point",
        f.series.created_at,
    )
    .await
    .unwrap();

    let c = db.workspace_content(f.ws.id).await.unwrap();
    assert_eq!(c.people.len(), 3);
    assert_eq!(
        c.series.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![f.series.id, f.other_series.id]
    );
    assert_eq!(c.meetings.len(), 3);
    assert_eq!(c.talking_points.len(), 7);
    assert!(!texts_of_points(&c.talking_points).contains(&"STRANGER point"));
    assert_eq!(c.comments.len(), 4);
    assert_eq!(c.action_items.len(), 3);
    assert_eq!(c.ratings.len(), 2);
    assert_eq!(c.attendance.len(), 2);
    assert!(c.attendance.iter().all(|a| a.meeting_id == f.next.id));
    assert_eq!(c.templates.len(), 1);
    assert_eq!(c.requests.len(), 1);

    // Private notes are read only per author.
    let notes = db.private_notes_by(f.ws.id, f.erased.id).await.unwrap();
    assert_eq!(
        notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        vec!["RAHUL-SECRET note"]
    );
    assert!(db.private_notes_by(elsewhere.id, f.erased.id).await.unwrap().is_empty());
});

fn new_series_for(ws: WorkspaceId, m: PersonId, r: PersonId, at: DateTime<Utc>) -> NewSeries {
    NewSeries {
        workspace_id: ws,
        manager_id: m,
        report_id: r,
        cadence: Cadence::Weekly {
            interval: 1,
            weekday: chrono::Weekday::Mon,
        },
        time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        tz: chrono_tz::UTC,
        duration_minutes: 30,
        template: None,
        lead_minutes: 60,
        anchor_date: at.date_naive(),
        created_at: at,
    }
}

contract!(purging_a_person_erases_their_data_and_keeps_the_partners, |db| {
    let f = fixture(&db).await;
    let c = db.purge_person(f.ws.id, f.erased.id).await.unwrap();
    assert_eq!(
        c,
        PurgeCounts {
            private_notes: 1,
            ratings: 1,
            attendance: 1,
            comments: 2,
            talking_points: 2,
            talking_points_blanked: 1,
            action_items: 1,
            requests: 1,
            posted_agendas: 1,
            // to Rahul (agenda, digest), and about his 1:1 (Maria's agenda,
            // the overdue nudge, the away and not-installed notices)
            deliveries: 6,
            teams_conversations: 1,
            series_ended: 1,
            profile: true,
        }
    );

    // The tombstone: nothing personal, found by nobody.
    let gone = db.person(f.ws.id, f.erased.id).await.unwrap().unwrap();
    assert_eq!(gone.display_name, ERASED_NAME);
    assert_eq!(gone.external_id, format!("{ERASED_PREFIX}{}", f.erased.id));
    assert_eq!(
        (gone.email, gone.tz_override, gone.platform_tz, gone.away_until),
        (None, None, None, None)
    );
    assert!(db.person_by_external(f.ws.id, "U0RAHUL").await.unwrap().is_none());
    assert!(db.people_by_name(f.ws.id, "Rahul Erasable").await.unwrap().is_empty());
    assert!(db.people_by_name(f.ws.id, ERASED_NAME).await.unwrap().is_empty());
    assert!(db.people_by_name(f.ws.id, &gone.external_id).await.unwrap().is_empty());
    assert!(
        db.people_by_email(f.ws.id, "rahul.erasable@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.people_by_aad_object_id(f.ws.id, ERASED_AAD_ID)
            .await
            .unwrap()
            .is_empty()
    );
    let listed: Vec<PersonId> = db.people_in(f.ws.id, 10).await.unwrap().iter().map(|p| p.id).collect();
    assert_eq!(listed.len(), 2);
    assert!(!listed.contains(&f.erased.id));
    assert!(db.teams_conversation(f.erased.id).await.unwrap().is_none());

    // Their 1:1 with Maria ended, kept for her; Zoë's is untouched.
    let s = db.series(f.ws.id, f.series.id).await.unwrap().unwrap();
    assert_eq!(s.state, SeriesState::Ended);
    let other = db.series(f.ws.id, f.other_series.id).await.unwrap().unwrap();
    assert_eq!(other.state, SeriesState::Active);

    // The held meeting: Maria's point and her comments stay; Rahul's point
    // with Maria's answer stays blank; his lone point and comments are gone.
    let points = db.talking_points(f.held.id).await.unwrap();
    assert_eq!(texts_of_points(&points), vec![ERASED_POINT_TEXT, "MARIA-OWN topic"]);
    let comments = db.comments_for_meeting(f.held.id).await.unwrap();
    assert_eq!(
        comments.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        vec!["MARIA-OWN answer", "MARIA-OWN reply"]
    );
    assert_eq!(
        texts_of_points(&db.talking_points(f.next.id).await.unwrap()),
        vec!["MARIA-OWN next"]
    );
    assert_eq!(db.talking_points(f.other_meeting.id).await.unwrap().len(), 2);

    assert!(db.private_notes(f.held.id, f.erased.id).await.unwrap().is_empty());
    assert_eq!(db.private_notes(f.held.id, f.manager.id).await.unwrap().len(), 1);
    let ratings = db.ratings_for_meeting(f.held.id).await.unwrap();
    assert_eq!(
        ratings.iter().map(|r| r.person_id).collect::<Vec<_>>(),
        vec![f.manager.id]
    );
    assert_eq!(db.attendance(f.next.id).await.unwrap(), vec![f.manager.id]);

    // Maria keeps the task Rahul gave her (credited to the tombstone).
    let items = db.action_items_created_in(f.held.id).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].text.as_str(), items[0].owner_id, items[0].created_by),
        ("MARIA-OWN task", f.manager.id, f.erased.id)
    );

    // Posted agendas: Maria's copy stays, Rahul's DM reference is gone.
    assert!(
        db.posted_agenda_at("D0RAHUL", "1700000000.000100")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.posted_agenda_at("D0MARIA", "1700000000.000200")
            .await
            .unwrap()
            .is_some()
    );

    // Notifications about Zoë's 1:1 and Maria's own digest stay.
    let kept: Vec<(DeliveryKind, u64)> = db
        .delivery_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _, n)| (k, n))
        .collect();
    assert_eq!(kept, vec![(DeliveryKind::ActionDigest, 1), (DeliveryKind::Agenda, 1)]);
    let maria = db
        .deliveries_for_subject(DeliveryKind::ActionDigest, &format!("person:{}", f.manager.id))
        .await
        .unwrap();
    assert_eq!(maria.len(), 1);

    // The template Rahul made is the workspace's and stays.
    assert_eq!(db.templates(f.ws.id).await.unwrap().len(), 1);
});

contract!(purging_twice_changes_nothing_the_second_time, |db| {
    let f = fixture(&db).await;
    db.purge_person(f.ws.id, f.erased.id).await.unwrap();
    let before = db.workspace_content(f.ws.id).await.unwrap();
    let again = db.purge_person(f.ws.id, f.erased.id).await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    let after = db.workspace_content(f.ws.id).await.unwrap();
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
});

contract!(a_person_who_comes_back_after_erasure_is_a_new_person, |db| {
    let f = fixture(&db).await;
    db.purge_person(f.ws.id, f.erased.id).await.unwrap();
    let back = db.ensure_person(f.ws.id, "U0RAHUL", "Rahul Erasable").await.unwrap();
    assert_ne!(back.id, f.erased.id);
    assert!(db.series_for_person(f.ws.id, back.id, true).await.unwrap().is_empty());
    // A new 1:1 with Maria is a new series, not the ended one revived.
    let s = db
        .create_series(&new_series_for(f.ws.id, f.manager.id, back.id, f.series.created_at))
        .await
        .unwrap();
    assert_ne!(s.id, f.series.id);
});

contract!(
    purging_someone_of_another_workspace_is_refused_and_changes_nothing,
    |db| {
        let f = fixture(&db).await;
        let elsewhere = db.ensure_workspace(Platform::Teams, "tenant-2", "other").await.unwrap();
        let err = db.purge_person(elsewhere.id, f.erased.id).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(
            db.person(f.ws.id, f.erased.id).await.unwrap().unwrap().display_name,
            "Rahul Erasable"
        );
        assert_eq!(db.private_notes(f.held.id, f.erased.id).await.unwrap().len(), 1);
    }
);

contract!(workspaces_and_people_are_found_by_the_ids_an_operator_has, |db| {
    let f = fixture(&db).await;
    let console = db
        .ensure_workspace(Platform::Console, "T0ACME", "T0ACME")
        .await
        .unwrap();
    let found = db.workspaces_by_external("T0ACME").await.unwrap();
    assert_eq!(
        found.iter().map(|w| w.id).collect::<Vec<_>>(),
        vec![f.ws.id, console.id]
    );
    assert!(db.workspaces_by_external("T0NOPE").await.unwrap().is_empty());
    let by_aad = db
        .people_by_aad_object_id(f.ws.id, &ERASED_AAD_ID.to_uppercase())
        .await
        .unwrap();
    assert_eq!(by_aad.iter().map(|p| p.id).collect::<Vec<_>>(), vec![f.erased.id]);
    assert!(
        db.people_by_aad_object_id(console.id, ERASED_AAD_ID)
            .await
            .unwrap()
            .is_empty()
    );
});

contract!(an_online_backup_is_a_consistent_copy_on_sqlite_only, |db| {
    let f = fixture(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup.db");
    match &db {
        Db::Sqlite(pool) => {
            // Another connection is in the middle of a read transaction.
            let mut reader = pool.pool.begin().await.unwrap();
            let n: i64 = sqlx::query_scalar("select count(*) from talking_points")
                .fetch_one(&mut *reader)
                .await
                .unwrap();
            assert_eq!(n, 7);
            db.backup_to(&dest).await.unwrap();
            reader.commit().await.unwrap();
            let copy = Db::connect(&format!("sqlite://{}", dest.display())).await.unwrap();
            assert!(copy.is_migrated().await.unwrap());
            let c = copy.workspace_content(f.ws.id).await.unwrap();
            assert_eq!(c.talking_points.len(), 7);
            assert_eq!(copy.private_notes_by(f.ws.id, f.erased.id).await.unwrap().len(), 1);
            copy.close().await;
            // VACUUM INTO never overwrites a database.
            assert!(db.backup_to(&dest).await.is_err());
        }
        Db::Postgres(_) => {
            let err = db.backup_to(&dest).await.unwrap_err();
            assert!(matches!(err, StoreError::Conflict(m) if m.contains("pg_dump")));
            assert!(!dest.exists());
        }
    }
});
