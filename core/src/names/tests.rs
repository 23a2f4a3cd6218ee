//! Hostile-input tests of the name rules: every listed code point in every
//! position, look-alikes, NFC/NFKC cases, and names French users write.

use super::*;

/// Every code point the invisible and look-alike rules refuse.
fn listed() -> impl Iterator<Item = char> {
    DEFAULT_IGNORABLE
        .iter()
        .flat_map(|&(lo, hi)| lo..=hi)
        .chain(LOOK_ALIKES.iter().map(|&(c, _)| c))
}

/// The error a name holding `c` (and no other fault) must get.
fn refusal_of(c: char) -> NameError {
    if let Some(&(found, looks_like)) = LOOK_ALIKES.iter().find(|(f, _)| *f == c) {
        NameError::LookAlike { found, looks_like }
    } else if in_ranges(BIDI_CONTROL, c) {
        NameError::BidiControl
    } else {
        NameError::Invisible(c)
    }
}

#[test]
fn accepts_ordinary_french_names() {
    for n in [
        "Cahier des charges v2.docx",
        "Délibération n°2026-114.pdf",
        "Délibération n°2026-12 – arrêté (version 2).pdf",
        "Œuvre d'art.docx",
        "L’été « au jardin ».odt",
        "Ça va\u{202f}!.txt",
        "📄 Compte rendu.odt",
        "Divers… 2026.odt",
        "½ journée.xlsx",
        "会議：議事録？.txt",
        "rapport..final.pdf",
        ".profile",
    ] {
        assert!(DocumentName::parse(n).is_ok(), "{n}");
    }
}

#[test]
fn refuses_the_ascii_question_mark_even_in_french_typography() {
    // Windows cannot store it; the narrow no-break space before it is fine.
    assert_eq!(
        DocumentName::parse("Ça va ?.txt"),
        Err(NameError::ForbiddenChar('?'))
    );
}

#[test]
fn rejects_path_syntax_and_control_characters() {
    assert_eq!(DocumentName::parse(".."), Err(NameError::DotName));
    assert_eq!(DocumentName::parse("."), Err(NameError::DotName));
    assert_eq!(
        DocumentName::parse("../etc/passwd"),
        Err(NameError::ForbiddenChar('/'))
    );
    assert_eq!(
        DocumentName::parse("a\\b"),
        Err(NameError::ForbiddenChar('\\'))
    );
    assert_eq!(DocumentName::parse("a\0b"), Err(NameError::ControlChar));
    assert_eq!(DocumentName::parse("a\nb"), Err(NameError::ControlChar));
    assert_eq!(
        DocumentName::parse("a\u{2028}b"),
        Err(NameError::ControlChar)
    );
    assert_eq!(DocumentName::parse(""), Err(NameError::Empty));
    assert_eq!(
        DocumentName::parse("rapport."),
        Err(NameError::TrailingDotOrSpace)
    );
}

#[test]
fn rejects_every_bidi_control_including_the_marks() {
    assert_eq!(
        DocumentName::parse("rapport\u{202e}fdp.exe"),
        Err(NameError::BidiControl)
    );
    assert_eq!(
        DocumentName::parse("a\u{2067}b.txt"),
        Err(NameError::BidiControl)
    );
    // Marks are default-ignorable too: "ד\u{200f}.txt" and "ד.txt" look
    // the same.
    assert_eq!(
        DocumentName::parse("\u{5d3}\u{200f}.txt"),
        Err(NameError::BidiControl)
    );
    assert!(DocumentName::parse("\u{5d3}.txt").is_ok());
}

#[test]
fn rejects_each_listed_code_point_alone_and_at_start_middle_and_end() {
    for c in listed() {
        let want = Err(refusal_of(c));
        for name in [
            c.to_string(),
            format!("{c}rapport.pdf"),
            format!("rap{c}port.pdf"),
            format!("rapport.pdf{c}"),
        ] {
            assert_eq!(DocumentName::parse(&name), want, "{name:?}");
        }
    }
}

