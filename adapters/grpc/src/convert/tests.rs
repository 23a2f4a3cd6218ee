//! Tests of the protobuf conversions: round trips, and every malformed
//! field refused with its name.

use super::*;

fn item(op: OutboxOp) -> OutboxItem {
    OutboxItem {
        seq: 42,
        op_id: Uuid::now_v7(),
        space: SpaceId::new(),
        contractor: PrincipalId::new(),
        created_at: OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        op,
        outcome: None,
        detail: String::new(),
    }
}

fn accept(invitation_id: &str) -> pb::OutboxItem {
    pb::OutboxItem {
        op: Some(pb::outbox_item::Op::AcceptInvitation(
            pb::AcceptInvitationOp {
                invitation_id: invitation_id.into(),
            },
        )),
        ..item_to_pb(&item(OutboxOp::AcceptInvitation {
            invitation: Uuid::now_v7(),
        }))
    }
}

#[test]
fn every_outbox_operation_round_trips_through_protobuf() {
    let mut metadata = Map::new();
    metadata.insert("numero".into(), Value::String("F-2026-0042".into()));
    let document = DocumentId::new();
    let ops = [
        OutboxOp::NewDocument {
            folder: Some(FolderId::new()),
            name: "Plan.pdf".into(),
            hash: ContentHash::of(b"plan"),
            size: 4,
            media_type: "application/pdf".into(),
            doc_type: Some("facture".into()),
            metadata: metadata.clone(),
            comment: "dépôt".into(),
        },
        OutboxOp::NewVersion {
            document,
            base_version: 3,
            hash: ContentHash::of(b"v4"),
            size: 2,
            media_type: "text/plain".into(),
            comment: String::new(),
            after_op: Some(Uuid::now_v7()),
        },
        OutboxOp::NewVersion {
            document,
            base_version: 1,
            hash: ContentHash::of(b"v2"),
            size: 2,
            media_type: "text/plain".into(),
            comment: "sans prédécesseur".into(),
            after_op: None,
        },
        OutboxOp::Rename {
            document,
            name: "Plan B.pdf".into(),
        },
        OutboxOp::Move {
            document,
            folder: None,
        },
        OutboxOp::Delete {
            document,
            base_version: 2,
        },
        OutboxOp::SetMetadata {
            document,
            doc_type: None,
            metadata,
        },
        OutboxOp::NewFolder {
            folder: FolderId::new(),
            parent: Some(FolderId::new()),
            name: "Relevés".into(),
        },
        OutboxOp::AcceptInvitation {
            invitation: Uuid::now_v7(),
        },
    ];
    for op in ops {
        let i = item(op);
        assert_eq!(item_from_pb(item_to_pb(&i)), Ok(i));
    }
}

/// Rows as the edge stores them: what stays on the internal node
/// (visibility, edge, administration, credentials, acceptance) already
/// at the value the edge gives it.
fn rows_with_authors(created_at: OffsetDateTime) -> [ChangeRow; 3] {
    let space = SpaceId::new();
    let manager = PrincipalId::new();
    let contractor = PrincipalId::new();
    [
        ChangeRow::Space(Space {
            id: space,
            slug: Slug::parse("chantier-gare").expect("slug"),
            title: "Chantier de la gare".into(),
            description: String::new(),
            domain: "Travaux".into(),
            visibility: Visibility::Private,
            edge: None,
            archived: false,
            created_by: manager,
            created_at,
            revision: Revision(3),
        }),
        ChangeRow::Principal(Principal {
            id: contractor,
            login: Login::parse("jean.martin@btp-rhone.example").expect("login"),
            display_name: "Jean Martin".into(),
            email: "jean.martin@btp-rhone.example".into(),
            kind: PrincipalKind::Contractor,
            is_admin: false,
            disabled: false,
            password_hash: None,
            source: passerelle_core::model::AccountSource::Local,
            second_factor_reset: None,
            organisation: Some("BTP Rhône".into()),
            created_at,
            revision: Revision(4),
        }),
        ChangeRow::Invitation(Invitation {
            id: Uuid::now_v7(),
            principal: contractor,
            space,
            secret_hash: ContentHash::of(b"secret"),
            created_by: manager,
            created_at,
            expires_at: created_at + time::Duration::days(14),
            accepted_at: None,
            revoked: false,
            revision: Revision(5),
        }),
    ]
}

