//! Each OpenAPI document (internal node, edge node) covers exactly the
//! routes its router serves.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use passerelle_http::{EDGE_ROUTES, ROUTES, edge_openapi, openapi};
use utoipa::openapi::OpenApi;

use crate::support::*;

fn documented(doc: &OpenApi) -> BTreeSet<(String, String)> {
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

#[track_caller]
fn assert_same_operations(routes: &[(&str, &str)], doc: &OpenApi) {
    let table: BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(table.len(), routes.len(), "a route is listed twice");
    let documented = documented(doc);
    let undocumented: Vec<_> = table.difference(&documented).collect();
    let unlisted: Vec<_> = documented.difference(&table).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unlisted.is_empty(),
        "documented operations missing from the route table: {unlisted:?}"
    );
}

async fn assert_all_routed<A>(t: &TestApp<A>, routes: &[(&str, &str)]) {
    for (method, path) in routes {
        // It answers an in-process request (no client address) as an
        // unknown route, on purpose: see `metrics.rs`.
        if *path == "/metrics" {
            continue;
        }
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

#[test]
fn the_route_table_and_the_openapi_document_list_the_same_operations() {
    assert_same_operations(ROUTES, &openapi());
}

#[test]
fn the_edge_route_table_and_its_openapi_document_list_the_same_operations() {
    assert_same_operations(EDGE_ROUTES, &edge_openapi());
}

#[tokio::test]
async fn every_listed_route_is_served_by_the_router() {
    assert_all_routed(&TestApp::new().await, ROUTES).await;
}

#[tokio::test]
async fn every_listed_edge_route_is_served_by_the_edge_router() {
    assert_all_routed(&TestApp::edge(), EDGE_ROUTES).await;
}

#[tokio::test]
async fn the_edge_serves_its_own_document() {
    let t = TestApp::edge();
    let r = t.send(empty(Method::GET, "/api/v1/openapi.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["info"]["title"], "Passerelle edge API");
    assert!(doc["paths"]["/api/v1/invitations/accept"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/users"].is_null());
    assert!(doc["paths"]["/api/v1/spaces/{id}/documents"]["post"]["responses"]["202"].is_object());
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
