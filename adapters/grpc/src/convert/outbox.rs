//! Outbox items (a contractor's operations travelling from the edge to the
//! internal node) to and from protobuf: one function per operation kind.

use super::{R, at, bad, hash, id_text, json_map, nanos, opt_uuid, uuid};
use passerelle_core::ContentHash;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::replication::{OutboxItem, OutboxOp};
use passerelle_proto::v1 as pb;
use serde_json::{Map, Value};
use uuid::Uuid;

/// An outbox item as protobuf.
pub fn item_to_pb(i: &OutboxItem) -> pb::OutboxItem {
    pb::OutboxItem {
        seq: i.seq,
        op_id: i.op_id.to_string(),
        space: i.space.to_string(),
        contractor: i.contractor.to_string(),
        created_at: nanos(i.created_at),
        op: Some(op_to_pb(&i.op)),
    }
}

/// A protobuf outbox item, validated (names are re-validated by the use
/// cases that apply it; ids and hashes here).
pub fn item_from_pb(i: pb::OutboxItem) -> R<OutboxItem> {
    // The operation is checked before the item's own fields: when both are
    // malformed, the operation's error is the one reported.
    let op = op_from_pb(i.op.ok_or_else(|| bad("outbox.op", "empty"))?)?;
    Ok(OutboxItem {
        seq: i.seq,
        op_id: uuid("outbox.op_id", &i.op_id)?,
        space: SpaceId::from_uuid(uuid("outbox.space", &i.space)?),
        contractor: PrincipalId::from_uuid(uuid("outbox.contractor", &i.contractor)?),
        created_at: at("outbox.created_at", i.created_at)?,
        op,
        outcome: None,
        detail: String::new(),
    })
}

// The variants of `OutboxOp` have no struct of their own, so the `_to_pb`
// functions take the variant's fields and the `_from_pb` ones return the
// whole `OutboxOp`.

fn op_to_pb(op: &OutboxOp) -> pb::outbox_item::Op {
    use pb::outbox_item::Op;
    match op {
        OutboxOp::NewDocument {
            folder,
            name,
            hash,
            size,
            media_type,
            doc_type,
            metadata,
            comment,
        } => Op::NewDocument(new_document_to_pb(
            folder, name, hash, *size, media_type, doc_type, metadata, comment,
        )),
        OutboxOp::NewVersion {
            document,
            base_version,
            hash,
            size,
            media_type,
            comment,
            after_op,
        } => Op::NewVersion(new_version_to_pb(
            *document,
            *base_version,
            hash,
            *size,
            media_type,
            comment,
            *after_op,
        )),
        OutboxOp::Rename { document, name } => Op::Rename(rename_to_pb(*document, name)),
        OutboxOp::Move { document, folder } => Op::Move(move_to_pb(*document, folder)),
        OutboxOp::Delete {
            document,
            base_version,
        } => Op::Delete(delete_to_pb(*document, *base_version)),
        OutboxOp::SetMetadata {
            document,
            doc_type,
            metadata,
        } => Op::SetMetadata(set_metadata_to_pb(*document, doc_type, metadata)),
        OutboxOp::NewFolder {
            folder,
            parent,
            name,
        } => Op::NewFolder(new_folder_to_pb(*folder, parent, name)),
        OutboxOp::AcceptInvitation { invitation } => {
            Op::AcceptInvitation(accept_invitation_to_pb(*invitation))
        }
    }
}

fn op_from_pb(op: pb::outbox_item::Op) -> R<OutboxOp> {
    use pb::outbox_item::Op;
    match op {
        Op::NewDocument(o) => new_document_from_pb(o),
        Op::NewVersion(o) => new_version_from_pb(o),
        Op::Rename(o) => rename_from_pb(o),
        Op::Move(o) => move_from_pb(o),
        Op::Delete(o) => delete_from_pb(o),
        Op::SetMetadata(o) => set_metadata_from_pb(o),
        Op::NewFolder(o) => new_folder_from_pb(o),
        Op::AcceptInvitation(o) => accept_invitation_from_pb(o),
    }
}

fn document(field: &'static str, s: &str) -> R<DocumentId> {
    uuid(field, s).map(DocumentId::from_uuid)
}

// One argument per field of `OutboxOp::NewDocument`, which has eight.
#[allow(clippy::too_many_arguments)]
fn new_document_to_pb(
    folder: &Option<FolderId>,
    name: &str,
    hash: &ContentHash,
    size: u64,
    media_type: &str,
    doc_type: &Option<String>,
    metadata: &Map<String, Value>,
    comment: &str,
) -> pb::NewDocumentOp {
    pb::NewDocumentOp {
        folder: id_text(folder),
        name: name.to_owned(),
        hash: hash.as_bytes().to_vec(),
        size,
        media_type: media_type.to_owned(),
        doc_type: doc_type.clone().unwrap_or_default(),
        metadata_json: Value::Object(metadata.clone()).to_string(),
        comment: comment.to_owned(),
    }
}

