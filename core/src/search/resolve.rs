//! From what a user typed ([`Query`]) to what an engine runs ([`Find`]):
//! field names are read against the built-in fields and the catalogue's
//! metadata fields, and range bounds are typed (dates, amounts). Lenient as
//! the parser: a field nobody declared is searched as words, a bound that
//! is not a date on a date field matches nothing, never an error.

use std::ops::Bound as StdBound;

use time::{Date, Month};

use super::find::{DateField, Exact, Find, Within};
use super::query::{Bound, Field, Query};
use crate::doctype::{DocumentType, FieldKind};

/// What a field name designates.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Text(Within),
    Type,
    Dates(DateField),
    Numbers(String),
}

/// The field names people type, in French first (the interface's
/// language), with English aliases for business applications.
fn built_in(name: &str) -> Option<Target> {
    Some(match name {
        "nom" | "name" | "titre" => Target::Text(Within::Name),
        "type" => Target::Type,
        "auteur" | "author" => Target::Text(Within::Author),
        "espace" | "space" => Target::Text(Within::SpaceName),
        "dossier" | "folder" => Target::Text(Within::FolderPath),
        "commentaire" | "comment" => Target::Text(Within::Comment),
        "contenu" | "texte" | "content" | "text" => Target::Text(Within::Content),
        "modifie" | "modified" | "date" => Target::Dates(DateField::Modified),
        _ => return None,
    })
}

fn target(field: &Field, types: &[DocumentType]) -> Option<Target> {
    let name = field.as_str();
    if let Some(t) = built_in(name) {
        return Some(t);
    }
    let def = types
        .iter()
        .flat_map(|t| t.fields.iter())
        .find(|f| f.key == name)?;
    Some(match def.kind {
        FieldKind::Text | FieldKind::Enum { .. } | FieldKind::Boolean => {
            Target::Text(Within::Meta(def.key.clone()))
        }
        FieldKind::Integer | FieldKind::Decimal => Target::Numbers(def.key.clone()),
        FieldKind::Date => Target::Dates(DateField::Meta(def.key.clone())),
    })
}

/// Resolves `query` against the document types of the catalogue.
pub fn resolve(query: &Query, types: &[DocumentType]) -> Find {
    match query {
        Query::All => Find::All,
        Query::Term { field, text } => term(field.as_ref(), text, types, false),
        Query::Prefix { field, text } => term(field.as_ref(), text, types, true),
        Query::Phrase { field, words } => phrase(field.as_ref(), words, types),
        Query::Range {
            field,
            lower,
            upper,
        } => range(field, lower, upper, types),
        Query::And(parts) => Find::And(parts.iter().map(|q| resolve(q, types)).collect()),
        Query::Or(parts) => Find::Or(parts.iter().map(|q| resolve(q, types)).collect()),
        Query::Not(inner) => Find::Not(Box::new(resolve(inner, types))),
    }
}

fn term(field: Option<&Field>, text: &str, types: &[DocumentType], prefix: bool) -> Find {
    let Some(field) = field else {
        return words(Within::Anywhere, text, prefix);
    };
    match target(field, types) {
        Some(Target::Text(within)) => words(within, text, prefix),
        Some(Target::Type) => type_is(text, types),
        Some(Target::Dates(field)) => match date_span(text) {
            Some((from, to)) => Find::Dates {
                field,
                lower: StdBound::Included(from),
                upper: StdBound::Included(to),
            },
            None => Find::Nothing,
        },
        Some(Target::Numbers(key)) => match number(text) {
            Some(n) => Find::Numbers {
                key,
                lower: StdBound::Included(n),
                upper: StdBound::Included(n),
            },
            None => Find::Nothing,
        },
        // Nobody declared this field: the user meant the words.
        None => words(
            Within::Anywhere,
            &format!("{} {text}", field.as_str()),
            prefix,
        ),
    }
}

fn words(within: Within, text: &str, prefix: bool) -> Find {
    if prefix {
        Find::Prefix {
            within,
            text: text.to_owned(),
        }
    } else {
        Find::Word {
            within,
            text: text.to_owned(),
        }
    }
}

fn phrase(field: Option<&Field>, words: &[String], types: &[DocumentType]) -> Find {
    let within = match field.map(|f| (f, target(f, types))) {
        None => Within::Anywhere,
        Some((_, Some(Target::Text(within)))) => within,
        // `type:"bon de commande"`, `date:"2026-01-05"`: the phrase is
        // the value, read as a term of that field.
        Some((f, Some(_))) => return term(Some(f), &words.join(" "), types, false),
        Some((f, None)) => {
            let mut all = vec![f.as_str().to_owned()];
            all.extend(words.iter().cloned());
            return Find::Phrase {
                within: Within::Anywhere,
                words: all,
            };
        }
    };
    Find::Phrase {
        within,
        words: words.to_vec(),
    }
}

