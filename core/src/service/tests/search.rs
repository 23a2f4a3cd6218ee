//! Search and its indexer over the in-memory fakes: rights inside every
//! search (a space one cannot read, the trash, a contractor's reach, a
//! membership removed between two searches), the indexer following the
//! change feed (new versions, renamed folders, purges), a rebuild from
//! scratch equal to the live index, and extraction statuses with retries.

use std::sync::Arc;
use std::time::Duration;

use futures::executor::block_on;
use serde_json::json;
use time::macros::datetime;

use super::{agent, content, obj, space};
use crate::error::CoreError;
use crate::fakes::{
    FakeClock, FastPasswords, MemBlobStore, MemIndex, MemRepository, PlainTextExtractor,
};
use crate::ids::{DocumentId, SpaceId};
use crate::model::Visibility;
use crate::ports::Clock;
use crate::role::Role;
use crate::search::{ExtractionLog, ExtractionStatus, Field, Query, Sort};
use crate::service::{
    Actor, CoreSettings, Indexer, InternalApp, NewContractor, NewDocument, NewVersion, Search,
    SearchAsk, SearchFilters,
};

const EDGE: &str = "edge-1";

struct Node {
    app: InternalApp,
    repo: Arc<MemRepository>,
    index: Arc<MemIndex>,
    extractor: Arc<PlainTextExtractor>,
    clock: Arc<FakeClock>,
    search: Search,
    indexer: Indexer,
}

fn node() -> Node {
    let repo = Arc::new(MemRepository::new());
    let clock = Arc::new(FakeClock::new(datetime!(2026-12-01 09:00 UTC)));
    let app = InternalApp::new(
        repo.clone(),
        Arc::new(MemBlobStore::new()),
        clock.clone(),
        Arc::new(FastPasswords),
        CoreSettings {
            edges: vec![EDGE.parse().expect("node id")],
            ..CoreSettings::default()
        },
    );
    let index = Arc::new(MemIndex::new());
    let extractor = Arc::new(PlainTextExtractor::new());
    let search = Search::new(&app, index.clone(), repo.clone());
    let indexer = Indexer::new(&app, index.clone(), extractor.clone(), repo.clone());
    Node {
        app,
        repo,
        index,
        extractor,
        clock,
        search,
        indexer,
    }
}

impl Node {
    async fn seed_types(&self) {
        for t in crate::doctype::default_catalogue() {
            self.app
                .save_document_type(&Actor::System, t)
                .await
                .expect("type");
        }
    }

    async fn catch_up(&self) {
        loop {
            let run = self.indexer.run().await.expect("index run");
            if run.caught_up {
                return;
            }
        }
    }

    async fn put(&self, by: &Actor, space: SpaceId, name: &str, text: &str) -> DocumentId {
        self.app
            .upload(
                by,
                NewDocument {
                    space,
                    name: name.into(),
                    ..NewDocument::default()
                },
                content(text),
            )
            .await
            .expect("upload")
            .document
            .id
    }

    /// The names a search by `who` finds, sorted.
    async fn names(&self, who: &Actor, text: &str) -> Vec<String> {
        self.names_with(who, text, SearchFilters::default(), false)
            .await
    }

    async fn names_with(
        &self,
        who: &Actor,
        text: &str,
        filters: SearchFilters,
        trash: bool,
    ) -> Vec<String> {
        let page = self
            .search
            .search(
                who,
                SearchAsk {
                    text: text.into(),
                    filters,
                    sort: Sort::Name,
                    offset: 0,
                    limit: 50,
                    trash,
                    query: None,
                },
            )
            .await
            .expect("search");
        page.hits
            .into_iter()
            .map(|f| f.document.name.as_str().to_owned())
            .collect()
    }
}

