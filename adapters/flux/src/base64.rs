//! An attachment's base64 decoded as it is read, in constant memory: each
//! step's complete groups of four characters are decoded into the sink,
//! the rest waits for the next step. Line breaks and spaces (encoders wrap
//! at 64 or 76 columns) are skipped; padding ends the content.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::FluxError;

/// Characters decoded at a time (a multiple of 4).
const STEP: usize = 64 * 1024;

pub(crate) struct Decoder<'w> {
    out: Box<dyn Write + 'w>,
    index: usize,
    /// Characters not yet decoded (fewer than a group, or a step's worth).
    pending: Vec<u8>,
    decoded: Vec<u8>,
    written: u64,
    max: u64,
    /// A group with padding was decoded: nothing may follow.
    ended: bool,
}

impl<'w> Decoder<'w> {
    pub(crate) fn new(out: Box<dyn Write + 'w>, index: usize, max: u64) -> Self {
        Self {
            out,
            index,
            pending: Vec::with_capacity(STEP + 4),
            decoded: Vec::with_capacity(STEP / 4 * 3),
            written: 0,
            max,
            ended: false,
        }
    }

    fn error(&self, detail: impl Into<String>) -> FluxError {
        FluxError::Base64 {
            index: self.index,
            detail: detail.into(),
        }
    }

    pub(crate) fn feed(&mut self, text: &[u8]) -> Result<(), FluxError> {
        // Copied a run between spaces at a time (a line, as encoders
        // wrap), not a character at a time: this loop sees every byte of
        // a flow's attachments. Steps end at the same characters as one
        // by one would, so the same text decodes (or fails) the same.
        for mut run in text.split(u8::is_ascii_whitespace) {
            while !run.is_empty() {
                if self.ended {
                    return Err(self.error("du texte après la fin ('=')"));
                }
                let room = STEP - self.pending.len();
                let (now, later) = run.split_at(room.min(run.len()));
                self.pending.extend_from_slice(now);
                run = later;
                if self.pending.len() >= STEP {
                    self.decode_groups()?;
                }
            }
        }
        Ok(())
    }

    /// Decodes the complete groups of `pending`.
    fn decode_groups(&mut self) -> Result<(), FluxError> {
        let whole = self.pending.len() / 4 * 4;
        if whole == 0 {
            return Ok(());
        }
        self.decoded.clear();
        STANDARD
            .decode_vec(&self.pending[..whole], &mut self.decoded)
            .map_err(|e| self.error(e.to_string()))?;
        if self.pending[whole - 1] == b'=' {
            self.ended = true;
        }
        self.written += self.decoded.len() as u64;
        if self.written > self.max {
            return Err(FluxError::AttachmentTooLarge {
                index: self.index,
                max: self.max,
            });
        }
        self.out.write_all(&self.decoded)?;
        self.pending.drain(..whole);
        Ok(())
    }

    /// The decoded size, once everything was fed and written.
    pub(crate) fn finish(mut self) -> Result<u64, FluxError> {
        self.decode_groups()?;
        if !self.pending.is_empty() {
            return Err(self.error(format!(
                "{} caractère(s) en trop à la fin",
                self.pending.len()
            )));
        }
        self.out.flush()?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &[u8], steps: usize) -> Result<Vec<u8>, FluxError> {
        let mut out = Vec::new();
        let mut d = Decoder::new(Box::new(&mut out), 0, 1 << 20);
        for chunk in text.chunks(steps) {
            d.feed(chunk)?;
        }
        d.finish()?;
        Ok(out)
    }

    #[test]
    fn wrapped_text_in_any_steps_decodes_to_the_bytes() -> Result<(), FluxError> {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
        let text = STANDARD.encode(&bytes);
        let wrapped: Vec<u8> = text
            .as_bytes()
            .chunks(76)
            .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
            .collect();
        for steps in [1, 3, 4, 77, 5000] {
            assert_eq!(decode(&wrapped, steps)?, bytes, "steps of {steps}");
        }
        Ok(())
    }

    #[test]
    fn text_of_several_steps_decodes_whatever_its_lines_and_feeds() -> Result<(), FluxError> {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let text = STANDARD.encode(&bytes);
        for width in [64, 76, STEP + 3] {
            let wrapped: Vec<u8> = text
                .as_bytes()
                .chunks(width)
                .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
                .collect();
            for steps in [1, 77, STEP - 1, STEP, 1 << 20] {
                assert_eq!(decode(&wrapped, steps)?, bytes, "{width}, {steps}");
            }
        }
        Ok(())
    }

    #[test]
    fn bad_characters_a_short_end_and_text_after_padding_are_refused() {
        assert!(decode(b"QUJD!A==", 8).is_err());
        assert!(decode(b"QUJDRA", 8).is_err());
        assert!(decode(b"QQ==QUJD", 8).is_err());
        assert!(decode(b"QQ==", 8).is_ok());
        assert!(decode(b"QQ== QUJD", 8).is_err());
        let long = [
            STANDARD.encode(vec![7u8; STEP]).as_bytes(),
            b"\nQUJD".as_slice(),
        ]
        .concat();
        assert!(
            decode(&long, 1 << 20).is_err(),
            "text after a step's padding"
        );
    }

    #[test]
    fn an_attachment_past_the_limit_stops_there() {
        let text = STANDARD.encode(vec![0u8; 300]);
        let mut out = Vec::new();
        let mut d = Decoder::new(Box::new(&mut out), 2, 100);
        let fed = d
            .feed(text.as_bytes())
            .and_then(|()| d.finish().map(|_| ()));
        assert!(matches!(
            fed,
            Err(FluxError::AttachmentTooLarge { index: 2, max: 100 })
        ));
    }
}
