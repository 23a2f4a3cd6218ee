//! The file-system operations of a drop folder: its layout, what a listing
//! sees (never following a link nor opening a file), claims, and the moves
//! out of `en-cours/` that write their receipt durably first and never
//! overwrite. All blocking: callers run them through [`blocking`].

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where things are inside one drop folder.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The drop folder itself; applications own it, we only create inside.
    drop: PathBuf,
    /// `.passerelle/en-cours/`: claimed, not yet settled; recovered at start.
    en_cours: PathBuf,
    /// `traite/`: filed, one subdirectory per UTC day.
    traite: PathBuf,
    /// `erreur/`: refused, each with its `.err.txt`.
    erreur: PathBuf,
}

/// What an entry is, as `symlink_metadata` says (links are not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Link,
    /// A FIFO, socket or device: never opened (a FIFO would block).
    Special,
}

/// What stability is judged on: any write changes one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Bytes; for a directory, the sum of its files.
    pub size: u64,
    /// The newest mtime (of the directory and everything inside it).
    pub mtime: SystemTime,
    /// Entries inside a directory: a file added with an old mtime (a
    /// copy preserving times) still changes the stamp.
    pub entries: u64,
}

/// One entry of a listing.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub name: OsString,
    pub kind: Kind,
    pub stamp: Stamp,
}

/// The drop folder as one listing saw it.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Candidates: neither ignored nor markers.
    pub entries: Vec<Entry>,
    /// Names that have a `<name>.ok` marker.
    pub markers: HashSet<OsString>,
}

impl Layout {
    pub fn new(drop: &Path) -> Self {
        Self {
            drop: drop.to_owned(),
            en_cours: drop.join(".passerelle").join("en-cours"),
            traite: drop.join("traite"),
            erreur: drop.join("erreur"),
        }
    }

    pub fn en_cours(&self) -> &Path {
        &self.en_cours
    }

