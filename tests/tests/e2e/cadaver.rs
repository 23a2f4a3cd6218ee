//! cadaver (Debian's command-line WebDAV client, on neon) against a real
//! node: listing, upload, LOCK and UNLOCK (core's locks, seen through the
//! API), download, a new folder and a move into it. It must be installed
//! (`.ci/run` installs it); a missing one fails the test.

use std::process::Stdio;

use anyhow::{Context, ensure};
use passerelle_tests::{Api, PASSWORD};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::dav::node_with_space;

/// Runs `commands` in cadaver at `url` as `alice` (credentials from a
/// `.netrc` in `home`); its whole output.
async fn cadaver(url: &str, home: &std::path::Path, commands: &str) -> anyhow::Result<String> {
    std::fs::write(
        home.join(".netrc"),
        format!("machine 127.0.0.1\nlogin alice\npassword \"{PASSWORD}\"\n"),
    )?;
    let mut child = tokio::process::Command::new("cadaver")
        .arg(url)
        .current_dir(home)
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot run cadaver (apt-get install cadaver)")?;
    let mut stdin = child.stdin.take().context("stdin")?;
    stdin
        .write_all(format!("{commands}\nquit\n").as_bytes())
        .await?;
    drop(stdin);
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .context("cadaver did not finish in 120 s")??;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cadaver_lists_puts_locks_gets_and_moves() -> anyhow::Result<()> {
    let n = node_with_space("atelier", 1024 * 1024).await?;
    let home = tempfile::tempdir()?;
    std::fs::write(home.path().join("note.txt"), "relevé du 7 décembre\n")?;
    let url = format!("{}/dav/atelier/", n.base);

    let out = cadaver(&url, home.path(), "put note.txt\nlock note.txt\nls").await?;
    ensure!(
        out.contains("Uploading note.txt") && out.contains("Locking `note.txt': succeeded"),
        "{out}"
    );
    let alice = Api::for_user(&n, "alice").await?;
    let actor = n
        .node
        .app
        .authenticate_basic("alice", PASSWORD, None)
        .await?;
    let space = n.node.app.space_by_slug(&actor, "atelier").await?.space.id;
    let root: Value = alice
        .get(&format!("/spaces/{space}/children"))
        .send()
        .await?
        .json()
        .await?;
    let id = root["documents"]["items"][0]["id"]
        .as_str()
        .with_context(|| format!("the document: {root}"))?
        .to_owned();
    let doc: Value = alice
        .get(&format!("/documents/{id}"))
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        doc["lock"]["holder_name"] == "alice",
        "cadaver's LOCK is core's lock, as the API shows it: {doc}"
    );

    // A new cadaver session: the lock outlives the first one; cadaver asks
    // for its token to UNLOCK it, and gets the one the API shows its holder.
    let token = doc["lock"]["token"].as_str().context("the lock's token")?;
    let out = cadaver(
        &url,
        home.path(),
        &format!(
            "unlock note.txt\n{token}\nget note.txt copie.txt\nmkcol archives\nmove note.txt archives/note.txt\nls archives"
        ),
    )
    .await?;
    ensure!(
        out.contains(&format!("{token}\n succeeded."))
            && out.contains("Creating `archives': succeeded")
            && out.contains("archives/note.txt':  succeeded")
            && !out.contains("failed"),
        "{out}"
    );
    ensure!(
        std::fs::read_to_string(home.path().join("copie.txt"))? == "relevé du 7 décembre\n",
        "the download is the upload"
    );
    let doc: Value = alice
        .get(&format!("/documents/{id}"))
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        doc["lock"].is_null(),
        "the UNLOCK gave the lock back: {doc}"
    );
    ensure!(
        doc["document"]["folder"].is_string() && doc["version"]["number"] == 1,
        "moved into the folder, the same document: {doc}"
    );
    n.stop().await
}
