//! End-to-end checks of the simulator's output: formats, labels, incidents, determinism, volume.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use flate2::read::GzDecoder;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use tripline_model::Timestamp;
use tripline_sim::{simulate, Layout, SimConfig, SimSummary};

fn out_dir(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("tripline-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn small(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        days: 3,
        identities: 24,
        target_events: Some(12_000),
        accounts: 2,
        ..SimConfig::default()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    walk(dir, &mut v);
    v
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut s = Vec::new();
    GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut s)
        .unwrap();
    s
}

struct Label {
    label: String,
    category: String,
    identity: String,
    incident: String,
}

fn labels(dir: &Path) -> BTreeMap<String, Label> {
    let f = std::fs::File::open(dir.join("labels.csv")).unwrap();
    let mut lines = BufReader::new(f).lines();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "event_id,label,category,identity,incident"
    );
    let mut out = BTreeMap::new();
    for line in lines {
        let line = line.unwrap();
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols.len(), 5, "{line}");
        let prev = out.insert(
            cols[0].to_string(),
            Label {
                label: cols[1].into(),
                category: cols[2].into(),
                identity: cols[3].into(),
                incident: cols[4].into(),
            },
        );
        assert!(prev.is_none(), "duplicate event id {}", cols[0]);
    }
    out
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

const CT_FIELDS: [&str; 16] = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
];

fn check_record(r: &Value) -> (String, Timestamp) {
    for f in CT_FIELDS {
        assert!(r.get(f).is_some(), "missing {f} in {r}");
    }
    assert_eq!(r["eventVersion"], "1.08");
    assert_eq!(r["eventType"], "AwsApiCall");
    let cat = r["eventCategory"].as_str().unwrap();
    assert!(cat == "Management" || cat == "Data");
    assert_eq!(r["managementEvent"].as_bool().unwrap(), cat == "Management");
    let ui = &r["userIdentity"];
    match ui["type"].as_str().unwrap() {
        "IAMUser" => {
            assert!(ui["accessKeyId"].as_str().unwrap().starts_with("AKIA"));
            assert!(ui["principalId"].as_str().unwrap().starts_with("AIDA"));
            assert!(ui["arn"].as_str().unwrap().contains(":user/"));
        }
        "AssumedRole" => {
            assert!(ui["accessKeyId"].as_str().unwrap().starts_with("ASIA"));
            assert!(ui["arn"].as_str().unwrap().starts_with("arn:aws:sts::"));
            let issuer = &ui["sessionContext"]["sessionIssuer"];
            assert_eq!(issuer["type"], "Role");
            assert!(issuer["principalId"].as_str().unwrap().starts_with("AROA"));
            assert!(Timestamp::parse(
                ui["sessionContext"]["attributes"]["creationDate"]
                    .as_str()
                    .unwrap()
            )
            .is_some());
        }
        "AWSService" => assert!(ui["invokedBy"]
            .as_str()
            .unwrap()
            .ends_with(".amazonaws.com")),
        "WebIdentityUser" | "AWSAccount" => {}
        other => panic!("unexpected identity type {other}"),
    }
    if r.get("errorCode").is_some() {
        assert!(r["errorMessage"].is_string());
        assert!(r["responseElements"].is_null());
    }
    let id = r["eventID"].as_str().unwrap().to_string();
    assert!(is_uuid(&id), "{id}");
    let t = Timestamp::parse(r["eventTime"].as_str().unwrap()).unwrap();
    assert!(r["eventTime"].as_str().unwrap().ends_with('Z'));
    (id, t)
}

