//! [`ReloadingTls`]: the current rustls configuration, rebuilt when the
//! certificate, key or CA files change on disk, so renewed certificates apply
//! to new connections without a restart (established ones keep theirs).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use rustls::{ClientConfig, ServerConfig};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tracing::{error, info, warn};

use super::{ErrorChain, NodeId, PeerPolicy, TlsError, TlsFiles, client_config, server_config};

/// Quiet time after the last change before rebuilding: renewals write the
/// certificate and the key separately, often as write-then-rename.
const DEBOUNCE: Duration = Duration::from_millis(500);

/// Builds a configuration from the files (blocking: it reads them).
type Build<C> = dyn Fn() -> Result<Arc<C>, TlsError> + Send + Sync;

/// The TLS configuration new connections use, for `C` = [`ServerConfig`] (edge)
/// or [`ClientConfig`] (internal node).
///
/// Built by [`ReloadingTls::server`] / [`ReloadingTls::client`], it watches the
/// three files (their directories, so that replace-by-rename is seen) and, after
/// half a second without changes, rebuilds the configuration. A new configuration that
/// fails to build (unreadable, mismatched key, expired, no node id…) is logged
/// at `error` and the current one stays. [`ReloadingTls::fixed`] never changes.
///
/// Clones share the configuration. The watcher and its reload task are owned by
/// the clones: they stop when the last clone is dropped or `cancel` fires.
pub struct ReloadingTls<C> {
    /// What connections read.
    slot: Arc<Slot<C>>,
    /// The notify watcher and the reload task, alive as long as a clone is.
    _watch: Option<Arc<Watch>>,
}

struct Slot<C> {
    /// The configuration handed to new connections. A plain `RwLock` suffices:
    /// readers hold it for one `Arc` clone, the writer for one assignment.
    current: RwLock<Arc<C>>,
    /// Configurations installed so far, the first one included.
    generation: AtomicU64,
}

struct Watch {
    /// Dropping the watcher stops the OS watch.
    _watcher: RecommendedWatcher,
    /// Dropping the handle aborts the reload task.
    _task: AbortOnDropHandle<()>,
}

impl<C> Clone for ReloadingTls<C> {
    fn clone(&self) -> Self {
        Self {
            slot: Arc::clone(&self.slot),
            _watch: self._watch.clone(),
        }
    }
}

impl<C> fmt::Debug for ReloadingTls<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingTls")
            .field("generation", &self.generation())
            .field("watching", &self._watch.is_some())
            .finish_non_exhaustive()
    }
}

impl<C> ReloadingTls<C> {
    /// The configuration for a new connection.
    pub fn current(&self) -> Arc<C> {
        let current = self
            .slot
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&current)
    }

    /// How many configurations were installed: 1 at start, +1 per successful
    /// reload (tests and metrics watch it).
    pub fn generation(&self) -> u64 {
        self.slot.generation.load(Ordering::Acquire)
    }
}

impl<C: Send + Sync + 'static> ReloadingTls<C> {
    /// A configuration that never changes (tests, or material not on disk).
    pub fn fixed(config: Arc<C>) -> Self {
        Self {
            slot: Arc::new(Slot {
                current: RwLock::new(config),
                generation: AtomicU64::new(1),
            }),
            _watch: None,
        }
    }

    /// Builds the first configuration (an error here is fatal to the caller),
    /// then watches `files`. `scope` names the configuration in the reload
    /// logs (the internal node has one per link, all on the same files).
    /// Must be called within a Tokio runtime.
    fn watching(
        files: &TlsFiles,
        build: Arc<Build<C>>,
        cancel: CancellationToken,
        scope: String,
    ) -> Result<Self, TlsError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| TlsError::NoRuntime)?;
        let mut this = Self::fixed(build()?);
        // Capacity 1 and `try_send`: a pending signal already means "reload",
        // and the notify callback (on notify's own thread) never blocks.
        let (changed, changes) = mpsc::channel::<()>(1);
        let names = watched_names(files);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<Event>| match event {
                Ok(event) if is_relevant(&event, &names) => {
                    let _ = changed.try_send(());
                }
                Ok(_) => {}
                Err(err) => warn!(error = %err, "TLS file watcher error"),
            })
            .map_err(TlsError::Watch)?;
        for dir in watched_dirs(files) {
            watcher
                .watch(&dir, RecursiveMode::NonRecursive)
                .map_err(TlsError::Watch)?;
        }
        let task = runtime.spawn(reload_loop(
            Arc::clone(&this.slot),
            changes,
            build,
            cancel,
            files.cert.clone(),
            scope,
        ));
        this._watch = Some(Arc::new(Watch {
            _watcher: watcher,
            _task: AbortOnDropHandle::new(task),
        }));
        Ok(this)
    }

    fn store(slot: &Slot<C>, config: Arc<C>) -> u64 {
        *slot.current.write().unwrap_or_else(PoisonError::into_inner) = config;
        slot.generation.fetch_add(1, Ordering::AcqRel) + 1
    }
}

