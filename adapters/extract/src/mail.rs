//! `.eml` messages: Subject, From, To and Date, then the inline text parts
//! (text/plain as is, text/html through the HTML stripper). Attachments are
//! not read: nested documents are not extracted (no nested archives).

use mail_parser::{Address, Message, MessageParser, PartType};
use passerelle_core::search::{Extraction, ExtractionStatus};
use tempfile::NamedTempFile;

use crate::extractor::read_whole;
use crate::limits::{Limits, TextSink};
use crate::markup::html_text;

pub(crate) fn extract(file: &NamedTempFile, limits: &Limits) -> Extraction {
    let bytes = match read_whole(file, limits.max_in_memory) {
        Ok(bytes) => bytes,
        Err(done) => return done,
    };
    let Some(message) = MessageParser::default().parse(&bytes) else {
        return Extraction::not(ExtractionStatus::Failed, "not a readable e-mail");
    };
    let mut sink = TextSink::new(limits.max_text);
    headers(&message, &mut sink);
    bodies(&message, &mut sink);
    sink.finish()
}

fn headers(message: &Message<'_>, sink: &mut TextSink) {
    if let Some(subject) = message.subject() {
        line(sink, "Subject", subject);
    }
    if let Some(from) = message.from() {
        line(sink, "From", &addresses(from));
    }
    if let Some(to) = message.to() {
        line(sink, "To", &addresses(to));
    }
    if let Some(date) = message.date() {
        line(sink, "Date", &date.to_rfc3339());
    }
}

fn line(sink: &mut TextSink, name: &str, value: &str) {
    sink.push(name);
    sink.push(": ");
    sink.push(value);
    sink.newline();
}

/// `Name <address>` for each, comma separated: both are searched for.
fn addresses(list: &Address<'_>) -> String {
    list.iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (Some(one), None) | (None, Some(one)) => one.to_owned(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn bodies(message: &Message<'_>, sink: &mut TextSink) {
    for i in 0..message.text_body_count() {
        let Some(part) = u32::try_from(i).ok().and_then(|i| message.text_part(i)) else {
            continue;
        };
        sink.newline();
        match &part.body {
            PartType::Text(text) => {
                sink.push(text);
            }
            PartType::Html(html) => html_text(html, sink),
            _ => {}
        }
        if sink.is_full() {
            return;
        }
    }
}
