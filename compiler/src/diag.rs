//! Diagnostics: errors as values with spans, rendered with the offending
//! source line as `FILE:LINE:COLUMN`.

use crate::read::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

/// The source files of one compilation; `Span::file` indexes it.
#[derive(Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> u32 {
        self.files.add(name.into(), text.into()) as u32
    }

    pub fn text(&self, file: u32) -> &str {
        self.files
            .get(file as usize)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    /// `FILE:LINE:COLUMN` of a span's start.
    pub fn location(&self, span: Span) -> String {
        let Ok(file) = self.files.get(span.file as usize) else {
            return "?".into();
        };
        let text = file.source();
        let lo = (span.lo as usize).min(text.len());
        let line = text[..lo].matches('\n').count() + 1;
        let col = lo - text[..lo].rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
        format!("{}:{line}:{col}", file.name())
    }

    /// Renders a diagnostic as text: a `FILE:LINE:COLUMN: error: …` line,
    /// then the source line with the span underlined.
    pub fn render(&self, d: &Diagnostic) -> String {
        let mut out = format!("{}: error: {}\n", self.location(d.span), d.message);
        let text_len = self
            .files
            .get(d.span.file as usize)
            .map(|f| f.source().len())
            .unwrap_or(0);
        let lo = (d.span.lo as usize).min(text_len);
        let hi = (d.span.hi as usize).clamp(lo, text_len);
        let text = self.text(d.span.file);
        let line_start = text[..lo].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[lo..].find('\n').map_or(text.len(), |i| lo + i);
        let hi_line_end = text[hi..].find('\n').map_or(text.len(), |i| hi + i);
        let hi_line_start = text[..hi].rfind('\n').map_or(0, |i| i + 1);
        if line_end - line_start > MAX_LINE_SHOWN || hi_line_end - hi_line_start > MAX_LINE_SHOWN {
            let at = self.location(d.span);
            out.push_str(&excerpt(
                text,
                &at,
                line_start,
                line_end,
                lo,
                hi.min(line_end),
            ));
            for n in &d.notes {
                out.push_str(&format!("  = {n}\n"));
            }
            return out;
        }
        let cs = CsDiagnostic::error()
            .with_message(&d.message)
            .with_labels(vec![Label::primary(d.span.file as usize, lo..hi)])
            .with_notes(d.notes.clone());
        let config = term::Config {
            chars: term::Chars::ascii(),
            ..Default::default()
        };
        if let Ok(body) = term::emit_into_string(&config, &self.files, &cs) {
            // Skip codespan's own first line, which repeats the message.
            out.push_str(body.split_once('\n').map(|x| x.1).unwrap_or(&body));
        }
        out
    }
}

/// Source lines longer than this are shown as a window around the error
/// (a generated program can have a line of a million characters).
const MAX_LINE_SHOWN: usize = 240;

/// A window of at most about `MAX_LINE_SHOWN` bytes of the line
/// `text[start..end]` around `lo..hi`, with the span underlined, in the
/// layout codespan uses for short lines, under `at` (`FILE:LINE:COLUMN`).
fn excerpt(text: &str, at: &str, start: usize, end: usize, lo: usize, hi: usize) -> String {
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let from = floor(lo.saturating_sub(MAX_LINE_SHOWN / 3).max(start));
    let to = floor((from + MAX_LINE_SHOWN).min(end));
    let hi = hi.clamp(lo, to);
    let line = text[..lo].matches('\n').count() + 1;
    let gutter = " ".repeat(line.to_string().len());
    let (pre, post) = (
        if from > start { "..." } else { "" },
        if to < end { "..." } else { "" },
    );
    let pad = pre.len() + text[from..lo].chars().count();
    let marks = text[lo..hi].chars().count().max(1);
    format!(
        "{gutter} --> {at}\n{gutter} |\n{line} | {pre}{}{post}\n{gutter} | {}{}\n{gutter} |\n",
        &text[from..to],
        " ".repeat(pad),
        "^".repeat(marks)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_as_a_window() {
        let text = format!("{}(x é) {}\n", "1 ".repeat(500_000), "2 ".repeat(500_000));
        let mut files = SourceMap::default();
        let file = files.add("long.scm", text.clone());
        let lo = text.find('(').unwrap() as u32;
        let d = Diagnostic::error(
            Span {
                file,
                lo,
                hi: lo + 6,
            },
            "bad",
        )
        .with_note("a note");
        let out = files.render(&d);
        assert!(out.len() < 1200, "{} bytes", out.len());
        assert!(out.starts_with("long.scm:1:1000001: error: bad\n  --> long.scm:1:1000001\n"));
        assert!(out.contains("1 1 (x é) 2 2"), "{out}");
        assert!(out.contains("  = a note"));
        // The marks sit under the span: as many as its characters.
        let lines: Vec<&str> = out.lines().collect();
        let (src, marks) = (lines[3], lines[4]);
        let col = src.chars().position(|c| c == '(').unwrap();
        assert_eq!(marks.chars().position(|c| c == '^'), Some(col));
        assert_eq!(marks.matches('^').count(), 5);
        // A short line is rendered by codespan as before.
        let short = files.add("short.scm", "(car)\n");
        let out = files.render(&Diagnostic::error(
            Span {
                file: short,
                lo: 0,
                hi: 5,
            },
            "bad",
        ));
        assert!(out.contains("1 | (car)\n  | ^^^^^\n"), "{out}");
    }
}
