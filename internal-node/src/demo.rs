//! Sample data so a newcomer sees a living system: people, spaces of the
//! authority, typed documents with several versions.

use bytes::Bytes;
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::{FolderId, SpaceId};
use passerelle_core::model::{Page, Visibility};
use passerelle_core::role::Role;
use passerelle_core::service::{NewAgent, NewDocument, NewSpace, NewVersion};
use passerelle_core::{Actor, InternalApp};
use serde_json::{Map, Value, json};

/// The password of every demo account (never use the demo in production).
pub const DEMO_PASSWORD: &str = "passerelle-demo";

/// A demo account, to print.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub login: &'static str,
    pub name: &'static str,
    pub what: &'static str,
}

const PEOPLE: &[(&str, &str, &str, bool)] = &[
    (
        "admin",
        "Administrateur Passerelle",
        "administrateur du nœud",
        true,
    ),
    (
        "marie.dupont",
        "Marie Dupont",
        "Direction des sports, gestionnaire « piscine »",
        false,
    ),
    (
        "paul.martin",
        "Paul Martin",
        "Direction du patrimoine bâti, collaborateur « piscine »",
        false,
    ),
    (
        "sophie.bernard",
        "Sophie Bernard",
        "DRH, gestionnaire « SI RH »",
        false,
    ),
    (
        "luc.petit",
        "Luc Petit",
        "DSI, contributeur « SI RH », lecteur « piscine »",
        false,
    ),
    (
        "claire.moreau",
        "Claire Moreau",
        "Direction des finances, gestionnaire « budget 2027 »",
        false,
    ),
];

fn body(text: String) -> ByteStream {
    Box::pin(futures::stream::once(async move { Ok(Bytes::from(text)) }))
}

fn meta(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn actor(app: &InternalApp, login: &str) -> anyhow::Result<Actor> {
    Ok(Actor::Principal(
        app.principal_by_login(&Actor::System, login).await?,
    ))
}

struct Doc<'a> {
    name: &'a str,
    doc_type: Option<&'a str>,
    metadata: Value,
    media: &'a str,
    versions: &'a [&'a str],
}

async fn add_doc(
    app: &InternalApp,
    who: &Actor,
    space: SpaceId,
    folder: Option<FolderId>,
    d: Doc<'_>,
) -> anyhow::Result<()> {
    let mut versions = d.versions.iter();
    let first = versions.next().copied().unwrap_or_default();
    let v = app
        .upload(
            who,
            NewDocument {
                space,
                folder,
                name: d.name.to_owned(),
                doc_type: d.doc_type.map(str::to_owned),
                metadata: meta(d.metadata),
                media_type: Some(d.media.to_owned()),
                comment: "version initiale".into(),
            },
            body(format!("{}\n\n{first}\n", d.name)),
        )
        .await?;
    for (i, text) in versions.enumerate() {
        app.new_version(
            who,
            v.document.id,
            NewVersion {
                media_type: Some(d.media.to_owned()),
                comment: format!("révision {}", i + 2),
            },
            body(format!("{}\n\n{text}\n", d.name)),
        )
        .await?;
    }
    Ok(())
}

