//! Tests of the edge service's error mapping: what the internal node is
//! told when a pushed blob is refused.

use passerelle_core::CoreError;

use super::*;

fn enospc() -> BlobError {
    BlobError::Full {
        cause: "disk full (ENOSPC) on /var/lib/passerelle/edge".into(),
        source: Some(Box::new(std::io::Error::from_raw_os_error(28))),
    }
}

#[test]
fn a_full_disk_is_resource_exhausted_with_its_cause_for_the_internal_node() {
    let s = status(CoreError::from(enospc()));
    assert_eq!(s.code(), tonic::Code::ResourceExhausted);
    assert_eq!(
        s.message(),
        "disk full (ENOSPC) on /var/lib/passerelle/edge"
    );
}

#[test]
fn a_pushed_blob_refused_for_lack_of_room_says_so() {
    let s = refused(ReceiveError::Store(enospc()));
    assert_eq!(s.code(), tonic::Code::ResourceExhausted);
    assert!(s.message().contains("ENOSPC"), "{}", s.message());
}

#[test]
fn other_storage_failures_stay_internal_and_hide_their_cause() {
    let s = status(CoreError::from(BlobError::Storage(
        "/secret/path: EIO".into(),
    )));
    assert_eq!(s.code(), tonic::Code::Internal);
    assert_eq!(s.message(), "internal error");
}
