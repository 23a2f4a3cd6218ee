//! Core's resolved query ([`Find`]) as a tantivy [`Query`]: words analysed
//! as the fields were, exact values as terms, day and number bounds as
//! fast-field ranges. Never through tantivy's query parser: core already
//! parsed what the user typed, and no input may become a syntax error.

use std::ops::Bound;

use passerelle_core::search::{DateField, Exact, Find, Within};
use tantivy::DateTime;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, DisjunctionMaxQuery, ExistsQuery, Occur, PhrasePrefixQuery,
    PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::tokenizer::TextAnalyzer;
use time::Date;

use crate::analyzer;
use crate::guard::Guarded;
use crate::schema::{Fields, META_VALUES, midnight};

/// Most terms one prefix expands to: `a*` must not become a query over
/// the whole dictionary.
pub(crate) const MAX_PREFIX_TERMS: u32 = 50;

/// A clause once compiled. `All` and `Nothing` are kept apart from real
/// queries so that `And`/`Or` simplify them (a word made only of stop
/// words constrains nothing; a type that does not exist matches nothing).
pub(crate) enum Compiled {
    All,
    Nothing,
    Query(Box<dyn Query>),
}

impl Compiled {
    /// The query to run (`All` as an [`AllQuery`]); `None` for `Nothing`.
    pub(crate) fn into_query(self) -> Option<Box<dyn Query>> {
        match self {
            Compiled::All => Some(Box::new(AllQuery)),
            Compiled::Nothing => None,
            Compiled::Query(q) => Some(q),
        }
    }
}

/// Where analysed words of a [`Within`] are looked for: a field, or a
/// metadata key inside a JSON field.
#[derive(Clone, Debug)]
enum Target {
    Plain(Field),
    Json(Field, String),
}

impl Target {
    fn term(&self, token: &str) -> Term {
        match self {
            Target::Plain(field) => Term::from_field_text(*field, token),
            Target::Json(field, key) => {
                let mut term = Term::from_field_json_path(*field, key, false);
                term.append_type_and_str(token);
                term
            }
        }
    }
}

/// One place a `Within` searches, with its boost and its unstemmed copy
/// (the field prefixes are looked for in, when there is one).
struct Place {
    stemmed: Target,
    exact: Option<Target>,
    boost: f32,
}

/// Compiles `Find`s against one schema.
pub(crate) struct Compiler {
    fields: Fields,
    french: TextAnalyzer,
    folded: TextAnalyzer,
    prefix: TextAnalyzer,
}

/// A token as the analyzer gave it: its text and its position.
type Token = (String, usize);

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.position));
    }
    out
}

impl Compiler {
    pub(crate) fn new(fields: Fields) -> Self {
        Self {
            fields,
            french: analyzer::french(),
            folded: analyzer::folded(),
            prefix: analyzer::prefix(),
        }
    }

