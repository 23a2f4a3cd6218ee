//! In-memory fakes of the driven ports (repository, blobs, passwords,
//! clock, timer, an edge peer), for service tests; they pass the adapters'
//! contract suites.

mod mem_blobs;
pub use mem_blobs::MemBlobStore;
mod fast_passwords;
pub use fast_passwords::FastPasswords;
mod mem_repo;
pub use mem_repo::MemRepository;
mod fake_clock;
pub use fake_clock::FakeClock;
mod fake_timer;
pub use fake_timer::FakeTimer;
mod mem_edge_peer;
pub use mem_edge_peer::{MemConnector, MemEdgePeer};
