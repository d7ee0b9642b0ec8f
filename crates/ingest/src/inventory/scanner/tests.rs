use super::*;
use serde_json::json;

// Reports in the documented formats, written for these tests with made-up values (no real
// credential): `testdata/gitleaks.json`, `testdata/trufflehog.jsonl`.
const GITLEAKS: &str = include_str!("../testdata/gitleaks.json");
const TRUFFLEHOG: &str = include_str!("../testdata/trufflehog.jsonl");

const KEY1: &str = "AKIAQ7TRIPLINE0TEST1";
const SEC1: &str = "tR1pL1neFakeSecretKey0nly/ForTests+ab12Z";
const KEY2: &str = "ASIAQ7TRIPLINE0TEST2";
const SEC2: &str = "Zq9wFakeSessionSecret/NotReal+Tripline77";
const GHP: &str = "ghp_TriplineFake0000TestToken1234567890";
const C1: &str = "4f2a9c1e7b3d5a8f0c6e2b9d1a7f3c5e8b0d4a6c";
const C2: &str = "9e1b7d3f5a2c8e0b6d4f1a3c5e7b9d0f2a4c6e8b";

/// A secret planted in malformed entries: it must never come out.
const KNOWN: &str = "Tr1pl1neKnownSecret-9d8c7b6a5f4e3d2c";

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// Every secret value in the fixtures, with the key ids cut out (key ids are not secrets, and
/// are expected in the output).
fn fixture_secrets() -> Vec<String> {
    let mut values = vec![
        SEC1.to_string(),
        SEC2.to_string(),
        GHP.to_string(),
        KNOWN.into(),
    ];
    let gl: Vec<Map<String, Value>> = serde_json::from_str(GITLEAKS).unwrap();
    for f in &gl {
        for k in ["Secret", "Match"] {
            values.push(f[k].as_str().unwrap().to_string());
        }
    }
    for line in TRUFFLEHOG.lines() {
        let m: Map<String, Value> = serde_json::from_str(line).unwrap();
        if let Some(v) = m.get("RawV2").and_then(Value::as_str) {
            values.push(v.to_string());
        }
    }
    values
        .iter()
        .flat_map(|v| v.split(KEY1).flat_map(|p| p.split(KEY2)))
        .map(str::to_string)
        .filter(|p| p.chars().count() >= 12)
        .collect()
}

/// Fails if any secret, or any 12-character piece of one, is in `text`.
fn assert_no_secret(text: &str) {
    for s in fixture_secrets() {
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(12) {
            let piece: String = w.iter().collect();
            assert!(
                !text.contains(&piece),
                "secret piece {piece:?} leaked into output:\n{text}"
            );
        }
    }
}

fn all_output(r: &ScannerReport) -> String {
    format!(
        "{r:?}\n{}\n{}",
        serde_json::to_string(&r.leaked).unwrap(),
        serde_json::to_string(&r.rejected).unwrap()
    )
}

#[test]
fn detects_by_content() {
    assert_eq!(detect(GITLEAKS.as_bytes()), Some(Scanner::Gitleaks));
    assert_eq!(detect(TRUFFLEHOG.as_bytes()), Some(Scanner::Trufflehog));
    assert_eq!(detect(b" [ ]\n"), Some(Scanner::Gitleaks)); // no leaks
    assert_eq!(detect(b"[{\"UserDetailList\": []}]"), None);
    assert_eq!(detect(b"{\"UserDetailList\": []}"), None);
    assert_eq!(detect(b"{\n  \"DetectorName\": \"AWS\"\n}"), None); // not JSON Lines
    assert_eq!(detect(b"user,arn\n"), None);
    // trufflehog log lines before the first finding (stderr captured too).
    let logged = format!(
        "{}\n{}",
        r#"{"level":"info-0","ts":"2024-06-02T12:00:00Z","logger":"trufflehog","msg":"running source"}"#,
        TRUFFLEHOG
    );
    assert_eq!(detect(logged.as_bytes()), Some(Scanner::Trufflehog));
}