#[test]
fn a_reader_finds_only_what_their_spaces_hold() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let admin = agent(&n.app, "admin", true).await;
        let piscine = space(&n.app, &marie, "piscine").await;
        let budget = space(&n.app, &paul, "budget").await;
        n.put(&marie, piscine, "cctp.txt", "bassin olympique de 50 m")
            .await;
        n.put(&paul, budget, "budget.txt", "bassin de rétention")
            .await;
        n.catch_up().await;

        assert_eq!(n.names(&marie, "bassin").await, ["cctp.txt"]);
        assert_eq!(n.names(&paul, "bassin").await, ["budget.txt"]);
        assert_eq!(n.names(&admin, "bassin").await, ["budget.txt", "cctp.txt"]);
        // Naming another's space finds nothing, as a space that does not
        // exist: the total and the facets say nothing either.
        let other = n
            .search
            .search(
                &marie,
                SearchAsk {
                    text: "bassin".into(),
                    filters: SearchFilters {
                        space: Some(budget),
                        ..SearchFilters::default()
                    },
                    limit: 10,
                    ..SearchAsk::default()
                },
            )
            .await
            .expect("search");
        assert_eq!((other.total, other.hits.len()), (0, 0));
        assert!(other.facets.spaces.is_empty());
        let none = n
            .search
            .search(
                &marie,
                SearchAsk {
                    text: "bassin".into(),
                    filters: SearchFilters {
                        space: Some(SpaceId::new()),
                        ..SearchFilters::default()
                    },
                    limit: 10,
                    ..SearchAsk::default()
                },
            )
            .await
            .expect("search");
        assert_eq!(none, other);
    });
}

#[test]
fn a_structured_query_finds_what_the_same_text_finds_within_the_same_rights() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let piscine = space(&n.app, &marie, "piscine").await;
        let budget = space(&n.app, &paul, "budget").await;
        n.put(&marie, piscine, "cctp.txt", "bassin olympique de 50 m")
            .await;
        n.put(&marie, piscine, "plan.txt", "plan du bassin").await;
        n.put(&paul, budget, "budget.txt", "bassin de rétention")
            .await;
        n.catch_up().await;
        let found = |who: &Actor, text: &str, query: Option<Query>| {
            let ask = SearchAsk {
                text: text.into(),
                query,
                sort: Sort::Name,
                limit: 10,
                ..SearchAsk::default()
            };
            let search = n.search.clone();
            let who = who.clone();
            async move {
                let page = search.search(&who, ask).await.expect("search");
                page.hits
                    .into_iter()
                    .map(|f| f.document.name.as_str().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        // What a client built (CMIS's WHERE) is searched, not the text.
        let olympique = Query::Term {
            field: None,
            text: "olympique".into(),
        };
        assert_eq!(
            found(&marie, "plan", Some(olympique.clone())).await,
            ["cctp.txt"]
        );
        assert_eq!(
            found(&marie, "olympique", None).await,
            found(&marie, "", Some(olympique)).await
        );
        let by_name = Query::Prefix {
            field: Field::parse("name"),
            text: "pla".into(),
        };
        assert_eq!(found(&marie, "", Some(by_name)).await, ["plan.txt"]);
        // Built or typed, a query runs in the caller's spaces only.
        let bassin = Query::Term {
            field: None,
            text: "bassin".into(),
        };
        assert_eq!(found(&paul, "", Some(bassin.clone())).await, ["budget.txt"]);
        assert_eq!(
            found(&marie, "", Some(bassin)).await,
            ["cctp.txt", "plan.txt"]
        );
    });
}

