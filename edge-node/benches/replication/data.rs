//! The files both sides replicate, generated on disk before any timing:
//! 1000 small ones that dedup cannot help, one big one, and the contractor's
//! uploads.

use std::io::Write as _;
use std::path::Path;

use super::{MIB, SMALL, SMALL_COUNT, UPLOAD_BYTES};

pub(crate) fn small(i: usize) -> Vec<u8> {
    // Distinct content per file so dedup cannot help (same generator as
    // the internal node's api_throughput bench).
    let mut v: Vec<u8> = (0..SMALL).map(|j| (j ^ i) as u8).collect();
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    v
}

fn chunk(i: u64) -> Vec<u8> {
    let mut v = vec![0u8; MIB as usize];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (j as u64).wrapping_mul(31).wrapping_add(i) as u8;
    }
    v[..8].copy_from_slice(&i.to_le_bytes());
    v
}

pub(crate) fn small_name(i: usize) -> String {
    format!("small-{i:04}.bin")
}

/// Writes the 1000 small files and the big one (1 MiB at a time); returns
/// the BLAKE3 of the big file.
pub(crate) fn generate(small_dir: &Path, big_dir: &Path, big_mib: u64) -> anyhow::Result<String> {
    std::fs::create_dir_all(small_dir)?;
    std::fs::create_dir_all(big_dir)?;
    for i in 0..SMALL_COUNT {
        std::fs::write(small_dir.join(small_name(i)), small(i))?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(big_dir.join("big.bin"))?);
    let mut h = blake3::Hasher::new();
    for i in 0..big_mib {
        let c = chunk(i);
        h.update(&c);
        f.write_all(&c)?;
    }
    f.flush()?;
    Ok(h.finalize().to_hex().to_string())
}

pub(crate) fn upload_content(i: usize) -> Vec<u8> {
    let mut v = format!("contractor upload {i} of the replication bench\n").into_bytes();
    v.resize(UPLOAD_BYTES, (i % 251) as u8);
    v
}