#[test]
fn gitleaks_fixture() {
    let r = parse_scanner_report(GITLEAKS.as_bytes(), "gitleaks.json").unwrap();
    assert_eq!(r.scanner, Scanner::Gitleaks);
    assert!(r.rejected.is_empty(), "{:#?}", r.rejected);
    assert_eq!(r.leaked.len(), 6);
    assert_eq!(r.duplicates, 0);

    let l = &r.leaked[0];
    assert_eq!(l.scanner, Scanner::Gitleaks);
    assert_eq!(l.rule, "aws-access-token");
    assert_eq!(l.aws_key_id.as_deref(), Some(KEY1));
    // For this rule the `Secret` is the key id, and so is what is fingerprinted.
    assert_eq!(l.fingerprint, fingerprint(KEY1));
    assert_eq!(
        l.location,
        format!("deploy/terraform/prod.tfvars:12 ({C1})")
    );
    assert_eq!(l.verified, None);
    assert_eq!(l.found_at, Some(ts("2024-03-01T10:17:40Z")));

    let secret_key = &r.leaked[1];
    assert_eq!(secret_key.rule, "generic-api-key");
    assert_eq!(secret_key.fingerprint, fingerprint(SEC1));
    assert_eq!(secret_key.aws_key_id, None);

    // The key id is in `Match`, next to the secret.
    let pair = &r.leaked[2];
    assert_eq!(pair.aws_key_id.as_deref(), Some(KEY2));
    assert_eq!(pair.fingerprint, fingerprint(SEC2));
    assert_eq!(pair.found_at, Some(ts("2024-04-11T06:02:05Z")));

    let pem = &r.leaked[4];
    assert_eq!(pem.rule, "private-key");
    assert_eq!(pem.location, "certs/legacy.pem:1"); // no commit: a directory scan
    assert_eq!(pem.found_at, None);

    // The same key in another commit: another finding, the same fingerprint.
    assert_eq!(r.leaked[5].fingerprint, l.fingerprint);
    assert_eq!(r.leaked[5].location, format!("docs/runbook.md:4 ({C2})"));

    assert_no_secret(&all_output(&r));
}

#[test]
fn trufflehog_fixture() {
    let r = parse_scanner_report(TRUFFLEHOG.as_bytes(), "trufflehog.jsonl").unwrap();
    assert_eq!(r.scanner, Scanner::Trufflehog);
    assert!(r.rejected.is_empty(), "{:#?}", r.rejected);
    assert_eq!(r.leaked.len(), 3);
    assert_eq!(r.duplicates, 1); // the same token through the BASE64 decoder
    assert_eq!(r.log_lines, 1);

    let aws = &r.leaked[0];
    assert_eq!(aws.scanner, Scanner::Trufflehog);
    assert_eq!(aws.rule, "AWS");
    assert_eq!(aws.aws_key_id.as_deref(), Some(KEY1));
    // `RawV2` is `id:secret`: the secret part is fingerprinted, and matches gitleaks' finding
    // of the same secret.
    assert_eq!(aws.fingerprint, fingerprint(SEC1));
    assert_eq!(aws.verified, Some(true));
    assert_eq!(
        aws.location,
        format!("deploy/terraform/prod.tfvars:12 ({C1})")
    );
    assert_eq!(aws.found_at, Some(ts("2024-03-01T10:17:40Z")));

    // Older releases: `RawV2` is the id and the secret run together.
    let old = &r.leaked[1];
    assert_eq!(old.aws_key_id.as_deref(), Some(KEY2));
    assert_eq!(old.fingerprint, fingerprint(SEC2));
    assert_eq!(old.location, "/srv/app/.aws/credentials:3");
    assert_eq!(old.verified, Some(false));
    assert_eq!(old.found_at, None);

    let gh = &r.leaked[2];
    assert_eq!(gh.rule, "Github");
    assert_eq!(gh.fingerprint, fingerprint(GHP));
    assert_eq!(gh.aws_key_id, None);

    assert_no_secret(&all_output(&r));
}

