//! Validated names: document and folder names, space slugs, logins. The
//! hostile-input tests that walk every entry of the Unicode tables below are
//! in `names/tests.rs`.

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

    /// A name read back from storage or from the internal node's feed. It
    /// passed `parse` when it was written, but `parse` grows stricter over
    /// time (invisible characters and look-alikes since 2026-12): refusing
    /// an older name here would make a stored folder unreadable and stop the
    /// replication of its space. So only what makes a name unsafe as a path
    /// component anywhere is checked again: length, control characters, the
    /// separators and Windows' forbidden characters, "." and "..". New
    /// names, from people or contractors, always go through `parse`.
    pub fn parse_stored(raw: &str) -> Result<Self, NameError> {
        let name: String = raw.nfc().collect();
        check_length(&name)?;
        if let Some(e) = name
            .chars()
            .find_map(|c| control(c).or_else(|| forbidden(c)))
        {
            return Err(e);
        }
        if name == "." || name == ".." {
            return Err(NameError::DotName);
        }
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

/// Deserialisation reads stored or replicated data (JSON of rows and
/// operations), so it is as lenient as `parse_stored`; input from people is
/// parsed with `parse` by the use cases.
impl TryFrom<String> for DocumentName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse_stored(&s)
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
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
mod tests;
