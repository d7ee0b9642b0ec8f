//! IAM policy documents → normalized [`Statement`]s.
//!
//! Documents arrive as JSON objects (current CLI output) or as URL-encoded JSON strings (the
//! raw IAM API and older CLI output). `Action`, `NotAction`, `Resource`, `NotResource` and the
//! values of `Principal` may be a string or a list; `Statement` may be one object or a list;
//! condition values may be strings, booleans, numbers or lists of those. All become lists of
//! strings.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tripline_model::Statement;

/// Key under which a `NotPrincipal` block is kept in [`Statement::principals`], as
/// `NotPrincipal` → `["AWS:arn:…", "Service:…"]`, since the model has no field for it.
pub const NOT_PRINCIPAL_KEY: &str = "NotPrincipal";

/// Parses a policy document (object, or URL-encoded / plain JSON string) into statements.
pub fn parse_document(doc: &Value) -> Result<Vec<Statement>, String> {
    match doc {
        Value::Object(map) => parse_object(map),
        Value::String(s) => {
            let text = decode_document_string(s)?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => parse_object(&map),
                Ok(_) => Err("policy document string does not hold a json object".into()),
                Err(e) => Err(format!("policy document string is not json: {e}")),
            }
        }
        Value::Null => Err("policy document is null".into()),
        other => Err(format!(
            "policy document is a {}, not an object",
            type_name(other)
        )),
    }
}

/// A document string is plain JSON (starts with `{`) or URL-encoded JSON (`%7B…`).
fn decode_document_string(s: &str) -> Result<String, String> {
    let trimmed = s.trim_start();
    if trimmed.starts_with('{') {
        return Ok(s.to_string());
    }
    percent_decode(s)
}

/// RFC 3986 percent-decoding (`%XX`); a `%` not followed by two hex digits is kept as is.
/// `+` is left alone: IAM encodes a space as `%20`, and `+` occurs literally in conditions.
pub fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                // Two hex digits: at most 255.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "url-decoded policy document is not utf-8".to_string())
}

fn parse_object(map: &Map<String, Value>) -> Result<Vec<Statement>, String> {
    match map.get("Statement") {
        Some(Value::Object(st)) => Ok(vec![parse_statement(st)?]),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, st)| match st {
                Value::Object(st) => {
                    parse_statement(st).map_err(|e| format!("Statement[{i}]: {e}"))
                }
                other => Err(format!(
                    "Statement[{i}] is a {}, not an object",
                    type_name(other)
                )),
            })
            .collect(),
        Some(other) => Err(format!(
            "Statement is a {}, not an object or list",
            type_name(other)
        )),
        None => Err("policy document has no Statement".into()),
    }
}

fn parse_statement(st: &Map<String, Value>) -> Result<Statement, String> {
    let allow = match st.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => true,
        Some(Value::String(e)) if e == "Deny" => false,
        Some(other) => {
            return Err(format!(
                "Effect must be \"Allow\" or \"Deny\", found {other}"
            ))
        }
        None => return Err("statement has no Effect".into()),
    };
    let sid = match st.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => return Err(format!("Sid is a {}, not a string", type_name(other))),
    };
    let mut principals = BTreeMap::new();
    if let Some(p) = st.get("Principal") {
        principals = parse_principals(p).map_err(|e| format!("Principal: {e}"))?;
    }
    if let Some(p) = st.get("NotPrincipal") {
        let not = parse_principals(p).map_err(|e| format!("NotPrincipal: {e}"))?;
        let flat = not
            .into_iter()
            .flat_map(|(k, vs)| vs.into_iter().map(move |v| format!("{k}:{v}")))
            .collect();
        principals.insert(NOT_PRINCIPAL_KEY.to_string(), flat);
    }
    Ok(Statement {
        sid,
        allow,
        actions: string_list(st, "Action")?,
        not_actions: string_list(st, "NotAction")?,
        resources: string_list(st, "Resource")?,
        not_resources: string_list(st, "NotResource")?,
        principals,
        conditions: match st.get("Condition") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(c) => parse_conditions(c).map_err(|e| format!("Condition: {e}"))?,
        },
    })
}

/// A string-or-list-of-strings field; absent or null → empty.
fn string_list(st: &Map<String, Value>, field: &str) -> Result<Vec<String>, String> {
    match st.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => strings(v).map_err(|e| format!("{field}: {e}")),
    }
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("list item is a {}, not a string", type_name(other))),
            })
            .collect(),
        other => Err(format!(
            "a {}, not a string or list of strings",
            type_name(other)
        )),
    }
}

