//! `Writer`: how a sink puts bytes into its file — through the page cache
//! (`writev`), or past it with `O_DIRECT`.
//!
//! Blobs that replication receives are written once and read later, if ever
//! (a contractor downloads some of them). Through the page cache each byte
//! is copied into a freshly allocated page, marked dirty, then written back
//! by the `fdatasync`s: on the virtual machines Passerelle is measured on,
//! that costs about 2 s of CPU per GiB, whereas `O_DIRECT` hands the buffer
//! to the disk for about 0.1 s (see docs/benchmarks.md). A direct write
//! needs an aligned buffer, offset and length, so the bytes are staged in an
//! aligned buffer, written in whole blocks, and the last partial block goes
//! through the page cache once the flag is cleared. A filesystem that
//! refuses `O_DIRECT` (tmpfs, some network filesystems) gets the plain path.
//!
//! The file is opened for appending: every write lands at its end, so its
//! length is always the number of bytes written, a whole number of blocks
//! until the tail — a cut leaves a true prefix.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

use bytes::Bytes;

use super::sink::write_all_chunks;

/// Alignment of direct writes: memory address, file offset and length. The
/// logical block size of common disks is 512 or 4096 bytes; 4096 fits both.
pub(super) const ALIGN: usize = 4096;

/// Bytes staged before a direct write: a few batches, so that each write
/// is large and the disk sees few requests.
const STAGING_BYTES: usize = 4 << 20;

/// Writes the bytes of a sink into its file, in order.
#[derive(Debug)]
pub(super) struct Writer {
    file: File,
    /// `Some` while writes go past the page cache.
    direct: Option<Staging>,
}

/// An aligned window of `STAGING_BYTES` inside `buf`, of which the first
/// `len` bytes wait to be written.
struct Staging {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging").field("len", &self.len).finish()
    }
}

impl Staging {
    /// Room for `bytes` (rounded up to whole blocks, at most
    /// [`STAGING_BYTES`]): a small blob stages in a small buffer, which the
    /// allocator hands out again warm instead of mapping fresh pages.
    fn new(bytes: usize) -> Self {
        let capacity = bytes.clamp(1, STAGING_BYTES).div_ceil(ALIGN) * ALIGN;
        let buf = vec![0u8; capacity + ALIGN];
        // Safe pointer arithmetic: where the first aligned byte sits.
        let start = buf.as_ptr().align_offset(ALIGN);
        Self { buf, start, len: 0 }
    }

    fn capacity(&self) -> usize {
        self.buf.len() - ALIGN
    }

    fn window(&mut self) -> &mut [u8] {
        let end = self.start + self.capacity();
        &mut self.buf[self.start..end]
    }

