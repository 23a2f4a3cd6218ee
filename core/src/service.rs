//! Use cases. Every driving adapter (HTTP, CLI, later WebDAV, gRPC apply, hot
//! folders) calls these, so authorization and validation happen here once.
//!
//! Shape of a mutating use case: open a write transaction, resolve the
//! caller's access to the space (absent or invisible → `NotFound`), check the
//! role's right (visible but not allowed → `Forbidden`), validate, take one
//! revision, save rows, append the audit entry, commit.

mod access;
mod accounts;
mod activity;
mod app_passwords;
mod apply;
mod basic;
mod digest;
mod directory_groups;
mod directory_login;
mod directory_sync;
mod documents;
mod edge;
mod flows;
mod folders;
mod gauges;
mod inactivity;
mod indexer;
mod links;
mod locks;
mod maintenance;
mod member_ends;
mod notices;
mod own_second_factor;
mod paths;
mod properties;
mod rights;
mod roles;
mod scanning;
mod search;
mod second_step;
mod seen;
mod service_accounts;
mod sessions;
mod sharing;
mod spaces;
mod throttle;
mod tokens;
mod trash;
mod writes;

use std::sync::Arc;

use serde_json::Value;
use time::Duration;

use crate::audit::{self, AuditEvent};
use crate::blob::BlobStore;
use crate::error::CoreError;
use crate::ids::{PrincipalId, SpaceId};
use crate::model::Principal;
use crate::ports::{Clock, PasswordHasher, Repository, Tx, TxMode};
use crate::replication::NodeId;
use crate::signal::ChangeSignal;

pub use access::Access;
pub use accounts::{IssuedToken, NewAgent};
pub use activity::{
    FeedAsk, FeedItem, FeedLine, FeedPage, FeedScope, Notifications, SubscriptionsView,
};
pub use app_passwords::APP_PASSWORD_PREFIX;
pub use apply::APPLY_RUN;
pub use directory_groups::GroupChanges;
pub use directory_sync::DirectorySync;
pub use documents::{CopyTarget, DocumentView, NewDocument, NewVersion, VersionContent};
pub use edge::{BlobCollection, PurgeReport, ReceiveError};
pub use flows::{
    FiledDocument, Filing, FilingReceipt, FlowDocument, FlowLink, FlowReference, Flows,
    MAX_FILING_DOCUMENTS, Staged,
};
pub use folders::{FolderContents, FolderListing};
pub use gauges::{ReplicationGauges, SpaceLag};
pub use indexer::{IndexRun, Indexer};
pub use links::LinkView;
pub use locks::{ListingLocks, LockView, Locks};
pub use maintenance::{BlobCheck, ChainReport};
pub use member_ends::END_REMINDER;
pub use notices::{BounceRun, DeliveryRun, PlanRun};
pub use own_second_factor::{OwnSecondFactor, Proof};
pub use paths::{FolderPlace, PathTarget};
pub use properties::Properties;
pub use rights::Rights;
pub use roles::{EdgeApp, InternalApp};
pub use scanning::AntivirusStatus;
use scanning::ScanHealth;
pub use search::{
    ExtractionProblem, FACET_VALUES, Facet, FacetsView, Found, IndexLag, Search, SearchAsk,
    SearchFilters, SearchGauges, SearchPage,
};
pub use second_step::{Enrolled, Enrolment, LoginStep};
pub use seen::{NewWaiting, Pending, SeenContents, SeenDocument, Waiting};
pub use sessions::{LoginOutcome, SessionAuth};
pub use sharing::{IssuedInvitation, NewContractor, SpaceReplication, invitation_hash};
pub use spaces::{MemberView, NewSpace, SpacePatch, SpaceView};
pub use throttle::LoginThrottle;
pub use trash::TrashListing;
pub use writes::{AppliedWrites, DocumentWrites, Queued, QueuedWrites, TreeWrites, Written};

/// Which node the shared use cases serve, chosen by the type that holds
/// them ([`InternalApp`] or [`EdgeApp`]). Contractors act only on an edge:
/// the internal node refuses their logins, sessions and passwords (ADR
/// 0002, invariant 5), whatever rows replication or an administrator left
/// there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeRole {
    /// The authoritative node on the LAN (agents, administrators).
    Internal,
    /// A DMZ node serving contractors the spaces shared with it.
    Edge,
}

