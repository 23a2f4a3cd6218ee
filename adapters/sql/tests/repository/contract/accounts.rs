//! Principals, sessions and API tokens.

use passerelle_core::ContentHash;
use passerelle_core::ids::{PrincipalId, Revision, TokenId};
use passerelle_core::model::{ApiToken, Language, Page, PrincipalKind, Session, TokenKind};
use passerelle_core::names::Login;
use passerelle_core::ports::Repository;
use passerelle_core::second_factor::SecondFactor;

use super::{Outcome, Row, T0, agent, assert_conflict, at, read, save, write};

fn session(principal: PrincipalId, secret: &str, expires: i128) -> Session {
    Session {
        token_hash: ContentHash::of(secret.as_bytes()),
        principal,
        csrf: format!("csrf-{secret}"),
        created_at: at(T0),
        expires_at: at(expires),
    }
}

fn token(principal: PrincipalId, secret: &str, created: i128) -> ApiToken {
    ApiToken {
        id: TokenId::new(),
        principal,
        kind: TokenKind::Api,
        name: format!("application {secret}"),
        token_hash: ContentHash::of(secret.as_bytes()),
        created_at: at(created),
        expires_at: None,
        revoked: false,
    }
}

pub async fn principals_round_trip_exactly(repo: &dyn Repository) -> Outcome {
    let mut admin = agent("m.durand");
    admin.display_name = "Marie Durand".into();
    admin.is_admin = true;
    admin.revision = Revision(7);
    let mut contractor = agent("zoe@bet-structures.fr");
    contractor.display_name = "Zoé Lefèvre — BET".into();
    contractor.kind = PrincipalKind::Contractor;
    contractor.disabled = true;
    contractor.password_hash = None;
    contractor.organisation = Some("BET Structures SARL".into());
    contractor.created_at = at(T0 + 1);
    contractor.second_factor_reset = Some(at(T0 + 2));
    let mut service = agent("finances-helios");
    service.display_name = "Helios (finances)".into();
    service.kind = PrincipalKind::Service;
    service.password_hash = None;
    // An agent made at first login through the directory (ADR 0009).
    let mut directory = agent("c.durand");
    directory.password_hash = None;
    directory.source = passerelle_core::model::AccountSource::Directory;
    save(
        repo,
        [
            Row::from(&admin),
            Row::from(&contractor),
            Row::from(&service),
            Row::from(&directory),
        ],
    )
    .await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.principal(admin.id).await?, Some(admin.clone()));
    assert_eq!(tx.principal(contractor.id).await?, Some(contractor.clone()));
    assert_eq!(tx.principal(service.id).await?, Some(service));
    assert_eq!(tx.principal(directory.id).await?, Some(directory));
    assert_eq!(
        tx.principal_by_login(&contractor.login).await?,
        Some(contractor)
    );
    assert_eq!(tx.principal(PrincipalId::new()).await?, None);
    assert_eq!(tx.principal_by_login(&Login::parse("nobody")?).await?, None);
    assert_eq!(tx.count_principals().await?, 4);
    Ok(())
}

pub async fn saving_a_principal_again_overwrites_it(repo: &dyn Repository) -> Outcome {
    let before = agent("j.martin");
    save(repo, [Row::from(&before)]).await?;
    let mut after = before.clone();
    after.login = Login::parse("jeanne.martin")?;
    after.display_name = "Jeanne Martin".into();
    after.password_hash = None;
    after.organisation = Some("Direction des finances".into());
    after.disabled = true;
    after.revision = Revision(42);
    save(repo, [Row::from(&after)]).await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.principal(before.id).await?, Some(after.clone()));
    assert_eq!(
        tx.principal_by_login(&before.login).await?,
        None,
        "the old login is free"
    );
    assert_eq!(tx.principal_by_login(&after.login).await?, Some(after));
    assert_eq!(tx.count_principals().await?, 1);
    Ok(())
}

