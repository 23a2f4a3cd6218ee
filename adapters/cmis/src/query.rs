//! `query`: a CMIS-QL statement (`parse`) compiled to core's search
//! (ADR 0008 §6): the `WHERE` becomes core's search query (the same tree
//! the search box's text parses to, resolved against the catalogue by
//! core), `FROM` a type filter, `IN_FOLDER`/`IN_TREE` a scope, `ORDER BY`
//! a sort. Core computes the spaces the caller may read and the index
//! searches only those: a query never finds what its caller cannot see.
//! What the index cannot answer (folders, `IS NULL`, comparisons on
//! properties it does not index) is `notSupported`, never a wrong answer.

mod parse;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use passerelle_core::doctype::{DocumentType, FieldKind};
use passerelle_core::ids::{FolderId, SpaceId};
use passerelle_core::search::{Bound, Field, Query, Sort};
use passerelle_core::service::{SearchAsk, SearchFilters};
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::error::{CmisError, CmisResult};
use crate::ids::{ObjectId, Which};
use crate::objects::Shape;
use crate::props::{self, PREFIX};
use crate::reads::Doc;
use crate::types::{self, TypeRef};

pub(crate) use parse::{Cond, Lit, Op, Statement, parse};

/// Where a query looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) space: Option<SpaceId>,
    /// This folder and below (core's folder filter).
    pub(crate) tree: Option<FolderId>,
    /// `IN_FOLDER`: only documents directly in this folder (`Some(None)`:
    /// at a space's root).
    pub(crate) direct: Option<Option<FolderId>>,
    /// `IN_FOLDER('root')`: the root holds spaces, never documents.
    pub(crate) nothing: bool,
}

/// A statement compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    pub(crate) doc_type: Option<String>,
    pub(crate) query: Query,
    pub(crate) scope: Scope,
    pub(crate) sort: Sort,
    /// The `SELECT` list; `None` for `*`.
    pub(crate) columns: Option<Vec<String>>,
}

/// What a property designates in a condition.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    /// Words of a text field (a name, an author, a metadata text).
    Text(Field),
    Numbers(Field),
    Dates(Field),
    /// `cmis:objectTypeId`.
    Type,
}

fn field(name: &str) -> CmisResult<Field> {
    Field::parse(name)
        .ok_or_else(|| CmisError::invalid_argument(format!("\"{name}\" cannot be queried")))
}

fn target(
    prop: &str,
    from: Option<&DocumentType>,
    catalogue: &[DocumentType],
) -> CmisResult<Target> {
    match prop {
        "cmis:name" | "cmis:contentStreamFileName" => return Ok(Target::Text(field("name")?)),
        "cmis:createdBy" | "cmis:lastModifiedBy" => return Ok(Target::Text(field("author")?)),
        "cmis:lastModificationDate" => return Ok(Target::Dates(field("modified")?)),
        "cmis:objectTypeId" => return Ok(Target::Type),
        _ => {}
    }
    if props::base_def(prop, true).is_some() {
        return Err(CmisError::not_supported(format!(
            "{prop} is not searchable: query by cmis:name, cmis:objectTypeId, \
             cmis:createdBy, cmis:lastModificationDate or a passerelle: property"
        )));
    }
    let key = prop
        .strip_prefix(PREFIX)
        .ok_or_else(|| CmisError::invalid_argument(format!("unknown property {prop}")))?;
    // Within `FROM passerelle:x`, x's fields; from cmis:document, any
    // type's field of that key (core's search does the same).
    let mut fields = match from {
        Some(t) => t.fields.iter().collect::<Vec<_>>(),
        None => catalogue.iter().flat_map(|t| t.fields.iter()).collect(),
    }
    .into_iter();
    let def = fields
        .find(|f| f.key == key)
        .ok_or_else(|| CmisError::invalid_argument(format!("unknown property {prop}")))?;
    let f = field(key)?;
    Ok(match def.kind {
        FieldKind::Integer | FieldKind::Decimal => Target::Numbers(f),
        FieldKind::Date => Target::Dates(f),
        FieldKind::Text | FieldKind::Enum { .. } | FieldKind::Boolean => Target::Text(f),
    })
}