#[test]
fn public_spaces_are_read_by_agents_but_never_by_contractors() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let shared = space(&n.app, &marie, "piscine").await;
        n.app
            .share_space(&marie, shared, EDGE)
            .await
            .expect("share");
        let public = space(&n.app, &marie, "annuaire").await;
        n.app
            .update_space(
                &marie,
                public,
                crate::service::SpacePatch {
                    visibility: Some(Visibility::Public),
                    ..Default::default()
                },
            )
            .await
            .expect("public");
        let private = space(&n.app, &marie, "rh").await;
        n.put(&marie, shared, "plans.txt", "plans du bassin").await;
        n.put(&marie, public, "annuaire.txt", "bassin annuaire")
            .await;
        n.put(&marie, private, "rh.txt", "bassin rh").await;
        let jean = Actor::Principal(
            n.app
                .invite_contractor(
                    &marie,
                    shared,
                    NewContractor {
                        email: "jean@btp-rhone.fr".into(),
                        display_name: "Jean Bâtisseur".into(),
                        organisation: "BTP Rhône".into(),
                        role: Role::Reader,
                    },
                )
                .await
                .expect("invite")
                .principal,
        );
        n.catch_up().await;
        assert_eq!(n.names(&paul, "bassin").await, ["annuaire.txt"]);
        assert_eq!(n.names(&jean, "bassin").await, ["plans.txt"]);
    });
}

#[test]
fn rights_are_those_of_the_moment_of_the_search() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        n.put(&marie, s, "cctp.txt", "bassin").await;
        n.app
            .set_member(&marie, s, "paul", Role::Reader)
            .await
            .expect("member");
        n.catch_up().await;
        assert_eq!(n.names(&paul, "bassin").await, ["cctp.txt"]);
        // Removed: the index has not changed, the next search finds nothing.
        n.app
            .remove_member(&marie, s, paul.id().expect("principal"))
            .await
            .expect("removed");
        assert!(n.names(&paul, "bassin").await.is_empty());
    });
}

#[test]
fn the_trash_is_searched_apart_and_by_managers_only() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        n.app
            .set_member(&marie, s, "paul", Role::Collaborator)
            .await
            .expect("member");
        let old = n.put(&marie, s, "ancien.txt", "bassin ancien").await;
        n.put(&marie, s, "neuf.txt", "bassin neuf").await;
        n.app.delete_document(&marie, old).await.expect("trashed");
        n.catch_up().await;
        assert_eq!(n.names(&marie, "bassin").await, ["neuf.txt"]);
        let trash = SearchFilters::default();
        assert_eq!(
            n.names_with(&marie, "bassin", trash.clone(), true).await,
            ["ancien.txt"]
        );
        assert!(n.names_with(&paul, "bassin", trash, true).await.is_empty());
        // Purged: gone from the index, even for the manager's trash search.
        n.app.purge_document(&marie, old).await.expect("purged");
        n.catch_up().await;
        assert!(
            n.names_with(&marie, "bassin", SearchFilters::default(), true)
                .await
                .is_empty()
        );
        assert!(n.index.entries().iter().all(|e| e.id != old));
    });
}

