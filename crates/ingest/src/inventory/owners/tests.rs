use super::*;
use crate::inventory::authz::parse_authz;
use crate::inventory::shared_data_dir;

const YAML: &str = include_str!("../testdata/owners.yaml");
const TOML: &str = include_str!("../testdata/owners.toml");
const ACCT: &str = "arn:aws:iam::012345678901";

fn fixture() -> OwnersFile {
    OwnersFile::parse(YAML.as_bytes(), "owners.yaml").unwrap()
}

fn entry(file: &OwnersFile, id: &str, name: &str) -> Option<usize> {
    file.lookup(id, name).map(|r| r.entry)
}

#[test]
fn yaml_and_toml_say_the_same() {
    let yaml = fixture();
    let toml = OwnersFile::parse(TOML.as_bytes(), "owners.toml").unwrap();
    assert_eq!(yaml.len(), 6);
    assert_eq!(yaml.rules, toml.rules);
    let r = &yaml.rules[1];
    assert_eq!(r.pattern, "arn:aws:iam::012345678901:role/My*");
    assert_eq!((r.target, r.glob), (MatchTarget::Id, true));
    assert_eq!(r.class, Some(IdentityClass::CiCd));
    assert_eq!(r.kind, Some(IdentityKind::WorkloadIdentity));
    assert_eq!(r.intent.as_deref(), Some("deploy services"));
    // Aliases accepted by IdentityClass::parse.
    assert_eq!(yaml.rules[2].class, Some(IdentityClass::CiCd)); // "ci-cd"
    assert_eq!(yaml.rules[3].class, Some(IdentityClass::AdminFacing)); // "admin"
    assert_eq!(
        (yaml.rules[3].target, yaml.rules[3].glob),
        (MatchTarget::Name, false)
    );
}

#[test]
fn the_most_specific_rule_wins() {
    let f = fixture();
    let role = |n: &str| format!("{ACCT}:role/{n}");
    let user = |n: &str| format!("{ACCT}:user/{n}");
    assert_eq!(entry(&f, &role("MyRole"), "MyRole"), Some(3)); // exact ARN over 2 globs
    assert_eq!(entry(&f, &role("MyOtherRole"), "MyOtherRole"), Some(2)); // longer glob literal
    assert_eq!(
        entry(&f, &role("OverprivilegedEC2"), "OverprivilegedEC2"),
        Some(1)
    );
    assert_eq!(
        entry(&f, "arn:aws:iam::999999999999:role/MyRole", "MyRole"),
        Some(1)
    );
    assert_eq!(entry(&f, &user("obama"), "obama"), Some(4)); // exact name
    assert_eq!(
        entry(
            &f,
            &user("userwithlotsofpermissions"),
            "userwithlotsofpermissions"
        ),
        Some(6)
    );
    assert_eq!(entry(&f, &user("user1"), "user1"), Some(5));
    assert_eq!(entry(&f, &user("biden"), "biden"), None);
    // A name pattern never matches the id, and an id pattern never the name.
    assert_eq!(entry(&f, "obama", "someone-else"), None);

    // Exact name beats a long glob; equal specificity → first in file; exact dupes → first.
    let text = r#"
owners:
  - {match: "arn:aws:iam::1:role/deploy-*", owner: a}
  - {match: "arn:aws:iam::1:role/*-prod", owner: b}
  - {match: "deploy-prod", owner: c}
  - {match: "system:serviceaccount:prod:*", owner: d}
  - {match: "arn:aws:iam::1:role/x?", owner: e}
  - {match: "arn:aws:iam::1:role/x*", owner: f}
  - {match: "deploy-prod", owner: g}
"#;
    let f = OwnersFile::parse(text.as_bytes(), "inline.yml").unwrap();
    let owner = |id: &str, name: &str| f.lookup(id, name).and_then(|r| r.owner.clone());
    assert_eq!(
        owner("arn:aws:iam::1:role/deploy-prod", "deploy-prod").as_deref(),
        Some("c")
    );
    assert_eq!(
        owner("arn:aws:iam::1:role/deploy-prod", "renamed").as_deref(),
        Some("a")
    );
    assert_eq!(
        owner("system:serviceaccount:prod:api", "api").as_deref(),
        Some("d")
    );
    assert_eq!(owner("system:serviceaccount:dev:api", "api"), None);
    assert_eq!(owner("arn:aws:iam::1:role/xy", "xy").as_deref(), Some("e")); // 'x?' and 'x*' tie
    assert_eq!(
        owner("arn:aws:iam::1:role/xyz", "xyz").as_deref(),
        Some("f")
    );
}