#[test]
fn spaces_principals_and_invitations_keep_their_author_and_creation_date() {
    let created_at = time::macros::datetime!(2026-03-14 09:30:15.123456789 UTC);
    for row in rows_with_authors(created_at) {
        let space = match &row {
            ChangeRow::Space(s) => s.id,
            ChangeRow::Invitation(i) => i.space,
            _ => SpaceId::new(),
        };
        assert_eq!(change_from_pb(change_to_pb(&row), space), Ok(row));
    }
}

#[test]
fn an_absent_author_is_the_nil_id_and_a_malformed_one_is_refused() {
    // An older internal node leaves the new fields at their defaults.
    let [space, _, invitation] =
        rows_with_authors(OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000));
    let (ChangeRow::Space(s), ChangeRow::Invitation(i)) = (space, invitation) else {
        unreachable!("rows_with_authors returns a space, a principal, an invitation");
    };
    let mut sent = change_to_pb(&ChangeRow::Space(s.clone()));
    if let Some(pb::change::Row::Space(row)) = &mut sent.row {
        row.created_by.clear();
    }
    let Ok(ChangeRow::Space(got)) = change_from_pb(sent, s.id) else {
        panic!("an absent author is not an error");
    };
    assert_eq!(got.created_by, PrincipalId::from_uuid(Uuid::nil()));
    let mut sent = change_to_pb(&ChangeRow::Invitation(i.clone()));
    if let Some(pb::change::Row::Invitation(row)) = &mut sent.row {
        row.created_by = "not-a-uuid".into();
    }
    assert_eq!(
        change_from_pb(sent, i.space).map_err(|e| e.field),
        Err("invitation.created_by")
    );
}

#[test]
fn an_acceptance_naming_no_valid_invitation_id_is_refused() {
    for bad in ["", "not-a-uuid", "0123456789abcdef"] {
        let e = item_from_pb(accept(bad)).expect_err("refused");
        assert_eq!(e.field, "accept_invitation.invitation_id", "{bad:?}");
    }
    let id = Uuid::now_v7();
    let i = item_from_pb(accept(&id.to_string())).expect("a UUID is fine");
    assert_eq!(i.op, OutboxOp::AcceptInvitation { invitation: id });
}

#[test]
fn a_new_version_following_a_malformed_operation_id_is_refused() {
    for bad in ["not-a-uuid", "0123456789abcdef", " "] {
        let mut sent = item_to_pb(&item(OutboxOp::NewVersion {
            document: DocumentId::new(),
            base_version: 2,
            hash: ContentHash::of(b"v3"),
            size: 2,
            media_type: "text/plain".into(),
            comment: String::new(),
            after_op: Some(Uuid::now_v7()),
        }));
        if let Some(pb::outbox_item::Op::NewVersion(o)) = &mut sent.op {
            o.after_op = bad.into();
        }
        assert_eq!(
            item_from_pb(sent).map_err(|e| e.field),
            Err("new_version.after_op"),
            "{bad:?}"
        );
    }
}

#[test]
fn an_item_without_an_operation_is_refused() {
    // What an older internal node sees of an operation it does not know.
    let mut unknown = accept(&Uuid::now_v7().to_string());
    unknown.op = None;
    assert_eq!(item_from_pb(unknown).map_err(|e| e.field), Err("outbox.op"));
}

#[test]
fn links_travel_whole_and_an_unknown_kind_is_refused() {
    use passerelle_core::ids::{DocumentId, LinkId};
    use passerelle_core::links::{DocumentLink, LinkKind};

    let space = SpaceId::new();
    for (kind, removed) in [(LinkKind::AnnexeDe, false), (LinkKind::Remplace, true)] {
        let row = ChangeRow::Link(DocumentLink {
            id: LinkId::new(),
            space,
            from: DocumentId::new(),
            to: DocumentId::new(),
            kind,
            created_by: PrincipalId::new(),
            created_at: time::macros::datetime!(2026-03-14 09:30:15.123456789 UTC),
            removed,
            revision: Revision(42),
        });
        assert_eq!(change_from_pb(change_to_pb(&row), space), Ok(row));
    }
    let mut sent = change_to_pb(&ChangeRow::Link(DocumentLink {
        id: LinkId::new(),
        space,
        from: DocumentId::new(),
        to: DocumentId::new(),
        kind: LinkKind::VoirAussi,
        created_by: PrincipalId::new(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        removed: false,
        revision: Revision(1),
    }));
    if let Some(pb::change::Row::Link(row)) = &mut sent.row {
        row.kind = "parent_de".into();
    }
    assert_eq!(
        change_from_pb(sent, space).map_err(|e| e.field),
        Err("link.kind")
    );
}
