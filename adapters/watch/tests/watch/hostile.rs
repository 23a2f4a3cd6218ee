//! Names and entries an application (or an intruder) may drop: unicode
//! and spaces, names that are not UTF-8, symlinks (never followed), FIFOs
//! (never opened: opening one would block the worker).

use std::fs;
use std::time::Duration;

use passerelle_watch::Scanner;

use crate::support::*;

/// A pass that blocks (on a FIFO) fails the test instead of hanging it.
const NO_BLOCK: Duration = Duration::from_secs(20);

#[tokio::test]
async fn names_with_spaces_accents_and_unicode_are_filed_as_they_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::default();
    let t = t0();
    let name = "Délibération n° 12 — été 2026 « budget » 日本.xml";
    write(drop, name, b"<acte/>");
    write(drop, &format!("{name}.ok"), b"");

    Scanner::new(folder(drop))
        .pass(&ingest, t)
        .await
        .expect("pass");
    assert_eq!(ingest.names(), [name]);
    assert_eq!(
        names(&traite(drop, t)),
        [name.to_owned(), format!("{name}.recu.json")]
    );
    assert!(dropped(drop).is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn a_name_that_is_not_utf8_is_filed_under_its_own_bytes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::default();
    let t = t0();
    let name = OsStr::from_bytes(b"facture-\xe9t\xe9.xml");
    fs::write(drop.join(name), b"latin-1").expect("write");

    let mut scanner = Scanner::new(folder(drop));
    scanner.pass(&ingest, t).await.expect("pass");
    scanner.pass(&ingest, after(t, 11)).await.expect("pass");
    assert_eq!(ingest.names(), ["facture-\u{FFFD}t\u{FFFD}.xml"]);
    assert!(traite(drop, after(t, 11)).join(name).is_file());
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_is_refused_to_erreur_without_being_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let secret = write(outside.path(), "secret.txt", b"ne pas lire");
    std::os::unix::fs::symlink(&secret, drop.join("lien.xml")).expect("symlink");
    let ingest = Recorder::default();

    let summary = Scanner::new(folder(drop))
        .pass(&ingest, t0())
        .await
        .expect("pass");
    assert_eq!(summary.refused, 1, "refused at once, no stability wait");
    assert!(ingest.calls().is_empty());
    let moved = fs::symlink_metadata(erreur(drop).join("lien.xml")).expect("in erreur");
    assert!(
        moved.file_type().is_symlink(),
        "the link moved, not its target"
    );
    assert_eq!(read(&secret), "ne pas lire");
    let text = read(&erreur(drop).join("lien.xml.err.txt"));
    assert!(text.contains("Lien symbolique"), "{text}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let status = std::process::Command::new("mkfifo")
        .arg(drop.join("tube.xml"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    write(drop, "tube.xml.ok", b"");
    write(drop, "normal.xml", b"x");
    write(drop, "normal.xml.ok", b"");
    let ingest = Recorder::default();

    let summary = tokio::time::timeout(NO_BLOCK, Scanner::new(folder(drop)).pass(&ingest, t0()))
        .await
        .expect("a FIFO blocked the pass")
        .expect("pass");
    assert_eq!((summary.filed, summary.refused), (1, 1));
    assert_eq!(ingest.names(), ["normal.xml"]);
    let text = read(&erreur(drop).join("tube.xml.err.txt"));
    assert!(text.contains("non pris en charge"), "{text}");
    assert!(dropped(drop).is_empty(), "{:?}", dropped(drop));
}

#[tokio::test]
async fn a_name_too_long_for_its_receipt_is_filed_under_a_shortened_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::default();
    let t = t0();
    // 250 bytes: the name fits, `<name>.recu.json` would not.
    let name = format!("{}.xml", "é".repeat(123));
    assert_eq!(name.len(), 250);
    write(drop, &name, b"<PES/>");
    write(drop, "court.xml", b"x");
    write(drop, "court.xml.ok", b"");
    let marked = fs::File::create(drop.join(&name)).expect("open");
    marked
        .set_modified(std::time::SystemTime::UNIX_EPOCH)
        .expect("mtime");

    let mut scanner = Scanner::new(folder(drop));
    scanner.pass(&ingest, t).await.expect("pass");
    let summary = scanner.pass(&ingest, after(t, 11)).await.expect("pass");
    assert_eq!(summary.filed, 1, "the long name, after the marked one");
    assert_eq!(ingest.names(), ["court.xml".to_owned(), name.clone()]);
    let filed = names(&traite(drop, after(t, 11)));
    assert_eq!(filed.len(), 4, "{filed:?}");
    assert!(
        filed
            .iter()
            .any(|n| n.ends_with(".xml.recu.json") && n.starts_with("éé")),
        "{filed:?}"
    );
    assert!(dropped(drop).is_empty() && names(&en_cours(drop)).is_empty());
}

#[tokio::test]
async fn a_marker_in_capitals_is_honoured_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::default();
    write(drop, "FACTURE.XML", b"x");
    write(drop, "FACTURE.XML.OK", b"");
    let summary = Scanner::new(folder(drop))
        .pass(&ingest, t0())
        .await
        .expect("pass");
    assert_eq!(summary.filed, 1);
    assert!(dropped(drop).is_empty(), "{:?}", dropped(drop));
}

/// An ingestion with a bug: it panics on one file.
#[derive(Debug)]
struct Panicking;

#[async_trait::async_trait]
impl passerelle_watch::Ingest for Panicking {
    async fn ingest(&self, file: &passerelle_watch::Claimed) -> passerelle_watch::Ingested {
        assert_ne!(file.name, "bombe.xml", "a parser's bug");
        passerelle_watch::Ingested::Filed {
            receipt: serde_json::json!({}),
        }
    }
}

#[tokio::test]
async fn a_panicking_ingestion_refuses_the_file_and_the_folder_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let t = t0();
    for name in ["bombe.xml", "suivant.xml"] {
        write(drop, name, b"x");
        write(drop, &format!("{name}.ok"), b"");
    }
    let summary = Scanner::new(folder(drop))
        .pass(&Panicking, t)
        .await
        .expect("pass");
    assert_eq!((summary.filed, summary.refused), (1, 1));
    let text = read(&erreur(drop).join("bombe.xml.err.txt"));
    assert!(text.contains("Erreur interne"), "{text}");
    assert!(traite(drop, t).join("suivant.xml").is_file());
}

