//! The edge's outbox stays bounded (issue 12): the contractor's list of
//! operations is paged, and a full outbox refuses writes with 503
//! `outbox_full` and `Retry-After`, storing nothing, until it drains.

use passerelle_core::CoreSettings;
use passerelle_core::EdgeApp;

use super::*;

async fn new_folder(t: &TestApp<EdgeApp>, s: &Session, space: &str, name: &str) -> Reply {
    let req = json(
        Method::POST,
        &format!("/api/v1/spaces/{space}/folders"),
        &json!({ "name": name, "parent": null }),
    );
    t.send(with_session(req, s)).await
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["name"].as_str().expect("name"))
        .collect()
}

#[tokio::test]
async fn the_operations_list_is_paged_newest_first_with_the_total() {
    let (t, seeded, writer, reader) = with_contractors().await;
    for name in ["F1", "F2", "F3", "F4", "F5"] {
        assert_pending(
            &new_folder(&t, &writer, &seeded.space, name).await,
            "new_folder",
        );
    }
    let first = operations_page(&t, &writer, &seeded.space, "offset=0&limit=2").await;
    assert_eq!(names(&first), ["F5", "F4"]);
    assert_eq!(
        (&first["total"], &first["offset"], &first["limit"]),
        (&json!(5), &json!(0), &json!(2))
    );
    let last = operations_page(&t, &writer, &seeded.space, "offset=4&limit=2").await;
    assert_eq!((names(&last), &last["total"]), (vec!["F1"], &json!(5)));
    assert_eq!(operations(&t, &writer, &seeded.space).await.len(), 5);
    // Each contractor sees their own.
    let theirs = operations_page(&t, &reader, &seeded.space, "").await;
    assert_eq!(theirs["total"], 0);
}

#[tokio::test]
async fn a_full_outbox_refuses_writes_with_503_and_retry_after_until_it_drains() {
    // Room for three: the two contractors' acceptances, still pending, and
    // one write.
    let settings = CoreSettings {
        max_pending_operations: 3,
        ..CoreSettings::default()
    };
    let (t, seeded, writer, _) = with_contractors_on(TestApp::edge_with(settings)).await;
    let first = t
        .upload(&writer, &seeded.space, "Relevé.txt", b"mesures")
        .await;
    let first = assert_pending(&first, "new_document");

    let blobs = t.blobs.len();
    let refused = t.upload(&writer, &seeded.space, "Plan.txt", b"plan").await;
    let problem = refused.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "outbox_full");
    assert_eq!(problem["type"], "urn:passerelle:problem:outbox_full");
    let retry: u64 = refused
        .header(header::RETRY_AFTER)
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry > 0);
    new_folder(&t, &writer, &seeded.space, "Relevés")
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "outbox_full");
    assert_eq!(t.blobs.len(), blobs, "the refused upload left no content");
    let ops = operations(&t, &writer, &seeded.space).await;
    assert_eq!(ops.len(), 1, "the refused writes left no operation");

    // The internal node drains the accepted write: there is room again.
    let id: Uuid = first["op_id"].as_str().expect("id").parse().expect("uuid");
    t.app
        .acknowledge_operations(&[(id, OpOutcome::Applied, String::new())])
        .await
        .expect("acknowledged");
    let again = t.upload(&writer, &seeded.space, "Plan.txt", b"plan").await;
    assert_pending(&again, "new_document");
}
