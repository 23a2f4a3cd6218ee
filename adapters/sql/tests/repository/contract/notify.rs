//! The `NotificationStore` part of the transaction: the feed's reading of
//! the audit log (by spaces, actions, actor, sequence and time, in either
//! order), subscriptions and the spaces' defaults, the planner's state,
//! and the notices (inserted once by id, due soonest first, listed newest
//! first, counted as sent per recipient).

use passerelle_core::audit::{AuditEvent, chain};
use passerelle_core::ids::{DocumentId, NoticeId, PrincipalId};
use passerelle_core::model::{AuditEntry, Page};
use passerelle_core::notify::store::ActivityQuery;
use passerelle_core::notify::{Followed, Frequency, Notice, NoticeKind, NoticeState, Subscription};
use passerelle_core::ports::Repository;
use serde_json::json;

use super::{Outcome, Row, T0, agent, assert_storage, at, read, save, seed_space, write};

fn notice(recipient: PrincipalId, n: i128, state: NoticeState) -> Notice {
    Notice {
        id: NoticeId::derived(&[&recipient.to_string(), &n.to_string()]),
        recipient,
        address: "p.martin@example.fr".into(),
        kind: NoticeKind::Daily,
        subject: "[Passerelle] Résumé du jour : Piscine".into(),
        text: "Paul Martin a déposé plan.pdf\n".into(),
        html: "<p>Paul Martin a déposé <a href=\"x\">plan.pdf</a></p>".into(),
        unsubscribe: (n % 2 == 0).then(|| format!("https://ged.example.fr/unsubscribe/{n}")),
        created_at: at(T0 + n * 1000),
        state,
        attempts: u32::try_from(n).unwrap_or(0),
        next_attempt_at: at(T0 + n * 1000),
        last_error: (n % 3 == 0).then(|| "relay down".to_owned()),
        sent_at: (state == NoticeState::Sent).then(|| at(T0 + n * 1000 + 1)),
    }
}

pub async fn the_feed_reads_the_audit_log_by_space_action_actor_and_time(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "feed").await?;
    let (_, other) = seed_space(repo, "feed-other").await?;
    let q = agent("q.feed");
    save(repo, [Row::from(&q)]).await?;
    let mut tx = write(repo).await?;
    let steps = [
        (Some(p.id), "document.upload", Some(s.id)),
        (Some(q.id), "document.upload", Some(s.id)),
        (Some(p.id), "login.ok", None),
        (Some(p.id), "document.version", Some(other.id)),
        (None, "member.end", Some(s.id)),
        (Some(p.id), "document.delete", Some(s.id)),
    ];
    let mut entries: Vec<AuditEntry> = Vec::new();
    for (i, (actor, action, space)) in steps.into_iter().enumerate() {
        let head = tx.audit_head().await?;
        let e = chain(
            head,
            at(T0 + i as i128 * 1_000_000_000),
            AuditEvent {
                actor,
                action,
                space,
                target: Some(DocumentId::new().to_string()),
                detail: json!({ "name": format!("{i}.pdf") }),
            },
        );
        tx.append_audit(&e).await?;
        entries.push(e);
    }
    tx.commit().await?;
    let seqs = |v: Vec<AuditEntry>| v.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    let base = entries[0].seq - 1;
    let s_ = |i: i64| base + i;
    let all = vec![
        "document.upload",
        "document.version",
        "document.delete",
        "member.end",
    ];
    let mut tx = read(repo).await?;
    let q_all = ActivityQuery {
        actions: all.clone(),
        after_seq: base,
        limit: 100,
        ..ActivityQuery::default()
    };
    // Newest first by default; the login is not among the actions.
    assert_eq!(
        seqs(tx.activity(&q_all).await?),
        [s_(6), s_(5), s_(4), s_(2), s_(1)]
    );
    let oldest = ActivityQuery {
        oldest_first: true,
        limit: 2,
        ..q_all.clone()
    };
    assert_eq!(seqs(tx.activity(&oldest).await?), [s_(1), s_(2)]);
    let space_only = ActivityQuery {
        spaces: Some(vec![s.id]),
        ..q_all.clone()
    };
    assert_eq!(
        seqs(tx.activity(&space_only).await?),
        [s_(6), s_(5), s_(2), s_(1)]
    );
    let none = ActivityQuery {
        spaces: Some(Vec::new()),
        ..q_all.clone()
    };
    assert!(tx.activity(&none).await?.is_empty());
    let by_q = ActivityQuery {
        actor: Some(q.id),
        ..q_all.clone()
    };
    assert_eq!(seqs(tx.activity(&by_q).await?), [s_(2)]);
    let before = ActivityQuery {
        before_seq: Some(s_(5)),
        limit: 2,
        ..q_all.clone()
    };
    assert_eq!(seqs(tx.activity(&before).await?), [s_(4), s_(2)]);
    let window = ActivityQuery {
        since: Some(entries[1].at),
        until: Some(entries[5].at),
        ..q_all.clone()
    };
    assert_eq!(seqs(tx.activity(&window).await?), [s_(5), s_(4), s_(2)]);
    let versions = ActivityQuery {
        actions: vec!["document.version"],
        ..q_all
    };
    let got = tx.activity(&versions).await?;
    assert_eq!(got, [entries[3].clone()], "entries come back exactly");
    Ok(())
}