#[test]
fn apply_sets_fields_with_owners_file_provenance() {
    let f = fixture();
    let mut role = Identity::new(
        format!("{ACCT}:role/MyOtherRole"),
        "MyOtherRole",
        IdentityKind::ApiKey,
    );
    let rule = f.apply(&mut role).unwrap();
    assert_eq!(rule.entry, 2);
    assert_eq!(role.owner.as_deref(), Some("platform@example.com"));
    assert_eq!(
        (role.class, role.class_from),
        (IdentityClass::CiCd, Provenance::OwnersFile)
    );
    assert_eq!(
        (role.kind, role.kind_from),
        (IdentityKind::WorkloadIdentity, Provenance::OwnersFile)
    );
    assert_eq!(role.environment.as_deref(), Some("prod"));
    assert_eq!(role.intent.as_deref(), Some("deploy services"));

    // Only the fields the winning rule gives are set.
    let mut user = Identity::new(
        format!("{ACCT}:user/biden"),
        "biden",
        IdentityKind::ServiceAccount,
    );
    let before = user.clone();
    assert!(f.apply(&mut user).is_none());
    assert_eq!(user, before);
    let mut r = Identity::new(
        format!("{ACCT}:role/MyRole"),
        "MyRole",
        IdentityKind::WorkloadIdentity,
    );
    f.apply(&mut r);
    assert_eq!(r.owner.as_deref(), Some("release@example.com"));
    assert_eq!(r.environment, None);
    assert_eq!(r.kind_from, Provenance::Inferred);
}

#[test]
fn owners_applied_to_the_real_authz_sample() {
    let Some(dir) = shared_data_dir() else {
        eprintln!("SKIP: shared/data not found (set TRIPLINE_SHARED_DATA); owners on real authz not tested");
        return;
    };
    let path = dir.join("cloudsplaining-authz-samples/example-authz-details.json");
    let bytes = std::fs::read(&path).unwrap();
    let mut inv = parse_authz(&bytes, "example-authz-details.json").unwrap();
    let f = fixture();
    assert_eq!(f.apply_all(&mut inv.identities), 5); // all but biden
    let by_name = |n: &str| inv.identities.iter().find(|i| i.name == n).unwrap();
    assert_eq!(by_name("obama").kind, IdentityKind::Human);
    assert_eq!(by_name("obama").class, IdentityClass::AdminFacing);
    assert_eq!(
        by_name("MyRole").owner.as_deref(),
        Some("release@example.com")
    );
    assert_eq!(by_name("MyOtherRole").class, IdentityClass::CiCd);
    assert_eq!(by_name("OverprivilegedEC2").class, IdentityClass::Workload);
    assert_eq!(
        by_name("userwithlotsofpermissions").class,
        IdentityClass::BatchJob
    );
    assert_eq!(by_name("biden").class_from, Provenance::Inferred);
}

fn err(text: &str, origin: &str) -> String {
    OwnersFile::parse(text.as_bytes(), origin)
        .unwrap_err()
        .to_string()
}

#[test]
fn invalid_files_are_explained() {
    let e = err(
        "owners:\n  - match: a\n    owner: x\n  - match: b\n    class: wizard\n",
        "o.yaml",
    );
    assert!(e.starts_with("o.yaml: owners entry 2 (match \"b\"): unknown class \"wizard\"; expected one of admin_facing, ci_cd, shared_integration, batch_job, telemetry, agent, workload, unclassified"), "{e}");
    let e = err("[[owners]]\nmatch = \"b\"\nkind = \"robot\"\n", "o.toml");
    assert!(e.contains("owners entry 1 (match \"b\"): unknown kind \"robot\"; expected one of service_account, api_key, workload_identity, ai_agent, cloud_service, human, root"), "{e}");
    let e = err(
        "owners:\n  - match: a\n    owner: x\n    clas: ci_cd\n",
        "o.yaml",
    );
    assert!(
        e.starts_with("o.yaml: owners file: yaml: owners[0]: unknown field `clas`"),
        "{e}"
    );
    let e = err(
        "[[owners]]\nmatch = \"a\"\nowner = \"x\"\nenv = \"prod\"\n",
        "o.toml",
    );
    assert!(
        e.contains("owners file: toml:") && e.contains("unknown field `env`"),
        "{e}"
    );
    let e = err("owner:\n  - match: a\n", "o.yaml");
    assert!(e.contains("unknown field `owner`"), "{e}");
    let e = err("owners:\n  - match: ' '\n    owner: x\n", "o.yaml");
    assert!(
        e.contains("owners entry 1 (match \" \"): match is empty"),
        "{e}"
    );
    let e = err("owners:\n  - match: a\n", "o.yaml");
    assert!(e.contains("sets nothing"), "{e}");
    let e = err("owners:\n  - match: a\n    owner: ''\n", "o.yaml");
    assert!(e.contains("owner is empty"), "{e}");
    let e = err("owners:\n  - owner: x\n", "o.yaml");
    assert!(e.contains("missing field `match`"), "{e}");

    let bad = OwnersFile::parse(b"owners: [\xff]", "o.yaml").unwrap_err();
    assert_eq!(bad.reason(), tripline_model::RejectReason::NotUtf8);
    let big = OwnersFile::parse_with_cap(YAML.as_bytes(), "o.yaml", 10).unwrap_err();
    assert_eq!(big.reason(), tripline_model::RejectReason::TooLarge);
    let invalid = OwnersFile::parse(b"owners:\n  - match: a\n", "o.yaml").unwrap_err();
    assert_eq!(invalid.to_rejected().position, Some(1));
}

