//! CMIS-QL, the subset this repository answers (ADR 0008 §6), read by a
//! small hand-written parser: `SELECT * | <props> FROM <type> [<alias>]
//! [WHERE <condition>] [ORDER BY <prop> [ASC|DESC]]`, conditions made of
//! comparisons (`= <> < <= > >=`), `[NOT] IN (…)`, `[NOT] LIKE '…'`,
//! `CONTAINS('…')`, `IN_FOLDER('…')`, `IN_TREE('…')`, `AND`, `OR`, `NOT`
//! and parentheses; literals are strings (`'l''été'`), numbers, `TRUE`,
//! `FALSE` and `TIMESTAMP '…'`. Bounded: a statement is at most
//! [`MAX_STATEMENT`] characters, [`MAX_CONDITIONS`] conditions and
//! [`MAX_DEPTH`] levels of nesting. Errors say where, in characters.

use std::fmt;

/// Longest statement read.
pub(crate) const MAX_STATEMENT: usize = 8_000;
/// Most comparisons, `IN`s, `LIKE`s and predicates in a `WHERE`.
pub(crate) const MAX_CONDITIONS: usize = 64;
/// Deepest nesting of parentheses and `NOT`s.
pub(crate) const MAX_DEPTH: usize = 16;

/// A literal as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lit {
    Str(String),
    /// A number, as written (`1234.50`, `-3`).
    Num(String),
    Bool(bool),
    /// `TIMESTAMP '2026-01-01T00:00:00.000Z'`: the quoted text.
    Time(String),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A `WHERE` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        prop: String,
        op: Op,
        value: Lit,
    },
    In {
        prop: String,
        values: Vec<Lit>,
        negated: bool,
    },
    Like {
        prop: String,
        pattern: String,
        negated: bool,
    },
    Contains(String),
    InFolder(String),
    InTree(String),
}

/// A statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Statement {
    /// `None`: `SELECT *`.
    pub(crate) select: Option<Vec<String>>,
    pub(crate) from: String,
    pub(crate) filter: Option<Cond>,
    /// The property and whether it is descending.
    pub(crate) order: Option<(String, bool)>,
}

/// Why a statement was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Where, in characters from the start.
    pub(crate) at: usize,
    pub(crate) what: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.what, self.at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

fn lex(input: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(err(start, "a string is not closed")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if chars.get(i + 1).is_some() => {
                        // CMIS escapes `\'` and `\\` in strings too.
                        text.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(ch) => {
                        text.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push((start, Tok::Str(text)));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let mut text = String::from(c);
            i += 1;
            while let Some(ch) = chars.get(i).filter(|ch| ch.is_ascii_digit() || **ch == '.') {
                text.push(*ch);
                i += 1;
            }
            out.push((start, Tok::Num(text)));
        } else if c.is_alphabetic() || c == '_' {
            let mut text = String::new();
            while let Some(ch) = chars
                .get(i)
                .filter(|ch| ch.is_alphanumeric() || matches!(ch, '_' | ':' | '-' | '.'))
            {
                text.push(*ch);
                i += 1;
            }
            out.push((start, Tok::Word(text)));
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = match two.as_str() {
                "<>" => "<>",
                "<=" => "<=",
                ">=" => ">=",
                _ => match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    '*' => "*",
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    _ => return Err(err(start, &format!("unexpected character '{c}'"))),
                },
            };
            i += sym.len();
            out.push((start, Tok::Sym(sym)));
        }
    }
    Ok(out)
}

