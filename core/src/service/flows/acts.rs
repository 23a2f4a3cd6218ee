//! @CTES acknowledgements meet their acts (ADR 0008 §5): the prefecture's
//! `ARActe` fills the act's "transmis le" and "identifiant AR" fields. It
//! may arrive before the act is filed (two applications, two drop folders,
//! no order between them): then it is filed and waits in the ledger, and
//! the act's filing applies it. Either way in the unit of work of the
//! flow that arrives second, as a metadata update of the act (a revision,
//! an audit entry, the act's lock respected) and a link from the
//! acknowledgement to the act (`accuse_de_reception_de`).

use crate::flows::Ingestion;
use crate::ids::{DocumentId, SpaceId};
use crate::links::LinkKind;
use crate::ports::Tx;

use super::super::access::Outcome;
use super::super::{Actor, InternalApp};

/// The act's fields an acknowledgement fills (catalogue types
/// `deliberation` and `arrete`).
const TRANSMITTED_ON: &str = "transmis_le";
const AR_ID: &str = "identifiant_ar";
/// The acknowledgement document's own fields (`accuse-reception-acte`).
const RECEIVED_ON: &str = "date_reception";

/// The business key a flow carries, when flows refer to each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowReference {
    /// An act, by its internal number (`NumeroInterne`); the filing's
    /// first document is the act.
    Act { number: String },
    /// The prefecture's acknowledgement of the act `number`; the filing's
    /// first document is the acknowledgement, typed
    /// `accuse-reception-acte` (its `identifiant_ar` and `date_reception`
    /// are what the act receives).
    Acknowledgement { number: String },
}

impl FlowReference {
    /// As the ledger keeps it.
    pub(super) fn key(&self) -> String {
        match self {
            FlowReference::Act { number } => Ingestion::act(number),
            FlowReference::Acknowledgement { number } => Ingestion::acknowledgement(number),
        }
    }
}

impl InternalApp {
    /// Applies what `reference` meets in the ledger, for a filing whose
    /// first document is `first`; whether an acknowledgement still waits
    /// for its act.
    pub(super) async fn meet(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        reference: &FlowReference,
        first: DocumentId,
    ) -> Outcome<bool> {
        match reference {
            FlowReference::Act { number } => {
                let acks = tx
                    .ingestions_by_reference(&Ingestion::acknowledgement(number))
                    .await?;
                // Oldest first: the latest acknowledgement is applied last
                // and stays.
                for ack in acks.iter().filter(|i| i.space == space) {
                    if let Some(ar) = ack.documents.first() {
                        self.acknowledge(tx, actor, first, *ar).await?;
                    }
                }
                Ok(false)
            }
            FlowReference::Acknowledgement { number } => {
                let acts = tx.ingestions_by_reference(&Ingestion::act(number)).await?;
                let act = acts
                    .iter()
                    .rev()
                    .filter(|i| i.space == space)
                    .find_map(|i| i.documents.first().copied());
                let Some(act) = act else { return Ok(true) };
                match tx.document(act).await? {
                    Some(d) if d.trashed.is_none() && !d.purged => {
                        self.acknowledge(tx, actor, act, first).await?;
                        Ok(false)
                    }
                    // The act was deleted since: nothing to fill.
                    _ => Ok(true),
                }
            }
        }
    }

    /// Copies the acknowledgement `ar`'s identifier and date into the act.
    async fn acknowledge(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        act: DocumentId,
        ar: DocumentId,
    ) -> Outcome<()> {
        let (Some(ar), Some(d)) = (tx.document(ar).await?, tx.document(act).await?) else {
            return Ok(());
        };
        let (Some(id), Some(on)) = (ar.metadata.get(AR_ID), ar.metadata.get(RECEIVED_ON)) else {
            return Ok(());
        };
        let mut metadata = d.metadata.clone();
        metadata.insert(AR_ID.to_owned(), id.clone());
        metadata.insert(TRANSMITTED_ON.to_owned(), on.clone());
        if metadata != d.metadata {
            self.update_metadata_in(tx, actor, act, d.doc_type.clone(), metadata)
                .await?;
        }
        self.link_in(tx, actor, ar.id, act, LinkKind::AccuseDeReceptionDe)
            .await?;
        tracing::info!(act = %act, ar = %id, "act acknowledged by the prefecture");
        Ok(())
    }
}
