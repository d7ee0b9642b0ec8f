//! Organisation simulator.
