//! Conversions between the generated protobuf types and core types. Every
//! incoming message is hostile input: ids, names, hashes, roles and JSON are
//! parsed and validated here, at the boundary.

use passerelle_core::ContentHash;
use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::{
    Document, Folder, Membership, Principal, PrincipalKind, Space, Trashed, Version, Visibility,
};
use passerelle_core::names::{DocumentName, Login, Slug};
use passerelle_core::replication::{ChangeRow, Invitation, OpOutcome, OutboxItem, OutboxOp};
use passerelle_core::role::Role;
use passerelle_proto::v1 as pb;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

/// A message from the peer that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {problem}")]
pub struct ConvertError {
    pub field: &'static str,
    pub problem: String,
}

fn bad(field: &'static str, problem: impl ToString) -> ConvertError {
    ConvertError {
        field,
        problem: problem.to_string(),
    }
}

type R<T> = Result<T, ConvertError>;

fn uuid(field: &'static str, s: &str) -> R<Uuid> {
    Uuid::parse_str(s).map_err(|_| bad(field, "not a UUID"))
}

fn opt_uuid(field: &'static str, s: &str) -> R<Option<Uuid>> {
    if s.is_empty() {
        Ok(None)
    } else {
        uuid(field, s).map(Some)
    }
}

pub fn hash(field: &'static str, b: &[u8]) -> R<ContentHash> {
    let arr: [u8; 32] = b
        .try_into()
        .map_err(|_| bad(field, "a BLAKE3 hash is 32 bytes"))?;
    Ok(ContentHash::from_bytes(arr))
}

fn at(field: &'static str, nanos: i64) -> R<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|_| bad(field, "time out of range"))
}

fn nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// Who created a row. Empty from an internal node older than the field:
/// the nil id, as such rows were stored before it travelled.
fn author(field: &'static str, s: &str) -> R<PrincipalId> {
    Ok(PrincipalId::from_uuid(
        opt_uuid(field, s)?.unwrap_or(Uuid::nil()),
    ))
}

/// A folder or document name of the feed: stored on the internal node, maybe
/// before today's stricter rules, so checked as stored names are (an older
/// name must not stop its space's replication); still never a path.
fn name(field: &'static str, s: &str) -> R<DocumentName> {
    DocumentName::parse_stored(s).map_err(|e| bad(field, e))
}

fn json_map(field: &'static str, s: &str) -> R<Map<String, Value>> {
    if s.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad(field, "expected a JSON object")),
    }
}

fn id_text<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn trashed_to(t: &Option<Trashed>) -> Option<pb::TrashedState> {
    t.as_ref().map(|t| pb::TrashedState {
        at: nanos(t.at),
        by: t.by.to_string(),
        with_folder: id_text(&t.with_folder),
    })
}

fn trashed_from(t: Option<pb::TrashedState>) -> R<Option<Trashed>> {
    t.map(|t| {
        Ok(Trashed {
            at: at("trashed.at", t.at)?,
            by: PrincipalId::from_uuid(uuid("trashed.by", &t.by)?),
            with_folder: opt_uuid("trashed.with_folder", &t.with_folder)?.map(FolderId::from_uuid),
        })
    })
    .transpose()
}