/// Seeds the sample on an empty node and returns the logins to print.
pub async fn seed(app: &InternalApp) -> anyhow::Result<Vec<DemoLogin>> {
    if app.count_principals().await? > 0 {
        anyhow::bail!(
            "this node already has accounts: the demo seeds only an empty node (use another --data-dir)"
        );
    }
    for (login, name, _, admin) in PEOPLE {
        app.create_agent(
            &Actor::System,
            NewAgent {
                login: (*login).into(),
                display_name: (*name).into(),
                email: format!("{login}@metropole.example"),
                is_admin: *admin,
                password: Some(DEMO_PASSWORD.into()),
            },
        )
        .await?;
    }
    let marie = actor(app, "marie.dupont").await?;
    let paul = actor(app, "paul.martin").await?;
    let sophie = actor(app, "sophie.bernard").await?;
    let claire = actor(app, "claire.moreau").await?;

    // Construction piscine olympique.
    let piscine = app
        .create_space(
            &marie,
            NewSpace {
                slug: "construction-piscine-olympique".into(),
                title: "Construction piscine olympique".into(),
                description:
                    "Opération de construction du centre aquatique métropolitain (bassin de 50 m)."
                        .into(),
                domain: "Patrimoine bâti".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await?
        .space
        .id;
    app.set_member(&marie, piscine, "paul.martin", Role::Collaborator)
        .await?;
    app.set_member(&marie, piscine, "luc.petit", Role::Reader)
        .await?;
    let programme = app
        .create_folder(&marie, piscine, None, "01 - Programme")
        .await?
        .id;
    let consultation = app
        .create_folder(&marie, piscine, None, "02 - Consultation")
        .await?
        .id;
    let chantier = app
        .create_folder(&marie, piscine, None, "03 - Suivi de chantier")
        .await?
        .id;
    add_doc(
        app,
        &marie,
        piscine,
        Some(programme),
        Doc {
            name: "Programme technique détaillé.txt",
            doc_type: None,
            metadata: json!({}),
            media: "text/plain",
            versions: &[
                "Bassin olympique 50 m x 25 m, 10 couloirs.",
                "Bassin olympique 50 m x 25 m, 10 couloirs ; bassin d'apprentissage ajouté.",
            ],
        },
    )
    .await?;
    add_doc(app, &marie, piscine, Some(consultation), Doc {
        name: "CCTP lot 1 - gros oeuvre.txt",
        doc_type: Some("cahier-des-charges"),
        metadata: json!({"reference_consultation": "2026-PAT-017", "objet": "Construction du centre aquatique — lot 1 gros œuvre", "procedure": "Appel d'offres ouvert", "lot": 1, "date_limite_remise": "2026-12-15"}),
        media: "text/plain",
        versions: &["Article 1 — Objet du marché.", "Article 1 — Objet du marché. Article 2 — Béton C30/37.", "Article 1 — Objet du marché. Article 2 — Béton C30/37. Article 3 — Étanchéité du cuvelage."],
    })
    .await?;
    add_doc(app, &paul, piscine, Some(chantier), Doc {
        name: "Compte rendu réunion de chantier n°12.txt",
        doc_type: Some("compte-rendu"),
        metadata: json!({"date_reunion": "2026-11-18", "objet": "Avancement du gros œuvre", "participants": "MOA, MOE, BTP Rhône"}),
        media: "text/plain",
        versions: &["Retard de 5 jours sur le coulage du radier ; planning recalé."],
    })
    .await?;
    add_doc(app, &paul, piscine, Some(chantier), Doc {
        name: "Facture F-2026-0042 BTP Rhône.csv",
        doc_type: Some("facture"),
        metadata: json!({"numero": "F-2026-0042", "fournisseur": "BTP Rhône SAS", "siret": "81234567800021", "montant_ht": "10400.42", "montant_ttc": "12480.50", "date_emission": "2026-10-02", "payee": false}),
        media: "text/csv",
        versions: &["poste;quantité;prix\nterrassement;1;10400.42"],
    })
    .await?;
    add_doc(app, &marie, piscine, Some(consultation), Doc {
        name: "Bon de commande BC-2026-118.txt",
        doc_type: Some("bon-de-commande"),
        metadata: json!({"numero": "BC-2026-118", "fournisseur": "Bureau de contrôle Véritas", "montant_ttc": "8640", "date_commande": "2026-09-12", "imputation": "2313-413"}),
        media: "text/plain",
        versions: &["Mission de contrôle technique, phase conception."],
    })
    .await?;

    // Projet SI RH.
    let sirh = app
        .create_space(
            &sophie,
            NewSpace {
                slug: "projet-si-rh".into(),
                title: "Projet SI RH".into(),
                description: "Remplacement du système d'information des ressources humaines."
                    .into(),
                domain: "Ressources humaines".into(),
                visibility: Visibility::Private,
                manager: None,
            },
        )
        .await?
        .space
        .id;
    app.set_member(&sophie, sirh, "luc.petit", Role::Contributor)
        .await?;
    add_doc(app, &sophie, sirh, None, Doc {
        name: "Cahier des charges SIRH.md",
        doc_type: Some("cahier-des-charges"),
        metadata: json!({"reference_consultation": "2026-DSI-004", "objet": "Progiciel de gestion RH et paie", "procedure": "Dialogue compétitif"}),
        media: "text/markdown",
        versions: &["# Besoins\n- paie", "# Besoins\n- paie\n- carrières", "# Besoins\n- paie\n- carrières\n- formation"],
    })
    .await?;
    add_doc(app, &sophie, sirh, None, Doc {
        name: "Délibération 2026-114 - attribution marché SIRH.txt",
        doc_type: Some("deliberation"),
        metadata: json!({"numero": "2026-114", "date_decision": "2026-06-30", "objet": "Attribution du marché de progiciel RH", "nature": "Délibération", "instance": "Conseil métropolitain", "transmis_controle_legalite": true}),
        media: "text/plain",
        versions: &["Le conseil métropolitain, après en avoir délibéré, attribue le marché…"],
    })
    .await?;

    // Préparation budget 2027 (public: every agent may read it).
    let budget = app
        .create_space(
            &claire,
            NewSpace {
                slug: "budget-2027".into(),
                title: "Préparation budget 2027".into(),
                description: "Documents de préparation du budget primitif 2027.".into(),
                domain: "Finances".into(),
                visibility: Visibility::Public,
                manager: None,
            },
        )
        .await?
        .space
        .id;
    add_doc(app, &claire, budget, None, Doc {
        name: "Mandat 2026-5521.txt",
        doc_type: Some("piece-comptable"),
        metadata: json!({"type_piece": "Mandat", "exercice": 2026, "numero": "2026-5521", "montant": "12480.50", "tiers": "BTP Rhône SAS"}),
        media: "text/plain",
        versions: &["Mandat de paiement de la facture F-2026-0042."],
    })
    .await?;
    add_doc(app, &claire, budget, None, Doc {
        name: "Courrier préfecture - orientations budgétaires.txt",
        doc_type: Some("courrier"),
        metadata: json!({"sens": "Arrivée", "date_courrier": "2026-11-03", "correspondant": "Préfecture du Rhône", "objet": "Débat d'orientation budgétaire"}),
        media: "text/plain",
        versions: &["Madame la Présidente, …"],
    })
    .await?;

    let spaces = app.my_spaces(&Actor::System, Page::default()).await?.total;
    tracing::info!(spaces, "demo data seeded");
    Ok(PEOPLE
        .iter()
        .map(|(login, name, what, _)| DemoLogin { login, name, what })
        .collect())
}

pub fn print_logins(logins: &[DemoLogin]) {
    println!("demo accounts (password for all: {DEMO_PASSWORD}):");
    for l in logins {
        println!("  {:<16} {:<20} {}", l.login, l.name, l.what);
    }
}
