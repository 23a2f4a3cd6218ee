//! The `ExtractionLog` port beside the repository: records per content hash
//! (round trip, upsert, retries due, problems paged, counts) and the
//! documents holding a content, read from the repository's tables.

use passerelle_core::ContentHash;
use passerelle_core::model::Page;
use passerelle_core::ports::Repository;
use passerelle_core::search::{ExtractionLog, ExtractionRecord, ExtractionStatus};

use super::{Outcome, Row, T0, at, document, save, seed_space, trashed, version};

/// A record of the content `content`, tried at `T0 + tried`, not due again.
fn record(content: &str, status: ExtractionStatus, tried: i128) -> ExtractionRecord {
    ExtractionRecord {
        hash: ContentHash::of(content.as_bytes()),
        status,
        reason: String::new(),
        attempts: 1,
        tried_at: at(T0 + tried),
        next_try: None,
    }
}

/// `record` with a retry due at `T0 + next`.
fn retry(content: &str, next: i128) -> ExtractionRecord {
    ExtractionRecord {
        next_try: Some(at(T0 + next)),
        ..record(content, ExtractionStatus::Failed, 0)
    }
}

async fn record_each(log: &dyn ExtractionLog, records: &[&ExtractionRecord]) -> Outcome {
    for r in records {
        log.record(r).await?;
    }
    Ok(())
}

pub async fn extractions_round_trip_every_status_exactly(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    let records: Vec<ExtractionRecord> = ExtractionStatus::ALL
        .into_iter()
        .zip(0..)
        .map(|(status, i)| ExtractionRecord {
            reason: format!(
                "« {} » : entrée chiffrée, réessayée à l’échéance",
                status.as_str()
            ),
            attempts: if i == 0 { u32::MAX } else { i },
            next_try: status
                .is_retryable()
                .then(|| at(T0 + 1_000 + i128::from(i))),
            ..record(&format!("contenu-{i}"), status, i128::from(i))
        })
        .collect();
    for r in &records {
        log.record(r).await?;
    }
    for r in &records {
        assert_eq!(
            log.extraction(&r.hash).await?.as_ref(),
            Some(r),
            "{:?}",
            r.status
        );
    }
    Ok(())
}

pub async fn recording_again_replaces_the_record(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    let first = ExtractionRecord {
        reason: "pdftotext : délai dépassé".into(),
        ..retry("rapport", 10)
    };
    log.record(&first).await?;
    let second = ExtractionRecord {
        status: ExtractionStatus::Timeout,
        reason: "délai dépassé encore".into(),
        attempts: 2,
        tried_at: at(T0 + 20),
        next_try: Some(at(T0 + 40)),
        ..first.clone()
    };
    log.record(&second).await?;
    assert_eq!(log.extraction(&first.hash).await?, Some(second.clone()));
    assert_eq!(
        log.due(at(T0 + 30), 10).await?,
        vec![],
        "the earlier next_try is gone"
    );

    let done = ExtractionRecord {
        status: ExtractionStatus::Ok,
        reason: String::new(),
        attempts: 3,
        tried_at: at(T0 + 50),
        next_try: None,
        ..second
    };
    log.record(&done).await?;
    assert_eq!(log.extraction(&first.hash).await?, Some(done));
    assert_eq!(log.due(at(T0 + 1_000_000), 10).await?, vec![], "cleared");
    assert_eq!(
        log.count_by_status().await?,
        vec![(ExtractionStatus::Ok, 1)],
        "one record per hash"
    );
    Ok(())
}

/// The indexer's write: one batch per feed batch. Every record lands, a
/// hash given twice keeps its later record, an earlier record of a hash is
/// replaced, and an empty batch writes nothing.
pub async fn records_are_written_in_a_batch_and_the_later_of_a_hash_wins(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    let before = retry("plan", 10);
    log.record(&before).await?;
    log.record_all(&[]).await?;
    assert_eq!(
        log.count_by_status().await?,
        vec![(ExtractionStatus::Failed, 1)]
    );

    let plan = record("plan", ExtractionStatus::Ok, 20);
    let scan = record("scan", ExtractionStatus::Empty, 21);
    let first = record("devis", ExtractionStatus::Timeout, 22);
    let later = ExtractionRecord {
        reason: "« chiffré »".into(),
        ..record("devis", ExtractionStatus::Encrypted, 23)
    };
    let batch = [plan.clone(), scan.clone(), first, later.clone()];
    log.record_all(&batch).await?;
    for r in [&plan, &scan, &later] {
        assert_eq!(log.extraction(&r.hash).await?.as_ref(), Some(r));
    }
    assert_eq!(
        log.count_by_status().await?,
        vec![
            (ExtractionStatus::Ok, 1),
            (ExtractionStatus::Empty, 1),
            (ExtractionStatus::Encrypted, 1),
        ],
        "one record per hash"
    );
    assert_eq!(log.due(at(T0 + 1_000_000), 10).await?, vec![], "replaced");
    Ok(())
}

pub async fn due_records_are_those_whose_time_has_come_soonest_first(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    let late = retry("late", 30);
    let soon = retry("soon", 10);
    // Two due at the same time: by hash.
    let (tie_a, tie_b) = {
        let (a, b) = (retry("tie-a", 20), retry("tie-b", 20));
        if a.hash < b.hash { (a, b) } else { (b, a) }
    };
    let future = retry("future", 31);
    let done = record("done", ExtractionStatus::Ok, 0);
    record_each(log, &[&late, &tie_b, &future, &done, &soon, &tie_a]).await?;

    let now = at(T0 + 30);
    assert_eq!(
        log.due(now, 10).await?,
        vec![soon.clone(), tie_a.clone(), tie_b.clone(), late.clone()],
        "next_try at or before now, soonest first"
    );
    assert_eq!(log.due(now, 2).await?, vec![soon.clone(), tie_a]);
    assert_eq!(log.due(now, 0).await?, vec![]);
    assert_eq!(log.due(at(T0 + 9), 10).await?, vec![]);
    assert_eq!(log.due(at(T0 + 10), 10).await?, vec![soon]);
    assert_eq!(log.due(at(T0 + 31), 10).await?.len(), 5);
    Ok(())
}