fn check_k8s(v: &Value) -> String {
    assert_eq!(v["kind"], "Event");
    assert_eq!(v["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(v["stage"], "ResponseComplete");
    for f in [
        "level",
        "auditID",
        "requestURI",
        "verb",
        "user",
        "sourceIPs",
        "userAgent",
        "objectRef",
        "responseStatus",
        "requestReceivedTimestamp",
        "stageTimestamp",
        "annotations",
    ] {
        assert!(v.get(f).is_some(), "missing {f} in {v}");
    }
    assert!(v["user"]["username"]
        .as_str()
        .unwrap()
        .starts_with("system:serviceaccount:"));
    let ts = v["requestReceivedTimestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2026-10-01T00:00:03.215240Z".len(), "{ts}");
    assert!(Timestamp::parse(ts).is_some());
    let decision = v["annotations"]["authorization.k8s.io/decision"]
        .as_str()
        .unwrap();
    assert!(decision == "allow" || decision == "forbid");
    assert_eq!(decision == "forbid", v["responseStatus"]["code"] == 403);
    v["auditID"].as_str().unwrap().to_string()
}

/// Reads every CloudTrail record and Kubernetes event; checks formats; returns their ids.
fn read_logs(dir: &Path, cfg: &SimConfig) -> (Vec<String>, Vec<String>) {
    let start = cfg.start;
    let end = Timestamp(start.0 + i64::from(cfg.days) * Timestamp::MS_PER_DAY);
    let mut ct = Vec::new();
    match cfg.layout {
        Layout::S3Tree => {
            let root = dir.join("cloudtrail").join("AWSLogs");
            for p in files(&root) {
                let rel: Vec<String> = p
                    .strip_prefix(&root)
                    .unwrap()
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                assert_eq!(rel.len(), 7, "{rel:?}");
                let (acct, region, name) = (&rel[0], &rel[2], &rel[6]);
                assert_eq!(rel[1], "CloudTrail");
                assert!(acct.len() == 12 && acct.chars().all(|c| c.is_ascii_digit()));
                let prefix = format!("{acct}_CloudTrail_{region}_{}{}{}T", rel[3], rel[4], rel[5]);
                assert!(name.starts_with(&prefix), "{name} vs {prefix}");
                assert!(name.ends_with(".json.gz"));
                let suffix = name
                    .trim_end_matches(".json.gz")
                    .rsplit('_')
                    .next()
                    .unwrap();
                assert!(
                    suffix.len() == 16 && suffix.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{suffix}"
                );
                let doc: Value = serde_json::from_slice(&gunzip(&p)).unwrap();
                let recs = doc["Records"].as_array().unwrap();
                assert!(!recs.is_empty());
                let mut last = Timestamp(i64::MIN);
                for r in recs {
                    let (id, t) = check_record(r);
                    assert!(t >= last, "records not sorted in {}", p.display());
                    assert!(t >= start && t < end);
                    last = t;
                    assert_eq!(r["recipientAccountId"].as_str().unwrap(), acct);
                    assert_eq!(r["awsRegion"].as_str().unwrap(), region);
                    ct.push(id);
                }
            }
        }
        Layout::JsonLines => {
            assert!(!dir.join("cloudtrail").exists());
            let body = gunzip(&dir.join("cloudtrail.jsonl.gz"));
            let mut last = Timestamp(i64::MIN);
            for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let r: Value = serde_json::from_slice(line).unwrap();
                let (id, t) = check_record(&r);
                assert!(t >= last);
                last = t;
                ct.push(id);
            }
        }
    }
    let mut k8s = Vec::new();
    if cfg.k8s {
        let body = gunzip(&dir.join("k8s-audit").join("audit.jsonl.gz"));
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).unwrap();
            k8s.push(check_k8s(&v));
        }
    }
    (ct, k8s)
}

