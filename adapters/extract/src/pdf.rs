//! PDF through `pdftotext` (Debian poppler-utils), confined as every child
//! parser is (`child`): its text read up to the cap, its failures told
//! apart (a password is `encrypted`).

use std::ffi::OsString;
use std::path::Path;

use passerelle_core::search::{Extraction, ExtractionStatus};

use crate::child::{self, Output, Sandbox};
use crate::limits::{Limits, TextSink, failed};

pub(crate) async fn extract(file: &Path, sandbox: &Sandbox, limits: &Limits) -> Extraction {
    let Some(pdftotext) = &sandbox.pdftotext else {
        return Extraction::not(
            ExtractionStatus::Unsupported,
            "pdftotext (poppler-utils) is not installed",
        );
    };
    // No `-q`: its stderr gives the reason of a failure.
    let args: [OsString; 4] = ["-enc".into(), "UTF-8".into(), file.into(), "-".into()];
    match child::run(pdftotext, &args, sandbox, limits).await {
        Ok(out) if out.capped || out.status.success() => text(&out, limits),
        Ok(out) => refused(&out),
        Err(e) => failed(format!("pdftotext: {e}")),
    }
}

fn text(out: &Output, limits: &Limits) -> Extraction {
    let text = child::utf8(&out.stdout, out.capped);
    let mut sink = TextSink::new(limits.max_text);
    // pdftotext ends each page with a form feed.
    sink.push(&text.replace('\x0c', "\n"));
    let done = sink.finish();
    if done.status == ExtractionStatus::Empty {
        return Extraction::not(ExtractionStatus::Empty, "no text layer (a scan?)");
    }
    done
}

/// A failed run: a password is `encrypted`, anything else `failed` with
/// pdftotext's own words.
fn refused(out: &Output) -> Extraction {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = child::telling_line(&out.stderr);
    let encrypted = stderr.contains("Incorrect password")
        || stderr.contains("ncrypted")
        || out.status.code() == Some(3);
    if encrypted {
        return Extraction::not(ExtractionStatus::Encrypted, format!("pdftotext: {line}"));
    }
    let how = child::how(out.status);
    if line.is_empty() {
        failed(format!("pdftotext: {how}"))
    } else {
        failed(format!("pdftotext: {how}: {line}"))
    }
}