/// `type:facture` names a type by key; `type:Facture` or a label works too.
fn type_is(text: &str, types: &[DocumentType]) -> Find {
    let wanted = fold(text);
    let found = types
        .iter()
        .find(|t| t.key == text || fold(&t.key) == wanted || fold(&t.label) == wanted);
    match found {
        Some(t) => Find::Is(Exact::Type(t.key.clone())),
        None => Find::Nothing,
    }
}

fn range(field: &Field, lower: &Bound, upper: &Bound, types: &[DocumentType]) -> Find {
    match target(field, types) {
        Some(Target::Dates(field)) => {
            let lower = typed(lower, |s| date_span(s).map(|(from, _)| from));
            let upper = typed(upper, |s| date_span(s).map(|(_, to)| to));
            match (lower, upper) {
                (Some(lower), Some(upper)) => Find::Dates {
                    field,
                    lower,
                    upper,
                },
                _ => Find::Nothing,
            }
        }
        Some(Target::Numbers(key)) => match (typed(lower, number), typed(upper, number)) {
            (Some(lower), Some(upper)) => Find::Numbers { key, lower, upper },
            _ => Find::Nothing,
        },
        // A range of words means nothing to a text field: its bounds are
        // searched as the words they are.
        target => {
            let text: Vec<&str> = [lower, upper]
                .into_iter()
                .filter_map(|b| match b {
                    Bound::Included(s) | Bound::Excluded(s) => Some(s.as_str()),
                    Bound::Unbounded => None,
                })
                .collect();
            let within = match target {
                Some(Target::Text(within)) => within,
                _ => Within::Anywhere,
            };
            Find::Word {
                within,
                text: text.join(" "),
            }
        }
    }
}

/// A bound typed by `read`; `None` when its value does not read.
fn typed<T>(b: &Bound, read: impl Fn(&str) -> Option<T>) -> Option<StdBound<T>> {
    match b {
        Bound::Included(s) => read(s).map(StdBound::Included),
        Bound::Excluded(s) => read(s).map(StdBound::Excluded),
        Bound::Unbounded => Some(StdBound::Unbounded),
    }
}

/// The days a date as typed covers: `2026-03-15` or `15/03/2026` one day,
/// `2026-03` or `03/2026` a month, `2026` a year.
pub(crate) fn date_span(s: &str) -> Option<(Date, Date)> {
    let s = s.trim();
    let nums: Vec<&str> = s.split(['-', '/', '.']).collect();
    let int = |x: &str| -> Option<i32> {
        (!x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let (year, month, day) = match nums.as_slice() {
        [y] if y.len() == 4 => (int(y)?, None, None),
        [y, m] if y.len() == 4 => (int(y)?, Some(int(m)?), None),
        [m, y] if y.len() == 4 => (int(y)?, Some(int(m)?), None),
        [y, m, d] if y.len() == 4 => (int(y)?, Some(int(m)?), Some(int(d)?)),
        [d, m, y] if y.len() == 4 => (int(y)?, Some(int(m)?), Some(int(d)?)),
        _ => return None,
    };
    let month_of = |m: i32| u8::try_from(m).ok().and_then(|m| Month::try_from(m).ok());
    match (month, day) {
        (None, _) => Some((
            Date::from_calendar_date(year, Month::January, 1).ok()?,
            Date::from_calendar_date(year, Month::December, 31).ok()?,
        )),
        (Some(m), None) => {
            let month = month_of(m)?;
            let first = Date::from_calendar_date(year, month, 1).ok()?;
            let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
            Some((first, last))
        }
        (Some(m), Some(d)) => {
            let day = Date::from_calendar_date(year, month_of(m)?, u8::try_from(d).ok()?).ok()?;
            Some((day, day))
        }
    }
}

/// An amount as people type it: `12000`, `12 000,50`, `12000.50`, `12000€`.
pub(crate) fn number(s: &str) -> Option<f64> {
    let cleaned: String = s
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let valid = !cleaned.is_empty()
        && cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    let n: f64 = if valid {
        cleaned.parse().ok()?
    } else {
        return None;
    };
    n.is_finite().then_some(n)
}

/// Lower case without accents, for matching type labels.
fn fold(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests;
