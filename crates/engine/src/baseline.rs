//! Per-identity behaviour baseline, kept compact (fixed-size sets and Bloom filters, no heap) so
//! that millions of identities fit in memory: see the size test at the bottom.

/// A set of up to `N` hashes; once full it is *saturated* and stops reporting novelty (an
/// identity that varies this much has no stable baseline for the feature).
#[derive(Debug, Clone, Copy)]
pub struct SmallSet<const N: usize> {
    items: [u32; N],
    len: u8,
    saturated: bool,
}

impl<const N: usize> Default for SmallSet<N> {
    fn default() -> Self {
        Self {
            items: [0; N],
            len: 0,
            saturated: false,
        }
    }
}

impl<const N: usize> SmallSet<N> {
    pub fn contains(&self, h: u32) -> bool {
        self.items.iter().take(self.len as usize).any(|&x| x == h)
    }

    /// Inserts; returns true if the value was new *and* the set can judge novelty.
    pub fn insert(&mut self, h: u32) -> bool {
        if self.contains(h) {
            return false;
        }
        if (self.len as usize) < N {
            if let Some(slot) = self.items.get_mut(self.len as usize) {
                *slot = h;
            }
            self.len += 1;
            true
        } else {
            let was = self.saturated;
            self.saturated = true;
            !was
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.items.iter().take(self.len as usize).copied()
    }

    pub fn is_saturated(&self) -> bool {
        self.saturated
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A Bloom filter of `W` 64-bit words with two probes: membership with a small false-positive
/// rate (a false positive hides a novelty, never invents one).
#[derive(Debug, Clone, Copy)]
pub struct Bloom<const W: usize> {
    bits: [u64; W],
}

impl<const W: usize> Default for Bloom<W> {
    fn default() -> Self {
        Self { bits: [0; W] }
    }
}

impl<const W: usize> Bloom<W> {
    const BITS: u32 = (W * 64) as u32;

    fn probes(h: u32) -> [u32; 2] {
        let h2 = h.rotate_left(16).wrapping_mul(0x9e37_79b9) | 1;
        [h % Self::BITS, h2 % Self::BITS]
    }

    pub fn contains(&self, h: u32) -> bool {
        Self::probes(h).iter().all(|&p| {
            self.bits
                .get((p / 64) as usize)
                .is_some_and(|w| w & (1 << (p % 64)) != 0)
        })
    }

    /// Inserts; returns true when the value was not (apparently) present.
    pub fn insert(&mut self, h: u32) -> bool {
        let new = !self.contains(h);
        for p in Self::probes(h) {
            if let Some(w) = self.bits.get_mut((p / 64) as usize) {
                *w |= 1 << (p % 64);
            }
        }
        new
    }
}

/// One recent call, for burst and sequence windows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recent {
    /// Seconds since the baseline's first event.
    pub t: u32,
    pub action: u32,
    pub service: u32,
    /// bit 0 denied, bit 1 read call, bit 2 novel action, bit 3 novel transition.
    pub flags: u8,
}

pub const RECENT: usize = 24;

pub const F_DENIED: u8 = 1;
pub const F_READ: u8 = 2;
pub const F_NEW_ACTION: u8 = 4;
pub const F_NEW_TRANSITION: u8 = 8;

/// What an identity normally does.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub first: i64,
    pub last: i64,
    pub events: u32,
    pub denied: u32,
    pub nets_fine: SmallSet<16>,
    pub nets_coarse: SmallSet<12>,
    pub agents: SmallSet<8>,
    pub regions: SmallSet<8>,
    pub services: SmallSet<24>,
    pub accounts: SmallSet<4>,
    pub actions: Bloom<16>,
    pub transitions: Bloom<32>,
    pub prev_action: u32,
    /// Hourly volume: the hour being counted, its count, and EWMA mean/variance of active hours.
    pub hour: i64,
    pub hour_count: u32,
    pub hour_mean: f32,
    pub hour_var: f32,
    pub active_hours: u16,
    /// Novel features seen in the current hour (for telling scale-up from drift).
    pub hour_novel: u16,
    pub recent: [Recent; RECENT],
    pub recent_pos: u8,
}

impl Baseline {
    pub fn push_recent(&mut self, r: Recent) {
        if let Some(slot) = self.recent.get_mut(self.recent_pos as usize % RECENT) {
            *slot = r;
        }
        self.recent_pos = ((self.recent_pos as usize + 1) % RECENT) as u8;
    }

    /// Entries whose time is within `secs` of `now` (seconds since first), most recent first.
    pub fn recent_within(&self, now: u32, secs: u32) -> impl Iterator<Item = &Recent> {
        self.recent
            .iter()
            .filter(move |r| r.action != 0 && now.saturating_sub(r.t) <= secs && r.t <= now)
    }

    /// Closes the current hour into the EWMA of active hours.
    pub fn roll_hour(&mut self, hour: i64) {
        if self.hour_count > 0 {
            let x = self.hour_count as f32;
            if self.active_hours == 0 {
                self.hour_mean = x;
                self.hour_var = 0.0;
            } else {
                let alpha = 0.05f32.max(1.0 / f32::from(self.active_hours + 1));
                let d = x - self.hour_mean;
                self.hour_mean += alpha * d;
                self.hour_var = (1.0 - alpha) * (self.hour_var + alpha * d * d);
            }
            self.active_hours = self.active_hours.saturating_add(1);
        }
        self.hour = hour;
        self.hour_count = 0;
        self.hour_novel = 0;
    }

    /// The volume above which an hour is a spike.
    pub fn spike_threshold(&self) -> f32 {
        (self.hour_mean * 4.0)
            .max(self.hour_mean + 6.0 * self.hour_var.sqrt())
            .max(60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_state_stays_under_two_kib() {
        // The brief: under 2 KiB per identity with 100,000 identities. The struct has no heap.
        assert!(
            std::mem::size_of::<Baseline>() < 2048,
            "{}",
            std::mem::size_of::<Baseline>()
        );
    }

    #[test]
    fn small_sets_saturate_once() {
        let mut s = SmallSet::<2>::default();
        assert!(s.insert(1));
        assert!(!s.insert(1));
        assert!(s.insert(2));
        assert!(s.insert(3), "first overflow reports once");
        assert!(!s.insert(4));
        assert!(s.is_saturated());
    }

    #[test]
    fn bloom_remembers() {
        let mut b = Bloom::<4>::default();
        assert!(b.insert(12345));
        assert!(b.contains(12345));
        assert!(!b.insert(12345));
    }

    #[test]
    fn hourly_ewma_tracks_the_mean() {
        let mut b = Baseline::default();
        for h in 0..100 {
            b.hour_count = 10;
            b.roll_hour(h + 1);
        }
        assert!((b.hour_mean - 10.0).abs() < 0.01);
        assert!(b.spike_threshold() >= 60.0);
    }
}
