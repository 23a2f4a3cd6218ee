//! The query string of a search, read the same way by the API's
//! `GET /api/v1/search` and the results page `GET /search`: one reader, so
//! a link copied from one to the other means the same search. Each caller
//! shows a [`SearchParamError`] its own way (a problem+json 400, an alert
//! on the page).

use passerelle_core::ids::{FolderId, PrincipalId, SpaceId};
use passerelle_core::search::{MAX_LIMIT, MAX_OFFSET, Sort};
use passerelle_core::service::SearchAsk;
use time::macros::format_description;
use time::{Date, Month};
use uuid::Uuid;

/// Hits per page when the query string says nothing.
pub const DEFAULT_LIMIT: usize = 20;

/// A malformed parameter: `code` is stable (`bad_request`,
/// `invalid_sort`, `invalid_limit`, `invalid_cursor`), `detail` says which
/// parameter and what it takes, in English, for developers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchParamError {
    pub code: &'static str,
    pub detail: String,
}

impl SearchParamError {
    fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for SearchParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for SearchParamError {}

/// How hits are ordered, as the query string names it.
pub fn sort_named(name: &str) -> Option<Sort> {
    match name {
        "relevance" => Some(Sort::Relevance),
        "date" => Some(Sort::Modified),
        "name" => Some(Sort::Name),
        _ => None,
    }
}

/// Reads the query string's pairs (`q, space, type, author, folder,
/// modified_after, modified_before, year, sort, limit, cursor, trash,
/// meta.<key>`). Repeated parameters: the last one counts, except
/// `meta.<key>`, which add up. Unknown parameters are ignored, as HTTP
/// clients expect.
pub fn ask_of(pairs: &[(String, String)]) -> Result<SearchAsk, SearchParamError> {
    let mut ask = SearchAsk {
        limit: DEFAULT_LIMIT,
        ..SearchAsk::default()
    };
    let f = &mut ask.filters;
    for (key, value) in pairs {
        match key.as_str() {
            "q" => ask.text = value.clone(),
            "space" => f.space = Some(SpaceId::from_uuid(uuid("space", value)?)),
            "type" => f.doc_type = Some(value.clone()).filter(|v| !v.is_empty()),
            "author" => f.author = Some(PrincipalId::from_uuid(uuid("author", value)?)),
            "folder" => f.folder = Some(FolderId::from_uuid(uuid("folder", value)?)),
            "modified_after" => f.modified_after = Some(day("modified_after", value)?),
            "modified_before" => f.modified_before = Some(day("modified_before", value)?),
            "year" => {
                let (first, last) = year(value)?;
                f.modified_after = Some(first);
                f.modified_before = Some(last);
            }
            "sort" => {
                ask.sort = sort_named(value).ok_or_else(|| {
                    SearchParamError::new("invalid_sort", "sort is relevance, date or name")
                })?;
            }
            "limit" => {
                ask.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| SearchParamError::new("invalid_limit", "limit is 1 to 100"))?;
            }
            "cursor" => {
                ask.offset = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= MAX_OFFSET)
                    .ok_or_else(|| {
                        SearchParamError::new(
                            "invalid_cursor",
                            "cursor is the next_cursor of a page",
                        )
                    })?;
            }
            // Strict: a `trash=1` or `trash=yes` read as false would show
            // live documents to someone who asked for the trash.
            "trash" => {
                ask.trash = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(SearchParamError::new(
                            "bad_request",
                            "trash is true or false",
                        ));
                    }
                };
            }
            other => {
                if let Some(meta) = other.strip_prefix("meta.") {
                    f.meta.push((meta.to_owned(), value.clone()));
                }
            }
        }
    }
    Ok(ask)
}

fn uuid(name: &str, value: &str) -> Result<Uuid, SearchParamError> {
    Uuid::parse_str(value)
        .map_err(|_| SearchParamError::new("bad_request", format!("{name} must be a UUID")))
}

fn day(name: &str, value: &str) -> Result<Date, SearchParamError> {
    Date::parse(value, format_description!("[year]-[month]-[day]")).map_err(|_| {
        SearchParamError::new("bad_request", format!("{name} must be a date, YYYY-MM-DD"))
    })
}

/// The first and last day of a year given as `YYYY` (the year facet).
fn year(value: &str) -> Result<(Date, Date), SearchParamError> {
    let bad = || SearchParamError::new("bad_request", "year must be a year, YYYY");
    if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let y: i32 = value.parse().map_err(|_| bad())?;
    let first = Date::from_calendar_date(y, Month::January, 1).map_err(|_| bad())?;
    let last = Date::from_calendar_date(y, Month::December, 31).map_err(|_| bad())?;
    Ok((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_year_is_its_first_and_last_day() {
        let ask = ask_of(&pairs(&[("year", "2026")])).expect("valid");
        let f = ask.filters;
        assert_eq!(
            f.modified_after.map(|d| d.to_string()),
            Some("2026-01-01".into())
        );
        assert_eq!(
            f.modified_before.map(|d| d.to_string()),
            Some("2026-12-31".into())
        );
        for bad in ["26", "20x6", "-202", "2026-01"] {
            let e = ask_of(&pairs(&[("year", bad)])).expect_err(bad);
            assert_eq!(e.code, "bad_request");
        }
    }

    #[test]
    fn malformed_parameters_keep_their_codes() {
        for (k, v, code) in [
            ("space", "nope", "bad_request"),
            ("sort", "size", "invalid_sort"),
            ("limit", "0", "invalid_limit"),
            ("cursor", "x", "invalid_cursor"),
            ("modified_after", "2026-13-01", "bad_request"),
            ("trash", "yes", "bad_request"),
            ("trash", "1", "bad_request"),
        ] {
            assert_eq!(ask_of(&pairs(&[(k, v)])).expect_err(k).code, code);
        }
    }

    #[test]
    fn metadata_filters_add_up_and_the_last_other_parameter_counts() {
        let ask = ask_of(&pairs(&[
            ("q", "a"),
            ("q", "b"),
            ("meta.x", "1"),
            ("meta.y", "2"),
            ("other", "ignored"),
        ]))
        .expect("valid");
        assert_eq!(ask.text, "b");
        assert_eq!(ask.limit, DEFAULT_LIMIT);
        assert_eq!(ask.filters.meta.len(), 2);
    }
}
