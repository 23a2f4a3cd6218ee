//! PDFs for the corpus, written with `pdf-writer` as the extraction
//! adapter's tests write theirs: Helvetica in WinAnsi (Windows-1252, what
//! `pdftotext` reads back, accents included), uncompressed content
//! streams, about 50 lines of 90 characters a page.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const LINE: usize = 90;
const LINES_PER_PAGE: usize = 50;

/// A PDF whose pages show `text`, broken into lines at spaces.
pub fn render(text: &str) -> Vec<u8> {
    let lines = wrap(text);
    let pages: Vec<&[String]> = lines.chunks(LINES_PER_PAGE).collect();
    let n = pages.len().max(1);
    // Objects: 1 catalog, 2 page tree, 3 font, then page i is 4 + 2i and
    // its content 5 + 2i.
    let (catalog, tree, font) = (Ref::new(1), Ref::new(2), Ref::new(3));
    let page_ref = |i: usize| Ref::new(4 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(5 + 2 * i as i32);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids((0..n).map(page_ref)).count(n as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for i in 0..n {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(content_ref(i));
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        let mut content = Content::new();
        content.begin_text();
        content.set_font(Name(b"F1"), 9.0);
        content.next_line(40.0, 800.0);
        for line in pages.get(i).copied().unwrap_or_default() {
            let (winansi, _, _) = encoding_rs::WINDOWS_1252.encode(line);
            content.show(Str(&winansi));
            content.next_line(0.0, -11.0);
        }
        content.end_text();
        pdf.stream(content_ref(i), &content.finish());
    }
    pdf.finish()
}

fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split("\n\n") {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.len() + word.len() + 1 > LINE {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines.push(String::new());
    }
    lines
}
