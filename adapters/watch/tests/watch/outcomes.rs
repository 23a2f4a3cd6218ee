//! Where a handed file goes: `traite/<date>/` with its receipt, `erreur/`
//! with its reason, back to the ingestion after `Retry` or a crash;
//! names never overwritten; too large refused without being handed.

use std::fs;

use passerelle_watch::{Ingested, Scanner};

use crate::support::*;

fn refused(reason: &str) -> Ingested {
    Ingested::Refused {
        reason: reason.into(),
    }
}

#[tokio::test]
async fn filed_goes_to_traite_of_the_day_with_its_receipt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let receipt = serde_json::json!({ "documents": ["d-1", "d-2"] });
    let ingest = Recorder::answering([Ingested::Filed {
        receipt: receipt.clone(),
    }]);
    let t = t0();
    write(drop, "flux.xml", b"<PES/>");
    write(drop, "flux.xml.ok", b"");

    Scanner::new(folder(drop))
        .pass(&ingest, t)
        .await
        .expect("pass");
    let day = traite(drop, t);
    assert_eq!(names(&day), ["flux.xml", "flux.xml.recu.json"]);
    assert_eq!(read(&day.join("flux.xml")), "<PES/>");
    let written: serde_json::Value =
        serde_json::from_str(&read(&day.join("flux.xml.recu.json"))).expect("json");
    assert_eq!(written, receipt);
    assert!(
        read(&day.join("flux.xml.recu.json")).contains("\n  "),
        "pretty"
    );
    assert!(names(&en_cours(drop)).is_empty());
}

#[tokio::test]
async fn refused_goes_to_erreur_with_the_reason_and_the_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::answering([refused("Élément Bordereau manquant, ligne 12.")]);
    write(drop, "flux.xml", b"<PES/>");
    write(drop, "flux.xml.ok", b"");

    let summary = Scanner::new(folder(drop))
        .pass(&ingest, t0())
        .await
        .expect("pass");
    assert_eq!((summary.filed, summary.refused), (0, 1));
    assert_eq!(names(&erreur(drop)), ["flux.xml", "flux.xml.err.txt"]);
    let text = read(&erreur(drop).join("flux.xml.err.txt"));
    assert!(
        text.starts_with("Élément Bordereau manquant, ligne 12."),
        "{text}"
    );
    assert!(text.contains("Date : "), "{text}");
    assert!(dropped(drop).is_empty() && names(&en_cours(drop)).is_empty());
}

#[tokio::test]
async fn retry_leaves_the_file_in_en_cours_and_hands_it_again_next_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::answering([Ingested::Retry {
        error: "base de données injoignable".into(),
    }]);
    let mut scanner = Scanner::new(folder(drop));
    let t = t0();
    write(drop, "a.xml", b"a");
    write(drop, "a.xml.ok", b"");
    write(drop, "b.xml", b"b");
    write(drop, "b.xml.ok", b"");

    let summary = scanner.pass(&ingest, t).await.expect("pass");
    assert_eq!(
        summary.retry.as_deref(),
        Some("a.xml : base de données injoignable")
    );
    assert_eq!(ingest.names(), ["a.xml"], "the pass stops at a retry");
    assert_eq!(names(&en_cours(drop)), ["a.xml"]);

    let summary = scanner.pass(&ingest, after(t, 1)).await.expect("pass");
    assert_eq!((summary.filed, summary.retry), (2, None));
    assert_eq!(ingest.names(), ["a.xml", "a.xml", "b.xml"]);
    assert_eq!(
        names(&traite(drop, after(t, 1))),
        ["a.xml", "a.xml.recu.json", "b.xml", "b.xml.recu.json"]
    );
    assert!(names(&en_cours(drop)).is_empty());
    assert!(dropped(drop).is_empty(), "markers removed");
}

#[tokio::test]
async fn a_file_left_in_en_cours_by_a_killed_run_is_handed_and_moved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    fs::create_dir_all(en_cours(drop)).expect("mkdir");
    write(&en_cours(drop), "interrompu.xml", b"<PES/>");
    // The killed run had not removed its marker either.
    write(drop, "interrompu.xml.ok", b"");
    let ingest = Recorder::default();
    let t = t0();

    let summary = Scanner::new(folder(drop))
        .pass(&ingest, t)
        .await
        .expect("pass");
    assert_eq!(summary.filed, 1);
    let calls = ingest.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].claimed.name, "interrompu.xml");
    assert!(calls[0].present_in_en_cours);
    assert_eq!(
        names(&traite(drop, t)),
        ["interrompu.xml", "interrompu.xml.recu.json"]
    );
    assert!(names(&en_cours(drop)).is_empty());
    assert!(dropped(drop).is_empty());
}

