#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Privilege analysis on cloudsplaining's public authorization-details samples
//! (`shared/data/cloudsplaining-authz-samples`), checked against the findings cloudsplaining
//! expects for the same principals and policies (`cloudsplaining_expected_results/`).
//!
//! Skipped (with a message) when the shared data folder is absent.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tripline_engine::privilege::{analyse, PrivilegeFindings};
use tripline_model::{Identity, PolicyDoc, PolicyKind, Privileges};

const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const FILES: [&str; 3] = [
    "example-authz-details.json",
    "example_authz_details_for_overrides_complete.json",
    "example_authz_v2.json",
];

fn samples_dir() -> Option<PathBuf> {
    let Some(dir) = tripline_ingest::inventory::shared_data_dir() else {
        eprintln!("skipped: no shared data folder (set TRIPLINE_SHARED_DATA)");
        return None;
    };
    let dir = dir.join("cloudsplaining-authz-samples");
    if !dir.is_dir() {
        eprintln!("skipped: {} missing", dir.display());
        return None;
    }
    Some(dir)
}

fn identities(dir: &Path, file: &str) -> Vec<Identity> {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let inv = tripline_ingest::inventory::authz::parse_authz(&bytes, file).unwrap();
    assert!(!inv.identities.is_empty(), "{file}: no identities");
    inv.identities
}

/// Principal name → (privileges, findings).
fn analyse_file(dir: &Path, file: &str) -> BTreeMap<String, (Privileges, PrivilegeFindings)> {
    identities(dir, file)
        .into_iter()
        .map(|i| {
            let f = analyse(&i.privileges);
            (i.name, (i.privileges, f))
        })
        .collect()
}

fn expected(dir: &Path, name: &str) -> Value {
    let text =
        std::fs::read_to_string(dir.join("cloudsplaining_expected_results").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn paths(f: &PrivilegeFindings) -> BTreeSet<&'static str> {
    f.escalation_paths.iter().map(|p| p.name).collect()
}

/// Findings for one policy document taken alone, as an inline policy.
fn analyse_document(doc: &Value) -> PrivilegeFindings {
    let statements = tripline_ingest::inventory::policy::parse_document(doc).unwrap();
    analyse(&Privileges {
        policies: vec![PolicyDoc {
            source: "inline:test".into(),
            name: "test".into(),
            kind: PolicyKind::Inline,
            statements,
        }],
        ..Privileges::default()
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn example_authz_details_admins_and_escalation() {
    let Some(dir) = samples_dir() else { return };
    let all = analyse_file(&dir, "example-authz-details.json");
    let names: BTreeSet<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "MyOtherRole",
            "MyRole",
            "OverprivilegedEC2",
            "biden",
            "obama",
            "userwithlotsofpermissions"
        ])
    );
    for (name, (_, f)) in &all {
        assert!(f.known, "{name}");
        assert!(
            f.unrecognized_policies.is_empty(),
            "{name}: {:?}",
            f.unrecognized_policies
        );
    }

    // Admins: AdministratorAccess attached directly (obama) or through the `admin` group.
    for name in ["obama", "userwithlotsofpermissions"] {
        let f = &all[name].1;
        assert!(f.admin, "{name}");
        assert_eq!(f.admin_sources, vec![ADMIN_ARN], "{name}");
        assert!(f.wildcard_services.contains(&"*".to_string()));
        assert!(paths(f).contains("attach_user_policy"));
    }
    let admins: BTreeSet<&str> = all
        .iter()
        .filter(|(_, (_, f))| f.admin)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        admins,
        BTreeSet::from(["obama", "userwithlotsofpermissions"])
    );

    // biden: the deprecated AWSLambdaFullAccess grants iam:PassRole and lambda:*.
    let biden = &all["biden"].1;
    assert!(!biden.admin);
    assert_eq!(
        paths(biden),
        BTreeSet::from(["pass_role_lambda", "lambda_update_function_code"])
    );
    for p in &biden.escalation_paths {
        assert_eq!(
            p.sources,
            vec!["arn:aws:iam::aws:policy/AWSLambdaFullAccess"]
        );
        assert!(!p.conditional);
    }
    for svc in ["lambda", "s3", "dynamodb", "rds"] {
        assert!(biden.wildcard_services.contains(&svc.to_string()), "{svc}");
    }

    // OverprivilegedEC2: iam:CreateAccessKey on `*` in its inline policy SupYo.
    let ec2 = &all["OverprivilegedEC2"].1;
    assert!(!ec2.admin);
    assert_eq!(paths(ec2), BTreeSet::from(["create_access_key"]));
    assert_eq!(
        ec2.escalation_paths[0].sources,
        vec!["inline:arn:aws:iam::012345678901:role/OverprivilegedEC2/SupYo"]
    );
    assert_eq!(ec2.granted_services, vec!["iam", "s3", "secretsmanager"]);

    // MyRole / MyOtherRole: iam:PassRole and instance-profile actions, but no compute launch:
    // not an escalation path (no ec2:RunInstances, no lambda, …).
    for name in ["MyRole", "MyOtherRole"] {
        let f = &all[name].1;
        assert!(
            !f.admin && f.escalation_paths.is_empty(),
            "{name}: {:?}",
            paths(f)
        );
        assert!(tripline_engine::privilege::allows(
            &all[name].0,
            "iam:PassRole"
        ));
        assert_eq!(f.granted_services, vec!["ec2", "iam"]);
        assert!(f.wildcard_services.is_empty());
    }
}

