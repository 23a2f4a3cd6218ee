//! The `PropertyStore` port beside the repository: dead properties per
//! resource, listed by namespace then name, patched all at once, resources
//! kept apart.

use passerelle_core::ids::{DocumentId, FolderId};
use passerelle_core::model::Resource;
use passerelle_core::ports::Repository;
use passerelle_core::properties::{DeadProperty, PropertyName, PropertyStore};

use super::{Outcome, Row, document, folder, save, seed_space, trashed, version};

fn name(ns: &str, local: &str) -> PropertyName {
    PropertyName::parse(ns, local).expect("a valid test name")
}

fn prop(ns: &str, local: &str, xml: &str) -> DeadProperty {
    DeadProperty::new(name(ns, local), xml.into()).expect("a valid test value")
}

pub async fn properties_round_trip_sorted_by_namespace_then_name(
    store: &dyn PropertyStore,
) -> Outcome {
    let doc = Resource::Document(DocumentId::new());
    assert!(store.properties(doc).await?.is_empty());
    let set = [
        prop("urn:z", "a", "<Z:a xmlns:Z=\"urn:z\">dernière</Z:a>"),
        prop("", "nul", "<nul xmlns=\"\">sans espace</nul>"),
        prop("urn:a", "é", "<A:é xmlns:A=\"urn:a\">&#x1F600; 😀</A:é>"),
        prop("urn:a", "B", "<A:B xmlns:A=\"urn:a\"/>"),
    ];
    store.patch(doc, &set, &[]).await?;
    let got = store.properties(doc).await?;
    let order: Vec<(&str, &str)> = got
        .iter()
        .map(|p| (p.name.namespace(), p.name.name()))
        .collect();
    assert_eq!(
        order,
        vec![("", "nul"), ("urn:a", "B"), ("urn:a", "é"), ("urn:z", "a")],
        "code-point order"
    );
    for p in &set {
        assert!(got.contains(p), "{p:?} kept exactly");
    }
    Ok(())
}

pub async fn a_patch_replaces_removes_and_keeps_resources_apart(
    store: &dyn PropertyStore,
) -> Outcome {
    let id = uuid::Uuid::now_v7();
    let doc = Resource::Document(DocumentId::from_uuid(id));
    let folder = Resource::Folder(FolderId::from_uuid(id));
    store
        .patch(
            doc,
            &[prop("urn:x", "a", "1"), prop("urn:x", "b", "2")],
            &[],
        )
        .await?;
    store.patch(folder, &[prop("urn:x", "a", "f")], &[]).await?;
    store
        .patch(
            doc,
            &[prop("urn:x", "a", "1 bis")],
            &[name("urn:x", "b"), name("urn:x", "absent")],
        )
        .await?;
    assert_eq!(
        store.properties(doc).await?,
        vec![prop("urn:x", "a", "1 bis")]
    );
    assert_eq!(
        store.properties(folder).await?,
        vec![prop("urn:x", "a", "f")]
    );
    store.patch(doc, &[], &[name("urn:x", "a")]).await?;
    assert!(store.properties(doc).await?.is_empty());
    Ok(())
}

/// A listing's properties: those of the live folders and documents
/// directly in the collection, none of a trashed child, a grandchild, the
/// collection itself, another folder or another space.
pub async fn children_properties_are_those_of_the_live_children_only(
    repo: &dyn Repository,
    store: &dyn PropertyStore,
) -> Outcome {
    let (owner, s) = seed_space(repo, "urbanisme").await?;
    let (_, elsewhere) = seed_space(repo, "voirie").await?;
    let lot = folder(&s, None, "Lot 1");
    let sub = folder(&s, Some(&lot), "Plans");
    let at_root = document(&s, None, "note.odt");
    let in_lot = document(&s, Some(&lot), "devis.pdf");
    let bare = document(&s, Some(&lot), "sans propriété.pdf");
    let mut trashed_doc = document(&s, Some(&lot), "jeté.pdf");
    trashed_doc.trashed = trashed(owner.id, None);
    let mut trashed_folder = folder(&s, Some(&lot), "Ancien");
    trashed_folder.trashed = trashed(owner.id, None);
    let in_sub = document(&s, Some(&sub), "plan.dwg");
    let other = document(&elsewhere, None, "autre.pdf");
    let docs = [&at_root, &in_lot, &bare, &trashed_doc, &in_sub, &other];
    let mut rows: Vec<Row> = [&lot, &sub, &trashed_folder]
        .into_iter()
        .map(Row::from)
        .collect();
    for d in docs {
        rows.push(Row::from(d));
        rows.push(Row::from(&version(d, 1, d.name.as_str())));
    }
    save(repo, rows).await?;
    let tag = |v: &str| [prop("urn:x", "b", v), prop("urn:x", "a", v)];
    for (r, v) in [
        (Resource::Folder(lot.id), "lot"),
        (Resource::Folder(sub.id), "sub"),
        (Resource::Folder(trashed_folder.id), "ancien"),
        (Resource::Document(at_root.id), "note"),
        (Resource::Document(in_lot.id), "devis"),
        (Resource::Document(trashed_doc.id), "jeté"),
        (Resource::Document(in_sub.id), "plan"),
        (Resource::Document(other.id), "autre"),
        (Resource::Space(s.id), "espace"),
    ] {
        store.patch(r, &tag(v), &[]).await?;
    }
    let sorted = |v: &str| vec![prop("urn:x", "a", v), prop("urn:x", "b", v)];

    let mut got = store.children_properties(s.id, Some(lot.id)).await?;
    got.sort_by_key(|(r, _)| format!("{r:?}"));
    let mut want: Vec<(Resource, DeadProperty)> = [
        (Resource::Folder(sub.id), "sub"),
        (Resource::Document(in_lot.id), "devis"),
    ]
    .into_iter()
    .flat_map(|(r, v)| sorted(v).into_iter().map(move |p| (r, p)))
    .collect();
    want.sort_by_key(|(r, _)| format!("{r:?}"));
    // Within a resource, `properties`' order (the sorts above are stable).
    assert_eq!(got, want, "the live children of Lot 1");

    let root = store.children_properties(s.id, None).await?;
    let mut want_root: Vec<(Resource, DeadProperty)> = sorted("lot")
        .into_iter()
        .map(|p| (Resource::Folder(lot.id), p))
        .chain(
            sorted("note")
                .into_iter()
                .map(|p| (Resource::Document(at_root.id), p)),
        )
        .collect();
    let mut root_sorted = root.clone();
    root_sorted.sort_by_key(|(r, _)| format!("{r:?}"));
    want_root.sort_by_key(|(r, _)| format!("{r:?}"));
    assert_eq!(root_sorted, want_root, "the root: not the space's own");
    // Each resource's properties come together.
    let firsts: Vec<Resource> = root.iter().map(|(r, _)| *r).collect();
    assert!(
        firsts[0] == firsts[1] && firsts[2] == firsts[3],
        "{firsts:?}"
    );

    assert!(
        store
            .children_properties(elsewhere.id, Some(lot.id))
            .await?
            .is_empty(),
        "a folder named with another space holds nothing"
    );
    assert!(
        store
            .children_properties(s.id, Some(FolderId::new()))
            .await?
            .is_empty()
    );
    Ok(())
}