pub async fn subscriptions_and_defaults_round_trip_and_need_their_rows(
    repo: &dyn Repository,
) -> Outcome {
    let (p, s) = seed_space(repo, "subs").await?;
    let (_, other) = seed_space(repo, "subs-other").await?;
    let doc = DocumentId::new();
    let mut tx = write(repo).await?;
    let space_sub = Subscription {
        principal: p.id,
        space: s.id,
        followed: Followed::Space,
        frequency: Frequency::Weekly,
    };
    let doc_sub = Subscription {
        followed: Followed::Document(doc),
        frequency: Frequency::Immediate,
        ..space_sub.clone()
    };
    let elsewhere = Subscription {
        space: other.id,
        frequency: Frequency::Never,
        ..space_sub.clone()
    };
    for x in [&space_sub, &doc_sub, &elsewhere] {
        tx.save_subscription(x).await?;
    }
    // Saving again replaces the frequency.
    let daily = Subscription {
        frequency: Frequency::Daily,
        ..space_sub.clone()
    };
    tx.save_subscription(&daily).await?;
    assert_eq!(tx.space_frequency(s.id).await?, None);
    tx.set_space_frequency(s.id, Frequency::Immediate).await?;
    tx.set_space_frequency(s.id, Frequency::Never).await?;
    tx.commit().await?;

    let mut tx = read(repo).await?;
    let mut in_s = tx.subscriptions_in(s.id).await?;
    in_s.sort_by_key(|x| x.followed != Followed::Space);
    assert_eq!(
        in_s,
        [daily.clone(), doc_sub.clone()],
        "the default is not a person's"
    );
    assert_eq!(tx.subscriptions_of(p.id).await?.len(), 3);
    assert_eq!(tx.space_frequency(s.id).await?, Some(Frequency::Never));
    assert_eq!(tx.space_frequency(other.id).await?, None);
    drop(tx);

    let mut tx = write(repo).await?;
    tx.delete_subscription(&doc_sub).await?;
    tx.delete_subscription(&doc_sub).await?;
    assert_eq!(tx.subscriptions_in(s.id).await?, [daily]);
    let nobody = Subscription {
        principal: PrincipalId::new(),
        ..space_sub.clone()
    };
    assert_storage(tx.save_subscription(&nobody).await, "no such principal");
    drop(tx);
    let mut tx = write(repo).await?;
    let nowhere = Subscription {
        space: passerelle_core::ids::SpaceId::new(),
        ..space_sub
    };
    assert_storage(tx.save_subscription(&nowhere).await, "no such space");
    Ok(())
}

pub async fn notices_are_queued_once_due_in_order_and_counted_when_sent(
    repo: &dyn Repository,
) -> Outcome {
    let (p, _) = seed_space(repo, "notices").await?;
    let q = agent("q.notices");
    save(repo, [Row::from(&q)]).await?;
    let mut tx = write(repo).await?;
    assert_eq!(tx.notify_state("immediate_seq").await?, None);
    tx.set_notify_state("immediate_seq", "41").await?;
    tx.set_notify_state("immediate_seq", "42").await?;
    let (a, b, c) = (
        notice(p.id, 2, NoticeState::Pending),
        notice(p.id, 1, NoticeState::Pending),
        notice(q.id, 3, NoticeState::Sent),
    );
    for n in [&a, &b, &c] {
        assert!(tx.queue_notice(n).await?, "new");
    }
    let again = Notice {
        subject: "changed".into(),
        ..a.clone()
    };
    assert!(!tx.queue_notice(&again).await?, "an id is queued once");
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(
        tx.notify_state("immediate_seq").await?.as_deref(),
        Some("42")
    );
    // Due: pending ones whose time has come, soonest first.
    assert_eq!(
        tx.due_notices(at(T0 + 1500), 10).await?,
        std::slice::from_ref(&b)
    );
    assert_eq!(
        tx.due_notices(at(T0 + 5000), 10).await?,
        [b.clone(), a.clone()]
    );
    assert_eq!(
        tx.due_notices(at(T0 + 5000), 1).await?,
        std::slice::from_ref(&b)
    );
    let listed = tx.list_notices(None, Page::default()).await?;
    assert_eq!(listed.total, 3);
    assert_eq!(
        listed.items,
        [c.clone(), a.clone(), b.clone()],
        "newest first, exactly"
    );
    let sent = tx
        .list_notices(Some(NoticeState::Sent), Page::default())
        .await?;
    assert_eq!(sent.items, std::slice::from_ref(&c));
    assert_eq!(tx.count_sent_since(q.id, at(T0)).await?, 1);
    assert_eq!(tx.count_sent_since(q.id, at(T0 + 10_000)).await?, 0);
    assert_eq!(tx.count_sent_since(p.id, at(T0)).await?, 0);
    drop(tx);

    let mut tx = write(repo).await?;
    let done = Notice {
        state: NoticeState::Sent,
        sent_at: Some(at(T0 + 7000)),
        ..b.clone()
    };
    tx.save_notice(&done).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(
        tx.due_notices(at(T0 + 5000), 10).await?,
        std::slice::from_ref(&a)
    );
    assert_eq!(tx.count_sent_since(p.id, at(T0)).await?, 1);
    drop(tx);
    // A pending notice can be withdrawn; a sent one is the record of
    // what happened and stays.
    let mut tx = write(repo).await?;
    assert_eq!(tx.notice(done.id).await?, Some(done.clone()));
    assert_eq!(tx.notice(NoticeId::new()).await?, None);
    assert!(!tx.withdraw_notice(done.id).await?, "sent: kept");
    assert!(!tx.withdraw_notice(NoticeId::new()).await?, "absent");
    assert!(tx.withdraw_notice(a.id).await?, "pending: withdrawn");
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert!(tx.due_notices(at(T0 + 5000), 10).await?.is_empty());
    assert_eq!(
        tx.list_notices(None, Page::default()).await?.items,
        [c.clone(), done.clone()]
    );
    drop(tx);
    let mut tx = write(repo).await?;
    let orphan = notice(PrincipalId::new(), 9, NoticeState::Pending);
    assert_storage(tx.queue_notice(&orphan).await, "no such recipient");
    Ok(())
}
