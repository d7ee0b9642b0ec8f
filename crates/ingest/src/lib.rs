//! Bounded readers.
