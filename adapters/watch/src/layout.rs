//! The file-system operations of a drop folder: its layout, what a listing
//! sees (never following a link nor opening a file), claims, and the moves
//! out of `en-cours/` that write their receipt durably first and never
//! overwrite. All blocking: callers run them through [`blocking`].

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    /// Held while a file is settled: files are handed a few at a time,
    /// but a settlement picks a free name, then writes through one fixed
    /// temporary name (see [`write_durably`]).
    settling: Mutex<()>,
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
    /// Entries that could not be examined (logged): left where they are,
    /// tried again next pass, rather than one entry stopping the folder.
    pub unreadable: u64,
}

impl Layout {
    pub fn new(drop: &Path) -> Self {
        Self {
            drop: drop.to_owned(),
            en_cours: drop.join(".passerelle").join("en-cours"),
            traite: drop.join("traite"),
            erreur: drop.join("erreur"),
            settling: Mutex::new(()),
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
            match stat(&self.drop, name) {
                Ok(Some(entry)) => listing.entries.push(entry),
                Ok(None) => {}
                Err(()) => listing.unreadable += 1,
            }
        }
        Ok(listing)
    }

    /// What a killed run left in `en-cours/` (an entry that cannot be
    /// examined stays there, logged, and is tried again next pass).
    pub fn list_en_cours(&self) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for dirent in fs::read_dir(&self.en_cours)? {
            let name = dirent?.file_name();
            // Our own temporary files never live here, but an operator's
            // editor might: skip them as the drop folder would.
            if is_ignored(&name) {
                continue;
            }
            if let Ok(Some(entry)) = stat(&self.en_cours, name) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Renames `<drop>/<name>` into `en-cours/` (under a suffixed name if
    /// taken there), and examines it again there: what the listing saw
    /// may have been replaced before the rename (a file by a link to
    /// something the application may not read), what was claimed cannot.
    /// The entry keeps `name`. `None` if it vanished since the listing:
    /// the application took it back, nothing to do.
    pub fn claim(&self, name: &OsStr) -> io::Result<Option<(PathBuf, Entry)>> {
        let to = unique(&self.en_cours, name, None);
        // Not flushed: if a crash undoes the rename, the file is back in
        // the drop folder and taken again, which the ingestion absorbs.
        match fs::rename(self.drop.join(name), &to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        let claimed = to.file_name().unwrap_or(name);
        // Gone from our own directory: only an operator's hand does that.
        let Some(entry) = stat_or_error(&self.en_cours, claimed)? else {
            return Ok(None);
        };
        let entry = Entry {
            name: name.to_owned(),
            ..entry
        };
        Ok(Some((to, entry)))
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

    /// Deletes `<drop>/<name>.ok` (in any case, as markers are
    /// recognised), once its file has left `en-cours/`: a marker left
    /// behind would make the next file of that name taken at once,
    /// perhaps half-written.
    pub fn remove_marker(&self, name: &OsStr) -> io::Result<()> {
        for ok in [".ok", ".OK", ".Ok", ".oK"] {
            let mut marker = name.to_owned();
            marker.push(ok);
            match fs::remove_file(self.drop.join(marker)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn settle(
        &self,
        claimed: &Path,
        dir: &Path,
        name: &OsStr,
        suffix: &str,
        body: &[u8],
    ) -> io::Result<PathBuf> {
        // A panic while it was held poisons nothing that matters: the
        // names are read again from the disk.
        let _one_at_a_time = self
            .settling
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let to = unique(dir, name, Some(suffix));
        let mut companion = to.clone().into_os_string();
        companion.push(suffix);
        write_durably(dir, Path::new(&companion), body)?;
        // Not flushed: if a crash undoes this rename, the file is back in
        // `en-cours/`, handed again and settled under a suffixed name; the
        // receipt already written stays beside nothing, nothing is lost.
        // Two flushes per file rather than four: a drop of thousands.
        fs::rename(claimed, &to)?;
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

/// An entry's kind and stamp; `None` if it vanished meanwhile, `Err` (logged
/// here) if it cannot be examined (a bundle with an unreadable file).
fn stat(dir: &Path, name: OsString) -> Result<Option<Entry>, ()> {
    stat_or_error(dir, &name).map_err(|error| {
        tracing::warn!(dir = %dir.display(), file = ?name, %error,
            "cannot examine a dropped entry: left where it is");
    })
}

fn stat_or_error(dir: &Path, name: &OsStr) -> io::Result<Option<Entry>> {
    let path = dir.join(name);
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
    Ok(Some(Entry {
        name: name.to_owned(),
        kind,
        stamp,
    }))
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

/// The longest file name most file systems take, in bytes.
const NAME_MAX: usize = 255;

/// `dir/name`, or `dir/<stem>.<n><ext>` for the first `n` free, where
/// `suffix` names a companion (`.recu.json`) that must be free too. Only
/// this worker writes these directories, so checking then renaming cannot
/// race with another writer. Names are shortened to fit [`NAME_MAX`] with
/// their suffixes: a name that cannot be written would stop the folder.
fn unique(dir: &Path, name: &OsStr, suffix: Option<&str>) -> PathBuf {
    let reserve = suffix.map_or(0, str::len);
    let taken = |path: &Path| {
        let companion = suffix.map(|s| {
            let mut c = path.as_os_str().to_owned();
            c.push(s);
            PathBuf::from(c)
        });
        exists(path) || companion.is_some_and(|c| exists(&c))
    };
    let mut n: u64 = 0;
    loop {
        let path = dir.join(numbered(name, n, reserve));
        if !taken(&path) {
            return path;
        }
        n += 1;
    }
}

/// `name` (n = 0) or `<stem>.<n><ext>`, its stem cut (on a character
/// boundary) if needed so that `reserve` more bytes still fit.
fn numbered(name: &OsStr, n: u64, reserve: usize) -> OsString {
    let tag = if n == 0 {
        String::new()
    } else {
        format!(".{n}")
    };
    if n == 0 && name.len() + reserve <= NAME_MAX {
        return name.to_owned();
    }
    let as_path = Path::new(name);
    // A long "extension" is no extension: keeping it could leave no stem.
    let ext = as_path.extension().filter(|e| e.len() <= 16);
    let stem = match ext {
        Some(_) => as_path.file_stem().unwrap_or(name),
        None => name,
    };
    let ext_len = ext.map_or(0, |e| e.len() + 1);
    let mut out = if stem.len() + tag.len() + ext_len + reserve <= NAME_MAX {
        stem.to_owned()
    } else {
        let room = NAME_MAX.saturating_sub(tag.len() + ext_len + reserve);
        let text = stem.to_string_lossy();
        let mut cut = room.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        OsString::from(&text[..cut])
    };
    out.push(tag);
    if let Some(ext) = ext {
        out.push(".");
        out.push(ext);
    }
    out
}

/// Dangling links count: a rename onto one would replace it.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Writes `path` whole or not at all: a temporary name in the same
/// directory, flushed to disk, renamed, the directory flushed.
fn write_durably(dir: &Path, path: &Path, body: &[u8]) -> io::Result<()> {
    // One fixed name, not derived from `path`: a name near the length
    // limit plus a prefix would not fit. Only this worker writes here, one
    // file at a time (`Layout::settling`); a crash's leftover is truncated
    // by the next write.
    let tmp = dir.join(".passerelle.tmp");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_names_markers_and_our_directories_are_ignored() {
        for name in [
            ".x", "a.tmp", "a.TMP", "a.part", "a.xml~", "a.ok", "traite", "erreur",
        ] {
            assert!(is_ignored(OsStr::new(name)), "{name}");
        }
        for name in ["a.xml", "tmp", "lot-actes", "partie.xml", "ok"] {
            assert!(!is_ignored(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn a_marker_names_its_file_in_any_case() {
        assert_eq!(marker_of(OsStr::new("a.xml.ok")), Some("a.xml".into()));
        assert_eq!(marker_of(OsStr::new("a.xml.OK")), Some("a.xml".into()));
        assert_eq!(marker_of(OsStr::new(".ok")), None);
        assert_eq!(marker_of(OsStr::new("a.xml")), None);
    }

    #[test]
    fn numbered_names_keep_the_extension_and_fit_the_limit() {
        assert_eq!(numbered(OsStr::new("a.xml"), 0, 10), "a.xml");
        assert_eq!(numbered(OsStr::new("a.xml"), 2, 10), "a.2.xml");
        assert_eq!(numbered(OsStr::new("lot.tar.gz"), 1, 0), "lot.tar.1.gz");
        assert_eq!(numbered(OsStr::new("README"), 1, 0), "README.1");
        let long = format!("{}.xml", "é".repeat(124));
        let fitted = numbered(OsStr::new(&long), 0, ".recu.json".len());
        let fitted = fitted.to_str().expect("utf-8");
        assert!(
            fitted.len() + ".recu.json".len() <= NAME_MAX,
            "{}",
            fitted.len()
        );
        assert!(fitted.ends_with("é.xml"), "cut on a character boundary");
        let numbered = numbered(OsStr::new(&long), 7, ".recu.json".len());
        assert!(numbered.to_str().is_some_and(|n| n.ends_with(".7.xml")));
        assert!(numbered.len() + ".recu.json".len() <= NAME_MAX);
    }

    #[test]
    fn the_day_folder_is_the_utc_date() {
        let t = time::macros::datetime!(2026-12-07 00:30 +02:00);
        assert_eq!(day(t), "2026-12-06");
    }
}