/// The text of a literal as core's query takes it.
fn literal_text(l: &Lit) -> String {
    match l {
        Lit::Str(s) | Lit::Num(s) => s.clone(),
        Lit::Bool(b) => b.to_string(),
        // `2026-03-01T10:00:00.000Z` → `2026-03-01`: the index keeps days.
        Lit::Time(t) => t.split('T').next().unwrap_or(t).to_owned(),
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// `prop = value`.
fn equals(t: &Target, value: &Lit) -> CmisResult<Query> {
    let text = literal_text(value);
    Ok(match t {
        Target::Text(f) => {
            let mut w = words(&text);
            if w.len() == 1 {
                Query::Term {
                    field: Some(f.clone()),
                    text: w.remove(0),
                }
            } else {
                Query::Phrase {
                    field: Some(f.clone()),
                    words: w,
                }
            }
        }
        Target::Type => {
            let key = text.strip_prefix(PREFIX).unwrap_or(&text).to_owned();
            Query::Term {
                field: Field::parse("type"),
                text: key,
            }
        }
        Target::Numbers(f) | Target::Dates(f) => Query::Range {
            field: f.clone(),
            lower: Bound::Included(text.clone()),
            upper: Bound::Included(text),
        },
    })
}

fn not(q: Query) -> Query {
    Query::And(vec![Query::All, Query::Not(Box::new(q))])
}

fn compare(t: &Target, op: Op, value: &Lit) -> CmisResult<Query> {
    match op {
        Op::Eq => return equals(t, value),
        Op::Ne => return Ok(not(equals(t, value)?)),
        _ => {}
    }
    let (Target::Numbers(f) | Target::Dates(f)) = t else {
        return Err(CmisError::not_supported(
            "<, <=, > and >= compare numbers and dates only",
        ));
    };
    let v = literal_text(value);
    let (lower, upper) = match op {
        Op::Lt => (Bound::Unbounded, Bound::Excluded(v)),
        Op::Le => (Bound::Unbounded, Bound::Included(v)),
        Op::Gt => (Bound::Excluded(v), Bound::Unbounded),
        _ => (Bound::Included(v), Bound::Unbounded),
    };
    Ok(Query::Range {
        field: f.clone(),
        lower,
        upper,
    })
}

/// `LIKE 'prefix%'` (or no wildcard at all: an equality).
fn like(t: &Target, pattern: &str) -> CmisResult<Query> {
    let Target::Text(f) = t else {
        return Err(CmisError::invalid_argument("LIKE compares text properties"));
    };
    let body = pattern.strip_suffix('%').unwrap_or(pattern);
    if body.contains(['%', '_']) || body.split_whitespace().count() > 1 {
        return Err(CmisError::not_supported(
            "LIKE takes one word and a final % ('factu%')",
        ));
    }
    if body.is_empty() {
        return Ok(Query::All);
    }
    Ok(if pattern.ends_with('%') {
        Query::Prefix {
            field: Some(f.clone()),
            text: body.to_owned(),
        }
    } else {
        Query::Term {
            field: Some(f.clone()),
            text: body.to_owned(),
        }
    })
}

struct Compiler<'a> {
    from: Option<&'a DocumentType>,
    catalogue: &'a [DocumentType],
    scope: Scope,
    scoped: bool,
}

impl Compiler<'_> {
    /// Compiles a condition; `top` while under `AND`s only, where a scope
    /// predicate may stand.
    fn cond(&mut self, c: &Cond, top: bool) -> CmisResult<Query> {
        match c {
            Cond::And(parts) => Ok(Query::And(
                parts
                    .iter()
                    .map(|p| self.cond(p, top))
                    .collect::<CmisResult<_>>()?,
            )),
            Cond::Or(parts) => Ok(Query::Or(
                parts
                    .iter()
                    .map(|p| self.cond(p, false))
                    .collect::<CmisResult<_>>()?,
            )),
            Cond::Not(inner) => Ok(not(self.cond(inner, false)?)),
            Cond::Cmp { prop, op, value } => {
                compare(&target(prop, self.from, self.catalogue)?, *op, value)
            }
            Cond::In {
                prop,
                values,
                negated,
            } => {
                let t = target(prop, self.from, self.catalogue)?;
                let any = Query::Or(
                    values
                        .iter()
                        .map(|v| equals(&t, v))
                        .collect::<CmisResult<_>>()?,
                );
                Ok(if *negated { not(any) } else { any })
            }
            Cond::Like {
                prop,
                pattern,
                negated,
            } => {
                let q = like(&target(prop, self.from, self.catalogue)?, pattern)?;
                Ok(if *negated { not(q) } else { q })
            }
            // The search box's own grammar: words, "phrases", -exclusions,
            // OR, prefix*.
            Cond::Contains(text) => Ok(passerelle_core::search::parse(text)),
            Cond::InFolder(id) => self.place(id, true, top),
            Cond::InTree(id) => self.place(id, false, top),
        }
    }

    fn place(&mut self, raw: &str, direct: bool, top: bool) -> CmisResult<Query> {
        if !top || self.scoped {
            return Err(CmisError::not_supported(
                "IN_FOLDER and IN_TREE stand once, joined to the rest by AND",
            ));
        }
        self.scoped = true;
        match ObjectId::parse(raw).ok_or_else(CmisError::not_found)? {
            ObjectId::Root if direct => self.scope.nothing = true,
            ObjectId::Root => {}
            ObjectId::Space(s) => {
                self.scope.space = Some(s);
                if direct {
                    self.scope.direct = Some(None);
                }
            }
            ObjectId::Folder(f) => {
                self.scope.tree = Some(f);
                if direct {
                    self.scope.direct = Some(Some(f));
                }
            }
            ObjectId::Document(..) => {
                return Err(CmisError::invalid_argument(
                    "IN_FOLDER and IN_TREE take a folder's id",
                ));
            }
        }
        Ok(Query::All)
    }
}

