//! French analysis, the same at indexing and query time, so that what
//! people type without accents, in another inflection, or with a straight
//! or typographic apostrophe, finds what was written: words split on
//! anything not alphanumeric (apostrophes included, which turns `l'arrêté`
//! into `l` + `arrêté`), lower-cased, French stop words and elided forms
//! removed while they still carry their accents, folded to ASCII, then
//! stemmed (Snowball French).
//!
//! tantivy's own French list keeps `être`, `été`, `où`, `ça` and the long
//! elisions (`jusqu'`, `lorsqu'`), hence the list here (ADR 0006 §4).

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer,
};

/// The name the analyzer is registered under in an index.
pub const FRENCH: &str = "passerelle_fr";

/// The name of [`folded`], the unstemmed copy of names and metadata text.
pub const FOLDED: &str = "passerelle_fr_folded";

/// Longer tokens are dropped (hashes, base64 in extracted text): nobody
/// searches them and they bloat the index.
const MAX_TOKEN_BYTES: usize = 64;

/// French stop words, with their accents, and the elided forms left when a
/// word is split at its apostrophe (`qu'il` → `qu` + `il`).
const STOP_WORDS: &[&str] = &[
    // Articles, prepositions, conjunctions.
    "à", "au", "aux", "avec", "ce", "ces", "cet", "cette", "dans", "de", "des", "du", "en", "et",
    "la", "le", "les", "mais", "ni", "or", "ou", "où", "par", "pour", "sans", "sous", "sur", "un",
    "une", "vers", "car", "donc", "dont", "que", "qui", "quoi", "si", "comme",
    // Pronouns and determiners.
    "je", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "me", "te", "se", "lui", "leur",
    "leurs", "eux", "moi", "toi", "soi", "ma", "ta", "sa", "mon", "ton", "son", "mes", "tes",
    "ses", "nos", "vos", "notre", "votre", "ça", "cela", "ceci", "y",
    // Negation and common adverbs.
    "ne", "pas", "plus", "même", "aussi", "très",
    // Elided forms, straight or typographic apostrophe alike.
    "c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu",
    "quelqu", // Être and avoir, the forms that carry no meaning of their own.
    "être", "été", "étant", "suis", "es", "est", "sommes", "êtes", "sont", "était", "étaient",
    "sera", "seront", "soit", "soient", "fut", "avoir", "eu", "ai", "as", "a", "avons", "avez",
    "ont", "avait", "avaient", "aura", "auront", "ait", "aient",
];

/// The analyzer of every text field: names, metadata text, comments and
/// extracted content.
pub fn french() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::French))
        .build()
}

/// [`french`] without the stemmer: the copy of names and metadata text on
/// which prefixes and exact words are looked for, since a prefix typed by
/// someone (`commande*`) is not a prefix of its stem (`command`).
pub fn folded() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .filter(AsciiFoldingFilter)
        .build()
}

/// What a prefix is analysed with: lower-cased and folded, stop words kept,
/// because `de*` asks for `délibération`, not for the article.
pub fn prefix() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The key names sort on: the whole name lower-cased and folded, so that
/// `École` sorts with `ecole`, between `D` and `F`.
pub fn sort_key(name: &str) -> String {
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(name);
    let mut out = String::with_capacity(name.len());
    while stream.advance() {
        out.push_str(&stream.token().text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut analyzer = french();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// What people type finds what was written: the pairs analyse alike.
    #[test]
    fn accents_inflections_and_apostrophes_do_not_matter() {
        for (typed, written) in [
            ("deliberation", "délibérations"),
            ("arrete", "l'arrêté"),
            ("arrete", "l’arrêté"),
            ("marches publics", "marchés publics"),
            ("marche public", "Marchés Publics"),
            ("piscine", "piscines"),
            ("bon de commande", "Bons de commande"),
            ("Etienne", "Étienne"),
        ] {
            assert_eq!(terms(typed), terms(written), "{typed:?} vs {written:?}");
            assert!(!terms(typed).is_empty(), "{typed:?}");
        }
    }

    #[test]
    fn stop_words_and_elisions_go_even_with_accents() {
        assert_eq!(terms("Être été où ça"), Vec::<String>::new());
        assert_eq!(terms("jusqu'à lorsqu’il qu'un d'une"), Vec::<String>::new());
        assert_eq!(terms("le cahier des charges"), terms("cahier charges"));
    }

    #[test]
    fn folded_keeps_whole_words_and_sort_keys_ignore_case_and_accents() {
        let mut analyzer = folded();
        let mut stream = analyzer.token_stream("Bons de Commande");
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        assert_eq!(out, vec!["bons".to_owned(), "commande".to_owned()]);
        assert_eq!(sort_key("École Élémentaire"), "ecole elementaire");
    }

    #[test]
    fn hostile_text_gives_bounded_tokens() {
        let long = "a".repeat(10_000);
        assert!(terms(&long).is_empty(), "a token over the limit is dropped");
        assert_eq!(terms("\0\u{200b}\u{feff}"), Vec::<String>::new());
        assert_eq!(terms("n°12 CCTP"), vec!["12".to_owned(), "cctp".to_owned()]);
    }
}
