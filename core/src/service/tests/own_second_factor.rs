//! An agent's own second factor on the internal node (ADR 0012 §7): a
//! local account enrols from its account page, then every login asks a
//! code (never the same twice); turning it off takes a proof; a directory
//! account is refused, the directory being its authority.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::*;
use crate::fakes::{FakeClock, MemDirectory};
use crate::ports::Clock;
use crate::second_factor::{SecondFactorPolicy, code_at};
use crate::service::{LoginStep, Proof};

const PASSWORD: &str = "correct horse battery";

/// An internal node offering the optional second factor, by `clock`.
fn optional(clock: Arc<FakeClock>) -> InternalApp {
    InternalApp::new(
        Arc::new(MemRepository::new()),
        Arc::new(MemBlobStore::new()),
        clock,
        Arc::new(FastPasswords),
        CoreSettings {
            second_factor: SecondFactorPolicy::Optional,
            ..CoreSettings::default()
        },
    )
}

fn start() -> OffsetDateTime {
    // On a step boundary: "the next step" is exactly 30 s on.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    OffsetDateTime::from_unix_timestamp(now - now % 30).expect("time")
}

fn secret_bytes(text: &str) -> Vec<u8> {
    totp_rs::Secret::try_from_base32(text.replace(' ', ""))
        .expect("base32")
        .as_bytes()
        .to_vec()
}

/// `marie` enrolled at `clock`'s time: her secret and recovery codes.
async fn enrolled(app: &InternalApp, marie: &Actor, clock: &FakeClock) -> (Vec<u8>, Vec<String>) {
    let shown = app.start_second_factor(marie).await.expect("start");
    assert_eq!(
        app.start_second_factor(marie).await.expect("again").secret,
        shown.secret,
        "the same secret until confirmed"
    );
    assert!(
        shown
            .uri
            .starts_with("otpauth://totp/Passerelle:marie?secret=")
    );
    let secret = secret_bytes(&shown.secret);
    let codes = app
        .confirm_second_factor(marie, &code_at(&secret, clock.now()), None)
        .await
        .expect("confirmed");
    (secret, codes)
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

fn code_challenge(step: LoginStep) -> String {
    match step {
        LoginStep::Code { challenge } => challenge,
        other => panic!("a code was expected, not {other:?}"),
    }
}

#[test]
fn an_agent_enrols_from_their_account_and_then_every_login_asks_a_code_never_the_same_twice() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let app = optional(clock.clone());
        let marie = agent(&app, "marie", false).await;
        // Not enrolled: the password alone opens a session.
        assert!(app.login("marie", PASSWORD, None).await.is_ok());
        let state = app.own_second_factor(&marie).await.expect("state");
        assert!(!state.enrolled && state.refused.is_none());
        // Started but not confirmed: logins do not ask for it yet.
        app.start_second_factor(&marie).await.expect("start");
        assert!(app.login("marie", PASSWORD, None).await.is_ok());
        let secret = secret_bytes(&app.start_second_factor(&marie).await.expect("s").secret);
        let wrong = if code_at(&secret, clock.now()) == "000000" {
            "000001"
        } else {
            "000000"
        };
        let refused = app.confirm_second_factor(&marie, wrong, None).await;
        assert!(
            matches!(
                refused,
                Err(CoreError::Invalid {
                    code: "wrong_code",
                    ..
                })
            ),
            "{refused:?}"
        );
        let codes = app
            .confirm_second_factor(&marie, &code_at(&secret, clock.now()), None)
            .await
            .expect("confirmed");
        assert_eq!(codes.len(), 10);
        let state = app.own_second_factor(&marie).await.expect("state");
        assert!(state.enrolled);
        assert_eq!(state.recovery_left, 10);
        assert!(
            actions(&app)
                .await
                .contains(&"second_factor.enrol".to_owned())
        );
        // Enrolled once is enough: another enrolment needs it off first.
        assert!(matches!(
            app.start_second_factor(&marie).await,
            Err(CoreError::Conflict {
                code: "second_factor_enrolled",
                ..
            })
        ));

        // The password alone opens nothing now.
        assert!(matches!(
            app.login("marie", PASSWORD, None).await,
            Err(CoreError::Conflict {
                code: "second_factor_required",
                ..
            })
        ));
        let c = code_challenge(
            app.begin_login("marie", PASSWORD, None)
                .await
                .expect("step"),
        );
        // The code that confirmed the enrolment is spent: replay refused.
        let same = code_at(&secret, clock.now());
        assert!(matches!(
            app.complete_login(&c, &same, None).await,
            Err(CoreError::Unauthenticated)
        ));
        clock.advance(Duration::seconds(30));
        let next = code_at(&secret, clock.now());
        let session = app.complete_login(&c, &next, None).await.expect("code");
        app.authenticate_session(&session.token).await.expect("in");
        // The same code again on a new challenge: replayed, refused.
        let c = code_challenge(
            app.begin_login("marie", PASSWORD, None)
                .await
                .expect("step"),
        );
        assert!(matches!(
            app.complete_login(&c, &next, None).await,
            Err(CoreError::Unauthenticated)
        ));
        // A recovery code works once.
        let session = app.complete_login(&c, &codes[0], None).await.expect("rec");
        app.authenticate_session(&session.token).await.expect("in");
        let state = app.own_second_factor(&marie).await.expect("state");
        assert_eq!(state.recovery_left, 9);
    });
}