    /// The schema's fields the compiler addresses.
    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }

    pub(crate) fn compile(&mut self, find: &Find) -> Compiled {
        match find {
            Find::All => Compiled::All,
            Find::Nothing => Compiled::Nothing,
            Find::Word { within, text } => self.words(within, text),
            Find::Phrase { within, words } => self.words(within, &words.join(" ")),
            Find::Prefix { within, text } => self.prefix(within, text),
            Find::Is(exact) => Compiled::Query(Box::new(self.exact(exact))),
            Find::Dates {
                field,
                lower,
                upper,
            } => self.dates(field, *lower, *upper),
            Find::Numbers { key, lower, upper } => self.numbers(key, *lower, *upper),
            Find::And(parts) => self.and(parts),
            Find::Or(parts) => self.or(parts),
            // Outside an `And` (where core puts it), a `Not` means "every
            // document but these".
            Find::Not(_) => self.and(std::slice::from_ref(find)),
        }
    }

    fn places(&self, within: &Within) -> Vec<Place> {
        let f = &self.fields;
        let plain = |field: Field, exact: Option<Field>, boost: f32| Place {
            stemmed: Target::Plain(field),
            exact: exact.map(Target::Plain),
            boost,
        };
        match within {
            Within::Anywhere => vec![
                plain(f.name, Some(f.name_exact), 3.0),
                plain(f.comment, None, 1.0),
                plain(f.folder_path, None, 1.0),
                plain(f.text, None, 1.0),
                plain(f.meta_text, Some(f.meta_text_exact), 2.0),
            ],
            Within::Name => vec![plain(f.name, Some(f.name_exact), 1.0)],
            Within::Comment => vec![plain(f.comment, None, 1.0)],
            Within::Content => vec![plain(f.text, None, 1.0)],
            Within::FolderPath => vec![plain(f.folder_path, None, 1.0)],
            Within::SpaceName => vec![plain(f.space_name, None, 1.0)],
            Within::Author => vec![plain(f.author_name, None, 1.0)],
            Within::Meta(key) => vec![Place {
                stemmed: Target::Json(f.meta, key.clone()),
                exact: Some(Target::Json(f.meta_exact, key.clone())),
                boost: 1.0,
            }],
        }
    }

    /// A word or a phrase: its analysed tokens, as a term (one token) or a
    /// phrase keeping the gaps stop words left (several).
    fn words(&mut self, within: &Within, text: &str) -> Compiled {
        let stemmed = tokens(&mut self.french, text);
        if stemmed.is_empty() {
            return Compiled::All;
        }
        // The unstemmed copy of one word, where there is one, ranks the
        // word as typed above its inflections; it matches no other document.
        let folded = match tokens(&mut self.folded, text).as_slice() {
            [one] if stemmed.len() == 1 => Some(one.clone()),
            _ => None,
        };
        let mut per_place = Vec::new();
        for place in self.places(within) {
            per_place.push(boosted(words_query(&place.stemmed, &stemmed), place.boost));
            if let (Some(exact), Some(word)) = (&place.exact, &folded) {
                let exact = words_query(exact, std::slice::from_ref(word));
                per_place.push(boosted(exact, place.boost));
            }
        }
        Compiled::Query(should(per_place))
    }

    /// Words starting with `text`'s last word (after its other words, if
    /// any, as a phrase).
    ///
    /// Scored as the best of its fields, not their sum. A lone prefix is a
    /// dictionary range that tantivy scores as a constant (its boost) in
    /// each field: summed, the score counts how many fields mention the
    /// word, and `piscin*` put every document filed under `… / Piscine`
    /// with a pool `objet` above the order forms *named* after the pool
    /// (issue 14's relevance set). The best field ranks by where the word
    /// stands (name, then metadata, then the rest), and the relevance sort
    /// puts the newest first among equals.
    fn prefix(&mut self, within: &Within, text: &str) -> Compiled {
        let raw = tokens(&mut self.prefix, text);
        let Some((last, last_pos)) = raw.last().cloned() else {
            return Compiled::All;
        };
        // The words before the prefix, as the fields hold them; the same
        // tokenizer numbers positions alike in both analyses.
        let before = text_before_last_token(text, &mut self.prefix);
        let leading_stemmed = tokens(&mut self.french, before);
        let leading_folded = tokens(&mut self.folded, before);
        let stem = tokens(&mut self.french, &last)
            .pop()
            .map(|(t, _)| t)
            .unwrap_or_else(|| last.clone());
        let mut per_place = Vec::new();
        for place in self.places(within) {
            let query = match &place.exact {
                Some(exact) => phrase_prefix(exact, &leading_folded, (&last, last_pos)),
                None => {
                    let mut variants = vec![phrase_prefix(
                        &place.stemmed,
                        &leading_stemmed,
                        (&last, last_pos),
                    )];
                    if stem != last {
                        variants.push(phrase_prefix(
                            &place.stemmed,
                            &leading_stemmed,
                            (&stem, last_pos),
                        ));
                    }
                    best_of(variants)
                }
            };
            per_place.push(boosted(query, place.boost));
        }
        Compiled::Query(best_of(per_place))
    }

    fn exact(&self, exact: &Exact) -> TermQuery {
        let f = &self.fields;
        let term = match exact {
            Exact::Type(t) => Term::from_field_text(f.doc_type, t),
            Exact::Space(s) => Term::from_field_text(f.space, &s.to_string()),
            Exact::Author(a) => Term::from_field_text(f.author, &a.to_string()),
            Exact::Folder(folder) => Term::from_field_text(f.folders, &folder.to_string()),
        };
        TermQuery::new(term, IndexRecordOption::Basic)
    }

    /// Days: a lower bound starts at midnight UTC (after the whole day when
    /// excluded); an included upper bound takes in its whole day.
    fn dates(&self, field: &DateField, lower: Bound<Date>, upper: Bound<Date>) -> Compiled {
        let (Some(lower), Some(upper)) = (day_lower(lower), day_upper(upper)) else {
            // A bound past the calendar's end: nothing is after it.
            return Compiled::Nothing;
        };
        if empty_range(&lower, &upper) {
            return Compiled::Nothing;
        }
        let (field, key) = match field {
            DateField::Modified => (self.fields.modified, None),
            DateField::Meta(key) => (self.fields.meta_values, Some(key.as_str())),
        };
        let term = |at: DateTime| match key {
            None => Term::from_field_date(field, at),
            Some(key) => json_value_term(field, key, at),
        };
        self.range(key, lower.map(term), upper.map(term))
    }

    fn numbers(&self, key: &str, lower: Bound<f64>, upper: Bound<f64>) -> Compiled {
        let nan =
            |b: &Bound<f64>| matches!(b, Bound::Included(v) | Bound::Excluded(v) if v.is_nan());
        if nan(&lower) || nan(&upper) || empty_range(&lower, &upper) {
            return Compiled::Nothing;
        }
        let field = self.fields.meta_values;
        let term = |v: f64| json_value_term(field, key, v);
        self.range(Some(key), lower.map(term), upper.map(term))
    }

    /// A range query, or "has a value" when both bounds are open (tantivy's
    /// range needs at least one bound).
    fn range(&self, key: Option<&str>, lower: Bound<Term>, upper: Bound<Term>) -> Compiled {
        if matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
            return match key {
                // Every document has a modification date.
                None => Compiled::All,
                Some(key) => {
                    Compiled::Query(Box::new(ExistsQuery::new(meta_values_path(key), false)))
                }
            };
        }
        Compiled::Query(Box::new(RangeQuery::new(lower, upper)))
    }

    fn and(&mut self, parts: &[Find]) -> Compiled {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut positive = false;
        for part in parts {
            let (occur, inner) = match part {
                Find::Not(inner) => (Occur::MustNot, inner.as_ref()),
                other => (Occur::Must, other),
            };
            match (occur, self.compile(inner)) {
                (Occur::Must, Compiled::Nothing) | (Occur::MustNot, Compiled::All) => {
                    return Compiled::Nothing;
                }
                (_, Compiled::All) | (_, Compiled::Nothing) => {}
                (Occur::MustNot, Compiled::Query(q)) => {
                    // tantivy asks exclusions whether they hold each doc
                    // with `seek_danger`, which several of its scorers get
                    // wrong (see guard.rs); guarded, they are only seeked.
                    clauses.push((Occur::MustNot, Box::new(Guarded(q))));
                }
                (occur, Compiled::Query(q)) => {
                    positive |= occur == Occur::Must;
                    clauses.push((occur, q));
                }
            }
        }
        if clauses.is_empty() {
            return Compiled::All;
        }
        if !positive {
            // Only exclusions: they exclude from every document.
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        if let [(Occur::Must, _)] = clauses.as_slice() {
            return clauses
                .pop()
                .map_or(Compiled::All, |(_, q)| Compiled::Query(q));
        }
        Compiled::Query(Box::new(BooleanQuery::new(clauses)))
    }

    fn or(&mut self, parts: &[Find]) -> Compiled {
        let mut queries = Vec::new();
        for part in parts {
            match self.compile(part) {
                Compiled::All => return Compiled::All,
                Compiled::Nothing => {}
                Compiled::Query(q) => queries.push(q),
            }
        }
        if queries.is_empty() {
            Compiled::Nothing
        } else {
            Compiled::Query(should(queries))
        }
    }
}