#[test]
fn trash_searches_follow_trash_restore_and_trash_again_for_each_role() {
    block_on(async {
        let n = node();
        let admin = agent(&n.app, "root", true).await;
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let lea = agent(&n.app, "lea", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        for (login, role) in [("paul", Role::Reader), ("lea", Role::Collaborator)] {
            n.app
                .set_member(&marie, s, login, role)
                .await
                .expect("member");
        }
        let doc = n.put(&marie, s, "devis.txt", "bassin").await;
        async fn trash(n: &Node, who: &Actor) -> Vec<String> {
            n.names_with(who, "bassin", SearchFilters::default(), true)
                .await
        }
        async fn live(n: &Node, who: &Actor) -> Vec<String> {
            n.names(who, "bassin").await
        }
        let managers = [&marie, &admin];
        let others = [&paul, &lea];
        for step in 0..2 {
            n.app.delete_document(&marie, doc).await.expect("trashed");
            n.catch_up().await;
            for who in managers {
                assert_eq!(trash(&n, who).await, ["devis.txt"], "step {step}");
            }
            for who in managers.into_iter().chain(others) {
                assert!(live(&n, who).await.is_empty(), "step {step}");
            }
            for who in others {
                assert!(trash(&n, who).await.is_empty(), "step {step}");
            }
            n.app.restore_document(&marie, doc).await.expect("restored");
            n.catch_up().await;
            for who in managers.into_iter().chain(others) {
                assert_eq!(live(&n, who).await, ["devis.txt"], "step {step}");
                assert!(trash(&n, who).await.is_empty(), "step {step}");
            }
        }
        // A manager demoted to reader loses the trash at the next search.
        n.app
            .set_member(&marie, s, "lea", Role::Manager)
            .await
            .expect("promoted");
        n.app.delete_document(&marie, doc).await.expect("trashed");
        n.catch_up().await;
        assert_eq!(trash(&n, &lea).await, ["devis.txt"]);
        n.app
            .set_member(&marie, s, "lea", Role::Reader)
            .await
            .expect("demoted");
        assert!(trash(&n, &lea).await.is_empty());
    });
}

#[test]
fn the_index_follows_versions_renamed_folders_and_metadata() {
    block_on(async {
        let n = node();
        n.seed_types().await;
        let marie = agent(&n.app, "marie", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        let f = n
            .app
            .create_folder(&marie, s, None, "Consultation")
            .await
            .expect("folder");
        let sub = n
            .app
            .create_folder(&marie, s, Some(f.id), "Plans")
            .await
            .expect("folder");
        let doc = n
            .app
            .upload(
                &marie,
                NewDocument {
                    space: s,
                    folder: Some(sub.id),
                    name: "facture-12.txt".into(),
                    doc_type: Some("facture".into()),
                    metadata: obj(json!({
                        "numero": "F-12", "fournisseur": "BTP Rhône",
                        "montant_ttc": "15000.00", "date_emission": "2026-03-15"
                    })),
                    ..NewDocument::default()
                },
                content("première version"),
            )
            .await
            .expect("upload")
            .document
            .id;
        n.catch_up().await;
        assert_eq!(
            n.names(&marie, "dossier:consultation").await,
            ["facture-12.txt"]
        );
        assert_eq!(
            n.names(&marie, "fournisseur:rhone").await,
            ["facture-12.txt"]
        );
        assert_eq!(
            n.names(&marie, "montant_ttc:[10000 TO 20000]").await,
            ["facture-12.txt"]
        );
        assert!(n.names(&marie, "montant_ttc:>20000").await.is_empty());
        assert_eq!(
            n.names(&marie, "date_emission:2026-03").await,
            ["facture-12.txt"]
        );
        assert_eq!(n.names(&marie, "type:facture").await, ["facture-12.txt"]);

        n.app
            .new_version(
                &marie,
                doc,
                NewVersion::default(),
                content("seconde mouture"),
            )
            .await
            .expect("version");
        n.app
            .update_folder(&marie, f.id, Some("Offres"), None)
            .await
            .expect("renamed");
        n.catch_up().await;
        assert!(n.names(&marie, "première").await.is_empty());
        assert_eq!(n.names(&marie, "mouture").await, ["facture-12.txt"]);
        // The grandparent's new name reached the document's entry.
        assert!(n.names(&marie, "dossier:consultation").await.is_empty());
        assert_eq!(n.names(&marie, "dossier:offres").await, ["facture-12.txt"]);
    });
}

#[test]
fn a_principal_s_new_name_reaches_the_author_of_their_documents() {
    block_on(async {
        let n = node();
        let admin = agent(&n.app, "root", true).await;
        let marie = agent(&n.app, "marie", false).await;
        let paul = agent(&n.app, "paul", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        n.app
            .set_member(&marie, s, "paul", Role::Collaborator)
            .await
            .expect("member");
        let trashed = n.put(&marie, s, "ancien.txt", "bassin").await;
        n.put(&marie, s, "devis.txt", "bassin").await;
        n.put(&paul, s, "plan.txt", "bassin").await;
        n.app
            .delete_document(&marie, trashed)
            .await
            .expect("trashed");
        n.catch_up().await;
        assert!(n.names(&paul, "auteur:dupont").await.is_empty());

        n.app
            .rename_principal(&admin, "marie", "Marie Dupont")
            .await
            .expect("renamed");
        n.catch_up().await;
        assert_eq!(n.names(&paul, "auteur:dupont").await, ["devis.txt"]);
        // Her login still finds her, and the trash follows too.
        assert_eq!(n.names(&paul, "auteur:marie").await, ["devis.txt"]);
        assert_eq!(
            n.names_with(&marie, "auteur:dupont", SearchFilters::default(), true)
                .await,
            ["ancien.txt"]
        );
        // Paul's entries were not rewritten with her name.
        assert_eq!(n.names(&paul, "auteur:paul").await, ["plan.txt"]);
    });
}

#[test]
fn a_rebuild_from_scratch_equals_the_live_index() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        let f = n
            .app
            .create_folder(&marie, s, None, "A")
            .await
            .expect("folder");
        n.catch_up().await;
        for i in 0..30 {
            let d = n
                .put(&marie, s, &format!("doc-{i}.txt"), &format!("texte {i}"))
                .await;
            if i % 3 == 0 {
                n.app
                    .update_document(&marie, d, None, Some(Some(f.id)))
                    .await
                    .expect("moved");
            }
            if i % 7 == 0 {
                n.app.delete_document(&marie, d).await.expect("trashed");
            }
            if i % 5 == 0 {
                n.catch_up().await;
            }
        }
        n.app
            .update_folder(&marie, f.id, Some("B"), None)
            .await
            .expect("renamed");
        n.catch_up().await;

        let fresh = Arc::new(MemIndex::new());
        let rebuilt = Indexer::new(&n.app, fresh.clone(), n.extractor.clone(), n.repo.clone());
        while !rebuilt.run().await.expect("run").caught_up {}
        assert_eq!(fresh.entries(), n.index.entries());
        assert_eq!(fresh.entries().len(), 30);
    });
}

