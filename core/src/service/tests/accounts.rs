//! Accounts: login failures, sessions, disabled accounts, password policy,
//! who may create accounts and types, and each user's language; apart from
//! the tests of documents and spaces.

use super::*;

#[test]
fn login_failures_look_alike_are_audited_and_throttled() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        for _ in 0..5 {
            assert!(matches!(
                app.login("alice", "wrong password!", Some("192.0.2.1"))
                    .await,
                Err(CoreError::Unauthenticated)
            ));
        }
        assert!(matches!(
            app.login("alice", "correct horse battery", None).await,
            Err(CoreError::Throttled { .. })
        ));
        assert!(matches!(
            app.login("nobody", "whatever", None).await,
            Err(CoreError::Unauthenticated)
        ));
        let log = app
            .global_audit(&Actor::System, Page::default())
            .await
            .expect("audit");
        assert_eq!(
            log.items
                .iter()
                .filter(|e| e.action == "login.failed")
                .count(),
            6
        );
    });
}

#[test]
fn sessions_rotate_at_login_and_end_at_logout() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        let a = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        let b = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        assert_ne!(a.token, b.token);
        app.authenticate_session(&a.token).await.expect("valid");
        app.logout(&a.token).await.expect("logout");
        assert!(matches!(
            app.authenticate_session(&a.token).await,
            Err(CoreError::Unauthenticated)
        ));
        app.authenticate_session(&b.token)
            .await
            .expect("other session lives");
    });
}

#[test]
fn disabling_an_account_ends_its_sessions_and_tokens() {
    block_on(async {
        let (app, _) = app();
        agent(&app, "alice", false).await;
        let s = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        let t = app
            .create_token(&Actor::System, "alice", "erp", None)
            .await
            .expect("token");
        app.authenticate_token(&t.secret)
            .await
            .expect("token works");
        app.set_disabled(&Actor::System, "alice", true)
            .await
            .expect("disable");
        assert!(app.authenticate_session(&s.token).await.is_err());
        assert!(app.authenticate_token(&t.secret).await.is_err());
    });
}

#[test]
fn weak_passwords_are_refused() {
    block_on(async {
        let (app, _) = app();
        let err = app
            .create_agent(
                &Actor::System,
                NewAgent {
                    login: "bob".into(),
                    display_name: "Bob".into(),
                    email: String::new(),
                    is_admin: false,
                    password: Some("short".into()),
                },
            )
            .await
            .expect_err("weak");
        assert!(matches!(
            err,
            CoreError::Invalid {
                code: "weak_password",
                ..
            }
        ));
    });
}

#[test]
fn non_admins_cannot_create_accounts_or_types() {
    block_on(async {
        let (app, _) = app();
        let bob = agent(&app, "bob", false).await;
        let err = app
            .create_agent(
                &bob,
                NewAgent {
                    login: "x".into(),
                    display_name: "X".into(),
                    email: String::new(),
                    is_admin: true,
                    password: None,
                },
            )
            .await
            .expect_err("not admin");
        assert!(matches!(err, CoreError::Forbidden(_)));
        let t = crate::doctype::default_catalogue().remove(0);
        assert!(matches!(
            app.save_document_type(&bob, t).await,
            Err(CoreError::Forbidden(_))
        ));
    });
}
#[test]
fn a_display_name_is_changed_by_its_owner_or_an_admin_and_must_be_one() {
    block_on(async {
        let (app, _) = app();
        let admin = agent(&app, "root", true).await;
        let bob = agent(&app, "bob", false).await;
        agent(&app, "carol", false).await;
        let renamed = app
            .rename_principal(&bob, "bob", "  Bob Martin ")
            .await
            .expect("own name");
        assert_eq!(renamed.display_name, "Bob Martin");
        let before = renamed.revision;
        let renamed = app
            .rename_principal(&admin, "bob", "Robert Martin")
            .await
            .expect("admin");
        assert!(renamed.revision > before, "a new revision to replicate");
        assert!(matches!(
            app.rename_principal(&bob, "carol", "Caroline").await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            app.rename_principal(&admin, "nobody", "Personne").await,
            Err(CoreError::NotFound(_))
        ));
        for bad in ["", "   ", "Bob\nMartin", &"x".repeat(201)] {
            assert!(
                matches!(
                    app.rename_principal(&bob, "bob", bad).await,
                    Err(CoreError::Invalid {
                        code: "invalid_display_name",
                        ..
                    })
                ),
                "{bad:?} accepted"
            );
        }
        let bob_now = app
            .principal_by_login(&Actor::System, "bob")
            .await
            .expect("read");
        assert_eq!(bob_now.display_name, "Robert Martin");
    });
}

#[test]
fn a_user_sets_only_their_own_language_and_the_session_carries_it() {
    block_on(async {
        use crate::model::Language;
        let (app, _) = app();
        let alice = agent(&app, "alice", false).await;
        let root = agent(&app, "root", true).await;
        let alice_id = alice.id().expect("a principal");
        let session = app
            .login("alice", "correct horse battery", None)
            .await
            .expect("login");
        assert_eq!(
            app.authenticate_session(&session.token)
                .await
                .expect("session")
                .language,
            None
        );
        app.set_preferred_language(&alice, alice_id, Some(Language::En))
            .await
            .expect("her own");
        assert_eq!(
            app.preferred_language(&alice, alice_id)
                .await
                .expect("read"),
            Some(Language::En)
        );
        assert_eq!(
            app.authenticate_session(&session.token)
                .await
                .expect("session")
                .language,
            Some(Language::En)
        );
        // Nobody else, administrators included, and the attempt is audited.
        assert!(matches!(
            app.set_preferred_language(&root, alice_id, Some(Language::Fr))
                .await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            app.preferred_language(&root, alice_id).await,
            Err(CoreError::Forbidden(_))
        ));
        let log = app
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        assert!(log.items.iter().any(|e| e.action == "access.denied"
            && e.target.as_deref() == Some(alice_id.to_string().as_str())));
        assert!(log.items.iter().any(|e| e.action == "principal.language"));
        assert_eq!(
            app.preferred_language(&alice, alice_id)
                .await
                .expect("read"),
            Some(Language::En)
        );
        app.set_preferred_language(&alice, alice_id, None)
            .await
            .expect("cleared");
        assert_eq!(
            app.preferred_language(&alice, alice_id)
                .await
                .expect("read"),
            None
        );
    });
}