pub async fn principals_are_listed_by_login_with_paging_and_total(
    repo: &dyn Repository,
) -> Outcome {
    let all: Vec<_> = ["e.e", "a.a", "d.d", "c.c", "b.b"]
        .into_iter()
        .map(agent)
        .collect();
    save(repo, all.iter().map(Row::from)).await?;

    let mut tx = read(repo).await?;
    let logins = |page: &passerelle_core::model::Paged<passerelle_core::model::Principal>| {
        page.items
            .iter()
            .map(|p| p.login.to_string())
            .collect::<Vec<_>>()
    };
    let page = tx.list_principals(Page::new(1, 2)).await?;
    assert_eq!(
        (logins(&page), page.total),
        (vec!["b.b".into(), "c.c".into()], 5)
    );
    let page = tx.list_principals(Page::new(4, 10)).await?;
    assert_eq!((logins(&page), page.total), (vec!["e.e".into()], 5));
    let page = tx.list_principals(Page::all()).await?;
    assert_eq!(logins(&page), ["a.a", "b.b", "c.c", "d.d", "e.e"]);
    let page = tx.list_principals(Page::new(10, 10)).await?;
    assert_eq!((page.items.len(), page.total), (0, 5));
    let huge = Page {
        offset: u64::MAX,
        limit: u64::MAX,
    };
    let page = tx.list_principals(huge).await?;
    assert_eq!(
        (page.items.len(), page.total),
        (0, 5),
        "huge offsets are harmless"
    );
    Ok(())
}

pub async fn a_duplicate_login_is_a_conflict(repo: &dyn Repository) -> Outcome {
    let first = agent("p.bernard");
    save(repo, [Row::from(&first)]).await?;
    let mut tx = write(repo).await?;
    assert_conflict(tx.save_principal(&agent("p.bernard")).await, "same login");
    drop(tx);

    let mut tx = read(repo).await?;
    assert_eq!(tx.count_principals().await?, 1);
    assert_eq!(tx.principal_by_login(&first.login).await?, Some(first));
    Ok(())
}

pub async fn sessions_round_trip_and_are_deleted_one_by_one_or_per_principal(
    repo: &dyn Repository,
) -> Outcome {
    let (p, q) = (agent("p.p"), agent("q.q"));
    save(repo, [Row::from(&p), Row::from(&q)]).await?;
    let (s1, s2, s3) = (
        session(p.id, "one", T0 + 10),
        session(p.id, "two", T0 + 20),
        session(q.id, "three", T0 + 30),
    );
    let mut tx = write(repo).await?;
    for s in [&s1, &s2, &s3] {
        tx.save_session(s).await?;
    }
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.session(&s1.token_hash).await?, Some(s1.clone()));
    assert_eq!(tx.session(&s3.token_hash).await?, Some(s3.clone()));
    assert_eq!(tx.session(&ContentHash::of(b"unknown")).await?, None);
    drop(tx);

    let mut tx = write(repo).await?;
    tx.delete_session(&s1.token_hash).await?;
    tx.delete_session(&ContentHash::of(b"unknown")).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.session(&s1.token_hash).await?, None);
    assert_eq!(tx.session(&s2.token_hash).await?, Some(s2.clone()));
    drop(tx);

    let mut tx = write(repo).await?;
    tx.delete_sessions_of(p.id).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.session(&s2.token_hash).await?, None);
    assert_eq!(
        tx.session(&s3.token_hash).await?,
        Some(s3),
        "other principals keep theirs"
    );
    Ok(())
}

