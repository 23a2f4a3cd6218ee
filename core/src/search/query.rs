//! The lenient search parser: any text a user types becomes a [`Query`],
//! never an error. Unbalanced quotes run to the end, stray parentheses and
//! dangling operators are dropped, and a `field:` prefix that is not a field
//! name stays part of the word. What the engine must handle is bounded:
//! [`MAX_INPUT`] characters, [`MAX_CLAUSES`] clauses and [`MAX_DEPTH`] levels
//! of parentheses.
//!
//! Syntax, as people type it in Alfresco or a web search engine:
//! words (all required), `"a phrase"` (straight or typographic quotes,
//! `« »` too), `piscin*` (prefix), `field:word`, `field:"a phrase"`,
//! `field:[10000 TO 20000]` (`{ }` for exclusive bounds, `*` for none),
//! `field:>=2026-01-01` (`>`, `>=`, `<`, `<=`), `AND`, `OR`, `NOT` or `-`,
//! and parentheses. Which fields exist, and their types, is the caller's
//! business (the document types' catalogue); the parser only reads names.

use std::fmt;

/// Longest input read, in characters; the rest is ignored.
pub const MAX_INPUT: usize = 1_000;
/// Most clauses (words, phrases, prefixes, ranges) kept; the rest is ignored.
pub const MAX_CLAUSES: usize = 32;
/// Deepest nesting of parentheses; deeper ones are read as if absent.
pub const MAX_DEPTH: usize = 4;
/// Longest field name.
const MAX_FIELD: usize = 64;

/// A field name as typed: ASCII, lower-cased, `[a-z][a-z0-9_]*`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Field(String);

impl Field {
    /// `raw` as a field name, if it is one (case is ignored).
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.to_ascii_lowercase();
        let mut chars = name.chars();
        let first = chars.next()?;
        let valid = first.is_ascii_lowercase()
            && name.len() <= MAX_FIELD
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        valid.then_some(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One end of a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    Included(String),
    Excluded(String),
    Unbounded,
}

/// What a search asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// Every document the caller may read (an empty search, or the
    /// positive side of a search made only of exclusions).
    All,
    /// A word, analysed by the engine as the field's text is.
    Term { field: Option<Field>, text: String },
    /// Words next to each other, in this order.
    Phrase {
        field: Option<Field>,
        words: Vec<String>,
    },
    /// Words that start with `text`.
    Prefix { field: Option<Field>, text: String },
    /// Values of a field between two bounds (dates, amounts, or text).
    Range {
        field: Field,
        lower: Bound,
        upper: Bound,
    },
    /// Every part (at least one of them not a `Not`).
    And(Vec<Query>),
    /// Any part.
    Or(Vec<Query>),
    /// Not this (only inside an `And`).
    Not(Box<Query>),
}

/// Reads what a user typed. Never fails; see the module's documentation.
pub fn parse(input: &str) -> Query {
    let end = input
        .char_indices()
        .nth(MAX_INPUT)
        .map_or(input.len(), |(i, _)| i);
    let tokens = lex(&input[..end]);
    let mut parser = Parser {
        tokens,
        at: 0,
        clauses: 0,
    };
    let mut parts = Vec::new();
    while parser.at < parser.tokens.len() {
        if let Some(q) = parser.or_expr(0) {
            parts.push(q);
        } else {
            // A stray `)` or operator: skipped.
            parser.at += 1;
        }
    }
    normalize(conjunction(parts), false)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Minus,
}

/// Closing quote for an opening one.
fn closing(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        '«' => Some('»'),
        '„' => Some('“'),
        _ => None,
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '«' | '»' | '„')
}

