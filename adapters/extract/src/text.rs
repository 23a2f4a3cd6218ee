//! Plain text and CSV: read only as far as the text cap needs, decoded as
//! UTF-8, or as Windows-1252 (a superset of ISO-8859-1's printable range)
//! when the bytes are not UTF-8, as older French exports often are.

use futures::StreamExt;
use passerelle_core::blob::ByteStream;
use passerelle_core::search::Extraction;

use crate::limits::{self, Limits, TextSink};

/// Reads at most `max_text` bytes plus a few (to finish a character), so a
/// 1 GiB log costs what its first megabyte costs.
pub(crate) async fn extract(mut content: ByteStream, limits: &Limits) -> Extraction {
    let budget = limits.max_text + 4;
    let mut bytes = Vec::new();
    let mut more = false;
    // budget - 4 would do for UTF-8; the 4 extra bytes make any read that
    // stopped early decode past the cap, so the sink reports the cut.
    while let Some(chunk) = content.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return limits::failed(format!("reading the content: {e}")),
        };
        let room = budget - bytes.len();
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() >= budget {
            more = true;
            break;
        }
    }
    // Dropping the stream here stops the producer: the rest is never read.
    drop(content);
    let mut sink = TextSink::new(limits.max_text);
    sink.push(&decode(&bytes, more));
    sink.finish()
}

/// UTF-8 (its BOM dropped, a character cut by our own read limit forgiven),
/// else Windows-1252.
pub(crate) fn decode(bytes: &[u8], truncated: bool) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(e) if truncated && e.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
        }
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_bytes_are_read_as_windows_1252() {
        assert_eq!(decode(b"d\xe9lib\xe9ration", false), "délibération");
    }

    #[test]
    fn utf8_with_a_bom_is_read_as_is() {
        assert_eq!(decode("\u{feff}arrêté".as_bytes(), false), "arrêté");
    }

    #[test]
    fn a_character_cut_by_the_read_limit_is_dropped() {
        let bytes = "été".as_bytes();
        assert_eq!(decode(&bytes[..bytes.len() - 1], true), "ét");
    }
}