/// The tokens as a term query (one) or a phrase (several), on `target`.
fn words_query(target: &Target, tokens: &[Token]) -> Box<dyn Query> {
    match tokens {
        [(token, _)] => Box::new(TermQuery::new(
            target.term(token),
            IndexRecordOption::WithFreqsAndPositions,
        )),
        _ => {
            let first = tokens.first().map_or(0, |(_, p)| *p);
            let terms = tokens
                .iter()
                .map(|(t, p)| (p - first, target.term(t)))
                .collect();
            Box::new(Guarded(Box::new(PhraseQuery::new_with_offset(terms))))
        }
    }
}

/// `leading` as a phrase, followed by a word starting with `prefix`.
fn phrase_prefix(target: &Target, leading: &[Token], prefix: (&str, usize)) -> Box<dyn Query> {
    let first = leading.first().map_or(prefix.1, |(_, p)| *p);
    let mut terms: Vec<(usize, Term)> = leading
        .iter()
        .map(|(t, p)| (p - first, target.term(t)))
        .collect();
    terms.push((prefix.1.saturating_sub(first), target.term(prefix.0)));
    let mut query = PhrasePrefixQuery::new_with_offset(terms);
    query.set_max_expansions(MAX_PREFIX_TERMS);
    if leading.is_empty() {
        // One term: a range over the dictionary, no phrase scorer.
        Box::new(query)
    } else {
        Box::new(Guarded(Box::new(query)))
    }
}

