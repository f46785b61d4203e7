//! The command-line contract: exit codes, messages and all-or-nothing imports.

use crate::support::{Backend, Fixture, TestDb, cli, ctx};
use mailroom_app::App;
use mailroom_app::items::{RecipientInput, RegisterItemInput};

async fn seeded(backend: Backend) -> Option<(TestDb, Fixture)> {
    let db = TestDb::new(backend).await?;
    let app = crate::support::open_app(&db.url).await;
    let fx = Fixture::new(app, "acme").await;
    Some((db, fx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_people_reports_every_bad_row_and_writes_nothing() {
    let (db, fx) = seeded(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "name,employee_no,department,email\n王芳,E100,FIN,wf@example.cn\n,E101,,\n陈静,E102,NOPE,\n李四,E103,,not-an-email\n").unwrap();
    let before = fx.app.store.count_people(fx.tenant.id).await.unwrap();
    let (code, _, err) = cli(&["import", "people", bad.to_str().unwrap(), "--tenant", "acme", "--db", &db.url]);
    assert_ne!(code, 0);
    for line in ["line 3:", "line 4:", "line 5:"] {
        assert!(err.contains(line), "missing {line} in {err}");
    }
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(fx.app.store.count_people(fx.tenant.id).await.unwrap(), before);

    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"name,employee_no\nJos\xe9,E200\n").unwrap();
    let (code, _, err) = cli(&["import", "people", latin1.to_str().unwrap(), "--tenant", "acme", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");

    let (code, _, err) = cli(&["import", "people", bad.to_str().unwrap(), "--tenant", "nope", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("nope"), "{err}");
    let (code, _, err) = cli(&["import", "people", "/nonexistent.csv", "--tenant", "acme", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot read"), "{err}");

    let depts = dir.path().join("depts.csv");
    std::fs::write(&depts, "code,name,name_en\nLEGAL,法务部,Legal\n").unwrap();
    let (code, out, err) =
        cli(&["import", "departments", depts.to_str().unwrap(), "--tenant", "acme", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 created"), "{out}");
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "name,name_latin,employee_no,department\n王芳,Wang Fang,E100,LEGAL\n陈静,Chen Jing,E102,FIN\n",
    )
    .unwrap();
    let (code, out, err) = cli(&["import", "people", good.to_str().unwrap(), "--tenant", "acme", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 created"), "{out}");
    assert_eq!(fx.app.store.count_people(fx.tenant.id).await.unwrap(), before + 2);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_and_migrate() {
    let (db, _fx) = seeded(Backend::Sqlite).await.unwrap();
    let (code, out, _) = cli(&["token", "create", "--tenant", "acme", "--user", "clerk", "--db", &db.url]);
    assert_eq!(code, 0);
    assert!(out.trim().starts_with("mr_") && out.trim().len() == 67, "{out}");
    let (code, _, err) = cli(&["token", "create", "--tenant", "acme", "--user", "ghost", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("user not found"), "{err}");
    let (code, out, _) = cli(&["migrate", "--db", &db.url]);
    assert_eq!(code, 0);
    assert!(out.contains("up to date"));
    let (code, _, err) = cli(&["migrate", "--db", "mysql://nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("sqlite://"), "{err}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_and_users_from_the_cli() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let (code, out, err) = cli(&["tenant", "create", "--slug", "north", "--name", "北方 North", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created organisation north"));
    let (code, _, err) = cli(&["tenant", "create", "--slug", "North!", "--name", "x", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("slug"), "{err}");
    let (_, out, _) = cli(&["tenant", "list", "--db", &db.url]);
    assert!(out.starts_with("north\t"), "{out}");
    let run = |args: &[&str], password: &str| {
        let out = std::process::Command::new(crate::support::bin())
            .args(args)
            .env("MAILROOM_PASSWORD", password)
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let args = ["user", "create", "--tenant", "north", "--login", "boss", "--role", "admin", "--db", &db.url];
    assert_eq!(run(&args, "long enough pw").0, 0);
    let (code, err) = run(&args, "long enough pw");
    assert_ne!(code, 0);
    assert!(err.contains("taken"), "{err}");
    let (code, err) =
        run(&["user", "create", "--tenant", "north", "--login", "x", "--role", "admin", "--db", &db.url], "short");
    assert_ne!(code, 0);
    assert!(err.contains("8 characters"), "{err}");
    let (code, err) = run(
        &["user", "create", "--tenant", "north", "--login", "x", "--role", "king", "--db", &db.url],
        "long enough pw",
    );
    assert_ne!(code, 0);
    assert!(err.contains("role"), "{err}");
    // The new admin can log in through the API with a token.
    let app = App::open(&db.url).await.unwrap();
    let (_, session) = app.login("north", "BOSS", "long enough pw", "en").await.unwrap();
    assert_eq!(session.lang, "en");
    assert!(app.login("north", "boss", "wrong password", "en").await.is_err());
    db.cleanup().await;
}

async fn verify_names_the_first_broken_link(b: Backend) {
    let Some((db, fx)) = seeded(b).await else { return };
    for i in 0..3 {
        let input = RegisterItemInput {
            tracking_number: Some(format!("VER00000000{i}")),
            recipient: RecipientInput { person_id: Some(fx.person.id), department_id: None, text: None },
            ..Default::default()
        };
        fx.app.register_item(&fx.staff, &ctx(), &input, None).await.unwrap();
    }
    let (code, out, _) = cli(&["verify", "--db", &db.url]);
    assert_eq!(code, 0, "{out}");
    let events = fx.app.store.custody_head(fx.tenant.id).await.unwrap().0;
    assert!(out.contains(&format!("acme: {events} custody events, chain intact")), "{out}");
    let disable = match b {
        Backend::Sqlite => "DROP TRIGGER custody_event_no_update",
        Backend::Postgres => "ALTER TABLE custody_event DISABLE TRIGGER USER",
    };
    db.exec(disable).await.unwrap();
    db.exec("UPDATE custody_event SET source = '10.0.0.99' WHERE seq = 2").await.unwrap();
    let (code, out, _) = cli(&["verify", "--db", &db.url]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN  acme: event #2"), "{out}");
    db.cleanup().await;
}

crate::both_backends!(verify_names_the_first_broken_link);