fn lex(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c.is_control() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            tokens.push(if c == '(' { Token::Open } else { Token::Close });
        } else if let Some(close) = closing(c) {
            chars.next();
            let text: String = chars.by_ref().take_while(|&x| x != close).collect();
            tokens.push(Token::Quoted(text));
        } else if (c == '-' || c == '+') && tokens_start_clause(&mut chars) {
            if c == '-' {
                tokens.push(Token::Minus);
            }
        } else {
            let mut word = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || x.is_control() || x == '(' || x == ')' {
                    break;
                }
                // An opening quote starts a phrase (`field:"…"` too); a
                // lone closing one is dropped: words never hold quotes.
                if closing(x).is_some() {
                    break;
                }
                chars.next();
                if !is_quote(x) {
                    word.push(x);
                }
            }
            tokens.push(Token::Word(word));
        }
    }
    tokens
}

/// Consumes a leading `-` or `+` when something follows it directly.
fn tokens_start_clause(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let mut ahead = chars.clone();
    ahead.next();
    match ahead.peek() {
        Some(&n) if !n.is_whitespace() && !n.is_control() && n != ')' => {
            chars.next();
            true
        }
        _ => false,
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    clauses: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(x)) if x == w)
    }

    fn or_expr(&mut self, depth: usize) -> Option<Query> {
        let mut alternatives = Vec::new();
        loop {
            if let Some(q) = self.and_expr(depth) {
                alternatives.push(q);
            }
            if self.is_word("OR") {
                self.at += 1;
            } else {
                break;
            }
        }
        match alternatives.len() {
            0 => None,
            1 => alternatives.pop(),
            _ => Some(Query::Or(alternatives)),
        }
    }

    fn and_expr(&mut self, depth: usize) -> Option<Query> {
        let mut parts = Vec::new();
        loop {
            while self.is_word("AND") {
                self.at += 1;
            }
            match self.peek() {
                None | Some(Token::Close) => break,
                Some(Token::Word(w)) if w == "OR" => break,
                _ => {}
            }
            if let Some(q) = self.unary(depth) {
                parts.push(q);
            }
        }
        (!parts.is_empty()).then(|| conjunction(parts))
    }

    fn unary(&mut self, depth: usize) -> Option<Query> {
        let mut negated = false;
        while matches!(self.peek(), Some(Token::Minus)) || self.is_word("NOT") {
            negated = !negated;
            self.at += 1;
        }
        let q = self.primary(depth)?;
        Some(if negated { Query::Not(Box::new(q)) } else { q })
    }

    fn primary(&mut self, depth: usize) -> Option<Query> {
        let token = self.peek()?.clone();
        self.at += 1;
        match token {
            Token::Open if depth < MAX_DEPTH => {
                let inner = self.or_expr(depth + 1);
                if matches!(self.peek(), Some(Token::Close)) {
                    self.at += 1;
                }
                inner
            }
            // Too deep: the parenthesis is read as if absent.
            Token::Open => self.unary(depth),
            // A `)` with nothing open, an operator with nothing after it.
            Token::Close | Token::Minus => None,
            Token::Quoted(text) => self.leaf(phrase(None, &text)),
            Token::Word(word) => {
                let q = self.word(&word);
                self.leaf(q)
            }
        }
    }

    /// Counts a clause; past the limit it is dropped.
    fn leaf(&mut self, q: Option<Query>) -> Option<Query> {
        let q = q?;
        if self.clauses >= MAX_CLAUSES {
            return None;
        }
        self.clauses += 1;
        Some(q)
    }

    fn word(&mut self, word: &str) -> Option<Query> {
        if let Some((name, rest)) = word.split_once(':')
            && let Some(field) = Field::parse(name)
        {
            if rest.is_empty() {
                return match self.peek() {
                    Some(Token::Quoted(text)) => {
                        let text = text.clone();
                        self.at += 1;
                        phrase(Some(field), &text)
                    }
                    _ => term(None, name),
                };
            }
            if let Some(q) = self.range(&field, rest) {
                return Some(q);
            }
            return term(Some(field), rest);
        }
        term(None, word)
    }

    /// `[a TO b]`, `{a TO b}` (over three words) or `>=a`, `<b`…
    fn range(&mut self, field: &Field, rest: &str) -> Option<Query> {
        for (op, lower) in [(">=", true), ("<=", false), (">", true), ("<", false)] {
            if let Some(value) = rest.strip_prefix(op) {
                let value = bound_text(value)?;
                let bound = if op.len() == 2 {
                    Bound::Included(value)
                } else {
                    Bound::Excluded(value)
                };
                let (lower, upper) = if lower {
                    (bound, Bound::Unbounded)
                } else {
                    (Bound::Unbounded, bound)
                };
                return Some(Query::Range {
                    field: field.clone(),
                    lower,
                    upper,
                });
            }
        }
        let inclusive_low = match rest.chars().next()? {
            '[' => true,
            '{' => false,
            _ => return None,
        };
        let low = &rest[1..];
        let Some(Token::Word(to)) = self.tokens.get(self.at) else {
            return None;
        };
        if to != "TO" {
            return None;
        }
        // A negative upper bound (`TO -500]`) was lexed as an exclusion.
        let (high, used) = match (self.tokens.get(self.at + 1), self.tokens.get(self.at + 2)) {
            (Some(Token::Word(high)), _) => (high.clone(), 2),
            (Some(Token::Minus), Some(Token::Word(high))) => (format!("-{high}"), 3),
            _ => return None,
        };
        let inclusive_high = match high.chars().last()? {
            ']' => true,
            '}' => false,
            _ => return None,
        };
        let high = &high[..high.len() - 1];
        let low = low.to_owned();
        let bound = |text: &str, inclusive: bool| match bound_text(text) {
            None => Bound::Unbounded,
            Some(v) if inclusive => Bound::Included(v),
            Some(v) => Bound::Excluded(v),
        };
        let (lower, upper) = (bound(&low, inclusive_low), bound(high, inclusive_high));
        self.at += used;
        Some(Query::Range {
            field: field.clone(),
            lower,
            upper,
        })
    }
}

