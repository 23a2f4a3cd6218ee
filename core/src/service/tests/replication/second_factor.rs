//! The second factor on an edge that requires it (ADR 0012): a contractor
//! enrols at their first login, then gives a code at every login, never
//! the same one twice; recovery codes work once each; wrong codes are
//! throttled; the password alone opens nothing, not even over HTTP Basic;
//! a manager's reset on the internal node reaches the edge, ends the
//! sessions and asks for a new enrolment.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::fakes::FakeClock;
use crate::ports::Clock;
use crate::second_factor::{SecondFactorPolicy, code_at};
use crate::service::LoginStep;

const PASSWORD: &str = "un mot de passe sûr";
const JEAN: &str = "jean@btp-rhone.fr";

/// An edge requiring a second factor of contractors, by `clock`.
fn strict_edge(clock: Arc<FakeClock>) -> Edge {
    let blobs = Arc::new(MemBlobStore::new());
    let app = EdgeApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        clock,
        Arc::new(FastPasswords),
        CoreSettings {
            second_factor: SecondFactorPolicy::Required,
            ..settings(&[])
        },
    );
    NodeUnderTest { app, blobs }
}

/// A contractor invited, who accepted on a strict edge (not logged in).
async fn accepted(clock: Arc<FakeClock>) -> Invited {
    let w = invited_between(internal_node(), strict_edge(clock)).await;
    w.edge
        .app
        .accept_invitation(&w.invited.secret, PASSWORD)
        .await
        .expect("accept");
    assert_eq!(
        up_outcomes(&w.internal, &w.edge).await,
        [OpOutcome::Applied]
    );
    down(&w.internal, &w.edge, w.space).await;
    w
}

fn challenge(step: LoginStep) -> (String, &'static str) {
    match step {
        LoginStep::Session(_) => panic!("a session without a second factor"),
        LoginStep::Code { challenge } => (challenge, "code"),
        LoginStep::Enrol { challenge } => (challenge, "enrol"),
    }
}

fn secret_bytes(text: &str) -> Vec<u8> {
    totp_rs::Secret::try_from_base32(text.replace(' ', ""))
        .expect("base32")
        .as_bytes()
        .to_vec()
}

fn start() -> OffsetDateTime {
    // On a step boundary, so that "the next step" is exactly 30 s on, and
    // after the internal node's own clock made the invitation.
    let now = OffsetDateTime::now_utc().unix_timestamp() + 60;
    OffsetDateTime::from_unix_timestamp(now - now % 30).expect("time")
}

#[test]
fn a_contractor_enrols_then_gives_a_code_at_every_login_never_the_same_twice() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let w = accepted(clock.clone()).await;
        let edge = &w.edge.app;
        // The password alone: no session, through any door.
        let refused = edge.login(JEAN, PASSWORD, None).await;
        assert!(
            matches!(
                refused,
                Err(CoreError::Conflict {
                    code: "second_factor_required",
                    ..
                })
            ),
            "{refused:?}"
        );
        assert!(edge.authenticate_basic(JEAN, PASSWORD, None).await.is_err());
        let (enrol, kind) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        assert_eq!(kind, "enrol");
        // An enrolment challenge is no code challenge.
        assert!(edge.complete_login(&enrol, "123456", None).await.is_err());
        let shown = edge.enrolment(&enrol).await.expect("enrolment");
        assert_eq!(
            edge.enrolment(&enrol).await.expect("again").secret,
            shown.secret
        );
        assert!(
            shown
                .uri
                .starts_with("otpauth://totp/Passerelle:jean@btp-rhone.fr?secret=")
        );
        let secret = secret_bytes(&shown.secret);
        let right = code_at(&secret, clock.now());
        let wrong = if right == "000000" {
            "000001"
        } else {
            "000000"
        };
        assert!(matches!(
            edge.confirm_enrolment(&enrol, wrong, None).await,
            Err(CoreError::Unauthenticated)
        ));
        let enrolled = edge
            .confirm_enrolment(&enrol, &code_at(&secret, clock.now()), None)
            .await
            .expect("confirmed");
        assert_eq!(enrolled.recovery_codes.len(), 10);
        edge.authenticate_session(&enrolled.session.token)
            .await
            .expect("logged in");

        // The next login, in the same 30 seconds: that code was used.
        let (c, kind) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        assert_eq!(kind, "code");
        let same = code_at(&secret, clock.now());
        assert!(matches!(
            edge.complete_login(&c, &same, None).await,
            Err(CoreError::Unauthenticated)
        ));
        clock.advance(Duration::seconds(30));
        let next = code_at(&secret, clock.now());
        let session = edge.complete_login(&c, &next, None).await.expect("code");
        edge.authenticate_session(&session.token).await.expect("in");
        // A challenge serves once.
        assert!(edge.complete_login(&c, &next, None).await.is_err());

        // A recovery code, once.
        let recovery = &enrolled.recovery_codes[3];
        let (c, _) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        edge.complete_login(&c, &recovery.to_uppercase(), None)
            .await
            .expect("recovery code");
        let (c, _) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        assert!(edge.complete_login(&c, recovery, None).await.is_err());

        // Still no Basic with the password; an app password works.
        assert!(edge.authenticate_basic(JEAN, PASSWORD, None).await.is_err());
        let me = Actor::Principal(session.principal.clone());
        let app = edge
            .create_app_password(&me, "LibreOffice")
            .await
            .expect("app password");
        edge.authenticate_basic(JEAN, &app.secret, None)
            .await
            .expect("app password over Basic");
    });
}

