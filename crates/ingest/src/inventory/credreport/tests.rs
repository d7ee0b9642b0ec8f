use super::*;

/// A report in the documented format (AWS IAM user guide, "Getting credential reports"),
/// written for these tests: no real one is public.
const FIXTURE: &str = include_str!("../testdata/credential_report.csv");
const ACCOUNT: &str = "arn:aws:iam::123456789012";

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn row<'a>(r: &'a CredentialReport, user: &str) -> &'a CredentialReportRow {
    r.rows.iter().find(|r| r.user == user).unwrap()
}

#[test]
fn fixture_rows_are_typed() {
    let report = parse_credential_report(FIXTURE.as_bytes(), "credential_report.csv").unwrap();
    assert!(report.rejected.is_empty(), "{:#?}", report.rejected);
    assert_eq!(report.rows.len(), 8);
    assert_eq!(
        report.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6, 7, 8, 9]
    );

    let root = row(&report, ROOT_USER);
    assert!(root.is_root);
    assert_eq!(root.password_enabled, None); // not_supported
    assert_eq!(root.password_last_changed, Some(ReportTime::NotSupported));
    assert_eq!(
        root.password_last_used,
        Some(ReportTime::At(ts("2024-11-02T08:15:09Z")))
    );
    assert_eq!(root.mfa_active, Some(true));

    let legacy = row(&report, "legacy-backup");
    assert_eq!(
        legacy
            .access_keys
            .iter()
            .filter(|k| k.active == Some(true))
            .count(),
        2
    );
    let k2 = &legacy.access_keys[1];
    assert_eq!(k2.slot, 2);
    assert_eq!(k2.last_used, Some(ReportTime::NotApplicable)); // never used
    assert_eq!(k2.last_used_region, None);
    assert_eq!(
        legacy.access_keys[0].last_used_service.as_deref(),
        Some("s3")
    );

    let old = row(&report, "old-monitoring");
    assert_eq!(old.access_keys[0].active, Some(false));
    assert!(old.access_keys[0].exists());
    assert_eq!(
        old.access_keys[0].last_used,
        Some(ReportTime::NoInformation)
    );
    assert!(!old.access_keys[1].exists());

    assert!(row(&report, "alice").looks_human()); // console sign-in, no key
    assert!(row(&report, "bob").looks_human()); // MFA, no key, never signed in yet
    assert!(!row(&report, "build-bot").looks_human()); // password used, but an active key
    assert!(!row(&report, "ci-deployer").looks_human());
    assert!(!root.looks_human());
    assert!(row(&report, "saml-signer").certs[0].exists());
}