/// A bound's value; `*`, or nothing searchable, is no bound. A leading `+`
/// says nothing (`+500` is `500`).
fn bound_text(text: &str) -> Option<String> {
    let clean: String = text
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '{' | '}') && !is_quote(*c))
        .collect();
    // Leading signs: one minus at most (`--5`, `-+5` are `-5`), as written
    // back; a `+` says nothing.
    let unsigned = clean.trim_start_matches(['+', '-']);
    let signs = &clean[..clean.len() - unsigned.len()];
    let value = if signs.contains('-') {
        format!("-{unsigned}")
    } else {
        unsigned.to_owned()
    };
    searchable(&value).then_some(value)
}

/// A word worth searching: something alphanumeric in it.
fn searchable(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// A word as a term or a prefix, cleaned so that its canonical text reads
/// back the same: no brackets (a broken range must not become one), no
/// leading sign or comparison, no bare operator, and a `field:` revealed by
/// the cleaning taken as one.
fn term(field: Option<Field>, text: &str) -> Option<Query> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '{' | '}'))
        .collect();
    let (field, text) = match field {
        Some(f) => (Some(f), cleaned.trim_start_matches(['>', '<', '='])),
        None => {
            let unsigned = cleaned.trim_start_matches(['-', '+']);
            match unsigned.split_once(':') {
                Some((name, rest)) if Field::parse(name).is_some() => {
                    if rest.is_empty() {
                        // `type:` with nothing after it: the word itself.
                        (None, name)
                    } else {
                        (Field::parse(name), rest.trim_start_matches(['>', '<', '=']))
                    }
                }
                _ => (None, unsigned),
            }
        }
    };
    let text = if field.is_none() && matches!(text, "AND" | "OR" | "NOT") {
        text.to_lowercase()
    } else {
        text.to_owned()
    };
    if let Some(stem) = text.strip_suffix('*') {
        return searchable(stem).then(|| Query::Prefix {
            field,
            text: stem.to_owned(),
        });
    }
    searchable(&text).then_some(Query::Term { field, text })
}

fn phrase(field: Option<Field>, text: &str) -> Option<Query> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c.is_control() || is_quote(c))
        .filter(|w| searchable(w))
        .map(str::to_owned)
        .collect();
    (!words.is_empty()).then_some(Query::Phrase { field, words })
}

