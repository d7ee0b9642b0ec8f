//! String interning: events are kept as small integer records during a scan.

use std::collections::HashMap;

/// Longest string kept whole (bytes); longer ones (a 900 KB user agent) are cut on a
/// character boundary and end in [`TRUNCATED`]. Memory must not follow attacker-controlled
/// field sizes.
pub const MAX_STRING_BYTES: usize = 1024;
/// Total bytes of distinct strings kept (each is stored twice: map key and table); past it,
/// new strings all become [`OVER_BUDGET`].
pub const MAX_TOTAL_BYTES: usize = 256 << 20;
/// Ends a truncated string.
pub const TRUNCATED: &str = "…[truncated]";
/// Stands for every new string once the budget is spent.
pub const OVER_BUDGET: &str = "[string budget exhausted]";

/// Interned strings; index 0 is reserved for "none".
#[derive(Debug)]
pub struct Interner {
    map: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
    bytes: usize,
    budget: usize,
    /// Strings cut to [`MAX_STRING_BYTES`].
    pub truncated: u64,
    /// Strings replaced by [`OVER_BUDGET`].
    pub over_budget: u64,
}

impl Default for Interner {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            strings: vec!["".into()],
            bytes: 0,
            budget: MAX_TOTAL_BYTES,
            truncated: 0,
            over_budget: 0,
        }
    }
}

impl Interner {
    /// An interner keeping at most `budget` bytes of distinct strings.
    pub fn with_budget(budget: usize) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let cut;
        let s = if s.len() > MAX_STRING_BYTES {
            self.truncated += 1;
            let mut end = MAX_STRING_BYTES - TRUNCATED.len();
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            cut = format!("{}{TRUNCATED}", s.get(..end).unwrap_or_default());
            if let Some(&i) = self.map.get(cut.as_str()) {
                return i;
            }
            cut.as_str()
        } else {
            s
        };
        let s = if self.bytes + s.len() > self.budget {
            self.over_budget += 1;
            if let Some(&i) = self.map.get(OVER_BUDGET) {
                return i;
            }
            OVER_BUDGET
        } else {
            s
        };
        self.bytes += s.len();
        let i = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.strings.push(s.into());
        self.map.insert(s.into(), i);
        i
    }

    pub fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(0, |s| self.id(s))
    }

    pub fn get(&self, i: u32) -> &str {
        self.strings.get(i as usize).map_or("", |s| s)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }
}

/// Event ids stored back to back: one allocation for millions of ids.
#[derive(Debug, Default)]
pub struct IdArena {
    bytes: String,
    ends: Vec<u64>,
}

impl IdArena {
    pub fn push(&mut self, id: &str) -> u32 {
        self.bytes.push_str(id);
        self.ends.push(self.bytes.len() as u64);
        u32::try_from(self.ends.len() - 1).unwrap_or(u32::MAX)
    }

    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0) as usize
        };
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        self.bytes.get(start..end).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn long_strings_are_truncated_and_counted() {
        let mut i = Interner::default();
        let ua = "é".repeat(450_000); // a 900 KB user agent
        let a = i.id(&ua);
        assert!(i.get(a).len() <= MAX_STRING_BYTES);
        assert!(i.get(a).ends_with(TRUNCATED));
        assert_eq!(i.truncated, 1);
        // The same long value again is the same id; a short one is kept whole.
        assert_eq!(i.id(&ua), a);
        let short = i.id("aws-cli/2.15");
        assert_eq!(i.get(short), "aws-cli/2.15");
    }

    #[test]
    fn the_total_is_bounded() {
        let mut i = Interner::with_budget(1 << 20);
        let mut n = 0u64;
        while i.over_budget == 0 {
            i.id(&format!("{n:0>1000}"));
            n += 1;
        }
        let before = i.len();
        for k in 0..100 {
            let id = i.id(&format!("new-{k:0>1000}"));
            assert_eq!(i.get(id), OVER_BUDGET);
        }
        assert_eq!(i.len(), before, "no new strings past the budget");
        assert_eq!(i.over_budget, 101);
    }
}