#[test]
fn turning_the_second_factor_off_needs_a_code_or_the_password() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let app = optional(clock.clone());
        let marie = agent(&app, "marie", false).await;
        let (secret, _) = enrolled(&app, &marie, &clock).await;
        // No proof, a wrong password, a spent code: refused and audited.
        for proof in [
            Proof::Password(String::new()),
            Proof::Password("not her password".into()),
            Proof::Code(code_at(&secret, clock.now())),
            Proof::Code("12345".into()),
        ] {
            let refused = app.disable_second_factor(&marie, proof, None).await;
            assert!(
                matches!(
                    refused,
                    Err(CoreError::Invalid {
                        code: "wrong_proof",
                        ..
                    })
                ),
                "{refused:?}"
            );
        }
        assert!(app.own_second_factor(&marie).await.expect("s").enrolled);
        assert!(
            actions(&app)
                .await
                .contains(&"second_factor.disable_refused".to_owned())
        );
        // A current code of the app turns it off.
        clock.advance(Duration::seconds(30));
        app.disable_second_factor(&marie, Proof::Code(code_at(&secret, clock.now())), None)
            .await
            .expect("off");
        assert!(!app.own_second_factor(&marie).await.expect("s").enrolled);
        assert!(
            actions(&app)
                .await
                .contains(&"second_factor.disable".to_owned())
        );
        assert!(app.login("marie", PASSWORD, None).await.is_ok());
        // Nothing left to turn off.
        assert!(matches!(
            app.disable_second_factor(&marie, Proof::Password(PASSWORD.into()), None)
                .await,
            Err(CoreError::Conflict {
                code: "no_second_factor",
                ..
            })
        ));
        // Enrolled again (a new secret), then off by the password.
        clock.advance(Duration::seconds(30));
        let (again, _) = enrolled(&app, &marie, &clock).await;
        assert_ne!(again, secret);
        app.disable_second_factor(&marie, Proof::Password(PASSWORD.into()), None)
            .await
            .expect("off by password");
        assert!(app.login("marie", PASSWORD, None).await.is_ok());
    });
}

#[test]
fn wrong_proofs_are_throttled_like_wrong_passwords() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let app = optional(clock.clone());
        let marie = agent(&app, "marie", false).await;
        enrolled(&app, &marie, &clock).await;
        let mut throttled = false;
        for _ in 0..30 {
            match app
                .disable_second_factor(&marie, Proof::Password("guess".into()), None)
                .await
            {
                Err(CoreError::Throttled { .. }) => {
                    throttled = true;
                    break;
                }
                Err(CoreError::Invalid { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        assert!(throttled, "guessing is throttled");
        assert!(app.own_second_factor(&marie).await.expect("s").enrolled);
    });
}

#[test]
fn a_directory_account_is_refused_the_directory_being_its_authority() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let directory = Arc::new(MemDirectory::new());
        directory.add("c.durand", "Secret-2026 du domaine", "Claire Durand", "");
        let app = optional(clock).with_directory(directory);
        let claire = app
            .login("c.durand", "Secret-2026 du domaine", None)
            .await
            .expect("login")
            .principal;
        let claire = Actor::Principal(claire);
        let refused = app.start_second_factor(&claire).await;
        assert!(
            matches!(
                refused,
                Err(CoreError::Conflict {
                    code: "directory_account",
                    ..
                })
            ),
            "{refused:?}"
        );
        assert!(
            app.confirm_second_factor(&claire, "123456", None)
                .await
                .is_err()
        );
        let state = app.own_second_factor(&claire).await.expect("state");
        assert_eq!(state.refused, Some("directory_account"));
        assert!(!state.enrolled);
    });
}

#[test]
fn a_node_whose_policy_is_off_offers_no_enrolment() {
    block_on(async {
        let (app, _) = app();
        let marie = agent(&app, "marie", false).await;
        assert!(matches!(
            app.start_second_factor(&marie).await,
            Err(CoreError::Conflict {
                code: "second_factor_off",
                ..
            })
        ));
        assert!(matches!(
            app.start_second_factor(&Actor::System).await,
            Err(CoreError::Forbidden(_))
        ));
    });
}