/// Files `a.xml`, and meanwhile replaces `b.xml` (listed as a plain
/// file) by a link to `target`: what a hostile application would race.
#[cfg(unix)]
#[derive(Debug)]
struct Swapping {
    drop: std::path::PathBuf,
    target: std::path::PathBuf,
    handed: std::sync::Mutex<Vec<String>>,
}

#[cfg(unix)]
#[async_trait::async_trait]
impl passerelle_watch::Ingest for Swapping {
    async fn ingest(&self, file: &passerelle_watch::Claimed) -> passerelle_watch::Ingested {
        self.handed.lock().expect("lock").push(file.name.clone());
        if file.name == "a.xml" {
            fs::remove_file(self.drop.join("b.xml")).expect("remove");
            std::os::unix::fs::symlink(&self.target, self.drop.join("b.xml")).expect("link");
        }
        passerelle_watch::Ingested::Filed {
            receipt: serde_json::json!({}),
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_swapped_for_a_link_after_the_listing_is_refused_when_claimed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let target = write(outside.path(), "secret.txt", b"ne pas lire");
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    for (name, mtime) in [("a.xml", old), ("b.xml", std::time::SystemTime::now())] {
        let file = fs::File::create(write(drop, name, b"x")).expect("open");
        file.set_modified(mtime).expect("mtime");
        write(drop, &format!("{name}.ok"), b"");
    }
    let ingest = Swapping {
        drop: drop.to_owned(),
        target,
        handed: Default::default(),
    };

    let summary = Scanner::new(folder(drop))
        .pass(&ingest, t0())
        .await
        .expect("pass");
    assert_eq!((summary.filed, summary.refused), (1, 1));
    assert_eq!(*ingest.handed.lock().expect("lock"), ["a.xml"]);
    let moved = fs::symlink_metadata(erreur(drop).join("b.xml")).expect("in erreur");
    assert!(moved.file_type().is_symlink());
}
