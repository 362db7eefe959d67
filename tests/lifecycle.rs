//! The data lifecycle through the real binary: `oneonone export`,
//! `purge-person` and `backup` against a database seeded through the store
//! (`store::testing::erasure_fixture`), on SQLite and, when
//! `ONEONONE_TEST_POSTGRES_URL` is set, PostgreSQL. Also: the README's
//! `VACUUM INTO` backup statement, run as documented on a live database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use oneonone::store::testing::{self, ERASED_AAD_ID, ErasureFixture};
use oneonone::store::{Db, ERASED_NAME, ERASED_POINT_TEXT};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs one scenario on SQLite and on PostgreSQL (skipped loudly when not configured).
macro_rules! both_engines {
    ($name:ident, |$db:ident, $url:ident, $f:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($db: Db, $url: String) {
                let $f = testing::erasure_fixture(&$db).await.expect("seed the fixture");
                $body
            }
            #[tokio::test]
            async fn on_sqlite() {
                let (db, url) = testing::fresh_sqlite_with_url().await;
                run(db, url).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                if let Some((db, url)) = testing::fresh_postgres_with_url().await {
                    run(db, url).await;
                }
            }
        }
    };
}

/// The binary with `args` on the database at `url`, `stdin` piped in.
fn oneonone(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oneonone"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start oneonone");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A refusal: exit code 2, one line on stderr, nothing on stdout.
fn refused(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
    err
}

fn export(url: &str, extra: &[&str]) -> (String, Value) {
    let mut args = vec!["export", "--workspace", "T0ACME"];
    args.extend(extra);
    let text = ok(&oneonone(url, &args, ""));
    let json = serde_json::from_str(&text).expect("the export is JSON");
    (text, json)
}

fn strings<'a>(v: &'a Value, pointer: &str, field: &str) -> Vec<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
        .iter()
        .map(|x| x[field].as_str().unwrap())
        .collect()
}

/// Every value of `field` anywhere in the document.
fn all_of<'a>(v: &'a Value, field: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if k == field {
                    out.push(x);
                }
                all_of(x, field, out);
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| all_of(x, field, out)),
        _ => {}
    }
}

