//! The activity feed and notices (issue 18, ADR 0013) on the fakes, with
//! a fake clock: rights (a feed or a notice never tells of a space its
//! reader may not read, also after legal steps take that sight away),
//! grouping, immediate notices planned once, digests once per period,
//! delivery through a relay that goes down and comes back, refusals,
//! the rate limit, and the unsubscribe link.

use std::sync::Arc;

use futures::executor::block_on;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{content, space};
use crate::error::CoreError;
use crate::fakes::{FakeClock, FastPasswords, MemBlobStore, MemMailer, MemRepository};
use crate::ids::SpaceId;
use crate::model::Page;
use crate::notify::{EventKind, Followed, Frequency, NoticeState};
use crate::role::Role;
use crate::service::{
    Actor, CoreSettings, FeedAsk, FeedScope, InternalApp, NewAgent, NewDocument, NotifySettings,
};

/// Tuesday 2026-12-08, 10:00 UTC.
const START: OffsetDateTime = datetime!(2026-12-08 10:00 UTC);

struct World {
    app: InternalApp,
    clock: Arc<FakeClock>,
    mailer: Arc<MemMailer>,
}

fn world(max_per_hour: u32) -> World {
    let clock = Arc::new(FakeClock::new(START));
    let mailer = Arc::new(MemMailer::new());
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        Arc::new(MemBlobStore::new()),
        clock.clone(),
        Arc::new(FastPasswords),
        CoreSettings {
            notifications: NotifySettings {
                public_url: Some("https://ged.example.fr/".into()),
                max_per_hour,
                ..NotifySettings::default()
            },
            ..CoreSettings::default()
        },
    )
    .with_mailer(mailer.clone());
    World { app, clock, mailer }
}

async fn person(app: &InternalApp, login: &str) -> Actor {
    let p = app
        .create_agent(
            &Actor::System,
            NewAgent {
                login: login.into(),
                display_name: format!("{login} (nom)"),
                email: format!("{login}@example.fr"),
                is_admin: false,
                password: None,
            },
        )
        .await
        .expect("agent");
    Actor::Principal(p)
}

async fn member(app: &InternalApp, by: &Actor, s: SpaceId, who: &Actor, role: Role) {
    let Actor::Principal(p) = who else {
        panic!("a person")
    };
    app.set_member(by, s, p.login.as_str(), role)
        .await
        .expect("member");
}

async fn put(app: &InternalApp, by: &Actor, s: SpaceId, name: &str) -> crate::ids::DocumentId {
    app.upload(
        by,
        NewDocument {
            space: s,
            name: name.into(),
            ..NewDocument::default()
        },
        content(name),
    )
    .await
    .expect("upload")
    .document
    .id
}

fn mine() -> FeedAsk {
    FeedAsk {
        scope: FeedScope::Mine,
        kinds: Vec::new(),
        actor: None,
        before: None,
        limit: 50,
    }
}

fn id(a: &Actor) -> crate::ids::PrincipalId {
    a.id().expect("a person")
}

