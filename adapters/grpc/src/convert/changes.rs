//! Feed rows (spaces, principals, memberships, invitations, folders,
//! documents, versions, document types, links) to and from protobuf: one function
//! per row kind, so each row's fields and checks read on their own.

use super::{R, at, author, bad, hash, id_text, json_map, name, nanos, opt_uuid, uuid};
use super::{trashed_from, trashed_to};
use passerelle_core::doctype::DocumentType;
use passerelle_core::ids::{DocumentId, FolderId, LinkId, PrincipalId, Revision, SpaceId};
use passerelle_core::links::DocumentLink;
use passerelle_core::model::{
    Document, Folder, GrantedBy, Membership, Principal, PrincipalKind, Space, Version, Visibility,
};
use passerelle_core::names::{Login, Slug};
use passerelle_core::replication::{ChangeRow, Invitation};
use passerelle_core::role::Role;
use passerelle_proto::v1 as pb;
use serde_json::Value;

/// A feed row as a protobuf change.
pub fn change_to_pb(row: &ChangeRow) -> pb::Change {
    use pb::change::Row;
    let row = match row {
        ChangeRow::Space(s) => Row::Space(space_to_pb(s)),
        ChangeRow::Principal(p) => Row::Principal(principal_to_pb(p)),
        ChangeRow::Membership(m) => Row::Membership(membership_to_pb(m)),
        ChangeRow::Invitation(i) => Row::Invitation(invitation_to_pb(i)),
        ChangeRow::Folder(f) => Row::Folder(folder_to_pb(f)),
        ChangeRow::Document(d) => Row::Document(document_to_pb(d)),
        ChangeRow::Version(v) => Row::Version(version_to_pb(v)),
        ChangeRow::DocumentType(t) => Row::DocumentType(document_type_to_pb(t)),
        ChangeRow::Link(l) => Row::Link(link_to_pb(l)),
    };
    pb::Change { row: Some(row) }
}

/// A protobuf change as a feed row, validated. `space` is the batch's space:
/// an invitation's space comes from it (the row does not repeat it).
pub fn change_from_pb(c: pb::Change, space: SpaceId) -> R<ChangeRow> {
    use pb::change::Row;
    Ok(match c.row.ok_or_else(|| bad("change", "empty"))? {
        Row::Space(s) => ChangeRow::Space(space_from_pb(s)?),
        Row::Principal(p) => ChangeRow::Principal(principal_from_pb(p)?),
        Row::Membership(m) => ChangeRow::Membership(membership_from_pb(m)?),
        Row::Invitation(i) => ChangeRow::Invitation(invitation_from_pb(i, space)?),
        Row::Folder(f) => ChangeRow::Folder(folder_from_pb(f)?),
        Row::Document(d) => ChangeRow::Document(document_from_pb(d)?),
        Row::Version(v) => ChangeRow::Version(version_from_pb(v)?),
        Row::DocumentType(t) => ChangeRow::DocumentType(document_type_from_pb(t)?),
        Row::Link(l) => ChangeRow::Link(link_from_pb(l)?),
    })
}

// Incoming rows are checked field by field in the order the fields are
// written below: the first malformed one names the error, so that order is
// part of the behaviour and is kept.

fn space_to_pb(s: &Space) -> pb::SpaceRow {
    pb::SpaceRow {
        id: s.id.to_string(),
        slug: s.slug.to_string(),
        title: s.title.clone(),
        description: s.description.clone(),
        domain: s.domain.clone(),
        archived: s.archived,
        created_at: nanos(s.created_at),
        revision: s.revision.0,
        created_by: s.created_by.to_string(),
    }
}

fn space_from_pb(s: pb::SpaceRow) -> R<Space> {
    Ok(Space {
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
    })
}

fn principal_to_pb(p: &Principal) -> pb::PrincipalRow {
    pb::PrincipalRow {
        id: p.id.to_string(),
        login: p.login.to_string(),
        display_name: p.display_name.clone(),
        organisation: p.organisation.clone().unwrap_or_default(),
        kind: kind_to_pb(p.kind).into(),
        disabled: p.disabled,
        // Agents' e-mail addresses stay inside.
        email: if p.kind == PrincipalKind::Contractor {
            p.email.clone()
        } else {
            String::new()
        },
        revision: p.revision.0,
        created_at: nanos(p.created_at),
        second_factor_reset: p.second_factor_reset.map(nanos),
    }
}

fn principal_from_pb(p: pb::PrincipalRow) -> R<Principal> {
    Ok(Principal {
        id: PrincipalId::from_uuid(uuid("principal.id", &p.id)?),
        login: Login::parse(&p.login).map_err(|e| bad("principal.login", e))?,
        display_name: p.display_name,
        email: p.email,
        kind: kind_from_pb(&p.kind)?,
        // Administration stays on the internal node.
        is_admin: false,
        disabled: p.disabled,
        password_hash: None,
        source: passerelle_core::model::AccountSource::Local,
        second_factor_reset: p
            .second_factor_reset
            .map(|n| at("principal.second_factor_reset", n))
            .transpose()?,
        organisation: (!p.organisation.is_empty()).then_some(p.organisation),
        created_at: at("principal.created_at", p.created_at)?,
        revision: Revision(p.revision),
    })
}

fn kind_to_pb(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Agent => "agent",
        PrincipalKind::Contractor => "contractor",
        PrincipalKind::Service => "service",
    }
}

fn kind_from_pb(kind: &str) -> R<PrincipalKind> {
    match kind {
        "agent" => Ok(PrincipalKind::Agent),
        "contractor" => Ok(PrincipalKind::Contractor),
        "service" => Ok(PrincipalKind::Service),
        other => Err(bad("principal.kind", format!("unknown kind {other:?}"))),
    }
}

