//! Locks on folders: depth infinity holds back additions and writes
//! below, waits for the locks below before it is taken, and keeps a
//! folder with them out of the trash; depth 0 protects the folder alone.

use super::*;

#[test]
fn a_folder_locked_with_depth_infinity_refuses_additions_and_writes_below() {
    block_on(async {
        let o = office().await;
        let inside = o
            .app
            .upload(
                &o.boss,
                NewDocument {
                    space: o.space,
                    folder: Some(o.folder),
                    name: "Plan.pdf".into(),
                    ..NewDocument::default()
                },
                content("plan"),
            )
            .await
            .expect("doc inside")
            .document
            .id;
        let folder = Resource::Folder(o.folder);
        let lock = o
            .locks
            .lock(&o.alice, folder, exclusive(LockDepth::Infinity))
            .await
            .expect("deep lock");
        let into = NewDocument {
            space: o.space,
            folder: Some(o.folder),
            name: "Nouveau.pdf".into(),
            ..NewDocument::default()
        };
        let bob = &o.bob;
        assert_locked_by(
            o.app.upload(bob, into.clone(), content("n")).await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            o.app
                .create_folder(bob, o.space, Some(o.folder), "Sous")
                .await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            o.app
                .new_version(bob, inside, NewVersion::default(), content("b"))
                .await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            o.app.update_document(bob, inside, None, Some(None)).await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            o.app
                .update_document(bob, o.doc, None, Some(Some(o.folder)))
                .await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            o.app.delete_folder(&o.boss, o.folder).await,
            &o.alice,
            &lock,
        );
        assert_locked_by(
            o.locks
                .lock(bob, Resource::Document(inside), exclusive(LockDepth::Zero))
                .await,
            &o.alice,
            &lock,
        );
        assert_eq!(
            o.locks
                .locks_on(bob, Resource::Document(inside))
                .await
                .expect("covering"),
            vec![lock.clone()],
            "the folder's lock covers the document below"
        );
        assert_eq!(
            o.locks
                .locks_below(bob, Resource::Space(o.space))
                .await
                .expect("below"),
            vec![lock.clone()]
        );
        o.app
            .upload(&o.alice, into, content("a"))
            .await
            .expect("the holder adds inside");
        o.locks.unlock(&o.alice, lock.token).await.expect("unlock");

        // Depth 0 protects the folder, not what goes in it.
        o.locks
            .lock(&o.alice, folder, exclusive(LockDepth::Zero))
            .await
            .expect("shallow lock");
        o.app
            .create_folder(bob, o.space, Some(o.folder), "Sous")
            .await
            .expect("bob adds inside a depth-0 lock");
        assert!(matches!(
            o.app
                .update_folder(bob, o.folder, Some("Cartes"), None)
                .await,
            Err(CoreError::Locked { .. })
        ));
    });
}

#[test]
fn a_deep_lock_waits_for_the_locks_below_and_a_folder_with_them_is_not_trashed() {
    block_on(async {
        let o = office().await;
        let inside = o
            .app
            .upload(
                &o.boss,
                NewDocument {
                    space: o.space,
                    folder: Some(o.folder),
                    name: "Plan.pdf".into(),
                    ..NewDocument::default()
                },
                content("plan"),
            )
            .await
            .expect("doc")
            .document
            .id;
        let below = o
            .locks
            .check_out(&o.bob, inside, None, None)
            .await
            .expect("bob's check-out");
        assert_locked_by(
            o.locks
                .lock(
                    &o.alice,
                    Resource::Folder(o.folder),
                    exclusive(LockDepth::Infinity),
                )
                .await,
            &o.bob,
            &below,
        );
        assert_locked_by(o.app.delete_folder(&o.boss, o.folder).await, &o.bob, &below);
        o.locks
            .lock(
                &o.alice,
                Resource::Folder(o.folder),
                exclusive(LockDepth::Zero),
            )
            .await
            .expect("a depth-0 lock ignores what is below");
    });
}