#[tokio::test]
async fn the_same_name_dropped_twice_is_filed_twice_without_overwriting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::default();
    let mut scanner = Scanner::new(folder(drop));
    let t = t0();
    for body in ["premier", "second"] {
        write(drop, "export.xml", body.as_bytes());
        write(drop, "export.xml.ok", b"");
        scanner.pass(&ingest, t).await.expect("pass");
    }
    let day = traite(drop, t);
    assert_eq!(
        names(&day),
        [
            "export.1.xml",
            "export.1.xml.recu.json",
            "export.xml",
            "export.xml.recu.json"
        ]
    );
    assert_eq!(read(&day.join("export.xml")), "premier");
    assert_eq!(read(&day.join("export.1.xml")), "second");
    assert_eq!(ingest.names(), ["export.xml", "export.xml"]);
}

#[tokio::test]
async fn the_same_name_refused_twice_keeps_both_in_erreur() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::answering([refused("premier refus"), refused("second refus")]);
    let mut scanner = Scanner::new(folder(drop));
    for body in ["premier", "second"] {
        write(drop, "export", body.as_bytes());
        write(drop, "export.ok", b"");
        scanner.pass(&ingest, t0()).await.expect("pass");
    }
    let erreur = erreur(drop);
    assert_eq!(
        names(&erreur),
        ["export", "export.1", "export.1.err.txt", "export.err.txt"]
    );
    assert_eq!(read(&erreur.join("export")), "premier");
    assert_eq!(read(&erreur.join("export.1")), "second");
    assert!(read(&erreur.join("export.1.err.txt")).starts_with("second refus"));
}

#[tokio::test]
async fn a_file_too_large_is_refused_without_being_handed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let ingest = Recorder::default();
    let mut small = folder(drop);
    small.max_bytes = 10;
    write(drop, "enorme.xml", b"0123456789A");
    write(drop, "enorme.xml.ok", b"");
    write(drop, "juste.xml", b"0123456789");
    write(drop, "juste.xml.ok", b"");

    let summary = Scanner::new(small).pass(&ingest, t0()).await.expect("pass");
    assert_eq!((summary.filed, summary.refused), (1, 1));
    assert_eq!(ingest.names(), ["juste.xml"]);
    let text = read(&erreur(drop).join("enorme.xml.err.txt"));
    assert!(text.contains("11 octets"), "{text}");
    assert!(text.contains("limite de 10 octets"), "{text}");
    assert!(
        text.contains("max_bytes") && text.contains("découpez"),
        "{text}"
    );
    assert!(erreur(drop).join("enorme.xml").is_file());
}

#[tokio::test]
async fn a_kill_between_receipt_and_move_files_again_beside_the_lone_receipt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    let t = t0();
    // The killed run had written the receipt, not yet moved the file.
    fs::create_dir_all(en_cours(drop)).expect("mkdir");
    fs::create_dir_all(traite(drop, t)).expect("mkdir");
    write(&en_cours(drop), "flux.xml", b"<PES/>");
    write(
        &traite(drop, t),
        "flux.xml.recu.json",
        b"{\"premier\": true}\n",
    );
    let ingest = Recorder::default();

    Scanner::new(folder(drop))
        .pass(&ingest, t)
        .await
        .expect("pass");
    assert_eq!(ingest.names(), ["flux.xml"]);
    assert_eq!(
        names(&traite(drop, t)),
        ["flux.1.xml", "flux.1.xml.recu.json", "flux.xml.recu.json"]
    );
    assert_eq!(
        read(&traite(drop, t).join("flux.xml.recu.json")),
        "{\"premier\": true}\n",
        "never overwritten"
    );
    assert!(names(&en_cours(drop)).is_empty());
}

/// Counts the files inside `ingest` at once; each stays a while, so that
/// those handed together meet.
#[derive(Default)]
struct Overlap {
    inside: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl passerelle_watch::Ingest for Overlap {
    async fn ingest(&self, file: &passerelle_watch::Claimed) -> Ingested {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.inside.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.inside.fetch_sub(1, SeqCst);
        Ingested::Filed {
            receipt: serde_json::json!({ "classé": file.name }),
        }
    }
}

#[tokio::test]
async fn files_are_handed_a_few_at_a_time_once_one_is_settled() {
    use std::sync::atomic::Ordering::SeqCst;
    let dir = tempfile::tempdir().expect("tempdir");
    let drop = dir.path();
    for i in 0..7 {
        write(drop, &format!("flux-{i}.xml"), b"<PES/>");
        write(drop, &format!("flux-{i}.xml.ok"), b"");
    }
    let ingest = Overlap::default();
    let t = t0();
    let summary = Scanner::new(folder(drop))
        .pass(&ingest, t)
        .await
        .expect("pass");
    assert_eq!(summary.filed, 7, "{summary:?}");
    let most = ingest.most.load(SeqCst);
    assert!((2..=3).contains(&most), "{most} files at once");
    assert_eq!(names(&traite(drop, t)).len(), 14);
    assert!(names(&en_cours(drop)).is_empty());
    assert!(dropped(drop).is_empty());
}
