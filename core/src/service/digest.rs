//! The digest both nodes compute over a space for anti-entropy (ADR 0003):
//! BLAKE3 over a canonical form of every row of the space's current state,
//! so the same rows give the same digest on both sides. Fields only one
//! side holds (agents' e-mail addresses, edge-local bookkeeping) are left
//! out. One canonical form per kind of row.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{Revision, SpaceId};
use crate::links::DocumentLink;
use crate::model::{
    Document, Folder, Membership, Principal, PrincipalKind, Space, Trashed, Version,
};
use crate::replication::{ChangeRow, Invitation};

use super::Passerelle;

impl Passerelle {
    /// BLAKE3 over the canonical current state of a space: the same rows on
    /// both nodes give the same digest (edge-local fields excluded).
    pub async fn space_digest(&self, space: SpaceId) -> Result<ContentHash, CoreError> {
        let rows = self
            .read()
            .await?
            .changes(space, Revision::ZERO, u64::MAX / 2)
            .await?;
        let mut canon: Vec<(String, String)> = rows.rows.iter().map(canonical).collect();
        canon.sort();
        let mut h = blake3::Hasher::new();
        for (key, value) in canon {
            h.update(key.as_bytes());
            h.update(b"\0");
            h.update(value.as_bytes());
            h.update(b"\n");
        }
        Ok(h.finalize().into())
    }
}

/// A row's sort key (kind first, then id) and its canonical value.
fn canonical(row: &ChangeRow) -> (String, String) {
    let (key, value) = match row {
        ChangeRow::Space(s) => (format!("1:{}", s.id), space(s)),
        ChangeRow::Principal(p) => (format!("2:{}", p.id), principal(p)),
        ChangeRow::Membership(m) => (format!("3:{}:{}", m.space, m.principal), membership(m)),
        ChangeRow::Invitation(i) => (format!("4:{}", i.id), invitation(i)),
        ChangeRow::Folder(f) => (format!("5:{}", f.id), folder(f)),
        ChangeRow::Document(d) => (format!("6:{}", d.id), document(d)),
        ChangeRow::Version(v) => (format!("7:{}:{:010}", v.document, v.number), version(v)),
        ChangeRow::DocumentType(t) => (format!("8:{}", t.key), json!([t.revision.0])),
        ChangeRow::Link(l) => (format!("9:{}", l.id), link(l)),
    };
    (key, value.to_string())
}

fn link(l: &DocumentLink) -> Value {
    json!([
        l.from.to_string(),
        l.to.to_string(),
        l.kind.as_str(),
        l.created_by.to_string(),
        nanos(l.created_at),
        l.removed,
        l.revision.0
    ])
}

fn space(s: &Space) -> Value {
    json!([
        s.slug.as_str(),
        s.title,
        s.description,
        s.domain,
        s.archived,
        s.revision.0
    ])
}

fn principal(p: &Principal) -> Value {
    json!([
        p.login.as_str(),
        p.display_name,
        // Agents' addresses stay on the internal node.
        if p.kind == PrincipalKind::Contractor {
            p.email.as_str()
        } else {
            ""
        },
        format!("{:?}", p.kind),
        p.disabled,
        opt(&p.organisation),
        p.revision.0
    ])
}

fn membership(m: &Membership) -> Value {
    json!([m.role.as_str(), m.removed, m.revision.0])
}

fn invitation(i: &Invitation) -> Value {
    json!([
        i.principal.to_string(),
        i.secret_hash.to_hex(),
        nanos(i.expires_at),
        i.revoked,
        i.revision.0
    ])
}

fn folder(f: &Folder) -> Value {
    json!([
        opt(&f.parent),
        f.name.as_str(),
        trashed(&f.trashed),
        f.purged,
        f.revision.0
    ])
}

fn document(d: &Document) -> Value {
    json!([
        opt(&d.folder),
        d.name.as_str(),
        opt(&d.doc_type),
        d.metadata,
        d.current_version,
        trashed(&d.trashed),
        d.purged,
        d.revision.0
    ])
}

fn version(v: &Version) -> Value {
    json!([
        v.hash.to_hex(),
        v.size,
        v.media_type,
        v.author.to_string(),
        v.comment,
        v.revision.0
    ])
}

fn trashed(t: &Option<Trashed>) -> Value {
    t.as_ref()
        .map(|t| json!([nanos(t.at), t.by.to_string(), opt(&t.with_folder)]))
        .unwrap_or(Value::Null)
}

fn opt<T: ToString>(x: &Option<T>) -> Value {
    x.as_ref()
        .map(|v| Value::String(v.to_string()))
        .unwrap_or(Value::Null)
}

fn nanos(t: OffsetDateTime) -> String {
    t.unix_timestamp_nanos().to_string()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::ids::PrincipalId;
    use crate::model::Visibility;
    use crate::names::{Login, Slug};

    fn contractor(kind: PrincipalKind) -> Principal {
        Principal {
            id: PrincipalId::from_uuid(Uuid::from_u128(2)),
            login: Login::parse("jean@btp-rhone.fr").expect("login"),
            display_name: "Jean Dupont".into(),
            email: "jean@btp-rhone.fr".into(),
            kind,
            is_admin: false,
            disabled: false,
            password_hash: Some("$argon2id$…".into()),
            source: crate::model::AccountSource::Local,
            second_factor_reset: None,
            organisation: Some("BTP Rhône".into()),
            created_at: OffsetDateTime::UNIX_EPOCH,
            revision: Revision(7),
        }
    }

    /// The canonical forms are a protocol between nodes of possibly
    /// different versions: a change here must be deliberate (and would make
    /// every shared space look diverged until both nodes run it).
    #[test]
    fn canonical_forms_are_stable_and_leave_out_one_sided_fields() {
        let space = Space {
            id: SpaceId::from_uuid(Uuid::from_u128(1)),
            slug: Slug::parse("piscine").expect("slug"),
            title: "Piscine".into(),
            description: "Rénovation".into(),
            domain: "Sports".into(),
            visibility: Visibility::Private,
            edge: Some("edge-1".parse().expect("node id")),
            archived: false,
            created_by: PrincipalId::from_uuid(Uuid::from_u128(3)),
            created_at: OffsetDateTime::UNIX_EPOCH,
            revision: Revision(5),
        };
        assert_eq!(
            canonical(&ChangeRow::Space(space)),
            (
                "1:00000000-0000-0000-0000-000000000001".to_owned(),
                r#"["piscine","Piscine","Rénovation","Sports",false,5]"#.to_owned()
            )
        );
        let (_, of_contractor) =
            canonical(&ChangeRow::Principal(contractor(PrincipalKind::Contractor)));
        assert_eq!(
            of_contractor,
            r#"["jean@btp-rhone.fr","Jean Dupont","jean@btp-rhone.fr","Contractor",false,"BTP Rhône",7]"#
        );
        // An agent's address and every password hash stay where they are.
        let (_, of_agent) = canonical(&ChangeRow::Principal(contractor(PrincipalKind::Agent)));
        assert_eq!(
            of_agent,
            r#"["jean@btp-rhone.fr","Jean Dupont","","Agent",false,"BTP Rhône",7]"#
        );
    }
}
