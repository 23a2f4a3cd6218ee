//! Typed links between documents (ADR 0008 §4): an act and its annexes, a
//! PES flow and its supporting documents, an act and the prefecture's
//! acknowledgement, a document and the one it replaces, or any two that a
//! reader should see together. A link belongs to the space of its source
//! (`from`): creating or removing it is an edit of the source; reading
//! shows only the links whose other end the reader can see.
//!
//! The rows are revisioned like documents (a removal is a tombstone) and
//! kept in the repository's transaction as its [`LinkStore`] part, so that
//! a filing writes its documents and their links in one unit of work.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ids::{DocumentId, LinkId, PrincipalId, Revision, SpaceId};
use crate::ports::RepoError;

/// What a link says of its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkKind {
    /// The source is an annex of the target (an act's annex).
    AnnexeDe,
    /// The source supports the target (a PES attachment, a bordereau).
    PieceJustificativeDe,
    /// The source acknowledges the target (the prefecture's `ARActe`).
    AccuseDeReceptionDe,
    /// The source replaces the target (a new edition of a contract).
    Remplace,
    /// See also: no more than that.
    VoirAussi,
}

impl LinkKind {
    pub const ALL: [LinkKind; 5] = [
        LinkKind::AnnexeDe,
        LinkKind::PieceJustificativeDe,
        LinkKind::AccuseDeReceptionDe,
        LinkKind::Remplace,
        LinkKind::VoirAussi,
    ];

    /// The stable key (API, database, replication).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::AnnexeDe => "annexe_de",
            LinkKind::PieceJustificativeDe => "piece_justificative_de",
            LinkKind::AccuseDeReceptionDe => "accuse_de_reception_de",
            LinkKind::Remplace => "remplace",
            LinkKind::VoirAussi => "voir_aussi",
        }
    }

    /// As the source's page says it ("Annexe de …").
    pub fn label(self) -> &'static str {
        match self {
            LinkKind::AnnexeDe => "Annexe de",
            LinkKind::PieceJustificativeDe => "Pièce justificative de",
            LinkKind::AccuseDeReceptionDe => "Accusé de réception de",
            LinkKind::Remplace => "Remplace",
            LinkKind::VoirAussi => "Voir aussi",
        }
    }

    /// As the target's page says it ("Annexes : …").
    pub fn inverse_label(self) -> &'static str {
        match self {
            LinkKind::AnnexeDe => "Annexes",
            LinkKind::PieceJustificativeDe => "Pièces justificatives",
            LinkKind::AccuseDeReceptionDe => "Accusés de réception",
            LinkKind::Remplace => "Remplacé par",
            LinkKind::VoirAussi => "Voir aussi",
        }
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key that is not a link kind.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown link kind {0:?} (annexe_de, piece_justificative_de, accuse_de_reception_de, remplace, voir_aussi)"
)]
pub struct UnknownLinkKind(pub String);

impl FromStr for LinkKind {
    type Err = UnknownLinkKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LinkKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownLinkKind(s.to_owned()))
    }
}

/// A link from one document to another.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentLink {
    pub id: LinkId,
    /// The source's space: the link is replicated and authorised with it.
    pub space: SpaceId,
    pub from: DocumentId,
    pub to: DocumentId,
    pub kind: LinkKind,
    pub created_by: PrincipalId,
    pub created_at: OffsetDateTime,
    /// Removed (a tombstone, so that replicas learn of it).
    pub removed: bool,
    pub revision: Revision,
}

/// The `document_links` table. One row per (from, to, kind): a link
/// removed then made again is the same row, revived.
#[async_trait]
pub trait LinkStore: Send {
    /// Inserts or replaces the link with this id. Another row with the
    /// same (from, to, kind) is a `Conflict`; the space and both
    /// documents must exist (`Storage` otherwise); the author need not (an
    /// edge holds only the space's members).
    async fn save_link(&mut self, link: &DocumentLink) -> Result<(), RepoError>;

    /// The link with this id, removed or not.
    async fn link(&mut self, id: LinkId) -> Result<Option<DocumentLink>, RepoError>;

    /// The row for (from, to, kind), removed or not.
    async fn link_between(
        &mut self,
        from: DocumentId,
        to: DocumentId,
        kind: LinkKind,
    ) -> Result<Option<DocumentLink>, RepoError>;

    /// The live links from or to `document`, oldest first (ties by id).
    async fn links_of(&mut self, document: DocumentId) -> Result<Vec<DocumentLink>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_keys_and_others_are_refused() {
        for k in LinkKind::ALL {
            assert_eq!(k.as_str().parse::<LinkKind>().ok(), Some(k));
        }
        for bad in ["", "Annexe_de", "annexe", "voir aussi"] {
            assert!(bad.parse::<LinkKind>().is_err(), "{bad:?}");
        }
    }
}
