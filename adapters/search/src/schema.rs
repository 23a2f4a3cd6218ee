//! The index's schema (ADR 0006 §4): which field holds what, how it is
//! analysed, and how core's [`IndexedDocument`] becomes a tantivy document.
//!
//! Raw fields (`id`, `space`, `folders`, `type`, `author`, `hash`) are
//! matched exactly; analysed fields use the French analyzer; names and
//! metadata text also get a folded, unstemmed copy for prefixes.

use std::collections::BTreeMap;

use passerelle_core::search::{IndexedDocument, MetaValue};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, JsonObjectOptions, OwnedValue, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, Index, TantivyDocument};
use time::{Date, OffsetDateTime};

use crate::analyzer::{self, FOLDED, FRENCH};

/// Bumped whenever the schema or the analysis changes: an index written
/// with another version is deleted and rebuilt from the repository.
pub const SCHEMA_VERSION: u32 = 1;

/// Handles on every field, resolved once from the schema.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub id: Field,
    pub space: Field,
    pub folders: Field,
    pub doc_type: Field,
    pub author: Field,
    pub trashed: Field,
    pub modified: Field,
    pub year: Field,
    pub name_sort: Field,
    pub hash: Field,
    pub name: Field,
    pub name_exact: Field,
    pub comment: Field,
    pub folder_path: Field,
    pub space_name: Field,
    pub author_name: Field,
    pub text: Field,
    /// Every metadata text value, whatever its key: what `Anywhere` looks in.
    pub meta_text: Field,
    pub meta_text_exact: Field,
    /// Metadata text by key (JSON path = key), analysed.
    pub meta: Field,
    pub meta_exact: Field,
    /// Metadata numbers and dates by key (JSON path = key), fast, for ranges.
    pub meta_values: Field,
}

/// Fast-field names, as collectors and sorts address them.
pub(crate) const MODIFIED: &str = "modified";
pub(crate) const NAME_SORT: &str = "name_sort";
pub(crate) const TYPE: &str = "type";
pub(crate) const SPACE: &str = "space";
pub(crate) const AUTHOR: &str = "author";
pub(crate) const YEAR: &str = "year";
pub(crate) const META_VALUES: &str = "meta_values";

