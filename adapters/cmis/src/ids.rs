//! CMIS object ids as this repository spells them (ADR 0008 §6): `root`,
//! `s-<uuid>` for a space (a folder under the root), `f-<uuid>`,
//! `d-<uuid>` for a document's version series and its latest version,
//! `d-<uuid>;<n>` for one version and `d-<uuid>;pwc` for the private
//! working copy of a checked-out document. Anything else is no object:
//! the caller answers `objectNotFound`, as for an id that names nothing.

use std::fmt;

use passerelle_core::ids::{DocumentId, FolderId, SpaceId};
use uuid::Uuid;

/// The root folder's id.
pub(crate) const ROOT: &str = "root";

/// Which version of a document an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    /// The latest version (the series' id).
    Latest,
    /// Version `n` (1-based), current or not.
    Number(u32),
    /// The private working copy (the document checked out).
    WorkingCopy,
}

/// What an object id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectId {
    Root,
    Space(SpaceId),
    Folder(FolderId),
    Document(DocumentId, Which),
}

impl ObjectId {
    /// Reads an id; `None` for anything this repository never gave out.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw == ROOT {
            return Some(ObjectId::Root);
        }
        let (kind, rest) = raw.split_once('-')?;
        match kind {
            "s" => Some(ObjectId::Space(SpaceId::from_uuid(uuid(rest)?))),
            "f" => Some(ObjectId::Folder(FolderId::from_uuid(uuid(rest)?))),
            "d" => {
                let (id, which) = match rest.split_once(';') {
                    None => (rest, Which::Latest),
                    Some((id, "pwc")) => (id, Which::WorkingCopy),
                    Some((id, n)) => (id, Which::Number(version(n)?)),
                };
                Some(ObjectId::Document(DocumentId::from_uuid(uuid(id)?), which))
            }
            _ => None,
        }
    }
}

fn uuid(raw: &str) -> Option<Uuid> {
    // Only the hyphenated form this repository writes: one spelling per
    // object keeps ids comparable as strings by clients.
    (raw.len() == 36)
        .then(|| Uuid::parse_str(raw).ok())
        .flatten()
}

fn version(raw: &str) -> Option<u32> {
    let all_digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    all_digits
        .then(|| raw.parse().ok())
        .flatten()
        .filter(|n| *n > 0)
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectId::Root => f.write_str(ROOT),
            ObjectId::Space(id) => write!(f, "s-{id}"),
            ObjectId::Folder(id) => write!(f, "f-{id}"),
            ObjectId::Document(id, Which::Latest) => write!(f, "d-{id}"),
            ObjectId::Document(id, Which::Number(n)) => write!(f, "d-{id};{n}"),
            ObjectId::Document(id, Which::WorkingCopy) => write!(f, "d-{id};pwc"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_given_out_reads_back_as_itself() {
        let d = DocumentId::new();
        for id in [
            ObjectId::Root,
            ObjectId::Space(SpaceId::new()),
            ObjectId::Folder(FolderId::new()),
            ObjectId::Document(d, Which::Latest),
            ObjectId::Document(d, Which::Number(3)),
            ObjectId::Document(d, Which::WorkingCopy),
        ] {
            assert_eq!(ObjectId::parse(&id.to_string()), Some(id));
        }
    }

    #[test]
    fn anything_else_names_no_object() {
        let u = Uuid::new_v4();
        for raw in [
            String::new(),
            "ROOT".into(),
            format!("x-{u}"),
            format!("d-{u};0"),
            format!("d-{u};-1"),
            format!("d-{u};+2"),
            format!("d-{u};1.0"),
            format!("d-{u};99999999999"),
            format!("f-{}", u.simple()),
            format!("f-{u}/../x"),
            "s-".into(),
            "workspace://SpacesStore/x".into(),
        ] {
            assert_eq!(ObjectId::parse(&raw), None, "{raw}");
        }
    }
}
