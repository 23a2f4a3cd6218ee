//! What mapped directory groups grant (ADR 0009 §6): the node's
//! administration and space memberships, given at the login and taken
//! back by the sync when the agent leaves the group, audited; a manager's
//! own grants never touched, a group's grants never changed by hand, a
//! space never left without an agent manager, and no chain of legal steps
//! that keeps a group's grant after the group is left.

use std::sync::Arc;

use super::*;
use crate::directory::{GroupDn, GroupMapping, GroupRole};
use crate::fakes::MemDirectory;
use crate::model::GrantedBy;
use crate::names::Slug;

const SECRET: &str = "Secret-2026 du domaine";
const ADMINS: &str = "cn=ged-admins,ou=groupes,dc=metropole,dc=example";
const FINANCES: &str = "cn=finances,ou=groupes,dc=metropole,dc=example";
const CHEFS: &str = "cn=chefs-finances,ou=groupes,dc=metropole,dc=example";

fn dn(s: &str) -> GroupDn {
    GroupDn::parse(s).expect("dn")
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).expect("slug")
}

/// A node whose directory knows `c.durand`, groups mapped: `ADMINS` →
/// administrators, `FINANCES` → collaborator of `finances`, `CHEFS` →
/// manager of `finances`, and a group mapped to a space nobody made.
fn mapped() -> (InternalApp, Arc<MemDirectory>) {
    let directory = Arc::new(MemDirectory::new());
    directory.add("c.durand", SECRET, "Claire Durand", "");
    let mapping = GroupMapping {
        admins: Some(dn(ADMINS)),
        spaces: vec![
            GroupRole {
                group: dn(FINANCES),
                space: slug("finances"),
                role: Role::Collaborator,
            },
            GroupRole {
                group: dn(CHEFS),
                space: slug("finances"),
                role: Role::Manager,
            },
            GroupRole {
                group: dn(FINANCES),
                space: slug("pas-encore"),
                role: Role::Reader,
            },
        ],
    };
    let (app, _) = app();
    let app = app
        .with_directory(directory.clone())
        .with_group_mapping(mapping);
    (app, directory)
}

async fn role_of(app: &InternalApp, space: SpaceId, login: &str) -> Option<(Role, GrantedBy)> {
    app.list_members(&Actor::System, space)
        .await
        .expect("members")
        .into_iter()
        .find(|m| m.principal.login.as_str() == login)
        .map(|m| (m.role, m.granted_by))
}

async fn login(app: &InternalApp) -> Actor {
    Actor::Principal(
        app.login("c.durand", SECRET, None)
            .await
            .expect("login")
            .principal,
    )
}

async fn audited(app: &InternalApp, action: &str) -> usize {
    app.global_audit(&Actor::System, Page::new(0, 500))
        .await
        .expect("audit")
        .items
        .iter()
        .filter(|e| e.action == action && e.detail["granted_by"] == "directory")
        .count()
}

#[test]
fn groups_grant_at_the_login_and_the_sync_takes_back_what_they_no_longer_grant() {
    block_on(async {
        let (app, directory) = mapped();
        let boss = agent(&app, "boss", false).await;
        let finances = space(&app, &boss, "finances").await;
        directory.set_groups("c.durand", &[ADMINS, FINANCES]);
        let me = login(&app).await;
        assert!(me.is_admin(), "the admin group administers the node");
        assert_eq!(
            role_of(&app, finances, "c.durand").await,
            Some((Role::Collaborator, GrantedBy::Directory))
        );
        assert_eq!(audited(&app, "principal.admin").await, 1);
        assert_eq!(audited(&app, "member.add").await, 1);
        // A second group with a stronger role: the strongest wins.
        directory.set_groups("c.durand", &[FINANCES, CHEFS]);
        let report = app.sync_directory().await.expect("sync");
        assert_eq!((report.admins, report.memberships), (1, 1));
        assert_eq!(
            role_of(&app, finances, "c.durand").await,
            Some((Role::Manager, GrantedBy::Directory))
        );
        let again = login(&app).await;
        assert!(!again.is_admin(), "out of the admin group, no longer one");
        // Out of every group: the membership goes, audited; a sync with
        // nothing to change changes nothing.
        directory.set_groups("c.durand", &[]);
        app.sync_directory().await.expect("sync");
        assert_eq!(role_of(&app, finances, "c.durand").await, None);
        assert_eq!(audited(&app, "member.remove").await, 1);
        let quiet = app.sync_directory().await.expect("sync");
        assert_eq!((quiet.admins, quiet.memberships), (0, 0));
    });
}

