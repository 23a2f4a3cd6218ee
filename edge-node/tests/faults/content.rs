//! What the fault tests upload and check: unique seeds, large generated
//! content streamed without being held in memory, and its hashes.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::Poll;

use anyhow::bail;

use super::MIB;

pub(crate) fn unique() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// Deterministic, incompressible content: BLAKE3's extendable output.
struct Generated {
    xof: blake3::OutputReader,
    left: u64,
}

fn generator(seed: &str, size: u64) -> Generated {
    let mut h = blake3::Hasher::new();
    h.update(seed.as_bytes());
    Generated {
        xof: h.finalize_xof(),
        left: size,
    }
}

impl tokio::io::AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = usize::try_from((buf.remaining() as u64).min(self.left)).unwrap_or(0);
        let dst = buf.initialize_unfilled_to(n);
        self.xof.fill(dst);
        buf.advance(n);
        self.left -= n as u64;
        Poll::Ready(Ok(()))
    }
}

pub(crate) fn generated_body(seed: &str, size: u64) -> reqwest::Body {
    reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
        generator(seed, size),
        MIB as usize,
    ))
}

pub(crate) fn hash_generated(seed: &str, size: u64) -> String {
    let mut g = generator(seed, size);
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; MIB as usize];
    while g.left > 0 {
        let n = usize::try_from(g.left.min(MIB)).unwrap_or(0);
        g.xof.fill(&mut buf[..n]);
        h.update(&buf[..n]);
        g.left -= n as u64;
    }
    h.finalize().to_hex().to_string()
}

pub(crate) fn hash_file(path: &Path) -> anyhow::Result<String> {
    let mut h = blake3::Hasher::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut h)?;
    Ok(h.finalize().to_hex().to_string())
}

pub(crate) fn find_file(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                return Ok(p);
            }
        }
    }
    bail!("{name} not under {}", dir.display())
}
