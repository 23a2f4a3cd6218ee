//! Contractors' uploads scanned on the internal node before they are
//! applied (ADR 0010), with the in-memory antivirus: infected content is
//! refused into quarantine with the verdict, audited, and the contractor
//! reads the refusal on the edge; clean content applies; an unreachable
//! scanner leaves operations waiting (nothing recorded) until it is back;
//! content past the scanner's limit is refused as unscannable.

use super::*;
use crate::fakes::MemAntivirus;
use crate::replication::{AppliedOp, OutboxItem};

/// What the in-memory antivirus knows as a virus.
const VIRUS: &str = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR";
const SIGNATURE: &str = "Passerelle.Test.Sample";

/// [`world`], the internal node scanning with a fresh antivirus.
async fn scanned_world() -> (World, Arc<MemAntivirus>) {
    scanning(world().await)
}

/// `w`, its internal node scanning with a fresh antivirus.
fn scanning(mut w: World) -> (World, Arc<MemAntivirus>) {
    let antivirus = Arc::new(MemAntivirus::new());
    antivirus.add_signature(VIRUS.as_bytes(), SIGNATURE);
    w.internal.app = w.internal.app.clone().with_antivirus(antivirus.clone());
    (w, antivirus)
}

fn edge_id() -> NodeId {
    "edge-1".parse().expect("node id")
}

async fn upload(w: &World, name: &str, text: &str) -> OutboxItem {
    w.edge
        .app
        .edge_upload(
            &w.contractor,
            NewDocument {
                space: w.space,
                name: name.into(),
                ..NewDocument::default()
            },
            content(text),
        )
        .await
        .expect("uploaded on the edge")
}

/// The pending items, their content copied to the internal node as the
/// link does before applying them.
async fn fetched(w: &World) -> Vec<OutboxItem> {
    let items = w
        .edge
        .app
        .pending_operations(0, 100)
        .await
        .expect("pending");
    for i in &items {
        if let Some(b) = i.op.blob() {
            copy_blob(&w.edge.blobs, &w.internal.blobs, &b.hash).await;
        }
    }
    items
}

async fn root_names(w: &World) -> Vec<String> {
    let mut names: Vec<String> = w
        .internal
        .app
        .list_folder(&w.manager, w.space, None, Page::default())
        .await
        .expect("list")
        .documents
        .items
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    names.sort();
    names
}

async fn audited(w: &World, action: &str) -> Vec<crate::model::AuditEntry> {
    w.internal
        .app
        .global_audit(&Actor::System, Page::new(0, 500))
        .await
        .expect("audit")
        .items
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// The internal node's ledger record of an operation.
async fn recorded(w: &World, op: uuid::Uuid) -> Option<AppliedOp> {
    let mut tx = w.internal.app.read().await.expect("read");
    tx.applied_op(op).await.expect("ledger")
}

/// `items` applied on the internal node, as the link would.
async fn apply_all(w: &World, items: &[OutboxItem]) -> Vec<AppliedOp> {
    w.internal
        .app
        .apply_edge_ops(&edge_id(), items)
        .await
        .expect("applied")
}

fn outcomes(applied: &[AppliedOp]) -> Vec<OpOutcome> {
    applied.iter().map(|a| a.outcome).collect()
}

#[test]
fn an_infected_upload_is_refused_quarantined_audited_and_the_contractor_sees_why() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        let item = upload(&w, "facture.exe", &format!("MZ…{VIRUS}…")).await;

        let applied = up(&w.internal, &w.edge).await;

        assert_eq!(outcomes(&applied), [OpOutcome::Rejected]);
        let detail = format!("refusé : fichier infecté ({SIGNATURE})");
        assert_eq!(applied[0].detail, detail);
        assert_eq!(
            antivirus.scans(),
            1,
            "scanned once, not again when re-applied"
        );
        assert_eq!(root_names(&w).await, ["CCTP.txt"], "nothing applied");
        // The managers see the verdict in quarantine…
        let status = w
            .internal
            .app
            .space_replication(&w.manager, w.space)
            .await
            .expect("status");
        assert_eq!(status.quarantine.len(), 1);
        assert_eq!(status.quarantine[0].detail, detail);
        // …the audit log records the infection…
        let infected = audited(&w, "antivirus.infected").await;
        assert_eq!(infected.len(), 1, "{infected:?}");
        let hash = item.op.blob().expect("content").hash.to_string();
        assert_eq!(infected[0].detail["signature"], SIGNATURE);
        assert_eq!(infected[0].detail["hash"], hash.as_str());
        assert_eq!(
            infected[0].detail["contractor"],
            w.contractor.id().expect("id").to_string().as_str()
        );
        assert_eq!(audited(&w, "replication.rejected").await.len(), 1);
        // …and the contractor reads the refusal on the edge.
        let mine = w
            .edge
            .app
            .my_operations(&w.contractor, w.space, Page::default())
            .await
            .expect("my operations");
        let op = mine
            .items
            .iter()
            .find(|o| o.op_id == item.op_id)
            .expect("listed");
        assert_eq!(op.outcome, Some(OpOutcome::Rejected));
        assert_eq!(op.detail, detail);
        let status = w.internal.app.antivirus_status().expect("scanning");
        assert_eq!((status.scanned_total, status.infected_total), (1, 1));
    });
}

