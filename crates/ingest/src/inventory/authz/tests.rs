use super::*;
use crate::inventory::shared_data_dir;
use serde_json::json;
use std::collections::BTreeSet;

const SAMPLES: &str = "cloudsplaining-authz-samples";

/// The bytes of a shared sample, or `None` (with a visible message) when the data is absent.
fn sample(name: &str) -> Option<Vec<u8>> {
    let Some(dir) = shared_data_dir() else {
        eprintln!("SKIP: shared/data not found (set TRIPLINE_SHARED_DATA); {name} not tested");
        return None;
    };
    let path = dir.join(SAMPLES).join(name);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("SKIP: cannot read {}: {e}", path.display());
            None
        }
    }
}

fn read_sample(name: &str) -> Option<AuthzInventory> {
    let bytes = sample(name)?;
    let inv = parse_authz(&bytes, name).unwrap();
    assert!(inv.rejected.is_empty(), "{name}: {:#?}", inv.rejected);
    Some(inv)
}

fn identity<'a>(inv: &'a AuthzInventory, name: &str) -> &'a Identity {
    inv.identities
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no identity {name}"))
}

fn policy<'a>(id: &'a Identity, name: &str, kind: PolicyKind) -> &'a PolicyDoc {
    id.privileges
        .policies
        .iter()
        .find(|p| p.name == name && p.kind == kind)
        .unwrap_or_else(|| panic!("{} has no {kind:?} policy {name}", id.name))
}

fn actions(doc: &PolicyDoc) -> BTreeSet<&str> {
    doc.statements
        .iter()
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect()
}

fn names(id: &Identity, kind: PolicyKind) -> Vec<&str> {
    id.privileges
        .policies
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| p.name.as_str())
        .collect()
}

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn is_star_star(doc: &PolicyDoc) -> bool {
    doc.statements
        .iter()
        .any(|s| s.allow && s.actions == ["*"] && s.resources == ["*"])
}