#[test]
fn overrides_and_v2_samples() {
    let Some(dir) = samples_dir() else { return };
    let over = analyse_file(&dir, "example_authz_details_for_overrides_complete.json");
    let blake = &over["BlakeBortles"].1;
    assert!(blake.admin, "AdministratorAccess through group GOATGroup");
    assert!(blake.wildcard_services.contains(&"ecr".to_string()));
    assert!(
        over["GOATRole"].1.admin,
        "AdministratorAccess attached to the role"
    );
    let other = &over["MyOtherRole"].1;
    assert!(!other.admin && other.escalation_paths.is_empty());
    assert_eq!(other.granted_services, vec!["s3"]);

    // v2: AdministratorAccess is referenced but not in `Policies`: recognised by ARN.
    let v2 = analyse_file(&dir, "example_authz_v2.json");
    let (privs, blake) = &v2["BlakeBortles"];
    assert!(privs.policies.is_empty());
    assert_eq!(privs.unresolved_policies, vec![ADMIN_ARN]);
    assert!(blake.admin && blake.known);
    assert_eq!(blake.admin_sources, vec![ADMIN_ARN]);
    for name in ["GOAT", "MyOtherRole"] {
        let f = &v2[name].1;
        assert!(!f.admin && f.escalation_paths.is_empty(), "{name}");
        assert_eq!(f.granted_services, vec!["s3"], "{name}");
        assert!(
            f.broad_trust.is_empty(),
            "{name}: trusted by ssm.amazonaws.com only"
        );
    }
}

