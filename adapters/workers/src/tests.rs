//! The registry runs periodic jobs on time and records their health; a
//! failing or panicking run is recorded and retried; stopping waits for
//! runs under way; the session sweeper deletes expired sessions.

use std::sync::atomic::{AtomicU32, Ordering};

use passerelle_core::fakes::{FakeClock, FastPasswords, MemBlobStore, MemRepository};
use passerelle_core::locks::{LockDepth, LockRequest, LockScope};
use passerelle_core::model::{Resource, Visibility};
use passerelle_core::service::{NewAgent, NewSpace};
use passerelle_core::{Actor, CoreSettings, InternalApp};
use time::OffsetDateTime;

use super::*;

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::new(
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
    ))
}

/// Lets the spawned workers run until they wait again (time is paused:
/// nothing moves unless the test advances it).
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn state(board: &Board, name: &str) -> WorkerStatus {
    board.status(name).expect("registered")
}

#[tokio::test(start_paused = true)]
async fn a_periodic_job_runs_at_start_then_every_period_and_says_what_it_did() {
    let clock = clock();
    let workers = Workers::new(clock.clone(), CancellationToken::new());
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    workers.every("count", Duration::from_secs(60), move || {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Ok::<_, String>(format!("run {n}")) }
    });
    let board = workers.board();
    settle().await;
    let s = state(&board, "count");
    assert_eq!(
        (s.state, s.runs, s.detail.as_str()),
        (WorkerState::Idle, 1, "run 1")
    );
    assert_eq!(s.last_run, Some(clock.now()));
    assert_eq!(s.next_wake, Some(clock.now() + Duration::from_secs(60)));

    tokio::time::advance(Duration::from_secs(59)).await;
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "not before its period");
    tokio::time::advance(Duration::from_secs(1)).await;
    settle().await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(state(&board, "count").detail, "run 2");
    workers.stop().await;
    assert_eq!(state(&board, "count").state, WorkerState::Stopped);
}

