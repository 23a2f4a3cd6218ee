//! HTTP Basic credentials (WebDAV clients): the same answers as the login
//! page, throttled and audited, and a remembered check that ends as soon as
//! the password changes or the account is disabled.

use super::*;

const PASSWORD: &str = "correct horse battery";

#[test]
fn basic_credentials_resolve_the_account_and_failures_look_alike() {
    block_on(async {
        let (app, _) = app();
        let alice = agent(&app, "alice", false).await;
        let got = app
            .authenticate_basic("Alice", PASSWORD, Some("192.0.2.1"))
            .await
            .expect("right password");
        assert_eq!(got.id(), alice.id());
        for (login, secret) in [
            ("alice", "wrong password!"),
            ("alice", ""),
            ("nobody", PASSWORD),
            ("../alice", PASSWORD),
        ] {
            assert!(
                matches!(
                    app.authenticate_basic(login, secret, None).await,
                    Err(CoreError::Unauthenticated)
                ),
                "{login:?} / {secret:?}"
            );
        }
        let log = app
            .global_audit(&Actor::System, Page::default())
            .await
            .expect("audit");
        let failed: Vec<_> = log
            .items
            .iter()
            .filter(|e| e.action == "login.failed")
            .collect();
        assert_eq!(failed.len(), 4);
        assert!(failed.iter().all(|e| e.detail["via"] == "basic"));
    });
}

#[test]
fn basic_failures_are_throttled_like_logins_even_with_the_right_password() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        for _ in 0..5 {
            let _ = app
                .authenticate_basic("alice", "wrong password!", None)
                .await;
        }
        assert!(matches!(
            app.authenticate_basic("alice", PASSWORD, None).await,
            Err(CoreError::Throttled { .. })
        ));
        // The login page shares the counters.
        assert!(matches!(
            app.login("alice", PASSWORD, None).await,
            Err(CoreError::Throttled { .. })
        ));
    });
}

#[test]
fn a_remembered_check_ends_when_the_password_changes_or_the_account_is_disabled() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        agent(&app, "bob", false).await;
        app.authenticate_basic("alice", PASSWORD, None)
            .await
            .expect("first check");
        app.set_password(&Actor::System, "alice", "another long passphrase")
            .await
            .expect("new password");
        assert!(matches!(
            app.authenticate_basic("alice", PASSWORD, None).await,
            Err(CoreError::Unauthenticated)
        ));
        app.authenticate_basic("alice", "another long passphrase", None)
            .await
            .expect("new password works");

        app.authenticate_basic("bob", PASSWORD, None)
            .await
            .expect("bob");
        app.set_disabled(&Actor::System, "bob", true)
            .await
            .expect("disable");
        assert!(matches!(
            app.authenticate_basic("bob", PASSWORD, None).await,
            Err(CoreError::Unauthenticated)
        ));
    });
}

#[test]
fn an_app_password_opens_basic_with_its_owners_login_only_until_revoked() {
    block_on(async {
        let (app, _) = app();
        let alice = agent(&app, "alice", false).await;
        let bob = agent(&app, "bob", false).await;
        let issued = app
            .create_app_password(&alice, "LibreOffice, poste 12")
            .await
            .expect("app password");
        assert!(
            issued
                .secret
                .starts_with(crate::service::APP_PASSWORD_PREFIX)
        );
        let got = app
            .authenticate_basic("alice", &issued.secret, None)
            .await
            .expect("app password opens basic");
        assert_eq!(got.id(), alice.id());
        // Someone else's login with it, or it as a bearer token: refused.
        assert!(matches!(
            app.authenticate_basic("bob", &issued.secret, None).await,
            Err(CoreError::Unauthenticated)
        ));
        assert!(matches!(
            app.authenticate_token(&issued.secret).await,
            Err(CoreError::Unauthenticated)
        ));
        // …and an API token is no app password.
        let api = app
            .create_token(&alice, "alice", "erp", None)
            .await
            .expect("token");
        assert!(matches!(
            app.authenticate_basic("alice", &api.secret, None).await,
            Err(CoreError::Unauthenticated)
        ));
        // Lists: each kind apart, one's own only.
        let listed = app.list_app_passwords(&alice).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "LibreOffice, poste 12");
        assert!(app.list_app_passwords(&bob).await.expect("list").is_empty());
        assert!(
            app.list_tokens(&alice)
                .await
                .expect("tokens")
                .iter()
                .all(|t| t.id != issued.token.id)
        );
        // Bob cannot revoke it (and cannot tell it exists); revoking an API
        // token's id as an app password finds nothing.
        assert!(matches!(
            app.revoke_app_password(&bob, issued.token.id).await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            app.revoke_app_password(&alice, api.token.id).await,
            Err(CoreError::NotFound(_))
        ));
        app.revoke_app_password(&alice, issued.token.id)
            .await
            .expect("revoke");
        assert!(matches!(
            app.authenticate_basic("alice", &issued.secret, None).await,
            Err(CoreError::Unauthenticated)
        ));
        app.authenticate_token(&api.secret)
            .await
            .expect("the API token lives on");
    });
}

#[test]
fn app_password_names_are_checked_and_disabling_the_account_ends_them() {
    block_on(async {
        let (app, _) = app();
        let alice = agent(&app, "alice", false).await;
        for bad in ["", "   ", "a\u{0}b", &"x".repeat(101)] {
            assert!(matches!(
                app.create_app_password(&alice, bad).await,
                Err(CoreError::Invalid { .. })
            ));
        }
        assert!(matches!(
            app.create_app_password(&Actor::System, "cli").await,
            Err(CoreError::Forbidden(_))
        ));
        let issued = app
            .create_app_password(&alice, "rclone")
            .await
            .expect("app password");
        app.set_disabled(&Actor::System, "alice", true)
            .await
            .expect("disable");
        assert!(matches!(
            app.authenticate_basic("alice", &issued.secret, None).await,
            Err(CoreError::Unauthenticated)
        ));
    });
}
