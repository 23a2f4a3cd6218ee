//! The use cases WebDAV added to core: an unchanged version adds nothing,
//! copies take read on the source and create on the destination, dead
//! properties take the resource's rights and core's limits.

use super::*;
use crate::fakes::MemRepository;
use crate::ids::FolderId;
use crate::model::Resource;
use crate::properties::{DeadProperty, MAX_PER_RESOURCE, PropertyChange, PropertyName};
use crate::service::{CopyTarget, PathTarget, Properties};

fn prop(name: &str, value: &str) -> PropertyChange {
    let n = PropertyName::parse("urn:x", name).expect("name");
    PropertyChange::Set(DeadProperty::new(n, value.into()).expect("value"))
}

#[test]
fn a_version_identical_to_the_current_one_adds_nothing() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "plans").await;
        let d = upload(&app, &boss, s, "a.txt").await.expect("upload");
        let same = app
            .new_version(
                &boss,
                d.document.id,
                NewVersion::default(),
                content("a.txt"),
            )
            .await
            .expect("same content");
        assert_eq!(same.version.number, 1);
        assert_eq!(
            same.document.revision, d.document.revision,
            "nothing written"
        );
        let other = app
            .new_version(&boss, d.document.id, NewVersion::default(), content("b"))
            .await
            .expect("new content");
        assert_eq!(other.version.number, 2);
    });
}

#[test]
fn a_copy_needs_read_on_the_source_and_create_on_the_destination() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let reader = agent(&app, "reader", false).await;
        let from = space(&app, &boss, "from").await;
        let to = space(&app, &boss, "to").await;
        let d = upload(&app, &boss, from, "a.txt").await.expect("upload");
        let target = |name: &str| CopyTarget {
            space: to,
            folder: None,
            name: name.into(),
        };
        // Not a member of the source: not found.
        assert!(matches!(
            app.copy_document(&reader, d.document.id, target("a.txt"))
                .await,
            Err(CoreError::NotFound(_))
        ));
        app.set_member(&boss, from, "reader", Role::Reader)
            .await
            .expect("member");
        app.set_member(&boss, to, "reader", Role::Reader)
            .await
            .expect("member");
        assert!(matches!(
            app.copy_document(&reader, d.document.id, target("a.txt"))
                .await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            app.copy_document(&boss, d.document.id, target("../a"))
                .await,
            Err(CoreError::Invalid { .. })
        ));
        let copy = app
            .copy_document(&boss, d.document.id, target("b.txt"))
            .await
            .expect("copy");
        assert_eq!(copy.document.space, to);
        assert_eq!(
            copy.version.hash, d.version.hash,
            "same content, no bytes copied"
        );
        assert_ne!(copy.document.id, d.document.id);
    });
}

#[test]
fn dead_properties_take_the_resources_rights_and_limits() {
    block_on(async {
        let repo = Arc::new(MemRepository::new());
        let app = InternalApp::new(
            repo.clone(),
            Arc::new(MemBlobStore::new()),
            Arc::new(crate::ports::SystemClock),
            Arc::new(FastPasswords),
            CoreSettings::default(),
        );
        let props = Properties::new(app.shared(), repo);
        let boss = agent(&app, "boss", false).await;
        let reader = agent(&app, "reader", false).await;
        let outsider = agent(&app, "outsider", false).await;
        let s = space(&app, &boss, "plans").await;
        app.set_member(&boss, s, "reader", Role::Reader)
            .await
            .expect("member");
        let d = upload(&app, &boss, s, "a.txt").await.expect("upload");
        let r = Resource::Document(d.document.id);
        props
            .patch(&boss, r, vec![prop("colour", "bleu"), prop("gone", "x")])
            .await
            .expect("set");
        let remove = PropertyChange::Remove(PropertyName::parse("urn:x", "gone").expect("name"));
        // In order: set then removed is removed.
        props
            .patch(
                &boss,
                r,
                vec![
                    prop("late", "x"),
                    remove.clone(),
                    PropertyChange::Remove(PropertyName::parse("urn:x", "late").expect("name")),
                ],
            )
            .await
            .expect("patch");
        let got = props.get(&reader, r).await.expect("reader reads");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].xml, "bleu");
        assert!(matches!(
            props.patch(&reader, r, vec![prop("colour", "rouge")]).await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            props.get(&outsider, r).await,
            Err(CoreError::NotFound(_))
        ));
        let many: Vec<PropertyChange> = (0..=MAX_PER_RESOURCE)
            .map(|i| prop(&format!("p{i}"), "v"))
            .collect();
        assert!(matches!(
            props.patch(&boss, r, many).await,
            Err(CoreError::Invalid { .. })
        ));
        assert_eq!(
            props.get(&boss, r).await.expect("get").len(),
            1,
            "all or nothing"
        );
    });
}

