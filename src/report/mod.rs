//! Reports rendered from a [`crate::results::RunResult`]: pure byte producers, no I/O.

pub mod text;