#[test]
fn a_zero_width_space_cannot_duplicate_an_existing_name() {
    let existing = DocumentName::parse("rapport.pdf").expect("valid");
    assert_eq!(existing.unique_key(), "rapport.pdf");
    assert_eq!(
        DocumentName::parse("rap\u{200b}port.pdf"),
        Err(NameError::Invisible('\u{200b}'))
    );
    // An NFD spelling is normalised first, then refused the same way.
    assert_eq!(
        DocumentName::parse("Re\u{301}sume\u{301}\u{200b}.pdf"),
        Err(NameError::Invisible('\u{200b}'))
    );
}

#[test]
fn rejects_a_byte_order_mark_prefix() {
    assert_eq!(
        DocumentName::parse("\u{feff}rapport.pdf"),
        Err(NameError::Invisible('\u{feff}'))
    );
}

#[test]
fn rejects_variation_selectors_even_after_an_emoji() {
    for (name, c) in [
        ("❤\u{fe0f} merci.odt", '\u{fe0f}'),
        ("rapport\u{fe00}.pdf", '\u{fe00}'),
        ("\u{8fbb}\u{e0100}.pdf", '\u{e0100}'),
        ("\u{1820}\u{180b}.txt", '\u{180b}'),
    ] {
        assert_eq!(DocumentName::parse(name), Err(NameError::Invisible(c)));
    }
}

#[test]
fn rejects_tag_characters_and_emoji_zwj_sequences() {
    assert_eq!(
        DocumentName::parse("rapport\u{e0041}.pdf"),
        Err(NameError::Invisible('\u{e0041}'))
    );
    let england = "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}.png";
    assert_eq!(
        DocumentName::parse(england),
        Err(NameError::Invisible('\u{e0067}'))
    );
    let family = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467} photo.jpg";
    assert_eq!(
        DocumentName::parse(family),
        Err(NameError::Invisible('\u{200d}'))
    );
}

#[test]
fn rejects_look_alikes_of_dot_names_and_separators() {
    assert_eq!(
        DocumentName::parse("\u{2024}\u{2024}"),
        Err(NameError::LookAlike {
            found: '\u{2024}',
            looks_like: ".",
        })
    );
    assert_eq!(
        DocumentName::parse("\u{2215}etc"),
        Err(NameError::LookAlike {
            found: '\u{2215}',
            looks_like: "/",
        })
    );
    assert_eq!(
        DocumentName::parse("Factures\u{ff3c}2026.pdf"),
        Err(NameError::LookAlike {
            found: '\u{ff3c}',
            looks_like: "\\",
        })
    );
}

#[test]
fn rejects_what_nfkc_folds_into_a_separator_or_a_dot_name() {
    assert_eq!(
        DocumentName::parse("\u{2105} Dupont.pdf"),
        Err(NameError::LookAlike {
            found: '\u{2105}',
            looks_like: "/",
        })
    );
    for dots in ["\u{2026}", "\u{fe30}", "\u{fe19}", ".\u{2026}"] {
        assert_eq!(DocumentName::parse(dots), Err(NameError::DotName), "{dots}");
    }
}

#[test]
fn judges_the_nfc_form_that_is_stored() {
    // "<" + U+0338 composes to "≮" (U+226E), which every client stores.
    let n = DocumentName::parse("a<\u{338}b.txt").expect("valid");
    assert_eq!(n.as_str(), "a\u{226e}b.txt");
}

#[test]
fn error_messages_name_the_character_to_remove() {
    let e = DocumentName::parse("rap\u{200b}port.pdf").expect_err("refused");
    assert_eq!(
        e.to_string(),
        "the name contains an invisible character (U+200B): remove it"
    );
    let e = DocumentName::parse("a\u{2215}b").expect_err("refused");
    assert_eq!(
        e.to_string(),
        "the name contains '∕' (U+2215), which looks like \"/\": remove or replace it"
    );
}