impl ReloadingTls<ServerConfig> {
    /// The edge's [`server_config`], rebuilt when `files` change, until `cancel`.
    pub fn server(
        files: TlsFiles,
        policy: PeerPolicy,
        cancel: CancellationToken,
    ) -> Result<Self, TlsError> {
        let watched = files.clone();
        Self::watching(
            &watched,
            Arc::new(move || server_config(&files, &policy)),
            cancel,
            "replication server".to_owned(),
        )
    }
}

impl ReloadingTls<ClientConfig> {
    /// The [`client_config`] of the internal node's link to `server`, rebuilt
    /// when `files` change, until `cancel`. Each (re)connection of a channel
    /// takes the current one. One per link: each accepts its own edge only.
    pub fn client(
        files: TlsFiles,
        server: NodeId,
        cancel: CancellationToken,
    ) -> Result<Self, TlsError> {
        let watched = files.clone();
        let scope = format!("link to {server}");
        Self::watching(
            &watched,
            Arc::new(move || client_config(&files, &server)),
            cancel,
            scope,
        )
    }
}

/// Waits for a change, lets the writer finish, rebuilds off the runtime, swaps.
async fn reload_loop<C: Send + Sync + 'static>(
    slot: Arc<Slot<C>>,
    mut changes: mpsc::Receiver<()>,
    build: Arc<Build<C>>,
    cancel: CancellationToken,
    cert: PathBuf,
    scope: String,
) {
    loop {
        // Both branches are cancel-safe (`recv` loses no message when dropped).
        tokio::select! {
            () = cancel.cancelled() => return,
            change = changes.recv() => if change.is_none() { return },
        }
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(DEBOUNCE) => break,
                change = changes.recv() => if change.is_none() { return },
            }
        }
        let build = Arc::clone(&build);
        match tokio::task::spawn_blocking(move || build()).await {
            Ok(Ok(config)) => {
                let generation = ReloadingTls::store(&slot, config);
                info!(cert = %cert.display(), %scope, generation, "TLS material reloaded; new connections use it");
            }
            Ok(Err(err)) => error!(
                cert = %cert.display(),
                %scope,
                error = %ErrorChain(&err),
                "new TLS material refused; keeping the current one"
            ),
            Err(err) => error!(
                cert = %cert.display(),
                %scope,
                error = %err,
                "TLS reload failed; keeping the current material"
            ),
        }
    }
}

/// File names whose changes matter: the three files, and Kubernetes'
/// atomic-writer entries (`..data` and friends), which swap them all at once.
fn watched_names(files: &TlsFiles) -> HashSet<OsString> {
    [&files.cert, &files.key, &files.ca]
        .into_iter()
        .filter_map(|path| path.file_name().map(OsString::from))
        .collect()
}

/// Directories to watch: watching a file itself loses it on replace-by-rename.
fn watched_dirs(files: &TlsFiles) -> HashSet<PathBuf> {
    [&files.cert, &files.key, &files.ca]
        .into_iter()
        .map(|path| match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        })
        .collect()
}

/// A write, creation, removal or rename of one of our files. Opens, reads and
/// access-time updates are ignored: rebuilding reads the files, and must not
/// trigger itself.
fn is_relevant(event: &Event, names: &HashSet<OsString>) -> bool {
    let kind_matters = match event.kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    };
    kind_matters && event.paths.iter().any(|path| names_match(path, names))
}

fn names_match(path: &Path, names: &HashSet<OsString>) -> bool {
    path.file_name()
        .is_some_and(|name| names.contains(name) || name.to_string_lossy().starts_with(".."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange};

    fn names() -> HashSet<OsString> {
        watched_names(&TlsFiles {
            cert: "/etc/p/cert.pem".into(),
            key: "/etc/p/key.pem".into(),
            ca: "/etc/ca/ca.pem".into(),
        })
    }

    #[test]
    fn a_write_to_the_certificate_is_relevant() {
        let event = Event::new(EventKind::Modify(ModifyKind::Data(DataChange::Content)))
            .add_path("/etc/p/cert.pem".into());
        assert!(is_relevant(&event, &names()));
    }

    #[test]
    fn reading_the_files_is_not_relevant() {
        let event = Event::new(EventKind::Access(AccessKind::Open(AccessMode::Read)))
            .add_path("/etc/p/cert.pem".into());
        assert!(!is_relevant(&event, &names()));
    }

    #[test]
    fn other_files_in_the_directory_are_not_relevant() {
        let event =
            Event::new(EventKind::Create(CreateKind::File)).add_path("/etc/p/unrelated".into());
        assert!(!is_relevant(&event, &names()));
    }

    #[test]
    fn watches_each_directory_once() {
        let dirs = watched_dirs(&TlsFiles {
            cert: "/etc/p/cert.pem".into(),
            key: "/etc/p/key.pem".into(),
            ca: "ca.pem".into(),
        });
        assert_eq!(dirs, HashSet::from(["/etc/p".into(), ".".into()]));
    }
}