#[test]
fn example_authz_details_counts_and_privileges() {
    let Some(inv) = read_sample("example-authz-details.json") else {
        return;
    };
    assert_eq!(
        (inv.users, inv.groups, inv.roles, inv.policies, inv.pages),
        (3, 2, 3, 32, 1)
    );
    assert_eq!(inv.identities.len(), 6);
    let total_statements: usize = inv
        .managed_policies
        .values()
        .map(|p| p.statements.len())
        .sum();
    assert_eq!(total_statements, 88);
    let with_conditions = inv
        .managed_policies
        .values()
        .flat_map(|p| &p.statements)
        .filter(|s| !s.conditions.is_empty())
        .count();
    assert_eq!(with_conditions, 12);

    for id in &inv.identities {
        assert!(id.in_inventory);
        assert_eq!(id.account.as_deref(), Some("012345678901"));
        assert_eq!(id.kind_from, Provenance::Inventory);
        assert!(id.privileges.unresolved_policies.is_empty(), "{}", id.name);
        assert!(id.created.is_some());
    }

    // obama: AdministratorAccess attached directly, and again through group `admin`.
    let obama = identity(&inv, "obama");
    assert_eq!(obama.id, "arn:aws:iam::012345678901:user/obama");
    assert_eq!(obama.kind, IdentityKind::ServiceAccount);
    assert_eq!(obama.created, Timestamp::parse("2019-12-18T19:10:08Z"));
    assert_eq!(obama.privileges.groups, ["admin"]);
    let direct = policy(obama, "AdministratorAccess", PolicyKind::Managed);
    assert_eq!(direct.source, ADMIN);
    assert!(is_star_star(direct));
    assert!(is_star_star(policy(
        obama,
        "AdministratorAccess",
        PolicyKind::Group
    )));
    assert_eq!(obama.privileges.policies.len(), 2);

    // userwithlotsofpermissions: inline policy + group admin.
    let u = identity(&inv, "userwithlotsofpermissions");
    let inline = policy(u, "InsecureUserPolicy", PolicyKind::Inline);
    assert_eq!(
        inline.source,
        "inline:arn:aws:iam::012345678901:user/userwithlotsofpermissions/InsecureUserPolicy"
    );
    assert_eq!(
        actions(inline),
        BTreeSet::from(["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"])
    );
    assert_eq!(names(u, PolicyKind::Group), ["AdministratorAccess"]);

    // biden: as in cloudsplaining's test_user_detail_results.json.
    let biden = identity(&inv, "biden");
    assert_eq!(names(biden, PolicyKind::Managed), ["AWSLambdaFullAccess"]);
    assert_eq!(names(biden, PolicyKind::Inline), ["InsecureUserPolicy"]);
    assert_eq!(biden.privileges.groups, ["biden"]);
    assert_eq!(
        names(biden, PolicyKind::Group),
        ["AmazonRDSFullAccess", "InlinePolicyForBidenGroup"]
    );
    let group_inline = policy(biden, "InlinePolicyForBidenGroup", PolicyKind::Group);
    assert_eq!(
        group_inline.source,
        "inline:arn:aws:iam::012345678901:group/biden/InlinePolicyForBidenGroup"
    );
    assert_eq!(
        actions(group_inline),
        BTreeSet::from(["s3:GetObject", "s3:PutObjectAcl"])
    );
    assert!(
        actions(policy(biden, "AWSLambdaFullAccess", PolicyKind::Managed)).contains("iam:PassRole")
    );

    // MyRole: inline EC2-IAM-example grants iam:PassRole; trusted by SSM.
    let my_role = identity(&inv, "MyRole");
    assert_eq!(my_role.kind, IdentityKind::WorkloadIdentity);
    let ec2_iam = policy(my_role, "EC2-IAM-example", PolicyKind::Inline);
    assert!(actions(ec2_iam).contains("iam:PassRole"));
    assert_eq!(actions(ec2_iam).len(), 8);
    assert_eq!(ec2_iam.statements[0].resources, ["*"]);
    let trust = my_role.privileges.trust.as_ref().unwrap();
    assert_eq!(trust.kind, PolicyKind::Trust);
    assert_eq!(trust.source, "trust:arn:aws:iam::012345678901:role/MyRole");
    assert_eq!(trust.statements.len(), 1);
    assert_eq!(
        trust.statements[0].principals["Service"],
        ["ssm.amazonaws.com"]
    );
    assert_eq!(trust.statements[0].actions, ["sts:AssumeRole"]);

    // OverprivilegedEC2: as in cloudsplaining's test_role_detail_results.json.
    let ec2 = identity(&inv, "OverprivilegedEC2");
    assert_eq!(names(ec2, PolicyKind::Managed), ["InsecurePolicy"]);
    assert_eq!(names(ec2, PolicyKind::Inline), ["SupYo"]);
    assert!(actions(policy(ec2, "SupYo", PolicyKind::Inline)).contains("iam:CreateAccessKey"));
    let trust = ec2.privileges.trust.as_ref().unwrap();
    assert_eq!(
        trust.statements[0].principals["Service"],
        ["ec2.amazonaws.com"]
    );
    let info = &inv.role_info[&ec2.id];
    assert_eq!(
        info.last_used,
        Timestamp::parse("2019-01-20 18:48:00+00:00")
    );
    assert_eq!(info.last_used_region.as_deref(), Some("us-east-1"));
    assert_eq!(
        info.instance_profiles,
        ["arn:aws:iam::012345678901:instance-profile/OverprivilegedEC2"]
    );
    assert_eq!(
        inv.role_info[&my_role.id],
        RoleInfo {
            path: Some("/".into()),
            ..RoleInfo::default()
        }
    );

    // The default version is used, not the newest-looking or the first.
    let codecommit = &inv.managed_policies["arn:aws:iam::aws:policy/AWSCodeCommitPowerUser"];
    assert_eq!(codecommit.statements.len(), 14); // v11 (default); v10 has 11
                                                 // NotAction survives normalization (PowerUserAccess).
    let power = &inv.managed_policies["arn:aws:iam::aws:policy/PowerUserAccess"];
    assert_eq!(
        power.statements[0].not_actions,
        ["iam:*", "organizations:*", "account:*"]
    );
    assert!(power.statements[0].actions.is_empty());
    // Condition values given as a list stay a list.
    let rds = &inv.managed_policies["arn:aws:iam::aws:policy/AmazonRDSFullAccess"];
    let cond = rds
        .statements
        .iter()
        .find_map(|s| s.conditions.get("StringLike"))
        .unwrap();
    assert_eq!(
        cond["iam:AWSServiceName"],
        [
            "rds.amazonaws.com",
            "rds.application-autoscaling.amazonaws.com"
        ]
    );
}

