//! Caps that keep a hostile or broken input from exhausting memory or the stack.

use serde::{Deserialize, Serialize};

/// Bounds applied to every input. Exceeding one rejects the record (or the rest of a file)
/// with a reason; it never aborts the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest single record (one JSON line, or one element of a `Records` array), in bytes.
    pub max_record_bytes: usize,
    /// Largest whole-document input (a CloudTrail `{"Records":[…]}` file, an inventory file).
    pub max_document_bytes: usize,
    /// Most bytes decompressed from one file; the rest of the file is set aside.
    pub max_decompressed_bytes: u64,
    /// Deepest JSON nesting accepted in one record.
    pub max_depth: usize,
    /// How far after the wall clock an event may be dated (clock skew between log sources
    /// and this host) before it is rejected as `future_timestamp`, in seconds.
    pub max_future_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_record_bytes: 1 << 20,
            max_document_bytes: 512 << 20,
            max_decompressed_bytes: 16 << 30,
            max_depth: 64,
            max_future_secs: 15 * 60,
        }
    }
}

/// Nesting depth of a JSON text, counting `{` and `[` outside strings. Stops early once the limit
/// is passed, so a hostile input costs no more than it must. Inside strings it jumps to the next
/// quote or backslash with `memchr`: records are mostly string bytes, so this costs a fraction of
/// the parse that follows.
pub fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // Skip the string: find its closing quote, stepping over escapes.
                i += 1;
                loop {
                    let rest = bytes.get(i..).unwrap_or_default();
                    match memchr::memchr2(b'"', b'\\', rest) {
                        None => return false,
                        Some(k) => {
                            i += k;
                            if bytes.get(i) == Some(&b'\\') {
                                i += 2;
                            } else {
                                break;
                            }
                        }
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time definition the fast scan must agree with.
    fn reference(bytes: &[u8], limit: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in bytes {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        false
    }

    #[test]
    fn fast_scan_agrees_with_the_reference_on_tricky_inputs() {
        let alphabet = [b'{', b'}', b'[', b']', b'"', b'\\', b'a', b',', b':'];
        // Every string of length <= 7 over the alphabet, at limits 0..3 (about 5 million cases
        // is too many for a unit test: take every 7th).
        let mut n: u64 = 0;
        for len in 0..=7u32 {
            let total = (alphabet.len() as u64).pow(len);
            let mut k = 0;
            while k < total {
                let mut x = k;
                let s: Vec<u8> = (0..len)
                    .map(|_| {
                        let c = alphabet[(x % alphabet.len() as u64) as usize];
                        x /= alphabet.len() as u64;
                        c
                    })
                    .collect();
                for limit in 0..3 {
                    assert_eq!(
                        json_depth_exceeds(&s, limit),
                        reference(&s, limit),
                        "{:?} {limit}",
                        String::from_utf8_lossy(&s)
                    );
                }
                n += 1;
                k += if len < 6 { 1 } else { 7 };
            }
        }
        assert!(n > 100_000);
    }

    #[test]
    fn depth_counts_structure_not_strings() {
        assert!(!json_depth_exceeds(
            br#"{"a":{"b":[1,2,{"c":"[[[[[[[["}]}}"#,
            4
        ));
        assert!(json_depth_exceeds(br#"{"a":{"b":[1,2,{"c":"x"}]}}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a":"\"{{{{"}"#, 1));
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert!(json_depth_exceeds(deep.as_bytes(), 64));
    }
}
