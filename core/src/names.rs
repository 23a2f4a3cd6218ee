//! Validated names: document and folder names, space slugs, logins.
//!
//! Longer than most files: the Unicode tables refused in names and the
//! hostile-input tests that go through each of their entries belong together.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::decompose_compatible;

/// Why a name was refused. `CoreError::name` reports every variant of a
/// document or folder name under the stable code `invalid_name`; the message
/// names the offending character (as U+XXXX when it is invisible) and says
/// what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("the name contains the forbidden character {0:?}")]
    ForbiddenChar(char),
    #[error("the name contains a control character or a line separator: remove it")]
    ControlChar,
    #[error(
        "the name contains a bidirectional control character (it could disguise its extension): remove it"
    )]
    BidiControl,
    #[error("the name contains an invisible character (U+{:04X}): remove it", u32::from(*.0))]
    Invisible(char),
    #[error(
        "the name contains {found:?} (U+{:04X}), which looks like \"{looks_like}\": remove or replace it",
        u32::from(*.found)
    )]
    LookAlike {
        found: char,
        looks_like: &'static str,
    },
    #[error("a name cannot be only dots (\".\", \"..\" or a look-alike such as \"…\")")]
    DotName,
    #[error("the name starts or ends with a space, or ends with a dot: remove it")]
    TrailingDotOrSpace,
    #[error("{0} is a reserved device name on Windows")]
    Reserved(String),
    #[error("a slug is 2 to 64 characters among a-z, 0-9 and '-', not starting or ending with '-'")]
    BadSlug,
    #[error("a login is 1 to 64 characters among a-z, 0-9, '.', '-', '_' and '@'")]
    BadLogin,
}

/// Characters refused in names, as Alfresco refuses them: path separators and
/// what Windows clients (WebDAV, sync) cannot store.
const FORBIDDEN: &[char] = &['/', '\\', '*', '"', '<', '>', ':', '?', '|'];

/// The Unicode `Bidi_Control` property (PropList.txt, Unicode 17.0.0):
/// "rapport\u{202e}fdp.exe" shows as "rapportexe.pdf". All of these are also
/// default-ignorable; they keep their own error because the risk is worse
/// than a duplicate.
const BIDI_CONTROL: &[(char, char)] = &[
    ('\u{061C}', '\u{061C}'), // ARABIC LETTER MARK
    ('\u{200E}', '\u{200F}'), // LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
    ('\u{202A}', '\u{202E}'), // embeddings and overrides
    ('\u{2066}', '\u{2069}'), // isolates
];

/// The Unicode `Default_Ignorable_Code_Point` property, copied from
/// DerivedCoreProperties.txt of Unicode 17.0.0 (the same ranges as 16.0.0,
/// checked against the tables of regex-syntax 0.8 and icu_properties_data
/// 2.4): code points that render as nothing, so "rap\u{200b}port.pdf" would
/// sit beside "rapport.pdf" looking the same.
///
/// The whole property is refused, including what some writing needs: ZWNJ and
/// ZWJ (Persian, Indic conjuncts, emoji ZWJ sequences such as the family
/// U+1F468 U+200D U+1F469 U+200D U+1F467) and variation selectors (emoji
/// presentation, as in U+2764 U+FE0F). Each makes an invisible duplicate in
/// some context, and allowing them only in "good" contexts (IDNA's CONTEXTJ
/// rules, emoji sequences) needs joining, virama and emoji tables. Plain emoji
/// ("📄 Compte rendu.odt") still pass, and the message names the character to
/// remove.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // SOFT HYPHEN
    ('\u{034F}', '\u{034F}'),   // COMBINING GRAPHEME JOINER
    ('\u{061C}', '\u{061C}'),   // ARABIC LETTER MARK
    ('\u{115F}', '\u{1160}'),   // HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    ('\u{17B4}', '\u{17B5}'),   // KHMER VOWEL INHERENT AQ, AA
    ('\u{180B}', '\u{180F}'),   // MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    ('\u{200B}', '\u{200F}'),   // ZERO WIDTH SPACE, ZWNJ, ZWJ, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{206F}'),   // WORD JOINER, invisible operators, isolates, deprecated
    ('\u{3164}', '\u{3164}'),   // HANGUL FILLER
    ('\u{FE00}', '\u{FE0F}'),   // VARIATION SELECTOR-1 to 16
    ('\u{FEFF}', '\u{FEFF}'),   // ZERO WIDTH NO-BREAK SPACE (byte order mark)
    ('\u{FFA0}', '\u{FFA0}'),   // HALFWIDTH HANGUL FILLER
    ('\u{FFF0}', '\u{FFF8}'),   // reserved
    ('\u{1BCA0}', '\u{1BCA3}'), // SHORTHAND FORMAT controls
    ('\u{1D173}', '\u{1D17A}'), // MUSICAL SYMBOL BEGIN BEAM to END PHRASE
    ('\u{E0000}', '\u{E0FFF}'), // tags, VARIATION SELECTOR-17 to 256, reserved
];

