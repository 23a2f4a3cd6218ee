//! The internal node's side of replication: one long-lived link per edge.
//! It dials the edge (never the reverse), purges un-shared spaces, sends the
//! change feed of the spaces shared with it (blobs first), pulls
//! contractors' operations from the edge's outbox and applies them, compares
//! digests, and records the link's status. Every step resumes from cursors.
//!
//! A space whose send or purge fails (a full edge disk, a refused batch, a
//! row that does not convert) is recorded as failing with why and retried
//! on its own backoff ([`SpaceHealth`]); the other spaces and the purges go
//! on, and the link stays up. Only a failure of the link itself (the edge
//! unreachable, the connection gone) ends the session and reconnects.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::replication::{ChangeRow, EdgeStatus, OpOutcome};
use passerelle_core::service::APPLY_RUN;
use passerelle_core::{ContentHash, Passerelle};
use passerelle_proto::PROTOCOL_VERSION;
use passerelle_proto::v1 as pb;
use pb::replication_client::ReplicationClient;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::convert;
use crate::edge_service::CHUNK_BYTES;

/// Rows per `ApplyChanges` batch: about 1000 documents with their versions.
/// The blobs of a batch are pushed 16 at a time before it is applied, so
/// larger batches keep the pushes flowing with fewer pauses; a batch stays
/// around 1 MiB of rows, far below the 64 MiB message limit.
const BATCH_ROWS: u64 = 2000;
/// When nothing moved, the down feed waits for the next commit of this
/// node; it also looks this often, for changes made by another process (a
/// CLI command beside the server).
const IDLE: Duration = Duration::from_secs(1);
/// `PushBlobs` calls at once, each carrying blob after blob. The edge stores
/// the small ones of each call concurrently (their fsyncs overlap), so a
/// few calls keep both nodes busy; one large blob streams alone at full
/// speed.
const PUSH_STREAMS: usize = 4;
/// Anti-entropy period.
const DIGEST_EVERY: Duration = Duration::from_secs(60);
/// Timeout of unary calls (blob pushes have none: they stream).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// What the link needs to know about its edge.
#[derive(Debug, Clone)]
pub struct EdgeLink {
    /// The edge's node id (its certificate's URI SAN).
    pub edge: String,
    /// This node's id, sent in `Hello`.
    pub node_id: String,
}

