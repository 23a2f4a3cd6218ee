//! The labelled set (`tests/relevance/queries.toml`): the planted
//! documents and the French queries that must find them, read once by the
//! relevance test and the bench alike.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::Date;

const QUERIES: &str = include_str!("../relevance/queries.toml");

/// A planted document, as written in the file.
#[derive(Clone, Debug)]
pub struct PlantedDoc {
    pub key: String,
    pub space: usize,
    pub doc_type: Option<String>,
    pub name: String,
    pub folder: String,
    pub date: Date,
    pub pdf: bool,
    pub meta: Vec<(String, String)>,
    pub text: String,
}

/// A query and the planted documents it must find in its first ten hits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledQuery {
    pub text: String,
    pub expect: Vec<String>,
    /// What the query exercises (accents, inflection, phrase, filter…).
    #[serde(default)]
    pub why: String,
}

#[derive(Clone, Debug)]
pub struct Labelled {
    pub docs: Vec<PlantedDoc>,
    pub queries: Vec<LabelledQuery>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    key: String,
    space: usize,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    name: String,
    folder: String,
    date: String,
    #[serde(default)]
    pdf: bool,
    #[serde(default)]
    meta: BTreeMap<String, String>,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    doc: Vec<RawDoc>,
    query: Vec<LabelledQuery>,
}

impl Labelled {
    /// The embedded file; a mistake in it is the test author's, hence the
    /// panics.
    pub fn load() -> Self {
        let raw: RawFile = toml::from_str(QUERIES).expect("tests/relevance/queries.toml reads");
        let docs: Vec<PlantedDoc> = raw
            .doc
            .into_iter()
            .map(|d| PlantedDoc {
                date: date(&d.date),
                key: d.key,
                space: d.space,
                doc_type: d.doc_type,
                name: d.name,
                folder: d.folder,
                pdf: d.pdf,
                meta: d.meta.into_iter().collect(),
                text: d.text,
            })
            .collect();
        for q in &raw.query {
            for k in &q.expect {
                assert!(
                    docs.iter().any(|d| &d.key == k),
                    "query {:?} expects {k:?}, which is not planted",
                    q.text
                );
            }
        }
        Self {
            docs,
            queries: raw.query,
        }
    }

    /// The index of the planted document `key` in the corpus.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.docs.iter().position(|d| d.key == key)
    }
}

/// `YYYY-MM-DD`.
pub fn date(s: &str) -> Date {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, fmt).unwrap_or_else(|_| panic!("{s:?} is not a date as YYYY-MM-DD"))
}

/// What a run of the labelled set found.
#[derive(Clone, Debug, Default)]
pub struct Recall {
    /// Mean over the queries of the share of expected documents in the
    /// first ten hits.
    pub at_10: f64,
    /// Queries that missed some, with the keys missed.
    pub misses: Vec<(String, Vec<String>)>,
}

impl Labelled {
    /// Scores `hits` (the first ten document ids of each query, in the
    /// order of [`Labelled::queries`]); `id_of` gives a planted key's id.
    pub fn recall(
        &self,
        hits: &[Vec<passerelle_core::ids::DocumentId>],
        id_of: impl Fn(&str) -> passerelle_core::ids::DocumentId,
    ) -> Recall {
        let mut sum = 0.0;
        let mut misses = Vec::new();
        for (q, found) in self.queries.iter().zip(hits) {
            let top: Vec<_> = found.iter().take(10).collect();
            let missed: Vec<String> = q
                .expect
                .iter()
                .filter(|k| !top.contains(&&id_of(k)))
                .cloned()
                .collect();
            sum += (q.expect.len() - missed.len()) as f64 / q.expect.len().max(1) as f64;
            if !missed.is_empty() {
                misses.push((q.text.clone(), missed));
            }
        }
        Recall {
            at_10: sum / self.queries.len().max(1) as f64,
            misses,
        }
    }
}
