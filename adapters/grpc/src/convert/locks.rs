//! Lock snapshots (ADR 0007, "Locks seen on the edge"): core's
//! `LockSummary` to and from `MirroredLock`. What comes in is checked as
//! any other row: ids, scope, depth and times parsed, the holder's name
//! bounded.

use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use passerelle_core::locks::{LockDepth, LockScope, LockSummary};
use passerelle_core::model::Resource;
use passerelle_proto::v1 as pb;

use super::{R, at, bad, nanos, uuid};

/// Longest holder name accepted, in characters: a display name, far below.
const MAX_HOLDER_NAME: usize = 1024;

pub fn lock_to_pb(l: &LockSummary) -> pb::MirroredLock {
    let (kind, id) = match l.resource {
        Resource::Space(id) => ("space", id.as_uuid()),
        Resource::Folder(id) => ("folder", id.as_uuid()),
        Resource::Document(id) => ("document", id.as_uuid()),
    };
    pb::MirroredLock {
        resource_kind: kind.to_owned(),
        resource_id: id.to_string(),
        holder: l.holder.to_string(),
        holder_name: l.holder_name.clone(),
        scope: l.scope.as_str().to_owned(),
        depth: l.depth.as_str().to_owned(),
        since: nanos(l.since),
        until: nanos(l.until),
    }
}

/// A lock of the snapshot of `space` (every lock is stored under it).
pub fn lock_from_pb(m: pb::MirroredLock, space: SpaceId) -> R<LockSummary> {
    let id = uuid("lock.resource_id", &m.resource_id)?;
    let resource = match m.resource_kind.as_str() {
        "space" => Resource::Space(SpaceId::from_uuid(id)),
        "folder" => Resource::Folder(FolderId::from_uuid(id)),
        "document" => Resource::Document(DocumentId::from_uuid(id)),
        other => return Err(bad("lock.resource_kind", format!("unknown kind {other:?}"))),
    };
    if matches!(resource, Resource::Space(s) if s != space) {
        return Err(bad("lock.resource_id", "a lock on another space"));
    }
    if m.holder_name.chars().count() > MAX_HOLDER_NAME {
        return Err(bad("lock.holder_name", "too long"));
    }
    Ok(LockSummary {
        resource,
        space,
        holder: PrincipalId::from_uuid(uuid("lock.holder", &m.holder)?),
        holder_name: m.holder_name,
        scope: LockScope::parse(&m.scope)
            .ok_or_else(|| bad("lock.scope", format!("unknown scope {:?}", m.scope)))?,
        depth: LockDepth::parse(&m.depth)
            .ok_or_else(|| bad("lock.depth", format!("unknown depth {:?}", m.depth)))?,
        since: at("lock.since", m.since)?,
        until: at("lock.until", m.until)?,
    })
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn summary(space: SpaceId, resource: Resource) -> LockSummary {
        let since = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_789)
            .expect("a valid time");
        LockSummary {
            resource,
            space,
            holder: PrincipalId::new(),
            holder_name: "Paul Martin".into(),
            scope: LockScope::Shared,
            depth: LockDepth::Infinity,
            since,
            until: since + time::Duration::hours(8),
        }
    }

    #[test]
    fn a_mirrored_lock_round_trips_exactly() {
        let space = SpaceId::new();
        for r in [
            Resource::Space(space),
            Resource::Folder(FolderId::new()),
            Resource::Document(DocumentId::new()),
        ] {
            let l = summary(space, r);
            assert_eq!(lock_from_pb(lock_to_pb(&l), space), Ok(l));
        }
    }

    #[test]
    fn hostile_mirrored_locks_are_refused() {
        let space = SpaceId::new();
        let good = lock_to_pb(&summary(space, Resource::Document(DocumentId::new())));
        let bad_ones = [
            pb::MirroredLock {
                resource_kind: "user".into(),
                ..good.clone()
            },
            pb::MirroredLock {
                resource_id: "../etc".into(),
                ..good.clone()
            },
            pb::MirroredLock {
                holder: String::new(),
                ..good.clone()
            },
            pb::MirroredLock {
                scope: "total".into(),
                ..good.clone()
            },
            pb::MirroredLock {
                depth: "1".into(),
                ..good.clone()
            },
            pb::MirroredLock {
                holder_name: "x".repeat(MAX_HOLDER_NAME + 1),
                ..good.clone()
            },
            // A lock on another space, sent in this space's snapshot.
            lock_to_pb(&summary(space, Resource::Space(SpaceId::new()))),
        ];
        for m in bad_ones {
            assert!(lock_from_pb(m.clone(), space).is_err(), "{m:?}");
        }
    }
}