/// Settings of the use cases (the node's config fills them).
#[derive(Clone, Debug)]
pub struct CoreSettings {
    /// Largest content accepted for one version, in bytes.
    pub max_upload_bytes: u64,
    /// How long a login session lives without logging in again.
    pub session_ttl: Duration,
    /// Minimum password length (ANSSI recommends 12 at least).
    pub min_password_len: usize,
    /// Node ids of the edges this internal node replicates to.
    pub edges: Vec<NodeId>,
    /// The address contractors reach each edge at
    /// (`https://partenaires.example.fr`), for the invitation links the
    /// internal node mails; an edge without one: invitations are not
    /// mailed, the manager hands the link over.
    pub edge_urls: std::collections::BTreeMap<NodeId, String>,
    /// Edge: how long a decided operation stays in the outbox after its
    /// verdict came back, for the contractor to see it; then it is pruned.
    pub outbox_retention: Duration,
    /// Edge: most operations that may wait for the internal node at once.
    /// Past it contractors' writes are refused (`OutboxFull`) until the
    /// internal node drains some, so a long outage cannot fill the disk.
    pub max_pending_operations: u64,
    /// Who must log in with a second factor (ADR 0012): the edge requires
    /// it of contractors by default (its configuration says so).
    pub second_factor: crate::second_factor::SecondFactorPolicy,
    /// The node's name as people know it: the issuer authenticator apps
    /// show beside the code.
    pub site_name: String,
    /// Internal node with an antivirus: scan agents' and service accounts'
    /// own uploads too, not only contractors' (ADR 0010). Off by default:
    /// agents' workstations have their own antivirus, and a clamd outage
    /// would then stop every upload.
    pub scan_agent_uploads: bool,
    /// Internal node: contractors inactive for longer are disabled (ADR
    /// 0011 §5); `None`: never.
    pub contractor_inactivity: Option<Duration>,
    /// What the node's notices say and when (ADR 0013).
    pub notifications: NotifySettings,
}

/// How a node writes its notices (ADR 0013).
#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// The address people reach this node's pages at
    /// (`https://ged.example.fr`), for the links of e-mails; without it
    /// e-mails name documents without links, and no unsubscribe link.
    pub public_url: Option<String>,
    /// When digests are sent.
    pub schedule: crate::notify::DigestSchedule,
    /// Most notices one person is sent in an hour; past it the next ones
    /// wait (nothing is dropped).
    pub max_per_hour: u32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            public_url: None,
            schedule: crate::notify::DigestSchedule::default(),
            max_per_hour: 20,
        }
    }
}

impl Default for CoreSettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 10 * 1024 * 1024 * 1024,
            session_ttl: Duration::hours(12),
            min_password_len: 12,
            edges: Vec::new(),
            edge_urls: std::collections::BTreeMap::new(),
            outbox_retention: Duration::days(30),
            max_pending_operations: 10_000,
            second_factor: crate::second_factor::SecondFactorPolicy::Off,
            site_name: "Passerelle".to_owned(),
            scan_agent_uploads: false,
            contractor_inactivity: None,
            notifications: NotifySettings::default(),
        }
    }
}

/// Who performs a use case.
#[derive(Clone, Debug, PartialEq)]
pub enum Actor {
    /// The node operator at the CLI (`passerelle-internal user add`, `init`…):
    /// all rights, audited with no principal.
    System,
    /// An authenticated principal (session or API token).
    Principal(Principal),
}

impl Actor {
    pub fn id(&self) -> Option<PrincipalId> {
        match self {
            Actor::System => None,
            Actor::Principal(p) => Some(p.id),
        }
    }

    pub fn is_admin(&self) -> bool {
        match self {
            Actor::System => true,
            Actor::Principal(p) => p.is_admin,
        }
    }

    /// Whether the actor is an outside contractor.
    pub fn is_contractor(&self) -> bool {
        matches!(self, Actor::Principal(p) if p.kind == crate::model::PrincipalKind::Contractor)
    }

    /// The principal, for use cases that need a real account (creating a
    /// space makes its creator a manager).
    pub fn principal(&self) -> Result<&Principal, CoreError> {
        match self {
            Actor::System => Err(CoreError::Forbidden("this action needs a user account")),
            Actor::Principal(p) => Ok(p),
        }
    }
}

/// The use cases both node roles share, over the ports. A node holds them
/// through its role's type, [`InternalApp`] or [`EdgeApp`], which adds the
/// use cases only that role has.
#[derive(Clone, Debug)]
pub struct Passerelle {
    role: NodeRole,
    repo: Arc<dyn Repository>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    passwords: Arc<dyn PasswordHasher>,
    settings: CoreSettings,
    throttle: Arc<LoginThrottle>,
    /// Basic credentials checked recently (WebDAV clients resend them).
    basic: Arc<basic::BasicChecks>,
    /// The authority's directory, which checks agents' passwords (ADR
    /// 0009); the internal node's, when configured.
    directory: Option<Arc<dyn crate::directory::Directory>>,
    /// What the directory's groups grant (ADR 0009 §6); empty without one.
    groups: Arc<crate::directory::GroupMapping>,
    /// Logins waiting for their second step (ADR 0012).
    challenges: Arc<second_step::Challenges>,
    /// Days of activity this process noted already (ADR 0011 §5).
    noted: Arc<inactivity::Noted>,
    /// The scanner of contractors' uploads (ADR 0010); the internal node's,
    /// when configured.
    antivirus: Option<Arc<dyn crate::antivirus::Antivirus>>,
    /// What the scanner last did, for the metrics and the status pages.
    scanning: Arc<ScanHealth>,
    /// Verdicts given while contents were fetched, waiting for the apply.
    ahead: Arc<apply::AheadVerdicts>,
    /// The node's mail relay (ADR 0013), when configured: without one,
    /// notices are planned and wait in the outbox.
    mailer: Option<Arc<dyn crate::notify::mail::Mailer>>,
    /// Where the relay's delivery reports come back (ADR 0013 §7), when
    /// configured: bounces after the relay accepted a message.
    bounces: Option<Arc<dyn crate::notify::mail::BounceBox>>,
    /// Woken by every write this process commits (replication waits on it).
    changes: Arc<ChangeSignal>,
    /// Woken by every lock taken, refreshed or released in this process:
    /// the link sends the edge the spaces' locks without waking revision
    /// work (ADR 0007, "Locks seen on the edge").
    lock_changes: Arc<ChangeSignal>,
}

