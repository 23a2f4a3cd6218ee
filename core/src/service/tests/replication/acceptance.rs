//! A contractor's acceptance of an invitation goes up through the edge's
//! outbox; the internal node records it once, and only for an invitation it
//! can vouch for.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::replication::{Invitation, InvitationState, OutboxItem};

const PASSWORD: &str = "un mot de passe sûr";

/// The invitation as one node stores it (from its feed of the space).
async fn stored<A: std::ops::Deref<Target = Passerelle>>(
    node: &NodeUnderTest<A>,
    space: SpaceId,
    id: uuid::Uuid,
) -> Invitation {
    node.app
        .feed(space, Revision::ZERO, 10_000)
        .await
        .expect("rows")
        .rows
        .into_iter()
        .find_map(|r| match r {
            ChangeRow::Invitation(i) if i.id == id => Some(i),
            _ => None,
        })
        .expect("invitation stored")
}

/// Entries of the space's audit log with this action.
async fn audited(i: &Invited, action: &str) -> Vec<crate::model::AuditEntry> {
    i.internal
        .app
        .space_audit(&i.manager, i.space, Page::new(0, 500))
        .await
        .expect("audit")
        .items
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// What a (possibly hostile) edge could send about an invitation.
fn acceptance(
    space: SpaceId,
    contractor: crate::ids::PrincipalId,
    invitation: uuid::Uuid,
    at: OffsetDateTime,
) -> OutboxItem {
    OutboxItem {
        seq: 1,
        op_id: uuid::Uuid::now_v7(),
        space,
        contractor,
        created_at: at,
        op: OutboxOp::AcceptInvitation { invitation },
        outcome: None,
        detail: String::new(),
    }
}

#[test]
fn an_acceptance_on_the_edge_goes_up_once_and_the_internal_node_records_it() {
    block_on(async {
        let i = invited().await;
        let id = i.invited.invitation.id;
        let jean = i.invited.principal.id;
        let before = stored(&i.internal, i.space, id).await;
        assert_eq!(
            before.state(OffsetDateTime::now_utc()),
            InvitationState::Pending
        );

        i.edge
            .app
            .accept_invitation(&i.invited.secret, PASSWORD)
            .await
            .expect("accept");
        // Exactly one item, in the same commit as the acceptance.
        let pending = i.edge.app.pending_operations(0, 100).await.expect("outbox");
        assert_eq!(pending.len(), 1, "{pending:?}");
        let item = &pending[0];
        assert_eq!(item.op, OutboxOp::AcceptInvitation { invitation: id });
        assert_eq!((item.space, item.contractor), (i.space, jean));
        assert_eq!(item.op.blob(), None);
        let on_edge = stored(&i.edge, i.space, id).await;
        assert_eq!(on_edge.accepted_at, Some(item.created_at));
        // Not one of the contractor's writes to the space.
        let jean_here = Actor::Principal(
            i.edge
                .app
                .login("jean@btp-rhone.fr", PASSWORD, None)
                .await
                .expect("login")
                .principal,
        );
        assert!(
            i.edge
                .app
                .my_operations(&jean_here, i.space, Page::default())
                .await
                .expect("ops")
                .items
                .is_empty()
        );

        // Applied (twice: the ledger makes the second a no-op, see `up`).
        let applied = up(&i.internal, &i.edge).await;
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].outcome, OpOutcome::Applied);
        assert_eq!(applied[0].document, None);
        let recorded = stored(&i.internal, i.space, id).await;
        assert_eq!(recorded.accepted_at, Some(item.created_at));
        assert!(
            recorded.revision > before.revision,
            "a change like any other"
        );
        let listed = i
            .internal
            .app
            .list_invitations(&i.manager, i.space)
            .await
            .expect("invitations");
        assert_eq!(
            listed[0].state(OffsetDateTime::now_utc()),
            InvitationState::Accepted
        );
        let entries = audited(&i, "contractor.accept").await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].actor, Some(jean));
        assert_eq!(entries[0].detail["invitation"], id.to_string());
        assert_eq!(entries[0].detail["edge"], "edge-1");
        assert!(
            i.edge
                .app
                .pending_operations(0, 100)
                .await
                .expect("outbox")
                .is_empty()
        );

        // The feed brings the new revision down; both nodes agree.
        down(&i.internal, &i.edge, i.space).await;
        let back = stored(&i.edge, i.space, id).await;
        assert_eq!(back.accepted_at, Some(item.created_at));
        assert_eq!(back.revision, recorded.revision);
        assert_eq!(
            i.edge.app.space_digest(i.space).await.expect("digest"),
            i.internal.app.space_digest(i.space).await.expect("digest"),
        );
        i.edge
            .app
            .login("jean@btp-rhone.fr", PASSWORD, None)
            .await
            .expect("the password is still here");

        // Another report of the same acceptance changes nothing.
        let again = acceptance(i.space, jean, id, item.created_at + Duration::minutes(5));
        let r = i
            .internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &again)
            .await
            .expect("recorded");
        assert_eq!(r.outcome, OpOutcome::Applied);
        assert_eq!(stored(&i.internal, i.space, id).await, recorded);
        assert_eq!(audited(&i, "contractor.accept").await.len(), 1);
    });
}

