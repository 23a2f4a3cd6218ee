//! When a file is complete: renamed from a temporary name, stable for
//! `stable_for`, or marked by `<name>.ok`; a bundle directory likewise.

use std::fs;

use passerelle_watch::Scanner;

use crate::support::*;

#[tokio::test]
async fn a_tmp_renamed_to_its_final_name_is_taken_once_stable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();

    write(drop, "facture.xml.tmp", b"<PES/>");
    scanner.pass(&ingest, t).await.expect("pass");
    fs::rename(drop.join("facture.xml.tmp"), drop.join("facture.xml")).expect("rename");
    let summary = scanner.pass(&ingest, after(t, 1)).await.expect("pass");
    assert_eq!(summary.waiting, 1, "seen once: waits one stable_for");
    assert!(ingest.calls().is_empty());

    let summary = scanner.pass(&ingest, after(t, 12)).await.expect("pass");
    assert_eq!(summary.filed, 1);
    assert_eq!(ingest.names(), ["facture.xml"]);
    assert!(ingest.calls()[0].present_in_en_cours);
    assert!(traite(drop, after(t, 12)).join("facture.xml").is_file());
    assert!(dropped(drop).is_empty(), "{:?}", dropped(drop));
}

#[tokio::test]
async fn part_tmp_and_editor_files_are_never_taken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();
    for name in ["a.part", "b.tmp", "C.TMP", "d.xml~", ".cache"] {
        write(drop, name, b"x");
    }
    for secs in [0, 100, 1000] {
        let summary = scanner.pass(&ingest, after(t, secs)).await.expect("pass");
        assert_eq!(summary.waiting, 0);
    }
    assert!(ingest.calls().is_empty());
    assert_eq!(
        dropped(drop),
        [".cache", "C.TMP", "a.part", "b.tmp", "d.xml~"]
    );
}

#[tokio::test]
async fn a_growing_file_is_not_taken_until_it_stops_changing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();

    write(drop, "gros.xml", b"debut");
    scanner.pass(&ingest, t).await.expect("pass");
    write(drop, "gros.xml", b"debut, suite");
    let summary = scanner.pass(&ingest, after(t, 11)).await.expect("pass");
    assert_eq!(
        (summary.waiting, summary.filed),
        (1, 0),
        "changed: waits again"
    );
    assert!(summary.next_check.is_some_and(|d| d == STABLE));
    assert!(ingest.calls().is_empty());

    scanner.pass(&ingest, after(t, 22)).await.expect("pass");
    assert_eq!(ingest.names(), ["gros.xml"]);
    assert_eq!(ingest.calls()[0].claimed.size, 12);
}

#[tokio::test]
async fn an_ok_marker_makes_a_file_taken_at_once_and_is_removed_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();
    write(drop, "acte.xml", b"<acte/>");
    write(drop, "acte.xml.ok", b"");

    let summary = scanner.pass(&ingest, t).await.expect("pass");
    assert_eq!(summary.filed, 1);
    assert_eq!(ingest.names(), ["acte.xml"]);
    assert!(traite(drop, t).join("acte.xml").is_file());
    assert!(dropped(drop).is_empty(), "marker left: {:?}", dropped(drop));
}

#[tokio::test]
async fn files_are_taken_oldest_mtime_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for (name, age) in [("b.xml", 10), ("a.xml", 20), ("c.xml", 30)] {
        let file = fs::File::create(write(drop, name, b"x")).expect("open");
        file.set_modified(old - std::time::Duration::from_secs(age))
            .expect("mtime");
    }
    scanner.pass(&ingest, t).await.expect("pass");
    scanner.pass(&ingest, after(t, 11)).await.expect("pass");
    assert_eq!(ingest.names(), ["c.xml", "a.xml", "b.xml"]);
}

#[tokio::test]
async fn a_bundle_directory_with_a_marker_is_claimed_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();
    let bundle = drop.join("lot-actes");
    fs::create_dir(&bundle).expect("mkdir");
    write(&bundle, "enveloppe.xml", b"12345");
    write(&bundle, "acte.pdf", b"1234567890");
    write(drop, "lot-actes.ok", b"");

    scanner.pass(&ingest, t).await.expect("pass");
    let calls = ingest.calls();
    assert_eq!(calls.len(), 1);
    let claimed = &calls[0].claimed;
    assert!(claimed.is_dir);
    assert_eq!((claimed.name.as_str(), claimed.size), ("lot-actes", 15));
    let filed = traite(drop, t).join("lot-actes");
    assert_eq!(names(&filed), ["acte.pdf", "enveloppe.xml"]);
    assert!(traite(drop, t).join("lot-actes.recu.json").is_file());
    assert!(dropped(drop).is_empty());
}

#[tokio::test]
async fn a_bundle_without_marker_waits_until_nothing_inside_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let mut scanner = Scanner::new(folder(drop));
    let ingest = Recorder::default();
    let t = t0();
    let bundle = drop.join("lot");
    fs::create_dir(&bundle).expect("mkdir");
    write(&bundle, "enveloppe.xml", b"12345");
    let before = fs::metadata(&bundle)
        .expect("stat")
        .modified()
        .expect("mtime");
    scanner.pass(&ingest, t).await.expect("pass");
    // An empty file added with old times, the directory's mtime put back
    // (a copy keeping times, `rsync -t`): only the count of entries moved.
    let added = fs::File::create(write(&bundle, "acte.pdf", b"")).expect("open");
    added
        .set_modified(std::time::SystemTime::UNIX_EPOCH)
        .expect("mtime");
    fs::File::open(&bundle)
        .expect("open dir")
        .set_modified(before)
        .expect("dir mtime");
    scanner.pass(&ingest, after(t, 11)).await.expect("pass");
    assert!(ingest.calls().is_empty(), "taken while being filled");
    scanner.pass(&ingest, after(t, 22)).await.expect("pass");
    assert_eq!(ingest.names(), ["lot"]);
    assert!(ingest.calls()[0].claimed.is_dir);
}

/// Counts the calls under way and keeps the most seen at once.
#[derive(Debug, Default)]
struct Gauge {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl passerelle_watch::Ingest for Gauge {
    async fn ingest(&self, file: &passerelle_watch::Claimed) -> passerelle_watch::Ingested {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(n, SeqCst);
        // Long enough for the pass to hand the next files meanwhile.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        self.now.fetch_sub(1, SeqCst);
        passerelle_watch::Ingested::Filed {
            receipt: serde_json::json!({ "classé": file.name }),
        }
    }
}

#[tokio::test]
async fn files_are_handed_as_many_at_a_time_as_the_folder_says() {
    for in_flight in [1, 5] {
        let dir = tempfile::tempdir().expect("tempdir");
        let drop = dir.path();
        for i in 0..12 {
            write(drop, &format!("f{i:02}.xml"), b"<PES/>");
            write(drop, &format!("f{i:02}.xml.ok"), b"");
        }
        let mut scanner = Scanner::new(passerelle_watch::DropFolder {
            in_flight,
            ..folder(drop)
        });
        let gauge = Gauge::default();
        let summary = scanner.pass(&gauge, t0()).await.expect("pass");
        assert_eq!(summary.filed, 12);
        let most = gauge.most.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(most, in_flight, "in_flight {in_flight}");
    }
}