#[test]
fn a_manager_s_own_grant_is_never_touched_and_a_group_s_is_not_changed_by_hand() {
    block_on(async {
        let (app, directory) = mapped();
        let boss = agent(&app, "boss", false).await;
        let finances = space(&app, &boss, "finances").await;
        let other = space(&app, &boss, "autre").await;
        // Given by hand first: the group leaves it as the manager set it.
        app.login("c.durand", SECRET, None).await.expect("login");
        app.set_member(&boss, finances, "c.durand", Role::Reader)
            .await
            .expect("by hand");
        directory.set_groups("c.durand", &[FINANCES]);
        app.sync_directory().await.expect("sync");
        assert_eq!(
            role_of(&app, finances, "c.durand").await,
            Some((Role::Reader, GrantedBy::Manager))
        );
        directory.set_groups("c.durand", &[]);
        app.sync_directory().await.expect("sync");
        assert_eq!(
            role_of(&app, finances, "c.durand").await,
            Some((Role::Reader, GrantedBy::Manager)),
            "leaving the group takes back only what the group gave"
        );
        // Given by the group: a manager can neither change nor remove it,
        // and the refusal says where to act.
        app.remove_member(&boss, finances, me_id(&app).await)
            .await
            .expect("by hand");
        directory.set_groups("c.durand", &[FINANCES]);
        app.sync_directory().await.expect("sync");
        let refused = app
            .set_member(&boss, finances, "c.durand", Role::Manager)
            .await
            .expect_err("the group's");
        assert!(
            matches!(&refused, CoreError::Conflict { code: "directory_membership", message } if message.contains(FINANCES)),
            "{refused:?}"
        );
        let refused = app
            .remove_member(&boss, finances, me_id(&app).await)
            .await
            .expect_err("the group's");
        assert!(matches!(
            refused,
            CoreError::Conflict {
                code: "directory_membership",
                ..
            }
        ));
        // A space no group is mapped to is the managers' as ever.
        app.set_member(&boss, other, "c.durand", Role::Contributor)
            .await
            .expect("unmapped space");
    });
}

async fn me_id(app: &InternalApp) -> PrincipalId {
    app.principal_by_login(&Actor::System, "c.durand")
        .await
        .expect("account")
        .id
}

#[test]
fn a_group_never_leaves_a_space_without_an_agent_manager() {
    block_on(async {
        let (app, directory) = mapped();
        let boss = agent(&app, "boss", false).await;
        let finances = space(&app, &boss, "finances").await;
        directory.set_groups("c.durand", &[CHEFS]);
        let chef = login(&app).await;
        // The group's manager takes over and the creator steps down: a
        // legal chain that leaves the group's grant the only manager.
        let boss_id = boss.id().expect("boss");
        app.remove_member(&chef, finances, boss_id)
            .await
            .expect("another manager remains");
        directory.set_groups("c.durand", &[]);
        app.sync_directory().await.expect("sync");
        assert_eq!(
            role_of(&app, finances, "c.durand").await,
            Some((Role::Manager, GrantedBy::Directory)),
            "kept: the space's last agent manager"
        );
        // Once another manager is named, the next sync takes it back.
        let admin = agent(&app, "admin", true).await;
        app.set_member(&admin, finances, "boss", Role::Manager)
            .await
            .expect("a manager again");
        app.sync_directory().await.expect("sync");
        assert_eq!(role_of(&app, finances, "c.durand").await, None);
    });
}

#[test]
fn a_mapped_space_that_does_not_exist_and_local_accounts_are_left_alone() {
    block_on(async {
        let (app, directory) = mapped();
        let admin = agent(&app, "admin", true).await;
        directory.set_groups("c.durand", &[FINANCES]);
        // No `finances`, no `pas-encore`: the login works, nothing granted.
        login(&app).await;
        assert_eq!(audited(&app, "member.add").await, 0);
        // The local administrator is in no group and stays one.
        app.sync_directory().await.expect("sync");
        let still = app
            .principal_by_login(&Actor::System, "admin")
            .await
            .expect("admin");
        assert!(still.is_admin && admin.is_admin());
        // Made later, the space is granted at the next sync.
        let finances = space(&app, &admin, "finances").await;
        app.sync_directory().await.expect("sync");
        assert_eq!(
            role_of(&app, finances, "c.durand").await,
            Some((Role::Collaborator, GrantedBy::Directory))
        );
    });
}
