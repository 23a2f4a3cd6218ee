//! Contractors inactive for too long are disabled (ADR 0011 §5): the edge
//! notes the day of each contractor's activity and reports it up the
//! link; the internal node disables whoever was idle past its period
//! (never on stale news of an edge), the disabling goes down and ends
//! their sessions on the edge; a manager re-enables them, which starts a
//! new period.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::fakes::FakeClock;

const PASSWORD: &str = "un mot de passe sûr";
const JEAN: &str = "jean@btp-rhone.fr";
const PERIOD: Duration = Duration::days(180);

/// The internal node replicating to `edge-1`, disabling contractors idle
/// for [`PERIOD`], by `clock`.
fn strict_internal(clock: Arc<FakeClock>) -> Internal {
    let blobs = Arc::new(MemBlobStore::new());
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        clock,
        Arc::new(FastPasswords),
        CoreSettings {
            contractor_inactivity: Some(PERIOD),
            ..settings(&["edge-1"])
        },
    );
    NodeUnderTest { app, blobs }
}

async fn disabled(internal: &Internal, contractor: &Actor) -> bool {
    let id = contractor.id().expect("contractor");
    internal
        .app
        .list_principals(&Actor::System, Page::new(0, 100))
        .await
        .expect("users")
        .items
        .into_iter()
        .any(|p| p.id == id && p.disabled)
}

#[test]
fn a_contractor_idle_past_the_period_is_disabled_on_both_nodes_and_a_manager_enables_them_again() {
    block_on(async {
        let t0 = OffsetDateTime::now_utc();
        let (on_internal, on_edge) = (Arc::new(FakeClock::new(t0)), Arc::new(FakeClock::new(t0)));
        let w = world_between(
            strict_internal(on_internal.clone()),
            edge_node_with(on_edge.clone()),
        )
        .await;
        let advance = |by: Duration| {
            on_internal.advance(by);
            on_edge.advance(by);
        };
        down(&w.internal, &w.edge, w.space).await;
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            0
        );

        // Active again on day 100: reported, so day 200 judges nobody.
        advance(Duration::days(100));
        w.edge.app.login(JEAN, PASSWORD, None).await.expect("login");
        down(&w.internal, &w.edge, w.space).await;
        advance(Duration::days(100));
        down(&w.internal, &w.edge, w.space).await;
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            0
        );
        let session = w.edge.app.login(JEAN, PASSWORD, None).await.expect("login");
        // Last active on day 200; then nothing until day 382.
        advance(Duration::days(182));
        // No news of the edge for a day: nobody is judged.
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            0
        );
        assert!(!disabled(&w.internal, &w.contractor).await);
        down(&w.internal, &w.edge, w.space).await;
        // Active on day 200, now day 382: idle 181 days and more.
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            1
        );
        assert!(disabled(&w.internal, &w.contractor).await);
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("again"),
            0
        );
        let audit = w
            .internal
            .app
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        let entry = audit
            .items
            .iter()
            .find(|e| e.action == "principal.disable")
            .expect("audited");
        assert_eq!(entry.actor, None, "the system's");
        assert_eq!(entry.detail["reason"], "inactive");

        // The disabling goes down: the edge's sessions end, logins fail.
        down(&w.internal, &w.edge, w.space).await;
        assert!(
            w.edge
                .app
                .authenticate_session(&session.token)
                .await
                .is_err()
        );
        assert!(w.edge.app.login(JEAN, PASSWORD, None).await.is_err());

        // A manager of the space enables them again: a new period.
        let jean = w.contractor.id().expect("contractor");
        let p = w
            .internal
            .app
            .enable_contractor(&w.manager, w.space, jean)
            .await
            .expect("enabled");
        assert!(!p.disabled);
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            0
        );
        down(&w.internal, &w.edge, w.space).await;
        w.edge
            .app
            .login(JEAN, PASSWORD, None)
            .await
            .expect("login again");
        // Only a manager of one of their spaces may.
        assert!(
            w.internal
                .app
                .enable_contractor(&w.contractor, w.space, jean)
                .await
                .is_err()
        );
    });
}

#[test]
fn a_contractor_who_never_came_counts_from_the_invitation_and_reports_are_checked() {
    block_on(async {
        let t0 = OffsetDateTime::now_utc();
        let on_internal = Arc::new(FakeClock::new(t0));
        let w = invited_between(strict_internal(on_internal.clone()), edge_node()).await;
        let jean = w.invited.principal.id;
        let edge: crate::replication::NodeId = "edge-1".parse().expect("edge id");
        // What an edge reports of an agent, of no one, or of a day to
        // come, is not taken as it is.
        let marie = w.manager.id().expect("manager");
        let future = (t0 + Duration::days(400)).date();
        let moved = w
            .internal
            .app
            .record_activity_report(
                &edge,
                &[
                    (marie, t0.date()),
                    (crate::ids::PrincipalId::new(), t0.date()),
                ],
            )
            .await
            .expect("report");
        assert_eq!(moved, 0, "neither an agent nor an unknown id");
        on_internal.advance(Duration::days(181));
        w.internal
            .app
            .record_link_state(&edge, Vec::new(), Vec::new(), None, true)
            .await
            .expect("contact");
        // Invited 181 days ago, never came: disabled.
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            1
        );
        // A day to come counts as today at most: enabled again, then a
        // report from the future gives no endless grace.
        w.internal
            .app
            .enable_contractor(&w.manager, w.space, jean)
            .await
            .expect("enabled");
        w.internal
            .app
            .record_activity_report(&edge, &[(jean, future)])
            .await
            .expect("report");
        on_internal.advance(Duration::days(182));
        w.internal
            .app
            .record_link_state(&edge, Vec::new(), Vec::new(), None, true)
            .await
            .expect("contact");
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            1
        );
    });
}

#[test]
fn without_a_period_nobody_is_disabled() {
    block_on(async {
        let w = invited().await;
        assert_eq!(
            w.internal
                .app
                .disable_inactive_contractors()
                .await
                .expect("sweep"),
            0
        );
    });
}
