//! A text extractor for core's tests: UTF-8 content is its own text,
//! anything else is `unsupported`, and it can be told to fail, to test
//! statuses and retries. The real extractors are `passerelle-extract`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use futures::TryStreamExt;

use crate::search::{ExtractInput, Extraction, ExtractionStatus, TextExtractor};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct PlainTextExtractor {
    calls: AtomicU64,
    failing: AtomicBool,
}

impl PlainTextExtractor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Extractions made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// From now on, every extraction fails (`true`) or works (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl TextExtractor for PlainTextExtractor {
    async fn extract(&self, input: ExtractInput) -> Extraction {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Extraction::not(ExtractionStatus::Failed, "the extractor is told to fail");
        }
        let chunks: Result<Vec<_>, _> = input.content.try_collect().await;
        let Ok(chunks) = chunks else {
            return Extraction::not(ExtractionStatus::Failed, "the content could not be read");
        };
        match String::from_utf8(chunks.concat()) {
            Ok(text) if text.trim().is_empty() => {
                Extraction::not(ExtractionStatus::Empty, "no text")
            }
            Ok(text) => Extraction::ok(text),
            Err(_) => Extraction::not(ExtractionStatus::Unsupported, "not UTF-8 text"),
        }
    }
}