fn sort(order: Option<&(String, bool)>) -> CmisResult<Sort> {
    match order {
        None => Ok(Sort::Relevance),
        Some((p, false)) if p == "cmis:name" => Ok(Sort::Name),
        Some((p, true)) if p == "cmis:lastModificationDate" => Ok(Sort::Modified),
        Some((p, _)) if p.eq_ignore_ascii_case("SEARCH_SCORE") => Ok(Sort::Relevance),
        Some(_) => Err(CmisError::not_supported(
            "ORDER BY cmis:name ASC or cmis:lastModificationDate DESC",
        )),
    }
}

/// Compiles a statement against the catalogue.
pub(crate) fn compile(st: &Statement, catalogue: &[DocumentType]) -> CmisResult<Plan> {
    let from = match types::find(&st.from, catalogue) {
        Some(TypeRef::Document) => None,
        Some(TypeRef::Typed(t)) => Some(t),
        Some(TypeRef::Folder) => {
            return Err(CmisError::not_supported(
                "queries find documents: browse folders with the children selector",
            ));
        }
        None => {
            return Err(CmisError::invalid_argument(format!(
                "unknown type {}",
                st.from
            )));
        }
    };
    let mut c = Compiler {
        from,
        catalogue,
        scope: Scope::default(),
        scoped: false,
    };
    let query = match &st.filter {
        Some(f) => c.cond(f, true)?,
        None => Query::All,
    };
    if let Some(cols) = &st.select {
        for col in cols {
            let known = props::base_def(col, true).is_some()
                || col.strip_prefix(PREFIX).is_some_and(|k| {
                    from.map_or(catalogue.iter().collect(), |t| vec![t])
                        .iter()
                        .any(|t| t.fields.iter().any(|f| f.key == k))
                });
            if !known {
                return Err(CmisError::invalid_argument(format!(
                    "unknown property {col}"
                )));
            }
        }
    }
    Ok(Plan {
        doc_type: from.map(|t| t.key.clone()),
        query,
        scope: c.scope,
        sort: sort(st.order.as_ref())?,
        columns: st.select.clone(),
    })
}

/// Runs a statement as the caller: `{results, hasMoreItems, numItems}`.
pub(crate) async fn run(ctx: &Ctx, statement: &str, skip: usize, max: usize) -> CmisResult<Value> {
    let st = parse(statement).map_err(|e| CmisError::invalid_argument(e.to_string()))?;
    let plan = compile(&st, &ctx.catalogue)?;
    if plan.scope.nothing {
        return Ok(json!({ "results": [], "hasMoreItems": false, "numItems": 0 }));
    }
    let ask = SearchAsk {
        query: Some(plan.query.clone()),
        filters: SearchFilters {
            space: plan.scope.space,
            doc_type: plan.doc_type.clone(),
            folder: plan.scope.tree,
            ..SearchFilters::default()
        },
        sort: plan.sort,
        offset: skip,
        limit: max.min(passerelle_core::search::MAX_LIMIT),
        ..SearchAsk::default()
    };
    let page = ctx.cmis.search.search(&ctx.actor, ask).await?;
    let shape = Shape {
        succinct: ctx.shape.succinct,
        filter: plan.columns.clone(),
    };
    let mut results = Vec::with_capacity(page.hits.len());
    let mut dropped = false;
    let mut seen: HashMap<_, ()> = HashMap::new();
    for hit in &page.hits {
        if plan.scope.direct.is_some_and(|f| f != hit.document.folder) {
            dropped = true;
            continue;
        }
        if seen.insert(hit.document.id, ()).is_some() {
            continue;
        }
        let doc = match Doc::load(ctx, hit.document.id).await {
            Ok(d) => d,
            // Trashed since the index saw it: left out, as core's search does.
            Err(e) if e.exception == "objectNotFound" => continue,
            Err(e) => return Err(e),
        };
        let object = doc.render(ctx, Which::Latest).await?;
        results.push(reshape(object, &shape));
    }
    let mut out = json!({
        "results": results,
        "hasMoreItems": page.next_offset.is_some(),
    });
    // IN_FOLDER keeps the direct children among the tree's hits: the
    // index's count is then not the answer's, and the binding lets a
    // repository leave numItems out when it does not know it.
    if !dropped && plan.scope.direct.is_none() {
        out["numItems"] = json!(page.total);
    }
    Ok(out)
}

/// An object rendered in full, projected on the `SELECT` list.
fn reshape(object: Value, shape: &Shape) -> Value {
    let Some(cols) = &shape.filter else {
        return object;
    };
    let key = if shape.succinct {
        "succinctProperties"
    } else {
        "properties"
    };
    let mut out = object;
    if let Some(Value::Object(props)) = out.get_mut(key) {
        props.retain(|k, _| cols.iter().any(|c| c == k));
    }
    out
}
