//! What the readers admit as events after parsing: each event id once (within and across the
//! inputs of one read), and no event from the future.
//!
//! - **Duplicates.** The same record read twice (the same logs given twice, a file reachable by
//!   two paths, an overlapping export) is counted in [`ReadStats::duplicate_events`] and not
//!   handed on again. Two records with one id but different content are a conflict: the first
//!   is kept, the later ones are rejected as [`RejectReason::DuplicateIdConflict`]. Memory is
//!   bounded per event: 16 bytes of hashes (id → content), not the records.
//! - **Clock.** An event more than [`Limits::max_future_secs`] after the wall clock is rejected
//!   as [`RejectReason::FutureTimestamp`], so one record dated 9999 cannot move the scan's
//!   clock (the latest event time) and age every key by millennia.

use crate::logs::ReadStats;
use crate::Limits;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use tripline_model::{Event, RejectReason, Timestamp};

/// The verdict on one parsed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admit {
    New,
    /// Same id, same content as an event already admitted.
    Duplicate,
    /// Rejected, with the reason and its detail.
    Reject(RejectReason, String),
}

/// State of one read (all its files).
#[derive(Debug, Default)]
pub(crate) struct Admission {
    /// Hash of (source, id) → hash of the event's content.
    seen: HashMap<u64, u64, BuildHasherDefault<DefaultHasher>>,
    /// Latest event time accepted: wall clock + tolerance (ms).
    latest_ms: Option<i64>,
}

impl Admission {
    /// `now`: the wall clock (`None`: read it now).
    pub(crate) fn new(limits: &Limits, now: Option<Timestamp>) -> Self {
        let now = now.unwrap_or_else(wall_clock);
        let tolerance =
            i64::try_from(limits.max_future_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        Self {
            seen: HashMap::default(),
            latest_ms: Some(now.0.saturating_add(tolerance)),
        }
    }

    pub(crate) fn check(&mut self, ev: &Event) -> Admit {
        if let Some(latest) = self.latest_ms {
            if ev.time.0 > latest {
                return Admit::Reject(
                    RejectReason::FutureTimestamp,
                    format!(
                        "event time {} is after {} (the wall clock plus the --max-future-secs tolerance); the scan's clock ignores it",
                        ev.time,
                        Timestamp(latest)
                    ),
                );
            }
        }
        let mut h = DefaultHasher::new();
        ev.source.hash(&mut h);
        ev.id.hash(&mut h);
        let id = h.finish();
        // What makes two records the same call: when, who with which key, what on which
        // resource, from where, and how it ended. (Hashing the whole serialized event cost
        // about 4 µs per event, more than parsing it.)
        let mut h = DefaultHasher::new();
        ev.time.0.hash(&mut h);
        ev.action.hash(&mut h);
        ev.actor.arn.hash(&mut h);
        ev.actor.access_key_id.hash(&mut h);
        ev.resource.hash(&mut h);
        ev.source_ip.hash(&mut h);
        ev.user_agent.hash(&mut h);
        ev.region.hash(&mut h);
        ev.account.hash(&mut h);
        ev.error_code.hash(&mut h);
        ev.techniques.bits().hash(&mut h);
        let content = h.finish();
        match self.seen.get(&id) {
            None => {
                self.seen.insert(id, content);
                Admit::New
            }
            Some(c) if *c == content => Admit::Duplicate,
            Some(_) => Admit::Reject(
                RejectReason::DuplicateIdConflict,
                format!(
                    "event id {:?} was already read with different content; the first record is kept",
                    ev.id
                ),
            ),
        }
    }
}

fn wall_clock() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(ms)
}

/// Counts a duplicate (for the caller's summary).
pub(crate) fn count_duplicate(stats: &mut ReadStats) {
    stats.duplicate_events += 1;
}