#[test]
fn a_clean_upload_is_scanned_then_applied() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        upload(&w, "plan.txt", "un plan sans histoire").await;

        let applied = up(&w.internal, &w.edge).await;

        assert_eq!(outcomes(&applied), [OpOutcome::Applied]);
        assert_eq!(antivirus.scans(), 1);
        assert_eq!(root_names(&w).await, ["CCTP.txt", "plan.txt"]);
        assert!(audited(&w, "antivirus.infected").await.is_empty());
    });
}

#[test]
fn without_an_antivirus_nothing_is_scanned() {
    block_on(async {
        let w = world().await;
        upload(&w, "facture.exe", VIRUS).await;
        assert_eq!(
            outcomes(&up(&w.internal, &w.edge).await),
            [OpOutcome::Applied]
        );
        assert!(w.internal.app.antivirus_status().is_none());
    });
}

#[test]
fn an_unreachable_antivirus_leaves_the_operations_waiting_until_it_is_back() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        upload(&w, "plan.txt", "un plan").await;
        upload(&w, "facture.exe", VIRUS).await;
        let items = fetched(&w).await;
        antivirus.set_down(true);

        let failed = w.internal.app.apply_edge_ops(&edge_id(), &items).await;

        assert!(
            matches!(failed, Err(CoreError::Unavailable(_))),
            "{failed:?}"
        );
        assert_eq!(root_names(&w).await, ["CCTP.txt"], "nothing applied");
        let status = w
            .internal
            .app
            .space_replication(&w.manager, w.space)
            .await
            .expect("status");
        assert!(status.quarantine.is_empty(), "nothing quarantined");
        for i in &items {
            assert!(recorded(&w, i.op_id).await.is_none(), "nothing recorded");
        }
        let down = w.internal.app.antivirus_status().expect("scanning");
        assert!(!down.reachable);
        assert_eq!(down.waiting_operations, 2);
        assert!(down.outage.is_some());
        assert_eq!(down.unavailable_total, 1);

        // Back: the same operations apply, each once.
        antivirus.set_down(false);
        let applied = apply_all(&w, &items).await;
        assert_eq!(
            outcomes(&applied),
            [OpOutcome::Applied, OpOutcome::Rejected]
        );
        assert_eq!(root_names(&w).await, ["CCTP.txt", "plan.txt"]);
        let up = w.internal.app.antivirus_status().expect("scanning");
        assert!(up.reachable);
        assert_eq!(up.waiting_operations, 0);
        assert!(up.outage.is_none());
    });
}

