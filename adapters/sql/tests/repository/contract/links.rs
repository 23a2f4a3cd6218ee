//! The `LinkStore` part of the transaction: links round trip exactly, are
//! listed from both ends without tombstones in one order, are unique per
//! (from, to, kind) (a second row is a `Conflict` that leaves the
//! transaction usable), need their documents, and purge with a space.

use passerelle_core::ids::{DocumentId, LinkId, Revision};
use passerelle_core::links::{DocumentLink, LinkKind};
use passerelle_core::model::{Document, Principal, Space};
use passerelle_core::ports::Repository;

use super::{
    Outcome, Row, T0, assert_conflict, assert_storage, at, document, read, save, seed_space, write,
};

fn link(
    p: &Principal,
    s: &Space,
    from: &Document,
    to: &Document,
    kind: LinkKind,
    n: i128,
) -> DocumentLink {
    DocumentLink {
        id: LinkId::new(),
        space: s.id,
        from: from.id,
        to: to.id,
        kind,
        created_by: p.id,
        created_at: at(T0 + n),
        removed: false,
        revision: Revision(10 + n as i64),
    }
}

async fn three_documents(
    repo: &dyn Repository,
    slug: &str,
) -> anyhow::Result<(Principal, Space, [Document; 3])> {
    let (p, s) = seed_space(repo, slug).await?;
    let docs = [
        document(&s, None, "acte.pdf"),
        document(&s, None, "annexe 1.pdf"),
        document(&s, None, "annexe 2.pdf"),
    ];
    save(repo, docs.iter().map(Row::from)).await?;
    Ok((p, s, docs))
}

pub async fn links_round_trip_and_are_listed_from_both_ends_oldest_first(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s, [act, a1, a2]) = three_documents(repo, "links").await?;
    let first = link(&p, &s, &a1, &act, LinkKind::AnnexeDe, 1);
    let second = link(&p, &s, &a2, &act, LinkKind::AnnexeDe, 2);
    let see_also = link(&p, &s, &act, &a2, LinkKind::VoirAussi, 2);
    let removed = DocumentLink {
        removed: true,
        ..link(&p, &s, &a1, &a2, LinkKind::Remplace, 0)
    };
    let mut tx = write(repo).await?;
    for l in [&second, &see_also, &removed, &first] {
        tx.save_link(l).await?;
    }
    tx.commit().await?;

    let mut tx = read(repo).await?;
    for l in [&first, &second, &see_also, &removed] {
        assert_eq!(tx.link(l.id).await?.as_ref(), Some(l));
    }
    assert_eq!(
        tx.link_between(a1.id, a2.id, LinkKind::Remplace).await?,
        Some(removed.clone()),
        "tombstones are found by their ends"
    );
    assert_eq!(
        tx.link_between(a2.id, a1.id, LinkKind::Remplace).await?,
        None
    );
    // Live only, oldest first, ties by id.
    let mut tied = [second.clone(), see_also.clone()];
    tied.sort_by_key(|l| l.id);
    let expected: Vec<DocumentLink> = std::iter::once(first.clone()).chain(tied).collect();
    assert_eq!(tx.links_of(act.id).await?, expected);
    assert_eq!(tx.links_of(a1.id).await?, [first]);
    assert_eq!(tx.links_of(DocumentId::new()).await?, []);
    Ok(())
}

pub async fn a_link_is_unique_by_its_ends_and_kind_and_needs_its_documents(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s, [act, a1, _]) = three_documents(repo, "links-unique").await?;
    let l = link(&p, &s, &a1, &act, LinkKind::AnnexeDe, 1);
    let mut tx = write(repo).await?;
    tx.save_link(&l).await?;
    let twin = link(&p, &s, &a1, &act, LinkKind::AnnexeDe, 2);
    assert_conflict(
        tx.save_link(&twin).await,
        "a second row for the same ends and kind",
    );
    // Saving the same id again replaces it (a revival, a tombstone).
    let removed = DocumentLink {
        removed: true,
        revision: Revision(99),
        ..l.clone()
    };
    tx.save_link(&removed).await?;
    assert_eq!(tx.link(l.id).await?, Some(removed));
    tx.commit().await?;

    let mut tx = write(repo).await?;
    let dangling = DocumentLink {
        to: DocumentId::new(),
        ..link(&p, &s, &a1, &act, LinkKind::VoirAussi, 3)
    };
    assert_storage(tx.save_link(&dangling).await, "a link to no document");
    drop(tx);
    let mut tx = read(repo).await?;
    assert_storage(tx.save_link(&l).await, "a read transaction");
    Ok(())
}
