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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_record_bytes: 1 << 20,
            max_document_bytes: 512 << 20,
            max_decompressed_bytes: 16 << 30,
            max_depth: 64,
        }
    }
}

/// Nesting depth of a JSON text, counting `{` and `[` outside strings. Stops early and returns
/// `limit + 1` once the limit is passed, so a hostile input costs no more than it must.
pub fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
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

#[cfg(test)]
mod tests {
    use super::*;

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