#[test]
fn a_feed_shows_the_readers_spaces_grouped_and_nothing_else() {
    block_on(async {
        let w = world(20);
        let n = w.app.notifications();
        let boss = person(&w.app, "boss").await;
        let reader = person(&w.app, "reader").await;
        let (s1, s2) = (
            space(&w.app, &boss, "s1").await,
            space(&w.app, &boss, "s2").await,
        );
        member(&w.app, &boss, s1, &reader, Role::Reader).await;
        for name in ["a.pdf", "b.pdf", "c.pdf"] {
            put(&w.app, &boss, s1, name).await;
        }
        put(&w.app, &boss, s2, "secret.pdf").await;

        let page = n.feed(&reader, &mine()).await.expect("feed");
        let uploads: Vec<_> = page
            .lines
            .iter()
            .filter(|l| l.kind == EventKind::Added)
            .collect();
        assert_eq!(uploads.len(), 1, "{:?}", page.lines);
        let names: Vec<&str> = uploads[0].items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["c.pdf", "b.pdf", "a.pdf"], "newest first, one line");
        assert_eq!(uploads[0].actor_name, "boss (nom)");
        assert!(uploads[0].items.iter().all(|i| i.document.is_some()));
        assert!(page.lines.iter().all(|l| l.space == s1), "nothing of s2");
        // s2 is "not found", as a space that does not exist.
        let ask = FeedAsk {
            scope: FeedScope::Space(s2),
            ..mine()
        };
        let err = n.feed(&reader, &ask).await.expect_err("invisible");
        assert!(matches!(err, CoreError::NotFound(_)), "{err:?}");
        let ask = FeedAsk {
            scope: FeedScope::Space(SpaceId::new()),
            ..mine()
        };
        let absent = n.feed(&reader, &ask).await.expect_err("absent");
        assert_eq!(format!("{err:?}"), format!("{absent:?}"));
        // The manager sees both; filtered by kind, only the uploads.
        let ask = FeedAsk {
            kinds: vec![EventKind::Added],
            ..mine()
        };
        let all = n.feed(&boss, &ask).await.expect("feed");
        assert_eq!(all.lines.len(), 2);
        assert!(all.lines.iter().all(|l| l.kind == EventKind::Added));
        // Paging: one line per page, then the next.
        let ask = FeedAsk { limit: 1, ..ask };
        let first = n.feed(&boss, &ask).await.expect("page 1");
        assert_eq!(first.lines.len(), 1);
        assert_eq!(first.lines[0].space, s2);
        let ask = FeedAsk {
            before: first.next_before,
            ..ask
        };
        let second = n.feed(&boss, &ask).await.expect("page 2");
        assert_eq!(second.lines.len(), 1);
        assert_eq!(second.lines[0].space, s1);
    });
}

#[test]
fn an_immediate_notice_is_planned_once_and_sent_once_to_whom_chose_it() {
    block_on(async {
        let w = world(20);
        let n = w.app.notifications();
        let boss = person(&w.app, "boss").await;
        let quick = person(&w.app, "quick").await;
        let slow = person(&w.app, "slow").await;
        let s = space(&w.app, &boss, "piscine").await;
        member(&w.app, &boss, s, &quick, Role::Contributor).await;
        member(&w.app, &boss, s, &slow, Role::Reader).await;
        n.subscribe(&quick, s, Followed::Space, Some(Frequency::Immediate))
            .await
            .expect("subscribe");
        // The first run starts at the log's end: history is not mailed.
        assert_eq!(n.plan_immediate().await.expect("plan").queued, 0);

        let doc = put(&w.app, &boss, s, "plan.pdf").await;
        put(&w.app, &boss, s, "devis.pdf").await;
        let run = n.plan_immediate().await.expect("plan");
        assert_eq!(run.queued, 1, "one notice for quick, none for slow or boss");
        assert_eq!(n.plan_immediate().await.expect("again").queued, 0);
        let sent = n.deliver_due().await.expect("deliver");
        assert_eq!(sent.sent, 1);
        assert_eq!(n.deliver_due().await.expect("again").sent, 0, "sent once");
        let mails = w.mailer.sent();
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.to, "quick@example.fr");
        assert_eq!(m.subject, "[Passerelle] Nouveautés dans piscine");
        assert!(
            m.text
                .contains("boss (nom) a déposé 2 documents : devis.pdf, plan.pdf"),
            "{}",
            m.text
        );
        assert!(
            m.text
                .contains(&format!("https://ged.example.fr/documents/{doc}")),
            "{}",
            m.text
        );
        let unsub = m.unsubscribe.clone().expect("unsubscribe link");
        assert!(m.text.contains(&unsub));

        // The link, without logging in: nothing more from this space.
        let token = unsub.rsplit('/').next().expect("token");
        assert_eq!(n.unsubscribe(token).await.expect("unsubscribe"), "piscine");
        put(&w.app, &boss, s, "encore.pdf").await;
        assert_eq!(n.plan_immediate().await.expect("plan").queued, 0);
        let view = n.subscriptions(&quick, s).await.expect("view");
        assert_eq!(view.chosen, Some(Frequency::Never));
        // A forged or cut token is "not found" and changes nothing.
        let err = n.unsubscribe(&token[..90]).await.expect_err("cut");
        assert!(matches!(err, CoreError::NotFound(_)));
    });
}