#[test]
fn an_acceptance_the_internal_node_cannot_vouch_for_is_rejected_and_changes_nothing() {
    block_on(async {
        let i = invited().await;
        let jean = i.invited.principal.id;
        let mine = i.invited.invitation.clone();
        // Paul, invited into the same space, his invitation revoked; Jean,
        // invited into another space shared with the same edge.
        let paul = i
            .internal
            .app
            .invite_contractor(
                &i.manager,
                i.space,
                NewContractor {
                    email: "paul@charpente.fr".into(),
                    display_name: "Paul".into(),
                    organisation: "Charpente".into(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("invite paul");
        i.internal
            .app
            .revoke_invitation(&i.manager, paul.invitation.id)
            .await
            .expect("revoke");
        let other = shared_space(&i.internal.app, &i.manager, "gymnase", "Gymnase").await;
        let elsewhere = i
            .internal
            .app
            .invite_contractor(
                &i.manager,
                other,
                NewContractor {
                    email: "jean@btp-rhone.fr".into(),
                    display_name: "Jean Bâtisseur".into(),
                    organisation: "BTP Rhône".into(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("invite jean elsewhere");
        assert_eq!(elsewhere.principal.id, jean);
        let ii = &i;
        let snapshot = |space| async move {
            ii.internal
                .app
                .list_invitations(&ii.manager, space)
                .await
                .expect("invitations")
        };
        let (here_before, other_before) = (snapshot(i.space).await, snapshot(other).await);

        let now = OffsetDateTime::now_utc();
        let cases = [
            (
                "an invitation of another space",
                acceptance(i.space, jean, elsewhere.invitation.id, now),
                "not found",
            ),
            (
                "an invitation of another contractor",
                acceptance(i.space, jean, paul.invitation.id, now),
                "not found",
            ),
            (
                "an unknown invitation",
                acceptance(i.space, jean, uuid::Uuid::now_v7(), now),
                "not found",
            ),
            (
                "a revoked invitation",
                acceptance(i.space, paul.principal.id, paul.invitation.id, now),
                "revoked",
            ),
            (
                "an invitation expired at the acceptance's time",
                acceptance(i.space, jean, mine.id, mine.expires_at),
                "expired",
            ),
            (
                "an acceptance older than the invitation",
                acceptance(
                    i.space,
                    jean,
                    mine.id,
                    mine.created_at - Duration::seconds(1),
                ),
                "older",
            ),
        ];
        for (what, item, why) in &cases {
            let r = i
                .internal
                .app
                .apply_edge_op(&"edge-1".parse().expect("node id"), item)
                .await
                .expect("recorded, not retried");
            assert_eq!(r.outcome, OpOutcome::Rejected, "{what}");
            assert!(r.detail.contains(why), "{what}: {}", r.detail);
        }
        assert_eq!(snapshot(i.space).await, here_before, "nothing changed here");
        assert_eq!(snapshot(other).await, other_before, "nor there");
        assert!(audited(&i, "contractor.accept").await.is_empty());
        assert_eq!(audited(&i, "replication.rejected").await.len(), cases.len());
        let quarantine = i
            .internal
            .app
            .space_replication(&i.manager, i.space)
            .await
            .expect("status")
            .quarantine;
        assert_eq!(quarantine.len(), cases.len(), "reported to the managers");

        // Just before it expires is still in time.
        let in_time = acceptance(
            i.space,
            jean,
            mine.id,
            mine.expires_at - Duration::seconds(1),
        );
        let r = i
            .internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &in_time)
            .await
            .expect("recorded");
        assert_eq!(r.outcome, OpOutcome::Applied);
        assert_eq!(
            stored(&i.internal, i.space, mine.id).await.accepted_at,
            Some(in_time.created_at)
        );
    });
}

#[test]
fn a_rebuilt_edge_lets_the_contractor_accept_again_and_the_first_acceptance_stands() {
    block_on(async {
        let i = invited().await;
        let id = i.invited.invitation.id;
        i.edge
            .app
            .accept_invitation(&i.invited.secret, PASSWORD)
            .await
            .expect("accept");
        up(&i.internal, &i.edge).await;
        let first = stored(&i.internal, i.space, id).await;
        assert!(first.accepted_at.is_some());

        // A new edge has no password for the contractor: the internal
        // node's acceptance does not make the link unusable there.
        let rebuilt = edge_node();
        down(&i.internal, &rebuilt, i.space).await;
        assert_eq!(stored(&rebuilt, i.space, id).await.accepted_at, None);
        assert_eq!(
            rebuilt.app.space_digest(i.space).await.expect("digest"),
            i.internal.app.space_digest(i.space).await.expect("digest"),
            "acceptance is not part of the digest"
        );
        rebuilt
            .app
            .accept_invitation(&i.invited.secret, "un nouveau mot de passe")
            .await
            .expect("accept again on the rebuilt edge");
        let applied = up(&i.internal, &rebuilt).await;
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].outcome, OpOutcome::Applied);
        assert_eq!(stored(&i.internal, i.space, id).await, first);
    });
}

#[test]
fn an_acceptance_is_not_an_operation_a_contractor_can_queue() {
    block_on(async {
        let w = world().await;
        let r = w
            .edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::AcceptInvitation {
                    invitation: uuid::Uuid::now_v7(),
                },
            )
            .await;
        assert!(
            matches!(&r, Err(CoreError::Invalid { code, .. }) if *code == "bad_operation"),
            "{r:?}"
        );
        assert!(
            w.edge
                .app
                .pending_operations(0, 100)
                .await
                .expect("outbox")
                .is_empty()
        );
    });
}

#[test]
fn removing_a_contractor_revokes_the_link_they_have_not_used() {
    block_on(async {
        let i = invited().await;
        let id = i.invited.invitation.id;
        let jean = i.invited.principal.id;
        i.internal
            .app
            .remove_member(&i.manager, i.space, jean)
            .await
            .expect("remove");
        let now = OffsetDateTime::now_utc();
        let inv = stored(&i.internal, i.space, id).await;
        assert_eq!(inv.state(now), InvitationState::Revoked);
        let removed = audited(&i, "member.remove").await;
        assert_eq!(removed.len(), 1);
        assert_eq!(
            removed[0].detail["invitations_revoked"],
            serde_json::json!([id.to_string()])
        );
        // The edge learns it with the membership and refuses the link.
        down(&i.internal, &i.edge, i.space).await;
        assert_eq!(
            stored(&i.edge, i.space, id).await.state(now),
            InvitationState::Revoked
        );
        assert!(
            i.edge
                .app
                .accept_invitation(&i.invited.secret, PASSWORD)
                .await
                .is_err()
        );
    });
}

#[test]
fn an_accepted_invitation_is_not_revoked_the_membership_is_what_to_remove() {
    block_on(async {
        let i = invited().await;
        let id = i.invited.invitation.id;
        i.edge
            .app
            .accept_invitation(&i.invited.secret, PASSWORD)
            .await
            .expect("accept");
        up(&i.internal, &i.edge).await;
        let refused = i.internal.app.revoke_invitation(&i.manager, id).await;
        assert!(
            matches!(
                refused,
                Err(CoreError::Conflict {
                    code: "invitation_accepted",
                    ..
                })
            ),
            "{refused:?}"
        );
        let inv = stored(&i.internal, i.space, id).await;
        assert_eq!(
            inv.state(OffsetDateTime::now_utc()),
            InvitationState::Accepted
        );
        assert!(audited(&i, "contractor.invitation.revoke").await.is_empty());
    });
}