fn check_incidents(dir: &Path, cfg: &SimConfig, s: &SimSummary, labels: &BTreeMap<String, Label>) {
    let start = cfg.start.0;
    let end = start + i64::from(cfg.days) * Timestamp::MS_PER_DAY;
    let learn_end = start + (end - start) * 2 / 3;
    let cats: BTreeSet<&str> = s.incidents.iter().map(|i| i.category.as_str()).collect();
    for c in [
        "stolen_key",
        "privilege_escalation",
        "enumeration_burst",
        "shared_across_env",
        "agent_out_of_task",
        "instance_credential_exfil",
        "k8s_token_theft",
        "scale_up",
    ] {
        assert!(cats.contains(c), "missing incident {c}: {cats:?}");
    }
    let mut per_incident: BTreeMap<&str, (u64, BTreeSet<&str>)> = BTreeMap::new();
    for l in labels.values() {
        if !l.incident.is_empty() {
            let e = per_incident.entry(l.incident.as_str()).or_default();
            e.0 += 1;
            e.1.insert(l.label.as_str());
        }
        if l.label == "malicious" {
            assert!(!l.incident.is_empty() && !l.category.is_empty());
        } else {
            assert_eq!(l.label, "benign");
        }
    }
    for inc in &s.incidents {
        assert!(
            inc.start.0 >= learn_end,
            "{} starts in the learning period",
            inc.id
        );
        assert!(
            inc.end.0 < end && inc.start <= inc.end,
            "{} outside range",
            inc.id
        );
        let (n, kinds) = per_incident
            .get(inc.id.as_str())
            .unwrap_or_else(|| panic!("no labelled events for {}", inc.id));
        assert_eq!(*n, inc.events);
        assert!(*n > 0);
        assert_eq!(kinds.len(), 1);
        assert!(kinds.contains(inc.label.as_str()));
        assert_eq!(inc.label == "malicious", inc.category != "scale_up");
        assert!(
            labels
                .values()
                .any(|l| l.incident == inc.id && l.identity == inc.identity)
                || inc.category == "scale_up"
        );
    }
    let malicious = labels.values().filter(|l| l.label == "malicious").count() as u64;
    assert_eq!(malicious, s.malicious_events);
    let csv = std::fs::read_to_string(dir.join("incidents.csv")).unwrap();
    assert!(csv.starts_with("incident,identity,start,end,label,category,description\n"));
    assert_eq!(csv.lines().count(), s.incidents.len() + 1);
}

fn check_no_markers(dir: &Path) {
    for p in files(dir) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "labels.csv" || name == "incidents.csv" {
            continue;
        }
        let body = if name.ends_with(".gz") {
            gunzip(&p)
        } else {
            std::fs::read(&p).unwrap()
        };
        let text = String::from_utf8(body).unwrap().to_ascii_lowercase();
        for marker in [
            "attacker",
            "malicious",
            "stratus",
            "sim-",
            "tripline",
            "incident",
            "exfil",
            "evil",
        ] {
            assert!(!text.contains(marker), "{marker} found in {}", p.display());
        }
    }
}

fn check_inventory(dir: &Path, cfg: &SimConfig) {
    let authz: Value = serde_json::from_slice(
        &std::fs::read(dir.join("inventory/authorization-details.json")).unwrap(),
    )
    .unwrap();
    for k in [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ] {
        assert!(authz[k].as_array().is_some_and(|a| !a.is_empty()), "{k}");
    }
    for r in authz["RoleDetailList"].as_array().unwrap() {
        assert!(r["RoleId"].as_str().unwrap().starts_with("AROA"));
        assert!(r["AssumeRolePolicyDocument"]["Statement"].is_array());
        assert!(r["RoleLastUsed"].is_object());
        assert!(r["InstanceProfileList"].is_array());
    }
    let mut admin = false;
    for p in authz["Policies"].as_array().unwrap() {
        let versions = p["PolicyVersionList"].as_array().unwrap();
        assert_eq!(
            versions
                .iter()
                .filter(|v| v["IsDefaultVersion"] == true)
                .count(),
            1
        );
        admin |= p["PolicyName"] == "AdministratorAccess";
    }
    assert!(admin);
    let report = std::fs::read_to_string(dir.join("inventory/credential-report.csv")).unwrap();
    let mut lines = report.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 22);
    assert_eq!(header[0], "user");
    assert_eq!(header[21], "cert_2_last_rotated");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 22));
    assert_eq!(rows[0][0], "<root_account>");
    assert!(
        rows.iter().any(|r| r[8] == "true" && r[13] == "true"),
        "no user with two active keys"
    );
    let old = Timestamp(cfg.start.0 - 365 * Timestamp::MS_PER_DAY);
    assert!(
        rows.iter()
            .any(|r| r[8] == "true" && Timestamp::parse(r[9]).is_some_and(|t| t < old)),
        "no key older than a year"
    );
    let owners = std::fs::read_to_string(dir.join("owners.yaml")).unwrap();
    assert!(owners.contains("\nowners:\n"));
    assert!(owners.contains("    class: agent\n"));
    assert!(owners.contains("    intent: \""));
    assert!(owners.contains("class: ci_cd"));
}

