//! French administrative prose for benchmarks that index text: documents
//! of 2–48 KiB drawn from accented and inflected words, the same corpus on
//! every run (a seeded generator), each distinct from the others. Shared by
//! the internal node's indexing bench and the edge's memory bench.

/// Words of French administrative prose, accented and inflected, so that
/// the analyzer, the dictionary and the postings see realistic text.
const WORDS: &[&str] = &[
    "délibération",
    "délibérations",
    "conseil",
    "municipal",
    "métropolitain",
    "arrêté",
    "arrêtés",
    "voirie",
    "stationnement",
    "marché",
    "marchés",
    "publics",
    "commande",
    "fournisseur",
    "facture",
    "factures",
    "montant",
    "paiement",
    "budget",
    "investissement",
    "fonctionnement",
    "piscine",
    "piscines",
    "bassin",
    "natation",
    "transport",
    "transports",
    "mobilité",
    "tramway",
    "ligne",
    "lignes",
    "travaux",
    "chantier",
    "chantiers",
    "réseau",
    "assainissement",
    "eau",
    "potable",
    "station",
    "épuration",
    "école",
    "écoles",
    "cantine",
    "restauration",
    "scolaire",
    "élèves",
    "enseignants",
    "bibliothèque",
    "médiathèque",
    "culture",
    "patrimoine",
    "église",
    "rénovation",
    "énergétique",
    "chauffage",
    "électricité",
    "éclairage",
    "public",
    "urbanisme",
    "permis",
    "construire",
    "lotissement",
    "zone",
    "aménagement",
    "espaces",
    "verts",
    "arbres",
    "plantation",
    "propreté",
    "déchets",
    "collecte",
    "tri",
    "sélectif",
    "subvention",
    "subventions",
    "association",
    "associations",
    "sport",
    "sportif",
    "stade",
    "gymnase",
    "personnel",
    "agents",
    "recrutement",
    "formation",
    "rémunération",
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "et",
    "pour",
    "dans",
    "sur",
    "par",
    "avec",
    "une",
    "un",
    "au",
    "aux",
    "est",
    "sont",
    "été",
    "selon",
    "après",
    "avant",
];

/// A small deterministic generator (xorshift): the same corpus every run,
/// without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Document `i`: 2–48 KiB of prose, distinct from every other.
pub fn text(i: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let size = 2048 + rng.below(46 * 1024) as usize;
    let mut out = format!("Document {i}. ");
    while out.len() < size {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        out.push_str(w);
        out.push(if rng.below(12) == 0 { '.' } else { ' ' });
    }
    out.into_bytes()
}