#[test]
fn merge_creates_credentials_and_identities() {
    let report = parse_credential_report(FIXTURE.as_bytes(), "credential_report.csv").unwrap();
    let known = format!("{ACCOUNT}:user/ci/ci-deployer");
    let mut ci = Identity::new(known.clone(), "ci-deployer", IdentityKind::ServiceAccount);
    ci.kind_from = Provenance::Inventory;
    ci.in_inventory = true;
    let mut identities = vec![ci];
    let summary = merge_into(&mut identities, &report.rows);
    assert_eq!(
        summary,
        MergeSummary {
            matched: 1,
            created: 7,
            marked_human: 2
        }
    );
    assert_eq!(identities.len(), 8);
    let get = |arn: &str| identities.iter().find(|i| i.id == arn).unwrap();

    let ci = get(&known);
    assert_eq!(ci.created, Some(ts("2020-06-15T12:00:00Z")));
    assert_eq!(ci.credentials.len(), 1);
    let key = &ci.credentials[0];
    assert_eq!(key.id, format!("{known}#access_key_1"));
    assert_eq!(key.kind, CredentialKind::AccessKey);
    assert_eq!(key.active, Some(true));
    assert_eq!(key.created, Some(ts("2020-06-15T12:05:00Z")));
    assert_eq!(key.last_rotated, Some(ts("2020-06-15T12:05:00Z")));
    assert_eq!(key.last_used, Some(ts("2025-01-12T03:14:00Z")));
    assert_eq!(key.last_used_region.as_deref(), Some("us-east-1"));
    assert_eq!(key.last_used_service.as_deref(), Some("cloudformation"));

    let root = get(&format!("{ACCOUNT}:root"));
    assert_eq!(
        (root.kind, root.name.as_str()),
        (IdentityKind::Root, "root")
    );
    assert_eq!(root.account.as_deref(), Some("123456789012"));
    assert!(root.credentials.is_empty()); // password_enabled is not_supported

    let alice = get(&format!("{ACCOUNT}:user/people/alice"));
    assert_eq!(
        (alice.kind, alice.kind_from),
        (IdentityKind::Human, Provenance::Inventory)
    );
    assert_eq!(alice.credentials.len(), 1);
    let pw = &alice.credentials[0];
    assert_eq!(
        (pw.id.as_str(), pw.kind),
        (
            "arn:aws:iam::123456789012:user/people/alice#password",
            CredentialKind::Password
        )
    );
    assert_eq!(pw.last_used, Some(ts("2025-01-10T16:42:11Z")));
    assert_eq!(pw.last_rotated, Some(ts("2024-12-01T09:00:00Z")));

    let legacy = get(&format!("{ACCOUNT}:user/legacy-backup"));
    assert_eq!(legacy.credentials.len(), 2);
    assert_eq!(legacy.credentials[1].last_used, None);
    assert!(legacy.credentials.iter().all(|c| c.active == Some(true)));

    let old = get(&format!("{ACCOUNT}:user/old-monitoring"));
    assert_eq!(old.credentials.len(), 1);
    assert_eq!(old.credentials[0].active, Some(false));
    assert_eq!(old.credentials[0].last_used, None); // no_information

    let bot = get(&format!("{ACCOUNT}:user/build-bot"));
    assert_eq!(bot.kind, IdentityKind::ServiceAccount);
    assert_eq!(
        bot.credentials.iter().map(|c| c.kind).collect::<Vec<_>>(),
        [CredentialKind::AccessKey, CredentialKind::Password]
    );

    let signer = get(&format!("{ACCOUNT}:user/saml-signer"));
    assert_eq!(signer.credentials[0].kind, CredentialKind::Certificate);
    assert_eq!(
        signer.credentials[0].id,
        format!("{ACCOUNT}:user/saml-signer#cert_1")
    );

    // Merging twice changes nothing; the owners file's kind is never overridden.
    let before = identities.clone();
    let again = merge_into(&mut identities, &report.rows);
    assert_eq!(
        again,
        MergeSummary {
            matched: 8,
            created: 0,
            marked_human: 0
        }
    );
    assert_eq!(identities, before);
    let mut owned = Identity::new(
        format!("{ACCOUNT}:user/people/bob"),
        "bob",
        IdentityKind::ServiceAccount,
    );
    owned.kind_from = Provenance::OwnersFile;
    let mut v = vec![owned];
    merge_into(&mut v, &report.rows);
    assert_eq!(v[0].kind, IdentityKind::ServiceAccount);
}

#[test]
fn columns_by_name_in_any_order_with_optional_ones_missing() {
    let csv =
        "\u{feff}arn,access_key_1_active,user,access_key_1_last_used_date,extra_future_column\n\
               arn:aws:iam::1:user/a, true ,a,2024-01-01T00:00:00+00:00,x\n\
               arn:aws:iam::1:user/svc/b,false,,N/A,y\n";
    let report = parse_credential_report(csv.as_bytes(), "r.csv").unwrap();
    // The missing documented columns are named once, as the header's rejection (issue 11:
    // they were dropped without a word); the rows are read.
    assert_eq!(report.rejected.len(), 1, "{:#?}", report.rejected);
    assert_eq!(report.rejected[0].position, Some(1));
    assert!(report.rejected[0].detail.contains("mfa_active"));
    assert!(report.rejected[0]
        .detail
        .contains("access_key_1_last_rotated"));
    assert!(!report.rejected[0].detail.contains("access_key_1_active,"));
    assert_eq!(report.rows.len(), 2);
    let a = &report.rows[0];
    assert_eq!(a.access_keys[0].active, Some(true));
    assert_eq!(
        a.access_keys[0].last_used,
        Some(ReportTime::At(ts("2024-01-01T00:00:00Z")))
    );
    assert_eq!(a.password_enabled, None);
    assert_eq!(a.access_keys[1].active, None);
    let b = &report.rows[1];
    assert_eq!(b.user, "b"); // from the ARN when the cell is empty
}

