//! Word 97–2003 (`.doc`) through Debian's `catdoc`, confined as every child
//! parser is (`child`): the same rlimits, network namespace, empty
//! environment, text cap and timeout as pdftotext. Its binary format is
//! parsed by nothing in this process.

use std::ffi::OsString;
use std::path::Path;

use passerelle_core::search::{Extraction, ExtractionStatus};

use crate::child::{self, Sandbox};
use crate::limits::{Limits, TextSink, failed};

pub(crate) async fn extract(file: &Path, sandbox: &Sandbox, limits: &Limits) -> Extraction {
    let Some(catdoc) = &sandbox.catdoc else {
        return Extraction::not(ExtractionStatus::Unsupported, "catdoc is not installed");
    };
    // `-d utf-8`: the output's charset, whatever the document's code page;
    // `-w`: no wrapping, so that a paragraph stays one line.
    let args: [OsString; 4] = ["-d".into(), "utf-8".into(), "-w".into(), file.into()];
    let out = match child::run(catdoc, &args, sandbox, limits).await {
        Ok(out) => out,
        Err(e) => return failed(format!("catdoc: {e}")),
    };
    if !out.capped && !out.status.success() {
        let line = child::telling_line(&out.stderr);
        let how = child::how(out.status);
        return if line.is_empty() {
            failed(format!("catdoc: {how}"))
        } else {
            failed(format!("catdoc: {how}: {line}"))
        };
    }
    let mut sink = TextSink::new(limits.max_text);
    // catdoc marks page breaks with a form feed.
    sink.push(&child::utf8(&out.stdout, out.capped).replace('\x0c', "\n"));
    sink.finish()
}
