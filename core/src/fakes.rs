//! In-memory fakes of the driven ports (repository, blobs, passwords, a
//! directory, an antivirus, clock, timer, an edge peer, a search index, a text extractor, a mail relay), for service
//! tests; they pass the adapters' contract suites.

mod mem_antivirus;
pub use mem_antivirus::MemAntivirus;
mod mem_blobs;
pub use mem_blobs::MemBlobStore;
mod fast_passwords;
pub use fast_passwords::FastPasswords;
mod mem_directory;
pub use mem_directory::MemDirectory;
mod mem_repo;
pub use mem_repo::MemRepository;
mod fake_clock;
pub use fake_clock::FakeClock;
mod fake_timer;
pub use fake_timer::FakeTimer;
mod mem_edge_peer;
pub use mem_edge_peer::{MemConnector, MemEdgePeer};
mod mem_mailer;
pub use mem_mailer::{MemBounces, MemMailer};
mod mem_index;
pub use mem_index::MemIndex;
mod plain_extractor;
pub use plain_extractor::PlainTextExtractor;

/// An internal node's use cases over the in-memory fakes (repository,
/// blobs, fast password hashing, the system clock), and its repository
/// (the search fakes and the properties store run on it): what a driving
/// adapter's test suite serves its router from.
pub fn mem_internal(
    settings: crate::CoreSettings,
) -> (crate::InternalApp, std::sync::Arc<MemRepository>) {
    let repo = std::sync::Arc::new(MemRepository::new());
    let app = crate::InternalApp::new(
        repo.clone(),
        std::sync::Arc::new(MemBlobStore::new()),
        std::sync::Arc::new(crate::ports::SystemClock),
        std::sync::Arc::new(FastPasswords),
        settings,
    );
    (app, repo)
}

/// An agent the system creates, named after its login, with `password`.
pub async fn mem_agent(
    app: &crate::InternalApp,
    login: &str,
    password: &str,
) -> Result<crate::Actor, crate::CoreError> {
    let p = app
        .create_agent(
            &crate::Actor::System,
            crate::service::NewAgent {
                login: login.into(),
                display_name: login.into(),
                email: String::new(),
                is_admin: false,
                password: Some(password.into()),
            },
        )
        .await?;
    Ok(crate::Actor::Principal(p))
}

/// Search over the in-memory fakes, wired as a node wires the real ones:
/// the [`crate::service::Search`] a router serves, the
/// [`crate::service::Indexer`] a test runs to bring the index up to date,
/// and the index itself. `repo` must be the one `app` runs on: it is also
/// the log of extractions.
pub fn mem_search(
    app: &crate::Passerelle,
    repo: std::sync::Arc<MemRepository>,
) -> (
    crate::service::Search,
    crate::service::Indexer,
    std::sync::Arc<MemIndex>,
) {
    let index = std::sync::Arc::new(MemIndex::new());
    let search = crate::service::Search::new(app, index.clone(), repo.clone());
    let indexer = crate::service::Indexer::new(
        app,
        index.clone(),
        std::sync::Arc::new(PlainTextExtractor::new()),
        repo,
    );
    (search, indexer, index)
}