#[test]
fn format_from_extension_or_content() {
    assert_eq!(
        OwnersFormat::from_path("x/owners.YML"),
        Some(OwnersFormat::Yaml)
    );
    assert_eq!(
        OwnersFormat::from_path("owners.toml"),
        Some(OwnersFormat::Toml)
    );
    assert_eq!(OwnersFormat::from_path("owners"), None);
    assert_eq!(OwnersFormat::sniff(TOML), OwnersFormat::Toml);
    assert_eq!(OwnersFormat::sniff(YAML), OwnersFormat::Yaml);
    assert_eq!(OwnersFormat::sniff("owners = []\n"), OwnersFormat::Toml);
    assert_eq!(OwnersFormat::sniff("---\nowners: []\n"), OwnersFormat::Yaml);
    // No extension: sniffed.
    assert_eq!(
        OwnersFile::parse(TOML.as_bytes(), "OWNERS").unwrap().len(),
        6
    );
    assert_eq!(
        OwnersFile::parse(YAML.as_bytes(), "OWNERS").unwrap().len(),
        6
    );
    // JSON is YAML.
    let json = br#"{"owners": [{"match": "a", "owner": "x"}]}"#;
    assert_eq!(OwnersFile::parse(json, "owners.json").unwrap().len(), 1);
    assert!(OwnersFile::parse(b"owners: []\n", "o.yaml")
        .unwrap()
        .is_empty());
}

/// The brute-force answer: every glob in file order, most specific first found.
fn brute(file: &OwnersFile, id: &str, name: &str) -> Option<usize> {
    let exact = file
        .rules
        .iter()
        .find(|r| !r.glob && r.target == MatchTarget::Id && r.pattern == id)
        .or_else(|| {
            file.rules
                .iter()
                .find(|r| !r.glob && r.target == MatchTarget::Name && r.pattern == name)
        });
    if let Some(r) = exact {
        return Some(r.entry);
    }
    let mut best: Option<&OwnerRule> = None;
    for r in file.rules.iter().filter(|r| r.glob) {
        if r.matches(id, name) && best.is_none_or(|b| r.specificity() > b.specificity()) {
            best = Some(r);
        }
    }
    best.map(|r| r.entry)
}

#[test]
fn the_prefix_index_finds_what_trying_every_glob_finds() {
    let yaml = r#"owners:
  - {match: "arn:aws:iam::*:role/ci-*", owner: a}
  - {match: "arn:aws:iam::111:role/ci-*", owner: b}
  - {match: "*:role/ci-deploy", owner: c}
  - {match: "ci-?eploy", owner: d}
  - {match: "*", owner: e}
  - {match: "ci-*", owner: f}
  - {match: "arn:aws:iam::111:role/ci-deploy", owner: g}
  - {match: "arn:aws:iam::1*", owner: h}
  - {match: "c*", owner: i}
"#;
    let file = OwnersFile::parse(yaml.as_bytes(), "o.yaml").unwrap();
    for (id, name) in [
        ("arn:aws:iam::111:role/ci-deploy", "ci-deploy"),
        ("arn:aws:iam::222:role/ci-deploy", "ci-deploy"),
        ("arn:aws:iam::222:role/ci-build", "ci-build"),
        ("arn:aws:iam::123:user/x", "x"),
        ("system:serviceaccount:ns:c", "c"),
        ("", ""),
    ] {
        assert_eq!(entry(&file, id, name), brute(&file, id, name), "{id}");
    }
}

#[test]
fn ten_thousand_globs_over_twenty_thousand_identities_are_looked_up_by_prefix() {
    let mut yaml = String::from("owners:\n");
    for i in 0..10_000 {
        yaml.push_str(&format!("  - {{match: \"svc-{i}-*\", owner: o{i}}}\n"));
    }
    let file = OwnersFile::parse(yaml.as_bytes(), "o.yaml").unwrap();
    let mut matched = 0;
    for i in 0..20_000 {
        let name = format!("svc-{}-worker", i % 12_000);
        if let Some(e) = entry(&file, &format!("arn:aws:iam::1:user/{name}"), &name) {
            assert_eq!(
                file.rules[e - 1].owner.as_deref(),
                Some(format!("o{}", i % 12_000).as_str())
            );
            matched += 1;
        }
    }
    // svc-0 … svc-9999 have a glob; 10,000 of the first 12,000 names, 8,000 of the rest.
    assert_eq!(matched, 18_000);
}

#[test]
fn deeply_nested_owners_files_are_refused_before_parsing() {
    let deep = format!("owners: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = OwnersFile::parse(deep.as_bytes(), "o.yaml").unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
    let indented: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let err = OwnersFile::parse(indented.as_bytes(), "o.yaml").unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
}
