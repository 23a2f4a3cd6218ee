//! Sharing spaces with edge nodes, and inviting outside contractors into
//! them (internal node).

use rand::RngCore;
use serde_json::json;
use time::Duration;

use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{PrincipalId, SpaceId};
use crate::model::{Membership, Principal, PrincipalKind};
use crate::names::Login;
use crate::replication::NodeId;
use crate::replication::{AppliedOp, EdgeStatus, Invitation};
use crate::role::{Action, Role};

use super::access::Fail;
use super::notices::{InvitationMail, invitation_notice};
use super::spaces::{SpaceView, check_contractor_membership};
use super::{Actor, InternalApp, Passerelle};

/// How long an invitation can be accepted.
pub const INVITATION_TTL: Duration = Duration::days(14);

/// A contractor to invite into a shared space.
#[derive(Clone, Debug)]
pub struct NewContractor {
    pub email: String,
    pub display_name: String,
    pub organisation: String,
    pub role: Role,
}

/// An invitation just made: `secret` goes into the link sent to the
/// contractor, once; only its hash is kept.
#[derive(Clone, Debug)]
pub struct IssuedInvitation {
    pub invitation: Invitation,
    pub principal: Principal,
    /// The edge that will welcome the contractor.
    pub edge: NodeId,
    pub secret: String,
    /// Whether its e-mail was queued (a relay and the edge's public
    /// address known): the manager need not hand the link over.
    pub mailed: bool,
}

/// Replication state of a space as its managers see it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceReplication {
    pub edge: Option<NodeId>,
    pub status: Option<EdgeStatus>,
    /// Revisions of the space the edge has not acknowledged yet.
    pub lag_revisions: Option<i64>,
    pub quarantine: Vec<AppliedOp>,
    /// The antivirus that judges contractors' uploads (ADR 0010), `None`
    /// when the node scans nothing: an outage keeps their operations
    /// waiting, which the managers see here.
    pub antivirus: Option<super::AntivirusStatus>,
}

/// The BLAKE3 of an invitation secret (what is stored and replicated).
pub fn invitation_hash(secret: &str) -> ContentHash {
    ContentHash::of(secret.as_bytes())
}

