//! The message catalogues (French by default, English) and the choice of
//! language for a request: the language saved on the user's account (chosen
//! in the page footer while logged in), else the `passerelle_lang` cookie
//! (the same choice made before logging in, on the login page), else
//! `Accept-Language`, else French.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::{HeaderMap, header};

/// Cookie holding the language the user chose.
pub const LANG_COOKIE: &str = "passerelle_lang";

const FR: &str = include_str!("../i18n/fr.txt");
const EN: &str = include_str!("../i18n/en.txt");

static FR_MAP: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(FR));
static EN_MAP: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| parse(EN));

/// A language of the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a logged-in user's request: their setting, else as
    /// [`Lang::of`].
    pub fn of_user(setting: Option<passerelle_core::model::Language>, headers: &HeaderMap) -> Lang {
        setting.map(Lang::from).unwrap_or_else(|| Lang::of(headers))
    }

    /// The language of a request: cookie, then `Accept-Language` (by
    /// q-value), then French.
    pub fn of(headers: &HeaderMap) -> Lang {
        cookie(headers, LANG_COOKIE)
            .and_then(Lang::parse)
            .or_else(|| accept_language(headers))
            .unwrap_or_default()
    }
}

/// A cookie's value from the request, if any.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let raw = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(f32, Lang)> = None;
    for item in raw.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(lang) = Lang::parse(primary)
            && q > 0.0
            && best.is_none_or(|(b, _)| q > b)
        {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

impl From<passerelle_core::model::Language> for Lang {
    fn from(l: passerelle_core::model::Language) -> Self {
        match l {
            passerelle_core::model::Language::Fr => Lang::Fr,
            passerelle_core::model::Language::En => Lang::En,
        }
    }
}

impl From<Lang> for passerelle_core::model::Language {
    fn from(l: Lang) -> Self {
        match l {
            Lang::Fr => passerelle_core::model::Language::Fr,
            Lang::En => passerelle_core::model::Language::En,
        }
    }
}

/// `key = text` lines; `#` starts a comment line.
fn parse(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// The catalogue of one language, handed to every template.
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    fn map(&self) -> &'static HashMap<&'static str, &'static str> {
        match self.lang {
            Lang::Fr => &FR_MAP,
            Lang::En => &EN_MAP,
        }
    }

    /// The text of `key`; a missing key shows itself (a test keeps the
    /// catalogues complete, so this is only a safety net).
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match self.map().get(key) {
            Some(v) => v,
            None => key,
        }
    }

    /// The text of `key`, if the catalogue has it.
    pub fn lookup(&self, key: &str) -> Option<&'static str> {
        self.map().get(key).copied()
    }

    /// The text of `key` with `{}` replaced by `arg`.
    pub fn f(&self, key: &str, arg: &dyn std::fmt::Display) -> String {
        self.s(key).replacen("{}", &arg.to_string(), 1)
    }

    /// The label of an error code from core, or a generic message.
    pub fn error(&self, code: &str) -> &'static str {
        self.lookup(&format!("error.{code}"))
            .or_else(|| self.lookup("error.generic"))
            .unwrap_or("error")
    }

    pub fn role(&self, role: passerelle_core::role::Role) -> &'static str {
        self.lookup(&format!("role.{}", role.as_str()))
            .unwrap_or("?")
    }
}

/// Every key of a catalogue (for the tests).
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let map: &HashMap<_, _> = match lang {
        Lang::Fr => &FR_MAP,
        Lang::En => &EN_MAP,
    };
    let mut k: Vec<_> = map.keys().copied().collect();
    k.sort_unstable();
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(name: &'static str, v: &'static str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_static(v));
        m
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        assert_eq!(keys(Lang::Fr), keys(Lang::En));
        assert!(keys(Lang::Fr).len() > 50);
    }

    #[test]
    fn french_is_the_default_and_accept_language_is_honoured_by_q_value() {
        assert_eq!(Lang::of(&HeaderMap::new()), Lang::Fr);
        assert_eq!(Lang::of(&h("accept-language", "en-GB,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::of(&h("accept-language", "en;q=0.5, fr-FR;q=0.8")),
            Lang::Fr
        );
        assert_eq!(Lang::of(&h("accept-language", "de, *;q=0.1")), Lang::Fr);
        assert_eq!(Lang::of(&h("accept-language", "en;q=0")), Lang::Fr);
    }

    #[test]
    fn the_language_cookie_wins_over_accept_language() {
        let mut m = h("accept-language", "fr");
        m.insert("cookie", HeaderValue::from_static("passerelle_lang=en"));
        assert_eq!(Lang::of(&m), Lang::En);
        m.insert("cookie", HeaderValue::from_static("passerelle_lang=xx"));
        assert_eq!(Lang::of(&m), Lang::Fr);
    }

    #[test]
    fn unknown_error_codes_get_the_generic_message() {
        let t = Tr::new(Lang::En);
        assert_eq!(t.error("no_such_code"), t.s("error.generic"));
        assert_ne!(t.error("name_taken"), t.s("error.generic"));
    }

    #[test]
    fn a_full_disk_is_explained_in_french_without_a_path() {
        let t = Tr::new(Lang::Fr);
        let said = t.error("storage_full");
        assert_ne!(said, t.s("error.generic"));
        assert!(said.contains("rien n'a été enregistré"), "{said}");
        assert!(!said.contains('/'), "{said}");
    }
}
