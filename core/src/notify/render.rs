//! The words of a notice, in the recipient's language: a subject, a plain
//! text body and a simple HTML one (no image, no script, no style sheet to
//! fetch), with links to the documents on the recipient's own node and an
//! unsubscribe link per space. Never the file itself.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::{EventKind, NoticeKind};
use crate::model::Language;

/// A thing an event is about, as a line of a notice names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    /// Its page on the recipient's node, if it still has one.
    pub url: Option<String>,
    /// What the author said of the version, if anything.
    pub comment: Option<String>,
}

/// One line: someone did something to some things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub actor: String,
    pub kind: EventKind,
    pub at: OffsetDateTime,
    /// Newest first; all of them (the text names the first few).
    pub items: Vec<Item>,
    /// Why an operation was refused (refusals only).
    pub reason: Option<String>,
}

/// The lines of one space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub space: String,
    pub url: Option<String>,
    pub unsubscribe: Option<String>,
    pub lines: Vec<Line>,
}

/// A notice's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Items a line names before "and N more".
const NAMED: usize = 5;

/// What someone did, in words ("a déposé 12 documents"), before the
/// names of what it was done to.
pub fn verb(kind: EventKind, lang: Language, count: usize) -> String {
    let many = count > 1;
    match (lang, kind) {
        (Language::Fr, EventKind::Added) if many => format!("a déposé {count} documents"),
        (Language::Fr, EventKind::Added) => "a déposé".into(),
        (Language::Fr, EventKind::NewVersion) if many => {
            format!("a déposé {count} nouvelles versions")
        }
        (Language::Fr, EventKind::NewVersion) => "a déposé une nouvelle version de".into(),
        (Language::Fr, EventKind::Changed) if many => format!("a modifié {count} documents"),
        (Language::Fr, EventKind::Changed) => "a modifié".into(),
        (Language::Fr, EventKind::Deleted) if many => {
            format!("a mis {count} éléments à la corbeille")
        }
        (Language::Fr, EventKind::Deleted) => "a mis à la corbeille".into(),
        (Language::Fr, EventKind::Restored) if many => format!("a restauré {count} éléments"),
        (Language::Fr, EventKind::Restored) => "a restauré".into(),
        (Language::Fr, EventKind::FolderAdded) if many => format!("a créé {count} dossiers"),
        (Language::Fr, EventKind::FolderAdded) => "a créé le dossier".into(),
        (Language::Fr, EventKind::Joined) => "a fait entrer dans l'espace".into(),
        (Language::Fr, EventKind::Left) => "a fait sortir de l'espace".into(),
        (Language::Fr, EventKind::Refused) if many => {
            format!("s'est vu refuser {count} opérations")
        }
        (Language::Fr, EventKind::Refused) => "s'est vu refuser une opération sur".into(),
        (Language::En, EventKind::Added) if many => format!("added {count} documents"),
        (Language::En, EventKind::Added) => "added".into(),
        (Language::En, EventKind::NewVersion) if many => format!("added {count} new versions"),
        (Language::En, EventKind::NewVersion) => "added a new version of".into(),
        (Language::En, EventKind::Changed) if many => format!("changed {count} documents"),
        (Language::En, EventKind::Changed) => "changed".into(),
        (Language::En, EventKind::Deleted) if many => format!("moved {count} items to the trash"),
        (Language::En, EventKind::Deleted) => "moved to the trash".into(),
        (Language::En, EventKind::Restored) if many => format!("restored {count} items"),
        (Language::En, EventKind::Restored) => "restored".into(),
        (Language::En, EventKind::FolderAdded) if many => format!("created {count} folders"),
        (Language::En, EventKind::FolderAdded) => "created the folder".into(),
        (Language::En, EventKind::Joined) => "brought into the space".into(),
        (Language::En, EventKind::Left) => "took out of the space".into(),
        (Language::En, EventKind::Refused) if many => format!("had {count} operations refused"),
        (Language::En, EventKind::Refused) => "had an operation refused on".into(),
    }
}