pub async fn expired_sessions_are_deleted_and_counted(repo: &dyn Repository) -> Outcome {
    let p = agent("p.p");
    save(repo, [Row::from(&p)]).await?;
    let now = T0 + 1_000;
    let (past, exact, future) = (
        session(p.id, "past", now - 1),
        session(p.id, "exact", now),
        session(p.id, "future", now + 1),
    );
    let mut tx = write(repo).await?;
    for s in [&past, &exact, &future] {
        tx.save_session(s).await?;
    }
    assert_eq!(
        tx.delete_expired_sessions(at(now)).await?,
        2,
        "expired at or before now"
    );
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.session(&past.token_hash).await?, None);
    assert_eq!(tx.session(&exact.token_hash).await?, None);
    assert_eq!(tx.session(&future.token_hash).await?, Some(future));
    Ok(())
}

pub async fn tokens_round_trip_and_are_found_by_hash_or_listed(repo: &dyn Repository) -> Outcome {
    let (p, q) = (agent("p.p"), agent("q.q"));
    save(repo, [Row::from(&p), Row::from(&q)]).await?;
    let later = token(p.id, "later", T0 + 20);
    let mut earlier = token(p.id, "earlier", T0 + 10);
    earlier.expires_at = Some(at(T0 + 86_400_000_000_007));
    earlier.revoked = true;
    // An app password comes back as one, not as a bearer token.
    earlier.kind = TokenKind::AppPassword;
    let other = token(q.id, "other", T0 + 15);
    let mut tx = write(repo).await?;
    for t in [&later, &earlier, &other] {
        tx.save_token(t).await?;
    }
    tx.commit().await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.token(earlier.id).await?, Some(earlier.clone()));
    assert_eq!(
        tx.token_by_hash(&later.token_hash).await?,
        Some(later.clone())
    );
    assert_eq!(tx.token_by_hash(&ContentHash::of(b"unknown")).await?, None);
    assert_eq!(tx.token(TokenId::new()).await?, None);
    assert_eq!(
        tx.list_tokens(Some(p.id)).await?,
        vec![earlier.clone(), later.clone()]
    );
    assert_eq!(
        tx.list_tokens(None).await?,
        vec![earlier.clone(), other, later.clone()]
    );
    assert_eq!(tx.list_tokens(Some(PrincipalId::new())).await?, vec![]);
    drop(tx);

    let mut revoked = later.clone();
    revoked.revoked = true;
    let mut tx = write(repo).await?;
    tx.save_token(&revoked).await?;
    tx.commit().await?;
    assert_eq!(read(repo).await?.token(later.id).await?, Some(revoked));
    Ok(())
}

pub async fn a_duplicate_token_hash_is_a_conflict(repo: &dyn Repository) -> Outcome {
    let p = agent("p.p");
    save(repo, [Row::from(&p)]).await?;
    let mut tx = write(repo).await?;
    tx.save_token(&token(p.id, "same", T0)).await?;
    tx.commit().await?;
    let mut tx = write(repo).await?;
    assert_conflict(
        tx.save_token(&token(p.id, "same", T0 + 1)).await,
        "same token hash",
    );
    Ok(())
}

pub async fn a_preferred_language_is_kept_per_principal_cleared_and_needs_the_principal(
    repo: &dyn Repository,
) -> Outcome {
    let marie = agent("m.durand");
    let zoe = agent("z.lefevre");
    save(repo, [Row::from(&marie), Row::from(&zoe)]).await?;

    let mut tx = read(repo).await?;
    assert_eq!(tx.preferred_language(marie.id).await?, None);
    drop(tx);

    let mut tx = write(repo).await?;
    tx.set_preferred_language(marie.id, Some(Language::En))
        .await?;
    tx.set_preferred_language(zoe.id, Some(Language::Fr))
        .await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.preferred_language(marie.id).await?, Some(Language::En));
    assert_eq!(tx.preferred_language(zoe.id).await?, Some(Language::Fr));
    drop(tx);

    // Overwritten, then cleared; the other principal's setting stays.
    let mut tx = write(repo).await?;
    tx.set_preferred_language(marie.id, Some(Language::Fr))
        .await?;
    assert_eq!(tx.preferred_language(marie.id).await?, Some(Language::Fr));
    tx.set_preferred_language(marie.id, None).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.preferred_language(marie.id).await?, None);
    assert_eq!(tx.preferred_language(zoe.id).await?, Some(Language::Fr));
    assert_eq!(tx.preferred_language(PrincipalId::new()).await?, None);
    drop(tx);

    let mut tx = write(repo).await?;
    assert!(
        tx.set_preferred_language(PrincipalId::new(), Some(Language::En))
            .await
            .is_err(),
        "a setting needs its principal"
    );
    Ok(())
}