fn conjunction(mut parts: Vec<Query>) -> Query {
    match parts.len() {
        0 => Query::All,
        1 => parts.pop().unwrap_or(Query::All),
        _ => Query::And(parts),
    }
}

/// Flattens nested `And`s and `Or`s, and gives every `Not` a positive
/// sibling (`All` when the user gave none), so engines need no special case.
fn normalize(q: Query, in_and: bool) -> Query {
    match q {
        Query::And(parts) => {
            let mut flat = Vec::new();
            for p in parts {
                match normalize(p, true) {
                    Query::And(inner) => {
                        flat.extend(inner.into_iter().filter(|q| *q != Query::All))
                    }
                    Query::All => {}
                    other => flat.push(other),
                }
            }
            if flat.iter().all(|p| matches!(p, Query::Not(_))) {
                flat.insert(0, Query::All);
            }
            conjunction(flat)
        }
        Query::Or(parts) => {
            let mut flat = Vec::new();
            for p in parts {
                match normalize(p, false) {
                    Query::Or(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            if flat.contains(&Query::All) {
                return Query::All;
            }
            conjunction_or(flat)
        }
        Query::Not(inner) => {
            let inner = normalize(*inner, false);
            let not = match inner {
                // Not everything is nothing: an And the engine answers empty.
                Query::Not(x) => return normalize(*x, in_and),
                other => Query::Not(Box::new(other)),
            };
            if in_and {
                not
            } else {
                Query::And(vec![Query::All, not])
            }
        }
        leaf => leaf,
    }
}

fn conjunction_or(mut parts: Vec<Query>) -> Query {
    match parts.len() {
        0 => Query::All,
        1 => parts.pop().unwrap_or(Query::All),
        _ => Query::Or(parts),
    }
}

/// The canonical text of a query: parsing it gives the same query back.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = |f: &mut fmt::Formatter<'_>, field: &Option<Field>| match field {
            Some(name) => write!(f, "{}:", name.as_str()),
            None => Ok(()),
        };
        match self {
            Query::All => Ok(()),
            Query::Term { field: name, text } => {
                field(f, name)?;
                f.write_str(text)
            }
            Query::Prefix { field: name, text } => {
                field(f, name)?;
                write!(f, "{text}*")
            }
            Query::Phrase { field: name, words } => {
                field(f, name)?;
                write!(f, "\"{}\"", words.join(" "))
            }
            Query::Range {
                field: name,
                lower,
                upper,
            } => {
                let (open, low) = match lower {
                    Bound::Included(v) => ('[', v.as_str()),
                    Bound::Excluded(v) => ('{', v.as_str()),
                    Bound::Unbounded => ('[', "*"),
                };
                let (close, high) = match upper {
                    Bound::Included(v) => (']', v.as_str()),
                    Bound::Excluded(v) => ('}', v.as_str()),
                    Bound::Unbounded => (']', "*"),
                };
                write!(f, "{}:{open}{low} TO {high}{close}", name.as_str())
            }
            Query::And(parts) => {
                let mut first = true;
                for p in parts.iter().filter(|p| **p != Query::All) {
                    if !first {
                        f.write_str(" ")?;
                    }
                    first = false;
                    match p {
                        Query::Or(_) => write!(f, "({p})")?,
                        _ => write!(f, "{p}")?,
                    }
                }
                Ok(())
            }
            Query::Or(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    // `AND` binds tighter than `OR`: an `And` needs no
                    // parentheses here, and adding some could pass
                    // MAX_DEPTH when parsed again.
                    match p {
                        Query::Or(_) => write!(f, "({p})")?,
                        _ => write!(f, "{p}")?,
                    }
                }
                Ok(())
            }
            Query::Not(inner) => match inner.as_ref() {
                Query::And(_) | Query::Or(_) => write!(f, "-({inner})"),
                _ => write!(f, "-{inner}"),
            },
        }
    }
}

#[cfg(test)]
mod tests;
