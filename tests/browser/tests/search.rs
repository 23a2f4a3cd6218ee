//! Search in headless Chromium on real nodes (issue 14): an agent drops a
//! PDF and an OpenDocument text, each holding the same sentence with its
//! accents and inflections, types in the header's search box what people
//! type (no accents, another inflection), finds both with the sentence
//! highlighted, narrows by type through a facet, opens a hit and reads
//! that its text was indexed. The results page is measured, checked with
//! axe-core and photographed like the other pages.

#[path = "support/harness.rs"]
mod support;

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, ensure};
use thirtyfour::{By, Key};

use support::{ADMIN_PASSWORD, Browser, Nodes, browser_available, login, minimal_pdf};

/// What both files say.
const SENTENCE: &str = "Les délibérations du conseil sur les marchés publics de la piscine";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_finds_a_pdf_and_an_odt_by_what_they_say() -> anyhow::Result<()> {
    if !browser_available() {
        return Ok(());
    }
    let started = Instant::now();
    let nodes = Nodes::start()?;
    let b = Browser::start(nodes.tmp.path()).await?;
    let result = scenario(&nodes, &b).await;
    b.print_measures();
    println!(
        "search scenario took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if result.is_err() {
        let _ = b.screenshot("search-failure").await;
    }
    b.driver.clone().quit().await?;
    result
}

async fn scenario(nodes: &Nodes, b: &Browser) -> anyhow::Result<()> {
    let base = &nodes.internal;
    b.goto(&format!("{base}/login")).await?;
    login(b, "admin", ADMIN_PASSWORD).await?;
    b.fill("#title", "Marchés publics piscine").await?;
    b.fill("#slug", "marches-piscine").await?;
    b.fill("#domain", "Commande publique").await?;
    b.click("#new-space + form button[type=submit]").await?;
    ensure!(b.text("h1").await?.contains("Marchés publics piscine"));

    let pdf = nodes.tmp.path().join("Rapport conseil.pdf");
    std::fs::write(&pdf, minimal_pdf(SENTENCE))?;
    let odt = nodes.tmp.path().join("Compte rendu commission.odt");
    std::fs::write(&odt, minimal_odt(SENTENCE)?)?;
    for file in [&pdf, &odt] {
        b.el("#files")
            .await?
            .send_keys(file.to_str().context("utf-8")?)
            .await?;
    }
    b.until("both files listed", move || async move {
        let t = b.text("#documents").await?;
        Ok(t.contains("Rapport conseil.pdf") && t.contains("Compte rendu commission.odt"))
    })
    .await?;

    // What people type: no accents, other inflections, in the header box.
    let query = "deliberation marche public";
    let search_started = Instant::now();
    b.until("both files found", move || async move {
        b.fill("#search-q", query).await?;
        b.el("#search-q").await?.send_keys(Key::Enter).await?;
        let found = match b.el("#hits").await {
            Ok(hits) => hits.text().await?,
            Err(_) => String::new(),
        };
        Ok(found.contains("Rapport conseil.pdf") && found.contains("Compte rendu commission.odt"))
    })
    .await?;
    println!(
        "found by their content {:.1} s after the upload was listed",
        search_started.elapsed().as_secs_f64()
    );
    let marks = b.driver.find_all(By::Css("#hits .snippet mark")).await?;
    ensure!(!marks.is_empty(), "the matched words are highlighted");
    ensure!(
        b.text("#search-total").await?.contains('2'),
        "two documents: {}",
        b.text("#search-total").await?
    );
    b.check_page("search-results").await?;

    // A word no document holds finds nothing (the search is not a list of
    // everything).
    b.fill("#search-q", "assainissement").await?;
    b.el("#search-q").await?.send_keys(Key::Enter).await?;
    ensure!(b.driver.find_all(By::Css("#hits li")).await?.is_empty());

    // Back to the hits; open the PDF: its text was indexed.
    b.fill("#search-q", query).await?;
    b.el("#search-q").await?.send_keys(Key::Enter).await?;
    let link = b.driver.find(By::LinkText("Rapport conseil.pdf")).await?;
    b.loads_new_page(link.click()).await?;
    ensure!(b.text("h1").await?.contains("Rapport conseil.pdf"));
    let status = b.text("#extraction").await?;
    ensure!(
        status.contains("Texte indexé"),
        "extraction status: {status}"
    );
    b.check_page("document-indexed").await?;
    Ok(())
}

/// A minimal OpenDocument text holding `text`: the `mimetype` entry first
/// and stored, the manifest, and the content.
fn minimal_odt(text: &str) -> anyhow::Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file("mimetype", stored)?;
    out.write_all(b"application/vnd.oasis.opendocument.text")?;
    out.start_file("META-INF/manifest.xml", deflated)?;
    out.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#,
    )?;
    out.start_file("content.xml", deflated)?;
    write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
 <office:body><office:text><text:h>Commission d'appel d'offres</text:h><text:p>{text}</text:p></office:text></office:body>
</office:document-content>"#
    )?;
    Ok(out.finish()?.into_inner())
}