pub async fn a_second_factor_round_trips_is_replaced_deleted_and_needs_its_principal(
    repo: &dyn Repository,
) -> Outcome {
    let jean = agent("jean@btp.fr");
    let zoe = agent("zoe@bet.fr");
    save(repo, [Row::from(&jean), Row::from(&zoe)]).await?;
    let pending = SecondFactor {
        principal: jean.id,
        secret: (0u8..20).collect(),
        confirmed_at: None,
        last_step: None,
        recovery: Vec::new(),
        reset: Some(at(T0)),
    };
    let mut tx = write(repo).await?;
    tx.save_second_factor(&pending).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.second_factor(jean.id).await?, Some(pending.clone()));
    assert_eq!(tx.second_factor(zoe.id).await?, None);
    drop(tx);

    // Confirmed: a time step past 2^32, two recovery hashes.
    let confirmed = SecondFactor {
        confirmed_at: Some(at(T0 + 5)),
        last_step: Some(5_000_000_000),
        recovery: vec!["$argon2id$v=19$a".into(), "$argon2id$v=19$b".into()],
        ..pending
    };
    let mut tx = write(repo).await?;
    tx.save_second_factor(&confirmed).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.second_factor(jean.id).await?, Some(confirmed));
    drop(tx);

    let mut tx = write(repo).await?;
    tx.delete_second_factor(jean.id).await?;
    tx.delete_second_factor(zoe.id).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.second_factor(jean.id).await?, None);
    drop(tx);

    let mut tx = write(repo).await?;
    let orphan = SecondFactor {
        principal: PrincipalId::new(),
        secret: vec![1; 20],
        confirmed_at: None,
        last_step: None,
        recovery: Vec::new(),
        reset: None,
    };
    assert!(
        tx.save_second_factor(&orphan).await.is_err(),
        "a second factor needs its principal"
    );
    Ok(())
}

/// ADR 0011 §5: the last active day per principal, never moved back.
pub async fn the_last_active_day_only_moves_forward_and_needs_its_principal(
    repo: &dyn Repository,
) -> Outcome {
    let jean = agent("jean@btp.fr");
    let zoe = agent("zoe@bet.fr");
    save(repo, [Row::from(&jean), Row::from(&zoe)]).await?;
    let day = |n: i64| (at(T0) + time::Duration::days(n)).date();
    let mut tx = write(repo).await?;
    tx.record_active(jean.id, day(10)).await?;
    tx.record_active(zoe.id, day(3)).await?;
    // An older day changes nothing; a later one replaces it.
    tx.record_active(jean.id, day(2)).await?;
    tx.record_active(zoe.id, day(4)).await?;
    tx.commit().await?;
    let mut tx = read(repo).await?;
    assert_eq!(tx.last_active(jean.id).await?, Some(day(10)));
    assert_eq!(tx.last_active(zoe.id).await?, Some(day(4)));
    assert_eq!(tx.last_active(PrincipalId::new()).await?, None);
    let mut all = tx.list_active().await?;
    all.sort();
    let mut expected = vec![(jean.id, day(10)), (zoe.id, day(4))];
    expected.sort();
    assert_eq!(all, expected);
    assert!(
        tx.record_active(jean.id, day(11)).await.is_err(),
        "a write in a read transaction"
    );
    drop(tx);
    let mut tx = write(repo).await?;
    assert!(
        tx.record_active(PrincipalId::new(), day(1)).await.is_err(),
        "a day needs its principal"
    );
    Ok(())
}