#[test]
fn each_content_is_extracted_once_and_failures_are_retried_with_backoff() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        n.put(&marie, s, "a.txt", "même contenu").await;
        n.put(&marie, s, "b.txt", "même contenu").await;
        n.catch_up().await;
        assert_eq!(n.extractor.calls(), 1);
        // Re-indexing a document whose content did not change extracts
        // nothing: the index keeps the text.
        let a = n.names(&marie, "contenu").await;
        assert_eq!(a, ["a.txt", "b.txt"]);

        n.extractor.set_failing(true);
        let c = n.put(&marie, s, "c.txt", "rapport annuel").await;
        n.catch_up().await;
        assert!(n.names(&marie, "rapport").await.is_empty());
        let hash = n
            .app
            .get_document(&marie, c)
            .await
            .expect("doc")
            .version
            .hash;
        let record = n
            .repo
            .extraction(&hash)
            .await
            .expect("log")
            .expect("record");
        assert_eq!(
            (record.status, record.attempts),
            (ExtractionStatus::Failed, 1)
        );
        assert_eq!(
            record.next_try,
            Some(n.clock.now() + Duration::from_secs(60))
        );
        // Not due yet: nothing retried.
        assert_eq!(n.indexer.retry_due(10).await.expect("retry"), 0);
        n.clock.advance(time::Duration::seconds(61));
        assert_eq!(n.indexer.retry_due(10).await.expect("retry"), 1);
        let record = n
            .repo
            .extraction(&hash)
            .await
            .expect("log")
            .expect("record");
        assert_eq!(record.attempts, 2);
        assert_eq!(
            record.next_try,
            Some(n.clock.now() + Duration::from_secs(120))
        );
        // The extractor works again: the next due retry makes it findable.
        n.extractor.set_failing(false);
        n.clock.advance(time::Duration::seconds(121));
        assert_eq!(n.indexer.retry_due(10).await.expect("retry"), 1);
        assert_eq!(n.names(&marie, "rapport").await, ["c.txt"]);
        let record = n
            .repo
            .extraction(&hash)
            .await
            .expect("log")
            .expect("record");
        assert_eq!(
            (record.status, record.next_try),
            (ExtractionStatus::Ok, None)
        );
        // Shown to whoever reads the document, listed to administrators only.
        let shown = n.search.extraction_of(&marie, c).await.expect("status");
        assert_eq!(shown.map(|r| r.status), Some(ExtractionStatus::Ok));
        assert!(matches!(
            n.search
                .extraction_problems(&marie, crate::model::Page::default())
                .await,
            Err(CoreError::Forbidden(_))
        ));
    });
}

