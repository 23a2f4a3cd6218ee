//! The link's view of its edge is stamped by this node's clock in core
//! (not the transport's wall clock): cursors not heard yet keep the last
//! ones recorded, and the last contact moves only when the edge answered.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::fakes::FakeClock;

#[test]
fn a_link_state_is_stamped_by_the_clock_and_keeps_what_it_did_not_hear() {
    block_on(async {
        let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let clock = Arc::new(FakeClock::new(start));
        let app = InternalApp::new(
            Arc::new(MemRepository::new()),
            Arc::new(MemBlobStore::new()),
            clock.clone(),
            Arc::new(FastPasswords),
            CoreSettings {
                edges: vec!["edge-1".parse().expect("node id")],
                ..CoreSettings::default()
            },
        );
        let space = SpaceId::new();
        app.record_link_state(
            &"edge-1".parse().expect("node id"),
            vec![(space, Revision(7))],
            vec![],
            None,
            true,
        )
        .await
        .expect("recorded");
        let s = app
            .edge_status_of(&"edge-1".parse().expect("node id"))
            .await
            .expect("read")
            .expect("some");
        assert_eq!((s.last_contact, s.updated_at), (Some(start), start));
        assert_eq!(s.cursors, [(space, Revision(7))]);

        // Later, the link is down: no cursors heard, no contact.
        clock.advance(Duration::minutes(5));
        let why = vec![(space, "edge-1: disk full".to_owned())];
        app.record_link_state(
            &"edge-1".parse().expect("node id"),
            vec![],
            why.clone(),
            Some("down".into()),
            false,
        )
        .await
        .expect("recorded");
        let s = app
            .edge_status_of(&"edge-1".parse().expect("node id"))
            .await
            .expect("read")
            .expect("some");
        assert_eq!(s.last_contact, Some(start), "the last time it answered");
        assert_eq!(s.updated_at, start + Duration::minutes(5));
        assert_eq!(s.cursors, [(space, Revision(7))], "kept");
        assert_eq!(
            (s.space_errors, s.last_error.as_deref()),
            (why, Some("down"))
        );
    });
}