impl InternalApp {
    /// Shares a space with an edge: its content starts replicating there.
    pub async fn share_space(
        &self,
        actor: &Actor,
        id: SpaceId,
        edge: &str,
    ) -> Result<SpaceView, CoreError> {
        self.guarded(actor, async {
            // A malformed name is answered as an unknown one: either way no
            // configured edge has it.
            let known = NodeId::parse(edge)
                .ok()
                .filter(|e| self.settings.edges.contains(e));
            let Some(edge) = known else {
                return Err(CoreError::invalid(
                    "unknown_edge",
                    format!("no edge node named {edge:?} is configured"),
                )
                .into());
            };
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            let mut s = a.space.clone();
            match &s.edge {
                Some(e) if *e == edge => {
                    return Ok(SpaceView {
                        space: s,
                        role: a.role,
                    });
                }
                Some(other) => {
                    return Err(CoreError::conflict(
                        "already_shared",
                        format!("this space is shared with {other}: un-share it first"),
                    )
                    .into());
                }
                None => {}
            }
            s.edge = Some(edge.clone());
            s.revision = tx.next_revision().await?;
            tx.save_space(&s).await?;
            self.audit(
                &mut tx,
                actor,
                "space.share",
                Some(id),
                Some(edge.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(SpaceView {
                space: s,
                role: a.role,
            })
        })
        .await
    }

    /// Stops sharing a space. The replication then drains the edge's pending
    /// operations of the space, orders the purge, and records the receipt.
    pub async fn unshare_space(&self, actor: &Actor, id: SpaceId) -> Result<SpaceView, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            let mut s = a.space.clone();
            let Some(edge) = s.edge.take() else {
                return Ok(SpaceView {
                    space: s,
                    role: a.role,
                });
            };
            s.revision = tx.next_revision().await?;
            tx.save_space(&s).await?;
            self.audit(
                &mut tx,
                actor,
                "space.unshare.requested",
                Some(id),
                Some(edge.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(SpaceView {
                space: s,
                role: a.role,
            })
        })
        .await
    }

    /// Invites a contractor into a shared space: creates the contractor's
    /// account (no password: it is set on the edge) and membership, and an
    /// invitation whose secret is returned once.
    pub async fn invite_contractor(
        &self,
        actor: &Actor,
        id: SpaceId,
        new: NewContractor,
    ) -> Result<IssuedInvitation, CoreError> {
        self.guarded(actor, async {
            let email = new.email.trim().to_lowercase();
            if !email.contains('@') || email.len() > 254 {
                return Err(CoreError::invalid("invalid_email", "not an e-mail address").into());
            }
            let login = Login::parse(&email).map_err(|_| {
                CoreError::invalid("invalid_email", "this e-mail address cannot be a login")
            })?;
            let display_name = super::accounts::display_name(&new.display_name)?;
            let organisation = new.organisation.trim().to_owned();
            if organisation.chars().count() > 200 || organisation.chars().any(char::is_control) {
                return Err(CoreError::invalid(
                    "invalid_organisation",
                    "an organisation has at most 200 characters",
                )
                .into());
            }
            let mut tx = self.write().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            check_contractor_membership(&a.space, new.role)?;
            let edge = a
                .space
                .edge
                .clone()
                .expect("check_contractor_membership refuses an unshared space");
            let rev = tx.next_revision().await?;
            let now = self.clock.now();
            let principal = match tx.principal_by_login(&login).await? {
                Some(p) if p.kind == PrincipalKind::Contractor => p,
                Some(_) => {
                    return Err(CoreError::conflict(
                        "login_taken",
                        "this address belongs to an internal agent",
                    )
                    .into());
                }
                None => {
                    let p = Principal {
                        id: PrincipalId::new(),
                        login,
                        display_name,
                        email: email.clone(),
                        kind: PrincipalKind::Contractor,
                        is_admin: false,
                        disabled: false,
                        password_hash: None,
                        source: crate::model::AccountSource::Local,
                        second_factor_reset: None,
                        organisation: (!organisation.is_empty()).then_some(organisation),
                        created_at: now,
                        revision: rev,
                    };
                    tx.save_principal(&p).await?;
                    p
                }
            };
            tx.save_membership(&Membership::granted(id, principal.id, new.role, rev))
                .await?;
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let secret = hex::encode(secret);
            let invitation = Invitation {
                id: uuid::Uuid::now_v7(),
                principal: principal.id,
                space: id,
                secret_hash: invitation_hash(&secret),
                created_by: actor.principal().map(|p| p.id).unwrap_or(principal.id),
                created_at: now,
                expires_at: now + INVITATION_TTL,
                accepted_at: None,
                revoked: false,
                revision: rev,
            };
            tx.save_invitation(&invitation).await?;
            self.audit(
                &mut tx,
                actor,
                "contractor.invite",
                Some(id),
                Some(principal.login.to_string()),
                json!({ "role": new.role.as_str(), "edge": edge }),
            )
            .await?;
            let mailed = self
                .mail_invitation(
                    &mut tx,
                    actor,
                    &InvitationMail {
                        invitation: &invitation,
                        to: &principal,
                        space: &a.space.title,
                        edge: &edge,
                        secret: &secret,
                    },
                )
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(IssuedInvitation {
                invitation,
                principal,
                edge,
                secret,
                mailed,
            })
        })
        .await
    }

    /// Invitations of a space (managers).
    pub async fn list_invitations(
        &self,
        actor: &Actor,
        id: SpaceId,
    ) -> Result<Vec<Invitation>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            Ok::<_, Fail>(tx.list_invitations(id).await?)
        })
        .await
    }

    /// Revokes a pending invitation (managers); an accepted one is refused
    /// (`invitation_accepted`): removing the member takes the access away.
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        invitation: uuid::Uuid,
    ) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let mut inv = tx
                .invitation(invitation)
                .await?
                .ok_or(CoreError::NotFound("invitation"))?;
            let a = self.access_as(&mut tx, actor, inv.space, "invitation").await?;
            a.require(Action::Manage, || invitation.to_string())?;
            a.require_writable()?;
            if inv.accepted_at.is_some() {
                // The link did its work: the access is the membership now.
                return Err(CoreError::conflict(
                    "invitation_accepted",
                    "the contractor has accepted this invitation; remove the member to take the access away",
                )
                .into());
            }
            inv.revoked = true;
            inv.revision = tx.next_revision().await?;
            tx.save_invitation(&inv).await?;
            // Its e-mail, if not gone yet, must not carry a dead link.
            tx.withdraw_notice(invitation_notice(invitation)).await?;
            self.audit(
                &mut tx,
                actor,
                "contractor.invitation.revoke",
                Some(inv.space),
                Some(invitation.to_string()),
                json!({}),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Replication state of a space: its edge, lag, quarantined operations
    /// (managers).
    pub async fn space_replication(
        &self,
        actor: &Actor,
        id: SpaceId,
    ) -> Result<SpaceReplication, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let a = self.access(&mut tx, actor, id).await?;
            a.require(Action::Manage, || id.to_string())?;
            let status = match &a.space.edge {
                Some(e) => tx.edge_status(e).await?,
                None => None,
            };
            // Lag: 0 when the feed past the edge's cursor is empty, else the
            // node revisions since that cursor (an upper bound).
            let lag_revisions = match &status {
                Some(st) => {
                    let cursor = st
                        .cursors
                        .iter()
                        .find(|(sp, _)| *sp == id)
                        .map(|(_, r)| *r)
                        .unwrap_or_default();
                    if tx.changes(id, cursor, 1).await?.rows.is_empty() {
                        Some(0)
                    } else {
                        Some(tx.current_revision().await?.0 - cursor.0)
                    }
                }
                None => None,
            };
            Ok::<_, Fail>(SpaceReplication {
                edge: a.space.edge.clone(),
                status,
                lag_revisions,
                quarantine: tx.list_quarantine(id).await?,
                antivirus: self.antivirus_status(),
            })
        })
        .await
    }

    /// Replication state of every edge (administrators).
    pub async fn edges_status(&self, actor: &Actor) -> Result<Vec<EdgeStatus>, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, "edges")?;
            Ok::<_, Fail>(self.read().await?.list_edge_status().await?)
        })
        .await
    }
}