/// `"*"` → `{"*": ["*"]}`; `{"AWS": "…" | […], "Service": …, "Federated": …}` → lists.
fn parse_principals(v: &Value) -> Result<BTreeMap<String, Vec<String>>, String> {
    match v {
        Value::String(s) if s == "*" => {
            Ok(BTreeMap::from([("*".to_string(), vec!["*".to_string()])]))
        }
        Value::String(s) => Err(format!("a plain string other than \"*\": {s:?}")),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                strings(v)
                    .map(|vs| (k.clone(), vs))
                    .map_err(|e| format!("{k}: {e}"))
            })
            .collect(),
        other => Err(format!("a {}, not \"*\" or an object", type_name(other))),
    }
}

/// `{operator: {key: value}}`, value string/bool/number/list → strings.
fn parse_conditions(v: &Value) -> Result<BTreeMap<String, BTreeMap<String, Vec<String>>>, String> {
    let Value::Object(ops) = v else {
        return Err(format!("a {}, not an object", type_name(v)));
    };
    let mut out = BTreeMap::new();
    for (op, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(format!("{op} is a {}, not an object", type_name(keys)));
        };
        let mut entry: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, val) in keys {
            let vals = condition_values(val).map_err(|e| format!("{op}.{key}: {e}"))?;
            entry.insert(key.clone(), vals);
        }
        out.insert(op.clone(), entry);
    }
    Ok(out)
}

fn condition_values(v: &Value) -> Result<Vec<String>, String> {
    fn scalar(v: &Value) -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(format!(
                "a {}, not a string, boolean or number",
                type_name(other)
            )),
        }
    }
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_values_become_lists_and_conditions_become_strings() {
        let doc = json!({
            "Version": "2012-10-17",
            "Statement": {
                "Sid": "One",
                "Effect": "Deny",
                "NotAction": "iam:*",
                "NotResource": ["arn:aws:s3:::a", "arn:aws:s3:::b"],
                "Condition": {
                    "Bool": {"aws:MultiFactorAuthPresent": false},
                    "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                    "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                    "Null": {"aws:TokenIssueTime": "true"}
                }
            }
        });
        let st = parse_document(&doc).unwrap();
        assert_eq!(st.len(), 1);
        let s = &st[0];
        assert!(!s.allow);
        assert_eq!(s.sid.as_deref(), Some("One"));
        assert_eq!(s.not_actions, ["iam:*"]);
        assert!(s.actions.is_empty());
        assert_eq!(s.not_resources.len(), 2);
        assert_eq!(
            s.conditions["Bool"]["aws:MultiFactorAuthPresent"],
            ["false"]
        );
        assert_eq!(
            s.conditions["NumericLessThan"]["aws:MultiFactorAuthAge"],
            ["3600"]
        );
        assert_eq!(
            s.conditions["StringEquals"]["aws:RequestedRegion"],
            ["us-east-1", "eu-west-1"]
        );
        assert_eq!(s.conditions["Null"]["aws:TokenIssueTime"], ["true"]);
    }

    #[test]
    fn url_encoded_documents_are_decoded() {
        // As the IAM API returns it (what older CLI versions printed).
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let st = parse_document(&Value::String(encoded.into())).unwrap();
        assert_eq!(st[0].principals["Service"], ["ec2.amazonaws.com"]);
        assert_eq!(st[0].actions, ["sts:AssumeRole"]);
        // A plain JSON string is read as is.
        let plain = r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get+Object","Resource":"*"}]}"#;
        assert_eq!(
            parse_document(&Value::String(plain.into())).unwrap()[0].actions,
            ["s3:Get+Object"]
        );
        assert_eq!(percent_decode("100%").unwrap(), "100%");
        assert_eq!(percent_decode("a%2").unwrap(), "a%2");
        assert_eq!(percent_decode("%C3%A9").unwrap(), "é");
        assert!(percent_decode("%FF").is_err());
    }

    #[test]
    fn principals_star_and_not_principal() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::1:root"]}, "Action": "s3:*"}
        ]});
        let st = parse_document(&doc).unwrap();
        assert_eq!(st[0].principals["*"], ["*"]);
        assert_eq!(
            st[1].principals[NOT_PRINCIPAL_KEY],
            ["AWS:arn:aws:iam::1:root"]
        );
    }

    #[test]
    fn malformed_documents_say_why() {
        let cases = [
            (json!(null), "null"),
            (json!([1]), "list"),
            (json!({"Version": "2012-10-17"}), "no Statement"),
            (json!({"Statement": [{"Action": "*"}]}), "no Effect"),
            (
                json!({"Statement": [{"Effect": "allow", "Action": "*"}]}),
                "Effect",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": 5}]}),
                "Action",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": ["a", 1]}]}),
                "Action",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": "me"}]}),
                "Principal",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Condition": {"Bool": 1}}]}),
                "Condition",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Condition": {"Bool": {"k": {}}}}]}),
                "Bool.k",
            ),
            (json!({"Statement": "x"}), "Statement"),
            (Value::String("%7Bnot json".into()), "not json"),
        ];
        for (doc, needle) in cases {
            let err = parse_document(&doc).unwrap_err();
            assert!(err.contains(needle), "{doc}: {err}");
        }
    }
}
