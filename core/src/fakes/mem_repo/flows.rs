//! `IngestionLedger` on the in-memory transaction: the `ingestions` table
//! in the same [`State`] as the documents a filing writes, so both commit
//! or roll back together, as in the SQL adapter.

use async_trait::async_trait;

use super::{MemTx, missing};
use crate::flows::{DropName, Ingestion, IngestionLedger};
use crate::hash::ContentHash;
use crate::ports::RepoError;

#[async_trait]
impl IngestionLedger for MemTx {
    async fn ingestion(
        &mut self,
        source: &DropName,
        hash: &ContentHash,
    ) -> Result<Option<Ingestion>, RepoError> {
        Ok(self
            .state()
            .ingestions
            .get(&(source.clone(), *hash))
            .cloned())
    }

    async fn save_ingestion(&mut self, i: &Ingestion) -> Result<(), RepoError> {
        let s = self.state_mut()?;
        if !s.principals.contains_key(&i.filed_by) {
            return Err(missing("principal", i.filed_by));
        }
        if !s.spaces.contains_key(&i.space) {
            return Err(missing("space", i.space));
        }
        let key = (i.source.clone(), i.hash);
        if s.ingestions.contains_key(&key) {
            return Err(RepoError::Conflict(format!(
                "{} from {} is already in the ledger",
                i.hash, i.source
            )));
        }
        s.ingestions.insert(key, i.clone());
        Ok(())
    }

    async fn ingestions_by_reference(
        &mut self,
        reference: &str,
    ) -> Result<Vec<Ingestion>, RepoError> {
        let mut out: Vec<Ingestion> = self
            .state()
            .ingestions
            .values()
            .filter(|i| i.reference.as_deref() == Some(reference))
            .cloned()
            .collect();
        // The map is ordered by (source, hash): a stable sort by time
        // keeps that order among ties, as the SQL query's.
        out.sort_by_key(|i| i.filed_at);
        Ok(out)
    }

    async fn count_ingestions(&mut self, source: &DropName) -> Result<u64, RepoError> {
        Ok(self
            .state()
            .ingestions
            .keys()
            .filter(|(s, _)| s == source)
            .count() as u64)
    }
}