/// cloudsplaining's per-policy findings (`PrivilegeEscalation`, `ResourceExposure`) against our
/// analysis of the same documents. cloudsplaining leaves AWS-managed policies out of these
/// findings by default; so do we when comparing at principal level.
#[test]
fn agrees_with_cloudsplaining_policy_findings() {
    let Some(dir) = samples_dir() else { return };
    let findings = expected(
        &dir,
        "test_authorization_file_details_missing_constraints_v2.json",
    );
    let entries = findings.as_array().unwrap();
    assert_eq!(entries.len(), 4);
    let over = identities(&dir, "example_authz_details_for_overrides_complete.json");
    let mut checked_exposure_only = 0;
    for e in entries {
        let name = e["Name"].as_str().unwrap();
        let pe = strings(&e["PrivilegeEscalation"]);
        let re = strings(&e["ResourceExposure"]);
        let f = analyse_document(&e["PolicyDocument"]);
        assert_eq!(
            !f.escalation_paths.is_empty(),
            !pe.is_empty(),
            "{name}: cloudsplaining {pe:?}, ours {:?}",
            paths(&f)
        );
        assert!(!f.admin, "{name}");
        if pe.is_empty() && !re.is_empty() {
            // Resource exposure (e.g. ecr:SetRepositoryPolicy) is not privilege escalation.
            checked_exposure_only += 1;
        }
        for svc in strings(&e["Services"]) {
            assert!(
                f.granted_services.contains(&svc),
                "{name}: {svc} not granted"
            );
        }
        if e["Type"] == "Role" {
            // The same principal, with its customer-managed and inline policies only.
            let id = over.iter().find(|i| i.name == name).unwrap();
            let mut p = id.privileges.clone();
            p.policies
                .retain(|d| !d.source.starts_with("arn:aws:iam::aws:"));
            let f = analyse(&p);
            assert_eq!(!f.escalation_paths.is_empty(), !pe.is_empty(), "{name}");
            assert!(!f.admin, "{name}");
        }
    }
    assert_eq!(checked_exposure_only, 1, "NotYourPolicy");

    // The biden group's inline policy: resource exposure (s3:PutObjectAcl), no escalation.
    let inline = expected(&dir, "test_inline_policy_results.json");
    assert_eq!(inline["PolicyName"], "InlinePolicyForBidenGroup");
    assert!(strings(&inline["PrivilegeEscalation"]["findings"]).is_empty());
    assert_eq!(
        strings(&inline["ResourceExposure"]["findings"]),
        vec!["s3:PutObjectAcl"]
    );
    let f = analyse_document(&inline["PolicyDocument"]);
    assert!(f.escalation_paths.is_empty() && !f.admin);
    assert_eq!(f.granted_services, vec!["s3"]);

    // The biden group (AmazonRDSFullAccess + that inline policy): no escalation either.
    let group = expected(&dir, "test_group_detail_results.json");
    assert_eq!(group["name"], "biden");
    let details = identities(&dir, "example-authz-details.json");
    let biden = details.iter().find(|i| i.name == "biden").unwrap();
    let mut group_only = biden.privileges.clone();
    group_only.policies.retain(|d| d.kind == PolicyKind::Group);
    let group_sources: BTreeSet<&str> = group_only
        .policies
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert!(group_sources.contains("AmazonRDSFullAccess"));
    assert!(group_sources.contains("InlinePolicyForBidenGroup"));
    let f = analyse(&group_only);
    assert!(f.escalation_paths.is_empty() && !f.admin, "{:?}", paths(&f));
    assert!(f.wildcard_services.contains(&"rds".to_string()));

    // The user biden: its escalation comes from the managed policy cloudsplaining lists for it.
    let user = expected(&dir, "test_user_detail_results.json");
    assert_eq!(
        user["managed_policies"]["ANPAI6E2CYYMI4XI7AA5K"],
        "AWSLambdaFullAccess"
    );
    let f = analyse(&biden.privileges);
    assert!(f
        .escalation_paths
        .iter()
        .all(|p| p.sources == vec!["arn:aws:iam::aws:policy/AWSLambdaFullAccess"]));

    // The role OverprivilegedEC2: assumable by EC2 only; no cross-account or anyone trust.
    let role = expected(&dir, "test_role_detail_results.json");
    assert_eq!(role["name"], "OverprivilegedEC2");
    assert_eq!(
        strings(&role["AssumableByComputeServices"]["findings"]),
        vec!["ec2"]
    );
    assert!(strings(&role["AssumableByCrossAccountPrincipal"]["findings"]).is_empty());
    assert!(strings(&role["AssumableByAnyPrincipal"]["findings"]).is_empty());
    let ec2 = details
        .iter()
        .find(|i| i.name == "OverprivilegedEC2")
        .unwrap();
    assert!(ec2.privileges.trust.is_some());
    assert!(analyse(&ec2.privileges).broad_trust.is_empty());
}

/// Admin and escalation-capable principals rank strictly above every other principal.
#[test]
fn escalation_capable_principals_rank_above_the_rest() {
    let Some(dir) = samples_dir() else { return };
    let rank = |f: &PrivilegeFindings| {
        (
            u8::from(f.admin),
            f.escalation_paths.len(),
            f.wildcard_services.len(),
        )
    };
    let mut flagged = Vec::new();
    let mut rest = Vec::new();
    for file in FILES {
        for (name, (_, f)) in analyse_file(&dir, file) {
            let entry = (format!("{file}:{name}"), rank(&f));
            if f.admin || !f.escalation_paths.is_empty() {
                flagged.push(entry);
            } else {
                rest.push(entry);
            }
        }
    }
    let flagged_names: BTreeSet<&str> = flagged
        .iter()
        .map(|(n, _)| n.rsplit(':').next().unwrap())
        .collect();
    assert_eq!(
        flagged_names,
        BTreeSet::from([
            "BlakeBortles",
            "GOATRole",
            "OverprivilegedEC2",
            "biden",
            "obama",
            "userwithlotsofpermissions"
        ])
    );
    assert_eq!(
        flagged.len(),
        7,
        "BlakeBortles is in two files: {flagged:?}"
    );
    assert_eq!(rest.len(), 5, "{rest:?}");
    let lowest_flagged = flagged.iter().map(|(_, r)| *r).min().unwrap();
    let highest_rest = rest.iter().map(|(_, r)| *r).max().unwrap();
    assert!(
        lowest_flagged > highest_rest,
        "flagged {flagged:?} vs rest {rest:?}"
    );
}
