//! The `IngestionLedger` part of the transaction: a filing's row round
//! trips exactly, is found by (drop folder, hash) only, is written once
//! (a second row for the same key is a `Conflict` that leaves the
//! transaction usable), needs its space and account, and lives and dies
//! with the transaction that wrote it.

use passerelle_core::ContentHash;
use passerelle_core::flows::{DropName, Ingestion};
use passerelle_core::ids::{DocumentId, PrincipalId, SpaceId};
use passerelle_core::model::{Principal, Space};
use passerelle_core::ports::Repository;

use super::{Outcome, T0, assert_conflict, assert_storage, at, read, seed_space, write};

fn ingestion(source: &str, content: &str, by: &Principal, space: &Space) -> Ingestion {
    Ingestion {
        source: DropName::parse(source).expect("drop name"),
        hash: ContentHash::of(content.as_bytes()),
        file_name: "PES_Aller 2026 n°42 — dépenses.xml".into(),
        space: space.id,
        filed_by: by.id,
        filed_at: at(T0 + 42),
        documents: vec![DocumentId::new(), DocumentId::new(), DocumentId::new()],
        reference: None,
    }
}

pub async fn ingestions_round_trip_and_are_found_by_drop_folder_and_hash(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "ledger").await?;
    let first = ingestion("helios", "flux 1", &p, &s);
    let other_drop = ingestion("helios-2", "flux 1", &p, &s);
    let empty = Ingestion {
        documents: Vec::new(),
        ..ingestion("helios", "flux 2", &p, &s)
    };
    let mut tx = write(repo).await?;
    for i in [&first, &other_drop, &empty] {
        tx.save_ingestion(i).await?;
    }
    tx.commit().await?;
    let mut tx = read(repo).await?;
    for i in [&first, &other_drop, &empty] {
        assert_eq!(tx.ingestion(&i.source, &i.hash).await?.as_ref(), Some(i));
    }
    let helios = DropName::parse("helios")?;
    assert_eq!(
        tx.ingestion(&helios, &ContentHash::of(b"flux 3")).await?,
        None
    );
    assert_eq!(
        tx.ingestion(&DropName::parse("actes")?, &first.hash)
            .await?,
        None
    );
    assert_eq!(tx.count_ingestions(&helios).await?, 2);
    assert_eq!(tx.count_ingestions(&DropName::parse("helios-2")?).await?, 1);
    assert_eq!(tx.count_ingestions(&DropName::parse("actes")?).await?, 0);
    Ok(())
}

pub async fn ingestions_are_found_by_reference_oldest_first_across_drop_folders(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "ledger-ref").await?;
    let act = Ingestion::act("034-2026-042");
    let at_ = |n: i128, source: &str, content: &str, reference: Option<&str>| Ingestion {
        filed_at: at(T0 + n),
        reference: reference.map(str::to_owned),
        ..ingestion(source, content, &p, &s)
    };
    let later = at_(20, "actes", "bundle 2", Some(&act));
    let first = at_(10, "actes-2", "bundle 1", Some(&act));
    let tie = at_(20, "actes-2", "bundle 3", Some(&act));
    let other = at_(5, "actes", "other", Some(&Ingestion::act("034-2026-043")));
    let none = at_(1, "actes", "none", None);
    let mut tx = write(repo).await?;
    for i in [&later, &first, &tie, &other, &none] {
        tx.save_ingestion(i).await?;
    }
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.ingestions_by_reference(&act).await?, [first, later, tie]);
    assert_eq!(
        tx.ingestions_by_reference(&Ingestion::acknowledgement("034-2026-042"))
            .await?,
        []
    );
    Ok(())
}

pub async fn an_ingestion_is_written_once_and_needs_its_space_and_account(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "ledger-once").await?;
    let first = ingestion("helios", "flux", &p, &s);
    let mut tx = write(repo).await?;
    tx.save_ingestion(&first).await?;
    let again = Ingestion {
        file_name: "renamed.xml".into(),
        ..first.clone()
    };
    assert_conflict(tx.save_ingestion(&again).await, "the same key twice");
    // The transaction is still usable after the conflict (PostgreSQL's
    // savepoint), and keeps the first row as it was.
    assert_eq!(
        tx.ingestion(&first.source, &first.hash).await?,
        Some(first.clone())
    );
    tx.commit().await?;

    let mut tx = write(repo).await?;
    let no_space = Ingestion {
        space: SpaceId::new(),
        ..ingestion("helios", "other", &p, &s)
    };
    assert_storage(tx.save_ingestion(&no_space).await, "an unknown space");
    drop(tx);
    let mut tx = write(repo).await?;
    let no_account = Ingestion {
        filed_by: PrincipalId::new(),
        ..ingestion("helios", "other", &p, &s)
    };
    assert_storage(tx.save_ingestion(&no_account).await, "an unknown account");
    drop(tx);

    // Rolled back with its transaction.
    let mut tx = write(repo).await?;
    let dropped = ingestion("helios", "rolled back", &p, &s);
    tx.save_ingestion(&dropped).await?;
    drop(tx);
    let mut tx = read(repo).await?;
    assert_eq!(tx.ingestion(&dropped.source, &dropped.hash).await?, None);
    // A read transaction writes nothing.
    assert_storage(tx.save_ingestion(&dropped).await, "a read transaction");
    Ok(())
}