/// A feed row as a protobuf change.
pub fn change_to_pb(row: &ChangeRow) -> pb::Change {
    use pb::change::Row;
    let row = match row {
        ChangeRow::Space(s) => Row::Space(pb::SpaceRow {
            id: s.id.to_string(),
            slug: s.slug.to_string(),
            title: s.title.clone(),
            description: s.description.clone(),
            domain: s.domain.clone(),
            archived: s.archived,
            created_at: nanos(s.created_at),
            revision: s.revision.0,
            created_by: s.created_by.to_string(),
        }),
        ChangeRow::Principal(p) => Row::Principal(pb::PrincipalRow {
            id: p.id.to_string(),
            login: p.login.to_string(),
            display_name: p.display_name.clone(),
            organisation: p.organisation.clone().unwrap_or_default(),
            kind: match p.kind {
                PrincipalKind::Agent => "agent",
                PrincipalKind::Contractor => "contractor",
            }
            .into(),
            disabled: p.disabled,
            // Agents' e-mail addresses stay inside.
            email: if p.kind == PrincipalKind::Contractor {
                p.email.clone()
            } else {
                String::new()
            },
            revision: p.revision.0,
            created_at: nanos(p.created_at),
        }),
        ChangeRow::Membership(m) => Row::Membership(pb::MembershipRow {
            space: m.space.to_string(),
            principal: m.principal.to_string(),
            role: m.role.as_str().into(),
            removed: m.removed,
            revision: m.revision.0,
        }),
        ChangeRow::Invitation(i) => Row::Invitation(pb::InvitationRow {
            id: i.id.to_string(),
            principal: i.principal.to_string(),
            secret_hash: i.secret_hash.as_bytes().to_vec(),
            expires_at: nanos(i.expires_at),
            revoked: i.revoked,
            revision: i.revision.0,
            created_by: i.created_by.to_string(),
            created_at: nanos(i.created_at),
        }),
        ChangeRow::Folder(f) => Row::Folder(pb::FolderRow {
            id: f.id.to_string(),
            space: f.space.to_string(),
            parent: id_text(&f.parent),
            name: f.name.to_string(),
            created_by: f.created_by.to_string(),
            created_at: nanos(f.created_at),
            trashed: trashed_to(&f.trashed),
            purged: f.purged,
            revision: f.revision.0,
        }),
        ChangeRow::Document(d) => Row::Document(pb::DocumentRow {
            id: d.id.to_string(),
            space: d.space.to_string(),
            folder: id_text(&d.folder),
            name: d.name.to_string(),
            doc_type: d.doc_type.clone().unwrap_or_default(),
            metadata_json: Value::Object(d.metadata.clone()).to_string(),
            current_version: d.current_version,
            created_by: d.created_by.to_string(),
            created_at: nanos(d.created_at),
            updated_at: nanos(d.updated_at),
            trashed: trashed_to(&d.trashed),
            purged: d.purged,
            revision: d.revision.0,
        }),
        ChangeRow::Version(v) => Row::Version(pb::VersionRow {
            document: v.document.to_string(),
            number: v.number,
            hash: v.hash.as_bytes().to_vec(),
            size: v.size,
            media_type: v.media_type.clone(),
            author: v.author.to_string(),
            comment: v.comment.clone(),
            created_at: nanos(v.created_at),
            revision: v.revision.0,
        }),
        ChangeRow::DocumentType(t) => Row::DocumentType(pb::DocumentTypeRow {
            key: t.key.clone(),
            definition_json: serde_json::to_string(t).unwrap_or_default(),
            revision: t.revision.0,
        }),
    };
    pb::Change { row: Some(row) }
}

