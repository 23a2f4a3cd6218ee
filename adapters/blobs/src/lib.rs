//! `passerelle-blobs`: the driven adapter behind core's `BlobStore` port.
//!
//! Place in the hexagon: a driven adapter. It depends on `passerelle-core`
//! (the port, `ContentHash`, `BlobError`) and on tokio for file I/O; it must
//! not depend on another adapter (sql, http, grpc…) nor build a runtime. Only
//! the node crates wire it in, as an `Arc<dyn BlobStore>`, so that an
//! S3-compatible store can later take its place behind the same port.
//!
//! Modules:
//! - [`fs`]: [`FsBlobStore`], BLAKE3-addressed files under
//!   `<root>/blobs/<2 hex>/<64 hex>`, written through `<root>/tmp/`.
//! - [`mod@gc`]: [`gc()`], deletes the blobs no version references (`blobs gc`).
//! - [`contract`]: the behaviour every `BlobStore` must show, as async
//!   functions that panic on failure; this crate's tests run it against
//!   `FsBlobStore` and core's `MemBlobStore`.

pub mod contract;
pub mod fs;
pub mod gc;

pub use fs::FsBlobStore;
pub use gc::{GcReport, gc};
