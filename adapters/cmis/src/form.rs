//! An action's form (CMIS 1.1 Browser binding §5.4.4): control fields
//! (`cmisaction`, `objectId`, `propertyId[i]`, `propertyValue[i]` or
//! `propertyValue[i][j]`…) then, in `multipart/form-data`, the content
//! part last, streamed to core as it arrives. `application/x-www-form-
//! urlencoded` forms (no content) are read whole up to a bound. Control
//! fields are bounded in number and size: a hostile form is refused before
//! it costs memory.

use std::collections::{BTreeMap, HashMap};

use axum::extract::Request;
use axum::http::header;
use multer::{Field, Multipart};
use passerelle_http_common::multipart::{self, Upload};

use crate::error::{CmisError, CmisResult};

/// Most control fields a form may carry.
const MAX_FIELDS: usize = 512;
/// Longest control field (a property's value, a query).
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Largest urlencoded form.
const MAX_URLENCODED: usize = 1024 * 1024;

/// A form's control fields and, for `multipart/form-data`, its content.
#[derive(Debug)]
pub(crate) struct Form {
    /// Names lower-cased (`cmisaction`, `objectid`, `propertyid[0]`).
    values: HashMap<String, String>,
    pub(crate) content: Option<Field<'static>>,
}

/// The body of a `POST`, before its fields are read.
pub(crate) enum Body {
    Multipart(Multipart<'static>),
    Urlencoded(HashMap<String, String>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Body::Multipart(_) => "Body::Multipart",
            Body::Urlencoded(_) => "Body::Urlencoded",
        })
    }
}

impl Body {
    /// Reads the body's kind from its `Content-Type`; an urlencoded body is
    /// read whole (bounded), a multipart one is left to [`Form::read`].
    pub(crate) async fn from_request(req: Request) -> CmisResult<Self> {
        let kind = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if kind.starts_with("multipart/form-data") {
            let boundary = multer::parse_boundary(&kind)
                .map_err(|e| CmisError::invalid_argument(format!("bad multipart form: {e}")))?;
            let stream = req.into_body().into_data_stream();
            return Ok(Body::Multipart(Multipart::new(stream, boundary)));
        }
        if kind.starts_with("application/x-www-form-urlencoded") {
            let bytes = axum::body::to_bytes(req.into_body(), MAX_URLENCODED)
                .await
                .map_err(|_| CmisError::invalid_argument("the form is too large"))?;
            let mut values = HashMap::new();
            for (k, v) in form_urlencoded::parse(&bytes) {
                if values.len() >= MAX_FIELDS {
                    return Err(too_many());
                }
                values.insert(k.to_ascii_lowercase(), v.trim().to_owned());
            }
            return Ok(Body::Urlencoded(values));
        }
        Err(CmisError::invalid_argument(
            "an action is posted as multipart/form-data or application/x-www-form-urlencoded",
        ))
    }
}

fn too_many() -> CmisError {
    CmisError::invalid_argument(format!("a form has at most {MAX_FIELDS} fields"))
}

pub(crate) fn form_error(e: Upload) -> CmisError {
    match e {
        Upload::Form(e) => CmisError::invalid_argument(format!("the form could not be read: {e}")),
        Upload::Core(e) => e.into(),
    }
}

impl Form {
    /// The control fields, up to the content part (which must come last,
    /// as the binding says; what follows it is not read).
    pub(crate) async fn read(body: &mut Body) -> CmisResult<Self> {
        let mp = match body {
            Body::Urlencoded(values) => {
                return Ok(Form {
                    values: std::mem::take(values),
                    content: None,
                });
            }
            Body::Multipart(mp) => mp,
        };
        let mut values = HashMap::new();
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|e| form_error(Upload::Form(e.to_string())))?
        {
            let name = field.name().unwrap_or_default().to_ascii_lowercase();
            if name == "content" {
                return Ok(Form {
                    values,
                    content: Some(field),
                });
            }
            if values.len() >= MAX_FIELDS {
                return Err(too_many());
            }
            let value = multipart::small_text(field, MAX_FIELD_BYTES)
                .await
                .map_err(form_error)?;
            values.insert(name, value);
        }
        Ok(Form {
            values,
            content: None,
        })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The properties posted, in index order: `(id, values)`.
    pub(crate) fn properties(&self) -> CmisResult<Vec<(String, Vec<String>)>> {
        let mut ids: BTreeMap<usize, String> = BTreeMap::new();
        let mut values: BTreeMap<usize, Vec<(usize, String)>> = BTreeMap::new();
        for (name, value) in &self.values {
            if let Some(i) = index(name, "propertyid[") {
                ids.insert(i, value.clone());
            } else if let Some(rest) = name.strip_prefix("propertyvalue[") {
                let (i, j) = value_index(rest).ok_or_else(|| {
                    CmisError::invalid_argument(format!("malformed form field {name}"))
                })?;
                values.entry(i).or_default().push((j, value.clone()));
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids {
            let mut vals = values.remove(&i).unwrap_or_default();
            vals.sort_by_key(|(j, _)| *j);
            out.push((id, vals.into_iter().map(|(_, v)| v).collect()));
        }
        if let Some(i) = values.keys().next() {
            return Err(CmisError::invalid_argument(format!(
                "propertyValue[{i}] has no propertyId[{i}]"
            )));
        }
        Ok(out)
    }
}

/// `n` of `<prefix>n]`.
fn index(name: &str, prefix: &str) -> Option<usize> {
    let rest = name.strip_prefix(prefix)?.strip_suffix(']')?;
    small_number(rest)
}

/// `(i, j)` of `i]` (j = 0) or `i][j]`.
fn value_index(rest: &str) -> Option<(usize, usize)> {
    let rest = rest.strip_suffix(']')?;
    match rest.split_once("][") {
        None => Some((small_number(rest)?, 0)),
        Some((i, j)) => Some((small_number(i)?, small_number(j)?)),
    }
}

fn small_number(s: &str) -> Option<usize> {
    let n: usize = (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()?;
    (n < MAX_FIELDS).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            content: None,
        }
    }

    #[test]
    fn properties_come_in_index_order_with_their_values() {
        let f = form(&[
            ("propertyId[1]", "passerelle:fournisseur"),
            ("propertyValue[1]", "BTP Rhône"),
            ("propertyId[0]", "cmis:name"),
            ("propertyValue[0]", "Facture.pdf"),
            ("propertyId[2]", "cmis:secondaryObjectTypeIds"),
            ("propertyValue[2][1]", "b"),
            ("propertyValue[2][0]", "a"),
        ]);
        let props = f.properties().expect("properties");
        assert_eq!(
            props,
            vec![
                ("cmis:name".into(), vec!["Facture.pdf".into()]),
                ("passerelle:fournisseur".into(), vec!["BTP Rhône".into()]),
                (
                    "cmis:secondaryObjectTypeIds".into(),
                    vec!["a".into(), "b".into()]
                ),
            ]
        );
    }

    #[test]
    fn malformed_or_orphan_values_are_refused() {
        for pairs in [
            vec![("propertyValue[x]", "v")],
            vec![("propertyValue[0", "v")],
            vec![("propertyValue[99999]", "v")],
            vec![("propertyId[0]", "cmis:name"), ("propertyValue[1]", "v")],
        ] {
            assert!(form(&pairs).properties().is_err(), "{pairs:?}");
        }
    }
}
