//! Sending one space: the next feed batch with the document types changed
//! in its range, its blobs first (have/want, then what is missing from where
//! the edge's copy ends, over a few concurrent pushes), then the batch.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;

use super::LinkError;
use super::down::Down;
use crate::blob::{BlobInfo, BlobStore};
use crate::hash::ContentHash;
use crate::ids::{Revision, SpaceId};
use crate::replication::ChangeRow;
use crate::replication::peer::{OutgoingBlob, OutgoingBlobs, PeerError};

/// Rows per batch: about 1000 documents with their versions. The blobs of a
/// batch are pushed before it is applied, so larger batches keep the pushes
/// flowing with fewer pauses; a batch stays around 1 MiB of rows.
const BATCH_ROWS: u64 = 2000;
/// Pushes at once, each carrying blob after blob. The edge stores the small
/// ones of each concurrently (their fsyncs overlap), so a few keep both
/// nodes busy; one large blob streams alone at full speed.
const PUSH_STREAMS: usize = 4;

/// A blob the edge lacks, and where its copy there ends.
#[derive(Debug, Clone, Copy)]
pub(super) struct Wanted {
    hash: ContentHash,
    size: u64,
    from: u64,
}

impl Down<'_> {
    /// Sends what the edge lacks of one space; `true` when something was sent.
    pub(super) async fn send_space(&mut self, space: SpaceId) -> Result<bool, LinkError> {
        let cursor = self.cursors.get(&space).copied().unwrap_or_default();
        let Some((rows, to)) = self.batch(space, cursor).await? else {
            return Ok(false);
        };
        let blobs = versions_blobs(&rows);
        if !blobs.is_empty() {
            // Known to the edge from now on, even before its first batch
            // lands (here, and on the edge, which records it with the blobs
            // asked and names it in the next Hello): an un-share meanwhile
            // then orders a purge, which also removes every blob sent for
            // the space, whole or partial, after a restart too.
            self.cursors.entry(space).or_insert(Revision::ZERO);
            self.push_missing(space, &blobs).await?;
        }
        let n = rows.len();
        let applied = self.peer.apply_changes(space, cursor, to, rows).await?;
        self.cursors.insert(space, applied);
        tracing::debug!(%space, rows = n, cursor = applied.0, "batch sent");
        Ok(true)
    }

    /// The feed after `cursor` with the document types changed in its
    /// range (or, the space caught up, the types changed since, alone), and
    /// the revision it brings the edge to; `None` when nothing is new.
    async fn batch(
        &self,
        space: SpaceId,
        cursor: Revision,
    ) -> Result<Option<(Vec<ChangeRow>, Revision)>, LinkError> {
        let feed = self.app.feed(space, cursor, BATCH_ROWS).await?;
        let mut rows = feed.rows;
        let types = self.app.list_document_types().await?;
        let to = if rows.is_empty() {
            let newer: Vec<_> = types.into_iter().filter(|t| t.revision > cursor).collect();
            let Some(to) = newer.iter().map(|t| t.revision).max() else {
                return Ok(None);
            };
            rows.extend(newer.into_iter().map(ChangeRow::DocumentType));
            to
        } else {
            let to = feed.through;
            rows.extend(
                types
                    .into_iter()
                    .filter(|t| t.revision > cursor && t.revision <= to)
                    .map(ChangeRow::DocumentType),
            );
            to
        };
        Ok(Some((rows, to)))
    }

    /// Asks which of `blobs` the edge lacks and pushes them. Every push
    /// runs to its end even when another fails: a blob the edge refuses for
    /// lack of room must not cut the transfers of those that fit, or each
    /// retry would resume them a little and cut them again, and the edge's
    /// room would never settle.
    async fn push_missing(&self, space: SpaceId, blobs: &[BlobInfo]) -> Result<(), LinkError> {
        let needs = self.peer.missing_blobs(space, blobs).await?;
        let sizes: HashMap<ContentHash, u64> = blobs.iter().map(|b| (b.hash, b.size)).collect();
        let mut wanted = Vec::with_capacity(needs.len());
        for need in needs {
            let size = sizes.get(&need.hash).copied().ok_or_else(|| {
                PeerError::Invalid(format!(
                    "the edge wants blob {} it was not offered",
                    need.hash.short()
                ))
            })?;
            wanted.push(Wanted {
                hash: need.hash,
                size,
                from: need.have.min(size),
            });
        }
        let pushes = spread(wanted, PUSH_STREAMS)
            .into_iter()
            .map(|group| self.push_group(space, group));
        let mut pushes = futures::stream::iter(pushes).buffer_unordered(PUSH_STREAMS);
        let mut failed = None;
        while let Some(pushed) = pushes.next().await {
            if let Err(e) = pushed {
                failed.get_or_insert(e);
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// Pushes `group` on one call, each blob opened from this node's store
    /// when reached, and checks the edge stored them all.
    async fn push_group(&self, space: SpaceId, group: Vec<Wanted>) -> Result<(), LinkError> {
        let expected = group.len() as u64;
        let store = self.app.blobs().clone();
        let outgoing: OutgoingBlobs = Box::pin(futures::stream::iter(group).then(move |w| {
            let store = store.clone();
            async move { open(store.as_ref(), w).await }
        }));
        let stored = self.peer.push_blobs(space, outgoing).await?;
        if stored != expected {
            return Err(PeerError::Invalid(format!(
                "the edge stored {stored} of {expected} blobs pushed"
            ))
            .into());
        }
        Ok(())
    }
}

/// `w`'s content from where the edge's copy ends.
async fn open(store: &dyn BlobStore, w: Wanted) -> Result<OutgoingBlob, crate::blob::BlobError> {
    let content = store.get(&w.hash, Some(w.from..w.size)).await?;
    Ok(OutgoingBlob {
        hash: w.hash,
        size: w.size,
        offset: w.from,
        content,
    })
}

/// The blobs the versions of `rows` name, each once, in feed order.
fn versions_blobs(rows: &[ChangeRow]) -> Vec<BlobInfo> {
    let mut seen = HashSet::new();
    rows.iter()
        .filter_map(|r| match r {
            ChangeRow::Version(v) if seen.insert(v.hash) => Some(BlobInfo {
                hash: v.hash,
                size: v.size,
            }),
            _ => None,
        })
        .collect()
}

/// Splits `blobs` into at most `streams` groups of about the same number of
/// bytes still to send (largest first, each to the lightest group).
fn spread(mut blobs: Vec<Wanted>, streams: usize) -> Vec<Vec<Wanted>> {
    blobs.sort_by_key(|b| std::cmp::Reverse(b.size - b.from));
    let mut groups: Vec<(u64, Vec<Wanted>)> = Vec::new();
    for blob in blobs {
        let left = blob.size - blob.from;
        if groups.len() < streams.max(1) {
            groups.push((left, vec![blob]));
        } else if let Some(lightest) = groups.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            lightest.0 += left;
            lightest.1.push(blob);
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(size: u64, from: u64, seed: u8) -> Wanted {
        Wanted {
            hash: ContentHash::of(&[seed]),
            size,
            from,
        }
    }

    #[test]
    fn spread_balances_the_bytes_left_over_the_streams_and_loses_none() {
        let mut blobs: Vec<Wanted> = (0..100).map(|i| wanted(64 * 1024, 0, i)).collect();
        blobs.push(wanted(1 << 30, (1 << 30) - 10, 200)); // 10 bytes left
        blobs.push(wanted(8 << 20, 0, 201));
        let groups = spread(blobs.clone(), 4);
        assert_eq!(groups.len(), 4);
        let mut all: Vec<_> = groups.iter().flatten().map(|b| b.hash).collect();
        let mut expected: Vec<_> = blobs.iter().map(|b| b.hash).collect();
        all.sort_by_key(ContentHash::to_hex);
        expected.sort_by_key(ContentHash::to_hex);
        assert_eq!(all, expected, "every blob once");
        let left: Vec<u64> = groups
            .iter()
            .map(|g| g.iter().map(|b| b.size - b.from).sum())
            .collect();
        // The 8 MiB blob alone in one group; the small ones over the others.
        assert!(left.contains(&(8 << 20)), "{left:?}");
        let small: Vec<u64> = left.into_iter().filter(|l| *l != 8 << 20).collect();
        let (min, max) = (small.iter().min(), small.iter().max());
        assert!(
            max.zip(min)
                .is_some_and(|(max, min)| max - min <= 64 * 1024 + 10),
            "{small:?}"
        );
    }

    #[test]
    fn spread_makes_no_more_groups_than_blobs() {
        assert!(spread(Vec::new(), 4).is_empty());
        assert_eq!(spread(vec![wanted(5, 0, 1)], 4).len(), 1);
        assert_eq!(spread(vec![wanted(5, 0, 1), wanted(6, 0, 2)], 0).len(), 1);
    }
}
