//! The generated corpus's French: words of public administration with
//! their inflections (plural, feminine, verb forms), accented as written,
//! grouped by topic so that a document talks about a few things, as real
//! documents do. The `RARE` words are never drawn for background documents:
//! only the planted ones hold them, so that the labelled queries have
//! answers a reader can check.

/// Words of every topic: the administrative filler of any document.
#[rustfmt::skip]
pub const COMMON: &[&str] = &[
    "conseil", "conseils", "métropole", "métropoles", "métropolitain", "métropolitaine",
    "métropolitains", "commune", "communes", "communal", "communale", "communaux", "service",
    "services", "direction", "directions", "directeur", "directrice", "agent", "agents",
    "dossier", "dossiers", "projet", "projets", "budget", "budgets", "budgétaire",
    "budgétaires", "crédit", "crédits", "dépense", "dépenses", "recette", "recettes",
    "exercice", "exercices", "article", "articles", "présent", "présente", "présents",
    "décision", "décisions", "décide", "décident", "décidé", "approuve", "approuvé",
    "approuvée", "approuvés", "autorise", "autorisé", "autorisée", "président", "présidente",
    "vice-président", "séance", "séances", "rapport", "rapports", "rapporteur", "annexe",
    "annexes", "montant", "montants", "euros", "somme", "sommes", "année", "années", "annuel",
    "annuelle", "mois", "délai", "délais", "procédure", "procédures", "réglementation",
    "réglementaire", "réglementaires", "application", "applicable", "applicables", "mise",
    "œuvre", "territoire", "territoires", "territorial", "territoriale", "public", "publique",
    "publics", "publiques", "usager", "usagers", "habitant", "habitants", "quartier",
    "quartiers", "équipement", "équipements", "ville", "villes", "secteur", "secteurs",
    "suivi", "suivie", "contrôle", "contrôles", "contrôlé", "vérification", "vérifications",
    "demande", "demandes", "demandé", "demandée", "réponse", "réponses", "courrier",
    "courriers", "signature", "signatures", "signé", "signée", "transmis", "transmise",
    "préfecture", "légalité", "compétence", "compétences", "convention", "conventions",
    "partenaire", "partenaires", "partenariat", "objectif", "objectifs", "mesure", "mesures",
    "prévu", "prévue", "prévus", "prévues", "réalisé", "réalisée", "réalisation",
    "réalisations", "étude", "études", "diagnostic", "diagnostics", "programme",
    "programmes", "programmation", "opération", "opérations", "calendrier", "planning",
    "phase", "phases", "réunion", "réunions", "compte", "rendu", "comptes", "rendus",
    "modalité", "modalités", "conditions", "condition", "générale", "générales",
    "particulière", "particulières", "technique", "techniques", "administratif",
    "administrative", "administratifs", "financier", "financière", "financiers",
    "financières", "juridique", "juridiques", "responsable", "responsables",
];