/// Driver-facing operations: what the replication (an adapter running as
/// the node itself) needs. No actor: the node acts on its own behalf.
impl Passerelle {
    /// Rows of a space after `after` (see `Tx::changes`): what the internal
    /// node sends, what an edge holds.
    pub async fn feed(
        &self,
        space: SpaceId,
        after: crate::ids::Revision,
        limit: u64,
    ) -> Result<crate::replication::Feed, CoreError> {
        Ok(self.read().await?.changes(space, after, limit).await?)
    }
}

impl InternalApp {
    /// Spaces currently shared with `edge`.
    pub async fn spaces_shared_with(
        &self,
        edge: &NodeId,
    ) -> Result<Vec<crate::model::Space>, CoreError> {
        Ok(self.read().await?.spaces_shared_with(edge).await?)
    }

    /// Records what a replication link knows of its edge now, stamped with
    /// this node's clock: `cursors` (empty: the ones recorded before are
    /// kept, the link has not heard them yet), the spaces failing and the
    /// link's error. `contact`: the edge answered, so its last contact is
    /// now; otherwise the last contact recorded stays.
    pub async fn record_link_state(
        &self,
        edge: &NodeId,
        mut cursors: Vec<(SpaceId, crate::ids::Revision)>,
        space_errors: Vec<(SpaceId, String)>,
        error: Option<String>,
        contact: bool,
    ) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let previous = tx.edge_status(edge).await?;
        if cursors.is_empty() {
            cursors = previous
                .as_ref()
                .map(|p| p.cursors.clone())
                .unwrap_or_default();
        }
        cursors.sort();
        let last_contact = if contact {
            Some(now)
        } else {
            previous.and_then(|p| p.last_contact)
        };
        tx.save_edge_status(&EdgeStatus {
            edge: edge.to_owned(),
            last_contact,
            last_error: error,
            cursors,
            space_errors,
            updated_at: now,
        })
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Records an edge's status as given (tests and tools that set one).
    pub async fn record_edge_status(&self, status: &EdgeStatus) -> Result<(), CoreError> {
        let mut tx = self.write().await?;
        tx.save_edge_status(status).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Records the receipt of an un-share purge: the edge holds nothing of
    /// the space any more and its outbox for it was drained, so the
    /// contractors' memberships end here and their unused invitations are
    /// revoked (ADR 0002, invariant 6), audited with the receipt.
    pub async fn record_purge_receipt(
        &self,
        edge: &NodeId,
        space: SpaceId,
        receipt: serde_json::Value,
    ) -> Result<(), CoreError> {
        let mut tx = self.write().await?;
        let ended = self.end_contractor_access(&mut tx, space).await?;
        let mut detail = receipt;
        if let Some(obj) = detail.as_object_mut() {
            obj.insert("contractors_removed".into(), json!(ended));
        }
        self.audit(
            &mut tx,
            &Actor::System,
            "space.unshare",
            Some(space),
            Some(edge.to_string()),
            detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Tombstones the contractors' memberships of `space` and revokes their
    /// invitations not used yet; returns the logins removed.
    async fn end_contractor_access(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        space: SpaceId,
    ) -> Result<Vec<String>, CoreError> {
        let mut ended = Vec::new();
        for mut m in tx.list_members(space).await? {
            let Some(p) = tx.principal(m.principal).await? else {
                continue;
            };
            if p.kind != PrincipalKind::Contractor {
                continue;
            }
            m.removed = true;
            m.revision = tx.next_revision().await?;
            tx.save_membership(&m).await?;
            ended.push(p.login.to_string());
        }
        for mut inv in tx.list_invitations(space).await? {
            if !inv.revoked && inv.accepted_at.is_none() {
                inv.revoked = true;
                inv.revision = tx.next_revision().await?;
                tx.save_invitation(&inv).await?;
            }
        }
        Ok(ended)
    }
}

impl InternalApp {
    /// The recorded status of one edge (the replication driver).
    pub async fn edge_status_of(&self, edge: &NodeId) -> Result<Option<EdgeStatus>, CoreError> {
        Ok(self.read().await?.edge_status(edge).await?)
    }
}
