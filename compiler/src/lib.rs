//! termitec: the Termite Scheme compiler.
#![deny(clippy::unwrap_used)]

pub mod diag;
pub mod read;