/// Topics: each background document draws most of its words from one or
/// two of them.
#[rustfmt::skip]
pub const TOPICS: &[&[&str]] = &[
    // Commande publique.
    &[
        "marché", "marchés", "consultation", "consultations", "candidat", "candidats",
        "candidature", "candidatures", "offre", "offres", "attributaire", "attributaires",
        "attribué", "attribuée", "lot", "lots", "cahier", "charges", "clause", "clauses",
        "titulaire", "titulaires", "avenant", "avenants", "pénalité", "pénalités",
        "prestataire", "prestataires", "prestation", "prestations", "analyse", "analyses",
        "négociation", "négocié", "négociée", "allotissement", "critère", "critères",
    ],
    // Finances.
    &[
        "facture", "factures", "facturé", "facturée", "fournisseur", "fournisseurs",
        "commande", "commandes", "commandé", "commandée", "mandat", "mandats", "mandaté",
        "mandatement", "paiement", "paiements", "payé", "payée", "règlement", "règlements",
        "engagement", "engagements", "engagé", "imputation", "imputations", "trésorerie",
        "comptable", "comptables", "titre", "titres", "dotation", "dotations", "subvention",
        "subventions", "subventionné", "versement", "versements", "versé", "versée",
    ],
    // Voirie et travaux.
    &[
        "voirie", "voiries", "chaussée", "chaussées", "trottoir", "trottoirs", "travaux",
        "chantier", "chantiers", "réfection", "réfections", "enrobé", "enrobés", "circulation",
        "circulations", "signalisation", "signalisations", "carrefour", "carrefours",
        "aménagement", "aménagements", "aménagé", "aménagée", "piste", "pistes", "cyclable",
        "cyclables", "réseau", "réseaux", "entreprise", "entreprises", "déviation",
        "déviations", "interdiction", "interdit", "interdite", "arrêté", "arrêtés",
    ],
    // Eau et assainissement.
    &[
        "assainissement", "eau", "eaux", "potable", "usées", "pluviales", "station",
        "stations", "épuration", "canalisation", "canalisations", "branchement",
        "branchements", "collecteur", "collecteurs", "raccordement", "raccordements",
        "raccordé", "raccordée", "captage", "captages", "qualité", "analyse", "prélèvement",
        "prélèvements", "redevance", "redevances", "abonné", "abonnés", "compteur", "compteurs",
    ],
    // Sports et piscines.
    &[
        "piscine", "piscines", "bassin", "bassins", "nageur", "nageurs", "natation",
        "baignade", "baignades", "maître-nageur", "maîtres-nageurs", "vidange", "vidanges",
        "filtration", "sportif", "sportive", "sportifs", "sportives", "club", "clubs",
        "association", "associations", "stade", "stades", "terrain", "terrains", "créneau",
        "créneaux", "fréquentation", "horaire", "horaires", "ouverture", "fermeture",
    ],
    // Transports et mobilité.
    &[
        "transport", "transports", "mobilité", "mobilités", "tramway", "tramways", "bus",
        "ligne", "lignes", "arrêt", "voyageur", "voyageurs", "réseau", "desserte", "dessertes",
        "desservi", "desservie", "abonnement", "abonnements", "tarif", "tarifs", "tarifaire",
        "tarification", "gare", "gares", "parking", "parkings", "relais", "covoiturage",
        "vélo", "vélos", "autopartage", "fréquence", "fréquences",
    ],
    // Assemblées et actes.
    &[
        "délibération", "délibérations", "délibéré", "délibérée", "assemblée", "assemblées",
        "élu", "élus", "élue", "élues", "vote", "votes", "voté", "votée", "unanimité",
        "majorité", "quorum", "ordre", "jour", "commission", "commissions", "bureau",
        "bureaux", "conseiller", "conseillers", "conseillère", "conseillères", "mandature",
        "procès-verbal", "procès-verbaux", "acte", "actes", "publication", "publié", "publiée",
    ],
    // Urbanisme et bâtiments.
    &[
        "urbanisme", "permis", "construire", "construit", "construite", "construction",
        "constructions", "bâtiment", "bâtiments", "école", "écoles", "toiture", "toitures",
        "façade", "façades", "rénovation", "rénovations", "rénové", "rénovée", "énergétique",
        "chauffage", "isolation", "logement", "logements", "parcelle", "parcelles", "foncier",
        "foncière", "cadastre", "zonage", "plan", "plans", "local", "locaux",
    ],
    // Environnement et propreté.
    &[
        "déchet", "déchets", "collecte", "collectes", "tri", "recyclage", "propreté",
        "nettoyage", "nettoyé", "nettoyée", "benne", "bennes", "déchetterie", "déchetteries",
        "compostage", "espace", "espaces", "vert", "verts", "verte", "vertes", "arbre",
        "arbres", "plantation", "plantations", "planté", "plantée", "jardin", "jardins",
        "environnement", "environnemental", "environnementale", "climat", "climatique",
    ],
];

/// Words found only in planted documents (never drawn for the
/// background): the distinctive words of the labelled queries.
#[rustfmt::skip]
pub const RARE: &[&str] = &[
    "toboggan", "toboggans", "pédiluve", "pédiluves", "gymnase", "gymnases", "stationnement",
    "stationnements", "restauration", "scolaire", "scolaires", "éclairage", "électricité",
    "déneigement", "salage", "fontaine", "fontaines", "médiathèque", "médiathèques",
    "vidéoprotection", "ascenseur", "ascenseurs", "désamiantage", "crèche", "crèches",
    "funiculaire", "passerelle", "belvédère", "patinoire", "patinoires",
];

/// Words between the others, so that text reads like French and phrase
/// queries meet stop words.
#[rustfmt::skip]
pub const FILLER: &[&str] = &[
    "le", "la", "les", "de", "des", "du", "à", "au", "aux", "et", "en", "pour", "par", "sur",
    "dans", "avec", "est", "sont", "a", "ont", "un", "une", "ce", "cette", "qui", "que", "l’",
    "d’", "selon", "afin", "entre", "après", "avant", "lors", "notamment", "ainsi",
];

/// Communes of the territory (never a query's distinctive word).
#[rustfmt::skip]
pub const COMMUNES: &[&str] = &[
    "Lyon", "Villeurbanne", "Vénissieux", "Bron", "Caluire-et-Cuire", "Oullins", "Écully",
    "Saint-Priest", "Meyzieu", "Rillieux-la-Pape", "Décines-Charpieu", "Tassin-la-Demi-Lune",
    "Sainte-Foy-lès-Lyon", "Vaulx-en-Velin", "Givors", "Francheville",
];

/// Suppliers of the background invoices and orders. None holds `BTP`,
/// `Rhône` or `Dauphiné`: those are the planted suppliers.
#[rustfmt::skip]
pub const SUPPLIERS: &[&str] = &[
    "Eiffage Route Centre-Est", "Colas France", "Veolia Eau", "Suez Environnement",
    "Bouygues Énergies", "Spie Batignolles", "Keolis Lyon", "Orange Business", "Manutan",
    "Lyreco", "Berger-Levrault", "Sogelink", "Engie Solutions", "Dalkia", "Citeos",
    "Razel-Bec", "Guintoli", "Sade Télécom", "Ortec Environnement", "Derichebourg",
    "Pizzorno Environnement", "Atelier Lumière", "Mobilier Urbain Lacroix", "Signature SAS",
];

/// People who sign and attend, never a query's distinctive word.
#[rustfmt::skip]
pub const PEOPLE: &[&str] = &[
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Fournier", "Girard", "Bonnet",
];
