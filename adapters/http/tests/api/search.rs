//! `GET /search` and the extraction statuses over the real router: what a
//! caller may find, parameters read strictly while the text is read
//! leniently, paging, facets, and the administrators' list.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn search(t: &TestApp, s: &Session, query: &str) -> Reply {
    t.send(with_session(
        empty(Method::GET, &format!("/api/v1/search?{query}")),
        s,
    ))
    .await
}

fn names(r: &Reply) -> Vec<String> {
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let mut v: Vec<String> = r.json()["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["document"]["name"].as_str().expect("name").to_owned())
        .collect();
    v.sort();
    v
}

/// Alice's space with two documents, Bob's with one; indexed.
async fn two_spaces() -> (TestApp, Session, Session, String, String) {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let a = t.space(&alice, "piscine").await;
    let b = t.space(&bob, "budget").await;
    for (s, space, name, body) in [
        (&alice, &a, "cctp.txt", &b"bassin olympique"[..]),
        (&alice, &a, "plan.txt", &b"plan du bassin"[..]),
        (&bob, &b, "budget.txt", &b"bassin de retention"[..]),
    ] {
        let r = t.upload(s, space, name, body).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    t.index_now().await;
    (t, alice, bob, a, b)
}

#[tokio::test]
async fn a_search_finds_what_the_caller_may_read_and_nothing_else() {
    let (t, alice, bob, a, b) = two_spaces().await;
    assert_eq!(
        names(&search(&t, &alice, "q=bassin").await),
        ["cctp.txt", "plan.txt"]
    );
    assert_eq!(names(&search(&t, &bob, "q=bassin").await), ["budget.txt"]);
    // Another's space, or one that does not exist: the same empty answer.
    let theirs = search(&t, &alice, &format!("q=bassin&space={b}")).await;
    let nowhere = search(
        &t,
        &alice,
        "q=bassin&space=00000000-0000-4000-8000-000000000000",
    )
    .await;
    assert_eq!(theirs.json(), nowhere.json());
    assert_eq!(theirs.json()["total"], 0);
    let r = search(&t, &alice, &format!("q=bassin&space={a}")).await;
    let body = r.json();
    assert_eq!(body["total"], 2);
    let hit = &body["hits"][0];
    assert_eq!(hit["space"]["slug"], "piscine");
    assert_eq!(hit["folder_path"], "");
    assert_eq!(hit["extraction"], "ok");
    assert_eq!(body["facets"]["space"][0]["label"], "piscine");
    assert_eq!(body["facets"]["space"][0]["count"], 2);
}

#[tokio::test]
async fn a_search_needs_a_session_or_a_token() {
    let (t, _, _, _, _) = two_spaces().await;
    let r = t.send(empty(Method::GET, "/api/v1/search?q=bassin")).await;
    r.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn any_text_is_searched_but_malformed_parameters_are_refused() {
    let (t, alice, _, _, _) = two_spaces().await;
    let long = "a".repeat(20_000);
    for q in [
        "%22",
        "((",
        "montant_ttc%3A%5B",
        "%00",
        "%E2%80%8B",
        "-",
        "OR",
        &long,
        "type%3Ainconnu",
        "date%3A2026-13-45",
    ] {
        let r = search(&t, &alice, &format!("q={q}")).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{q}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    for (query, code) in [
        ("space=nope", "bad_request"),
        ("author=nope", "bad_request"),
        ("folder=..%2F..", "bad_request"),
        ("modified_after=2026-13-01", "bad_request"),
        ("modified_before=hier", "bad_request"),
        ("sort=random", "invalid_sort"),
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("cursor=abc", "invalid_cursor"),
        ("cursor=99999999", "invalid_cursor"),
    ] {
        search(&t, &alice, query)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, code);
    }
}

#[tokio::test]
async fn pages_follow_their_cursor_to_the_end() {
    let (t, alice, _, _, _) = two_spaces().await;
    let first = search(&t, &alice, "q=bassin&sort=name&limit=1")
        .await
        .json();
    assert_eq!(first["total"], 2);
    assert_eq!(first["hits"][0]["document"]["name"], "cctp.txt");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = search(
        &t,
        &alice,
        &format!("q=bassin&sort=name&limit=1&cursor={cursor}"),
    )
    .await
    .json();
    assert_eq!(second["hits"][0]["document"]["name"], "plan.txt");
    assert!(second.get("next_cursor").is_none(), "{second}");
}

#[tokio::test]
async fn typed_metadata_filters_and_facets() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let a = t.space(&alice, "compta").await;
    for (name, amount, supplier) in [
        ("f1.txt", "12000.00", "BTP Rhône"),
        ("f2.txt", "25000.00", "Eaux du Lyonnais"),
    ] {
        let r = t.upload(&alice, &a, name, b"facture").await;
        let id = r.json()["document"]["id"].as_str().expect("id").to_owned();
        let r = t
            .send(with_session(
                json(
                    Method::PUT,
                    &format!("/api/v1/documents/{id}/metadata"),
                    &json!({"type": "facture", "metadata": {
                        "numero": name, "fournisseur": supplier,
                        "montant_ttc": amount, "date_emission": "2026-03-15"
                    }}),
                ),
                &alice,
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    t.index_now().await;
    let range = pct("[10000 TO 20000]");
    assert_eq!(
        names(&search(&t, &alice, &format!("meta.montant_ttc={range}")).await),
        ["f1.txt"]
    );
    assert_eq!(
        names(
            &search(
                &t,
                &alice,
                &format!("meta.fournisseur={}", pct("Eaux du Lyonnais"))
            )
            .await
        ),
        ["f2.txt"]
    );
    assert_eq!(
        names(
            &search(
                &t,
                &alice,
                &format!("q={}", pct("fournisseur:\"BTP Rhône\""))
            )
            .await
        ),
        ["f1.txt"]
    );
    let all = search(&t, &alice, "type=facture").await.json();
    assert_eq!(all["total"], 2);
    let types: &Value = &all["facets"]["type"][0];
    assert_eq!(
        (types["value"].as_str(), types["label"].as_str()),
        (Some("facture"), Some("Facture"))
    );
    assert_eq!(all["facets"]["year"][0]["count"], 2);
    // A key that is no field name finds nothing rather than everything.
    assert_eq!(search(&t, &alice, "meta.x%20y=1").await.json()["total"], 0);
}

#[tokio::test]
async fn extraction_statuses_are_shown_to_readers_and_listed_to_administrators() {
    let (t, alice, bob, _, _) = two_spaces().await;
    let found = search(&t, &alice, "q=cctp").await.json();
    let id = found["hits"][0]["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mine = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/documents/{id}/extraction")),
            &alice,
        ))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.json()["status"], "ok");
    t.send(with_session(
        empty(Method::GET, &format!("/api/v1/documents/{id}/extraction")),
        &bob,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    t.send(with_session(
        empty(Method::GET, "/api/v1/admin/extractions"),
        &alice,
    ))
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    t.agent("root", true).await;
    let root = t.login("root").await;
    let list = t
        .send(with_session(
            empty(Method::GET, "/api/v1/admin/extractions"),
            &root,
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["total"], 0);
    let hash = mine.json()["hash"].as_str().expect("hash").to_owned();
    let retry = t
        .send(with_session(
            empty(
                Method::POST,
                &format!("/api/v1/admin/extractions/{hash}/retry"),
            ),
            &root,
        ))
        .await;
    assert_eq!(retry.status, StatusCode::NO_CONTENT);
    t.send(with_session(
        empty(
            Method::POST,
            "/api/v1/admin/extractions/..%2F..%2Fetc/retry",
        ),
        &root,
    ))
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "bad_request");
}

/// Posts nothing to `uri` as `s` and checks the answer is `status`.
async fn act(t: &TestApp, s: &Session, method: Method, uri: &str, status: StatusCode) {
    let r = t.send(with_session(empty(method, uri), s)).await;
    assert_eq!(
        r.status,
        status,
        "{uri}: {}",
        String::from_utf8_lossy(&r.body)
    );
}

#[tokio::test]
async fn the_trash_is_searched_by_managers_and_admins_only_until_restored() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    t.agent("root", true).await;
    let root = t.login("root").await;
    let space = t.space(&alice, "piscine").await;
    let member = json(
        Method::PUT,
        &format!("/api/v1/spaces/{space}/members/bob"),
        &json!({"role": "reader"}),
    );
    assert_eq!(
        t.send(with_session(member, &alice)).await.status,
        StatusCode::OK
    );
    let old = t
        .upload(&alice, &space, "ancien.txt", b"bassin ancien")
        .await
        .json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.upload(&alice, &space, "neuf.txt", b"bassin neuf").await;
    t.index_now().await;
    // Nothing in the trash yet, even for its manager.
    assert!(names(&search(&t, &alice, "q=bassin&trash=true").await).is_empty());

    act(
        &t,
        &alice,
        Method::DELETE,
        &format!("/api/v1/documents/{old}"),
        StatusCode::NO_CONTENT,
    )
    .await;
    t.index_now().await;
    for s in [&alice, &bob, &root] {
        assert_eq!(names(&search(&t, s, "q=bassin").await), ["neuf.txt"]);
    }
    assert_eq!(
        names(&search(&t, &alice, "q=bassin&trash=true").await),
        ["ancien.txt"]
    );
    assert_eq!(
        names(&search(&t, &root, "q=bassin&trash=true").await),
        ["ancien.txt"]
    );
    // A reader's trash search finds nothing, as a space without a trash.
    let theirs = search(&t, &bob, "q=bassin&trash=true").await;
    assert!(names(&theirs).is_empty());
    assert_eq!(theirs.json()["total"], 0);
    assert_eq!(
        names(&search(&t, &alice, "q=bassin&trash=false").await),
        ["neuf.txt"]
    );
    search(&t, &alice, "q=bassin&trash=oui")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_request");

    act(
        &t,
        &alice,
        Method::POST,
        &format!("/api/v1/trash/documents/{old}/restore"),
        StatusCode::OK,
    )
    .await;
    t.index_now().await;
    assert_eq!(
        names(&search(&t, &bob, "q=bassin").await),
        ["ancien.txt", "neuf.txt"]
    );
    assert!(names(&search(&t, &alice, "q=bassin&trash=true").await).is_empty());
}
