//! Recipient matching over HTTP (`GET /api/v1/recipients`) on both backends: every kind of key,
//! ranking, people who left, bad input, permissions, a directory change seen at once (also by a
//! second server node on the same database) and tenant isolation.

use crate::both_backends;
use crate::support::{Backend, Client, Fixture, Resp, TestServer, enc, open_app};
use serde_json::{Value, json};

async fn find(c: &Client, q: &str) -> Resp {
    let r = c.get(&format!("/api/v1/recipients?q={}", enc(q))).await;
    assert_eq!(r.status, 200, "{q}: {}", r.text);
    assert!(r.body["next_cursor"].is_null(), "{}", r.text);
    r
}

/// The first result for `q`: its id and what matched.
async fn first(c: &Client, q: &str) -> (String, String, Value) {
    let r = find(c, q).await;
    let top = r.body["items"][0].clone();
    assert!(top.is_object(), "nothing found for {q:?}: {}", r.text);
    (top["id"].as_str().unwrap_or("").to_string(), top["matched"].as_str().unwrap_or("").to_string(), top)
}

async fn created(r: Resp) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

async fn matching(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let zhang = srv.fx.person.id.to_string(); // 张伟杰 / Zhang Weijie, 财务部, alias WJ, E1, wj@example.cn
    let carter = srv.fx.other_person.id.to_string(); // Emily Carter
    let dept = srv.fx.dept.id.to_string(); // 财务部 / Finance, FIN
    let zhang_wei = created(
        admin.post("/api/v1/people", &json!({"name": "张伟", "name_latin": "Zhang Wei", "department_id": dept})).await,
    )
    .await;
    let wang = created(
        admin
            .post(
                "/api/v1/people",
                &json!({"name": "王芳", "aliases": ["芳姐"], "employee_no": "E777", "email": "fang.wang@example.cn"}),
            )
            .await,
    )
    .await;
    let left = created(
        admin
            .post("/api/v1/people", &json!({"name": "李娜", "active": false, "forwarding": "转交王芳（财务部）"}))
            .await,
    )
    .await;
    let team = created(
        admin
            .post(
                "/api/v1/departments",
                &json!({"code": "AP", "name": "应付账款组", "name_en": "Accounts Payable", "kind": "team",
                        "parent_id": dept}),
            )
            .await,
    )
    .await;

    // Chinese characters, with the department shown.
    let (id, matched, top) = first(&clerk, "张伟杰").await;
    assert_eq!((id.as_str(), matched.as_str()), (zhang.as_str(), "name:exact"));
    assert_eq!(top["kind"], "person");
    assert_eq!(top["name"], "张伟杰");
    assert_eq!(top["name_latin"], "Zhang Weijie");
    assert_eq!(top["department_id"], dept.as_str());
    assert_eq!(top["department_name"], "财务部");
    assert_eq!(top["active"], true);
    assert!(top["forwarding"].is_null());
    assert!(top["score"].as_u64().unwrap() > 0);
    // Pinyin with or without spaces and tones, initials, Latin names in either order.
    for q in ["zhangweijie", "zhang wei jie", "Zhāng Wěijié", "zhang1 wei3 jie2", "ZHANGWEIJIE"] {
        assert_eq!(first(&clerk, q).await.0, zhang, "{q}");
    }
    assert_eq!(first(&clerk, "zwj").await, (zhang.clone(), "initials:exact".into(), first(&clerk, "zwj").await.2));
    assert_eq!(first(&clerk, "Weijie Zhang").await.0, zhang);
    assert_eq!(first(&clerk, "Carter Emily").await.0, carter);
    assert_eq!(first(&clerk, "emily carter").await.0, carter);
    // Ranking: the exact 张伟 before 张伟杰, who only starts with it.
    let r = find(&clerk, "zhang wei").await;
    assert_eq!(r.body["items"][0]["id"], zhang_wei.as_str(), "{}", r.text);
    assert_eq!(r.body["items"][1]["id"], zhang.as_str(), "{}", r.text);
    assert!(r.body["items"][0]["score"].as_u64() > r.body["items"][1]["score"].as_u64());
    // Typos.
    let (id, matched, _) = first(&clerk, "Zhnag Weijie").await;
    assert_eq!((id.as_str(), matched.as_str()), (zhang.as_str(), "pinyin:fuzzy"));
    let (id, matched, _) = first(&clerk, "Emliy Carter").await;
    assert_eq!((id.as_str(), matched.as_str()), (carter.as_str(), "name:fuzzy"));
    // Aliases, employee numbers, e-mail.
    assert_eq!(first(&clerk, "芳姐").await.0, wang);
    assert_eq!(first(&clerk, "WJ").await.0, zhang);
    let (id, matched, _) = first(&clerk, "e777").await;
    assert_eq!((id.as_str(), matched.as_str()), (wang.as_str(), "employee_no:exact"));
    let (id, matched, _) = first(&clerk, "Fang.Wang@example.cn").await;
    assert_eq!((id.as_str(), matched.as_str()), (wang.as_str(), "email:exact"));
    // Departments and teams in both languages, by code and by pinyin.
    for q in ["财务部", "Finance", "FIN", "caiwubu"] {
        let (id, _, top) = first(&clerk, q).await;
        assert_eq!(id, dept, "{q}");
        assert_eq!(top["kind"], "department");
    }
    for q in ["应付账款", "accounts payable", "Acounts Payable"] {
        let (id, _, top) = first(&clerk, q).await;
        assert_eq!(id, team, "{q}");
        assert_eq!(top["kind"], "team");
        assert_eq!(top["name_latin"], "Accounts Payable");
        assert_eq!(top["department_name"], "财务部");
    }
    // Someone who left is shown with the forwarding instruction.
    let (id, _, top) = first(&clerk, "李娜").await;
    assert_eq!(id, left);
    assert_eq!(top["active"], false);
    assert_eq!(top["forwarding"], "转交王芳（财务部）");
    // limit.
    let r = clerk.get("/api/v1/recipients?q=zhang&limit=1").await;
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1), "{}", r.text);
    // Nothing like it: an empty list.
    assert_eq!(find(&clerk, "qqqqxxxx").await.body["items"], json!([]));

    // Bad input is a problem, never a 500.
    for path in [
        "/api/v1/recipients",
        "/api/v1/recipients?q=",
        "/api/v1/recipients?q=%20%20",
        "/api/v1/recipients?q=--",
        "/api/v1/recipients?q=zhang&limit=0",
        "/api/v1/recipients?q=zhang&limit=51",
        "/api/v1/recipients?q=zhang&limit=lots",
    ] {
        clerk.get(path).await.assert_problem(422, "validation_failed");
    }
    clerk.get(&format!("/api/v1/recipients?q={}", "z".repeat(101))).await.assert_problem(422, "validation_failed");
    // The same roles as the directory search.
    let employee = srv.client(&srv.token("employee").await);
    employee.get("/api/v1/recipients?q=zhang").await.assert_problem(403, "forbidden");
    employee.get("/api/v1/people?q=zhang").await.assert_problem(403, "forbidden");
    srv.anonymous().get("/api/v1/recipients?q=zhang").await.assert_problem(401, "unauthorized");
    // A scanner station may look recipients up.
    let scanner = clerk.post("/api/v1/tokens", &json!({"name": "intake scanner", "scope": "scanner"})).await;
    assert_eq!(scanner.status, 201, "{}", scanner.text);
    let scanner = srv.client(scanner.body["secret"].as_str().unwrap());
    assert_eq!(first(&scanner, "zwj").await.0, zhang);

    // A directory change is seen by the very next query, on this node and on another node
    // (a second app on the same database, with its own cache).
    let node2 = open_app(&srv.db.url).await;
    let on_node2 = |q: &'static str| {
        let app = node2.clone();
        let p = srv.fx.staff.clone();
        async move { app.find_recipients(&p, q, Some(10)).await.unwrap() }
    };
    assert_eq!(on_node2("Carter Emily").await[0].id.to_string(), carter);
    let r = admin.put(&format!("/api/v1/people/{carter}"), &json!({"name": "Emily Zhou", "employee_no": "E2"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(first(&clerk, "Zhou Emily").await.0, carter);
    assert_eq!(on_node2("Zhou Emily").await[0].id.to_string(), carter);
    assert!(
        find(&clerk, "Carter Emily").await.body["items"].as_array().unwrap().iter().all(|i| i["id"] != carter.as_str())
    );
    let newcomer =
        created(admin.post("/api/v1/people", &json!({"name": "赵子龙", "email": "zilong@example.cn"})).await).await;
    assert_eq!(first(&clerk, "zzl").await.0, newcomer);
    assert_eq!(on_node2("zhao zilong").await[0].id.to_string(), newcomer);
    let r = admin
        .put(
            &format!("/api/v1/people/{newcomer}"),
            &json!({"name": "赵子龙", "active": false, "forwarding": "退回寄件人"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hit = on_node2("赵子龙").await;
    assert!(!hit[0].active);
    assert_eq!(hit[0].forwarding.as_deref(), Some("退回寄件人"));
    let r = admin.delete(&format!("/api/v1/departments/{team}")).await;
    assert!(r.status < 300, "{}", r.text);
    assert!(
        find(&clerk, "accounts payable").await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != team.as_str())
    );
    // Renaming a department shows in its people's results (the whole index is rebuilt).
    let r = admin
        .put(
            &format!("/api/v1/departments/{dept}"),
            &json!({"code": "FIN", "name": "财务与会计部", "name_en": "Finance and Accounting"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(first(&clerk, "zwj").await.2["department_name"], "财务与会计部");
    assert_eq!(on_node2("zwj").await[0].department_name.as_deref(), Some("财务与会计部"));
    assert_eq!(first(&clerk, "finance and accounting").await.0, dept);
    // An import is seen too.
    let csv = "name,name_latin,employee_no,department\n欧阳娜娜,Ouyang Nana,E900,FIN\n";
    let r = admin.post_raw("/api/v1/people/import", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, _, top) = first(&clerk, "nana ouyang").await;
    assert_eq!(top["name"], "欧阳娜娜");
    assert_eq!(on_node2("oynn").await[0].name, "欧阳娜娜");

    // Another organisation with its own 张伟杰 sees only its own directory.
    let other = Fixture::new(srv.app.clone(), "other").await;
    let theirs = srv.client(&srv.app.create_token("other", "clerk").await.unwrap());
    let (id, _, _) = first(&theirs, "zwj").await;
    assert_eq!(id, other.person.id.to_string());
    for q in
        ["张伟杰", "zhangweijie", "王芳", "e777", "fang.wang@example.cn", "李娜", "赵子龙", "Zhou Emily", "欧阳娜娜"]
    {
        let r = find(&theirs, q).await;
        let text = r.text.clone();
        for mine in [&zhang, &wang, &left, &carter, &newcomer, &zhang_wei, &dept] {
            assert!(!text.contains(mine.as_str()), "{q}: the other organisation sees {mine}: {text}");
        }
    }
    // And the first organisation's answers did not change because of it.
    assert_eq!(first(&clerk, "zwj").await.0, zhang);
    srv.stop().await;
}

both_backends!(matching);