pub async fn problems_leave_out_ok_and_empty_last_tried_first_and_page_with_a_total(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    use ExtractionStatus as S;
    let ok = record("ok", S::Ok, 50);
    let empty = record("empty", S::Empty, 60);
    let failed = record("failed", S::Failed, 10);
    let unsupported = record("unsupported", S::Unsupported, 20);
    let too_large = record("too-large", S::TooLarge, 40);
    let (tie_a, tie_b) = {
        let (a, b) = (
            record("timeout", S::Timeout, 30),
            record("encrypted", S::Encrypted, 30),
        );
        if a.hash < b.hash { (a, b) } else { (b, a) }
    };
    record_each(
        log,
        &[
            &failed,
            &ok,
            &tie_b,
            &empty,
            &too_large,
            &unsupported,
            &tie_a,
        ],
    )
    .await?;

    let all = log.problems(Page::all()).await?;
    assert_eq!(
        all.items,
        vec![
            too_large.clone(),
            tie_a.clone(),
            tie_b.clone(),
            unsupported.clone(),
            failed.clone()
        ]
    );
    assert_eq!(all.total, 5);
    let page = |offset, limit| Page { offset, limit };
    let first = log.problems(page(0, 2)).await?;
    assert_eq!((first.items, first.total), (vec![too_large, tie_a], 5));
    let second = log.problems(page(2, 2)).await?;
    assert_eq!((second.items, second.total), (vec![tie_b, unsupported], 5));
    let last = log.problems(page(4, 2)).await?;
    assert_eq!((last.items, last.total), (vec![failed], 5));
    let past = log.problems(page(10, 2)).await?;
    assert_eq!((past.items, past.total), (vec![], 5));
    Ok(())
}

pub async fn records_are_counted_by_status(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    use ExtractionStatus as S;
    assert_eq!(log.count_by_status().await?, vec![], "none yet");
    for (i, status) in [
        S::Timeout,
        S::Failed,
        S::Ok,
        S::Failed,
        S::Timeout,
        S::Failed,
    ]
    .into_iter()
    .enumerate()
    {
        log.record(&record(&format!("c{i}"), status, 0)).await?;
    }
    assert_eq!(
        log.count_by_status().await?,
        vec![(S::Ok, 1), (S::Failed, 3), (S::Timeout, 2)],
        "in the order of ExtractionStatus, absent statuses left out"
    );
    Ok(())
}

pub async fn holders_are_the_unpurged_documents_whose_current_version_has_the_hash(
    repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    let (owner, a) = seed_space(repo, "urbanisme").await?;
    let (_, b) = seed_space(repo, "voirie").await?;
    let shared = "arrêté du maire";
    let hash = ContentHash::of(shared.as_bytes());

    let held = document(&a, None, "tenu.pdf");
    let mut replaced = document(&a, None, "remplace.pdf");
    replaced.current_version = 2;
    let mut updated = document(&a, None, "mis-a-jour.pdf");
    updated.current_version = 2;
    let mut in_trash = document(&b, None, "corbeille.pdf");
    in_trash.trashed = trashed(owner.id, None);
    let mut purged = document(&b, None, "purge.pdf");
    purged.trashed = trashed(owner.id, None);
    purged.purged = true;
    let elsewhere = document(&b, None, "ailleurs.pdf");
    let other = document(&b, None, "autre.pdf");
    let rows = vec![
        Row::from(&held),
        Row::from(&version(&held, 1, shared)),
        // An older version with the content does not count.
        Row::from(&replaced),
        Row::from(&version(&replaced, 1, shared)),
        Row::from(&version(&replaced, 2, "nouveau texte")),
        Row::from(&updated),
        Row::from(&version(&updated, 1, "brouillon")),
        Row::from(&version(&updated, 2, shared)),
        Row::from(&in_trash),
        Row::from(&version(&in_trash, 1, shared)),
        Row::from(&purged),
        Row::from(&version(&purged, 1, shared)),
        Row::from(&elsewhere),
        Row::from(&version(&elsewhere, 1, shared)),
        Row::from(&other),
        Row::from(&version(&other, 1, "sans rapport")),
    ];
    save(repo, rows).await?;

    let mut expected = vec![held.id, updated.id, in_trash.id, elsewhere.id];
    expected.sort();
    assert_eq!(log.holders(&hash).await?, expected);
    assert_eq!(
        log.holders(&ContentHash::of(b"nouveau texte")).await?,
        vec![replaced.id]
    );
    assert_eq!(
        log.holders(&ContentHash::of(b"brouillon")).await?,
        vec![],
        "only in an older version"
    );
    Ok(())
}

pub async fn an_unknown_hash_has_no_record_and_no_holders(
    _repo: &dyn Repository,
    log: &dyn ExtractionLog,
) -> Outcome {
    let known = retry("connu", 0);
    log.record(&known).await?;
    let unknown = ContentHash::of(b"inconnu");
    assert_eq!(log.extraction(&unknown).await?, None);
    assert_eq!(log.holders(&unknown).await?, vec![]);
    assert_eq!(
        log.holders(&known.hash).await?,
        vec![],
        "a record alone holds nothing"
    );
    Ok(())
}