/// Longest wait between two connection attempts. Kept short: an edge is
/// one peer, not a crowd (no thundering herd to spread), and after a long
/// cut the link must converge within ~15 s of the network coming back.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the link until `cancel`, reconnecting with backoff (1 s → 5 s).
/// `connect` dials the edge (mTLS) and returns a channel.
pub async fn run<C, F>(app: Passerelle, link: EdgeLink, connect: C, cancel: CancellationToken)
where
    C: Fn() -> F + Send + Sync,
    F: Future<Output = Result<Channel, Box<dyn std::error::Error + Send + Sync>>> + Send,
{
    let mut backoff = Duration::from_secs(1);
    // Kept across sessions: a reconnection neither retries a failing space
    // before its time nor logs its failure again.
    let mut health = Health::default();
    while !cancel.is_cancelled() {
        let channel = tokio::select! {
            () = cancel.cancelled() => break,
            c = connect() => c.map_err(LinkError::Connect),
        };
        let result = match channel {
            Ok(channel) => {
                backoff = Duration::from_secs(1);
                session(&app, &link, channel, &mut health, &cancel).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let error = e.to_string();
            // Once per state change: an edge down for an hour is one line,
            // not one every 5 s.
            if health.down.as_deref() == Some(error.as_str()) {
                tracing::debug!(edge = %link.edge, error = %e, retry_in = ?backoff, "replication link still down");
            } else {
                tracing::warn!(edge = %link.edge, error = %e, retry_in = ?backoff, "replication link down");
            }
            health.down = Some(error.clone());
            let _ = record(
                &app,
                &link.edge,
                &HashMap::new(),
                &health,
                Some(error),
                false,
            )
            .await;
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(backoff) => {},
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot reach the edge: {0}")]
    Connect(Box<dyn std::error::Error + Send + Sync>),
    #[error("edge refused ({:?}): {}", .0.code(), .0.message())]
    Rpc(#[from] tonic::Status),
    #[error("the edge sent something invalid: {0}")]
    Invalid(String),
    #[error("local failure: {0}")]
    Local(#[from] passerelle_core::CoreError),
    #[error("blob storage failure: {0}")]
    Blob(#[from] passerelle_core::blob::BlobError),
}

impl LinkError {
    /// Whether the link itself failed (the edge unreachable, the connection
    /// gone or cut): the session ends and reconnects. Any other failure met
    /// while sending or purging a space is that space's: the edge answered,
    /// and the other spaces may well go through.
    fn is_link_down(&self) -> bool {
        match self {
            LinkError::Connect(_) => true,
            LinkError::Rpc(s) => matches!(
                s.code(),
                tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Unknown
            ),
            _ => false,
        }
    }

    /// What kind of failure this is, to tell a new failure from the same
    /// one again with other figures ("12.0 MiB free", then "11.9"): the
    /// gRPC code, or the kind of local failure.
    fn kind(&self) -> String {
        match self {
            LinkError::Rpc(s) => format!("{:?}", s.code()),
            LinkError::Connect(_) => "connect".into(),
            LinkError::Invalid(_) => "invalid".into(),
            LinkError::Local(_) => "local".into(),
            LinkError::Blob(_) => "blob".into(),
        }
    }

    /// A space's failure in words ops can act on: what the edge said, after
    /// its name ("edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge").
    fn about_space(&self, edge: &str) -> String {
        match self {
            LinkError::Rpc(s) if s.code() == tonic::Code::Internal => {
                format!("{edge}: {} (the edge's log says why)", s.message())
            }
            LinkError::Rpc(s) => format!("{edge}: {}", s.message()),
            other => other.to_string(),
        }
    }
}

/// First wait before a failing space is tried again; it doubles with each
/// failure in a row, up to [`SPACE_MAX_RETRY`].
const SPACE_FIRST_RETRY: Duration = Duration::from_secs(2);
/// Longest wait before a failing space is tried again. A full disk freed by
/// ops is noticed within this time (at once when a purge frees it).
const SPACE_MAX_RETRY: Duration = Duration::from_secs(60);

/// What the link knows of its own failures, kept across sessions: each
/// failing space with why and when to try it again, and why the link was
/// last down. Logs say each change once, not every retry.
#[derive(Debug, Default)]
struct Health {
    failing: HashMap<SpaceId, Failing>,
    /// Why the last session ended (`None` once a session is up again).
    down: Option<String>,
}

/// A space whose last send or purge failed.
#[derive(Debug)]
struct Failing {
    error: String,
    /// [`LinkError::kind`]: a failure of another kind is logged again.
    kind: String,
    /// Failures in a row: the wait doubles with each.
    failures: u32,
    retry_at: tokio::time::Instant,
}

impl Health {
    /// Whether `space` may be sent or purged now.
    fn due(&self, space: SpaceId, now: tokio::time::Instant) -> bool {
        self.failing.get(&space).is_none_or(|f| f.retry_at <= now)
    }

    /// Records a failure of `space` and when to try it again; logs it when
    /// it is news (the space was fine, or fails for another kind of reason).
    fn failed(&mut self, edge: &str, space: SpaceId, e: &LinkError, now: tokio::time::Instant) {
        let (error, kind) = (e.about_space(edge), e.kind());
        let (failures, news) = match self.failing.get(&space) {
            Some(f) => (f.failures.saturating_add(1), f.kind != kind),
            None => (1, true),
        };
        let wait = SPACE_FIRST_RETRY
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(SPACE_MAX_RETRY);
        if news {
            tracing::warn!(%edge, %space, %error, retry_in = ?wait, "replication of a space fails; the other spaces go on");
        } else {
            tracing::debug!(%edge, %space, %error, retry_in = ?wait, "replication of a space still fails");
        }
        self.failing.insert(
            space,
            Failing {
                error,
                kind,
                failures,
                retry_at: now + wait,
            },
        );
    }

    /// Records that `space` went through; logs it when it was failing.
    fn succeeded(&mut self, edge: &str, space: SpaceId) {
        if let Some(f) = self.failing.remove(&space) {
            tracing::info!(%edge, %space, after = f.failures, "replication of a space works again");
        }
    }

    /// Lets every failing space try again now: a purge freed room on the
    /// edge, which may be what they lacked.
    fn retry_all_now(&mut self, now: tokio::time::Instant) {
        for f in self.failing.values_mut() {
            f.retry_at = now;
        }
    }

    /// The failing spaces and why, by space id (as recorded).
    fn errors(&self) -> Vec<(SpaceId, String)> {
        let mut out: Vec<_> = self
            .failing
            .iter()
            .map(|(s, f)| (*s, f.error.clone()))
            .collect();
        out.sort();
        out
    }
}

async fn record(
    app: &Passerelle,
    edge: &str,
    cursors: &HashMap<SpaceId, Revision>,
    health: &Health,
    error: Option<String>,
    contact: bool,
) -> Result<(), passerelle_core::CoreError> {
    let now = time::OffsetDateTime::now_utc();
    let previous = app.edge_status_of(edge).await?;
    let mut cursors: Vec<(SpaceId, Revision)> = if cursors.is_empty() {
        previous
            .as_ref()
            .map(|p| p.cursors.clone())
            .unwrap_or_default()
    } else {
        cursors.iter().map(|(s, r)| (*s, *r)).collect()
    };
    cursors.sort();
    app.record_edge_status(&EdgeStatus {
        edge: edge.to_owned(),
        last_contact: if contact {
            Some(now)
        } else {
            previous.and_then(|p| p.last_contact)
        },
        last_error: error,
        cursors,
        space_errors: health.errors(),
        updated_at: now,
    })
    .await
}

async fn session(
    app: &Passerelle,
    link: &EdgeLink,
    channel: Channel,
    health: &mut Health,
    cancel: &CancellationToken,
) -> Result<(), LinkError> {
    let mut client = ReplicationClient::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024);
    let hello = client
        .hello(timed(pb::HelloRequest {
            internal_node_id: link.node_id.clone(),
            protocol_version: PROTOCOL_VERSION,
        }))
        .await?
        .into_inner();
    if hello.edge_node_id != link.edge {
        return Err(LinkError::Invalid(format!(
            "the edge says it is {:?}",
            hello.edge_node_id
        )));
    }
    let mut cursors: HashMap<SpaceId, Revision> = HashMap::new();
    for (s, r) in hello.cursors {
        let s: SpaceId = s
            .parse()
            .map_err(|_| LinkError::Invalid("cursor of a non-UUID space".into()))?;
        cursors.insert(s, Revision(r));
    }
    tracing::info!(edge = %link.edge, spaces = cursors.len(), "replication link up");
    health.down = None;
    record(app, &link.edge, &cursors, health, None, true).await?;

    // Up: the outbox watcher runs beside the down feed, on its own stream.
    // If either direction fails, the session ends and reconnects (with the
    // error recorded): a silently dead watcher would leave contractors'
    // operations pending forever while the link looks healthy.
    let mut up = tokio::spawn(watch_outbox(
        app.clone(),
        link.edge.clone(),
        client.clone(),
        cancel.clone(),
    ));
    let result = tokio::select! {
        down = down_loop(app, link, &mut client, &mut cursors, health, cancel) => down,
        watcher = &mut up => match watcher {
            Ok(Ok(())) if cancel.is_cancelled() => Ok(()),
            Ok(Ok(())) => Err(LinkError::Invalid("the edge closed its outbox stream".into())),
            Ok(Err(e)) => Err(e),
            Err(join) => Err(LinkError::Invalid(format!("outbox watcher stopped: {join}"))),
        },
    };
    up.abort();
    result
}

async fn down_loop(
    app: &Passerelle,
    link: &EdgeLink,
    client: &mut ReplicationClient<Channel>,
    cursors: &mut HashMap<SpaceId, Revision>,
    health: &mut Health,
    cancel: &CancellationToken,
) -> Result<(), LinkError> {
    let mut last_digest = tokio::time::Instant::now() - DIGEST_EVERY;
    // Spaces sent from scratch: their digests are compared as soon as the
    // edge has caught up, not only at the next periodic check.
    let mut to_verify: std::collections::HashSet<SpaceId> = std::collections::HashSet::new();
    while !cancel.is_cancelled() {
        // Read before looking: a commit made during this pass wakes the wait.
        let seen = app.changes().current();
        let before = health.errors();
        let shared = app.spaces_shared_with(&link.edge).await?;
        // Purges first: they free room on the edge, which the sends may
        // need, and no space's failure may hold them back.
        let mut moved = purge_unshared(app, link, client, &shared, cursors, health).await?;
        for s in &shared {
            if !health.due(s.id, tokio::time::Instant::now()) {
                continue;
            }
            if cursors.get(&s.id).copied().unwrap_or_default() == Revision::ZERO {
                to_verify.insert(s.id);
            }
            match send_space(app, client, s.id, cursors).await {
                Ok(sent) => {
                    moved |= sent;
                    health.succeeded(&link.edge, s.id);
                }
                Err(e) if e.is_link_down() => return Err(e),
                Err(e) => health.failed(&link.edge, s.id, &e, tokio::time::Instant::now()),
            }
        }
        // A space neither shared nor held by the edge any more is no one's
        // concern.
        health
            .failing
            .retain(|id, _| cursors.contains_key(id) || shared.iter().any(|s| s.id == *id));
        if last_digest.elapsed() >= DIGEST_EVERY {
            last_digest = tokio::time::Instant::now();
            check_digests(app, link, client, &shared, cursors, health).await?;
        } else if !to_verify.is_empty() {
            let fresh: Vec<_> = shared
                .iter()
                .filter(|s| to_verify.contains(&s.id))
                .cloned()
                .collect();
            for checked in check_digests(app, link, client, &fresh, cursors, health).await? {
                to_verify.remove(&checked);
            }
            to_verify.retain(|id| shared.iter().any(|s| s.id == *id));
        }
        if moved || health.errors() != before {
            record(app, &link.edge, cursors, health, None, true).await?;
        }
        if !moved {
            tokio::select! {
                () = cancel.cancelled() => {},
                () = app.changes().changed_since(seen) => {},
                () = tokio::time::sleep(IDLE) => {},
            }
        }
    }
    Ok(())
}

/// Purges from the edge the spaces it holds that are no longer shared with
/// it; `true` when one was. A purge the edge refuses for now (operations of
/// the space still pending there) is asked again at the next pass; any
/// other failure is the space's, backing off like a send.
async fn purge_unshared(
    app: &Passerelle,
    link: &EdgeLink,
    client: &mut ReplicationClient<Channel>,
    shared: &[passerelle_core::model::Space],
    cursors: &mut HashMap<SpaceId, Revision>,
    health: &mut Health,
) -> Result<bool, LinkError> {
    let gone: Vec<SpaceId> = cursors
        .keys()
        .filter(|id| !shared.iter().any(|s| s.id == **id))
        .copied()
        .collect();
    let mut purged = false;
    for space in gone {
        if !health.due(space, tokio::time::Instant::now()) {
            continue;
        }
        match purge(app, link, client, space).await {
            Ok(true) => {
                cursors.remove(&space);
                health.succeeded(&link.edge, space);
                purged = true;
            }
            Ok(false) => {}
            Err(e) if e.is_link_down() => return Err(e),
            Err(e) => health.failed(&link.edge, space, &e, tokio::time::Instant::now()),
        }
    }
    if purged {
        health.retry_all_now(tokio::time::Instant::now());
    }
    Ok(purged)
}

/// Asks the edge to purge `space` and records its receipt; `false` when
/// the edge refuses for now (operations of the space still pending).
async fn purge(
    app: &Passerelle,
    link: &EdgeLink,
    client: &mut ReplicationClient<Channel>,
    space: SpaceId,
) -> Result<bool, LinkError> {
    let receipt = match client
        .purge_space(timed(pb::PurgeRequest {
            space: space.to_string(),
        }))
        .await
    {
        Ok(receipt) => receipt.into_inner(),
        Err(s) if s.code() == tonic::Code::FailedPrecondition => return Ok(false),
        Err(s) => return Err(s.into()),
    };
    app.record_purge_receipt(
        &link.edge,
        space,
        serde_json::json!({
            "rows_removed": receipt.rows_removed,
            "blobs_removed": receipt.blobs_removed,
            "bytes_removed": receipt.bytes_removed,
            "edge_node_id": receipt.edge_node_id,
            "at": receipt.at,
        }),
    )
    .await?;
    tracing::info!(edge = %link.edge, %space, rows = receipt.rows_removed, bytes = receipt.bytes_removed, "space purged from the edge");
    Ok(true)
}

/// [`anti_entropy`] on `spaces`, minus the failing ones. A failure that is
/// not the link's is logged and left to the next periodic check: digests
/// only repair, and the sends go on without them.
async fn check_digests(
    app: &Passerelle,
    link: &EdgeLink,
    client: &mut ReplicationClient<Channel>,
    spaces: &[passerelle_core::model::Space],
    cursors: &mut HashMap<SpaceId, Revision>,
    health: &Health,
) -> Result<Vec<SpaceId>, LinkError> {
    let healthy: Vec<_> = spaces
        .iter()
        .filter(|s| !health.failing.contains_key(&s.id))
        .cloned()
        .collect();
    match anti_entropy(app, client, &healthy, cursors).await {
        Ok(checked) => Ok(checked),
        Err(e) if e.is_link_down() => Err(e),
        Err(e) => {
            tracing::warn!(edge = %link.edge, error = %e, "digests not compared; next try in a minute");
            Ok(healthy.iter().map(|s| s.id).collect())
        }
    }
}

/// Sends what the edge lacks of one space; `true` when something was sent.
async fn send_space(
    app: &Passerelle,
    client: &mut ReplicationClient<Channel>,
    space: SpaceId,
    cursors: &mut HashMap<SpaceId, Revision>,
) -> Result<bool, LinkError> {
    let cursor = cursors.get(&space).copied().unwrap_or_default();
    let feed = app.feed(space, cursor, BATCH_ROWS).await?;
    let mut rows = feed.rows;
    let types = app.list_document_types().await?;
    let to = if rows.is_empty() {
        // The space is caught up: types changed since can go alone.
        let newer: Vec<_> = types.into_iter().filter(|t| t.revision > cursor).collect();
        let Some(to) = newer.iter().map(|t| t.revision).max() else {
            return Ok(false);
        };
        rows.extend(newer.into_iter().map(ChangeRow::DocumentType));
        to
    } else {
        // Types changed within the batch's range.
        let to = feed.through;
        rows.extend(
            types
                .into_iter()
                .filter(|t| t.revision > cursor && t.revision <= to)
                .map(ChangeRow::DocumentType),
        );
        to
    };
    // Blobs first: have/want, then stream what is missing from where the
    // edge stopped.
    let mut refs: Vec<pb::BlobRef> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        if let ChangeRow::Version(v) = r
            && seen.insert(v.hash)
        {
            refs.push(pb::BlobRef {
                hash: v.hash.as_bytes().to_vec(),
                size: v.size,
            });
        }
    }
    if !refs.is_empty() {
        // Known to the edge from now on, even before its first batch lands
        // (here, and on the edge, which records it with the blobs asked and
        // names it in the next Hello): an un-share meanwhile then orders a
        // purge, which also removes every blob sent for the space, whole or
        // partial, after a restart too.
        cursors.entry(space).or_insert(Revision::ZERO);
        let missing = client
            .missing_blobs(timed(pb::MissingBlobsRequest {
                blobs: refs.clone(),
                space: space.to_string(),
            }))
            .await?
            .into_inner()
            .missing;
        let sizes: HashMap<&[u8], u64> = refs.iter().map(|r| (r.hash.as_slice(), r.size)).collect();
        let mut wanted = Vec::with_capacity(missing.len());
        for need in &missing {
            let hash = convert::hash("missing.hash", &need.hash)
                .map_err(|e| LinkError::Invalid(e.to_string()))?;
            let size = sizes.get(need.hash.as_slice()).copied().ok_or_else(|| {
                LinkError::Invalid(format!(
                    "the edge wants blob {} it was not offered",
                    hash.short()
                ))
            })?;
            wanted.push(Wanted {
                hash,
                size,
                from: need.have.min(size),
            });
        }
        let pushes = spread(wanted, PUSH_STREAMS)
            .into_iter()
            .map(|blobs| push_blobs(app, client.clone(), space, blobs));
        let mut pushes = futures::stream::iter(pushes).buffer_unordered(PUSH_STREAMS);
        while let Some(pushed) = pushes.next().await {
            pushed?;
        }
    }
    let batch = pb::ChangeBatch {
        space: space.to_string(),
        from_revision: cursor.0,
        to_revision: to.0,
        changes: rows.iter().map(convert::change_to_pb).collect(),
    };
    let ack = client.apply_changes(timed(batch)).await?.into_inner();
    cursors.insert(space, Revision(ack.cursor));
    tracing::debug!(%space, rows = rows.len(), cursor = ack.cursor, "batch sent");
    Ok(true)
}

/// A blob the edge lacks, and where its copy there ends.
#[derive(Debug, Clone, Copy)]
struct Wanted {
    hash: ContentHash,
    size: u64,
    from: u64,
}

/// Splits `blobs` into at most `streams` groups of about the same number of
/// bytes still to send (largest first, each to the lightest group).
fn spread(mut blobs: Vec<Wanted>, streams: usize) -> Vec<Vec<Wanted>> {
    blobs.sort_by_key(|b| std::cmp::Reverse(b.size - b.from));
    let mut groups: Vec<(u64, Vec<Wanted>)> = Vec::new();
    for blob in blobs {
        let left = blob.size - blob.from;
        if groups.len() < streams.max(1) {
            groups.push((left, vec![blob]));
        } else if let Some(lightest) = groups.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            lightest.0 += left;
            lightest.1.push(blob);
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Streams `blobs` one after the other on one `PushBlobs` call, each from
/// where the edge's copy ends, and checks the edge stored them all. Each
/// blob names `space`, the space it is sent for: the edge records the blob
/// for it before writing it, so an un-share purges it even if the batch
/// that names it never arrives.
async fn push_blobs(
    app: &Passerelle,
    mut client: ReplicationClient<Channel>,
    space: SpaceId,
    blobs: Vec<Wanted>,
) -> Result<(), LinkError> {
    let space = space.to_string();
    let expected = blobs.len();
    // State: the blobs still to open, the one being sent (its content, next
    // offset, bytes read but not sent, whether its first message went out).
    // `unfold` owns it, so the stream stays `Send`.
    struct Sending {
        content: ByteStream,
        blob: Wanted,
        offset: u64,
        pending: bytes::Bytes,
        sent_any: bool,
    }
    struct State {
        app: Passerelle,
        space: String,
        queue: std::vec::IntoIter<Wanted>,
        current: Option<Sending>,
    }
    let state = State {
        app: app.clone(),
        space,
        queue: blobs.into_iter(),
        current: None,
    };
    let chunks = futures::stream::unfold(state, |mut st| async move {
        loop {
            let Some(cur) = st.current.as_mut() else {
                let blob = st.queue.next()?;
                match st
                    .app
                    .blobs()
                    .get(&blob.hash, Some(blob.from..blob.size))
                    .await
                {
                    Ok(content) => {
                        st.current = Some(Sending {
                            content,
                            blob,
                            offset: blob.from,
                            pending: bytes::Bytes::new(),
                            sent_any: false,
                        });
                        continue;
                    }
                    // Ending the call early leaves the edge's durable
                    // prefixes; the next pass resumes from them.
                    Err(e) => {
                        tracing::error!(error = %e, hash = %blob.hash.short(), "cannot open a blob to send");
                        return None;
                    }
                }
            };
            if !cur.pending.is_empty() || (!cur.sent_any && cur.offset == cur.blob.size) {
                let n = cur.pending.len().min(CHUNK_BYTES);
                let data = cur.pending.split_to(n);
                // The first chunk of each blob names it and its space; the
                // edge checks offsets.
                let (hash, space) = if cur.sent_any {
                    (Vec::new(), String::new())
                } else {
                    (cur.blob.hash.as_bytes().to_vec(), st.space.clone())
                };
                let chunk = pb::BlobChunk {
                    hash,
                    size: cur.blob.size,
                    offset: cur.offset,
                    data,
                    space,
                };
                cur.offset += n as u64;
                cur.sent_any = true;
                if cur.offset == cur.blob.size && cur.pending.is_empty() {
                    st.current = None;
                }
                return Some((chunk, st));
            }
            match cur.content.next().await {
                Some(Ok(b)) => cur.pending = b,
                Some(Err(e)) => {
                    tracing::error!(error = %e, "cannot read a blob to send");
                    return None;
                }
                // Shorter than its size: the store changed under us.
                None => {
                    tracing::error!(hash = %cur.blob.hash.short(), "a blob to send ended early");
                    return None;
                }
            }
        }
    });
    let stored = client.push_blobs(chunks).await?.into_inner().stored;
    if stored.len() != expected {
        return Err(LinkError::Invalid(format!(
            "the edge stored {} of {expected} blobs pushed",
            stored.len()
        )));
    }
    Ok(())
}

async fn anti_entropy(
    app: &Passerelle,
    client: &mut ReplicationClient<Channel>,
    shared: &[passerelle_core::model::Space],
    cursors: &mut HashMap<SpaceId, Revision>,
) -> Result<Vec<SpaceId>, LinkError> {
    // Only spaces the edge has caught up with: a lagging one differs anyway.
    let mut caught_up = Vec::new();
    for s in shared {
        let cursor = cursors.get(&s.id).copied().unwrap_or_default();
        if cursor > Revision::ZERO && app.feed(s.id, cursor, 1).await?.rows.is_empty() {
            caught_up.push(s.id);
        }
    }
    if caught_up.is_empty() {
        return Ok(caught_up);
    }
    let theirs = client
        .space_digests(timed(pb::DigestRequest {
            spaces: caught_up.iter().map(ToString::to_string).collect(),
        }))
        .await?
        .into_inner()
        .digests;
    for &space in &caught_up {
        let theirs = theirs.get(&space.to_string()).map(Vec::as_slice);
        let mine = app.space_digest(space).await?;
        if theirs == Some(mine.as_bytes().as_slice()) {
            tracing::info!(%space, "edge in sync: digests agree");
            continue;
        }
        // A change made on this node since the edge was found caught up
        // also makes the digests differ: only a space still caught up now
        // has really diverged.
        let cursor = cursors.get(&space).copied().unwrap_or_default();
        if !app.feed(space, cursor, 1).await?.rows.is_empty() {
            continue;
        }
        tracing::warn!(%space, "edge diverged from the internal node: re-sending the space");
        cursors.insert(space, Revision::ZERO);
    }
    Ok(caught_up)
}

/// Streams the edge's outbox and applies it in runs: the operations that
/// arrived together (up to [`APPLY_RUN`]) have their content fetched, are
/// applied in as few transactions as core allows, and acknowledged in one
/// call. One at a time, with a commit and an acknowledgement each, the
/// drain stayed under 100 operations per second (issue 12).
async fn watch_outbox(
    app: Passerelle,
    edge: String,
    mut client: ReplicationClient<Channel>,
    cancel: CancellationToken,
) -> Result<(), LinkError> {
    let stream = client
        .watch_outbox(pb::WatchOutboxRequest { after_seq: 0 })
        .await?
        .into_inner();
    let mut runs = stream.ready_chunks(APPLY_RUN);
    loop {
        let run = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            m = runs.next() => m,
        };
        let Some(run) = run else { return Ok(()) };
        let results = apply_run(&app, &edge, &mut client, run).await?;
        client.ack_outbox(timed(pb::AckRequest { results })).await?;
    }
}

/// Applies operations that came up together, in their order; those that
/// do not parse are refused on their own.
async fn apply_run(
    app: &Passerelle,
    edge: &str,
    client: &mut ReplicationClient<Channel>,
    run: Vec<Result<pb::OutboxItem, tonic::Status>>,
) -> Result<Vec<pb::OpResult>, LinkError> {
    let mut results = Vec::with_capacity(run.len());
    let mut items = Vec::with_capacity(run.len());
    for item in run {
        let item = item?;
        let op_id = item.op_id.clone();
        match convert::item_from_pb(item) {
            Ok(item) => items.push(item),
            Err(e) => {
                tracing::warn!(%edge, op = %op_id, error = %e, "invalid operation from the edge");
                results.push(op_result(op_id, OpOutcome::Rejected, e.to_string()));
            }
        }
    }
    // Content over this node's limit is not fetched: applying the
    // operation refuses it.
    let limit = app.settings().max_upload_bytes;
    let wanted: Vec<_> = items
        .iter()
        .filter_map(|i| i.op.blob())
        .filter(|b| b.size <= limit)
        .collect();
    futures::stream::iter(wanted)
        .map(|b| {
            let mut client = client.clone();
            async move { fetch_blob(app, &mut client, b.hash, b.size).await }
        })
        .buffer_unordered(FETCHES_IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    for applied in app.apply_edge_ops(edge, &items).await? {
        results.push(op_result(
            applied.op_id.to_string(),
            applied.outcome,
            applied.detail,
        ));
    }
    Ok(results)
}

/// Contractors' uploads fetched at once while a run is applied: small ones
/// are dominated by the round trip, not the bytes.
const FETCHES_IN_FLIGHT: usize = 8;

fn op_result(op_id: String, outcome: OpOutcome, detail: String) -> pb::OpResult {
    pb::OpResult {
        op_id,
        outcome: outcome.as_str().into(),
        detail,
        document: String::new(),
    }
}

/// Pulls a contractor's upload into the local store, verifying its hash.
async fn fetch_blob(
    app: &Passerelle,
    client: &mut ReplicationClient<Channel>,
    hash: ContentHash,
    size: u64,
) -> Result<(), LinkError> {
    if app.blobs().size(&hash).await? == Some(size) {
        return Ok(());
    }
    let stream = client
        .fetch_blob(pb::FetchBlobRequest {
            hash: hash.as_bytes().to_vec(),
            offset: 0,
        })
        .await?
        .into_inner();
    let content: ByteStream = Box::pin(stream.map(|r| {
        r.map(|c| c.data)
            .map_err(|s| std::io::Error::other(s.to_string()))
    }));
    let info = app.blobs().put(content, Some(size)).await?;
    if info.hash != hash {
        return Err(LinkError::Invalid(format!(
            "blob {} arrived with another content",
            hash.short()
        )));
    }
    Ok(())
}

fn timed<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.set_timeout(CALL_TIMEOUT);
    r
}

/// Compile-time guard: the link's futures must stay `Send` (they run in
/// spawned tasks). Higher-ranked closures in stream combinators silently break
/// that; this fails to build when it happens, next to the cause.
#[allow(dead_code)]
fn send_probe(app: Passerelle, ch: Channel, cancel: CancellationToken, link: EdgeLink) {
    fn s<T: Send>(_: T) {}
    let mut client = ReplicationClient::new(ch.clone());
    let mut cursors = HashMap::new();
    s(send_space(&app, &mut client, SpaceId::new(), &mut cursors));
    s(anti_entropy(&app, &mut client, &[], &mut cursors));
    s(watch_outbox(
        app.clone(),
        String::new(),
        client.clone(),
        cancel.clone(),
    ));
    s(fetch_blob(&app, &mut client, ContentHash::of(b""), 0));
    s(push_blobs(&app, client.clone(), SpaceId::new(), Vec::new()));
    let mut health = Health::default();
    s(record(&app, "", &cursors, &health, None, true));
    s(down_loop(
        &app,
        &link,
        &mut client,
        &mut cursors,
        &mut health,
        &cancel,
    ));
    s(purge(&app, &link, &mut client, SpaceId::new()));
    s(session(&app, &link, ch, &mut health, &cancel));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(size: u64, from: u64, seed: u8) -> Wanted {
        Wanted {
            hash: ContentHash::of(&[seed]),
            size,
            from,
        }
    }

    #[test]
    fn spread_balances_the_bytes_left_over_the_streams_and_loses_none() {
        let mut blobs: Vec<Wanted> = (0..100).map(|i| wanted(64 * 1024, 0, i)).collect();
        blobs.push(wanted(1 << 30, (1 << 30) - 10, 200)); // 10 bytes left
        blobs.push(wanted(8 << 20, 0, 201));
        let groups = spread(blobs.clone(), 4);
        assert_eq!(groups.len(), 4);
        let mut all: Vec<_> = groups.iter().flatten().map(|b| b.hash).collect();
        let mut expected: Vec<_> = blobs.iter().map(|b| b.hash).collect();
        all.sort_by_key(ContentHash::to_hex);
        expected.sort_by_key(ContentHash::to_hex);
        assert_eq!(all, expected, "every blob once");
        let left: Vec<u64> = groups
            .iter()
            .map(|g| g.iter().map(|b| b.size - b.from).sum())
            .collect();
        // The 8 MiB blob alone in one group; the small ones over the others.
        assert!(left.contains(&(8 << 20)), "{left:?}");
        let small: Vec<u64> = left.into_iter().filter(|l| *l != 8 << 20).collect();
        let (min, max) = (small.iter().min(), small.iter().max());
        assert!(
            max.zip(min)
                .is_some_and(|(max, min)| max - min <= 64 * 1024 + 10),
            "{small:?}"
        );
    }

    #[test]
    fn a_full_edge_disk_is_the_spaces_failure_named_by_the_edge_not_a_link_failure() {
        let e = LinkError::Rpc(tonic::Status::resource_exhausted(
            "disk full (ENOSPC) on /var/lib/passerelle/edge",
        ));
        assert!(!e.is_link_down());
        assert_eq!(
            e.about_space("edge-1"),
            "edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge"
        );
        assert!(e.to_string().contains("ResourceExhausted"), "{e}");
        for gone in [
            tonic::Status::unavailable("transport error"),
            tonic::Status::cancelled("cut"),
        ] {
            assert!(LinkError::Rpc(gone).is_link_down());
        }
        assert!(!LinkError::Invalid("bad row".into()).is_link_down());
    }

    #[test]
    fn a_failing_space_backs_off_doubling_up_to_a_minute_and_a_purge_lets_it_retry() {
        let (space, other) = (SpaceId::new(), SpaceId::new());
        let full = LinkError::Rpc(tonic::Status::resource_exhausted("disk full"));
        let mut health = Health::default();
        let t0 = tokio::time::Instant::now();
        let mut waits = Vec::new();
        for _ in 0..8 {
            health.failed("edge-1", space, &full, t0);
            waits.push(health.failing[&space].retry_at - t0);
        }
        let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(!health.due(space, t0 + Duration::from_secs(59)));
        assert!(health.due(other, t0), "the other spaces go on");
        health.retry_all_now(t0);
        assert!(health.due(space, t0));
        assert_eq!(
            health.errors(),
            vec![(space, "edge-1: disk full".to_owned())]
        );
        health.succeeded("edge-1", space);
        assert!(health.errors().is_empty());
        assert!(health.due(space, t0));
    }

    #[test]
    fn spread_makes_no_more_groups_than_blobs() {
        assert!(spread(Vec::new(), 4).is_empty());
        assert_eq!(spread(vec![wanted(5, 0, 1)], 4).len(), 1);
        assert_eq!(spread(vec![wanted(5, 0, 1), wanted(6, 0, 2)], 0).len(), 1);
    }
}
