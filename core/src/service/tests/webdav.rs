//! The use cases WebDAV added to core: an unchanged version adds nothing,
//! copies take read on the source and create on the destination, dead
//! properties take the resource's rights and core's limits.

use super::*;
use crate::fakes::MemRepository;
use crate::model::Resource;
use crate::properties::{DeadProperty, MAX_PER_RESOURCE, PropertyChange, PropertyName};
use crate::service::{CopyTarget, Properties};

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
