//! Why a flow was refused: a situation each, shown in English in logs and
//! explained in French to the application or person who dropped the file
//! (the hot folder writes [`FluxError::explain`] beside it).

/// A file refused whole: nothing of it is filed.
#[derive(Debug, thiserror::Error)]
pub enum FluxError {
    #[error("reading failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("not well-formed XML near byte {at}: {detail}")]
    Xml { at: u64, detail: String },
    #[error("a DOCTYPE near byte {at}: DTDs are not read")]
    Doctype { at: u64 },
    #[error("the XML declaration is not at the start (near byte {at})")]
    LateDeclaration { at: u64 },
    #[error("unsupported encoding {name:?}")]
    Encoding { name: String },
    #[error("elements nested deeper than {max} at {path}")]
    TooDeep { path: String, max: usize },
    #[error("a tag, attribute or text of more than {max} bytes near byte {at}")]
    RunTooLong { at: u64, max: usize },
    #[error("not a PES V2 outbound file: the root element is {root}")]
    NotPes { root: String },
    #[error("not an @CTES document: the root element is {root}")]
    NotActes { root: String },
    #[error("bundle entry {name:?}: expected {why}")]
    UnsafeEntry { name: String, why: &'static str },
    #[error("bundle entry {name:?}: past {max} bytes")]
    BundleTooLarge { name: String, max: u64 },
    #[error("bundle entry {name:?} is not named by the act")]
    UnexpectedFile { name: String },
    #[error("the act names {name:?}, absent from the bundle")]
    MissingFile { name: String },
    #[error("{what} missing in {path}")]
    Missing { path: String, what: &'static str },
    #[error("{path} = {value:?}: expected {expected}")]
    Invalid {
        path: String,
        value: String,
        expected: &'static str,
    },
    #[error("the file ends inside {path}")]
    Truncated { path: String },
    /// Not one element: not XML at all (a PDF dropped in the wrong
    /// folder), or an empty file.
    #[error("no XML element in the file")]
    NoRoot,
    #[error("bordereau {bordereau}: announces {declared} pièces, holds {found}")]
    PieceCount {
        bordereau: String,
        declared: u32,
        found: u32,
    },
    #[error("more than {max} {what}")]
    TooMany { what: &'static str, max: usize },
    #[error("attachment {index}: larger than {max} bytes")]
    AttachmentTooLarge { index: usize, max: u64 },
    #[error("attachment {index}: not base64 ({detail})")]
    Base64 { index: usize, detail: String },
}

impl FluxError {
    /// What is wrong and how to fix it, in French, for the sender.
    pub fn explain(&self) -> String {
        match self {
            FluxError::Io(e) => format!(
                "Le fichier n'a pas pu être lu ({e}). Vérifiez qu'il est complet et lisible, \
                 puis déposez-le à nouveau."
            ),
            FluxError::Xml { at, detail } => format!(
                "Le fichier n'est pas un XML bien formé (vers l'octet {at} : {detail}). \
                 Régénérez-le depuis l'application émettrice."
            ),
            FluxError::Doctype { at } => format!(
                "Le fichier contient une déclaration DOCTYPE (vers l'octet {at}), que Passerelle \
                 refuse par sécurité. Un flux PES ou @CTES n'en contient pas : régénérez-le."
            ),
            FluxError::LateDeclaration { at } => format!(
                "La déclaration XML (<?xml …?>) n'est pas au début du fichier (octet {at}). \
                 Régénérez le fichier."
            ),
            FluxError::Encoding { name } => format!(
                "L'encodage « {name} » n'est pas pris en charge. Utilisez UTF-8 ou ISO-8859-1."
            ),
            FluxError::TooDeep { path, max } => format!(
                "Les éléments sont imbriqués sur plus de {max} niveaux ({path}) : ce n'est pas \
                 la structure d'un flux. Vérifiez le fichier."
            ),
            FluxError::RunTooLong { at, max } => format!(
                "Une balise, un attribut ou un texte dépasse {max} octets (vers l'octet {at}) : \
                 seules les pièces jointes peuvent être aussi longues. Vérifiez le fichier."
            ),
            FluxError::NotPes { root } => format!(
                "Ce n'est pas un flux PES Aller : l'élément racine est « {root} » au lieu de \
                 « PES_Aller ». Déposez-le dans le dossier qui correspond à son type."
            ),
            FluxError::NotActes { root } => format!(
                "Ce n'est pas un document @CTES : l'élément racine est « {root} » au lieu de \
                 « EnveloppeCLMISILL », « Acte » ou « ARActe ». Déposez-le dans le dossier qui \
                 correspond à son type."
            ),
            FluxError::UnsafeEntry { name, why } => format!(
                "L'archive contient « {name} », alors que chaque entrée doit être {why}. \
                 Refaites l'archive avec les seuls fichiers de l'acte, à plat."
            ),
            FluxError::BundleTooLarge { name, max } => format!(
                "L'entrée « {name} » de l'archive dépasse la limite de {max} octets (taille \
                 annoncée, vérifiée avant lecture). Réduisez les annexes ou scindez l'envoi."
            ),
            FluxError::UnexpectedFile { name } => format!(
                "L'archive contient « {name} », que les métadonnées de l'acte ne nomment ni \
                 comme acte ni comme annexe. Retirez-le ou ajoutez-le aux annexes."
            ),
            FluxError::MissingFile { name } => format!(
                "Les métadonnées de l'acte nomment « {name} », absent de l'archive. Ajoutez ce \
                 fichier à l'archive."
            ),
            FluxError::Missing { path, what } => {
                format!("{what} manque dans {path}. Complétez-le dans l'application émettrice.")
            }
            FluxError::Invalid {
                path,
                value,
                expected,
            } => format!(
                "La valeur « {value} » de {path} n'est pas valide : {expected} est attendu. \
                 Corrigez-la dans l'application émettrice."
            ),
            FluxError::NoRoot => "Le fichier ne contient aucun élément XML : ce n'est pas un flux \
                                   que ce dépôt reçoit (PES V2 ou @CTES), ou il est vide. Vérifiez \
                                   le dossier de dépôt choisi par l'application."
                .to_owned(),
            FluxError::Truncated { path } => format!(
                "Le fichier s'arrête au milieu de {path} : il est incomplet. Déposez-le à nouveau \
                 une fois entièrement copié (écrivez-le sous un nom en .tmp puis renommez-le)."
            ),
            FluxError::PieceCount {
                bordereau,
                declared,
                found,
            } => format!(
                "Le bordereau {bordereau} annonce {declared} pièce(s) (NbrPce) mais en contient \
                 {found}. Corrigez le bordereau dans l'application émettrice."
            ),
            FluxError::TooMany { what, max } => format!(
                "Le fichier contient plus de {max} {what}, la limite de ce dossier de dépôt. \
                 Scindez-le en plusieurs flux."
            ),
            FluxError::AttachmentTooLarge { index, max } => format!(
                "La pièce jointe n° {} dépasse {max} octets, la limite de ce dossier de dépôt.",
                index + 1
            ),
            FluxError::Base64 { index, detail } => format!(
                "Le contenu de la pièce jointe n° {} n'est pas du base64 valide ({detail}). \
                 Régénérez le flux.",
                index + 1
            ),
        }
    }
}