#[test]
fn any_name_holding_a_listed_code_point_is_refused() {
    // A seeded xorshift: reproducible, no extra crate.
    let mut state: u64 = 0x5eed_2026_0011_0008;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % bound as u64).expect("below a usize bound")
    };
    let ordinary: Vec<char> = "abzAZ09 -_()'éèàçœÉÇ°–«»’n📄".chars().collect();
    let listed: Vec<char> = listed().collect();
    for _ in 0..5000 {
        let len = next(20);
        let mut name: Vec<char> = (0..len).map(|_| ordinary[next(ordinary.len())]).collect();
        let c = listed[next(listed.len())];
        name.insert(next(len + 1), c);
        let name: String = name.into_iter().collect();
        assert_eq!(DocumentName::parse(&name), Err(refusal_of(c)), "{name:?}");
    }
}

#[test]
fn rejects_windows_reserved_names_with_or_without_extension() {
    assert!(matches!(
        DocumentName::parse("CON"),
        Err(NameError::Reserved(_))
    ));
    assert!(matches!(
        DocumentName::parse("nul.txt"),
        Err(NameError::Reserved(_))
    ));
    assert!(matches!(
        DocumentName::parse("Lpt9.doc"),
        Err(NameError::Reserved(_))
    ));
    assert!(DocumentName::parse("CONSEIL.pdf").is_ok());
}

#[test]
fn rejects_names_over_255_bytes() {
    let long = "é".repeat(150); // 300 bytes
    assert_eq!(
        DocumentName::parse(&long),
        Err(NameError::TooLong { max: 255 })
    );
    assert!(DocumentName::parse(&"a".repeat(255)).is_ok());
}

#[test]
fn normalises_to_nfc_so_nfd_duplicates_collide() {
    let nfd = "Re\u{301}sume\u{301}.pdf";
    let nfc = "Résumé.pdf";
    let a = DocumentName::parse(nfd).expect("valid");
    let b = DocumentName::parse(nfc).expect("valid");
    assert_eq!(a, b);
    assert_eq!(
        a.unique_key(),
        DocumentName::parse("RÉSUMÉ.PDF")
            .expect("valid")
            .unique_key()
    );
}

#[test]
fn splits_stem_and_extension() {
    let n = DocumentName::parse("plan.masse.pdf").expect("valid");
    assert_eq!(n.stem_and_extension(), ("plan.masse", Some("pdf")));
    let n = DocumentName::parse(".profile").expect("valid");
    assert_eq!(n.stem_and_extension(), (".profile", None));
}

#[test]
fn slugs_and_logins_are_strict() {
    assert!(Slug::parse("piscine-olympique").is_ok());
    assert!(Slug::parse("-x").is_err());
    assert!(Slug::parse("Piscine").is_err());
    assert_eq!(
        Login::parse(" M.Durand ").expect("valid").as_str(),
        "m.durand"
    );
    assert!(Login::parse("a b").is_err());
}

#[test]
fn names_stored_before_the_stricter_rules_still_read_back() {
    // Accepted before 2026-12: a left-to-right mark, a soft hyphen, an emoji
    // with its variation selector, a look-alike dot.
    for old in [
        "Compte\u{200E} rendu.odt",
        "co\u{00AD}opération.pdf",
        "\u{2764}\u{FE0F} merci.txt",
        "rapport\u{2024}pdf",
    ] {
        assert!(
            DocumentName::parse(old).is_err(),
            "{old:?} is refused when new"
        );
        let kept = DocumentName::parse_stored(old).expect("readable when stored");
        assert_eq!(kept.as_str(), old);
        let json = serde_json::to_string(&kept).expect("json");
        let back: DocumentName = serde_json::from_str(&json).expect("deserialised");
        assert_eq!(back, kept);
    }
    // What is unsafe as a path component is refused even when stored.
    for bad in ["a/b", "a\\b", "..", ".", "", "a\u{0}b", "nul\u{7}"] {
        assert!(DocumentName::parse_stored(bad).is_err(), "{bad:?}");
    }
}