/// "Paul Martin a déposé 12 documents : a.pdf, b.pdf… (et 7 autres)".
pub fn sentence(line: &Line, lang: Language) -> String {
    let mut s = format!("{} {}", line.actor, verb(line.kind, lang, line.items.len()));
    let names: Vec<String> = line
        .items
        .iter()
        .take(NAMED)
        .map(|i| match &i.comment {
            Some(c) => format!("{} (« {c} »)", i.name),
            None => i.name.clone(),
        })
        .collect();
    if !names.is_empty() {
        s.push_str(match (lang, line.items.len() > 1) {
            (Language::Fr, true) => " : ",
            (Language::En, true) => ": ",
            _ => " ",
        });
        s.push_str(&names.join(", "));
    }
    ending(&mut s, line, lang, |r| r.to_owned());
    s
}

/// What ends a line in both bodies: how many items it did not name, and
/// why a refused operation was refused (`show` escapes it for HTML).
fn ending(s: &mut String, line: &Line, lang: Language, show: impl Fn(&str) -> String) {
    let more = line.items.len().saturating_sub(NAMED);
    if more > 0 {
        let _ = match lang {
            Language::Fr => write!(s, " (et {more} autres)"),
            Language::En => write!(s, " (and {more} more)"),
        };
    }
    if let Some(r) = &line.reason {
        let _ = match lang {
            Language::Fr => write!(s, " — motif : {}", show(r)),
            Language::En => write!(s, " — reason: {}", show(r)),
        };
    }
}

