//! HTTP semantics of downloads, as pure functions: `Range`, `If-None-Match`,
//! `ETag` and `Content-Disposition`.

use std::ops::Range;

use axum::http::HeaderMap;
use axum::http::header;
use passerelle_core::ContentHash;

/// What to serve for a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range (absent, malformed, several ranges): the whole content, 200.
    Full,
    /// One satisfiable range (end exclusive): 206.
    Partial(Range<u64>),
    /// A well-formed range outside the content: 416.
    Unsatisfiable,
}

/// Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range against a
/// content of `size` bytes (RFC 9110 §14). Syntax we do not serve (several
/// ranges, other units) is ignored, as the RFC allows, and the whole
/// content is sent.
pub fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial(size.saturating_sub(n)..size)
            }
        }
        // bytes=a- : from a to the end.
        (false, Some(a), None) if last.trim().is_empty() => {
            if a >= size {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial(a..size)
            }
        }
        // bytes=a-b (inclusive b, clamped to the end).
        (false, Some(a), Some(b)) if a <= b => {
            if a >= size {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial(a..b.saturating_add(1).min(size))
            }
        }
        _ => RangeRequest::Full,
    }
}

/// The strong ETag of a content: its BLAKE3 hash, quoted.
pub fn etag(hash: &ContentHash) -> String {
    format!("\"{}\"", hash.to_hex())
}

/// Whether `If-None-Match` names this ETag (or `*`); weak comparison, as
/// RFC 9110 §13.1.2 requires for this header.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// Whether a `Range` may be honoured given `If-Range` (absent, or equal to
/// the current ETag; dates are not compared, so a date means "send all").
pub fn if_range_allows(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(header::IF_RANGE) {
        None => true,
        Some(v) => v.to_str().is_ok_and(|v| v.trim() == etag),
    }
}

/// `attachment; filename="<ascii fallback>"; filename*=UTF-8''<pct-encoded>`
/// (RFC 6266 / RFC 5987). Always an attachment: uploaded HTML must never
/// render on the application's origin.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        let attr_char = b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b);
        if attr_char {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn parses_the_three_single_range_forms() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeRequest::Partial(0..10));
        assert_eq!(
            parse_range("bytes=90-", 100),
            RangeRequest::Partial(90..100)
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            RangeRequest::Partial(90..100)
        );
        assert_eq!(
            parse_range("bytes=-500", 100),
            RangeRequest::Partial(0..100)
        );
        assert_eq!(
            parse_range("bytes=50-1000", 100),
            RangeRequest::Partial(50..100)
        );
    }

    #[test]
    fn ranges_outside_the_content_are_unsatisfiable() {
        assert_eq!(parse_range("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(
            parse_range("bytes=200-300", 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range("bytes=-0", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), RangeRequest::Unsatisfiable);
    }

    #[test]
    fn ignores_what_it_does_not_serve() {
        for v in [
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=5-1",
            "bytes=abc",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1",
        ] {
            assert_eq!(parse_range(v, 100), RangeRequest::Full, "{v}");
        }
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = etag(&ContentHash::of(b"x"));
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"other\", W/{tag}")).expect("ascii"),
        );
        assert!(none_match(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!none_match(&h, &tag));
    }

    #[test]
    fn dispositions_are_attachments_with_both_filename_forms() {
        let d = content_disposition("Cahier des charges – été \"v2\".pdf");
        assert!(d.starts_with("attachment; "));
        assert!(
            d.contains("filename=\"Cahier des charges _ _t_ _v2_.pdf\""),
            "{d}"
        );
        assert!(
            d.contains(
                "filename*=UTF-8''Cahier%20des%20charges%20%E2%80%93%20%C3%A9t%C3%A9%20%22v2%22.pdf"
            ),
            "{d}"
        );
        assert!(HeaderValue::from_str(&d).is_ok());
    }
}
