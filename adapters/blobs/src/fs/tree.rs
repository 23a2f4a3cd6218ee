//! The store's directories: the names of blobs and of their shards, the
//! listing of `blobs/`, the sweep of `tmp/`, and making a directory's new
//! or removed entries durable. Blocking functions, run on
//! `spawn_blocking` by the store.

use std::io;
use std::path::Path;

use passerelle_core::blob::BlobError;
use passerelle_core::hash::ContentHash;

use super::failure::storage;

/// Every well-formed blob name under `blobs/`. Anything else (editor
/// leftovers, uppercase names, files in the wrong shard) is ignored. Blocking.
pub(super) fn list_blobs(blobs: &Path) -> Result<Vec<ContentHash>, BlobError> {
    let mut hashes = Vec::new();
    for shard in read_dir(blobs)? {
        let shard_name = shard.file_name();
        let Some(prefix) = shard_name.to_str().filter(|n| is_shard_name(n)) else {
            continue;
        };
        let shard_path = shard.path();
        if !shard_path.is_dir() {
            continue;
        }
        for entry in read_dir(&shard_path)? {
            let name = entry.file_name();
            let Some(hash) = name.to_str().and_then(|n| blob_name(prefix, n)) else {
                continue;
            };
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                hashes.push(hash);
            }
        }
    }
    Ok(hashes)
}

fn is_shard_name(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The hash a file name stands for, if it is the canonical (lowercase) name
/// of a blob that belongs in the shard `prefix`.
fn blob_name(prefix: &str, name: &str) -> Option<ContentHash> {
    let hash: ContentHash = name.parse().ok()?;
    (hash.to_hex() == name && name.starts_with(prefix)).then_some(hash)
}

/// The entries of a directory, skipping those that vanish while listed.
pub(super) fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, BlobError> {
    let entries = std::fs::read_dir(dir).map_err(|e| storage("list directory", dir, e))?;
    Ok(entries.filter_map(Result::ok).collect())
}

/// Removes every entry of `tmp/`; returns how many. Blocking.
pub(super) fn sweep(tmp: &Path) -> Result<u64, BlobError> {
    let mut removed = 0;
    for entry in read_dir(tmp)? {
        let path = entry.path();
        let result = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(storage("remove temporary", &path, e)),
        }
    }
    Ok(removed)
}

/// Makes a directory's entries (a new or removed name) durable. Blocking.
pub(super) fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| storage("fsync directory", dir, e))
}
