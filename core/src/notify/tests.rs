//! The pure rules of notifications: kinds, choices, periods, grouping.

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::hash::ContentHash;

fn entry(
    seq: i64,
    at: OffsetDateTime,
    actor: PrincipalId,
    action: &str,
    space: SpaceId,
) -> AuditEntry {
    AuditEntry {
        seq,
        at,
        actor: Some(actor),
        action: action.to_owned(),
        space: Some(space),
        target: None,
        detail: json!({}),
        prev_hash: ContentHash::from_bytes([0; 32]),
        hash: ContentHash::from_bytes([0; 32]),
    }
}

#[test]
fn security_and_administration_never_reach_a_feed() {
    for a in [
        "login.ok",
        "login.failed",
        "token.create",
        "principal.password",
        "principal.directory_disable",
        "access.denied",
        "second_factor.enrol",
        "antivirus.infected",
        "space.share",
    ] {
        assert_eq!(EventKind::of_action(a), None, "{a}");
        assert!(!FEED_ACTIONS.contains(&a));
    }
    for a in FEED_ACTIONS {
        assert!(EventKind::of_action(a).is_some(), "{a}");
    }
    assert_eq!(
        EventKind::actions(&[EventKind::NewVersion]),
        vec!["document.version", "document.restore_version"]
    );
    assert_eq!(EventKind::actions(&[]).len(), FEED_ACTIONS.len());
    for k in EventKind::ALL {
        assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
    }
    for f in Frequency::ALL {
        assert_eq!(f.as_str().parse::<Frequency>(), Ok(f));
    }
    assert!("sometimes".parse::<Frequency>().is_err());
}

#[test]
fn the_most_specific_choice_wins() {
    let (p, s) = (PrincipalId::new(), SpaceId::new());
    let (d, f) = (DocumentId::new(), FolderId::new());
    let sub = |followed, frequency| Subscription {
        principal: p,
        space: s,
        followed,
        frequency,
    };
    let in_folder = EventPlace {
        document: Some(DocumentId::new()),
        folder: Some(f),
    };
    let the_doc = EventPlace {
        document: Some(d),
        folder: Some(f),
    };
    // Nothing chosen: the space's default, else daily.
    assert_eq!(frequency_for(&[], None, the_doc), Frequency::Daily);
    assert_eq!(
        frequency_for(&[], Some(Frequency::Weekly), the_doc),
        Frequency::Weekly
    );
    let subs = [
        sub(Followed::Space, Frequency::Never),
        sub(Followed::Folder(f), Frequency::Daily),
        sub(Followed::Document(d), Frequency::Immediate),
    ];
    assert_eq!(frequency_for(&subs, None, the_doc), Frequency::Immediate);
    assert_eq!(frequency_for(&subs, None, in_folder), Frequency::Daily);
    assert_eq!(
        frequency_for(&subs, None, EventPlace::default()),
        Frequency::Never
    );
}