/// Look-alikes of ".", "/" and "\", with what each looks like: "‥" shows as
/// "..", "∕etc" as "/etc", "rapport․pdf" as "rapport.pdf".
///
/// Source: confusables.txt of Unicode Security Mechanisms (UTS #39), version
/// 2025-07-22 (Unicode 17.0.0): every character whose prototype is made of
/// ".", "/" or "\" (with a combining mark at most), except letters and digits,
/// which are ordinary text in their script (U+0660 and U+06F0 Arabic zeros,
/// Lisu tone letters U+A4F8, U+A4FA, U+A4FB, Coptic U+2CC6, U+2CC7, KATAKANA
/// LETTER NO U+30CE, U+3033, ideographs U+4E36, U+4E3F). Added: the NFKC
/// forms confusables.txt leaves out (U+FE52, U+FF0E, U+FF0F), so the error
/// names them, and U+2572, the mirror of U+2571.
///
/// Left out on purpose: U+2026 HORIZONTAL ELLIPSIS. iOS and word processors
/// type it for "...", so it is common in French names ("Divers… 2026.odt"),
/// and inside a name it disguises no path; a name made only of it is refused
/// by `check_dot_name`.
const LOOK_ALIKES: &[(char, &str)] = &[
    ('\u{0701}', "."),    // SYRIAC SUPRALINEAR FULL STOP
    ('\u{0702}', "."),    // SYRIAC SUBLINEAR FULL STOP
    ('\u{2024}', "."),    // ONE DOT LEADER
    ('\u{2025}', ".."),   // TWO DOT LEADER
    ('\u{A60E}', "."),    // VAI FULL STOP
    ('\u{FE52}', "."),    // SMALL FULL STOP
    ('\u{FF0E}', "."),    // FULLWIDTH FULL STOP
    ('\u{10A50}', "."),   // KHAROSHTHI PUNCTUATION DOT
    ('\u{1D16D}', "."),   // MUSICAL SYMBOL COMBINING AUGMENTATION DOT
    ('\u{1735}', "/"),    // PHILIPPINE SINGLE PUNCTUATION
    ('\u{2041}', "/"),    // CARET INSERTION POINT
    ('\u{2044}', "/"),    // FRACTION SLASH
    ('\u{2215}', "/"),    // DIVISION SLASH
    ('\u{2571}', "/"),    // BOX DRAWINGS LIGHT DIAGONAL UPPER RIGHT TO LOWER LEFT
    ('\u{27CB}', "/"),    // MATHEMATICAL RISING DIAGONAL
    ('\u{29F6}', "/"),    // SOLIDUS WITH OVERBAR
    ('\u{29F8}', "/"),    // BIG SOLIDUS
    ('\u{2AFB}', "///"),  // TRIPLE SOLIDUS BINARY RELATION
    ('\u{2AFD}', "//"),   // DOUBLE SOLIDUS OPERATOR
    ('\u{2F03}', "/"),    // KANGXI RADICAL SLASH
    ('\u{31D3}', "/"),    // CJK STROKE SP
    ('\u{FF0F}', "/"),    // FULLWIDTH SOLIDUS
    ('\u{1D23A}', "/"),   // GREEK INSTRUMENTAL NOTATION SYMBOL-47
    ('\u{2216}', "\\"),   // SET MINUS
    ('\u{244A}', "\\\\"), // OCR DOUBLE BACKSLASH
    ('\u{2572}', "\\"),   // BOX DRAWINGS LIGHT DIAGONAL UPPER LEFT TO LOWER RIGHT
    ('\u{27C8}', "\\"),   // REVERSE SOLIDUS PRECEDING SUBSET
    ('\u{27CD}', "\\"),   // MATHEMATICAL FALLING DIAGONAL
    ('\u{29F5}', "\\"),   // REVERSE SOLIDUS OPERATOR
    ('\u{29F9}', "\\"),   // BIG REVERSE SOLIDUS
    ('\u{2CF9}', "\\\\"), // COPTIC OLD NUBIAN FULL STOP
    ('\u{2F02}', "\\"),   // KANGXI RADICAL DOT
    ('\u{31D4}', "\\"),   // CJK STROKE D
    ('\u{FE68}', "\\"),   // SMALL REVERSE SOLIDUS
    ('\u{FF3C}', "\\"),   // FULLWIDTH REVERSE SOLIDUS
    ('\u{1D20F}', "\\"),  // GREEK VOCAL NOTATION SYMBOL-16
    ('\u{1D23B}', "\\"),  // GREEK INSTRUMENTAL NOTATION SYMBOL-48
];

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
/// The longest name accepted, in UTF-8 bytes after NFC normalisation: what
/// ext4, NTFS and most clients can store.
pub const MAX_NAME_BYTES: usize = 255;

/// The name of a document or folder: NFC-normalised, no path syntax or
/// look-alike of it, no control, bidirectional or invisible character, no
/// Windows reserved name, at most 255 bytes.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentName(String);

