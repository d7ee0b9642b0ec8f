//! Canonical JSON: the exact bytes a record body is hashed as.
//!
//! Object keys sorted by their UTF-8 bytes at every level, no whitespace, strings escaped as
//! `serde_json` escapes them (`\"`, `\\`, `\b \f \n \r \t`, other control characters as
//! `\u00xx`, everything else verbatim UTF-8), numbers as `serde_json` prints them. The result
//! never contains a raw newline, which keeps the hash input unambiguous (see [`crate::chain`]).
//! Key order is sorted here explicitly, so the result does not depend on whether some crate in
//! the build turns on `serde_json/preserve_order`.

use crate::StoreError;
use serde_json::Value;
use std::fmt::Write as _;

/// Bodies deeper than this are refused (every input is bounded; recursion stays shallow).
pub const MAX_DEPTH: usize = 128;

/// The canonical text of `value`.
pub fn canonical_json(value: &Value) -> Result<String, StoreError> {
    let mut out = String::with_capacity(256);
    write_value(value, &mut out, 0)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut String, depth: usize) -> Result<(), StoreError> {
    if depth > MAX_DEPTH {
        return Err(StoreError::BodyTooDeep(MAX_DEPTH));
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            // Writing to a String cannot fail.
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write_value(v, out, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

pub(crate) fn write_str(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => continue,
        };
        // `i` is the index of an ASCII byte, so both slices fall on char boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_recursively_without_whitespace() {
        let v = json!({"b": 1, "a": {"z": [3, {"y": null, "x": true}], "c": "d"}, "A": 1.5});
        assert_eq!(
            canonical_json(&v).unwrap(),
            r#"{"A":1.5,"a":{"c":"d","z":[3,{"x":true,"y":null}]},"b":1}"#
        );
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        for s in [
            "plain",
            "quote \" backslash \\ slash /",
            "nl\ncr\rtab\tbs\u{8}ff\u{c}",
            "ctl \u{1} \u{1f} del \u{7f}",
            "unicode é ✓ 😀 \u{2028}",
            "",
        ] {
            let mut out = String::new();
            write_str(s, &mut out);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
            assert!(!out.contains('\n'));
        }
    }

    #[test]
    fn numbers_print_as_serde_json_prints_them() {
        let v = json!([0, -1, u64::MAX, i64::MIN, 0.1, 1.0, 1e300, -2.5e-7]);
        assert_eq!(
            canonical_json(&v).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
    }

    #[test]
    fn depth_is_capped() {
        let mut v = json!(1);
        for _ in 0..=MAX_DEPTH {
            v = json!([v]);
        }
        assert!(matches!(
            canonical_json(&v),
            Err(StoreError::BodyTooDeep(_))
        ));
    }
}
