//! Playing a step against the real use cases (`Passerelle` over the
//! in-memory fakes), and reducing what they answer to a [`Got`].

use serde_json::{Map, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::blob::BlobStore;
use crate::error::CoreError;
use crate::ids::{DocumentId, SpaceId};
use crate::model::Visibility;
use crate::ports::{Repository, TxMode};
use crate::replication::{OpOutcome, OutboxItem, OutboxOp};
use crate::role::Role;
use crate::service::{Actor, NewContractor, NewDocument, NewVersion, SpacePatch};

use super::World;
use super::ops::{EdgeKind, Got, Op};
use super::reference::{Class, MRole, P};

pub(super) const EDGE: &str = "edge-1";
pub(super) const PASSWORD: &str = "a long enough password";

/// The spec's granularity of an error.
pub(super) fn class_of(e: &CoreError) -> Class {
    match e {
        CoreError::NotFound(_) => Class::NotFound,
        CoreError::Forbidden(_) => Class::Forbidden,
        CoreError::Conflict { code, .. } => Class::Conflict(code),
        CoreError::Invalid { code, .. } => Class::Invalid(code),
        CoreError::Unauthenticated | CoreError::Throttled { .. } => Class::Unauthenticated,
        other => Class::Other(format!("{other:?}")),
    }
}

fn got<T>(r: &Result<T, CoreError>) -> Got {
    match r {
        Ok(_) => Got::new(Class::Ok),
        Err(e) => Got {
            error: Some(format!("{e:?}")),
            ..Got::new(class_of(e))
        },
    }
}

/// The model's role as core spells it (a conversion, not a rule).
pub(super) fn core_role(r: MRole) -> Role {
    match r {
        MRole::Manager => Role::Manager,
        MRole::Collaborator => Role::Collaborator,
        MRole::Contributor => Role::Contributor,
        MRole::Reader => Role::Reader,
    }
}

impl World {
    /// The principal `p` as an actor (its current row).
    pub(super) async fn actor(&self, p: P) -> Actor {
        let id = self.model.principals[p]
            .id
            .expect("steps name existing principals as actors");
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        Actor::Principal(tx.principal(id).await.expect("read").expect("exists"))
    }

    fn space_id(&self, s: usize) -> SpaceId {
        self.model.spaces[s].id
    }

    fn login(&self, p: Option<P>) -> String {
        p.map_or("ghost".to_owned(), |p| {
            self.model.principals[p].login.clone()
        })
    }

    /// Plays `op` on the real use cases.
    pub(super) async fn play(&mut self, op: &Op) -> Got {
        let app = self.app.clone();
        match op {
            Op::Upload {
                by,
                space,
                folder,
                name,
            } => {
                let new = NewDocument {
                    space: self.space_id(*space),
                    folder: *folder,
                    name: name.clone(),
                    ..NewDocument::default()
                };
                let r = app
                    .upload(&self.actor(*by).await, new, super::super::content(name))
                    .await;
                Got {
                    doc: r.as_ref().ok().map(|v| v.document.id),
                    ..got(&r)
                }
            }
            Op::CreateFolder {
                by,
                space,
                parent,
                name,
            } => {
                let r = app
                    .create_folder(&self.actor(*by).await, self.space_id(*space), *parent, name)
                    .await;
                Got {
                    folder: r.as_ref().ok().map(|f| f.id),
                    ..got(&r)
                }
            }
            Op::NewVersion { by, doc } => {
                self.versions += 1;
                let text = format!("another version ({})", self.versions);
                got(&app
                    .new_version(
                        &self.actor(*by).await,
                        *doc,
                        NewVersion::default(),
                        super::super::content(&text),
                    )
                    .await)
            }
            Op::ChangeMetadata { by, doc } => got(&app
                .update_metadata(&self.actor(*by).await, *doc, None, Map::new())
                .await),
            Op::RestoreVersion { by, doc, number } => got(&app
                .restore_version(&self.actor(*by).await, *doc, *number)
                .await),
            Op::RenameDoc { by, doc, name } => got(&app
                .update_document(&self.actor(*by).await, *doc, Some(name), None)
                .await),
            Op::MoveDoc { by, doc, to } => got(&app
                .update_document(&self.actor(*by).await, *doc, None, Some(*to))
                .await),
            Op::DeleteDoc { by, doc } => {
                got(&app.delete_document(&self.actor(*by).await, *doc).await)
            }
            Op::RestoreDoc { by, doc } => {
                got(&app.restore_document(&self.actor(*by).await, *doc).await)
            }
            Op::PurgeDoc { by, doc } => {
                got(&app.purge_document(&self.actor(*by).await, *doc).await)
            }
            Op::RenameFolder { by, folder, name } => got(&app
                .update_folder(&self.actor(*by).await, *folder, Some(name), None)
                .await),
            Op::MoveFolder { by, folder, to } => got(&app
                .update_folder(&self.actor(*by).await, *folder, None, Some(*to))
                .await),
            Op::DeleteFolder { by, folder } => {
                got(&app.delete_folder(&self.actor(*by).await, *folder).await)
            }
            Op::RestoreFolder { by, folder } => {
                got(&app.restore_folder(&self.actor(*by).await, *folder).await)
            }
            Op::PurgeFolder { by, folder } => {
                got(&app.purge_folder(&self.actor(*by).await, *folder).await)
            }
            Op::SetMember {
                by,
                space,
                who,
                role,
            } => got(&app
                .set_member(
                    &self.actor(*by).await,
                    self.space_id(*space),
                    &self.login(Some(*who)),
                    core_role(*role),
                )
                .await),
            Op::RemoveMember { by, space, who } => {
                // A principal that does not exist yet: a fresh id nobody has.
                let id = self.model.principals[*who].id.unwrap_or_default();
                got(&app
                    .remove_member(&self.actor(*by).await, self.space_id(*space), id)
                    .await)
            }
            Op::Invite {
                by,
                space,
                who,
                role,
            } => {
                let new = NewContractor {
                    email: self.model.principals[*who].login.clone(),
                    display_name: format!("Contractor {who}"),
                    organisation: "BTP Rhône".into(),
                    role: core_role(*role),
                };
                let r = app
                    .invite_contractor(&self.actor(*by).await, self.space_id(*space), new)
                    .await;
                Got {
                    principal: r.as_ref().ok().map(|i| i.principal.id),
                    invitation: r.as_ref().ok().map(|i| i.invitation.id),
                    ..got(&r)
                }
            }
            Op::UpdateSpace { by, space, public } => {
                let patch = SpacePatch {
                    visibility: Some(if *public {
                        Visibility::Public
                    } else {
                        Visibility::Private
                    }),
                    ..SpacePatch::default()
                };
                got(&app
                    .update_space(&self.actor(*by).await, self.space_id(*space), patch)
                    .await)
            }
            Op::RevokeInvitation { by, invitation } => {
                let actor = self.actor(*by).await;
                let mut out = got(&app.revoke_invitation(&actor, *invitation).await);
                if out.class == Class::NotFound {
                    // ADR 0002, 8: as an invitation that does not exist.
                    let absent = app.revoke_invitation(&actor, Uuid::now_v7()).await;
                    let absent = absent.err().map(|e| format!("{e:?}"));
                    if out.error != absent {
                        out.broken = Some((
                            "invisible != absent: invitation",
                            format!("{:?}, for an id that does not exist: {absent:?}", out.error),
                        ));
                    }
                }
                out
            }
            Op::Archive {
                by,
                space,
                archived,
            } => got(&app
                .set_archived(&self.actor(*by).await, self.space_id(*space), *archived)
                .await),
            Op::Share { by, space } => got(&app
                .share_space(&self.actor(*by).await, self.space_id(*space), EDGE)
                .await),
            Op::Unshare { by, space } => got(&app
                .unshare_space(&self.actor(*by).await, self.space_id(*space))
                .await),
            Op::PurgeReceipt { space } => got(&app
                .record_purge_receipt(
                    &EDGE.parse().expect("node id"),
                    self.space_id(*space),
                    json!({ "rows": 0, "blobs": 0, "bytes": 0 }),
                )
                .await),
            Op::Edge { by, space, kind } => self.edge(*by, *space, kind).await,
            Op::CreateToken { by, for_ } => {
                let r = app
                    .create_token(&self.actor(*by).await, &self.login(*for_), "model", None)
                    .await;
                if let (Ok(t), Some(p)) = (&r, for_) {
                    self.tokens.push((*p, t.secret.clone()));
                }
                got(&r)
            }
            Op::ContractorLogin { who } => {
                got(&app.login(&self.login(Some(*who)), PASSWORD, None).await)
            }
            Op::SetPassword { by, who } => got(&app
                .set_password(&self.actor(*by).await, &self.login(Some(*who)), PASSWORD)
                .await),
        }
    }

    /// A contractor's operation as the replication driver hands it over:
    /// its blob in this node's store first, then `apply_edge_op`. The
    /// operation is acknowledged to the contractor, so it must be recorded
    /// (applied, conflicted or quarantined) exactly once.
    async fn edge(&mut self, by: P, space: usize, kind: &EdgeKind) -> Got {
        let contractor = self.model.principals[by].id.expect("an invited contractor");
        self.seq += 1;
        let blob = self
            .blobs
            .put(
                super::super::content(&format!("edge content {}", self.seq)),
                None,
            )
            .await
            .expect("blob");
        let op = match kind {
            EdgeKind::NewDocument { folder, name } => OutboxOp::NewDocument {
                folder: *folder,
                name: name.clone(),
                hash: blob.hash,
                size: blob.size,
                media_type: "text/plain".into(),
                doc_type: None,
                metadata: Map::new(),
                comment: String::new(),
            },
            EdgeKind::NewVersion { doc, base } => OutboxOp::NewVersion {
                document: *doc,
                base_version: *base,
                hash: blob.hash,
                size: blob.size,
                media_type: "text/plain".into(),
                comment: String::new(),
                after_op: None,
            },
            EdgeKind::Rename { doc, name } => OutboxOp::Rename {
                document: *doc,
                name: name.clone(),
            },
            EdgeKind::Move { doc, to } => OutboxOp::Move {
                document: *doc,
                folder: *to,
            },
            EdgeKind::Delete { doc, base } => OutboxOp::Delete {
                document: *doc,
                base_version: *base,
            },
            EdgeKind::NewFolder {
                folder,
                parent,
                name,
            } => OutboxOp::NewFolder {
                folder: *folder,
                parent: *parent,
                name: name.clone(),
            },
            EdgeKind::Accept { invitation } => OutboxOp::AcceptInvitation {
                invitation: *invitation,
            },
        };
        let item = OutboxItem {
            seq: self.seq,
            op_id: Uuid::now_v7(),
            space: self.space_id(space),
            contractor,
            created_at: OffsetDateTime::now_utc(),
            op,
            outcome: None,
            detail: String::new(),
        };
        let record = match self
            .app
            .apply_edge_op(&EDGE.parse().expect("node id"), &item)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Got {
                    error: Some(format!("{e:?}")),
                    ..Got::new(Class::Other(format!("apply_edge_op failed: {e}")))
                };
            }
        };
        let mut out = Got::new(match record.outcome {
            OpOutcome::Applied => Class::Applied,
            OpOutcome::Conflict => Class::Conflicted,
            OpOutcome::Rejected => Class::Rejected,
        });
        out.error = (!record.detail.is_empty()).then(|| record.detail.clone());
        out.doc = record.document;
        out.broken = self
            .check_recorded(&item, &record)
            .await
            .map(|m| ("invariant 7: an edge operation not recorded once", m));
        if record.outcome == OpOutcome::Conflict
            && let Some(d) = record.document
        {
            out.doc_name = self.doc_name(d).await;
        }
        out
    }

    /// ADR 0002, 7: recorded in the ledger, once (a replay answers the same
    /// record), and a rejected one is in the space's quarantine.
    async fn check_recorded(
        &self,
        item: &OutboxItem,
        record: &crate::replication::AppliedOp,
    ) -> Option<String> {
        match self
            .app
            .apply_edge_op(&EDGE.parse().expect("node id"), item)
            .await
        {
            Ok(again) if again == *record => {}
            other => return Some(format!("replaying the operation answered {other:?}")),
        }
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        if tx.applied_op(item.op_id).await.expect("read").as_ref() != Some(record) {
            return Some("the operation is not in the ledger".into());
        }
        if record.outcome == OpOutcome::Rejected
            && !tx
                .list_quarantine(item.space)
                .await
                .expect("read")
                .iter()
                .any(|q| q.op_id == item.op_id)
        {
            return Some("a rejected operation is not in the quarantine".into());
        }
        None
    }

    async fn doc_name(&self, id: DocumentId) -> Option<String> {
        let mut tx = self.repo().begin(TxMode::Read).await.expect("read");
        tx.document(id)
            .await
            .expect("read")
            .map(|d| d.name.as_str().to_owned())
    }
}