#[test]
fn fingerprints_are_stable_and_scanner_independent() {
    assert_eq!(
        fingerprint("abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(fingerprint("  abc\n"), fingerprint("abc"));
    let a = parse_scanner_report(GITLEAKS.as_bytes(), "g").unwrap();
    let b = parse_scanner_report(GITLEAKS.as_bytes(), "g").unwrap();
    assert_eq!(a, b);
    let t = parse_scanner_report(TRUFFLEHOG.as_bytes(), "t").unwrap();
    let gh_g = a.leaked.iter().find(|l| l.rule == "github-pat").unwrap();
    let gh_t = t.leaked.iter().find(|l| l.rule == "Github").unwrap();
    assert_eq!(gh_g.fingerprint, gh_t.fingerprint);
}

#[test]
fn aws_key_id_matcher() {
    assert_eq!(
        find_aws_key_id("id=AKIAQ7TRIPLINE0TEST1;").as_deref(),
        Some(KEY1)
    );
    assert_eq!(find_aws_key_id(KEY2).as_deref(), Some(KEY2));
    assert_eq!(find_aws_key_id("xAKIAQ7TRIPLINE0TEST1"), None); // inside a longer word
    assert_eq!(find_aws_key_id("AKIAQ7TRIPLINE0TEST1X"), None); // 21 characters
    assert_eq!(find_aws_key_id("AKIAq7tripline0test1"), None); // lower case
    assert_eq!(find_aws_key_id("AKIDQ7TRIPLINE0TEST1"), None);
    assert_eq!(find_aws_key_id("AKIAQ7TRIP"), None);
    assert_eq!(
        find_aws_key_id("AKIA AKIAQ7TRIPLINE0TEST1").as_deref(),
        Some(KEY1)
    );
    assert_eq!(
        find_aws_key_id("é AKIAQ7TRIPLINE0TEST1 é").as_deref(),
        Some(KEY1)
    );
    assert_eq!(find_aws_key_id(""), None);
}

#[test]
fn bad_gitleaks_entries_are_rejected_without_their_secrets() {
    let report = json!([
        {"RuleID": "generic-api-key", "Secret": KNOWN, "Match": format!("k={KNOWN}"),
         "File": "a.env", "StartLine": KNOWN},
        {"RuleID": "generic-api-key", "Match": format!("k={KNOWN}"), "File": "b.env"},
        {"RuleID": "generic-api-key", "Secret": "REDACTED", "Match": "k=REDACTED", "File": "c.env"},
        {"RuleID": "generic-api-key", "Secret": "Tr1pl1neKn...", "File": "d.env"},
        {"Secret": KNOWN, "File": "e.env"},
        KNOWN,
        {"RuleID": "slack-webhook-url", "Secret": "https://hooks.example.com/services/T0/B0/x",
         "File": "ok.txt", "StartLine": 2}
    ]);
    let r = parse_scanner_report(report.to_string().as_bytes(), "g.json").unwrap();
    assert_eq!(r.leaked.len(), 1);
    assert_eq!(r.leaked[0].location, "ok.txt:2");
    let pos: Vec<Option<u64>> = r.rejected.iter().map(|x| x.position).collect();
    assert_eq!(pos, [Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)]);
    assert!(r
        .rejected
        .iter()
        .all(|x| x.reason == RejectReason::InvalidRecord));
    assert!(r.rejected[0].detail.contains("`StartLine` is a string"));
    assert!(r.rejected[1].detail.contains("no `Secret`"));
    assert!(r.rejected[2].detail.contains("--redact"));
    assert!(r.rejected[3].detail.contains("--redact"));
    // Excerpts keep the shape and the harmless fields.
    assert!(r.rejected[0].excerpt.contains(r#""File":"a.env""#));
    assert!(r.rejected[0].excerpt.contains(r#""Secret":"[redacted]""#));
    assert_no_secret(&all_output(&r));
}

#[test]
fn bad_trufflehog_lines_are_rejected_without_their_secrets() {
    let good = TRUFFLEHOG.lines().next().unwrap();
    let lines = [
        good.to_string(),
        String::new(),
        format!(r#"{{"DetectorName":"Generic","Raw":"{KNOWN}","RawV2":"{KNOWN}"#), // cut short
        json!({"DetectorName": "Generic", "Raw": KNOWN, "ExtraData": KNOWN}).to_string(),
        json!({"DetectorName": "Generic", "Verified": KNOWN, "Raw": KNOWN}).to_string(),
        json!({"DetectorName": "Generic", "Raw": "", "RawV2": ""}).to_string(),
        json!({"Raw": KNOWN, "note": "no detector"}).to_string(),
        json!([KNOWN]).to_string(),
        json!({"DetectorName": "Generic", "Raw": KNOWN,
               "SourceMetadata": {"Data": {"Git": {"file": "x", "line": KNOWN}}}})
        .to_string(),
        json!({"DetectorName": "Generic", "Raw": KNOWN,
               "SourceMetadata": {"Data": {"Filesystem": {"file": "ok.txt", "line": 9}}}})
        .to_string(),
    ];
    let text = lines.join("\n");
    let r = parse_scanner_report(text.as_bytes(), "t.jsonl").unwrap();
    assert_eq!(r.leaked.len(), 2);
    assert_eq!(r.leaked[1].location, "ok.txt:9");
    assert_eq!(r.leaked[1].fingerprint, fingerprint(KNOWN));
    let got: Vec<(Option<u64>, RejectReason)> =
        r.rejected.iter().map(|x| (x.position, x.reason)).collect();
    assert_eq!(
        got,
        [
            (Some(3), RejectReason::NotJson),
            (Some(4), RejectReason::InvalidRecord),
            (Some(5), RejectReason::InvalidRecord),
            (Some(6), RejectReason::InvalidRecord),
            (Some(7), RejectReason::UnknownFormat),
            (Some(8), RejectReason::InvalidRecord),
            (Some(9), RejectReason::InvalidRecord),
        ]
    );
    assert_eq!(r.rejected[0].excerpt, "");
    assert_no_secret(&all_output(&r));
}

#[test]
fn aws_key_id_from_extra_data_and_session_keys() {
    let lines = [
        json!({"DetectorName": "CustomRegex", "Raw": KNOWN,
               "ExtraData": {"name": "aws-pair", "key_id": KEY1}}),
        json!({"DetectorName": "AWSSessionKey", "Raw": KEY2,
               "RawV2": format!("{KEY2}:{SEC2}:FwoGZXIvYXdzEFakeSessionToken")}),
        json!({"DetectorName": "AWS", "Raw": KEY1}), // no RawV2: only the id is known
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let r = parse_trufflehog(text.join("\n").as_bytes(), "t").unwrap();
    assert!(r.rejected.is_empty(), "{:#?}", r.rejected);
    assert_eq!(r.leaked[0].aws_key_id.as_deref(), Some(KEY1));
    assert_eq!(r.leaked[0].fingerprint, fingerprint(KNOWN));
    assert_eq!(r.leaked[0].location, "(unknown file)");
    assert_eq!(r.leaked[1].aws_key_id.as_deref(), Some(KEY2));
    assert_eq!(r.leaked[1].fingerprint, fingerprint(SEC2));
    assert_eq!(r.leaked[2].fingerprint, fingerprint(KEY1));
}

#[test]
fn git_timestamps() {
    let want = Some(ts("2024-03-01T10:17:40Z"));
    assert_eq!(parse_git_time("2024-03-01 11:17:40 +0100 +0100"), want);
    assert_eq!(parse_git_time("2024-03-01 11:17:40 +0100"), want);
    assert_eq!(parse_git_time("2024-03-01 10:17:40 +0000 UTC"), want);
    assert_eq!(parse_git_time("2024-03-01T10:17:40Z"), want);
    assert_eq!(parse_git_time("yesterday"), None);
}

#[test]
fn whole_file_errors() {
    let err = parse_scanner_report(b"not a report", "x").unwrap_err();
    assert_eq!(err.reason(), RejectReason::UnknownFormat);
    let err = parse_gitleaks(format!("[{{\"RuleID\": \"{KNOWN}").as_bytes(), "x").unwrap_err();
    assert_eq!(err.reason(), RejectReason::NotJson);
    assert!(!err.to_string().contains(KNOWN));
    let err = parse_scanner_report_with_cap(GITLEAKS.as_bytes(), "x", 10).unwrap_err();
    assert_eq!(err.reason(), RejectReason::TooLarge);
    let r = parse_scanner_report(b"[]", "empty.json").unwrap();
    assert!(r.leaked.is_empty() && r.rejected.is_empty());
}

#[test]
#[should_panic(expected = "leaked into output")]
fn the_leak_check_itself_catches_a_secret() {
    assert_no_secret(&format!("Location {{ note: \"{SEC1}\" }}"));
}