impl DocumentName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        // Every rule reads the NFC form, the one stored and compared by
        // `unique_key`: an NFD spelling can neither slip a character past a
        // rule nor be judged on characters its stored form does not hold.
        let name: String = raw.nfc().collect();
        check_length(&name)?;
        check_characters(&name)?;
        check_dot_name(&name)?;
        check_edges(&name)?;
        check_reserved(&name)?;
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which names are unique in a folder: case-insensitive
    /// (Windows and macOS clients cannot hold "Devis.pdf" beside "devis.pdf").
    /// Invisible characters never reach it: `parse` refuses them, so they
    /// cannot make two keys of one visible name.
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Splits "rapport.final.pdf" into ("rapport.final", Some("pdf")).
    pub fn stem_and_extension(&self) -> (&str, Option<&str>) {
        match self.0.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
            _ => (&self.0, None),
        }
    }
}

fn check_length(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong {
            max: MAX_NAME_BYTES,
        });
    }
    Ok(())
}

/// Applies the per-character rules in order, each over the whole name, so a
/// name with several faults reports the first rule's (a control character
/// before a forbidden one, as before these rules were split).
fn check_characters(name: &str) -> Result<(), NameError> {
    let rules: [fn(char) -> Option<NameError>; 6] = [
        control,
        bidi_control,
        invisible,
        look_alike,
        forbidden,
        folds_to_separator,
    ];
    for rule in rules {
        if let Some(e) = name.chars().find_map(rule) {
            return Err(e);
        }
    }
    Ok(())
}

/// Controls, and the line and paragraph separators (U+2028, U+2029), which
/// break a line in logs, CSV exports and JavaScript like a newline does.
fn control(c: char) -> Option<NameError> {
    (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')).then_some(NameError::ControlChar)
}

fn bidi_control(c: char) -> Option<NameError> {
    in_ranges(BIDI_CONTROL, c).then_some(NameError::BidiControl)
}

fn invisible(c: char) -> Option<NameError> {
    in_ranges(DEFAULT_IGNORABLE, c).then_some(NameError::Invisible(c))
}

fn look_alike(c: char) -> Option<NameError> {
    LOOK_ALIKES
        .iter()
        .find(|(found, _)| *found == c)
        .map(|&(found, looks_like)| NameError::LookAlike { found, looks_like })
}

fn forbidden(c: char) -> Option<NameError> {
    FORBIDDEN
        .contains(&c)
        .then_some(NameError::ForbiddenChar(c))
}

/// A character whose NFKC form holds "/" or "\" ("℅" is "c/o"): a client or
/// an export that folds compatibility forms would turn it into a path. The
/// other characters Windows forbids are not folded on purpose: fullwidth
/// "？" and "：" are ordinary punctuation in Japanese and Chinese names and
/// a common stand-in for the ASCII ones, and they make no path. Checking each
/// character's decomposition is exact: "/" and "\" take part in no
/// composition, so NFKC keeps every one that NFKD produces.
fn folds_to_separator(c: char) -> Option<NameError> {
    let mut looks_like = None;
    decompose_compatible(c, |d| match d {
        '/' => looks_like = Some("/"),
        '\\' => looks_like = Some("\\"),
        _ => {}
    });
    looks_like.map(|looks_like| NameError::LookAlike {
        found: c,
        looks_like,
    })
}

/// "." and "..", and what NFKC folds into dots only ("…" is "...", "︰" is
/// ".."): such a name is the current or parent folder to any client that
/// folds compatibility forms, and looks like one to every reader.
fn check_dot_name(name: &str) -> Result<(), NameError> {
    if name.nfkc().all(|c| c == '.') {
        return Err(NameError::DotName);
    }
    Ok(())
}

/// Windows strips trailing dots and spaces, so "rapport." would become
/// "rapport" there; a leading space hides in every listing.
fn check_edges(name: &str) -> Result<(), NameError> {
    if name.ends_with(' ') || name.ends_with('.') || name.starts_with(' ') {
        return Err(NameError::TrailingDotOrSpace);
    }
    Ok(())
}

fn check_reserved(name: &str) -> Result<(), NameError> {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        return Err(NameError::Reserved(stem.to_uppercase()));
    }
    Ok(())
}

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

impl TryFrom<String> for DocumentName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DocumentName> for String {
    fn from(n: DocumentName) -> String {
        n.0
    }
}

impl fmt::Display for DocumentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DocumentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentName({:?})", self.0)
    }
}

/// The URL-safe short name of a space ("construction-piscine").
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let ok = (2..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError::BadSlug)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(n: Slug) -> String {
        n.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slug({})", self.0)
    }
}

/// An account's login: lowercase, so "M.Durand" and "m.durand" are one person.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let s = raw.trim().to_lowercase();
        let ok = (1..=64).contains(&s.len())
            && s.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'.' | b'-' | b'_' | b'@')
            });
        if ok {
            Ok(Self(s))
        } else {
            Err(NameError::BadLogin)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Login {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Login> for String {
    fn from(n: Login) -> String {
        n.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({})", self.0)
    }
}

#[cfg(test)]
mod tests {
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
}