#[test]
fn operations_before_an_unreachable_scan_are_applied_and_those_after_wait() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        w.edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::Rename {
                    document: w.doc,
                    name: "CCTP v2.txt".into(),
                },
            )
            .await
            .expect("rename queued");
        upload(&w, "plan.txt", "un plan").await;
        let items = fetched(&w).await;
        antivirus.set_down(true);

        let failed = w.internal.app.apply_edge_ops(&edge_id(), &items).await;

        assert!(failed.is_err());
        let renamed = recorded(&w, items[0].op_id).await;
        assert_eq!(renamed.map(|r| r.outcome), Some(OpOutcome::Applied));
        assert!(recorded(&w, items[1].op_id).await.is_none());
        antivirus.set_down(false);
        let applied = apply_all(&w, &items).await;
        assert_eq!(outcomes(&applied), [OpOutcome::Applied, OpOutcome::Applied]);
        assert_eq!(root_names(&w).await, ["CCTP v2.txt", "plan.txt"]);
    });
}

#[test]
fn a_run_whose_third_upload_is_infected_applies_the_others_exactly_once() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        for (name, text) in [
            ("A.txt", "a"),
            ("B.txt", "b"),
            ("C.exe", VIRUS),
            ("D.txt", "d"),
            ("E.txt", "e"),
        ] {
            upload(&w, name, text).await;
        }
        let items = fetched(&w).await;

        let applied = apply_all(&w, &items).await;

        assert_eq!(
            outcomes(&applied),
            [
                OpOutcome::Applied,
                OpOutcome::Applied,
                OpOutcome::Rejected,
                OpOutcome::Applied,
                OpOutcome::Applied
            ]
        );
        let ids: Vec<_> = applied.iter().map(|a| a.op_id).collect();
        let sent: Vec<_> = items.iter().map(|i| i.op_id).collect();
        assert_eq!(ids, sent, "one record per operation, in order");
        assert_eq!(
            root_names(&w).await,
            ["A.txt", "B.txt", "CCTP.txt", "D.txt", "E.txt"]
        );
        assert_eq!(antivirus.scans(), 5, "each content scanned once");

        // Delivered again (an acknowledgement lost): the same records,
        // nothing applied or scanned twice.
        let again = apply_all(&w, &items).await;
        assert_eq!(again, applied);
        assert_eq!(antivirus.scans(), 5);
        assert_eq!(root_names(&w).await.len(), 5);
        assert_eq!(audited(&w, "antivirus.infected").await.len(), 1);
    });
}

#[test]
fn content_past_the_scanners_limit_is_refused_as_unscannable() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        antivirus.set_limit(8);
        upload(&w, "gros.bin", "bien plus de huit octets").await;

        let applied = up(&w.internal, &w.edge).await;

        assert_eq!(outcomes(&applied), [OpOutcome::Rejected]);
        assert_eq!(
            applied[0].detail,
            "refusé : fichier trop volumineux pour l'antivirus (limite 8 octets)"
        );
        assert_eq!(root_names(&w).await, ["CCTP.txt"]);
    });
}

/// What the link does as each content arrives: it is judged ahead of the
/// apply.
async fn judged_ahead(w: &World, items: &[OutboxItem]) {
    for b in items.iter().filter_map(|i| i.op.blob()) {
        w.internal.app.judge_ahead(&b).await;
    }
}

#[test]
fn a_verdict_given_ahead_is_the_one_the_apply_uses_once() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        upload(&w, "plan.txt", "un plan").await;
        upload(&w, "facture.exe", VIRUS).await;
        let items = fetched(&w).await;

        judged_ahead(&w, &items).await;
        assert_eq!(antivirus.scans(), 2);
        assert_eq!(w.internal.app.ahead.len(), 2);
        let applied = apply_all(&w, &items).await;

        assert_eq!(
            outcomes(&applied),
            [OpOutcome::Applied, OpOutcome::Rejected]
        );
        assert_eq!(
            applied[1].detail,
            format!("refusé : fichier infecté ({SIGNATURE})")
        );
        assert_eq!(antivirus.scans(), 2, "not scanned again by the apply");
        assert_eq!(w.internal.app.ahead.len(), 0, "each verdict taken");
        assert_eq!(audited(&w, "antivirus.infected").await.len(), 1);
        let status = w.internal.app.antivirus_status().expect("scanning");
        assert_eq!((status.scanned_total, status.infected_total), (2, 1));
    });
}