#[test]
fn output_is_complete_valid_and_labelled() {
    let cfg = small(11);
    let dir = out_dir("full");
    let s = simulate(&cfg, &dir).unwrap();
    let (ct, k8s) = read_logs(&dir, &cfg);
    assert_eq!(ct.len() as u64, s.cloudtrail_events);
    assert_eq!(k8s.len() as u64, s.k8s_events);
    assert_eq!(s.events, s.cloudtrail_events + s.k8s_events);
    assert!(s.k8s_events > 0);
    let labels = labels(&dir);
    assert_eq!(labels.len() as u64, s.events);
    for id in ct.iter().chain(k8s.iter()) {
        assert!(labels.contains_key(id), "event {id} has no label");
    }
    check_incidents(&dir, &cfg, &s, &labels);
    check_no_markers(&dir);
    check_inventory(&dir, &cfg);
    for f in &s.files {
        assert!(f.exists(), "{}", f.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let cfg = SimConfig {
        target_events: Some(6_000),
        days: 2,
        ..small(5)
    };
    let a = out_dir("det-a");
    let b = out_dir("det-b");
    let c = out_dir("det-c");
    simulate(&cfg, &a).unwrap();
    simulate(&cfg, &b).unwrap();
    simulate(
        &SimConfig {
            seed: 6,
            ..cfg.clone()
        },
        &c,
    )
    .unwrap();
    let fa = files(&a);
    let fb = files(&b);
    let rel = |root: &Path, v: &[PathBuf]| -> Vec<PathBuf> {
        v.iter()
            .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
            .collect()
    };
    assert_eq!(rel(&a, &fa), rel(&b, &fb));
    for (x, y) in fa.iter().zip(fb.iter()) {
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs",
            x.display()
        );
    }
    for f in [
        "labels.csv",
        "owners.yaml",
        "inventory/authorization-details.json",
    ] {
        assert_ne!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(c.join(f)).unwrap(),
            "{f}"
        );
    }
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn target_events_sets_the_volume() {
    let cfg = SimConfig {
        target_events: Some(30_000),
        days: 3,
        identities: 30,
        k8s: true,
        ..small(21)
    };
    let dir = out_dir("volume");
    let s = simulate(&cfg, &dir).unwrap();
    let err = (s.events as f64 - 30_000.0).abs() / 30_000.0;
    assert!(err < 0.08, "{} events for a target of 30000", s.events);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_lines_layout_and_no_extras() {
    let cfg = SimConfig {
        layout: Layout::JsonLines,
        k8s: false,
        incidents: false,
        days: 2,
        target_events: Some(5_000),
        ..small(3)
    };
    let dir = out_dir("jsonl");
    let s = simulate(&cfg, &dir).unwrap();
    let (ct, k8s) = read_logs(&dir, &cfg);
    assert!(k8s.is_empty());
    assert!(!dir.join("k8s-audit").exists());
    assert_eq!(ct.len() as u64, s.events);
    assert_eq!(s.malicious_events, 0);
    assert!(s.incidents.is_empty());
    let labels = labels(&dir);
    assert!(labels
        .values()
        .all(|l| l.label == "benign" && l.incident.is_empty()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rejects_bad_config() {
    let dir = out_dir("bad");
    assert!(simulate(
        &SimConfig {
            days: 0,
            ..SimConfig::default()
        },
        &dir
    )
    .is_err());
    assert!(simulate(
        &SimConfig {
            accounts: 0,
            ..SimConfig::default()
        },
        &dir
    )
    .is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
