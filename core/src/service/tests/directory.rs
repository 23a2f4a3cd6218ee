//! Agents whose password the directory checks (ADR 0009): accounts made at
//! the first login and kept up to date, local accounts never asked of the
//! directory (the break-glass administrator works when it is down), empty
//! passwords never asked at all, no local password for a directory
//! account, and WebDAV's Basic checks remembered as a local one's.

use std::sync::Arc;

use super::*;
use crate::fakes::MemDirectory;
use crate::model::{AccountSource, PrincipalKind};
use crate::service::DirectorySync;

const SECRET: &str = "Secret-2026 du domaine";

fn with_directory() -> (InternalApp, Arc<MemDirectory>) {
    let directory = Arc::new(MemDirectory::new());
    directory.add(
        "c.durand",
        SECRET,
        "Claire Durand",
        "c.durand@metropole.example",
    );
    let (app, _) = app();
    (app.with_directory(directory.clone()), directory)
}

async fn actions(app: &InternalApp) -> Vec<String> {
    app.global_audit(&Actor::System, Page::new(0, 500))
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn a_directory_agent_logs_in_and_their_account_is_made_then_kept_up_to_date() {
    block_on(async {
        let (app, directory) = with_directory();
        let first = app.login("C.Durand", SECRET, None).await.expect("login");
        let p = first.principal;
        assert_eq!(p.login.as_str(), "c.durand");
        assert_eq!(p.source, AccountSource::Directory);
        assert_eq!(p.kind, PrincipalKind::Agent);
        assert_eq!(p.display_name, "Claire Durand");
        assert_eq!(p.password_hash, None);
        assert!(!p.is_admin);
        assert!(
            actions(&app)
                .await
                .contains(&"principal.provision".to_owned())
        );
        // Renamed in the directory: the next login brings the name along.
        directory.add("c.durand", SECRET, "Claire Durand-Roux", "");
        let again = app.login("c.durand", SECRET, None).await.expect("login");
        assert_eq!(again.principal.id, p.id);
        assert_eq!(again.principal.display_name, "Claire Durand-Roux");
        // A wrong password, an unknown login: the same refusal.
        for (login, password) in [("c.durand", "pas le bon"), ("inconnu", SECRET)] {
            assert!(matches!(
                app.login(login, password, None).await,
                Err(CoreError::Unauthenticated)
            ));
        }
        assert!(actions(&app).await.contains(&"login.failed".to_owned()));
    });
}

#[test]
fn local_accounts_never_ask_the_directory_and_work_when_it_is_down() {
    block_on(async {
        let (app, directory) = with_directory();
        agent(&app, "admin", true).await;
        // The same login in the directory, with another password: the
        // local account is the node's, the directory never decides for it.
        agent(&app, "marie", false).await;
        directory.add("marie", SECRET, "Marie (AD)", "");
        assert!(matches!(
            app.login("marie", SECRET, None).await,
            Err(CoreError::Unauthenticated)
        ));
        app.login("marie", "correct horse battery", None)
            .await
            .expect("local login");
        assert_eq!(directory.asked(), 0);
        // Down: directory logins are not judged, local ones go on.
        let failed = |a: Vec<String>| a.iter().filter(|a| *a == "login.failed").count();
        let failed_before = failed(actions(&app).await);
        directory.set_down(true);
        assert!(matches!(
            app.login("c.durand", SECRET, None).await,
            Err(CoreError::Unavailable(_))
        ));
        assert!(matches!(
            app.authenticate_basic("c.durand", SECRET, None).await,
            Err(CoreError::Unavailable(_))
        ));
        let admin = app
            .login("admin", "correct horse battery", None)
            .await
            .expect("break-glass administrator");
        assert!(admin.principal.is_admin);
        // A directory that did not answer is not a failed login.
        assert_eq!(failed(actions(&app).await), failed_before);
    });
}

#[test]
fn an_empty_password_never_reaches_the_directory() {
    block_on(async {
        let (app, directory) = with_directory();
        assert!(matches!(
            app.login("c.durand", "", None).await,
            Err(CoreError::Unauthenticated)
        ));
        assert!(matches!(
            app.authenticate_basic("c.durand", "", None).await,
            Err(CoreError::Unauthenticated)
        ));
        assert_eq!(directory.asked(), 0);
        assert!(
            !actions(&app)
                .await
                .contains(&"principal.provision".to_owned())
        );
    });
}

#[test]
fn a_directory_account_has_no_local_password_and_a_disabled_one_stays_out() {
    block_on(async {
        let (app, _) = with_directory();
        let admin = agent(&app, "admin", true).await;
        let me = Actor::Principal(
            app.login("c.durand", SECRET, None)
                .await
                .expect("login")
                .principal,
        );
        for who in [&me, &admin] {
            assert!(matches!(
                app.set_password(who, "c.durand", "un nouveau mot de passe")
                    .await,
                Err(CoreError::Conflict {
                    code: "directory_password",
                    ..
                })
            ));
        }
        // An app password for WebDAV works as for any agent.
        let app_password = app
            .create_app_password(&me, "LibreOffice")
            .await
            .expect("app password");
        app.authenticate_basic("c.durand", &app_password.secret, None)
            .await
            .expect("app password");
        // Disabled on the node: the directory's yes does not reopen it.
        app.set_disabled(&admin, "c.durand", true)
            .await
            .expect("disable");
        assert!(matches!(
            app.login("c.durand", SECRET, None).await,
            Err(CoreError::Unauthenticated)
        ));
        assert!(
            app.authenticate_basic("c.durand", SECRET, None)
                .await
                .is_err()
        );
    });
}

#[test]
fn basic_checks_of_a_directory_password_are_remembered_and_end_with_the_account() {
    block_on(async {
        let (app, directory) = with_directory();
        let admin = agent(&app, "admin", true).await;
        for _ in 0..5 {
            app.authenticate_basic("c.durand", SECRET, None)
                .await
                .expect("basic");
        }
        // One question for five requests (a WebDAV client sends a
        // thousand).
        assert_eq!(directory.asked(), 1);
        app.set_disabled(&admin, "c.durand", true)
            .await
            .expect("disable");
        assert!(
            app.authenticate_basic("c.durand", SECRET, None)
                .await
                .is_err()
        );
    });
}

#[test]
fn directory_logins_are_throttled_as_every_login() {
    block_on(async {
        let (app, directory) = with_directory();
        let mut throttled = false;
        for _ in 0..50 {
            if let Err(CoreError::Throttled { .. }) = app.login("c.durand", "faux", None).await {
                throttled = true;
                break;
            }
        }
        assert!(throttled);
        let asked = directory.asked();
        // Throttled: the right password is not even asked of the directory.
        assert!(matches!(
            app.login("c.durand", SECRET, None).await,
            Err(CoreError::Throttled { .. })
        ));
        assert_eq!(directory.asked(), asked);
    });
}

#[test]
fn the_sync_disables_who_left_or_is_disabled_there_and_follows_names() {
    block_on(async {
        let (app, directory) = with_directory();
        let admin = agent(&app, "admin", true).await;
        for (login, name) in [("p.martin", "Paul Martin"), ("l.bernard", "Léa Bernard")] {
            directory.add(login, SECRET, name, "");
        }
        let mut sessions = Vec::new();
        for login in ["c.durand", "p.martin", "l.bernard"] {
            sessions.push(app.login(login, SECRET, None).await.expect("login"));
        }
        let claire = Actor::Principal(sessions[0].principal.clone());
        let token = app
            .create_token(&claire, "c.durand", "script", None)
            .await
            .expect("token")
            .secret;
        let before = directory.asked();
        // Claire leaves, Paul is disabled there, Léa marries.
        directory.remove("c.durand");
        directory.disable("p.martin");
        directory.add(
            "l.bernard",
            SECRET,
            "Léa Bernard-Petit",
            "lea@metropole.example",
        );
        let report = app.sync_directory().await.expect("sync");
        assert_eq!(
            report,
            DirectorySync {
                checked: 3,
                disabled: 2,
                updated: 1,
                ..DirectorySync::default()
            }
        );
        // One question for the three (the local administrator never asked).
        assert_eq!(directory.asked(), before + 1);
        // Their sessions, tokens and WebDAV checks end at once.
        assert!(app.authenticate_session(&sessions[0].token).await.is_err());
        assert!(app.authenticate_session(&sessions[1].token).await.is_err());
        assert!(app.authenticate_token(&token).await.is_err());
        assert!(
            app.authenticate_basic("c.durand", SECRET, None)
                .await
                .is_err()
        );
        app.authenticate_session(&sessions[2].token)
            .await
            .expect("Léa stays");
        let lea = app
            .principal_by_login(&admin, "l.bernard")
            .await
            .expect("lea");
        assert_eq!(lea.display_name, "Léa Bernard-Petit");
        assert_eq!(lea.email, "lea@metropole.example");
        let log = actions(&app).await;
        assert_eq!(
            log.iter()
                .filter(|a| *a == "principal.directory_disable")
                .count(),
            2
        );
        // Coming back to the directory does not reopen the account: an
        // administrator does, after checking why.
        directory.add("c.durand", SECRET, "Claire Durand", "");
        assert_eq!(app.sync_directory().await.expect("sync").disabled, 0);
        assert!(app.login("c.durand", SECRET, None).await.is_err());
        app.set_disabled(&admin, "c.durand", false)
            .await
            .expect("enable");
        app.login("c.durand", SECRET, None).await.expect("back");
    });
}

#[test]
fn a_silent_directory_changes_nothing_and_a_node_without_one_syncs_nothing() {
    block_on(async {
        let (app, directory) = with_directory();
        app.login("c.durand", SECRET, None).await.expect("login");
        directory.remove("c.durand");
        directory.set_down(true);
        assert!(matches!(
            app.sync_directory().await,
            Err(CoreError::Unavailable(_))
        ));
        directory.set_down(false);
        directory.add("c.durand", SECRET, "Claire Durand", "");
        app.login("c.durand", SECRET, None)
            .await
            .expect("still enabled");
        let (plain, _) = app_without_directory();
        assert_eq!(
            plain.sync_directory().await.expect("sync"),
            DirectorySync::default()
        );
    });
}

fn app_without_directory() -> (InternalApp, ()) {
    (app().0, ())
}