    /// Creates our subdirectories. The drop folder itself must exist:
    /// creating it would hide a mount that failed (files would pile up
    /// on the wrong disk while the application writes elsewhere).
    pub fn prepare(&self) -> io::Result<()> {
        let meta = fs::metadata(&self.drop)?;
        if !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} n'est pas un dossier", self.drop.display()),
            ));
        }
        for dir in [&self.en_cours, &self.traite, &self.erreur] {
            fs::create_dir_all(dir)?;
        }
        Ok(())
    }

    /// The drop folder's candidates and markers.
    pub fn list_drop(&self) -> io::Result<Listing> {
        let mut listing = Listing::default();
        for dirent in fs::read_dir(&self.drop)? {
            let name = dirent?.file_name();
            if let Some(base) = marker_of(&name) {
                listing.markers.insert(base);
                continue;
            }
            if is_ignored(&name) {
                continue;
            }
            if let Some(entry) = stat(&self.drop, name)? {
                listing.entries.push(entry);
            }
        }
        Ok(listing)
    }

    /// What a killed run left in `en-cours/`.
    pub fn list_en_cours(&self) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for dirent in fs::read_dir(&self.en_cours)? {
            let name = dirent?.file_name();
            // Our own temporary files never live here, but an operator's
            // editor might: skip them as the drop folder would.
            if is_ignored(&name) {
                continue;
            }
            if let Some(entry) = stat(&self.en_cours, name)? {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Renames `<drop>/<name>` into `en-cours/` (under a suffixed name if
    /// taken there). `None` if it vanished since the listing: the
    /// application took it back, nothing to do.
    pub fn claim(&self, name: &OsStr) -> io::Result<Option<PathBuf>> {
        let to = unique(&self.en_cours, name, None);
        match fs::rename(self.drop.join(name), &to) {
            Ok(()) => {
                sync_dir(&self.en_cours)?;
                Ok(Some(to))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Moves a claimed file to `traite/<date>/`, its receipt beside it
    /// (written first: a crash in between leaves the file in `en-cours/`,
    /// filed again, never a file in `traite/` without its receipt).
    pub fn file(
        &self,
        claimed: &Path,
        name: &OsStr,
        receipt: &serde_json::Value,
        now: OffsetDateTime,
    ) -> io::Result<PathBuf> {
        let dir = self.traite.join(day(now));
        fs::create_dir_all(&dir)?;
        let mut body = serde_json::to_vec_pretty(receipt).map_err(io::Error::other)?;
        body.push(b'\n');
        self.settle(claimed, &dir, name, ".recu.json", &body)
    }

    /// Moves a claimed file to `erreur/`, the reason and date beside it.
    pub fn refuse(
        &self,
        claimed: &Path,
        name: &OsStr,
        reason: &str,
        now: OffsetDateTime,
    ) -> io::Result<PathBuf> {
        let date = now.format(&Rfc3339).unwrap_or_else(|_| now.to_string());
        let body = format!("{reason}\n\nDate : {date}\n");
        self.settle(claimed, &self.erreur, name, ".err.txt", body.as_bytes())
    }

    /// Deletes `<drop>/<name>.ok`, once its file has left `en-cours/`.
    pub fn remove_marker(&self, name: &OsStr) -> io::Result<()> {
        let mut marker = name.to_owned();
        marker.push(".ok");
        match fs::remove_file(self.drop.join(marker)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn settle(
        &self,
        claimed: &Path,
        dir: &Path,
        name: &OsStr,
        suffix: &str,
        body: &[u8],
    ) -> io::Result<PathBuf> {
        let to = unique(dir, name, Some(suffix));
        let mut companion = to.clone().into_os_string();
        companion.push(suffix);
        write_durably(dir, Path::new(&companion), body)?;
        fs::rename(claimed, &to)?;
        sync_dir(dir)?;
        sync_dir(&self.en_cours)?;
        Ok(to)
    }
}

/// `2026-12-07`: the UTC day a file was filed, its folder in `traite/`.
pub(crate) fn day(now: OffsetDateTime) -> String {
    let date = now.to_offset(time::UtcOffset::UTC).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Names applications use while writing, ours, and editors' backups.
/// Suffixes compare without case: Windows applications on SMB write `.TMP`.
pub(crate) fn is_ignored(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || [".tmp", ".part", ".ok"].iter().any(|s| lower.ends_with(s))
        || name == "traite"
        || name == "erreur"
}

/// `facture.xml.ok` → `facture.xml`. A marker whose name is not UTF-8
/// is not recognised (then ignored as any `.ok`): its file waits for
/// stability instead.
fn marker_of(name: &OsStr) -> Option<OsString> {
    let text = name.to_str()?;
    let cut = text.len().checked_sub(3)?;
    (cut > 0 && text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case(".ok"))
        .then(|| OsString::from(&text[..cut]))
}

/// An entry's kind and stamp; `None` if it vanished meanwhile.
fn stat(dir: &Path, name: OsString) -> io::Result<Option<Entry>> {
    let path = dir.join(&name);
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let kind = kind_of(meta.file_type());
    let stamp = match kind {
        Kind::Dir => match stamp_dir(&path) {
            Ok(stamp) => stamp,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        },
        _ => Stamp {
            size: meta.len(),
            mtime: meta.modified()?,
            entries: 0,
        },
    };
    Ok(Some(Entry { name, kind, stamp }))
}

fn kind_of(file_type: fs::FileType) -> Kind {
    if file_type.is_symlink() {
        Kind::Link
    } else if file_type.is_dir() {
        Kind::Dir
    } else if file_type.is_file() {
        Kind::File
    } else {
        Kind::Special
    }
}

/// A bundle's stamp: every entry, at any depth, links not followed (so no
/// cycle), with an explicit stack rather than recursion.
fn stamp_dir(root: &Path) -> io::Result<Stamp> {
    let mut stamp = Stamp {
        size: 0,
        mtime: fs::symlink_metadata(root)?.modified()?,
        entries: 0,
    };
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for dirent in fs::read_dir(&dir)? {
            let dirent = dirent?;
            let meta = fs::symlink_metadata(dirent.path())?;
            stamp.entries += 1;
            stamp.mtime = stamp.mtime.max(meta.modified()?);
            if meta.is_dir() {
                stack.push(dirent.path());
            } else {
                stamp.size = stamp.size.saturating_add(meta.len());
            }
        }
    }
    Ok(stamp)
}

/// `dir/name`, or `dir/<stem>.<n><ext>` for the first `n` free, where
/// `suffix` names a companion (`.recu.json`) that must be free too. Only
/// this worker writes these directories, so checking then renaming cannot
/// race with another writer.
fn unique(dir: &Path, name: &OsStr, suffix: Option<&str>) -> PathBuf {
    let taken = |path: &Path| {
        let companion = suffix.map(|s| {
            let mut c = path.as_os_str().to_owned();
            c.push(s);
            PathBuf::from(c)
        });
        exists(path) || companion.is_some_and(|c| exists(&c))
    };
    let first = dir.join(name);
    if !taken(&first) {
        return first;
    }
    let as_path = Path::new(name);
    let stem = as_path.file_stem().unwrap_or(name);
    let ext = as_path.extension();
    let mut n: u64 = 1;
    loop {
        let mut candidate = stem.to_owned();
        candidate.push(format!(".{n}"));
        if let Some(ext) = ext {
            candidate.push(".");
            candidate.push(ext);
        }
        let path = dir.join(candidate);
        if !taken(&path) {
            return path;
        }
        n += 1;
    }
}

/// Dangling links count: a rename onto one would replace it.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Writes `path` whole or not at all: a temporary name in the same
/// directory, flushed to disk, renamed, the directory flushed.
fn write_durably(dir: &Path, path: &Path, body: &[u8]) -> io::Result<()> {
    let file_name = path.file_name().unwrap_or(path.as_os_str());
    let mut tmp_name = OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let mut file = File::create(&tmp)?;
    file.write_all(body)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Makes renames in `dir` durable. Some network file systems cannot
/// flush a directory; they flush on their own terms, so that is no error.
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Runs file-system work off the async runtime (STYLE: never block it).
pub(crate) async fn blocking<T, F>(work: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> io::Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}
