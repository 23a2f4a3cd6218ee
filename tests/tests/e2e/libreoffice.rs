//! LibreOffice editing a document in place over WebDAV, as an agent does
//! (issue 15): Debian's LibreOffice (headless), driven through UNO by
//! `fixtures/libreoffice_edit.py`, opens a `.odt` by its
//! `vnd.sun.star.webdav://` address with the user's login and password,
//! appends a sentence, saves, then closes. Between the steps the test
//! looks at the node: the document is locked by the user while it is
//! open (another user's write is refused with 423), the save is version
//! 2 with the sentence in it and the lock still held, the close gives the
//! lock back. LibreOffice and python3-uno must be installed (`.ci/run`
//! installs them); a missing one fails the test.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use passerelle_core::role::Role;
use passerelle_tests::{Api, PASSWORD, TestNode};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::dav::{node_with_space, run};

/// The longest a step may take: LibreOffice's first start builds its
/// profile (tens of seconds on a loaded 2-core machine).
const STEP: Duration = Duration::from_secs(240);

/// LibreOffice behind the fixture script, one command at a time.
struct Office {
    child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
}

impl Office {
    fn start(profile: &Path, user: &str) -> anyhow::Result<Self> {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/libreoffice_edit.py");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(profile)
            .arg(user)
            .arg(PASSWORD)
            .env("HOME", profile)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot run /usr/bin/python3 (apt-get install python3-uno libreoffice-writer-nogui)")?;
        Ok(Self {
            stdin: child.stdin.take().context("stdin")?,
            answers: BufReader::new(child.stdout.take().context("stdout")?).lines(),
            child,
        })
    }

    /// Sends one command and waits for `expected`.
    async fn ask(&mut self, command: &str, expected: &str) -> anyhow::Result<()> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        let line = tokio::time::timeout(STEP, self.answers.next_line())
            .await
            .with_context(|| format!("LibreOffice did not answer `{command}` in {STEP:?}"))??
            .with_context(|| format!("LibreOffice stopped at `{command}`"))?;
        ensure!(line == expected, "`{command}`: LibreOffice answered {line}");
        Ok(())
    }

    async fn quit(mut self) -> anyhow::Result<()> {
        self.stdin.write_all(b"quit\n").await?;
        let status = tokio::time::timeout(STEP, self.child.wait()).await??;
        ensure!(
            status.success(),
            "the LibreOffice script ended with {status}"
        );
        Ok(())
    }
}

/// The document `id` as the API shows it to `api`'s user.
async fn document(api: &Api, id: &str) -> anyhow::Result<Value> {
    let r = api.get(&format!("/documents/{id}")).send().await?;
    ensure!(r.status() == 200, "document: {}", r.status());
    Ok(r.json().await?)
}

/// `content.xml` of an ODF file, as text.
async fn odf_text(file: &Path) -> anyhow::Result<String> {
    let out = run(
        Command::new("/usr/bin/python3").args([
            "-c",
            "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read('content.xml').decode())",
        ]).arg(file),
        "python3",
    )
    .await?;
    ensure!(
        out.status.success(),
        "not an ODF file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libreoffice_opens_edits_and_saves_in_place_holding_the_lock() -> anyhow::Result<()> {
    let n: TestNode = node_with_space("bureau", 64 * 1024 * 1024).await?;
    let work = tempfile::tempdir()?;
    let http = reqwest::Client::new();
    let dav = |path: &str| format!("{}/dav/bureau/{path}", n.base);

    let mut office = Office::start(&work.path().join("profile"), "alice")?;
    let local = work.path().join("compte-rendu.odt");
    office
        .ask(
            &format!(
                "make {} Compte rendu de la réunion de chantier.",
                local.display()
            ),
            "made",
        )
        .await?;
    let put = http
        .put(dav("compte-rendu.odt"))
        .basic_auth("alice", Some(PASSWORD))
        .body(std::fs::read(&local)?)
        .send()
        .await?;
    ensure!(put.status() == 201, "PUT: {}", put.status());

    let alice = Api::for_user(&n, "alice").await?;
    let bob = Api::for_user(&n, "bob").await?;
    let actor = n
        .node
        .app
        .authenticate_basic("alice", PASSWORD, None)
        .await?;
    let space = n.node.app.space_by_slug(&actor, "bureau").await?.space.id;
    // Bob may edit anyone's documents there, but not one LibreOffice holds.
    n.node
        .app
        .set_member(&actor, space, "bob", Role::Collaborator)
        .await?;
    let listing: Value = alice
        .get(&format!("/spaces/{space}/children"))
        .send()
        .await?
        .json()
        .await?;
    let id = listing["documents"]["items"][0]["id"]
        .as_str()
        .with_context(|| format!("the document: {listing}"))?
        .to_owned();

    let url = dav("compte-rendu.odt").replacen("http://", "vnd.sun.star.webdav://", 1);
    office.ask(&format!("open {url}"), "opened").await?;
    let open = document(&alice, &id).await?;
    ensure!(
        open["lock"]["holder_name"] == "alice",
        "LibreOffice holds a lock while the document is open: {open}"
    );
    let refused = bob
        .post(&format!("/documents/{id}/versions"))
        .header("Content-Type", "text/plain")
        .body("bob écrase")
        .send()
        .await?;
    ensure!(
        refused.status() == 423,
        "another user's write: {}",
        refused.status()
    );

    office
        .ask("append Ajout fait dans LibreOffice.", "saved")
        .await?;
    let saved = document(&alice, &id).await?;
    ensure!(
        saved["version"]["number"] == 2,
        "the save is version 2: {saved}"
    );
    ensure!(
        saved["lock"]["holder_name"] == "alice",
        "the lock is still held after the save: {saved}"
    );
    let content = http
        .get(dav("compte-rendu.odt"))
        .basic_auth("alice", Some(PASSWORD))
        .send()
        .await?
        .bytes()
        .await?;
    let saved_file = work.path().join("saved.odt");
    std::fs::write(&saved_file, &content)?;
    let text = odf_text(&saved_file).await?;
    ensure!(
        text.contains("Compte rendu de la réunion de chantier.")
            && text.contains("Ajout fait dans LibreOffice."),
        "version 2 holds both sentences: {text}"
    );

    office.ask("close", "closed").await?;
    let closed = document(&alice, &id).await?;
    if !closed["lock"].is_null() {
        bail!("the close gives the lock back: {closed}");
    }
    office.quit().await?;
    n.stop().await
}
