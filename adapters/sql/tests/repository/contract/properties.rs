//! The `PropertyStore` port beside the repository: dead properties per
//! resource, listed by namespace then name, patched all at once, resources
//! kept apart.

use passerelle_core::ids::{DocumentId, FolderId};
use passerelle_core::model::Resource;
use passerelle_core::properties::{DeadProperty, PropertyName, PropertyStore};

use super::Outcome;

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