    fn staged(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl Writer {
    /// Writes through the page cache.
    pub(super) fn buffered(file: File) -> Self {
        Self { file, direct: None }
    }

    /// Writes past the page cache when the filesystem allows it. `file` is
    /// open for reading and appending; a tail of less than a block at its
    /// end is read back, cut off and staged, so that direct writes start on
    /// a block boundary. `expected` is how many more bytes will come, about
    /// (it sizes the staging buffer). Blocking.
    pub(super) fn direct(file: File, expected: u64) -> io::Result<Self> {
        let kept = file.metadata()?.len();
        let tail = (kept % ALIGN as u64) as usize;
        let wanted = usize::try_from(expected).unwrap_or(usize::MAX);
        let mut staging = Staging::new(wanted.saturating_add(tail));
        if tail > 0 {
            // Read before the flag is set: direct reads need alignment too.
            let from = kept - tail as u64;
            file.read_exact_at(&mut staging.window()[..tail], from)?;
            // The prefix shrinks to whole blocks; the staged tail is written
            // again with what follows it.
            file.set_len(from)?;
            file.sync_data()?;
            staging.len = tail;
        }
        let direct = set_direct(&file, true).is_ok();
        if !direct {
            // Not possible here: what was staged goes back at once.
            let mut writer = Self::buffered(file);
            let tail = staging.staged().to_vec();
            writer.file.write_all(&tail)?;
            return Ok(writer);
        }
        Ok(Self {
            file,
            direct: Some(staging),
        })
    }

    /// A second handle on the file, for flushes beside the writes; `None`
    /// when direct (nothing is left in the page cache to flush).
    pub(super) fn flush_handle(&self) -> Option<File> {
        match self.direct {
            Some(_) => None,
            None => self.file.try_clone().ok(),
        }
    }

    /// Writes `chunks`, in order; in direct mode, less than a block may stay
    /// staged until the next call or [`Writer::finish`]. Blocking.
    pub(super) fn write_chunks(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        if self.direct.is_none() {
            return write_all_chunks(&mut self.file, chunks);
        }
        for chunk in chunks {
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let Some(staging) = self.direct.as_mut() else {
                    return self.file.write_all(rest);
                };
                let room = staging.capacity() - staging.len;
                let n = room.min(rest.len());
                let at = staging.len;
                staging.window()[at..at + n].copy_from_slice(&rest[..n]);
                staging.len += n;
                rest = &rest[n..];
                if staging.len == staging.capacity() {
                    self.write_blocks()?;
                }
            }
        }
        self.write_blocks()
    }

    /// Writes what is staged and returns the file, every byte in it.
    /// Blocking.
    pub(super) fn finish(mut self) -> io::Result<File> {
        self.write_blocks()?;
        if let Some(staging) = self.direct.take() {
            set_direct(&self.file, false)?;
            self.file.write_all(staging.staged())?;
        }
        Ok(self.file)
    }

    /// Writes the whole blocks staged, keeping the partial one. A direct
    /// write refused as invalid (a filesystem that accepted the flag but
    /// wants another alignment) falls back to the page cache for good.
    fn write_blocks(&mut self) -> io::Result<()> {
        let Some(staging) = self.direct.as_mut() else {
            return Ok(());
        };
        let blocks = staging.len - staging.len % ALIGN;
        if blocks == 0 {
            return Ok(());
        }
        let start = staging.start;
        match self.file.write_all(&staging.buf[start..start + blocks]) {
            Ok(()) => {
                staging
                    .buf
                    .copy_within(start + blocks..start + staging.len, start);
                staging.len -= blocks;
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(EINVAL) => {
                tracing::warn!(error = %e, "direct write refused; writing through the page cache");
                let staging = self.direct.take();
                set_direct(&self.file, false)?;
                match staging {
                    Some(s) => self.file.write_all(s.staged()),
                    None => Ok(()),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// `EINVAL`, the error of a direct write out of alignment.
const EINVAL: i32 = 22;

#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let flags = if on {
        flags | OFlags::DIRECT
    } else {
        flags.difference(OFlags::DIRECT)
    };
    fcntl_setfl(file, flags)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &File, on: bool) -> io::Result<()> {
    if on {
        Err(io::ErrorKind::Unsupported.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    fn pattern(len: usize, seed: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 7 + seed) % 251) as u8).collect()
    }

    fn append(path: &std::path::Path) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .expect("open")
    }

    /// Whether the filesystem of `dir` takes `O_DIRECT` at all.
    fn direct_supported(dir: &std::path::Path) -> bool {
        set_direct(&append(&dir.join("probe")), true).is_ok()
    }

    #[test]
    fn direct_writes_keep_every_byte_whatever_the_chunk_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p");
        let data = pattern(STAGING_BYTES * 2 + ALIGN * 3 + 123, 1);
        let mut writer = Writer::direct(append(&path), data.len() as u64).expect("writer");
        // Past the page cache wherever the filesystem allows it.
        assert_eq!(writer.direct.is_some(), direct_supported(dir.path()));
        assert!(writer.flush_handle().is_none() || writer.direct.is_none());
        let mut at = 0;
        for len in [0, 1, ALIGN - 1, 5, STAGING_BYTES + 17, 1 << 20, 3] {
            let chunks = vec![Bytes::copy_from_slice(&data[at..at + len])];
            writer.write_chunks(&chunks).expect("write");
            at += len;
            // Whole blocks only, until the end.
            let on_disk = std::fs::metadata(&path).expect("stat").len();
            assert!(on_disk <= at as u64);
            if writer.direct.is_some() {
                assert_eq!(on_disk % ALIGN as u64, 0);
            }
        }
        let rest = vec![Bytes::copy_from_slice(&data[at..])];
        writer.write_chunks(&rest).expect("write rest");
        writer.finish().expect("finish");
        assert!(std::fs::read(&path).expect("read") == data);
    }

    #[test]
    fn a_resume_in_the_middle_of_a_block_rewrites_its_start_and_keeps_the_prefix() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p");
        let data = pattern(3 * ALIGN + 1000, 2);
        let cut = ALIGN + 700;
        std::fs::write(&path, &data[..cut]).expect("prefix");

        let mut writer = Writer::direct(append(&path), data.len() as u64).expect("writer");
        if writer.direct.is_some() {
            // The partial block went back into staging.
            assert_eq!(std::fs::metadata(&path).expect("stat").len(), ALIGN as u64);
        }
        writer
            .write_chunks(&[Bytes::copy_from_slice(&data[cut..])])
            .expect("write");
        writer.finish().expect("finish");
        assert!(std::fs::read(&path).expect("read") == data);
    }

    #[test]
    fn more_bytes_than_expected_only_make_the_writes_smaller() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p");
        let data = pattern(5 * ALIGN + 99, 5);
        let mut writer = Writer::direct(append(&path), 10).expect("writer");
        writer
            .write_chunks(&[Bytes::copy_from_slice(&data[..3 * ALIGN + 1])])
            .expect("write");
        writer
            .write_chunks(&[Bytes::copy_from_slice(&data[3 * ALIGN + 1..])])
            .expect("write");
        writer.finish().expect("finish");
        assert!(std::fs::read(&path).expect("read") == data);
    }

    #[test]
    fn a_cut_leaves_the_staged_tail_on_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p");
        let data = pattern(ALIGN * 2 + 10, 3);
        let mut writer = Writer::direct(append(&path), data.len() as u64).expect("writer");
        writer
            .write_chunks(&[Bytes::copy_from_slice(&data)])
            .expect("write");
        // What a cut transfer does: finish with what arrived.
        let file = writer.finish().expect("finish");
        file.sync_data().expect("sync");
        assert_eq!(std::fs::read(&path).expect("read"), data);
    }

    #[test]
    fn the_buffered_writer_is_the_plain_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("p");
        let data = pattern(10_000, 4);
        let mut writer = Writer::buffered(append(&path));
        assert!(writer.flush_handle().is_some());
        writer
            .write_chunks(&[Bytes::copy_from_slice(&data)])
            .expect("write");
        writer.finish().expect("finish");
        assert_eq!(std::fs::read(&path).expect("read"), data);
    }
}