#[test]
fn digest_boundaries_fall_at_the_hour_daily_and_on_mondays() {
    let s = DigestSchedule::default();
    // Wednesday 2026-12-09.
    let before = datetime!(2026-12-09 05:59 UTC);
    let after = datetime!(2026-12-09 06:00 UTC);
    assert_eq!(
        s.last_boundary(Frequency::Daily, before),
        Some(datetime!(2026-12-08 06:00 UTC))
    );
    assert_eq!(
        s.last_boundary(Frequency::Daily, after),
        Some(datetime!(2026-12-09 06:00 UTC))
    );
    assert_eq!(
        s.last_boundary(Frequency::Weekly, after),
        Some(datetime!(2026-12-07 06:00 UTC))
    );
    // Monday before the hour: the week before's Monday.
    assert_eq!(
        s.last_boundary(Frequency::Weekly, datetime!(2026-12-07 05:00 UTC)),
        Some(datetime!(2026-11-30 06:00 UTC))
    );
    // Another offset is the same instant.
    assert_eq!(
        s.last_boundary(Frequency::Daily, datetime!(2026-12-09 08:30 +02:00)),
        Some(datetime!(2026-12-09 06:00 UTC))
    );
    assert_eq!(s.last_boundary(Frequency::Immediate, after), None);
    for bad in ["6:00", "24:00", "06:60", "06", "06:00:00:00", "0a:00", ""] {
        assert!(bad.parse::<DigestSchedule>().is_err(), "{bad:?}");
    }
    assert_eq!(
        "06:00".parse::<DigestSchedule>(),
        Ok(DigestSchedule::default())
    );
    assert_eq!(DigestSchedule::default().to_string(), "06:00");
    assert_eq!(
        "07:30:15".parse::<DigestSchedule>().map(|s| s.to_string()),
        Ok("07:30:15".to_owned())
    );
    // Any time of day, to the second.
    let s = DigestSchedule {
        at: time::macros::time!(07:30:15),
    };
    assert_eq!(
        s.last_boundary(Frequency::Daily, datetime!(2026-12-09 07:30:14 UTC)),
        Some(datetime!(2026-12-08 07:30:15 UTC))
    );
    assert_eq!(
        s.last_boundary(Frequency::Daily, datetime!(2026-12-09 07:30:15 UTC)),
        Some(datetime!(2026-12-09 07:30:15 UTC))
    );
}

#[test]
fn retries_back_off_to_an_hour() {
    assert_eq!(retry_after(0), Duration::seconds(30));
    assert_eq!(retry_after(1), Duration::seconds(60));
    assert_eq!(retry_after(6), Duration::seconds(1920));
    assert_eq!(retry_after(7), Duration::hours(1));
    assert_eq!(retry_after(u32::MAX), Duration::hours(1));
}

#[test]
fn notice_ids_are_derived_from_what_they_tell() {
    let a = NoticeId::derived(&["p", "daily", "1"]);
    assert_eq!(a, NoticeId::derived(&["p", "daily", "1"]));
    assert_ne!(a, NoticeId::derived(&["p", "daily", "2"]));
    // Parts are length-prefixed: a split moved is another id.
    assert_ne!(
        NoticeId::derived(&["ab", "c"]),
        NoticeId::derived(&["a", "bc"])
    );
    assert_eq!(a.as_uuid().get_version_num(), 8);
}

#[test]
fn one_line_per_run_of_the_same_person_kind_and_space_within_the_hour() {
    let (paul, anne, s, t) = (
        PrincipalId::new(),
        PrincipalId::new(),
        SpaceId::new(),
        SpaceId::new(),
    );
    let at = datetime!(2026-12-09 10:00 UTC);
    let m = Duration::minutes(1);
    // Newest first, as a feed reads.
    let entries = vec![
        entry(9, at + m * 90, paul, "document.upload", s), // 30 min after the one below
        entry(8, at + m * 60, paul, "document.upload", s),
        entry(7, at + m * 59, paul, "document.upload", s),
        entry(6, at + m * 58, paul, "document.upload", t), // another space
        entry(5, at + m * 57, anne, "document.upload", t), // another person
        entry(4, at + m * 56, anne, "document.version", t), // another kind
        entry(3, at + m * 55, anne, "login.ok", t),        // not shown
        entry(2, at, anne, "document.version", t),         // 56 min: in the line
        entry(1, at - m * 61, anne, "document.version", t), // past the hour
    ];
    let groups = group(entries);
    let shape: Vec<(EventKind, Option<PrincipalId>, usize)> = groups
        .iter()
        .map(|g| (g.kind, g.actor, g.entries.len()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (EventKind::Added, Some(paul), 3),
            (EventKind::Added, Some(paul), 1),
            (EventKind::Added, Some(anne), 1),
            (EventKind::NewVersion, Some(anne), 2),
            (EventKind::NewVersion, Some(anne), 1),
        ]
    );
    assert_eq!(groups[0].newest().map(|e| e.seq), Some(9));
    assert_eq!(groups[0].oldest().map(|e| e.seq), Some(7));
}

