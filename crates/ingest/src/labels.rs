//! Label files for backtests. Columns are found by header name, so the labels shipped with
//! public datasets and those written by `tripline simulate` read as they are.
//!
//! Documented format (CSV, or JSON: an array of objects with the same keys):
//! - event level: `event_id,label[,category]`
//! - incident level: `identity,start,end,label[,category]` (RFC 3339 times, inclusive)
//!
//! Accepted aliases: `eventID`/`auditID` for `event_id`, `identity_arn` for `identity`,
//! `stratus_technique`/`technique` for `category`. `label` is `malicious`, `benign`, or any other
//! name, counted on its own. A feedback store (`tripline feedback`, JSON Lines) also reads as
//! labels: true positive → malicious, false positive → benign, accepted risk → its own label.

use std::path::Path;
use tripline_model::{Incident, Label, Labels, Timestamp};

/// Why a label file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Format(String, String),
}

fn col(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

/// Reads one label file into `labels`; returns how many labels it held.
pub fn read(path: &Path, labels: &mut Labels) -> Result<usize, LabelError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LabelError::Io(origin.clone(), e))?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{')) {
        // A feedback store (JSON Lines of analyst verdicts).
        let text = String::from_utf8_lossy(&bytes);
        let fb = crate::feedback::parse(&text, &origin)
            .map_err(|e| LabelError::Format(origin.clone(), e.to_string()))?;
        crate::feedback::into_labels(&fb, labels);
        return Ok(fb.len());
    }
    let rows: Vec<Vec<(String, String)>> = if matches!(first, Some(b'[')) {
        let v: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(&bytes)
            .map_err(|e| {
                LabelError::Format(
                    origin.clone(),
                    format!("not a json array of label objects: {e}"),
                )
            })?;
        v.into_iter()
            .map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                    .collect()
            })
            .collect()
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(bytes.as_slice());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| LabelError::Format(origin.clone(), e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| LabelError::Format(origin.clone(), e.to_string()))?;
            rows.push(
                header
                    .iter()
                    .cloned()
                    .zip(rec.iter().map(str::to_string))
                    .collect(),
            );
        }
        rows
    };
    let Some(first_row) = rows.first() else {
        return Ok(0);
    };
    let header: Vec<String> = first_row.iter().map(|(k, _)| k.clone()).collect();
    let label_col = col(&header, &["label"])
        .ok_or_else(|| LabelError::Format(origin.clone(), "no `label` column".into()))?;
    let cat_col = col(&header, &["category", "stratus_technique", "technique"]);
    let event_col = col(&header, &["event_id", "eventID", "auditID", "eventid"]);
    let ident_col = col(&header, &["identity", "identity_arn"]);
    let (start_col, end_col) = (col(&header, &["start"]), col(&header, &["end"]));
    let get = |row: &Vec<(String, String)>, i: Option<usize>| {
        i.and_then(|i| row.get(i))
            .map(|(_, v)| v.trim().to_string())
    };
    let mut n = 0;
    for (line, row) in rows.iter().enumerate() {
        let label = Label::parse(&get(row, Some(label_col)).unwrap_or_default());
        let category = get(row, cat_col).filter(|c| !c.is_empty());
        if let Some(id) = get(row, event_col).filter(|s| !s.is_empty()) {
            labels.events.insert(id, (label, category));
            n += 1;
        } else if let (Some(identity), Some(start), Some(end)) =
            (get(row, ident_col), get(row, start_col), get(row, end_col))
        {
            let parse = |s: &str| {
                Timestamp::parse(s).ok_or_else(|| {
                    LabelError::Format(
                        origin.clone(),
                        format!("row {}: {s:?} is not an RFC 3339 time", line + 2),
                    )
                })
            };
            labels.incidents.push(Incident {
                identity,
                start: parse(&start)?,
                end: parse(&end)?,
                label,
                category,
            });
            n += 1;
        } else {
            return Err(LabelError::Format(
                origin,
                format!("row {}: needs event_id, or identity+start+end", line + 2),
            ));
        }
    }
    Ok(n)
}