#[test]
fn a_listings_dead_properties_take_one_check_of_the_space_and_hide_the_rest() {
    block_on(async {
        let repo = Arc::new(MemRepository::new());
        let app = InternalApp::new(
            repo.clone(),
            Arc::new(MemBlobStore::new()),
            Arc::new(crate::ports::SystemClock),
            Arc::new(FastPasswords),
            CoreSettings::default(),
        );
        let props = Properties::new(app.shared(), repo);
        let boss = agent(&app, "boss", false).await;
        let reader = agent(&app, "reader", false).await;
        let outsider = agent(&app, "outsider", false).await;
        let s = space(&app, &boss, "plans").await;
        let other = space(&app, &boss, "autre").await;
        app.set_member(&boss, s, "reader", Role::Reader)
            .await
            .expect("member");
        let d = upload(&app, &boss, s, "a.txt").await.expect("upload");
        let lot = app
            .create_folder(&boss, s, None, "Lot")
            .await
            .expect("folder");
        let r = Resource::Document(d.document.id);
        props
            .patch(&boss, r, vec![prop("colour", "bleu")])
            .await
            .expect("set");
        let got = props.children(&reader, s, None).await.expect("reader");
        assert_eq!(got.len(), 1, "the folder has none: absent");
        assert_eq!(got[&r][0].xml, "bleu");
        assert!(
            props
                .children(&reader, s, Some(lot.id))
                .await
                .expect("empty folder")
                .is_empty()
        );
        // Not a member: the space answers as one that does not exist.
        assert!(matches!(
            props.children(&outsider, s, None).await,
            Err(CoreError::NotFound(_))
        ));
        // A folder named with a space it is not in: not found either.
        assert!(matches!(
            props.children(&boss, other, Some(lot.id)).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn folder_contents_name_the_authors_of_the_current_versions() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "plans").await;
        let d = upload(&app, &boss, s, "a.txt").await.expect("upload");
        upload(&app, &boss, s, "b.txt").await.expect("upload");
        let c = app.folder_contents(&boss, s, None).await.expect("contents");
        assert_eq!(c.authors.len(), 1, "one per distinct author");
        assert_eq!(c.authors[&d.version.author], "boss");
        assert_eq!(
            app.current_author_name(&boss, d.document.id)
                .await
                .expect("name")
                .as_deref(),
            Some("boss")
        );
    });
}

#[test]
fn folder_contents_carry_each_documents_current_version_to_readers_only() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let outsider = agent(&app, "outsider", false).await;
        let s = space(&app, &boss, "plans").await;
        let d = upload(&app, &boss, s, "a.txt").await.expect("upload");
        app.new_version(&boss, d.document.id, NewVersion::default(), content("v2"))
            .await
            .expect("v2");
        app.create_folder(&boss, s, None, "Lots")
            .await
            .expect("folder");
        let c = app.folder_contents(&boss, s, None).await.expect("contents");
        assert_eq!(c.folders.len(), 1);
        assert_eq!(c.documents.len(), 1);
        assert_eq!(c.documents[0].1.number, 2);
        assert_eq!(c.documents[0].1.size, 2);
        assert!(matches!(
            app.folder_contents(&outsider, s, None).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn a_path_resolves_by_name_as_names_compare_and_hides_what_one_cannot_see() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let outsider = agent(&app, "outsider", false).await;
        let s = space(&app, &boss, "plans").await;
        let lot = app
            .create_folder(&boss, s, None, "Lot 1")
            .await
            .expect("folder");
        let d = app
            .upload(
                &boss,
                NewDocument {
                    space: s,
                    folder: Some(lot.id),
                    name: "Devis.pdf".into(),
                    ..NewDocument::default()
                },
                content("devis"),
            )
            .await
            .expect("upload");
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(matches!(
            app.resolve_path(&boss, "plans", &[]).await,
            Ok(PathTarget::Space(sp)) if sp.id == s
        ));
        assert!(matches!(
            app.resolve_path(&boss, "plans", &names(&["lot 1"])).await,
            Ok(PathTarget::Folder(_, f)) if f.id == lot.id
        ));
        match app
            .resolve_path(&boss, "plans", &names(&["LOT 1", "devis.PDF"]))
            .await
        {
            Ok(PathTarget::Document(_, doc, v)) => {
                assert_eq!(doc.id, d.document.id);
                assert_eq!(v.number, 1);
            }
            other => panic!("{other:?}"),
        }
        for (who, slug, path) in [
            (&outsider, "plans", names(&["Lot 1", "Devis.pdf"])),
            (&boss, "plans", names(&["Devis.pdf"])),
            (&boss, "plans", names(&["Lot 1", "Devis.pdf", "x"])),
            (&boss, "plans", names(&["Lot 1", "a/b"])),
            (&boss, "absent", names(&[])),
        ] {
            assert!(
                matches!(
                    app.resolve_path(who, slug, &path).await,
                    Err(CoreError::NotFound(_))
                ),
                "{slug} {path:?}"
            );
        }
    });
}

#[test]
fn a_folder_is_located_with_the_folders_above_it_for_whoever_may_see_it() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let outsider = agent(&app, "outsider", false).await;
        let s = space(&app, &boss, "plans").await;
        let lot = app
            .create_folder(&boss, s, None, "Lot 1")
            .await
            .expect("folder");
        let plans = app
            .create_folder(&boss, s, Some(lot.id), "Plans")
            .await
            .expect("folder");
        let place = app.locate_folder(&boss, plans.id).await.expect("place");
        assert_eq!(place.space.id, s);
        assert_eq!(place.role, Role::Manager);
        let ids: Vec<_> = place.folders.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![lot.id, plans.id]);
        // Not a member, trashed, or never there: the same answer.
        assert!(matches!(
            app.locate_folder(&outsider, plans.id).await,
            Err(CoreError::NotFound(_))
        ));
        app.delete_folder(&boss, lot.id).await.expect("trash");
        assert!(matches!(
            app.locate_folder(&boss, plans.id).await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            app.locate_folder(&boss, FolderId::new()).await,
            Err(CoreError::NotFound(_))
        ));
    });
}