#[test]
fn texts_are_in_the_recipients_language_and_escape_names() {
    use crate::model::Language;
    use render::{Item, Line, Section, render};
    let items = (0..7)
        .map(|i| Item {
            comment: None,
            name: format!("<plan {i}>.pdf"),
            url: Some(format!("https://ged.example.fr/documents/{i}")),
        })
        .collect();
    let sec = Section {
        space: "Piscine".into(),
        url: Some("https://ged.example.fr/spaces/1".into()),
        unsubscribe: Some("https://ged.example.fr/unsubscribe/t".into()),
        lines: vec![Line {
            actor: "Paul Martin".into(),
            kind: EventKind::Added,
            at: datetime!(2026-12-09 10:00 UTC),
            items,
            reason: None,
        }],
    };
    let fr = render(
        NoticeKind::Daily,
        Language::Fr,
        "Passerelle",
        std::slice::from_ref(&sec),
    );
    assert_eq!(fr.subject, "[Passerelle] Résumé du jour : Piscine");
    assert!(
        fr.text
            .contains("Paul Martin a déposé 7 documents : <plan 0>.pdf"),
        "{}",
        fr.text
    );
    assert!(fr.text.contains("(et 2 autres)"));
    assert!(fr.text.contains("https://ged.example.fr/unsubscribe/t"));
    assert!(fr.html.contains("&lt;plan 0&gt;.pdf"), "{}", fr.html);
    assert!(!fr.html.contains("<plan"));
    let en = render(
        NoticeKind::Immediate,
        Language::En,
        "Passerelle",
        std::slice::from_ref(&sec),
    );
    assert_eq!(en.subject, "[Passerelle] New in Piscine");
    assert!(
        en.text.contains("Paul Martin added 7 documents: "),
        "{}",
        en.text
    );
    assert!(en.text.contains("(and 2 more)"), "{}", en.text);

    // A refusal's reason, as it is in text and escaped in HTML.
    let mut refused = sec;
    refused.lines[0].kind = EventKind::Refused;
    refused.lines[0].items.truncate(1);
    refused.lines[0].reason = Some("nom <déjà> pris".into());
    let fr = render(
        NoticeKind::Immediate,
        Language::Fr,
        "Passerelle",
        &[refused],
    );
    assert!(
        fr.text.contains(" — motif : nom <déjà> pris"),
        "{}",
        fr.text
    );
    assert!(
        fr.html.contains(" — motif : nom &lt;déjà&gt; pris"),
        "{}",
        fr.html
    );
    assert!(
        !fr.text.contains("autres"),
        "one item: nothing left unnamed"
    );

    // What the author said of a version, after its name, escaped.
    let mut version = a_new_version();
    version.lines[0].items[0].comment = Some("lot <2> corrigé".into());
    let fr = render(
        NoticeKind::Immediate,
        Language::Fr,
        "Passerelle",
        &[version],
    );
    assert!(
        fr.text
            .contains("a déposé une nouvelle version de plan.pdf (« lot <2> corrigé »)"),
        "{}",
        fr.text
    );
    assert!(
        fr.html.contains("(« lot &lt;2&gt; corrigé »)"),
        "{}",
        fr.html
    );
}

fn a_new_version() -> render::Section {
    render::Section {
        space: "Piscine".into(),
        url: None,
        unsubscribe: None,
        lines: vec![render::Line {
            actor: "Anne".into(),
            kind: EventKind::NewVersion,
            at: datetime!(2026-12-09 10:00 UTC),
            items: vec![render::Item {
                name: "plan.pdf".into(),
                url: None,
                comment: None,
            }],
            reason: None,
        }],
    }
}