fn subject(kind: NoticeKind, lang: Language, site: &str, sections: &[Section]) -> String {
    let what = match sections {
        [one] => one.space.clone(),
        _ => match lang {
            Language::Fr => format!("{} espaces", sections.len()),
            Language::En => format!("{} spaces", sections.len()),
        },
    };
    match (lang, kind) {
        // An invitation has its own words (`invitation`), never these.
        (Language::Fr, NoticeKind::Immediate | NoticeKind::Invitation) => {
            format!("[{site}] Nouveautés dans {what}")
        }
        (Language::Fr, NoticeKind::Daily) => format!("[{site}] Résumé du jour : {what}"),
        (Language::Fr, NoticeKind::Weekly) => format!("[{site}] Résumé de la semaine : {what}"),
        (Language::En, NoticeKind::Immediate | NoticeKind::Invitation) => {
            format!("[{site}] New in {what}")
        }
        (Language::En, NoticeKind::Daily) => format!("[{site}] Daily digest: {what}"),
        (Language::En, NoticeKind::Weekly) => format!("[{site}] Weekly digest: {what}"),
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_line(line: &Line, lang: Language) -> String {
    let mut s = format!(
        "{} {}",
        escape(&line.actor),
        escape(&verb(line.kind, lang, line.items.len()))
    );
    let links: Vec<String> = line
        .items
        .iter()
        .take(NAMED)
        .map(|i| {
            let name = match &i.url {
                Some(u) => format!("<a href=\"{}\">{}</a>", escape(u), escape(&i.name)),
                None => escape(&i.name),
            };
            match &i.comment {
                Some(c) => format!("{name} (« {} »)", escape(c)),
                None => name,
            }
        })
        .collect();
    if !links.is_empty() {
        s.push(' ');
        s.push_str(&links.join(", "));
    }
    ending(&mut s, line, lang, escape);
    s
}

/// The notice's words.
pub fn render(kind: NoticeKind, lang: Language, site: &str, sections: &[Section]) -> Rendered {
    let (open, leave, footer) = match lang {
        Language::Fr => (
            "Ouvrir l'espace",
            "Ne plus recevoir de messages pour cet espace",
            "Vous recevez ce message parce que vous êtes membre de ces espaces. Les documents restent dans l'espace : aucun fichier n'est joint.",
        ),
        Language::En => (
            "Open the space",
            "Stop e-mails about this space",
            "You receive this message as a member of these spaces. Documents stay in the space: no file is attached.",
        ),
    };
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html><html><body>");
    for sec in sections {
        let _ = writeln!(text, "== {} ==", sec.space);
        let _ = write!(html, "<h2>{}</h2><ul>", escape(&sec.space));
        for line in &sec.lines {
            let _ = writeln!(text, "- {}", sentence(line, lang));
            for i in line.items.iter().take(NAMED) {
                if let Some(u) = &i.url {
                    let _ = writeln!(text, "    {} : {u}", i.name);
                }
            }
            let _ = write!(html, "<li>{}</li>", html_line(line, lang));
        }
        html.push_str("</ul>");
        if let Some(u) = &sec.url {
            let _ = writeln!(text, "{open} : {u}");
            let _ = write!(html, "<p><a href=\"{}\">{open}</a></p>", escape(u));
        }
        if let Some(u) = &sec.unsubscribe {
            let _ = writeln!(text, "{leave} : {u}");
            let _ = write!(
                html,
                "<p><small><a href=\"{}\">{leave}</a></small></p>",
                escape(u)
            );
        }
        text.push('\n');
    }
    let _ = writeln!(text, "-- \n{footer}");
    let _ = write!(
        html,
        "<hr><p><small>{}</small></p></body></html>",
        escape(footer)
    );
    Rendered {
        subject: subject(kind, lang, site, sections),
        text,
        html,
    }
}

/// What an invitation e-mail says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationWords {
    /// The manager who invited.
    pub inviter: String,
    pub space: String,
    /// The link that accepts it, on the contractor's edge (the secret in
    /// its fragment).
    pub url: String,
    pub expires_at: OffsetDateTime,
}

/// The words of an invitation: who invites to what, the link, until when,
/// and that the link is personal (a contractor forwarding it hands over
/// the account).
pub fn invitation(lang: Language, site: &str, w: &InvitationWords) -> Rendered {
    let until = w.expires_at.date();
    let until = format!(
        "{:02}/{:02}/{}",
        until.day(),
        u8::from(until.month()),
        until.year()
    );
    let (subject, intro, open, personal) = match lang {
        Language::Fr => (
            format!(
                "[{site}] {} vous invite dans l'espace {}",
                w.inviter, w.space
            ),
            format!(
                "{} vous invite à travailler dans l'espace « {} ». Ouvrez le lien ci-dessous pour choisir votre mot de passe, avant le {until}.",
                w.inviter, w.space
            ),
            "Accepter l'invitation",
            "Ce lien est personnel : ne le transmettez pas. Si vous n'attendiez pas cette invitation, ignorez ce message.",
        ),
        Language::En => (
            format!(
                "[{site}] {} invites you to the space {}",
                w.inviter, w.space
            ),
            format!(
                "{} invites you to work in the space \"{}\". Open the link below to choose your password, before {until}.",
                w.inviter, w.space
            ),
            "Accept the invitation",
            "This link is personal: do not forward it. If you were not expecting this invitation, ignore this message.",
        ),
    };
    let text = format!("{intro}\n\n{open} : {}\n\n-- \n{personal}\n", w.url);
    let html = format!(
        "<!DOCTYPE html><html><body><p>{}</p><p><a href=\"{}\">{open}</a></p><hr><p><small>{}</small></p></body></html>",
        escape(&intro),
        escape(&w.url),
        escape(personal)
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// What an invitation's bodies become once sent or refused: the link was
/// a credential, and the outbox keeps no credential.
pub fn sent_invitation(lang: Language) -> &'static str {
    match lang {
        Language::Fr => "(lien d'invitation retiré de la boîte d'envoi après l'envoi)",
        Language::En => "(invitation link removed from the outbox once sent)",
    }
}