#[test]
fn wrong_codes_drop_the_challenge_then_throttle_the_login() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let w = accepted(clock.clone()).await;
        let edge = &w.edge.app;
        let (enrol, _) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        let secret = secret_bytes(&edge.enrolment(&enrol).await.expect("enrolment").secret);
        edge.confirm_enrolment(&enrol, &code_at(&secret, clock.now()), None)
            .await
            .expect("confirmed");
        clock.advance(Duration::seconds(30));
        let wrong = if code_at(&secret, clock.now()) == "111111" {
            "222222"
        } else {
            "111111"
        };
        let (c, _) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        for _ in 0..5 {
            assert!(matches!(
                edge.complete_login(&c, wrong, None).await,
                Err(CoreError::Unauthenticated)
            ));
        }
        // The fifth wrong code dropped the challenge: even the right code
        // needs the password again, and the login is now throttled.
        let right = code_at(&secret, clock.now());
        let after = edge.complete_login(&c, &right, None).await;
        assert!(
            matches!(
                after,
                Err(CoreError::Conflict {
                    code: "challenge_expired",
                    ..
                })
            ),
            "{after:?}"
        );
        assert!(matches!(
            edge.begin_login(JEAN, PASSWORD, None).await,
            Err(CoreError::Throttled { .. })
        ));
        let audit = edge
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        let failed = audit
            .items
            .iter()
            .filter(|e| e.action == "login.failed" && e.detail["second_factor"] == true)
            .count();
        assert_eq!(failed, 5);
    });
}

#[test]
fn a_manager_s_reset_reaches_the_edge_ends_the_sessions_and_asks_for_a_new_enrolment() {
    block_on(async {
        let clock = Arc::new(FakeClock::new(start()));
        let w = accepted(clock.clone()).await;
        let edge = &w.edge.app;
        let (enrol, _) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        let first = edge.enrolment(&enrol).await.expect("enrolment").secret;
        let enrolled = edge
            .confirm_enrolment(&enrol, &code_at(&secret_bytes(&first), clock.now()), None)
            .await
            .expect("confirmed");
        let jean = enrolled.session.principal.id;
        let internal = &w.internal.app;
        // Only a manager of a space the contractor is in; an agent is no
        // contractor to reset.
        let paul = agent(internal, "paul").await;
        internal
            .set_member(&w.manager, w.space, "paul", Role::Reader)
            .await
            .expect("reader");
        assert!(matches!(
            internal.reset_second_factor(&paul, w.space, jean).await,
            Err(CoreError::Forbidden(_))
        ));
        let stranger = agent(internal, "luc").await;
        assert!(matches!(
            internal.reset_second_factor(&stranger, w.space, jean).await,
            Err(CoreError::NotFound(_))
        ));
        let paul_id = paul.id().expect("paul");
        assert!(matches!(
            internal
                .reset_second_factor(&w.manager, w.space, paul_id)
                .await,
            Err(CoreError::NotFound(_))
        ));
        internal
            .reset_second_factor(&w.manager, w.space, jean)
            .await
            .expect("reset");
        down(&w.internal, &w.edge, w.space).await;
        assert!(
            edge.authenticate_session(&enrolled.session.token)
                .await
                .is_err(),
            "the sessions the old factor let in end"
        );
        let (again, kind) = challenge(edge.begin_login(JEAN, PASSWORD, None).await.expect("step"));
        assert_eq!(kind, "enrol");
        let second = edge.enrolment(&again).await.expect("enrolment").secret;
        assert_ne!(second, first, "a new secret");
        let audit = internal
            .global_audit(&Actor::System, Page::new(0, 500))
            .await
            .expect("audit");
        assert!(
            audit
                .items
                .iter()
                .any(|e| e.action == "contractor.second_factor_reset")
        );
    });
}