impl Passerelle {
    pub(crate) fn new(
        role: NodeRole,
        repo: Arc<dyn Repository>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        passwords: Arc<dyn PasswordHasher>,
        settings: CoreSettings,
    ) -> Self {
        Self {
            role,
            repo,
            blobs,
            clock,
            passwords,
            settings,
            throttle: Arc::new(LoginThrottle::default()),
            basic: Arc::default(),
            directory: None,
            groups: Arc::default(),
            challenges: Arc::default(),
            noted: Arc::default(),
            antivirus: None,
            scanning: Arc::default(),
            ahead: Arc::default(),
            mailer: None,
            bounces: None,
            changes: Arc::new(ChangeSignal::default()),
            lock_changes: Arc::new(ChangeSignal::default()),
        }
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    /// The blob store, for core's own loops (the replication link): driving
    /// adapters reach content through use cases only.
    pub(crate) fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// Now, by this node's clock.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Commits made through this `Passerelle`: replication waits on it
    /// instead of polling.
    pub fn changes(&self) -> &ChangeSignal {
        &self.changes
    }

    /// Lock transactions committed through this `Passerelle`: the link
    /// waits on it to mirror locks on the edge.
    pub fn lock_changes(&self) -> &ChangeSignal {
        &self.lock_changes
    }

    /// Commits `tx`, then wakes whoever waits for a change.
    async fn commit(&self, tx: Box<dyn Tx>) -> Result<(), CoreError> {
        tx.commit().await?;
        self.changes.notify();
        Ok(())
    }

    /// Commits a transaction that changed locks only, then wakes whoever
    /// waits for a lock change (not the change signal: nothing in the
    /// feed moved).
    async fn commit_locks(&self, tx: Box<dyn Tx>) -> Result<(), CoreError> {
        tx.commit().await?;
        self.lock_changes.notify();
        Ok(())
    }

    async fn read(&self) -> Result<Box<dyn Tx>, CoreError> {
        Ok(self.repo.begin(TxMode::Read).await?)
    }

    async fn write(&self) -> Result<Box<dyn Tx>, CoreError> {
        Ok(self.repo.begin(TxMode::Write).await?)
    }

    /// Appends an audit entry inside `tx`.
    async fn audit(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        action: &'static str,
        space: Option<SpaceId>,
        target: Option<String>,
        detail: Value,
    ) -> Result<(), CoreError> {
        self.audit_by(tx, actor.id(), action, space, target, detail)
            .await
    }

    /// Appends an audit entry inside `tx` in the name of `actor`, who
    /// need not be this node's caller: an edge records the internal
    /// node's events of a shared space with the authors its rows name
    /// (ADR 0013 §2).
    async fn audit_by(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: Option<PrincipalId>,
        action: &'static str,
        space: Option<SpaceId>,
        target: Option<String>,
        detail: Value,
    ) -> Result<(), CoreError> {
        let head = tx.audit_head().await?;
        let entry = audit::chain(
            head,
            self.clock.now(),
            AuditEvent {
                actor,
                action,
                space,
                target,
                detail,
            },
        );
        tx.append_audit(&entry).await?;
        Ok(())
    }

    /// Records a denial in its own transaction (the use case's transaction is
    /// being abandoned). A failure to record is logged, not returned: the
    /// caller's error is the one that matters.
    async fn audit_denial(
        &self,
        actor: &Actor,
        space: Option<SpaceId>,
        target: String,
        reason: &str,
    ) {
        let result = async {
            let mut tx = self.write().await?;
            self.audit(
                &mut tx,
                actor,
                "access.denied",
                space,
                Some(target),
                serde_json::json!({ "reason": reason }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, CoreError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "could not record an access denial in the audit log");
        }
    }
}

#[cfg(test)]
mod tests;
