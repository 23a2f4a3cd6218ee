//! Validated names: document and folder names, space slugs, logins.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Why a name was refused. Each variant is reported to users with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("the name contains the forbidden character {0:?}")]
    ForbiddenChar(char),
    #[error("the name contains a control character")]
    ControlChar,
    #[error(
        "the name contains a bidirectional control character (it could disguise its extension)"
    )]
    BidiControl,
    #[error("\".\" and \"..\" are not names")]
    DotName,
    #[error("the name ends with a space or a dot")]
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
/// Bidirectional embeddings, overrides and isolates: "rapport\u{202e}fdp.exe"
/// shows as "rapportexe.pdf". Marks (U+200E, U+200F) stay allowed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
/// The longest name accepted, in UTF-8 bytes after NFC normalisation: what
/// ext4, NTFS and most clients can store.
pub const MAX_NAME_BYTES: usize = 255;

/// The name of a document or folder: NFC-normalised, no path syntax, no
/// control character, no Windows reserved name, at most 255 bytes.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentName(String);

impl DocumentName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name: String = raw.nfc().collect();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(NameError::TooLong {
                max: MAX_NAME_BYTES,
            });
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::ControlChar);
        }
        if name.chars().any(is_bidi_control) {
            return Err(NameError::BidiControl);
        }
        if let Some(c) = name.chars().find(|c| FORBIDDEN.contains(c)) {
            return Err(NameError::ForbiddenChar(c));
        }
        if name == "." || name == ".." {
            return Err(NameError::DotName);
        }
        if name.ends_with(' ') || name.ends_with('.') || name.starts_with(' ') {
            return Err(NameError::TrailingDotOrSpace);
        }
        let stem = name.split('.').next().unwrap_or_default().trim_end();
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
            return Err(NameError::Reserved(stem.to_uppercase()));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which names are unique in a folder: case-insensitive
    /// (Windows and macOS clients cannot hold "Devis.pdf" beside "devis.pdf").
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

    #[test]
    fn accepts_ordinary_french_names() {
        for n in [
            "Cahier des charges v2.docx",
            "Délibération n°2026-114.pdf",
            "rapport..final.pdf",
            ".profile",
        ] {
            assert!(DocumentName::parse(n).is_ok(), "{n}");
        }
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
            DocumentName::parse("rapport\u{202e}fdp.exe"),
            Err(NameError::BidiControl)
        );
        assert_eq!(
            DocumentName::parse("a\u{2067}b.txt"),
            Err(NameError::BidiControl)
        );
        assert!(
            DocumentName::parse("\u{5d3}\u{200f}.txt").is_ok(),
            "marks stay allowed"
        );
        assert_eq!(DocumentName::parse(""), Err(NameError::Empty));
        assert_eq!(
            DocumentName::parse("rapport."),
            Err(NameError::TrailingDotOrSpace)
        );
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