#[test]
fn example_authz_v2_leaves_absent_aws_managed_policies_unresolved() {
    let Some(inv) = read_sample("example_authz_v2.json") else {
        return;
    };
    assert_eq!(
        (inv.users, inv.groups, inv.roles, inv.policies),
        (1, 1, 2, 2)
    );
    let blake = identity(&inv, "BlakeBortles");
    assert_eq!(blake.privileges.groups, ["GOAT"]);
    assert!(blake.privileges.policies.is_empty());
    assert_eq!(blake.privileges.unresolved_policies, [ADMIN]);
    // A role and a group may share a name; they stay apart.
    let goat_role = identity(&inv, "GOAT");
    assert_eq!(goat_role.id, "arn:aws:iam::012345678901:role/GOAT");
    assert!(goat_role.privileges.unresolved_policies.is_empty());
    assert_eq!(
        names(goat_role, PolicyKind::Inline),
        ["SsmOnboardingInlinePolicy"]
    );
    for role in ["GOAT", "MyOtherRole"] {
        let r = identity(&inv, role);
        assert_eq!(r.kind, IdentityKind::WorkloadIdentity);
        assert_eq!(
            r.privileges.trust.as_ref().unwrap().statements[0].principals["Service"],
            ["ssm.amazonaws.com"]
        );
        assert_eq!(
            actions(&r.privileges.policies[0]),
            BTreeSet::from(["s3:PutObject", "s3:GetObject"])
        );
    }
    // Unattached customer policies are still read.
    assert!(inv
        .managed_policies
        .contains_key("arn:aws:iam::012345678901:policy/NotYourPolicy"));
}