fn membership_to_pb(m: &Membership) -> pb::MembershipRow {
    pb::MembershipRow {
        space: m.space.to_string(),
        principal: m.principal.to_string(),
        role: m.role.as_str().into(),
        removed: m.removed,
        revision: m.revision.0,
        ends_at: m.ends_at.map(nanos),
    }
}

fn membership_from_pb(m: pb::MembershipRow) -> R<Membership> {
    Ok(Membership {
        space: SpaceId::from_uuid(uuid("membership.space", &m.space)?),
        principal: PrincipalId::from_uuid(uuid("membership.principal", &m.principal)?),
        role: m
            .role
            .parse::<Role>()
            .map_err(|e| bad("membership.role", e))?,
        removed: m.removed,
        // The edge holds no directory: who decides the membership is the
        // internal node's business.
        granted_by: GrantedBy::Manager,
        ends_at: m.ends_at.map(|n| at("membership.ends_at", n)).transpose()?,
        revision: Revision(m.revision),
    })
}

fn invitation_to_pb(i: &Invitation) -> pb::InvitationRow {
    pb::InvitationRow {
        id: i.id.to_string(),
        principal: i.principal.to_string(),
        secret_hash: i.secret_hash.as_bytes().to_vec(),
        expires_at: nanos(i.expires_at),
        revoked: i.revoked,
        revision: i.revision.0,
        created_by: i.created_by.to_string(),
        created_at: nanos(i.created_at),
    }
}

fn invitation_from_pb(i: pb::InvitationRow, space: SpaceId) -> R<Invitation> {
    Ok(Invitation {
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
    })
}

fn folder_to_pb(f: &Folder) -> pb::FolderRow {
    pb::FolderRow {
        id: f.id.to_string(),
        space: f.space.to_string(),
        parent: id_text(&f.parent),
        name: f.name.to_string(),
        created_by: f.created_by.to_string(),
        created_at: nanos(f.created_at),
        trashed: trashed_to(&f.trashed),
        purged: f.purged,
        revision: f.revision.0,
    }
}

fn folder_from_pb(f: pb::FolderRow) -> R<Folder> {
    Ok(Folder {
        id: FolderId::from_uuid(uuid("folder.id", &f.id)?),
        space: SpaceId::from_uuid(uuid("folder.space", &f.space)?),
        parent: opt_uuid("folder.parent", &f.parent)?.map(FolderId::from_uuid),
        name: name("folder.name", &f.name)?,
        created_by: PrincipalId::from_uuid(uuid("folder.created_by", &f.created_by)?),
        created_at: at("folder.created_at", f.created_at)?,
        trashed: trashed_from(f.trashed)?,
        purged: f.purged,
        revision: Revision(f.revision),
    })
}

fn link_to_pb(l: &DocumentLink) -> pb::LinkRow {
    pb::LinkRow {
        id: l.id.to_string(),
        space: l.space.to_string(),
        from: l.from.to_string(),
        to: l.to.to_string(),
        kind: l.kind.as_str().to_owned(),
        created_by: l.created_by.to_string(),
        created_at: nanos(l.created_at),
        removed: l.removed,
        revision: l.revision.0,
    }
}

fn link_from_pb(l: pb::LinkRow) -> R<DocumentLink> {
    Ok(DocumentLink {
        id: LinkId::from_uuid(uuid("link.id", &l.id)?),
        space: SpaceId::from_uuid(uuid("link.space", &l.space)?),
        from: DocumentId::from_uuid(uuid("link.from", &l.from)?),
        to: DocumentId::from_uuid(uuid("link.to", &l.to)?),
        kind: l.kind.parse().map_err(|e| bad("link.kind", e))?,
        created_by: PrincipalId::from_uuid(uuid("link.created_by", &l.created_by)?),
        created_at: at("link.created_at", l.created_at)?,
        removed: l.removed,
        revision: Revision(l.revision),
    })
}

fn document_to_pb(d: &Document) -> pb::DocumentRow {
    pb::DocumentRow {
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
    }
}

fn document_from_pb(d: pb::DocumentRow) -> R<Document> {
    Ok(Document {
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
    })
}

fn version_to_pb(v: &Version) -> pb::VersionRow {
    pb::VersionRow {
        document: v.document.to_string(),
        number: v.number,
        hash: v.hash.as_bytes().to_vec(),
        size: v.size,
        media_type: v.media_type.clone(),
        author: v.author.to_string(),
        comment: v.comment.clone(),
        created_at: nanos(v.created_at),
        revision: v.revision.0,
    }
}

fn version_from_pb(v: pb::VersionRow) -> R<Version> {
    Ok(Version {
        document: DocumentId::from_uuid(uuid("version.document", &v.document)?),
        number: v.number,
        hash: hash("version.hash", &v.hash)?,
        size: v.size,
        media_type: v.media_type,
        author: PrincipalId::from_uuid(uuid("version.author", &v.author)?),
        comment: v.comment,
        created_at: at("version.created_at", v.created_at)?,
        revision: Revision(v.revision),
    })
}

fn document_type_to_pb(t: &DocumentType) -> pb::DocumentTypeRow {
    pb::DocumentTypeRow {
        key: t.key.clone(),
        definition_json: serde_json::to_string(t).unwrap_or_default(),
        revision: t.revision.0,
    }
}

fn document_type_from_pb(t: pb::DocumentTypeRow) -> R<DocumentType> {
    let mut dt: DocumentType = serde_json::from_str(&t.definition_json)
        .map_err(|e| bad("document_type.definition_json", e))?;
    dt.check().map_err(|e| bad("document_type", e))?;
    dt.revision = Revision(t.revision);
    Ok(dt)
}
