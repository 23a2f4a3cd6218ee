//! Conversions shared by the entities: times, hashes, names, JSON, and the
//! "corrupt row" error every failed conversion becomes.
//!
//! Times are stored as signed unix nanoseconds (`BIGINT`): exact on both
//! engines (a `TIMESTAMPTZ` keeps microseconds only), sortable, and free of
//! time-zone and text-format questions. The range is 1677–2262.

use std::fmt;
use std::str::FromStr;

use passerelle_core::ContentHash;
use passerelle_core::names::NameError;
use passerelle_core::ports::RepoError;
use passerelle_core::replication::NodeId;
use time::OffsetDateTime;

/// A stored row that does not convert back into a domain value: an unknown
/// enum string, a malformed hash, an invalid name… Never a panic.
#[derive(Debug, thiserror::Error)]
#[error("corrupt row in {table}: {problem}")]
pub(crate) struct CorruptRow {
    pub(crate) table: &'static str,
    pub(crate) problem: String,
}

pub(crate) fn corrupt(table: &'static str, problem: impl fmt::Display) -> RepoError {
    RepoError::Storage(Box::new(CorruptRow {
        table,
        problem: problem.to_string(),
    }))
}

/// A domain value the schema cannot hold (a time past 2262, a size past
/// `i64::MAX`): refused before anything is written.
#[derive(Debug, thiserror::Error)]
#[error("value out of the storable range: {0}")]
pub(crate) struct Unstorable(pub(crate) String);

pub(crate) fn unstorable(what: impl fmt::Display) -> RepoError {
    RepoError::Storage(Box::new(Unstorable(what.to_string())))
}

pub(crate) fn nanos(t: OffsetDateTime) -> Result<i64, RepoError> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(|_| unstorable(format_args!("time {t}")))
}

pub(crate) fn opt_nanos(t: Option<OffsetDateTime>) -> Result<Option<i64>, RepoError> {
    t.map(nanos).transpose()
}

pub(crate) fn time(table: &'static str, ns: i64) -> Result<OffsetDateTime, RepoError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .map_err(|e| corrupt(table, format_args!("time {ns}: {e}")))
}

pub(crate) fn opt_time(
    table: &'static str,
    ns: Option<i64>,
) -> Result<Option<OffsetDateTime>, RepoError> {
    ns.map(|ns| time(table, ns)).transpose()
}

pub(crate) fn hash(table: &'static str, hex: &str) -> Result<ContentHash, RepoError> {
    hex.parse().map_err(|_| {
        corrupt(
            table,
            format_args!("content hash {hex:?} is not 64 hex digits"),
        )
    })
}

/// Parses any `FromStr` domain value (names, logins, roles, enums).
pub(crate) fn parse<T>(table: &'static str, what: &str, raw: &str) -> Result<T, RepoError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    raw.parse()
        .map_err(|e| corrupt(table, format_args!("{what} {raw:?}: {e}")))
}

/// Re-validates a stored name, slug or login with its domain parser
/// (`DocumentName::parse`, `Slug::parse`, `Login::parse`).
pub(crate) fn validated<T>(
    table: &'static str,
    what: &str,
    raw: &str,
    parser: fn(&str) -> Result<T, NameError>,
) -> Result<T, RepoError> {
    parser(raw).map_err(|e| corrupt(table, format_args!("{what} {raw:?}: {e}")))
}

/// A node id read back from `table`, checked as when it was configured.
pub(crate) fn node_id(table: &'static str, raw: &str) -> Result<NodeId, RepoError> {
    NodeId::parse(raw).map_err(|e| corrupt(table, format_args!("edge: {e}")))
}

pub(crate) fn to_i64(what: &str, n: u64) -> Result<i64, RepoError> {
    i64::try_from(n).map_err(|_| unstorable(format_args!("{what} {n}")))
}

pub(crate) fn to_u64(table: &'static str, what: &str, n: i64) -> Result<u64, RepoError> {
    u64::try_from(n).map_err(|_| corrupt(table, format_args!("{what} {n} is negative")))
}

pub(crate) fn to_u32(table: &'static str, what: &str, n: i64) -> Result<u32, RepoError> {
    u32::try_from(n).map_err(|_| corrupt(table, format_args!("{what} {n} is out of range")))
}

pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| unstorable(format_args!("{what}: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    table: &'static str,
    what: &str,
    text: &str,
) -> Result<T, RepoError> {
    serde_json::from_str(text)
        .map_err(|e| corrupt(table, format_args!("{what} is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanosecond_times_round_trip_exactly() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_789)
            .expect("valid time");
        assert_eq!(time("t", nanos(t).expect("storable")).expect("valid"), t);
    }

    #[test]
    fn a_time_past_2262_is_refused_not_truncated() {
        let t = OffsetDateTime::from_unix_timestamp(10_000_000_000).expect("valid time");
        assert!(matches!(nanos(t), Err(RepoError::Storage(_))));
    }

    #[test]
    fn a_malformed_hash_is_a_corrupt_row() {
        let err = hash("versions", "xyz").expect_err("not a hash");
        assert!(err.to_string().contains("storage"), "{err}");
        let RepoError::Storage(source) = err else {
            panic!("expected Storage")
        };
        assert!(source.to_string().contains("versions"), "{source}");
    }
}