#[test]
fn digests_are_planned_once_per_period_with_the_default_and_the_managers_choice() {
    block_on(async {
        let w = world(20);
        let n = w.app.notifications();
        let boss = person(&w.app, "boss").await;
        let daily = person(&w.app, "daily").await;
        let weekly = person(&w.app, "weekly").await;
        let s = space(&w.app, &boss, "voirie").await;
        member(&w.app, &boss, s, &daily, Role::Reader).await;
        member(&w.app, &boss, s, &weekly, Role::Reader).await;
        n.subscribe(&weekly, s, Followed::Space, Some(Frequency::Weekly))
            .await
            .expect("weekly");
        // The first run only notes where periods end.
        assert_eq!(n.plan_digests().await.expect("plan").queued, 0);
        put(&w.app, &boss, s, "arrete.pdf").await;
        assert_eq!(n.plan_digests().await.expect("same day").queued, 0);

        // Wednesday 06:00: yesterday's digest, once.
        w.clock.set(datetime!(2026-12-09 06:00 UTC));
        assert_eq!(n.plan_digests().await.expect("plan").queued, 1);
        assert_eq!(n.plan_digests().await.expect("again").queued, 0);
        n.deliver_due().await.expect("deliver");
        let mails = w.mailer.sent();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, "daily@example.fr");
        assert_eq!(mails[0].subject, "[Passerelle] Résumé du jour : voirie");

        // Only managers set the space's default.
        let err = n
            .set_space_default(&daily, s, Frequency::Never)
            .await
            .expect_err("reader");
        assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
        n.set_space_default(&boss, s, Frequency::Never)
            .await
            .expect("manager");
        put(&w.app, &boss, s, "deliberation.pdf").await;
        w.clock.set(datetime!(2026-12-10 06:00 UTC));
        assert_eq!(n.plan_digests().await.expect("muted").queued, 0);

        // Monday 06:00: the week's digest for the weekly reader, both
        // documents in it.
        w.clock.set(datetime!(2026-12-14 06:00 UTC));
        assert_eq!(n.plan_digests().await.expect("week").queued, 1);
        n.deliver_due().await.expect("deliver");
        let mails = w.mailer.sent();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[1].to, "weekly@example.fr");
        assert!(mails[1].text.contains("arrete.pdf") && mails[1].text.contains("deliberation.pdf"));
    });
}

#[test]
fn a_relay_down_delays_mail_and_a_refusal_is_kept_for_administrators() {
    block_on(async {
        let w = world(2);
        let n = w.app.notifications();
        let boss = person(&w.app, "boss").await;
        let a = person(&w.app, "a").await;
        let b = person(&w.app, "b").await;
        let s = space(&w.app, &boss, "ss").await;
        for who in [&a, &b] {
            member(&w.app, &boss, s, who, Role::Reader).await;
            n.subscribe(who, s, Followed::Space, Some(Frequency::Immediate))
                .await
                .expect("subscribe");
        }
        n.plan_immediate().await.expect("start");
        w.mailer.set_down(true);
        put(&w.app, &boss, s, "1.pdf").await;
        n.plan_immediate().await.expect("plan");
        let run = n.deliver_due().await.expect("deliver");
        assert_eq!((run.sent, run.delayed), (0, 2));
        // Not due again before the backoff.
        w.mailer.set_down(false);
        assert_eq!(n.deliver_due().await.expect("early").sent, 0);
        w.clock.advance(Duration::seconds(61));
        assert_eq!(n.deliver_due().await.expect("back").sent, 2);
        assert_eq!(w.mailer.sent().len(), 2, "nothing lost, nothing twice");

        // A permanent refusal: kept, shown to administrators, not retried.
        w.mailer.refuse("b@example.fr");
        put(&w.app, &boss, s, "2.pdf").await;
        n.plan_immediate().await.expect("plan");
        let run = n.deliver_due().await.expect("deliver");
        assert_eq!((run.sent, run.refused), (1, 1));
        let refused = n
            .notices(&Actor::System, Some(NoticeState::Refused), Page::default())
            .await
            .expect("list");
        assert_eq!(refused.items.len(), 1);
        assert_eq!(refused.items[0].address, "b@example.fr");
        assert!(
            refused.items[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("550"))
        );
        let err = n
            .notices(&a, None, Page::default())
            .await
            .expect_err("not an admin");
        assert!(matches!(err, CoreError::Forbidden(_)));

        // Rate limit: a has had 2 this hour; the third waits, then goes.
        put(&w.app, &boss, s, "3.pdf").await;
        n.plan_immediate().await.expect("plan");
        let run = n.deliver_due().await.expect("deliver");
        assert_eq!((run.sent, run.delayed), (0, 1));
        w.clock.advance(Duration::minutes(61));
        assert_eq!(n.deliver_due().await.expect("later").sent, 1);
    });
}

