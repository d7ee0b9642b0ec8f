//! Identity resolution and scoring.
