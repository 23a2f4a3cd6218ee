//! What a contractor sees of a space while their writes wait (issue 15
//! §4): their pending new document, new version and deletion laid over
//! the replica, to them only, until the internal node decides; then the
//! replica alone. And the content of a waiting write, readable by its
//! author only.

use futures::StreamExt;

use super::*;
use crate::error::CoreError;
use crate::service::{DocumentWrites, QueuedWrites};

async fn read_all(mut s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    out
}

/// The names a reader sees at a space's root, stored then new.
fn names(seen: &SeenContents) -> (Vec<String>, Vec<String>) {
    (
        seen.documents
            .iter()
            .map(|d| d.document.name.as_str().to_owned())
            .collect(),
        seen.new
            .iter()
            .map(|n| n.name.as_str().to_owned())
            .collect(),
    )
}

#[test]
fn a_contractors_pending_writes_show_to_them_until_decided() {
    block_on(async {
        let w = world().await;
        let writes = QueuedWrites::new(w.edge.app.clone());
        let jean = &w.contractor;
        // A document of Jean's own, applied and back down (his to delete).
        let mine = NewDocument {
            space: w.space,
            name: "Mien.txt".into(),
            ..NewDocument::default()
        };
        writes
            .upload(jean, mine, content("le mien"))
            .await
            .expect("upload");
        up(&w.internal, &w.edge).await;
        down(&w.internal, &w.edge, w.space).await;
        let before = w
            .edge
            .app
            .seen_contents(jean, w.space, None)
            .await
            .expect("seen");
        assert!(before.new.is_empty());
        assert!(before.documents.iter().all(|d| d.waiting.is_none()));

        let new = NewDocument {
            space: w.space,
            name: "Rapport.txt".into(),
            ..NewDocument::default()
        };
        writes
            .upload(jean, new, content("rapport"))
            .await
            .expect("upload");
        writes
            .new_version(jean, w.doc, NewVersion::default(), content("v2 de jean"))
            .await
            .expect("version");
        writes
            .new_version(jean, w.doc, NewVersion::default(), content("v3 de jean"))
            .await
            .expect("version");

        let seen = w
            .edge
            .app
            .seen_contents(jean, w.space, None)
            .await
            .expect("seen");
        let (_, new_names) = names(&seen);
        assert_eq!(new_names, ["Rapport.txt"]);
        let doc = seen
            .documents
            .iter()
            .find(|d| d.document.id == w.doc)
            .expect("the document");
        // The latest save is what they read back.
        let waiting = doc.waiting.clone().expect("a waiting version");
        assert_eq!(waiting.size, "v3 de jean".len() as u64);
        let body = w
            .edge
            .app
            .open_waiting(jean, waiting.op, None)
            .await
            .expect("open");
        assert_eq!(read_all(body).await, b"v3 de jean");
        let ranged = w
            .edge
            .app
            .open_waiting(jean, seen.new[0].content.op, Some(1..4))
            .await
            .expect("range");
        assert_eq!(read_all(ranged).await, b"app");

        // Another reader of the space sees the replica only, and cannot
        // read the waiting content (as if absent).
        let seen_by_system = w
            .edge
            .app
            .seen_contents(&Actor::System, w.space, None)
            .await
            .expect("seen by the system");
        assert!(seen_by_system.new.is_empty());
        assert!(matches!(
            w.edge
                .app
                .open_waiting(&Actor::System, waiting.op, None)
                .await,
            Err(CoreError::NotFound(_))
        ));

        // A deletion hides the document from its author at once.
        let mine = seen
            .documents
            .iter()
            .find(|d| d.document.name.as_str() == "Mien.txt")
            .expect("his document")
            .document
            .id;
        writes.delete_document(jean, mine).await.expect("delete");
        let seen = w
            .edge
            .app
            .seen_contents(jean, w.space, None)
            .await
            .expect("seen");
        assert!(seen.documents.iter().all(|d| d.document.id != mine));

        // Decided and come back down: the replica alone, nothing laid over.
        up(&w.internal, &w.edge).await;
        down(&w.internal, &w.edge, w.space).await;
        let after = w
            .edge
            .app
            .seen_contents(jean, w.space, None)
            .await
            .expect("seen");
        let (stored, new_names) = names(&after);
        assert!(new_names.is_empty(), "{new_names:?}");
        assert!(stored.contains(&"Rapport.txt".to_owned()), "{stored:?}");
        assert!(after.documents.iter().all(|d| d.waiting.is_none()));
        assert!(matches!(
            w.edge.app.open_waiting(jean, waiting.op, None).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn the_internal_node_sees_its_rows_and_nothing_waits() {
    block_on(async {
        let w = world().await;
        let seen = w
            .internal
            .app
            .seen_contents(&w.manager, w.space, None)
            .await
            .expect("seen");
        assert!(seen.new.is_empty());
        assert_eq!(seen.documents.len(), 1);
        assert!(seen.documents[0].waiting.is_none());
        assert!(
            w.internal
                .app
                .pending_writes(&w.manager, w.space)
                .await
                .expect("pending")
                .is_empty()
        );
    });
}

#[test]
fn a_space_the_reader_cannot_see_has_no_pending_view() {
    block_on(async {
        let w = world().await;
        let outsider = agent(&w.internal.app, "outsider").await;
        assert!(matches!(
            w.internal.app.seen_contents(&outsider, w.space, None).await,
            Err(CoreError::NotFound(_))
        ));
    });
}