fn series_with(export: &Value, id: i64) -> &Value {
    export["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("series {id} in {export}"))
}

/// Everything that could identify the erased person.
fn traces_of_the_erased(f: &ErasureFixture) -> Vec<String> {
    vec![
        f.erased.display_name.clone(),
        "Rahul".into(),
        f.erased.email.clone().unwrap(),
        f.erased.external_id.clone(),
        "RAHUL-SECRET".into(),
        ERASED_AAD_ID.into(),
    ]
}

both_engines!(a_workspace_export_holds_everything_but_private_notes, |db, url, f| {
    let (text, v) = export(&url, &[]);
    assert_eq!(v["format_version"], 1);
    assert!(chrono::DateTime::parse_from_rfc3339(v["exported_at"].as_str().unwrap()).is_ok());
    assert_eq!(v["scope"]["kind"], "workspace");
    assert_eq!(v["workspace"]["external_id"], "T0ACME");
    assert_eq!(v["workspace"]["platform"], "slack");
    assert_eq!(
        strings(&v, "/people", "display_name"),
        vec!["Maria Manager", "Rahul Erasable", "Zoë Third"]
    );
    assert_eq!(v["people"][1]["profile"]["email"], "rahul.erasable@example.com");
    assert_eq!(v["people"][1]["profile"]["time_zone_override"], "Asia/Kolkata");
    assert_eq!(v["people"][1]["profile"]["away_until"], "2026-12-24");

    let s = series_with(&v, f.series.id.0);
    assert_eq!(s["manager_id"], f.manager.id.0);
    assert_eq!(s["report_id"], f.erased.id.0);
    assert_eq!(s["state"], "active");
    assert_eq!(s["cadence"], "weekly:1:tue");
    assert_eq!(s["time"], "10:30");
    assert_eq!(s["time_zone"], "Europe/Berlin");
    assert_eq!(s["duration_minutes"], 30);
    let held = &s["meetings"][0];
    assert_eq!(held["id"], f.held.id.0);
    assert_eq!(held["state"], "held");
    assert!(held["closed_at"].is_string());
    assert_eq!(
        strings(held, "/talking_points", "text"),
        vec!["RAHUL-SECRET alone", "RAHUL-SECRET asked", "MARIA-OWN topic"]
    );
    assert_eq!(
        strings(held, "/talking_points/1/comments", "text"),
        vec!["MARIA-OWN answer", "RAHUL-SECRET follow-up"]
    );
    assert_eq!(held["talking_points"][2]["category"], "feedback");
    assert_eq!(
        strings(held, "/ratings", "comment"),
        vec!["MARIA-OWN rating", "RAHUL-SECRET rating"]
    );
    let next = &s["meetings"][1];
    assert_eq!(next["state"], "upcoming");
    assert_eq!(next["confirmed"].as_array().unwrap().len(), 2);
    assert_eq!(
        strings(s, "/action_items", "text"),
        vec!["RAHUL-SECRET task", "MARIA-OWN task"]
    );
    assert_eq!(strings(&v, "/meeting_requests", "text"), vec!["RAHUL-SECRET request"]);
    assert_eq!(strings(&v, "/templates", "name"), vec!["retro"]);
    assert_eq!(
        series_with(&v, f.other_series.id.0)["meetings"][0]["talking_points"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Private notes are nobody's business but their author's.
    let mut notes = Vec::new();
    all_of(&v, "private_notes", &mut notes);
    assert!(notes.is_empty(), "{notes:?}");
    for note in ["RAHUL-SECRET note", "MARIA-OWN note", "ZOE-OWN note"] {
        assert!(!text.contains(note), "{note}");
    }
    assert!(
        v["not_included"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with("private notes"))
    );
    db.close().await;
});

both_engines!(
    a_persons_export_holds_their_1on1s_and_only_their_own_notes,
    |db, url, f| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rahul.json");
        let out = oneonone(
            &url,
            &[
                "export",
                "--workspace",
                "T0ACME",
                "--person",
                "U0RAHUL",
                "--out",
                file.to_str().unwrap(),
            ],
            "",
        );
        assert!(ok(&out).is_empty(), "the export went to the file");
        let text = std::fs::read_to_string(&file).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["scope"],
            serde_json::json!({ "kind": "person", "person_id": f.erased.id.0 })
        );
        assert_eq!(v["series"].as_array().unwrap().len(), 1);
        let s = series_with(&v, f.series.id.0);
        let held = &s["meetings"][0];
        assert_eq!(strings(held, "/private_notes", "text"), vec!["RAHUL-SECRET note"]);
        assert_eq!(strings(held, "/ratings", "comment"), vec!["RAHUL-SECRET rating"]);
        assert_eq!(
            held["talking_points"].as_array().unwrap().len(),
            3,
            "the shared agenda, both authors"
        );
        assert_eq!(s["meetings"][1]["private_notes"], serde_json::json!([]));
        assert!(!text.contains("MARIA-OWN note") && !text.contains("MARIA-OWN rating"));
        assert!(!text.contains("Zoë") && !text.contains("ZOE-OWN"));
        // The partner appears by name only.
        assert_eq!(
            strings(&v, "/people", "display_name"),
            vec!["Maria Manager", "Rahul Erasable"]
        );
        assert!(v["people"][0].get("profile").is_none());
        assert!(!text.contains("maria.manager@example.com"));
        assert_eq!(v["people"][1]["profile"]["email"], "rahul.erasable@example.com");
        assert_eq!(strings(&v, "/templates", "name"), vec!["retro"]);
        assert_eq!(strings(&v, "/meeting_requests", "text"), vec!["RAHUL-SECRET request"]);

        // Every id an operator may have names the same person.
        let internal = f.erased.id.0.to_string();
        let workspace_id = f.ws.id.0.to_string();
        for (ws, person) in [
            ("T0ACME", internal.as_str()),
            ("T0ACME", "rahul.erasable@example.com"),
            ("T0ACME", ERASED_AAD_ID),
            (workspace_id.as_str(), "U0RAHUL"),
        ] {
            let (_, again) = export(&url, &["--person", person]);
            assert_eq!(again["scope"]["person_id"], f.erased.id.0, "{ws} {person}");
            let by_ws = ok(&oneonone(&url, &["export", "--workspace", ws, "--person", person], ""));
            assert!(by_ws.contains("RAHUL-SECRET note"), "{ws} {person}");
        }
        db.close().await;
    }
);

both_engines!(an_unknown_workspace_or_person_is_a_one_line_refusal, |db, url, f| {
    let err = refused(&oneonone(&url, &["export", "--workspace", "T0NOPE"], ""));
    assert!(err.contains("no workspace \"T0NOPE\""), "{err}");
    let err = refused(&oneonone(
        &url,
        &["export", "--workspace", "T0ACME", "--person", "U0NOPE"],
        "",
    ));
    assert!(err.contains("no person \"U0NOPE\""), "{err}");
    let err = refused(&oneonone(
        &url,
        &["purge-person", "--workspace", "T0ACME", "--person", "U0NOPE", "--yes"],
        "",
    ));
    assert!(err.contains("no person"), "{err}");
    // A person of another workspace is not found through this one.
    db.ensure_workspace(oneonone::domain::model::Platform::Slack, "T0OTHER", "other")
        .await
        .unwrap();
    refused(&oneonone(
        &url,
        &["purge-person", "--workspace", "T0OTHER", "--person", "U0RAHUL", "--yes"],
        "",
    ));
    assert_eq!(
        db.person(f.ws.id, f.erased.id).await.unwrap().unwrap().display_name,
        "Rahul Erasable"
    );
    db.close().await;
});

both_engines!(purge_person_asks_first_and_a_no_erases_nothing, |db, url, f| {
    for answer in ["no\n", "", "yess\n"] {
        let out = oneonone(
            &url,
            &["purge-person", "--workspace", "T0ACME", "--person", "U0RAHUL"],
            answer,
        );
        assert_eq!(out.status.code(), Some(2), "{answer:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("for good?") && err.contains("not confirmed; nothing was erased"),
            "{err}"
        );
    }
    assert_eq!(
        db.person(f.ws.id, f.erased.id).await.unwrap().unwrap().display_name,
        "Rahul Erasable"
    );
    assert_eq!(db.private_notes(f.held.id, f.erased.id).await.unwrap().len(), 1);
    let out = ok(&oneonone(
        &url,
        &["purge-person", "--workspace", "T0ACME", "--person", "U0RAHUL"],
        "yes\n",
    ));
    assert!(out.starts_with("Erased person"), "{out}");
    assert_eq!(
        db.person(f.ws.id, f.erased.id).await.unwrap().unwrap().display_name,
        ERASED_NAME
    );
    db.close().await;
});

both_engines!(
    after_a_purge_nothing_of_the_person_is_left_and_the_partners_data_is_intact,
    |db, url, f| {
        let summary = ok(&oneonone(
            &url,
            &[
                "purge-person",
                "--workspace",
                "T0ACME",
                "--person",
                "rahul.erasable@example.com",
                "--yes",
            ],
            "",
        ));
        assert!(summary.contains("1 private note(s) deleted"), "{summary}");
        assert!(summary.contains("1 1:1(s) ended"), "{summary}");
        for trace in traces_of_the_erased(&f) {
            assert!(!summary.contains(&trace), "the summary names {trace}: {summary}");
        }

        let (text, v) = export(&url, &[]);
        for trace in traces_of_the_erased(&f) {
            assert!(!text.contains(&trace), "the export still holds {trace}:\n{text}");
        }
        let gone = &v["people"][1];
        assert_eq!(gone["display_name"], ERASED_NAME);
        assert_eq!(gone["erased"], true);
        assert_eq!(gone["profile"]["email"], Value::Null);

        // Maria's side of the 1:1 is all there, ended.
        let s = series_with(&v, f.series.id.0);
        assert_eq!(s["state"], "ended");
        let held = &s["meetings"][0];
        assert_eq!(
            strings(held, "/talking_points", "text"),
            vec![ERASED_POINT_TEXT, "MARIA-OWN topic"]
        );
        assert_eq!(
            strings(held, "/talking_points/0/comments", "text"),
            vec!["MARIA-OWN answer"]
        );
        assert_eq!(
            strings(held, "/talking_points/1/comments", "text"),
            vec!["MARIA-OWN reply"]
        );
        assert_eq!(strings(held, "/ratings", "comment"), vec!["MARIA-OWN rating"]);
        assert_eq!(strings(s, "/action_items", "text"), vec!["MARIA-OWN task"]);
        assert_eq!(
            strings(&s["meetings"][1], "/talking_points", "text"),
            vec!["MARIA-OWN next"]
        );
        assert_eq!(series_with(&v, f.other_series.id.0)["state"], "active");
        assert!(v["meeting_requests"].as_array().unwrap().is_empty());

        let (maria, _) = export(&url, &["--person", "U0MARIA"]);
        assert!(maria.contains("MARIA-OWN note"));
        for trace in traces_of_the_erased(&f) {
            assert!(!maria.contains(&trace), "Maria's export still holds {trace}");
        }

        // Again: by numeric id it is found and nothing changes; by the old
        // platform id there is nobody any more.
        let id = f.erased.id.0.to_string();
        let again = ok(&oneonone(
            &url,
            &["purge-person", "--workspace", "T0ACME", "--person", &id, "--yes"],
            "",
        ));
        assert!(again.contains("already erased"), "{again}");
        let (text_again, _) = export(&url, &[]);
        let strip = |t: &str| {
            t.lines()
                .filter(|l| !l.contains("exported_at"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&text_again), strip(&text));
        refused(&oneonone(
            &url,
            &["purge-person", "--workspace", "T0ACME", "--person", "U0RAHUL", "--yes"],
            "",
        ));
        db.close().await;
    }
);

both_engines!(
    the_backup_command_copies_sqlite_and_points_postgres_to_pg_dump,
    |db, url, f| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("backup.db");
        let out = oneonone(&url, &["backup", "--out", file.to_str().unwrap()], "");
        match &db {
            Db::Sqlite(_) => {
                assert!(ok(&out).starts_with("Backed up to"));
                // Restoring is using the copy: everything is in it.
                let copy = format!("sqlite://{}", file.display());
                let (text, _) = export(&copy, &["--person", "U0RAHUL"]);
                assert!(text.contains("RAHUL-SECRET note"));
                let err = refused(&oneonone(&url, &["backup", "--out", file.to_str().unwrap()], ""));
                assert!(err.contains("exists"), "{err}");
            }
            Db::Postgres(_) => {
                let err = refused(&out);
                assert!(err.contains("pg_dump"), "{err}");
                assert!(!file.exists());
            }
        }
        // No temporary file is left beside the target.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".oneonone-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        let _ = f;
        db.close().await;
    }
);

/// The README's backup statement, exactly as documented (the path
/// replaced), run through sqlx on a second connection while the service's
/// pool is open and in the middle of an uncommitted write.
#[tokio::test]
async fn the_documented_vacuum_into_backs_up_a_live_sqlite_database() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let documented = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("sqlite3 oneonone.db \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("README documents `sqlite3 oneonone.db \"VACUUM INTO '…'\"`");
    assert_eq!(documented, "VACUUM INTO '/backups/oneonone-$(date +%F).db'");

    let (db, url) = testing::fresh_sqlite_with_url().await;
    let f = testing::erasure_fixture(&db).await.unwrap();
    let Db::Sqlite(oneonone::store::Sqlite { pool, .. }) = &db else {
        unreachable!()
    };
    // A write in progress: the backup must neither wait for it nor contain it.
    let mut writer = pool.begin_with("begin immediate").await.unwrap();
    sqlx::query("insert into processed_events (key, received_at) values ('uncommitted', 1)")
        .execute(&mut *writer)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("oneonone-2026-11-30.db");
    let statement = documented.replace("/backups/oneonone-$(date +%F).db", dest.to_str().unwrap());
    let backup_conn = Db::connect(&url).await.unwrap();
    let Db::Sqlite(oneonone::store::Sqlite { pool: backup_pool, .. }) = &backup_conn else {
        unreachable!()
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(backup_pool)
        .await
        .unwrap();
    writer.commit().await.unwrap();
    backup_conn.close().await;

    let copy = Db::connect(&format!("sqlite://{}", dest.display())).await.unwrap();
    assert!(copy.is_migrated().await.unwrap());
    assert!(
        copy.first_sight_of_event("uncommitted", chrono::Utc::now())
            .await
            .unwrap()
    );
    let c = copy.workspace_content(f.ws.id).await.unwrap();
    assert_eq!(c.people.len(), 3);
    assert_eq!(c.talking_points.len(), 7);
    assert_eq!(copy.private_notes_by(f.ws.id, f.erased.id).await.unwrap().len(), 1);
    copy.close().await;
    db.close().await;
}
