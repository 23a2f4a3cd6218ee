//! Facet counts over every hit (not only the page), read from fast fields
//! in the same pass as the top docs and the total: per segment, counts by
//! term ordinal (cheap at 100k hits), turned into strings once at the end.

use std::collections::BTreeMap;

use passerelle_core::search::Facets;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::schema::{AUTHOR, SPACE, TYPE, YEAR};

/// Counts hits by type, space, author and year.
#[derive(Debug, Default)]
pub(crate) struct FacetCounter;

/// Raw counts by value, before the values are parsed into core's types.
#[derive(Debug, Default)]
pub(crate) struct RawFacets {
    pub types: BTreeMap<String, u64>,
    pub spaces: BTreeMap<String, u64>,
    pub authors: BTreeMap<String, u64>,
    pub years: BTreeMap<i64, u64>,
}

/// Counts by term ordinal of one string fast field in one segment.
struct OrdCounts {
    column: Option<StrColumn>,
    counts: Vec<u64>,
}

impl OrdCounts {
    fn new(column: Option<StrColumn>) -> Self {
        let terms = column.as_ref().map_or(0, |c| c.num_terms());
        Self {
            column,
            counts: vec![0; terms],
        }
    }

    fn collect(&mut self, doc: DocId) {
        if let Some(column) = &self.column {
            for ord in column.term_ords(doc) {
                if let Some(count) = usize::try_from(ord)
                    .ok()
                    .and_then(|o| self.counts.get_mut(o))
                {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let Some(column) = self.column else {
            return out;
        };
        let mut value = String::new();
        for (ord, count) in self.counts.into_iter().enumerate() {
            if count == 0 {
                continue;
            }
            value.clear();
            // An ordinal the dictionary does not know would be a corrupt
            // segment; its count is dropped rather than mislabelled.
            if column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                out.insert(value.clone(), count);
            }
        }
        out
    }
}

pub(crate) struct SegmentFacets {
    types: OrdCounts,
    spaces: OrdCounts,
    authors: OrdCounts,
    year: Column<i64>,
    years: BTreeMap<i64, u64>,
}

impl Collector for FacetCounter {
    type Fruit = RawFacets;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = reader.fast_fields();
        Ok(SegmentFacets {
            types: OrdCounts::new(fast.str(TYPE)?),
            spaces: OrdCounts::new(fast.str(SPACE)?),
            authors: OrdCounts::new(fast.str(AUTHOR)?),
            year: fast.i64(YEAR)?,
            years: BTreeMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<RawFacets>) -> tantivy::Result<RawFacets> {
        let mut out = RawFacets::default();
        for s in segments {
            add_all(&mut out.types, s.types);
            add_all(&mut out.spaces, s.spaces);
            add_all(&mut out.authors, s.authors);
            add_all(&mut out.years, s.years);
        }
        Ok(out)
    }
}

fn add_all<K: Ord>(into: &mut BTreeMap<K, u64>, from: BTreeMap<K, u64>) {
    for (k, n) in from {
        *into.entry(k).or_default() += n;
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = RawFacets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.types.collect(doc);
        self.spaces.collect(doc);
        self.authors.collect(doc);
        if let Some(year) = self.year.first(doc) {
            *self.years.entry(year).or_default() += 1;
        }
    }

    fn harvest(self) -> RawFacets {
        RawFacets {
            types: self.types.harvest(),
            spaces: self.spaces.harvest(),
            authors: self.authors.harvest(),
            years: self.years,
        }
    }
}

impl RawFacets {
    /// Core's facets: ids parsed back (a value that does not parse was not
    /// written by this adapter and is left out), years in `i32`.
    pub(crate) fn into_facets(self) -> Facets {
        Facets {
            types: self.types,
            spaces: parse_keys(self.spaces),
            authors: parse_keys(self.authors),
            years: self
                .years
                .into_iter()
                .filter_map(|(y, n)| i32::try_from(y).ok().map(|y| (y, n)))
                .collect(),
        }
    }
}

fn parse_keys<K: std::str::FromStr + Ord>(raw: BTreeMap<String, u64>) -> BTreeMap<K, u64> {
    raw.into_iter()
        .filter_map(|(k, n)| k.parse().ok().map(|k| (k, n)))
        .collect()
}
