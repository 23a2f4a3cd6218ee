//! The authorization matrix checks every role × action × (own space, other
//! space) against DESIGN §2, written out by hand; and denials reach the
//! audit log. Apart, with the scenario helpers only the matrix uses.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Member(Role),
    NonMember,
    Admin,
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Read,
    Create,
    EditOwn,
    EditOther,
    DeleteOwn,
    DeleteOther,
    RestoreVersion,
    ChangeMetadata,
    ManageMembers,
    TrashRestore,
    TrashPurge,
}

const ACTS: [Act; 11] = [
    Act::Read,
    Act::Create,
    Act::EditOwn,
    Act::EditOther,
    Act::DeleteOwn,
    Act::DeleteOther,
    Act::RestoreVersion,
    Act::ChangeMetadata,
    Act::ManageMembers,
    Act::TrashRestore,
    Act::TrashPurge,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Ok,
    Forbidden,
    NotFound,
}

/// DESIGN §2, written out by hand (not derived from `Role::allows`).
fn expected(who: Who, act: Act) -> Expect {
    use Expect::*;
    let row: [Expect; 11] = match who {
        Who::Admin | Who::Member(Role::Manager) => [Ok; 11],
        Who::Member(Role::Collaborator) => [
            Ok, Ok, Ok, Ok, Ok, Forbidden, Ok, Ok, Forbidden, Forbidden, Forbidden,
        ],
        Who::Member(Role::Contributor) => [
            Ok, Ok, Ok, Forbidden, Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            Forbidden,
        ],
        Who::Member(Role::Reader) => [
            Ok, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            Forbidden, Forbidden, Forbidden,
        ],
        Who::NonMember => [NotFound; 11],
    };
    row[ACTS
        .iter()
        .position(|a| std::mem::discriminant(a) == std::mem::discriminant(&act))
        .expect("listed")]
}

/// The targets of one scenario, in one space.
struct Targets {
    space: SpaceId,
    own: DocumentId,
    other: DocumentId,
    trashed: DocumentId,
}

/// A space where `user` holds `who`; `own` was created by `user` while a
/// contributor (so "own" exists for readers and ex-members too).
async fn targets(app: &InternalApp, boss: &Actor, user: &Actor, slug: &str, who: Who) -> Targets {
    let s = space(app, boss, slug).await;
    let login = user.principal().expect("principal").login.to_string();
    if who != Who::Admin {
        app.set_member(boss, s, &login, Role::Contributor)
            .await
            .expect("member");
    }
    let own = upload(app, user, s, "own.txt")
        .await
        .expect("own")
        .document
        .id;
    match who {
        Who::Member(r) => {
            app.set_member(boss, s, &login, r).await.expect("role");
        }
        Who::NonMember => {
            let id = user.id().expect("id");
            app.remove_member(boss, s, id).await.expect("remove");
        }
        Who::Admin => {}
    }
    let other = upload(app, boss, s, "other.txt")
        .await
        .expect("other")
        .document
        .id;
    app.new_version(boss, other, NewVersion::default(), content("v2"))
        .await
        .expect("v2");
    let trashed = upload(app, boss, s, "trashed.txt")
        .await
        .expect("trashed")
        .document
        .id;
    app.delete_document(boss, trashed).await.expect("trash");
    Targets {
        space: s,
        own,
        other,
        trashed,
    }
}

async fn perform(app: &InternalApp, user: &Actor, t: &Targets, act: Act) -> Result<(), CoreError> {
    let facture = json!({"numero": "F1", "fournisseur": "ACME", "montant_ttc": "10", "date_emission": "2026-01-02"});
    match act {
        Act::Read => app.get_document(user, t.other).await.map(drop),
        Act::Create => upload(app, user, t.space, "new.txt").await.map(drop),
        Act::EditOwn => app
            .update_document(user, t.own, Some("own-renamed.txt"), None)
            .await
            .map(drop),
        Act::EditOther => app
            .update_document(user, t.other, Some("other-renamed.txt"), None)
            .await
            .map(drop),
        Act::DeleteOwn => app.delete_document(user, t.own).await,
        Act::DeleteOther => app.delete_document(user, t.other).await,
        Act::RestoreVersion => app.restore_version(user, t.other, 1).await.map(drop),
        Act::ChangeMetadata => app
            .update_metadata(user, t.other, Some("facture".into()), obj(facture))
            .await
            .map(drop),
        Act::ManageMembers => app
            .set_member(user, t.space, "boss", Role::Manager)
            .await
            .map(drop),
        Act::TrashRestore => app.restore_document(user, t.trashed).await.map(drop),
        Act::TrashPurge => app.purge_document(user, t.trashed).await,
    }
}

fn outcome(r: Result<(), CoreError>) -> Expect {
    match r {
        Ok(()) => Expect::Ok,
        Err(CoreError::Forbidden(_)) => Expect::Forbidden,
        Err(CoreError::NotFound(_)) => Expect::NotFound,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

#[test]
fn authorization_matrix_matches_the_design_table() {
    block_on(async {
        let whos = [
            Who::Member(Role::Manager),
            Who::Member(Role::Collaborator),
            Who::Member(Role::Contributor),
            Who::Member(Role::Reader),
            Who::NonMember,
            Who::Admin,
        ];
        let mut failures = Vec::new();
        for who in whos {
            for act in ACTS {
                // A fresh world per cell: actions change state.
                let (app, _) = app();
                for t in crate::doctype::default_catalogue() {
                    app.save_document_type(&Actor::System, t)
                        .await
                        .expect("type");
                }
                let boss = agent(&app, "boss", false).await;
                let user = agent(&app, "user", who == Who::Admin).await;
                let mine = targets(&app, &boss, &user, "own-space", who).await;
                let got = outcome(perform(&app, &user, &mine, act).await);
                if got != expected(who, act) {
                    failures.push(format!(
                        "{who:?} {act:?} in own space: got {got:?}, want {:?}",
                        expected(who, act)
                    ));
                }
                // Another space where the user is not (or no longer) a member.
                let theirs = targets(
                    &app,
                    &boss,
                    &user,
                    "other-space",
                    if who == Who::Admin {
                        Who::Admin
                    } else {
                        Who::NonMember
                    },
                )
                .await;
                let want = if who == Who::Admin {
                    Expect::Ok
                } else {
                    Expect::NotFound
                };
                let got = outcome(perform(&app, &user, &theirs, act).await);
                if got != want {
                    failures.push(format!(
                        "{who:?} {act:?} in other space: got {got:?}, want {want:?}"
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

#[test]
fn denials_are_recorded_in_the_audit_log() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let eve = agent(&app, "eve", false).await;
        let s = space(&app, &boss, "secret").await;
        assert!(matches!(
            app.get_space(&eve, s).await,
            Err(CoreError::NotFound(_))
        ));
        let log = app
            .space_audit(&boss, s, Page::default())
            .await
            .expect("audit");
        let denial = log
            .items
            .iter()
            .find(|e| e.action == "access.denied")
            .expect("denial recorded");
        assert_eq!(denial.actor, eve.id());
        assert!(app.verify_audit().await.expect("verify").broken.is_none());
    });
}