fn err(at: usize, what: &str) -> SyntaxError {
    SyntaxError {
        at,
        what: what.to_owned(),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    conditions: usize,
}

impl Parser {
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(p, _)| *p)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn fail<T>(&self, what: &str) -> Result<T, SyntaxError> {
        Err(err(self.pos(), what))
    }

    /// Whether the next token is the keyword `kw` (any case); taken if so.
    fn keyword(&mut self, kw: &str) -> bool {
        let is = matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw));
        if is {
            self.at += 1;
        }
        is
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), SyntaxError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            self.fail(&format!("{kw} expected"))
        }
    }

    fn symbol(&mut self, sym: &str) -> bool {
        let is = matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym);
        if is {
            self.at += 1;
        }
        is
    }

    fn expect_symbol(&mut self, sym: &str) -> Result<(), SyntaxError> {
        if self.symbol(sym) {
            Ok(())
        } else {
            self.fail(&format!("'{sym}' expected"))
        }
    }

    fn name(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Tok::Word(w)) if !is_reserved(w) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => self.fail("a property or type name expected"),
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.at += 1;
                Ok(s)
            }
            _ => self.fail("a quoted string expected"),
        }
    }

    fn statement(&mut self) -> Result<Statement, SyntaxError> {
        self.expect_keyword("SELECT")?;
        let select = if self.symbol("*") {
            None
        } else {
            let mut cols = vec![self.name()?];
            while self.symbol(",") {
                cols.push(self.name()?);
            }
            Some(cols)
        };
        self.expect_keyword("FROM")?;
        let from = self.name()?;
        let alias = match self.peek() {
            Some(Tok::Word(w)) if !is_reserved(w) => Some(self.name()?),
            _ => None,
        };
        let filter = if self.keyword("WHERE") {
            Some(self.or(0)?)
        } else {
            None
        };
        let order = if self.keyword("ORDER") {
            self.expect_keyword("BY")?;
            let prop = self.name()?;
            let desc = if self.keyword("DESC") {
                true
            } else {
                self.keyword("ASC");
                false
            };
            Some((prop, desc))
        } else {
            None
        };
        if self.at < self.toks.len() {
            return self.fail("end of statement expected");
        }
        let mut st = Statement {
            select,
            from,
            filter,
            order,
        };
        if let Some(a) = alias {
            unalias(&mut st, &a);
        }
        Ok(st)
    }

    fn or(&mut self, depth: usize) -> Result<Cond, SyntaxError> {
        let mut parts = vec![self.and(depth)?];
        while self.keyword("OR") {
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Cond, SyntaxError> {
        let mut parts = vec![self.not(depth)?];
        while self.keyword("AND") {
            parts.push(self.not(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn not(&mut self, depth: usize) -> Result<Cond, SyntaxError> {
        if depth >= MAX_DEPTH {
            return self.fail(&format!("at most {MAX_DEPTH} levels of nesting"));
        }
        if self.keyword("NOT") {
            return Ok(Cond::Not(Box::new(self.not(depth + 1)?)));
        }
        if self.symbol("(") {
            let inner = self.or(depth + 1)?;
            self.expect_symbol(")")?;
            return Ok(inner);
        }
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return self.fail(&format!("at most {MAX_CONDITIONS} conditions"));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Cond, SyntaxError> {
        for (kw, make) in [
            ("CONTAINS", Cond::Contains as fn(String) -> Cond),
            ("IN_FOLDER", Cond::InFolder),
            ("IN_TREE", Cond::InTree),
        ] {
            if self.keyword(kw) {
                self.expect_symbol("(")?;
                // `IN_FOLDER(alias, '…')`: the alias names the one table.
                if matches!(self.peek(), Some(Tok::Word(_))) {
                    self.name()?;
                    self.expect_symbol(",")?;
                }
                let arg = self.string()?;
                self.expect_symbol(")")?;
                return Ok(make(arg));
            }
        }
        let prop = self.name()?;
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            self.expect_symbol("(")?;
            let mut values = vec![self.literal()?];
            while self.symbol(",") {
                values.push(self.literal()?);
            }
            self.expect_symbol(")")?;
            return Ok(Cond::In {
                prop,
                values,
                negated,
            });
        }
        if self.keyword("LIKE") {
            let pattern = self.string()?;
            return Ok(Cond::Like {
                prop,
                pattern,
                negated,
            });
        }
        if negated {
            return self.fail("IN or LIKE expected after NOT");
        }
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS")) {
            return self.fail("IS [NOT] NULL is not supported");
        }
        let op = match self.peek() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("<>")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            _ => return self.fail("a comparison (=, <>, <, <=, >, >=), IN or LIKE expected"),
        };
        self.at += 1;
        let value = self.literal()?;
        Ok(Cond::Cmp { prop, op, value })
    }

    fn literal(&mut self) -> Result<Lit, SyntaxError> {
        if self.keyword("TIMESTAMP") {
            return Ok(Lit::Time(self.string()?));
        }
        if self.keyword("TRUE") {
            return Ok(Lit::Bool(true));
        }
        if self.keyword("FALSE") {
            return Ok(Lit::Bool(false));
        }
        let lit = match self.peek() {
            Some(Tok::Str(s)) => Lit::Str(s.clone()),
            Some(Tok::Num(n)) => Lit::Num(n.clone()),
            _ => return self.fail("a literal expected"),
        };
        self.at += 1;
        Ok(lit)
    }
}

const RESERVED: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "CONTAINS",
    "IN_FOLDER",
    "IN_TREE",
    "TIMESTAMP",
    "TRUE",
    "FALSE",
    "IS",
    "NULL",
    "ANY",
    "JOIN",
    "AS",
    "SCORE",
];

fn is_reserved(w: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w))
}

/// Drops `alias.` before property names.
fn unalias(st: &mut Statement, alias: &str) {
    let strip = |p: &mut String| {
        if let Some(rest) = p.strip_prefix(alias).and_then(|r| r.strip_prefix('.')) {
            *p = rest.to_owned();
        }
    };
    if let Some(cols) = &mut st.select {
        cols.iter_mut().for_each(strip);
    }
    if let Some((p, _)) = &mut st.order {
        strip(p);
    }
    if let Some(c) = &mut st.filter {
        unalias_cond(c, &strip);
    }
}

fn unalias_cond(c: &mut Cond, strip: &impl Fn(&mut String)) {
    match c {
        Cond::And(parts) | Cond::Or(parts) => parts.iter_mut().for_each(|p| unalias_cond(p, strip)),
        Cond::Not(inner) => unalias_cond(inner, strip),
        Cond::Cmp { prop, .. } | Cond::In { prop, .. } | Cond::Like { prop, .. } => strip(prop),
        Cond::Contains(_) | Cond::InFolder(_) | Cond::InTree(_) => {}
    }
}

/// Reads a statement.
pub(crate) fn parse(input: &str) -> Result<Statement, SyntaxError> {
    let length = input.chars().count();
    if length > MAX_STATEMENT {
        return Err(err(
            MAX_STATEMENT,
            &format!("a statement has at most {MAX_STATEMENT} characters"),
        ));
    }
    let toks = lex(input)?;
    let mut p = Parser {
        toks,
        at: 0,
        end: length,
        conditions: 0,
    };
    p.statement()
}