#[test]
fn overrides_sample_matches_cloudsplaining_expectations() {
    let Some(inv) = read_sample("example_authz_details_for_overrides_complete.json") else {
        return;
    };
    assert_eq!(
        (inv.users, inv.groups, inv.roles, inv.policies),
        (1, 1, 2, 3)
    );
    let blake = identity(&inv, "BlakeBortles");
    assert_eq!(blake.privileges.groups, ["GOATGroup"]);
    assert_eq!(
        names(blake, PolicyKind::Group),
        ["AdministratorAccess", "NotYourPolicy"]
    );
    assert!(blake.privileges.unresolved_policies.is_empty());
    let goat = identity(&inv, "GOATRole");
    assert_eq!(
        names(goat, PolicyKind::Managed),
        ["PolicyForTestingOverrides", "AdministratorAccess"]
    );
    assert!(is_star_star(policy(
        goat,
        "AdministratorAccess",
        PolicyKind::Managed
    )));

    // Every principal/policy pair cloudsplaining reports is there with the same actions.
    let Some(expected) = sample("cloudsplaining_expected_results/test_authorization_file_details_missing_constraints_v2.json")
    else {
        return;
    };
    let expected: Vec<Value> = serde_json::from_slice(&expected).unwrap();
    assert_eq!(expected.len(), 4);
    for e in &expected {
        let arn = e["Arn"].as_str().unwrap();
        let policy_name = e["PolicyName"].as_str().unwrap();
        let want: BTreeSet<String> = e["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| {
                s["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
            })
            .collect();
        let doc = match e["Type"].as_str().unwrap() {
            "Role" => {
                let id = inv.identities.iter().find(|i| i.id == arn).unwrap();
                let trust = id.privileges.trust.as_ref().unwrap();
                let want_svc = e["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
                    ["Service"]
                    .as_str()
                    .unwrap();
                assert_eq!(trust.statements[0].principals["Service"], [want_svc]);
                policy(id, policy_name, PolicyKind::Inline).clone()
            }
            "Policy" => inv.managed_policies[arn].clone(),
            other => panic!("unexpected Type {other}"),
        };
        let got: BTreeSet<String> = doc
            .statements
            .iter()
            .flat_map(|s| s.actions.iter().cloned())
            .collect();
        assert_eq!(got, want, "{arn} {policy_name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic inputs for what the public samples do not show.

fn parse_value(v: &Value) -> AuthzInventory {
    parse_authz(v.to_string().as_bytes(), "test.json").unwrap()
}

#[test]
fn url_encoded_documents_tags_boundaries_and_role_kinds() {
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A111122223333%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Condition%22%3A%7B%22Bool%22%3A%7B%22aws%3AMultiFactorAuthPresent%22%3Atrue%7D%7D%7D%5D%7D";
    let inline = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Alogs%2F%2A%22%7D%7D";
    let v = json!({
        "UserDetailList": [{
            "UserName": "ci-deployer", "Arn": "arn:aws:iam::111122223333:user/ci/ci-deployer",
            "CreateDate": "2021-03-04T05:06:07Z",
            "Tags": [{"Key": "team", "Value": "platform"}, {"Key": "empty"}],
            "PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/Boundary"},
            "AttachedManagedPolicies": [{"PolicyName": "PowerUserAccess",
                "PolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}],
            "UserPolicyList": [{"PolicyName": "logs", "PolicyDocument": inline}],
            "GroupList": ["missing-group"]
        }, {
            "UserName": "bounded-by-admin", "Arn": "arn:aws:iam::111122223333:user/b",
            "PermissionsBoundary": {"PermissionsBoundaryArn": ADMIN}
        }],
        "RoleDetailList": [{
            "RoleName": "cross", "Arn": "arn:aws:iam::111122223333:role/cross",
            "AssumeRolePolicyDocument": trust,
            "RoleLastUsed": {"LastUsedDate": "2024-05-06T07:08:09Z", "Region": "eu-west-1"},
            "MaxSessionDuration": 3600
        }, {
            "RoleName": "AWSServiceRoleForSupport", "Path": "/aws-service-role/support.amazonaws.com/",
            "Arn": "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Service": "support.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        }, {
            "RoleName": "AWSReservedSSO_Admin_abc", "Path": "/aws-reserved/sso.amazonaws.com/",
            "Arn": "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc"
        }, {
            "RoleName": "okta-admins", "Arn": "arn:aws:iam::111122223333:role/okta-admins",
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/okta"},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}]}
        }, {
            "RoleName": "gha", "Arn": "arn:aws:iam::111122223333:role/gha",
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/*"}}}]}
        }],
        "Policies": [{
            "PolicyName": "Boundary", "Arn": "arn:aws:iam::111122223333:policy/Boundary",
            "DefaultVersionId": "v2",
            "PolicyVersionList": [
                {"VersionId": "v1", "Document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                {"VersionId": "v2", "Document": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}
            ]
        }]
    });
    let inv = parse_value(&v);
    assert!(inv.rejected.is_empty(), "{:#?}", inv.rejected);
    assert_eq!(
        (inv.users, inv.roles, inv.groups, inv.policies),
        (2, 5, 0, 1)
    );

    let ci = identity(&inv, "ci-deployer");
    assert_eq!(ci.account.as_deref(), Some("111122223333"));
    assert_eq!(ci.tags["team"], "platform");
    assert_eq!(ci.tags["empty"], "");
    assert_eq!(ci.created, Timestamp::parse("2021-03-04T05:06:07Z"));
    // Boundary resolved through DefaultVersionId (no IsDefaultVersion flag).
    let boundary = ci.privileges.permissions_boundary.as_ref().unwrap();
    assert_eq!(boundary.kind, PolicyKind::Boundary);
    assert_eq!(boundary.statements[0].actions, ["s3:*"]);
    assert_eq!(
        ci.privileges.unresolved_policies,
        [
            "arn:aws:iam::aws:policy/PowerUserAccess",
            "group:missing-group"
        ]
    );
    assert_eq!(ci.privileges.groups, ["missing-group"]);
    let logs = policy(ci, "logs", PolicyKind::Inline);
    assert_eq!(logs.statements[0].resources, ["arn:aws:s3:::logs/*"]);

    // An AdministratorAccess boundary absent from the file is not an AdministratorAccess grant.
    let bounded = identity(&inv, "bounded-by-admin");
    assert_eq!(
        bounded.privileges.unresolved_policies,
        [format!("boundary:{ADMIN}")]
    );
    assert!(bounded.privileges.permissions_boundary.is_none());

    let cross = identity(&inv, "cross");
    let st = &cross.privileges.trust.as_ref().unwrap().statements[0];
    assert_eq!(st.principals["AWS"], ["arn:aws:iam::111122223333:root"]);
    assert_eq!(
        st.conditions["Bool"]["aws:MultiFactorAuthPresent"],
        ["true"]
    );
    let info = &inv.role_info[&cross.id];
    assert_eq!(info.last_used, Timestamp::parse("2024-05-06T07:08:09Z"));
    assert_eq!(info.max_session_duration, Some(3600));
    assert_eq!(cross.kind, IdentityKind::WorkloadIdentity);

    assert_eq!(
        identity(&inv, "AWSServiceRoleForSupport").kind,
        IdentityKind::CloudService
    );
    assert_eq!(
        identity(&inv, "AWSReservedSSO_Admin_abc").kind,
        IdentityKind::Human
    );
    assert_eq!(identity(&inv, "okta-admins").kind, IdentityKind::Human);
    assert_eq!(identity(&inv, "gha").kind, IdentityKind::WorkloadIdentity);
}

#[test]
fn pages_concatenated_or_listed_are_resolved_together() {
    let page1 = json!({
        "UserDetailList": [{"UserName": "a", "Arn": "arn:aws:iam::1:user/a", "GroupList": ["g"],
            "AttachedManagedPolicies": [{"PolicyName": "P", "PolicyArn": "arn:aws:iam::1:policy/P"}]}],
        "IsTruncated": true, "Marker": "abc"
    });
    let page2 = json!({
        "GroupDetailList": [{"GroupName": "g", "Arn": "arn:aws:iam::1:group/g",
            "AttachedManagedPolicies": [{"PolicyName": "P", "PolicyArn": "arn:aws:iam::1:policy/P"}]}],
        "RoleDetailList": null,
        "Policies": [{"PolicyName": "P", "Arn": "arn:aws:iam::1:policy/P", "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}}
        ]}],
        "IsTruncated": false
    });
    let concatenated = format!("\u{feff}{page1}\n{page2}\n");
    let listed = json!([page1, page2]).to_string();
    for input in [concatenated, listed] {
        let inv = parse_authz(input.as_bytes(), "pages.json").unwrap();
        assert!(inv.rejected.is_empty(), "{:#?}", inv.rejected);
        assert_eq!(inv.pages, 2);
        assert_eq!(
            (inv.users, inv.groups, inv.roles, inv.policies),
            (1, 1, 0, 1)
        );
        let a = identity(&inv, "a");
        assert_eq!(names(a, PolicyKind::Managed), ["P"]);
        assert_eq!(names(a, PolicyKind::Group), ["P"]);
        assert!(a.privileges.unresolved_policies.is_empty());
    }
}

#[test]
fn a_malformed_entry_is_rejected_and_the_others_kept() {
    let v = json!({
        "UserDetailList": [
            {"UserName": "ok", "Arn": "arn:aws:iam::1:user/ok",
             "UserPolicyList": [{"PolicyName": "broken", "PolicyDocument": {"Statement": [{"Action": "*"}]}}]},
            {"UserName": "no-arn"},
            {"UserName": "bad-arn", "Arn": "user/bad"},
            "not an object",
            {"UserName": "ok", "Arn": "arn:aws:iam::1:user/ok"}
        ],
        "GroupDetailList": {"oops": 1},
        "RoleDetailList": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r", "AssumeRolePolicyDocument": "%7Bbroken",
            "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::1:policy/Bad"}]}],
        "Policies": [
            {"PolicyName": "Bad", "Arn": "arn:aws:iam::1:policy/Bad", "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": false, "Document": {}},
                {"VersionId": "v2", "IsDefaultVersion": false, "Document": {}}]},
            {"PolicyName": "x"}
        ]
    });
    let inv = parse_value(&v);
    assert_eq!(
        (inv.users, inv.roles, inv.groups, inv.policies),
        (1, 1, 0, 0)
    );
    let details: Vec<&str> = inv.rejected.iter().map(|r| r.detail.as_str()).collect();
    assert_eq!(inv.rejected.len(), 9, "{details:#?}");
    assert!(inv
        .rejected
        .iter()
        .all(|r| r.reason == RejectReason::InvalidRecord));
    let has = |needle: &str| details.iter().any(|d| d.contains(needle));
    assert!(has("page 1 UserDetailList[1]: missing field `Arn`"));
    assert!(has(
        "UserDetailList[2]: user Arn \"user/bad\" is not an arn"
    ));
    assert!(has("UserDetailList[3]"));
    assert!(has("page 1 Policies[1]: missing field `Arn`"));
    assert!(has("GroupDetailList is not a list"));
    assert!(has(
        "managed policy arn:aws:iam::1:policy/Bad: no default version among 2"
    ));
    assert!(has(
        "inline policy inline:arn:aws:iam::1:user/ok/broken: Statement[0]: statement has no Effect"
    ));
    assert!(has("trust policy of arn:aws:iam::1:role/r"));
    assert!(has("duplicate entry for arn:aws:iam::1:user/ok"));
    let positions: Vec<Option<u64>> = inv.rejected.iter().take(3).map(|r| r.position).collect();
    assert_eq!(positions, [Some(2), Some(3), Some(4)]);

    let ok = identity(&inv, "ok");
    assert_eq!(
        ok.privileges.unresolved_policies,
        ["inline:arn:aws:iam::1:user/ok/broken"]
    );
    let r = identity(&inv, "r");
    assert!(r.privileges.trust.is_none());
    assert_eq!(
        r.privileges.unresolved_policies,
        ["arn:aws:iam::1:policy/Bad", "trust:arn:aws:iam::1:role/r"]
    );
}

#[test]
fn whole_file_errors_are_typed_and_clear() {
    let err = parse_authz(b"UserName,Arn\nx,y\n", "users.csv").unwrap_err();
    assert_eq!(err.reason(), RejectReason::NotJson);
    assert!(err.to_string().starts_with("users.csv: not json:"), "{err}");

    let err = parse_authz(br#"{"Records": []}"#, "trail.json").unwrap_err();
    assert_eq!(err.reason(), RejectReason::UnknownFormat);
    assert!(err.to_string().contains("none of UserDetailList"), "{err}");

    let err = parse_authz(b"[1, 2]", "list.json").unwrap_err();
    assert_eq!(err.reason(), RejectReason::UnknownFormat);

    assert_eq!(
        parse_authz(b"  \n", "empty.json").unwrap_err().reason(),
        RejectReason::NotJson
    );
    assert_eq!(
        parse_authz(b"\xff\xfe{}", "utf16.json")
            .unwrap_err()
            .reason(),
        RejectReason::NotUtf8
    );

    let err = parse_authz_with_cap(br#"{"UserDetailList": []}"#, "big.json", 10).unwrap_err();
    assert_eq!(
        err,
        InventoryError::TooLarge {
            origin: "big.json".into(),
            len: 22,
            cap: 10
        }
    );
    let rejected = err.to_rejected();
    assert_eq!(
        (rejected.reason, rejected.origin.as_str()),
        (RejectReason::TooLarge, "big.json")
    );

    // A readable page followed by garbage: the page is kept, the rest is rejected.
    let inv = parse_authz(br#"{"UserDetailList": []} {"Policies": [}"#, "cut.json").unwrap();
    assert_eq!(inv.pages, 1);
    assert_eq!(inv.rejected.len(), 1);
    assert_eq!(inv.rejected[0].reason, RejectReason::NotJson);
    // A page with no list next to a good one is rejected, not fatal.
    let inv = parse_authz(
        br#"{"UserDetailList": []} {"IsTruncated": false}"#,
        "x.json",
    )
    .unwrap();
    assert_eq!(inv.rejected[0].reason, RejectReason::UnknownFormat);
    // Deep nesting is refused by the JSON parser, not by the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_authz(deep.as_bytes(), "deep.json").is_err());
}
