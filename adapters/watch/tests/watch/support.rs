//! What every test uses: a drop folder in a temp dir, an `Ingest` that
//! records what it is handed and answers what the test scripts, and
//! readers of the folder's layout.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use passerelle_watch::{Claimed, DropFolder, Ingest, Ingested, WatchMode};
use time::OffsetDateTime;

/// Longer than any test's pass gap unless the test means it.
pub const STABLE: Duration = Duration::from_secs(10);

pub fn folder(path: &Path) -> DropFolder {
    DropFolder {
        name: "essai".into(),
        path: path.to_owned(),
        mode: WatchMode::Inotify,
        rescan: Duration::from_secs(60),
        stable_for: STABLE,
        max_bytes: 1 << 20,
        in_flight: 3,
    }
}

/// A fixed start; passes are timed from it.
pub fn t0() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn after(t: OffsetDateTime, secs: u64) -> OffsetDateTime {
    t + Duration::from_secs(secs)
}

/// What one call saw.
#[derive(Clone, Debug)]
pub struct Call {
    pub claimed: Claimed,
    /// The claimed file existed at its path, inside `en-cours/`, when
    /// handed (the contract the node relies on).
    pub present_in_en_cours: bool,
}

/// Records calls; answers from its script, then `Filed` with a receipt
/// naming the file.
#[derive(Debug, Default)]
pub struct Recorder {
    calls: Mutex<Vec<Call>>,
    script: Mutex<VecDeque<Ingested>>,
}

impl Recorder {
    pub fn answering(script: impl IntoIterator<Item = Ingested>) -> Self {
        Self {
            calls: Mutex::default(),
            script: Mutex::new(script.into_iter().collect()),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("not poisoned").clone()
    }

    pub fn names(&self) -> Vec<String> {
        self.calls().into_iter().map(|c| c.claimed.name).collect()
    }
}

#[async_trait]
impl Ingest for Recorder {
    async fn ingest(&self, file: &Claimed) -> Ingested {
        let present = fs::symlink_metadata(&file.path).is_ok()
            && file
                .path
                .parent()
                .is_some_and(|p| p.ends_with(".passerelle/en-cours"));
        self.calls.lock().expect("not poisoned").push(Call {
            claimed: file.clone(),
            present_in_en_cours: present,
        });
        let scripted = self.script.lock().expect("not poisoned").pop_front();
        scripted.unwrap_or_else(|| Ingested::Filed {
            receipt: serde_json::json!({ "classé": file.name, "taille": file.size }),
        })
    }
}

pub fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, body).expect("write");
    path
}

/// Names in `dir`, sorted; empty if it does not exist.
pub fn names(dir: &Path) -> Vec<String> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The drop folder's own entries, without our three directories.
pub fn dropped(drop: &Path) -> Vec<String> {
    names(drop)
        .into_iter()
        .filter(|n| !matches!(n.as_str(), ".passerelle" | "traite" | "erreur"))
        .collect()
}

pub fn en_cours(drop: &Path) -> PathBuf {
    drop.join(".passerelle").join("en-cours")
}

/// `traite/<UTC day of t>/`.
pub fn traite(drop: &Path, t: OffsetDateTime) -> PathBuf {
    let d = t.to_offset(time::UtcOffset::UTC).date();
    drop.join("traite").join(format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    ))
}

pub fn erreur(drop: &Path) -> PathBuf {
    drop.join("erreur")
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
