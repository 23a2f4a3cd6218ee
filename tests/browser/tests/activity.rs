//! The activity feed and notification settings in headless Chromium on a
//! real internal node (issue 18): an agent drops two files, opens the
//! space's "Activité" tab and reads one grouped line in French naming
//! both, chooses immediate notices and, as the space's manager, a weekly
//! default; then filters the feed of all their spaces by kind. Both pages
//! are measured, checked with axe-core and photographed like the others.

#[path = "support/harness.rs"]
mod support;

use anyhow::{Context, ensure};
use thirtyfour::By;

use support::{ADMIN_PASSWORD, Browser, Nodes, browser_available, login, minimal_pdf};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reads_the_feed_and_chooses_how_often_to_hear_of_a_space() -> anyhow::Result<()> {
    if !browser_available() {
        return Ok(());
    }
    let nodes = Nodes::start()?;
    let b = Browser::start(nodes.tmp.path()).await?;
    let result = scenario(&nodes, &b).await;
    b.print_measures();
    if result.is_err() {
        let _ = b.screenshot("activity-failure").await;
    }
    b.driver.clone().quit().await?;
    result
}

async fn scenario(nodes: &Nodes, b: &Browser) -> anyhow::Result<()> {
    let base = &nodes.internal;
    b.goto(&format!("{base}/login")).await?;
    login(b, "admin", ADMIN_PASSWORD).await?;
    b.fill("#title", "Consultation voirie").await?;
    b.fill("#slug", "consultation-voirie").await?;
    b.fill("#domain", "Voirie").await?;
    b.click("#new-space + form button[type=submit]").await?;
    ensure!(b.text("h1").await?.contains("Consultation voirie"));
    for name in ["CCTP voirie.pdf", "Plan de situation.pdf"] {
        let path = nodes.tmp.path().join(name);
        std::fs::write(&path, minimal_pdf(name))?;
        b.el("#files")
            .await?
            .send_keys(path.to_str().context("utf-8")?)
            .await?;
    }
    b.until("both files listed", move || async move {
        let t = b.text("#documents").await?;
        Ok(t.contains("CCTP voirie.pdf") && t.contains("Plan de situation.pdf"))
    })
    .await?;

    // The space's tab: one line naming both, in French.
    let tab = b
        .driver
        .find(By::Css("nav.tabs a[href$='/activity']"))
        .await?;
    b.loads_new_page(tab.click()).await?;
    ensure!(
        b.text("h1")
            .await?
            .contains("Activité de Consultation voirie")
    );
    let feed = b.text("#feed").await?;
    ensure!(feed.contains("a déposé 2 documents"), "{feed}");
    ensure!(
        feed.contains("CCTP voirie.pdf") && feed.contains("Plan de situation.pdf"),
        "{feed}"
    );
    b.check_page("space-activity").await?;

    // Immediate notices for me; a weekly default for the space.
    b.el("#my-frequency option[value=immediate]")
        .await?
        .click()
        .await?;
    b.click("#my-subscription button[type=submit]").await?;
    ensure!(
        b.body()
            .await?
            .contains("Vos notifications sont enregistrées."),
        "saved"
    );
    let chosen = b
        .js("return document.querySelector('#my-frequency').value;")
        .await?;
    ensure!(chosen == "immediate", "{chosen}");
    b.el("#default-frequency option[value=weekly]")
        .await?
        .click()
        .await?;
    b.click("#space-default button[type=submit]").await?;
    let default = b
        .js("return document.querySelector('#default-frequency').value;")
        .await?;
    ensure!(default == "weekly", "{default}");

    // All my spaces, filtered by kind: the folders made (none) and the
    // documents added.
    b.goto(&format!("{base}/activity?kind=folder_added"))
        .await?;
    ensure!(b.el("#no-activity").await.is_ok(), "no folder was made");
    b.goto(&format!("{base}/activity?kind=added")).await?;
    ensure!(b.text("#feed").await?.contains("Consultation voirie"));
    b.check_page("my-activity").await?;
    Ok(())
}
