//! The OpenAPI document covers exactly the routes the router serves.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use passerelle_http::{ROUTES, openapi};

use crate::support::*;

fn documented() -> BTreeSet<(String, String)> {
    let doc = openapi();
    let mut out = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
            ("HEAD", &item.head),
            ("OPTIONS", &item.options),
            ("TRACE", &item.trace),
        ];
        for (method, op) in ops {
            if op.is_some() {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_route_table_and_the_openapi_document_list_the_same_operations() {
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(table.len(), ROUTES.len(), "a route is listed twice");
    let documented = documented();
    let undocumented: Vec<_> = table.difference(&documented).collect();
    let unlisted: Vec<_> = documented.difference(&table).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unlisted.is_empty(),
        "documented operations missing from ROUTES: {unlisted:?}"
    );
}

/// Fills `{param}`s with values of the right shape.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{n}" => "1".to_owned(),
            "{login}" | "{key}" => "someone".to_owned(),
            s if s.starts_with('{') => "00000000-0000-7000-8000-000000000000".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_listed_route_is_served_by_the_router() {
    let t = TestApp::new().await;
    for (method, path) in ROUTES {
        let uri = concrete(path);
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let r = t.send(empty(m, &uri)).await;
        let routed = r.status != StatusCode::METHOD_NOT_ALLOWED
            && !(r.status == StatusCode::NOT_FOUND && r.json()["detail"] == "no such route");
        assert!(
            routed,
            "{method} {path} ({uri}) is not routed: {}",
            r.status
        );
    }
}

#[tokio::test]
async fn the_document_is_served_as_json() {
    let t = TestApp::new().await;
    let r = t.send(empty(Method::GET, "/api/v1/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(doc["paths"]["/api/v1/spaces/{id}/documents"]["post"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
