//! What a batch of the change feed tells the space's contractors (ADR
//! 0013 §2): the internal node's events of a shared space, read on the
//! edge from the rows it applies against what it held before (a document
//! that was not here was added; a version it lacked is new; a document
//! that went to the trash, or came back), and written to the edge's own
//! audit log with `replicated: true` and the author the rows name. The
//! edge's feed, and the notices it mails contractors through its own
//! relay, are then read from its log as on the internal node.
//!
//! The first batch of a newly shared space is its history, not news:
//! nothing is recorded for it.

use serde_json::{Value, json};

use crate::error::CoreError;
use crate::ids::{PrincipalId, SpaceId};
use crate::ports::Tx;
use crate::replication::ChangeRow;

/// An event a row tells, before it is applied.
#[derive(Debug)]
pub(super) struct Told {
    pub actor: Option<PrincipalId>,
    pub action: &'static str,
    pub target: String,
    pub detail: Value,
}

fn told(actor: Option<PrincipalId>, action: &'static str, target: String, name: &str) -> Told {
    Told {
        actor,
        action,
        target,
        detail: json!({ "name": name, "replicated": true }),
    }
}

/// The event `row` tells, compared with what `tx` holds before it is
/// applied; `None` for rows that tell nobody anything (a principal, a
/// type, an unchanged row sent again).
pub(super) async fn told_by(
    tx: &mut Box<dyn Tx>,
    space: SpaceId,
    row: &ChangeRow,
) -> Result<Option<Told>, CoreError> {
    Ok(match row {
        ChangeRow::Document(d) if d.space == space => {
            let before = tx.document(d.id).await?;
            let name = d.name.as_str();
            let id = d.id.to_string();
            match (before, &d.trashed) {
                (None, None) => Some(told(Some(d.created_by), "document.upload", id, name)),
                (Some(b), Some(t)) if b.trashed.is_none() => {
                    Some(told(Some(t.by), "document.delete", id, name))
                }
                (Some(b), None) if b.trashed.is_some() => {
                    Some(told(None, "trash.restore", id, name))
                }
                (Some(b), None) if b.name != d.name || b.folder != d.folder => {
                    Some(told(None, "document.update", id, name))
                }
                _ => None,
            }
        }
        ChangeRow::Version(v) if v.number > 1 => {
            let known = tx
                .list_versions(v.document)
                .await?
                .iter()
                .any(|x| x.number == v.number);
            match (known, tx.document(v.document).await?) {
                (false, Some(d)) if d.space == space => {
                    let mut t = told(
                        Some(v.author),
                        "document.version",
                        v.document.to_string(),
                        d.name.as_str(),
                    );
                    t.detail = super::super::documents::with_comment(t.detail, &v.comment);
                    Some(t)
                }
                _ => None,
            }
        }
        ChangeRow::Folder(f) if f.space == space => {
            let before = tx.folder(f.id).await?;
            (before.is_none() && f.trashed.is_none()).then(|| {
                told(
                    Some(f.created_by),
                    "folder.create",
                    f.id.to_string(),
                    f.name.as_str(),
                )
            })
        }
        ChangeRow::Membership(m) if m.space == space => {
            let before = tx.membership(space, m.principal).await?;
            let was = before.is_some_and(|b| !b.removed);
            match (was, m.removed) {
                (false, false) => Some(told(None, "member.add", m.principal.to_string(), "")),
                (true, true) => Some(told(None, "member.remove", m.principal.to_string(), "")),
                _ => None,
            }
        }
        _ => None,
    })
}
