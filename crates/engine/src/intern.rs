//! String interning: events are kept as small integer records during a scan.

use std::collections::HashMap;

/// Interned strings; index 0 is reserved for "none".
#[derive(Debug)]
pub struct Interner {
    map: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            strings: vec!["".into()],
        }
    }
}

impl Interner {
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
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