#[test]
fn following_a_document_of_a_muted_space_tells_of_that_document_only() {
    block_on(async {
        let w = world(20);
        let n = w.app.notifications();
        let boss = person(&w.app, "boss").await;
        let p = person(&w.app, "p").await;
        let s = space(&w.app, &boss, "ss").await;
        let other = space(&w.app, &boss, "other").await;
        member(&w.app, &boss, s, &p, Role::Reader).await;
        let cctp = put(&w.app, &boss, s, "cctp.odt").await;
        let hidden = put(&w.app, &boss, other, "hidden.odt").await;
        n.subscribe(&p, s, Followed::Space, Some(Frequency::Never))
            .await
            .expect("mute");
        n.subscribe(&p, s, Followed::Document(cctp), Some(Frequency::Immediate))
            .await
            .expect("follow");
        // A document of another space (here one p cannot see) is refused.
        let err = n
            .subscribe(
                &p,
                s,
                Followed::Document(hidden),
                Some(Frequency::Immediate),
            )
            .await
            .expect_err("not of s");
        assert!(matches!(err, CoreError::NotFound(_)));
        n.plan_immediate().await.expect("start");
        put(&w.app, &boss, s, "autre.odt").await;
        assert_eq!(n.plan_immediate().await.expect("other doc").queued, 0);
        w.app
            .new_version(
                &boss,
                cctp,
                crate::service::NewVersion::default(),
                content("v2"),
            )
            .await
            .expect("version");
        assert_eq!(n.plan_immediate().await.expect("followed").queued, 1);
    });
}

/// Rights over sequences of legal steps: members come and go, events
/// happen in every space, plans run in between; at every step, no feed
/// and no notice tells anyone of a space they may not read at that step.
#[test]
fn no_feed_and_no_notice_ever_tells_of_a_space_its_reader_cannot_read() {
    block_on(async {
        let w = world(1000);
        let n = w.app.notifications();
        let boss = person(&w.app, "boss").await;
        let mut people = Vec::new();
        for i in 0..4 {
            people.push(person(&w.app, &format!("p{i}")).await);
        }
        let mut spaces = Vec::new();
        for i in 0..3 {
            spaces.push(space(&w.app, &boss, &format!("s{i}")).await);
        }
        n.plan_immediate().await.expect("start");
        let titles: Vec<String> = (0..3).map(|i| format!("s{i}")).collect();
        // A small linear congruential generator: the same sequence each run.
        let mut seed: u64 = 0x5eed;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % m
        };
        let mut members = [[false; 3]; 4];
        let mut told = 0;
        for step in 0..60 {
            let (p, s) = (next(4), next(3));
            match next(4) {
                0 => {
                    member(&w.app, &boss, spaces[s], &people[p], Role::Reader).await;
                    n.subscribe(
                        &people[p],
                        spaces[s],
                        Followed::Space,
                        Some(Frequency::Immediate),
                    )
                    .await
                    .expect("subscribe");
                    members[p][s] = true;
                }
                1 if members[p][s] => {
                    w.app
                        .remove_member(&boss, spaces[s], id(&people[p]))
                        .await
                        .expect("remove");
                    members[p][s] = false;
                }
                _ => {
                    put(&w.app, &boss, spaces[s], &format!("doc-{step}.pdf")).await;
                }
            }
            n.plan_immediate().await.expect("plan");
            n.deliver_due().await.expect("deliver");
            // The mails of this step: planned now, so against the rights
            // of now.
            for m in &w.mailer.sent()[told..] {
                let i: usize = m.to[1..2].parse().expect("p<i>");
                for (k, t) in titles.iter().enumerate() {
                    if m.text.contains(&format!("== {t} ==")) {
                        assert!(members[i][k], "step {step}: p{i} told of {t}");
                    }
                }
            }
            told = w.mailer.sent().len();
            for (i, who) in people.iter().enumerate() {
                let feed = n.feed(who, &mine()).await.expect("feed");
                for l in &feed.lines {
                    let k = spaces.iter().position(|x| *x == l.space).expect("known");
                    assert!(members[i][k], "step {step}: p{i} sees s{k} in its feed");
                }
            }
        }
        assert!(!w.mailer.sent().is_empty(), "the sequence sent something");
    });
}