fn analysed(tokenizer: &str, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

fn json_analysed(tokenizer: &str) -> JsonObjectOptions {
    JsonObjectOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// The schema of [`SCHEMA_VERSION`].
pub(crate) fn build() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("id", STRING | STORED);
    b.add_text_field(SPACE, STRING | STORED | FAST);
    b.add_text_field("folders", STRING);
    b.add_text_field(TYPE, STRING | FAST);
    b.add_text_field(AUTHOR, STRING | FAST);
    b.add_bool_field("trashed", INDEXED);
    b.add_date_field(MODIFIED, INDEXED | FAST);
    b.add_i64_field(YEAR, FAST);
    b.add_text_field(NAME_SORT, TextOptions::default().set_fast("raw"));
    b.add_text_field("hash", STRING | STORED);
    b.add_text_field("name", analysed(FRENCH, true));
    b.add_text_field("name_exact", analysed(FOLDED, false));
    b.add_text_field("comment", analysed(FRENCH, true));
    b.add_text_field("folder_path", analysed(FRENCH, false));
    b.add_text_field("space_name", analysed(FRENCH, false));
    b.add_text_field("author_name", analysed(FRENCH, false));
    b.add_text_field("text", analysed(FRENCH, true));
    b.add_text_field("meta_text", analysed(FRENCH, false));
    b.add_text_field("meta_text_exact", analysed(FOLDED, false));
    b.add_json_field("meta", json_analysed(FRENCH));
    b.add_json_field("meta_exact", json_analysed(FOLDED));
    b.add_json_field(META_VALUES, JsonObjectOptions::default().set_fast("raw"));
    b.build()
}

/// Registers the analyzers the schema names; needed on every open, since
/// tantivy does not persist custom tokenizers.
pub(crate) fn register_analyzers(index: &Index) {
    index.tokenizers().register(FRENCH, analyzer::french());
    index.tokenizers().register(FOLDED, analyzer::folded());
}

impl Fields {
    /// Resolves the handles; fails on a schema that is not [`build`]'s.
    pub(crate) fn of(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            id: f("id")?,
            space: f(SPACE)?,
            folders: f("folders")?,
            doc_type: f(TYPE)?,
            author: f(AUTHOR)?,
            trashed: f("trashed")?,
            modified: f(MODIFIED)?,
            year: f(YEAR)?,
            name_sort: f(NAME_SORT)?,
            hash: f("hash")?,
            name: f("name")?,
            name_exact: f("name_exact")?,
            comment: f("comment")?,
            folder_path: f("folder_path")?,
            space_name: f("space_name")?,
            author_name: f("author_name")?,
            text: f("text")?,
            meta_text: f("meta_text")?,
            meta_text_exact: f("meta_text_exact")?,
            meta: f("meta")?,
            meta_exact: f("meta_exact")?,
            meta_values: f(META_VALUES)?,
        })
    }

    /// The tantivy document of `doc`.
    pub(crate) fn document(&self, doc: &IndexedDocument) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(self.id, doc.id.to_string());
        d.add_text(self.space, doc.space.to_string());
        for folder in &doc.folder_ancestry {
            d.add_text(self.folders, folder.to_string());
        }
        if let Some(folder) = doc.folder
            && !doc.folder_ancestry.contains(&folder)
        {
            d.add_text(self.folders, folder.to_string());
        }
        if let Some(t) = &doc.doc_type {
            d.add_text(self.doc_type, t);
        }
        d.add_text(self.author, doc.author.to_string());
        d.add_bool(self.trashed, doc.trashed);
        d.add_date(self.modified, date_time(doc.modified));
        d.add_i64(
            self.year,
            i64::from(doc.modified.to_offset(time::UtcOffset::UTC).year()),
        );
        d.add_text(self.name_sort, analyzer::sort_key(&doc.name));
        d.add_text(self.hash, doc.hash.to_hex());
        d.add_text(self.name, &doc.name);
        d.add_text(self.name_exact, &doc.name);
        d.add_text(self.comment, &doc.comment);
        d.add_text(self.folder_path, &doc.folder_path);
        d.add_text(self.space_name, &doc.space_name);
        d.add_text(self.author_name, &doc.author_name);
        d.add_text(self.text, &doc.text);
        self.add_metadata(&mut d, &doc.metadata);
        d
    }

    fn add_metadata(&self, d: &mut TantivyDocument, metadata: &[(String, MetaValue)]) {
        let mut texts: BTreeMap<String, Vec<OwnedValue>> = BTreeMap::new();
        let mut values: BTreeMap<String, Vec<OwnedValue>> = BTreeMap::new();
        for (key, value) in metadata {
            match value {
                MetaValue::Text(t) => {
                    d.add_text(self.meta_text, t);
                    d.add_text(self.meta_text_exact, t);
                    texts
                        .entry(key.clone())
                        .or_default()
                        .push(OwnedValue::Str(t.clone()));
                }
                MetaValue::Number(n) if n.is_finite() => {
                    values
                        .entry(key.clone())
                        .or_default()
                        .push(OwnedValue::F64(*n));
                }
                // NaN and infinities compare with nothing: no range finds them.
                MetaValue::Number(_) => {}
                MetaValue::Date(day) => {
                    values
                        .entry(key.clone())
                        .or_default()
                        .push(OwnedValue::Date(midnight(*day)));
                }
            }
        }
        if !texts.is_empty() {
            let texts = json_object(texts);
            d.add_object(self.meta, texts.clone());
            d.add_object(self.meta_exact, texts);
        }
        if !values.is_empty() {
            d.add_object(self.meta_values, json_object(values));
        }
    }
}

/// One JSON value per key: the value itself, or an array when a key
/// repeats.
fn json_object(by_key: BTreeMap<String, Vec<OwnedValue>>) -> BTreeMap<String, OwnedValue> {
    by_key
        .into_iter()
        .map(|(key, mut values)| {
            let value = if values.len() == 1 {
                values.remove(0)
            } else {
                OwnedValue::Array(values)
            };
            (key, value)
        })
        .collect()
}

/// An instant as tantivy holds it (seconds are the date fields' precision).
pub(crate) fn date_time(at: OffsetDateTime) -> DateTime {
    DateTime::from_timestamp_secs(at.unix_timestamp())
}

/// A day as the instant it starts, UTC: how day bounds and metadata dates
/// are compared.
pub(crate) fn midnight(day: Date) -> DateTime {
    date_time(day.midnight().assume_utc())
}
