//! Copying a document, within its space or into another: the copy is a new
//! document whose first version holds the same content (the blob is shared,
//! content-addressed, so no byte is copied), created under the actor's
//! rights in the destination after their right to read the source.

use serde_json::json;

use crate::blob::BlobInfo;
use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, SpaceId};

use super::super::access::Fail;
use super::super::locks::cover::Inside;
use super::super::{Actor, InternalApp};
use super::{DocumentView, NewDocument, check_comment};

/// Where a copy goes.
#[derive(Clone, Debug)]
pub struct CopyTarget {
    pub space: SpaceId,
    /// `None`: the space's root.
    pub folder: Option<FolderId>,
    /// The copy's name, validated as any new document's.
    pub name: String,
}

impl InternalApp {
    /// Copies the current version of `source` (with its type and metadata)
    /// as a new document at `to`. The source must be visible to the actor
    /// (`NotFound` otherwise, as for any read); the destination takes the
    /// checks of an upload (`Create` right, writable space, live folder,
    /// valid and free name). The copy's author and creator is the actor.
    pub async fn copy_document(
        &self,
        actor: &Actor,
        source: DocumentId,
        to: CopyTarget,
    ) -> Result<DocumentView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let (_, d) = self.document_access(&mut tx, actor, source).await?;
            let v = self.current_version(&mut tx, &d).await?;
            let new = NewDocument {
                space: to.space,
                folder: to.folder,
                name: to.name,
                doc_type: d.doc_type.clone(),
                metadata: d.metadata.clone(),
                media_type: Some(v.media_type.clone()),
                comment: String::new(),
            };
            let comment = check_comment(&format!("copie de {}", d.name))?;
            let blob = BlobInfo {
                hash: v.hash,
                size: v.size,
            };
            let view = self
                .create_document_in(&mut tx, actor, &new, blob, comment, Inside::Respect)
                .await?;
            self.audit(
                &mut tx,
                actor,
                "document.copy",
                Some(to.space),
                Some(view.document.id.to_string()),
                json!({ "source": source.to_string(), "source_space": d.space.to_string() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(view)
        })
        .await
    }
}