#[test]
fn a_failed_extraction_is_listed_with_its_documents_and_given_up_after_the_last_attempt() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let admin = agent(&n.app, "admin", true).await;
        let s = space(&n.app, &marie, "piscine").await;
        n.extractor.set_failing(true);
        let d = n.put(&marie, s, "scan.txt", "illisible").await;
        n.catch_up().await;
        for _ in 0..10 {
            n.clock.advance(time::Duration::seconds(24 * 3600));
            n.indexer.retry_due(10).await.expect("retry");
        }
        let problems = n
            .search
            .extraction_problems(&admin, crate::model::Page::default())
            .await
            .expect("list");
        assert_eq!(problems.total, 1);
        let p = &problems.items[0];
        assert_eq!((p.record.attempts, p.record.next_try), (8, None));
        assert_eq!(p.documents, [(d, s, "scan.txt".to_owned())]);
        // An administrator asks again: the next retry takes it.
        n.extractor.set_failing(false);
        n.search
            .retry_extraction(&admin, &p.record.hash)
            .await
            .expect("asked");
        assert_eq!(n.indexer.retry_due(10).await.expect("retry"), 1);
        assert_eq!(n.names(&marie, "illisible").await, ["scan.txt"]);
    });
}

#[test]
fn any_text_searches_without_error() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        n.put(&marie, s, "a.txt", "bassin").await;
        n.catch_up().await;
        for text in [
            "",
            "\"",
            "((",
            "montant_ttc:[",
            "date:>=",
            "type:",
            "-",
            "a OR",
            "\u{0}",
            "x:\u{200b}",
            "*",
            "l'arrêté",
            "dossier:\"",
        ] {
            n.search
                .search(
                    &marie,
                    SearchAsk {
                        text: text.into(),
                        limit: 10,
                        ..SearchAsk::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        }
    });
}

/// The indexer does the work a write calls for and no more: the feed
/// brings the space row along with every batch, which must not re-index
/// the whole space each time (it made a 20,000-document space index at a
/// few documents a second); a renamed folder re-indexes what is below it,
/// a renamed space all of it.
#[test]
fn each_write_re_indexes_only_the_documents_it_touched() {
    block_on(async {
        let n = node();
        let marie = agent(&n.app, "marie", false).await;
        let s = space(&n.app, &marie, "piscine").await;
        let f = n
            .app
            .create_folder(&marie, s, None, "Plans")
            .await
            .expect("folder");
        for i in 0..10 {
            let d = n.put(&marie, s, &format!("doc-{i}.txt"), "texte").await;
            if i < 3 {
                n.app
                    .update_document(&marie, d, None, Some(Some(f.id)))
                    .await
                    .expect("moved");
            }
        }
        n.catch_up().await;
        let indexed = |n: &Node| {
            let indexer = n.indexer.clone();
            async move {
                let mut total = 0;
                loop {
                    let run = indexer.run().await.expect("run");
                    total += run.indexed;
                    if run.caught_up {
                        return total;
                    }
                }
            }
        };
        assert_eq!(indexed(&n).await, 0, "nothing changed");
        n.put(&marie, s, "neuf.txt", "texte").await;
        assert_eq!(indexed(&n).await, 1, "one upload");
        n.app
            .update_folder(&marie, f.id, Some("Plans v2"), None)
            .await
            .expect("renamed");
        assert_eq!(indexed(&n).await, 3, "the folder's documents");
        n.app
            .update_space(
                &marie,
                s,
                crate::service::SpacePatch {
                    title: Some("Piscine olympique".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("renamed");
        assert_eq!(indexed(&n).await, 11, "every document of the space");
        assert_eq!(n.names(&marie, "espace:olympique").await.len(), 11);
    });
}
