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
