//! An in-memory antivirus for core's tests (ADR 0010): signatures as byte
//! patterns, a switch that makes it unreachable, an optional stream limit,
//! and a count of the scans asked (a test that content was, or was not,
//! scanned can fail).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use futures::StreamExt;

use crate::antivirus::{Antivirus, ScanError, Verdict};
use crate::blob::Readable;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct MemAntivirus {
    /// (pattern, signature name): content holding the pattern is infected.
    signatures: Mutex<Vec<(Vec<u8>, String)>>,
    down: AtomicBool,
    /// Longest content accepted, as clamd's `StreamMaxLength` (0: none).
    limit: AtomicU64,
    scans: AtomicU64,
}

impl MemAntivirus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Content holding `pattern` is found infected by `name`.
    pub fn add_signature(&self, pattern: &[u8], name: &str) {
        self.signatures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((pattern.to_vec(), name.to_owned()));
    }

    /// Makes every scan fail as an unreachable scanner does.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Refuses content longer than `limit` bytes (`TooLarge`).
    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::SeqCst);
    }

    /// How many scans were asked (answered or not).
    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Antivirus for MemAntivirus {
    async fn scan(&self, content: Readable) -> Result<Verdict, ScanError> {
        self.scans.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(ScanError::Unavailable("connection refused".into()));
        }
        let limit = self.limit.load(Ordering::SeqCst);
        // A fake may hold the content: test contents are small, and a file
        // (only an adapter's store hands one) is read as it is.
        let mut all = Vec::new();
        match content {
            Readable::Stream(mut content) => {
                while let Some(chunk) = content.next().await {
                    all.extend_from_slice(&chunk.map_err(ScanError::Content)?);
                    if limit > 0 && all.len() as u64 > limit {
                        return Err(ScanError::TooLarge { limit });
                    }
                }
            }
            Readable::File(mut file) => {
                std::io::Read::read_to_end(&mut file, &mut all).map_err(ScanError::Content)?;
                if limit > 0 && all.len() as u64 > limit {
                    return Err(ScanError::TooLarge { limit });
                }
            }
        }
        let signatures = self
            .signatures
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let found = signatures
            .iter()
            .find(|(p, _)| !p.is_empty() && all.windows(p.len()).any(|w| w == p.as_slice()));
        Ok(match found {
            Some((_, name)) => Verdict::Infected {
                signature: name.clone(),
            },
            None => Verdict::Clean,
        })
    }
}