/// A report the relay sends back after accepting a message (ADR 0013
/// §7): one about a notice of ours, to its address, marks it refused with
/// the receiving server's words (audited, listed for administrators);
/// reports about someone else's message, another address, a notice not
/// sent, or that are no failure change nothing; every report is set aside
/// once read.
#[test]
fn a_bounce_after_acceptance_marks_the_notice_refused_and_nothing_else() {
    use crate::fakes::MemBounces;
    use crate::notify::mail::Bounce;
    block_on(async {
        let w = world(20);
        let bounces = Arc::new(MemBounces::new());
        let app = w.app.clone().with_bounces(bounces.clone());
        let n = app.notifications();
        let boss = person(&app, "boss").await;
        let a = person(&app, "a").await;
        let b = person(&app, "b").await;
        let s = space(&app, &boss, "sb").await;
        for who in [&a, &b] {
            member(&app, &boss, s, who, Role::Reader).await;
            n.subscribe(who, s, Followed::Space, Some(Frequency::Immediate))
                .await
                .expect("subscribe");
        }
        n.plan_immediate().await.expect("start");
        put(&app, &boss, s, "1.pdf").await;
        n.plan_immediate().await.expect("plan");
        assert_eq!(n.deliver_due().await.expect("deliver").sent, 2);
        let sent = w.mailer.sent();
        let to_a = sent.iter().find(|m| m.to == "a@example.fr").expect("a's");
        let to_b = sent.iter().find(|m| m.to == "b@example.fr").expect("b's");
        let bounce = |id: String, to: &str| Bounce {
            message_id: id,
            recipient: Some(to.to_owned()),
            status: "5.1.1".into(),
            diagnostic: Some("smtp; 550 5.1.1 <a@example.fr>: user unknown".into()),
        };
        // Not ours, another address, not a failure, a malformed id.
        bounces.arrive(Some(bounce(
            "<0190a3c2-0000-7000-8000-000000000000@elsewhere.example>".into(),
            "a@example.fr",
        )));
        bounces.arrive(Some(bounce(
            format!("<{}@ged.example.fr>", to_b.id),
            "x@example.fr",
        )));
        bounces.arrive(None);
        bounces.arrive(Some(bounce("pas-un-identifiant".into(), "a@example.fr")));
        // Ours: a's notice.
        bounces.arrive(Some(bounce(
            format!("<{}@ged.example.fr>", to_a.id),
            "A@Example.fr",
        )));

        let run = n.read_bounces().await.expect("read");
        assert_eq!((run.read, run.bounced), (5, 1));
        assert_eq!(bounces.waiting_count(), 0, "every report set aside");
        let refused = n
            .notices(&Actor::System, Some(NoticeState::Refused), Page::default())
            .await
            .expect("list");
        assert_eq!(refused.items.len(), 1);
        assert_eq!(refused.items[0].id, to_a.id);
        assert!(
            refused.items[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("5.1.1") && e.contains("user unknown")),
            "{:?}",
            refused.items[0].last_error
        );
        let still_sent = n
            .notices(&Actor::System, Some(NoticeState::Sent), Page::default())
            .await
            .expect("list");
        assert_eq!(still_sent.items.len(), 1, "b's stays sent");
        // Read again: set aside, nothing counted twice.
        assert_eq!(n.read_bounces().await.expect("again").read, 0);
        // Without a mailbox nothing happens.
        assert_eq!(
            w.app.notifications().read_bounces().await.expect("none"),
            crate::service::BounceRun::default()
        );
    });
}