/// A protobuf change as a feed row, validated. `space` is the batch's space:
/// an invitation's space comes from it (the row does not repeat it).
pub fn change_from_pb(c: pb::Change, space: SpaceId) -> R<ChangeRow> {
    use pb::change::Row;
    Ok(match c.row.ok_or_else(|| bad("change", "empty"))? {
        Row::Space(s) => ChangeRow::Space(Space {
            id: SpaceId::from_uuid(uuid("space.id", &s.id)?),
            slug: Slug::parse(&s.slug).map_err(|e| bad("space.slug", e))?,
            title: s.title,
            description: s.description,
            domain: s.domain,
            // On the edge only members see a space.
            visibility: Visibility::Private,
            edge: None,
            archived: s.archived,
            created_by: author("space.created_by", &s.created_by)?,
            created_at: at("space.created_at", s.created_at)?,
            revision: Revision(s.revision),
        }),
        Row::Principal(p) => ChangeRow::Principal(Principal {
            id: PrincipalId::from_uuid(uuid("principal.id", &p.id)?),
            login: Login::parse(&p.login).map_err(|e| bad("principal.login", e))?,
            display_name: p.display_name,
            email: p.email,
            kind: match p.kind.as_str() {
                "agent" => PrincipalKind::Agent,
                "contractor" => PrincipalKind::Contractor,
                other => return Err(bad("principal.kind", format!("unknown kind {other:?}"))),
            },
            // Administration stays on the internal node.
            is_admin: false,
            disabled: p.disabled,
            password_hash: None,
            organisation: (!p.organisation.is_empty()).then_some(p.organisation),
            created_at: at("principal.created_at", p.created_at)?,
            revision: Revision(p.revision),
        }),
        Row::Membership(m) => ChangeRow::Membership(Membership {
            space: SpaceId::from_uuid(uuid("membership.space", &m.space)?),
            principal: PrincipalId::from_uuid(uuid("membership.principal", &m.principal)?),
            role: m
                .role
                .parse::<Role>()
                .map_err(|e| bad("membership.role", e))?,
            removed: m.removed,
            revision: Revision(m.revision),
        }),
        Row::Invitation(i) => ChangeRow::Invitation(Invitation {
            id: uuid("invitation.id", &i.id)?,
            principal: PrincipalId::from_uuid(uuid("invitation.principal", &i.principal)?),
            space,
            secret_hash: hash("invitation.secret_hash", &i.secret_hash)?,
            created_by: author("invitation.created_by", &i.created_by)?,
            created_at: at("invitation.created_at", i.created_at)?,
            expires_at: at("invitation.expires_at", i.expires_at)?,
            accepted_at: None,
            revoked: i.revoked,
            revision: Revision(i.revision),
        }),
        Row::Folder(f) => ChangeRow::Folder(Folder {
            id: FolderId::from_uuid(uuid("folder.id", &f.id)?),
            space: SpaceId::from_uuid(uuid("folder.space", &f.space)?),
            parent: opt_uuid("folder.parent", &f.parent)?.map(FolderId::from_uuid),
            name: name("folder.name", &f.name)?,
            created_by: PrincipalId::from_uuid(uuid("folder.created_by", &f.created_by)?),
            created_at: at("folder.created_at", f.created_at)?,
            trashed: trashed_from(f.trashed)?,
            purged: f.purged,
            revision: Revision(f.revision),
        }),
        Row::Document(d) => ChangeRow::Document(Document {
            id: DocumentId::from_uuid(uuid("document.id", &d.id)?),
            space: SpaceId::from_uuid(uuid("document.space", &d.space)?),
            folder: opt_uuid("document.folder", &d.folder)?.map(FolderId::from_uuid),
            name: name("document.name", &d.name)?,
            doc_type: (!d.doc_type.is_empty()).then_some(d.doc_type),
            metadata: json_map("document.metadata_json", &d.metadata_json)?,
            current_version: d.current_version,
            created_by: PrincipalId::from_uuid(uuid("document.created_by", &d.created_by)?),
            created_at: at("document.created_at", d.created_at)?,
            updated_at: at("document.updated_at", d.updated_at)?,
            trashed: trashed_from(d.trashed)?,
            purged: d.purged,
            revision: Revision(d.revision),
        }),
        Row::Version(v) => ChangeRow::Version(Version {
            document: DocumentId::from_uuid(uuid("version.document", &v.document)?),
            number: v.number,
            hash: hash("version.hash", &v.hash)?,
            size: v.size,
            media_type: v.media_type,
            author: PrincipalId::from_uuid(uuid("version.author", &v.author)?),
            comment: v.comment,
            created_at: at("version.created_at", v.created_at)?,
            revision: Revision(v.revision),
        }),
        Row::DocumentType(t) => {
            let mut dt: DocumentType = serde_json::from_str(&t.definition_json)
                .map_err(|e| bad("document_type.definition_json", e))?;
            dt.check().map_err(|e| bad("document_type", e))?;
            dt.revision = Revision(t.revision);
            ChangeRow::DocumentType(dt)
        }
    })
}

