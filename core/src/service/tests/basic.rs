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