#[test]
fn malformed_rows_are_rejected_with_their_line() {
    let mut csv = String::from("user,arn,password_enabled,access_key_1_last_rotated\n");
    csv.push_str("good,arn:aws:iam::1:user/good,false,N/A\n"); // line 2
    csv.push_str("maybe,arn:aws:iam::1:user/maybe,yes,N/A\n"); // 3: bad bool
    csv.push_str("when,arn:aws:iam::1:user/when,false,last tuesday\n"); // 4: bad time
    csv.push_str("short,arn:aws:iam::1:user/short\n"); // 5: too few fields
    csv.push_str("noarn,,false,N/A\n"); // 6
    csv.push_str("notarn,user/notarn,false,N/A\n"); // 7
    csv.push('\n'); // 8: blank, skipped
    let mut bytes = csv.into_bytes();
    bytes.extend_from_slice(b"bin\xff,arn:aws:iam::1:user/bin,false,N/A\n"); // 9: not utf-8
    bytes.extend_from_slice(b"last,arn:aws:iam::1:user/last,true,2024-02-03T04:05:06Z\n"); // 10
    let mut report = parse_credential_report(&bytes, "bad.csv").unwrap();
    // Line 1: the header lacks documented columns (tested above).
    assert_eq!(report.rejected.remove(0).position, Some(1));
    assert_eq!(
        report
            .rows
            .iter()
            .map(|r| r.user.as_str())
            .collect::<Vec<_>>(),
        ["good", "last"]
    );
    assert_eq!(
        report.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 10]
    );
    let got: Vec<(Option<u64>, RejectReason)> = report
        .rejected
        .iter()
        .map(|r| (r.position, r.reason))
        .collect();
    assert_eq!(
        got,
        [
            (Some(3), RejectReason::InvalidRecord),
            (Some(4), RejectReason::InvalidRecord),
            (Some(5), RejectReason::InvalidRecord),
            (Some(6), RejectReason::InvalidRecord),
            (Some(7), RejectReason::InvalidRecord),
            (Some(9), RejectReason::NotUtf8),
        ]
    );
    let details: Vec<&str> = report.rejected.iter().map(|r| r.detail.as_str()).collect();
    assert!(
        details[0].contains("password_enabled: \"yes\" is not true or false"),
        "{details:?}"
    );
    assert!(details[1].contains("access_key_1_last_rotated: \"last tuesday\" is not a time"));
    assert!(details[2].contains("2 fields, the header has 4"));
    assert!(details[3].contains("empty arn"));
    assert!(details[4].contains("is not an arn"));
}

#[test]
fn whole_file_errors() {
    let err = parse_credential_report(b"user,password_enabled\na,true\n", "r.csv").unwrap_err();
    assert!(
        matches!(err, InventoryError::MissingColumn { column: "arn", .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("no `arn` column (header: user,password_enabled)"),
        "{err}"
    );

    let err = parse_credential_report(br#"{"Content": "dXNlcixhcm4K"}"#, "r.json").unwrap_err();
    assert_eq!(err.reason(), RejectReason::UnknownFormat);
    assert!(err.to_string().contains("base64"), "{err}");

    let err = parse_credential_report_with_cap(FIXTURE.as_bytes(), "r.csv", 100).unwrap_err();
    assert_eq!(err.reason(), RejectReason::TooLarge);

    assert_eq!(
        parse_credential_report(b"\xff\xfeu\0", "r.csv")
            .unwrap_err()
            .reason(),
        RejectReason::NotUtf8
    );
    let empty = parse_credential_report(b"user,arn\n", "r.csv").unwrap();
    assert!(empty.rows.is_empty());
    assert_eq!(empty.rejected.len(), 1, "the missing documented columns");
}

#[test]
fn an_unterminated_quote_sets_aside_its_row_only() {
    let mut csv = FIXTURE.lines().next().unwrap().to_string();
    csv.push('\n');
    let width = DOCUMENTED_COLUMNS.len();
    let row = |user: &str| {
        let mut cells = vec!["N/A".to_string(); width];
        cells[0] = user.to_string();
        cells[1] = format!("arn:aws:iam::1:user/{user}");
        cells[2] = "2024-01-01T00:00:00+00:00".into();
        cells[3] = "false".into();
        cells[7] = "false".into();
        cells[8] = "false".into();
        cells[13] = "false".into();
        cells[18] = "false".into();
        cells[20] = "false".into();
        cells.join(",")
    };
    csv.push_str(&row("first"));
    csv.push('\n');
    csv.push_str(&row("broken").replacen("broken", "\"broken", 1)); // line 3: never closed
    csv.push('\n');
    for i in 0..12 {
        csv.push_str(&row(&format!("after{i}")));
        csv.push('\n');
    }
    let report = parse_credential_report(csv.as_bytes(), "q.csv").unwrap();
    assert_eq!(report.rows.len(), 13, "{:#?}", report.rejected);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].position, Some(3));
    assert!(
        report.rejected[0].detail.contains("unterminated quote"),
        "{:?}",
        report.rejected[0]
    );
    assert_eq!(report.rows[1].user, "after0");
    assert_eq!(report.rows[1].line, 4);
}
