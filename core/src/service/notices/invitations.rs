//! A contractor's invitation e-mailed from the internal node (ADR 0013
//! §6): queued with the invitation, withdrawn if it is revoked or
//! accepted first, its link removed from the outbox once sent.

use crate::error::CoreError;
use crate::ids::NoticeId;
use crate::model::{Language, Principal};
use crate::notify::render::{self, InvitationWords};
use crate::notify::{Notice, NoticeKind};
use crate::ports::Tx;
use crate::replication::{Invitation, NodeId, invitation_link};

use super::super::{Actor, Passerelle};

impl Passerelle {
    /// Queues the e-mail of a contractor's invitation in `tx`, the
    /// transaction that makes it, when this node has a relay and the
    /// edge's public address is known; whether it did. The one exception
    /// to "each node mails its own people" (ADR 0013 §6): the secret
    /// exists only here (the edge keeps its hash, and the secret never
    /// travels over replication), so only this node can write the link.
    /// The link is removed from the outbox once sent.
    pub(in crate::service) async fn mail_invitation(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        issued: &InvitationMail<'_>,
    ) -> Result<bool, CoreError> {
        let Some(url) = self
            .settings
            .edge_urls
            .get(issued.edge)
            .and_then(|base| invitation_link(base, issued.secret))
        else {
            return Ok(false);
        };
        if !self.mails() {
            return Ok(false);
        }
        let inviter = match actor.principal() {
            Ok(p) => p.display_name.clone(),
            // An operator at the CLI: the node's name invites.
            Err(_) => self.settings.site_name.clone(),
        };
        let lang = tx
            .preferred_language(issued.to.id)
            .await?
            .unwrap_or(Language::Fr);
        let words = render::invitation(
            lang,
            &self.settings.site_name,
            &InvitationWords {
                inviter,
                space: issued.space.to_owned(),
                url,
                expires_at: issued.invitation.expires_at,
            },
        );
        let now = self.now();
        let notice = Notice::pending(
            invitation_notice(issued.invitation.id),
            issued.to.id,
            &issued.to.email,
            NoticeKind::Invitation,
            words,
            None,
            now,
        );
        Ok(tx.queue_notice(&notice).await?)
    }
}

/// What the e-mail of an invitation is made of.
pub(in crate::service) struct InvitationMail<'a> {
    pub(in crate::service) invitation: &'a Invitation,
    pub(in crate::service) to: &'a Principal,
    /// The space's title.
    pub(in crate::service) space: &'a str,
    pub(in crate::service) edge: &'a NodeId,
    pub(in crate::service) secret: &'a str,
}

/// The outbox id of an invitation's e-mail: one per invitation, found
/// again to withdraw it when the invitation is revoked or accepted first.
pub(in crate::service) fn invitation_notice(invitation: uuid::Uuid) -> NoticeId {
    NoticeId::derived(&["invitation", &invitation.to_string()])
}

/// Once an invitation's e-mail has left (or been refused for good), its
/// bodies lose the link: the outbox keeps no credential.
pub(super) fn forget_link(n: &mut Notice, lang: Language) {
    if n.kind == NoticeKind::Invitation {
        let gone = render::sent_invitation(lang);
        n.text = gone.to_owned();
        n.html = format!("<p>{gone}</p>");
    }
}
