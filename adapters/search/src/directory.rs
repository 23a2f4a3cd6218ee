//! The index's directory on disk: tantivy's `MmapDirectory` for writing,
//! locking and watching, but segment files read with positioned reads
//! (`pread`) instead of memory maps, so that the node's resident memory is
//! its own heap and not the index's size (issue 14: RSS < 300 MiB while
//! indexing).
//!
//! Why not mmap: `MmapDirectory` maps every segment file whole, and every
//! page a search, a merge or a reader reload touches stays in the process's
//! resident set (`RssFile`) until the kernel needs it back: ~170 MiB on a
//! node that had indexed 20,000 documents, more than half of its VmRSS.
//! With positioned reads those pages are the kernel's page cache, shared
//! and reclaimable, never counted in the process; what tantivy keeps of a
//! file (term dictionaries, field norms, the doc store's skip index) is
//! copied to the heap, where it is counted honestly. The price is a copy
//! and a system call per read, which a posting list or a doc-store block
//! amortises.

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::HasLen;
use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

/// A directory whose files are read with `pread`; everything else is
/// `MmapDirectory`'s (its writes, atomic `meta.json`, file locks and
/// watcher have nothing to do with mapping).
#[derive(Clone, Debug)]
pub(crate) struct ReadAtDirectory {
    /// The directory, canonical as `MmapDirectory` resolves it, so that
    /// both name the same files.
    root: PathBuf,
    /// Writes, deletes, locks, `meta.json` and its watcher. Its mapping
    /// cache is never filled: `get_file_handle` is the only caller of it.
    inner: MmapDirectory,
}

impl ReadAtDirectory {
    /// The directory `dir`, which must exist.
    pub(crate) fn open(dir: &Path) -> Result<ReadAtDirectory, OpenDirectoryError> {
        let inner = MmapDirectory::open(dir)?;
        let root = dir
            .canonicalize()
            .map_err(|e| OpenDirectoryError::wrap_io_error(e, dir.to_owned()))?;
        Ok(ReadAtDirectory { root, inner })
    }
}

/// One open segment file. The descriptor keeps the data readable after the
/// file is deleted (a merge's garbage collection while a searcher still
/// reads the old segment), which is the `FileHandle` contract that a map
/// gives `MmapDirectory`.
struct ReadAtFile {
    file: File,
    /// Taken at open: tantivy files are written once, never appended to.
    len: usize,
    /// For `Debug` only: which file a failed read was about.
    path: PathBuf,
}

impl fmt::Debug for ReadAtFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReadAtFile({}, {} bytes)", self.path.display(), self.len)
    }
}

impl HasLen for ReadAtFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for ReadAtFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.start > range.end || range.end > self.len {
            // tantivy's own `WrapFile` clamps silently; a range past the end
            // is a corrupt index, better said than read short.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{range:?} out of {} ({} bytes)",
                    self.path.display(),
                    self.len
                ),
            ));
        }
        // Empty ranges are asked for (empty fields, empty files): no read.
        if range.is_empty() {
            return Ok(OwnedBytes::empty());
        }
        let mut buffer = vec![0; range.len()];
        let offset = u64::try_from(range.start).map_err(io::Error::other)?;
        self.file.read_exact_at(&mut buffer, offset)?;
        Ok(OwnedBytes::new(buffer))
    }
}

impl Directory for ReadAtDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let full = self.root.join(path);
        let file = File::open(&full).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_owned()),
            _ => OpenReadError::wrap_io_error(e, path.to_owned()),
        })?;
        let len = file
            .metadata()
            .and_then(|m| usize::try_from(m.len()).map_err(io::Error::other))
            .map_err(|e| OpenReadError::wrap_io_error(e, path.to_owned()))?;
        Ok(Arc::new(ReadAtFile {
            file,
            len,
            path: path.to_owned(),
        }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.inner.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        // `MmapDirectory` locks with `flock`, released if the process dies;
        // the trait's default (a lock file) would outlive a crash.
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use tantivy::directory::TerminatingWrite;

    use super::*;

    fn written(dir: &ReadAtDirectory, name: &str, bytes: &[u8]) -> PathBuf {
        let path = PathBuf::from(name);
        let mut w = dir.open_write(&path).expect("open write");
        w.write_all(bytes).expect("write");
        w.terminate().expect("terminate");
        path
    }

    #[test]
    fn reads_back_ranges_of_a_written_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = ReadAtDirectory::open(tmp.path()).expect("open");
        let path = written(&dir, "seg.idx", b"0123456789");
        let slice = dir.open_read(&path).expect("open read");
        assert_eq!(slice.len(), 10);
        assert_eq!(slice.read_bytes().expect("all").as_slice(), b"0123456789");
        let middle = slice.slice(3..7).read_bytes().expect("middle");
        assert_eq!(middle.as_slice(), b"3456");
        assert!(slice.slice(4..4).read_bytes().expect("empty").is_empty());
    }

    #[test]
    fn an_empty_file_opens_and_reads_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = ReadAtDirectory::open(tmp.path()).expect("open");
        let path = written(&dir, "empty.pos", b"");
        let slice = dir.open_read(&path).expect("open read");
        assert!(slice.read_bytes().expect("read").is_empty());
    }

    #[test]
    fn a_range_past_the_end_is_an_error_not_a_short_read() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = ReadAtDirectory::open(tmp.path()).expect("open");
        let path = written(&dir, "seg.store", b"abc");
        let handle = dir.get_file_handle(&path).expect("handle");
        assert!(handle.read_bytes(1..4).is_err());
    }

    #[test]
    fn a_missing_file_is_reported_as_such() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = ReadAtDirectory::open(tmp.path()).expect("open");
        assert!(matches!(
            dir.get_file_handle(Path::new("nope.idx")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }

    /// A searcher may still read a segment that a merge deleted.
    #[test]
    fn an_open_handle_still_reads_a_deleted_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = ReadAtDirectory::open(tmp.path()).expect("open");
        let path = written(&dir, "old.term", b"still here");
        let handle = dir.get_file_handle(&path).expect("handle");
        dir.delete(&path).expect("delete");
        assert!(!dir.exists(&path).expect("exists"));
        assert_eq!(
            handle.read_bytes(0..10).expect("read").as_slice(),
            b"still here"
        );
    }
}