#[tokio::test(start_paused = true)]
async fn a_failing_then_panicking_run_is_recorded_and_the_job_runs_again() {
    let workers = Workers::new(clock(), CancellationToken::new());
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    workers.every("flaky", Duration::from_secs(10), move || {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            match n {
                0 => Err("disk full".to_owned()),
                1 => panic!("a bug"),
                _ => Ok("fine".to_owned()),
            }
        }
    });
    let board = workers.board();
    settle().await;
    let s = state(&board, "flaky");
    assert_eq!(s.state, WorkerState::Failing);
    assert!(!s.is_healthy());
    assert_eq!(s.last_error.as_deref(), Some("disk full"));

    tokio::time::advance(Duration::from_secs(10)).await;
    settle().await;
    let s = state(&board, "flaky");
    assert_eq!(s.state, WorkerState::Failing, "{s:?}");
    assert_eq!(s.last_error.as_deref(), Some("the run panicked"));

    tokio::time::advance(Duration::from_secs(10)).await;
    settle().await;
    let s = state(&board, "flaky");
    assert_eq!((s.state, s.runs), (WorkerState::Idle, 3));
    assert!(s.is_healthy());
    assert_eq!(
        s.last_error.as_deref(),
        Some("the run panicked"),
        "the last failure stays visible"
    );
    workers.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stopping_lets_a_run_under_way_finish_and_stops_long_running_workers() {
    let cancel = CancellationToken::new();
    let workers = Workers::new(clock(), cancel.clone());
    let finished = Arc::new(AtomicU32::new(0));
    let done = finished.clone();
    workers.every("slow", Duration::from_secs(60), move || {
        let done = done.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            done.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(String::new())
        }
    });
    workers.spawn("link", |report, cancel| async move {
        report.ok("connected");
        cancel.cancelled().await;
    });
    let board = workers.board();
    settle().await;
    assert_eq!(state(&board, "slow").state, WorkerState::Running);
    assert_eq!(state(&board, "link").detail, "connected");
    workers.stop().await;
    assert!(cancel.is_cancelled(), "the node's token");
    assert_eq!(finished.load(Ordering::SeqCst), 1, "the run finished");
    for s in board.statuses() {
        assert_eq!(s.state, WorkerState::Stopped, "{s:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_long_running_worker_reports_its_failures_and_its_panic() {
    let workers = Workers::new(clock(), CancellationToken::new());
    workers.spawn("link", |report, _| async move {
        report.failed("edge refused: disk full");
        panic!("a bug in the loop");
    });
    let board = workers.board();
    settle().await;
    let s = state(&board, "link");
    assert_eq!(s.state, WorkerState::Stopped);
    assert_eq!(s.last_error.as_deref(), Some("the worker panicked"));
    assert!(!s.is_healthy());
    workers.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_session_sweeper_deletes_expired_sessions() {
    let clock = clock();
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        Arc::new(MemBlobStore::new()),
        clock.clone(),
        Arc::new(FastPasswords),
        CoreSettings::default(),
    );
    app.create_agent(
        &Actor::System,
        NewAgent {
            login: "marie".into(),
            display_name: "Marie".into(),
            email: "marie@example.fr".into(),
            is_admin: false,
            password: Some("un mot de passe assez long".into()),
        },
    )
    .await
    .expect("agent");
    let session = app
        .login("marie", "un mot de passe assez long", None)
        .await
        .expect("login");
    let workers = Workers::new(clock.clone(), CancellationToken::new());
    jobs::sweep_sessions(&workers, &app, Duration::from_secs(300));
    let board = workers.board();
    settle().await;
    assert_eq!(
        state(&board, "sessions").detail,
        "0 expired session(s) deleted",
        "the session is still valid"
    );

    clock.set(session.expires_at + time::Duration::seconds(1));
    tokio::time::advance(Duration::from_secs(300)).await;
    settle().await;
    assert_eq!(
        state(&board, "sessions").detail,
        "1 expired session(s) deleted"
    );
    assert_eq!(
        app.sweep_sessions().await.expect("sweep"),
        0,
        "the worker had deleted it"
    );
    workers.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_lock_sweeper_deletes_expired_locks() {
    let clock = clock();
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        Arc::new(MemBlobStore::new()),
        clock.clone(),
        Arc::new(FastPasswords),
        CoreSettings::default(),
    );
    let marie = Actor::Principal(
        app.create_agent(
            &Actor::System,
            NewAgent {
                login: "marie".into(),
                display_name: "Marie".into(),
                email: "marie@example.fr".into(),
                is_admin: true,
                password: None,
            },
        )
        .await
        .expect("agent"),
    );
    let space = app
        .create_space(
            &marie,
            NewSpace {
                slug: "urba".into(),
                title: "Urbanisme".into(),
                description: String::new(),
                domain: "Urbanisme".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await
        .expect("space")
        .space
        .id;
    let locks = app.locks();
    let lock = locks
        .lock(
            &marie,
            Resource::Space(space),
            LockRequest {
                scope: LockScope::Exclusive,
                depth: LockDepth::Zero,
                timeout: Some(time::Duration::minutes(10)),
                owner_info: None,
            },
        )
        .await
        .expect("lock");
    let workers = Workers::new(clock.clone(), CancellationToken::new());
    jobs::sweep_locks(&workers, &locks, Duration::from_secs(300));
    let board = workers.board();
    settle().await;
    assert_eq!(state(&board, "locks").detail, "0 expired lock(s) deleted");
    clock.set(lock.expires_at);
    tokio::time::advance(Duration::from_secs(300)).await;
    settle().await;
    assert_eq!(state(&board, "locks").detail, "1 expired lock(s) deleted");
    workers.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_worker_waiting_for_an_unreachable_peer_is_listed_but_keeps_the_node_ready() {
    let cancel = CancellationToken::new();
    let workers = Workers::new(clock(), cancel.clone());
    workers.spawn("replication:edge-1", |report, cancel| async move {
        report.retrying("cannot reach the edge: connection refused");
        cancel.cancelled().await;
    });
    let board = workers.board();
    settle().await;
    let s = state(&board, "replication:edge-1");
    assert_eq!(s.state, WorkerState::Retrying);
    assert_eq!(
        s.last_error.as_deref(),
        Some("cannot reach the edge: connection refused")
    );
    assert!(s.is_healthy(), "the node serves its users meanwhile");
    workers.stop().await;
}

#[test]
fn a_state_name_is_its_serialised_form() {
    for s in WorkerState::ALL {
        let json = serde_json::to_value(s).expect("serialises");
        assert_eq!(json, serde_json::Value::from(s.as_str()));
    }
}