#[test]
fn releasing_a_tree_takes_the_actors_locks_on_and_below_it_and_leaves_the_others() {
    block_on(async {
        let o = office().await;
        let in_folder = |name: &str| NewDocument {
            space: o.space,
            folder: Some(o.folder),
            name: name.into(),
            ..NewDocument::default()
        };
        let mut ids = Vec::new();
        for name in ["A.odt", "B.odt"] {
            let d = o
                .app
                .upload(&o.boss, in_folder(name), content(name))
                .await
                .expect("doc");
            ids.push(d.document.id);
        }
        let folder = Resource::Folder(o.folder);
        o.locks
            .lock(&o.alice, folder, exclusive(LockDepth::Zero))
            .await
            .expect("folder");
        o.locks
            .check_out(&o.alice, ids[0], None, None)
            .await
            .expect("a");
        let bobs = o
            .locks
            .check_out(&o.bob, ids[1], None, None)
            .await
            .expect("b");
        assert_eq!(
            o.locks
                .locks_below(&o.rita, folder)
                .await
                .expect("below")
                .len(),
            2
        );
        assert_eq!(
            o.locks
                .release_tree(&o.alice, folder)
                .await
                .expect("release"),
            2
        );
        assert_eq!(
            o.locks.locks_below(&o.rita, folder).await.expect("below"),
            vec![bobs]
        );
        assert!(
            o.locks
                .locks_on(&o.rita, folder)
                .await
                .expect("on")
                .is_empty()
        );
        assert!(matches!(
            o.locks.release_tree(&o.eve, folder).await,
            Err(CoreError::NotFound("folder"))
        ));
    });
}

#[test]
fn purging_a_folder_removes_its_locks_and_those_of_what_went_with_it() {
    block_on(async {
        let o = office().await;
        let inside = o
            .app
            .upload(
                &o.boss,
                NewDocument {
                    space: o.space,
                    folder: Some(o.folder),
                    name: "Plan.pdf".into(),
                    ..NewDocument::default()
                },
                content("plan"),
            )
            .await
            .expect("doc")
            .document
            .id;
        let folder = Resource::Folder(o.folder);
        o.locks
            .lock(&o.boss, folder, exclusive(LockDepth::Zero))
            .await
            .expect("folder");
        o.locks
            .check_out(&o.boss, inside, None, None)
            .await
            .expect("doc");
        o.app
            .delete_folder(&o.boss, o.folder)
            .await
            .expect("the holder trashes it");
        let space = Resource::Space(o.space);
        assert_eq!(
            o.locks
                .locks_below(&o.boss, space)
                .await
                .expect("below")
                .len(),
            2
        );
        o.app.purge_folder(&o.boss, o.folder).await.expect("purge");
        assert!(
            o.locks
                .locks_below(&o.boss, space)
                .await
                .expect("below")
                .is_empty()
        );
    });
}

#[test]
fn a_listings_locks_cover_each_child_as_locks_on_does() {
    block_on(async {
        let o = office().await;
        let sub = o
            .app
            .create_folder(&o.boss, o.space, Some(o.folder), "Lot 1")
            .await
            .expect("sub");
        let inside = o
            .app
            .upload(
                &o.boss,
                NewDocument {
                    space: o.space,
                    folder: Some(o.folder),
                    name: "Plan.pdf".into(),
                    ..NewDocument::default()
                },
                content("plan"),
            )
            .await
            .expect("inside")
            .document
            .id;
        let deep = o
            .locks
            .lock(&o.alice, Resource::Space(o.space), shared())
            .await
            .expect("on the space, depth 0: covers no child");
        let on_folder = o
            .locks
            .lock(
                &o.bob,
                Resource::Folder(o.folder),
                LockRequest {
                    scope: LockScope::Shared,
                    ..exclusive(LockDepth::Infinity)
                },
            )
            .await
            .expect("folder, depth infinity");
        let on_doc = o
            .locks
            .lock(&o.alice, Resource::Document(inside), shared())
            .await
            .expect("document");
        let listing = o
            .locks
            .listing_locks(&o.rita, o.space, Some(o.folder))
            .await
            .expect("a reader lists");
        let tokens = |mut v: Vec<Lock>| {
            v.sort_by_key(|l| l.token.to_string());
            v.into_iter().map(|l| l.token).collect::<Vec<_>>()
        };
        for child in [Resource::Document(inside), Resource::Folder(sub.id)] {
            let one = o.locks.locks_on(&o.rita, child).await.expect("locks_on");
            assert_eq!(tokens(listing.covering(child)), tokens(one), "{child:?}");
        }
        let doc = tokens(listing.covering(Resource::Document(inside)));
        assert!(doc.contains(&on_doc.token) && doc.contains(&on_folder.token));
        assert!(!doc.contains(&deep.token));
        assert!(matches!(
            o.locks.listing_locks(&o.eve, o.space, Some(o.folder)).await,
            Err(CoreError::NotFound(_))
        ));
    });
}