fn new_document_from_pb(o: pb::NewDocumentOp) -> R<OutboxOp> {
    Ok(OutboxOp::NewDocument {
        folder: opt_uuid("new_document.folder", &o.folder)?.map(FolderId::from_uuid),
        name: o.name,
        hash: hash("new_document.hash", &o.hash)?,
        size: o.size,
        media_type: o.media_type,
        doc_type: (!o.doc_type.is_empty()).then_some(o.doc_type),
        metadata: json_map("new_document.metadata_json", &o.metadata_json)?,
        comment: o.comment,
    })
}

fn new_version_to_pb(
    document: DocumentId,
    base_version: u32,
    hash: &ContentHash,
    size: u64,
    media_type: &str,
    comment: &str,
    after_op: Option<Uuid>,
) -> pb::NewVersionOp {
    pb::NewVersionOp {
        document: document.to_string(),
        base_version,
        hash: hash.as_bytes().to_vec(),
        size,
        media_type: media_type.to_owned(),
        comment: comment.to_owned(),
        after_op: after_op.map(|id| id.to_string()).unwrap_or_default(),
    }
}

fn new_version_from_pb(o: pb::NewVersionOp) -> R<OutboxOp> {
    Ok(OutboxOp::NewVersion {
        document: document("new_version.document", &o.document)?,
        base_version: o.base_version,
        hash: hash("new_version.hash", &o.hash)?,
        size: o.size,
        media_type: o.media_type,
        comment: o.comment,
        after_op: opt_uuid("new_version.after_op", &o.after_op)?,
    })
}

fn rename_to_pb(document: DocumentId, name: &str) -> pb::RenameOp {
    pb::RenameOp {
        document: document.to_string(),
        name: name.to_owned(),
    }
}

fn rename_from_pb(o: pb::RenameOp) -> R<OutboxOp> {
    Ok(OutboxOp::Rename {
        document: document("rename.document", &o.document)?,
        name: o.name,
    })
}

fn move_to_pb(document: DocumentId, folder: &Option<FolderId>) -> pb::MoveOp {
    pb::MoveOp {
        document: document.to_string(),
        folder: id_text(folder),
    }
}

fn move_from_pb(o: pb::MoveOp) -> R<OutboxOp> {
    Ok(OutboxOp::Move {
        document: document("move.document", &o.document)?,
        folder: opt_uuid("move.folder", &o.folder)?.map(FolderId::from_uuid),
    })
}

fn delete_to_pb(document: DocumentId, base_version: u32) -> pb::DeleteOp {
    pb::DeleteOp {
        document: document.to_string(),
        base_version,
    }
}

fn delete_from_pb(o: pb::DeleteOp) -> R<OutboxOp> {
    Ok(OutboxOp::Delete {
        document: document("delete.document", &o.document)?,
        base_version: o.base_version,
    })
}

fn set_metadata_to_pb(
    document: DocumentId,
    doc_type: &Option<String>,
    metadata: &Map<String, Value>,
) -> pb::SetMetadataOp {
    pb::SetMetadataOp {
        document: document.to_string(),
        doc_type: doc_type.clone().unwrap_or_default(),
        metadata_json: Value::Object(metadata.clone()).to_string(),
    }
}

fn set_metadata_from_pb(o: pb::SetMetadataOp) -> R<OutboxOp> {
    Ok(OutboxOp::SetMetadata {
        document: document("set_metadata.document", &o.document)?,
        doc_type: (!o.doc_type.is_empty()).then_some(o.doc_type),
        metadata: json_map("set_metadata.metadata_json", &o.metadata_json)?,
    })
}

fn new_folder_to_pb(folder: FolderId, parent: &Option<FolderId>, name: &str) -> pb::NewFolderOp {
    pb::NewFolderOp {
        folder: folder.to_string(),
        parent: id_text(parent),
        name: name.to_owned(),
    }
}

fn new_folder_from_pb(o: pb::NewFolderOp) -> R<OutboxOp> {
    Ok(OutboxOp::NewFolder {
        folder: FolderId::from_uuid(uuid("new_folder.folder", &o.folder)?),
        parent: opt_uuid("new_folder.parent", &o.parent)?.map(FolderId::from_uuid),
        name: o.name,
    })
}

fn accept_invitation_to_pb(invitation: Uuid) -> pb::AcceptInvitationOp {
    pb::AcceptInvitationOp {
        invitation_id: invitation.to_string(),
    }
}

fn accept_invitation_from_pb(o: pb::AcceptInvitationOp) -> R<OutboxOp> {
    Ok(OutboxOp::AcceptInvitation {
        invitation: uuid("accept_invitation.invitation_id", &o.invitation_id)?,
    })
}