/// The text before the start of its last token (by the prefix analyzer).
fn text_before_last_token<'a>(text: &'a str, analyzer: &mut TextAnalyzer) -> &'a str {
    let mut stream = analyzer.token_stream(text);
    let mut start = 0;
    while stream.advance() {
        start = stream.token().offset_from;
    }
    text.get(..start).unwrap_or("")
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if (boost - 1.0).abs() < f32::EPSILON {
        query
    } else {
        Box::new(BoostQuery::new(query, boost))
    }
}

/// Any of `queries`, scores summed.
fn should(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1
        && let Some(q) = queries.pop()
    {
        return q;
    }
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// The best of `queries`' scores: one query's matches counted once, in
/// the field where they weigh most.
fn best_of(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1
        && let Some(q) = queries.pop()
    {
        return q;
    }
    Box::new(DisjunctionMaxQuery::new(queries))
}

/// A value at JSON path `key` of `field`, typed as the fast column holds it.
fn json_value_term<T: tantivy::fastfield::FastValue>(field: Field, key: &str, value: T) -> Term {
    let mut term = Term::from_field_json_path(field, key, false);
    term.append_type_and_fast_value(value);
    term
}

/// The fast-field path of metadata `key`: dots in a key are escaped,
/// since keys are not split on them.
fn meta_values_path(key: &str) -> String {
    format!("{}.{}", META_VALUES, key.replace('.', "\\."))
}

fn day_lower(bound: Bound<Date>) -> Option<Bound<DateTime>> {
    Some(match bound {
        Bound::Included(d) => Bound::Included(midnight(d)),
        Bound::Excluded(d) => Bound::Included(midnight(d.next_day()?)),
        Bound::Unbounded => Bound::Unbounded,
    })
}

fn day_upper(bound: Bound<Date>) -> Option<Bound<DateTime>> {
    Some(match bound {
        Bound::Included(d) => match d.next_day() {
            Some(next) => Bound::Excluded(midnight(next)),
            None => Bound::Unbounded,
        },
        Bound::Excluded(d) => Bound::Excluded(midnight(d)),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// Whether no value can lie between the bounds.
fn empty_range<T: PartialOrd>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn day_bounds_take_whole_days_at_midnight_utc() {
        let d = date!(2026 - 02 - 10);
        let next = midnight(date!(2026 - 02 - 11));
        assert_eq!(
            day_lower(Bound::Included(d)),
            Some(Bound::Included(midnight(d)))
        );
        assert_eq!(day_lower(Bound::Excluded(d)), Some(Bound::Included(next)));
        assert_eq!(day_upper(Bound::Included(d)), Some(Bound::Excluded(next)));
        assert_eq!(
            day_upper(Bound::Excluded(d)),
            Some(Bound::Excluded(midnight(d)))
        );
        assert_eq!(
            day_lower(Bound::Excluded(Date::MAX)),
            None,
            "nothing after the last day"
        );
        assert_eq!(
            day_upper(Bound::Included(Date::MAX)),
            Some(Bound::Unbounded)
        );
    }

    #[test]
    fn empty_ranges_are_seen_before_tantivy_runs_them() {
        use Bound::{Excluded, Included, Unbounded};
        assert!(empty_range(&Included(2.0), &Included(1.0)));
        assert!(empty_range(&Excluded(1.0), &Included(1.0)));
        assert!(empty_range(&Included(1.0), &Excluded(1.0)));
        assert!(!empty_range(&Included(1.0), &Included(1.0)));
        assert!(!empty_range(&Unbounded, &Excluded(1.0)));
    }
}