#[test]
fn a_verdict_given_ahead_too_long_ago_is_not_trusted() {
    block_on(async {
        let t0 = time::OffsetDateTime::now_utc();
        let clock = Arc::new(crate::fakes::FakeClock::new(t0));
        let (w, antivirus) =
            scanning(world_between(internal_node_with(clock.clone()), edge_node()).await);
        upload(&w, "plan.txt", "un plan").await;
        let items = fetched(&w).await;
        judged_ahead(&w, &items).await;

        // Signatures may have changed since: the apply scans again.
        clock.advance(time::Duration::minutes(6));
        let applied = apply_all(&w, &items).await;

        assert_eq!(outcomes(&applied), [OpOutcome::Applied]);
        assert_eq!(antivirus.scans(), 2);
        assert_eq!(w.internal.app.ahead.len(), 0);
    });
}

#[test]
fn nothing_is_judged_ahead_while_the_antivirus_is_known_down_and_the_apply_still_waits() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        upload(&w, "facture.exe", VIRUS).await;
        let items = fetched(&w).await;
        antivirus.set_down(true);

        // The first failure ahead is an outage…
        judged_ahead(&w, &items).await;
        assert_eq!(antivirus.scans(), 1);
        assert!(
            !w.internal
                .app
                .antivirus_status()
                .expect("scanning")
                .reachable
        );
        // …after which contents are no longer sent ahead,
        judged_ahead(&w, &items).await;
        assert_eq!(antivirus.scans(), 1);
        assert_eq!(w.internal.app.ahead.len(), 0);
        // and the apply, which still asks, waits: nothing applied.
        let failed = w.internal.app.apply_edge_ops(&edge_id(), &items).await;
        assert!(
            matches!(failed, Err(CoreError::Unavailable(_))),
            "{failed:?}"
        );
        assert!(recorded(&w, items[0].op_id).await.is_none());

        antivirus.set_down(false);
        let applied = apply_all(&w, &items).await;
        assert_eq!(outcomes(&applied), [OpOutcome::Rejected]);
        assert!(
            w.internal
                .app
                .antivirus_status()
                .expect("scanning")
                .reachable
        );
    });
}

#[test]
fn the_running_link_judges_each_content_once_as_it_fetches_it() {
    block_on(async {
        let (w, antivirus) = scanned_world().await;
        let (_, peer) = wire(&w.internal, &w.edge);
        let connector = crate::fakes::MemConnector(peer);
        let mut items = Vec::new();
        for i in 0..5 {
            items.push(upload(&w, &format!("plan-{i}.txt"), &format!("plan {i}")).await);
        }
        items.push(upload(&w, "facture.exe", VIRUS).await);

        super::live::while_linked(&w, &connector, async {
            super::live::until("every upload decided", || async {
                let mut all = true;
                for i in &items {
                    all &= recorded(&w, i.op_id).await.is_some();
                }
                all
            })
            .await;
        })
        .await;

        let outcomes: Vec<_> =
            futures::future::join_all(items.iter().map(|i| recorded(&w, i.op_id)))
                .await
                .into_iter()
                .map(|r| r.expect("recorded").outcome)
                .collect();
        let mut expected = vec![OpOutcome::Applied; 5];
        expected.push(OpOutcome::Rejected);
        assert_eq!(outcomes, expected);
        assert_eq!(antivirus.scans(), 6, "each content scanned once, ahead");
        assert_eq!(w.internal.app.ahead.len(), 0, "every verdict taken");
        let status = w.internal.app.antivirus_status().expect("scanning");
        assert_eq!((status.scanned_total, status.infected_total), (6, 1));
    });
}
