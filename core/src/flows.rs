//! Business flows filed from drop folders (ADR 0008 §2): the name a drop
//! folder is known by, and the ingestion ledger that makes filing
//! idempotent across repeated drops and `kill -9`.
//!
//! The ledger is a supertrait of [`crate::ports::Tx`], as the lock rows
//! are: a filing writes its documents and its ledger row in one unit of
//! work, so that a crash leaves either both or neither, and a second drop
//! of the same bytes finds the first one's row.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, PrincipalId, SpaceId};
use crate::ports::RepoError;

/// Longest drop folder name, in bytes.
pub const MAX_DROP_NAME: usize = 64;

/// The name of a drop folder in the node's configuration
/// (`helios-finances`): the ledger's key with the content hash, so that
/// moving the directory on disk keeps its history. Lowercase ASCII
/// letters, digits, `-` and `_`, starting with a letter or a digit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DropName(String);

impl DropName {
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_DROP_NAME
            && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(CoreError::invalid(
                "invalid_drop_name",
                format!(
                    "a drop folder's name has 1 to {MAX_DROP_NAME} lowercase letters, digits, \
                     '-' or '_', starting with a letter or a digit"
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DropName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One dropped file, filed: the ledger's row.
#[derive(Clone, Debug, PartialEq)]
pub struct Ingestion {
    pub source: DropName,
    /// The dropped file's content hash (a bundle's: see the adapter).
    pub hash: ContentHash,
    /// Its name when it was dropped (the receipt repeats it).
    pub file_name: String,
    pub space: SpaceId,
    /// The service account that filed it.
    pub filed_by: PrincipalId,
    pub filed_at: OffsetDateTime,
    /// The documents it became, in the order they were filed (the flow's
    /// own document first).
    pub documents: Vec<DocumentId>,
    /// The business key the flow carries, when another flow refers to it:
    /// an act's internal number (`acte:2026-042`), an acknowledgement's
    /// (`ar:2026-042`). See [`Ingestion::act`].
    pub reference: Option<String>,
}

impl Ingestion {
    /// The ledger reference of the act numbered `number`.
    pub fn act(number: &str) -> String {
        format!("acte:{number}")
    }

    /// The ledger reference of an acknowledgement of the act `number`.
    pub fn acknowledgement(number: &str) -> String {
        format!("ar:{number}")
    }
}

/// The `ingestions` table. Rows are never updated nor deleted by the
/// node: the ledger is the history of what each drop folder filed.
#[async_trait]
pub trait IngestionLedger: Send {
    /// The filing of these bytes from this drop folder, if any.
    async fn ingestion(
        &mut self,
        source: &DropName,
        hash: &ContentHash,
    ) -> Result<Option<Ingestion>, RepoError>;

    /// Records a filing. A row with the same (source, hash) is a
    /// `Conflict`; `filed_by` and `space` must exist (`Storage`
    /// otherwise), as for every foreign key.
    async fn save_ingestion(&mut self, ingestion: &Ingestion) -> Result<(), RepoError>;

    /// How many files this drop folder filed.
    async fn count_ingestions(&mut self, source: &DropName) -> Result<u64, RepoError>;

    /// The filings carrying `reference`, from any drop folder, oldest
    /// first (ties by source, then hash).
    async fn ingestions_by_reference(
        &mut self,
        reference: &str,
    ) -> Result<Vec<Ingestion>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_names_are_small_ascii_identifiers() {
        for good in ["helios", "helios-finances", "actes_2026", "0-test"] {
            assert!(DropName::parse(good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_DROP_NAME + 1);
        for bad in [
            "",
            "-x",
            "Helios",
            "hélios",
            "a b",
            "a/b",
            "..",
            long.as_str(),
        ] {
            assert!(DropName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
