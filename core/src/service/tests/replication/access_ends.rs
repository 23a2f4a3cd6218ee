//! Access that ends (issue 17 §3): a manager sets the date a contractor's
//! access ends; from that instant neither node grants anything, the edge
//! by its own clock with the link down, then logs the contractor out; the
//! internal node's sweep turns it into a removal, audited, that goes down
//! like any other. A manager's own access never ends by a date.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::fakes::FakeClock;

const PASSWORD: &str = "un mot de passe sûr";

#[test]
fn an_end_date_ends_access_on_both_nodes_at_its_instant_even_with_the_link_down() {
    block_on(async {
        let t0 = OffsetDateTime::now_utc();
        let (on_internal, on_edge) = (Arc::new(FakeClock::new(t0)), Arc::new(FakeClock::new(t0)));
        let w = world_between(
            internal_node_with(on_internal.clone()),
            edge_node_with(on_edge.clone()),
        )
        .await;
        let jean = w.contractor.id().expect("contractor");
        let end = t0 + Duration::hours(1);
        let view = w
            .internal
            .app
            .set_member_end(&w.manager, w.space, jean, Some(end))
            .await
            .expect("end date");
        assert_eq!(view.ends_at, Some(end));
        down(&w.internal, &w.edge, w.space).await;
        let session = w
            .edge
            .app
            .login("jean@btp-rhone.fr", PASSWORD, None)
            .await
            .expect("login before the end");
        w.edge
            .app
            .get_document(&w.contractor, w.doc)
            .await
            .expect("access before the end");
        // Nothing sweeps before the date.
        assert_eq!(w.edge.app.end_ended_access().await.expect("sweep"), 0);
        assert_eq!(w.internal.app.end_memberships().await.expect("sweep"), 0);

        // The link is down from here on; the date passes on the edge.
        on_edge.advance(Duration::minutes(60));
        assert!(matches!(
            w.edge.app.get_document(&w.contractor, w.doc).await,
            Err(CoreError::NotFound(_))
        ));
        let spaces = w
            .edge
            .app
            .my_spaces(&w.contractor, Page::default())
            .await
            .expect("spaces");
        assert_eq!(spaces.total, 0, "not listed either");
        assert_eq!(w.edge.app.end_ended_access().await.expect("sweep"), 1);
        assert!(
            w.edge
                .app
                .authenticate_session(&session.token)
                .await
                .is_err(),
            "logged out on the edge"
        );

        // On the internal node, the sweep at the date removes it, audited,
        // and the removal goes down.
        on_internal.advance(Duration::minutes(60));
        assert_eq!(w.internal.app.end_memberships().await.expect("sweep"), 1);
        assert_eq!(w.internal.app.end_memberships().await.expect("again"), 0);
        let members = w
            .internal
            .app
            .list_members(&w.manager, w.space)
            .await
            .expect("members");
        assert!(members.iter().all(|m| m.principal.id != jean));
        let audit = w
            .internal
            .app
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        assert!(audit.items.iter().any(|e| e.action == "member.expire"));
        down(&w.internal, &w.edge, w.space).await;
        let on_the_edge = w
            .edge
            .app
            .list_members(&Actor::System, w.space)
            .await
            .expect("members on the edge");
        assert!(on_the_edge.iter().all(|m| m.principal.id != jean));
    });
}

#[test]
fn an_end_date_is_a_manager_s_future_decision_about_a_member_who_is_not_a_manager() {
    block_on(async {
        let w = world().await;
        let jean = w.contractor.id().expect("contractor");
        let app = &w.internal.app;
        let now = OffsetDateTime::now_utc();
        let past = app
            .set_member_end(&w.manager, w.space, jean, Some(now - Duration::minutes(1)))
            .await;
        assert!(
            matches!(
                past,
                Err(CoreError::Invalid {
                    code: "end_in_past",
                    ..
                })
            ),
            "{past:?}"
        );
        let marie = w.manager.id().expect("manager");
        let own = app
            .set_member_end(&w.manager, w.space, marie, Some(now + Duration::days(9)))
            .await;
        assert!(
            matches!(
                own,
                Err(CoreError::Conflict {
                    code: "manager_end_date",
                    ..
                })
            ),
            "{own:?}"
        );
        // A reader of the space cannot set one; a stranger does not see
        // the space at all.
        let paul = agent(app, "paul").await;
        app.set_member(&w.manager, w.space, "paul", Role::Reader)
            .await
            .expect("reader");
        let by_reader = app
            .set_member_end(&paul, w.space, jean, Some(now + Duration::days(9)))
            .await;
        assert!(
            matches!(by_reader, Err(CoreError::Forbidden(_))),
            "{by_reader:?}"
        );
        let stranger = agent(app, "luc").await;
        let by_stranger = app
            .set_member_end(&stranger, w.space, jean, Some(now + Duration::days(9)))
            .await;
        assert!(
            matches!(by_stranger, Err(CoreError::NotFound(_))),
            "{by_stranger:?}"
        );
        // Set, kept through a change of role, cleared.
        let end = now + Duration::days(30);
        app.set_member_end(&w.manager, w.space, jean, Some(end))
            .await
            .expect("set");
        let changed = app
            .set_member(&w.manager, w.space, "jean@btp-rhone.fr", Role::Reader)
            .await
            .expect("role");
        assert_eq!(changed.ends_at, Some(end), "the end date stays");
        let paul_id = paul.id().expect("paul");
        app.set_member_end(&w.manager, w.space, paul_id, Some(end))
            .await
            .expect("an agent's access may end too");
        let promoted = app
            .set_member(&w.manager, w.space, "paul", Role::Manager)
            .await;
        assert!(
            matches!(
                promoted,
                Err(CoreError::Conflict {
                    code: "manager_end_date",
                    ..
                })
            ),
            "{promoted:?}"
        );
        let cleared = app
            .set_member_end(&w.manager, w.space, jean, None)
            .await
            .expect("cleared");
        assert_eq!(cleared.ends_at, None);
        let audit = app
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        let ends = audit
            .items
            .iter()
            .filter(|e| e.action == "member.end")
            .count();
        assert_eq!(ends, 3);
    });
}