/// An outbox item as protobuf.
pub fn item_to_pb(i: &OutboxItem) -> pb::OutboxItem {
    use pb::outbox_item::Op;
    let op = match &i.op {
        OutboxOp::NewDocument {
            folder,
            name,
            hash,
            size,
            media_type,
            doc_type,
            metadata,
            comment,
        } => Op::NewDocument(pb::NewDocumentOp {
            folder: id_text(folder),
            name: name.clone(),
            hash: hash.as_bytes().to_vec(),
            size: *size,
            media_type: media_type.clone(),
            doc_type: doc_type.clone().unwrap_or_default(),
            metadata_json: Value::Object(metadata.clone()).to_string(),
            comment: comment.clone(),
        }),
        OutboxOp::NewVersion {
            document,
            base_version,
            hash,
            size,
            media_type,
            comment,
            after_op,
        } => Op::NewVersion(pb::NewVersionOp {
            document: document.to_string(),
            base_version: *base_version,
            hash: hash.as_bytes().to_vec(),
            size: *size,
            media_type: media_type.clone(),
            comment: comment.clone(),
            after_op: after_op.map(|id| id.to_string()).unwrap_or_default(),
        }),
        OutboxOp::Rename { document, name } => Op::Rename(pb::RenameOp {
            document: document.to_string(),
            name: name.clone(),
        }),
        OutboxOp::Move { document, folder } => Op::Move(pb::MoveOp {
            document: document.to_string(),
            folder: id_text(folder),
        }),
        OutboxOp::Delete {
            document,
            base_version,
        } => Op::Delete(pb::DeleteOp {
            document: document.to_string(),
            base_version: *base_version,
        }),
        OutboxOp::SetMetadata {
            document,
            doc_type,
            metadata,
        } => Op::SetMetadata(pb::SetMetadataOp {
            document: document.to_string(),
            doc_type: doc_type.clone().unwrap_or_default(),
            metadata_json: Value::Object(metadata.clone()).to_string(),
        }),
        OutboxOp::NewFolder {
            folder,
            parent,
            name,
        } => Op::NewFolder(pb::NewFolderOp {
            folder: folder.to_string(),
            parent: id_text(parent),
            name: name.clone(),
        }),
        OutboxOp::AcceptInvitation { invitation } => Op::AcceptInvitation(pb::AcceptInvitationOp {
            invitation_id: invitation.to_string(),
        }),
    };
    pb::OutboxItem {
        seq: i.seq,
        op_id: i.op_id.to_string(),
        space: i.space.to_string(),
        contractor: i.contractor.to_string(),
        created_at: nanos(i.created_at),
        op: Some(op),
    }
}

/// A protobuf outbox item, validated (names are re-validated by the use
/// cases that apply it; ids and hashes here).
pub fn item_from_pb(i: pb::OutboxItem) -> R<OutboxItem> {
    use pb::outbox_item::Op;
    let doc = |field: &'static str, s: &str| uuid(field, s).map(DocumentId::from_uuid);
    let op = match i.op.ok_or_else(|| bad("outbox.op", "empty"))? {
        Op::NewDocument(o) => OutboxOp::NewDocument {
            folder: opt_uuid("new_document.folder", &o.folder)?.map(FolderId::from_uuid),
            name: o.name,
            hash: hash("new_document.hash", &o.hash)?,
            size: o.size,
            media_type: o.media_type,
            doc_type: (!o.doc_type.is_empty()).then_some(o.doc_type),
            metadata: json_map("new_document.metadata_json", &o.metadata_json)?,
            comment: o.comment,
        },
        Op::NewVersion(o) => OutboxOp::NewVersion {
            document: doc("new_version.document", &o.document)?,
            base_version: o.base_version,
            hash: hash("new_version.hash", &o.hash)?,
            size: o.size,
            media_type: o.media_type,
            comment: o.comment,
            after_op: opt_uuid("new_version.after_op", &o.after_op)?,
        },
        Op::Rename(o) => OutboxOp::Rename {
            document: doc("rename.document", &o.document)?,
            name: o.name,
        },
        Op::Move(o) => OutboxOp::Move {
            document: doc("move.document", &o.document)?,
            folder: opt_uuid("move.folder", &o.folder)?.map(FolderId::from_uuid),
        },
        Op::Delete(o) => OutboxOp::Delete {
            document: doc("delete.document", &o.document)?,
            base_version: o.base_version,
        },
        Op::SetMetadata(o) => OutboxOp::SetMetadata {
            document: doc("set_metadata.document", &o.document)?,
            doc_type: (!o.doc_type.is_empty()).then_some(o.doc_type),
            metadata: json_map("set_metadata.metadata_json", &o.metadata_json)?,
        },
        Op::NewFolder(o) => OutboxOp::NewFolder {
            folder: FolderId::from_uuid(uuid("new_folder.folder", &o.folder)?),
            parent: opt_uuid("new_folder.parent", &o.parent)?.map(FolderId::from_uuid),
            name: o.name,
        },
        Op::AcceptInvitation(o) => OutboxOp::AcceptInvitation {
            invitation: uuid("accept_invitation.invitation_id", &o.invitation_id)?,
        },
    };
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

pub fn outcome_from_str(s: &str) -> R<OpOutcome> {
    match s {
        "applied" => Ok(OpOutcome::Applied),
        "conflict" => Ok(OpOutcome::Conflict),
        "rejected" => Ok(OpOutcome::Rejected),
        other => Err(bad("outcome", format!("unknown outcome {other:?}"))),
    }
}

#[cfg(test)]
mod tests;
