use super::*;
use serde_json::json;
use tripline_engine::privilege::rbac::{rbac_findings, resource_matches, verb_matches};

/// `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o json` of a small
/// cluster, written for these tests (see `testdata/rbac.json`).
const FIXTURE: &str = include_str!("../testdata/rbac.json");

fn fixture() -> RbacInventory {
    parse_rbac(FIXTURE.as_bytes(), "rbac.json").unwrap()
}

fn sa<'a>(inv: &'a RbacInventory, ns: &str, name: &str) -> &'a Identity {
    let id = format!("system:serviceaccount:{ns}:{name}");
    inv.identities
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no identity {id}"))
}

fn policy<'a>(id: &'a Identity, source: &str) -> &'a PolicyDoc {
    id.privileges
        .policies
        .iter()
        .find(|p| p.source == source)
        .unwrap_or_else(|| {
            let sources: Vec<_> = id.privileges.policies.iter().map(|p| &p.source).collect();
            panic!("{}: no policy {source}; has {sources:?}", id.id)
        })
}

fn sources(id: &Identity) -> Vec<&str> {
    id.privileges
        .policies
        .iter()
        .map(|p| p.source.as_str())
        .collect()
}

const DISCOVERY: &str =
    "clusterrole:system:discovery via clusterrolebinding:system:discovery (group system:authenticated)";

#[test]
fn fixture_identities_and_counts() {
    let inv = fixture();
    let ids: Vec<&str> = inv.identities.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "system:serviceaccount:ci:crd-installer",
            "system:serviceaccount:ci:deployer",
            "system:serviceaccount:debug:toolbox",
            "system:serviceaccount:monitoring:agent",
            "system:serviceaccount:monitoring:pod-watcher",
            "system:serviceaccount:payments:legacy-job",
            "system:serviceaccount:payments:worker",
            "system:serviceaccount:platform:operator",
            "system:serviceaccount:shop:web",
            "system:serviceaccount:tools:helper",
        ]
    );
    assert_eq!(inv.roles, 12);
    assert_eq!(inv.bindings, 13);
    assert_eq!(inv.user_subjects, 1); // alice; the toolbox "User" is a service account
    assert_eq!(inv.group_subjects, 3); // sre, system:serviceaccounts:shop, system:authenticated
    for i in &inv.identities {
        assert_eq!(i.kind, IdentityKind::ServiceAccount);
        assert_eq!(i.kind_from, Provenance::Inventory);
        assert!(i.in_inventory);
        assert!(i
            .privileges
            .policies
            .iter()
            .all(|p| p.kind == PolicyKind::Rbac));
        // Every account is authenticated: the discovery binding reaches all of them.
        assert!(sources(i).contains(&DISCOVERY), "{}", i.id);
    }
    assert_eq!(sa(&inv, "shop", "web").name, "web");

    // Exactly two problems: the missing Role and the unresolvable aggregated ClusterRole.
    let details: Vec<&str> = inv.rejected.iter().map(|r| r.detail.as_str()).collect();
    assert_eq!(inv.rejected.len(), 2, "{details:#?}");
    assert!(inv
        .rejected
        .iter()
        .all(|r| r.reason == RejectReason::InvalidRecord && r.origin == "rbac.json"));
    assert!(details
        .iter()
        .any(|d| d.contains("rolebinding:payments/legacy-binding")
            && d.contains("role:payments/legacy-role")
            && d.contains("not in the input")));
    assert!(details
        .iter()
        .any(|d| d.contains("clusterrole:custom-aggregate") && d.contains("aggregated")));
}

#[test]
fn cluster_admin_bound_to_ci() {
    let inv = fixture();
    let deployer = sa(&inv, "ci", "deployer");
    let p = policy(
        deployer,
        "clusterrole:cluster-admin via clusterrolebinding:ci-deployer-cluster-admin",
    );
    assert_eq!(p.name, "cluster-admin");
    assert_eq!(p.statements.len(), 2);
    let rules = &p.statements[0];
    assert!(rules.allow);
    assert_eq!(rules.sid.as_deref(), Some("rules[0]"));
    assert_eq!(rules.actions, ["k8s:*:*"]);
    assert_eq!(rules.resources, ["*"]);
    assert!(rules.conditions.is_empty()); // apiGroups *
    let urls = &p.statements[1];
    assert_eq!(urls.actions, ["k8s:*:/*"]);

    let f = rbac_findings(&deployer.privileges);
    assert!(f.cluster_admin);
    assert!(f.secrets_read);
    assert!(f.pod_exec);
    assert_eq!(
        f.escalation,
        [
            "bind",
            "create clusterrolebindings",
            "create rolebindings",
            "create serviceaccounts/token",
            "escalate",
            "impersonate"
        ]
    );
    assert_eq!(f.wildcard.len(), 1, "{:?}", f.wildcard);
    assert!(f.wildcard[0].starts_with("clusterrole:cluster-admin via"));
    assert_eq!(
        f.sources["cluster_admin"],
        ["clusterrole:cluster-admin via clusterrolebinding:ci-deployer-cluster-admin"]
    );
}

#[test]
fn controller_lists_and_watches_pods() {
    let inv = fixture();
    let w = sa(&inv, "monitoring", "pod-watcher");
    let p = policy(
        w,
        "clusterrole:pod-watcher via clusterrolebinding:pod-watcher",
    );
    assert_eq!(
        p.statements[0].actions,
        ["k8s:get:pods", "k8s:list:pods", "k8s:watch:pods"]
    );
    assert_eq!(p.statements[0].resources, ["*"]);
    assert_eq!(
        p.statements[0].conditions[CONDITION_OPERATOR][API_GROUP_CONDITION],
        [""]
    );
    assert_eq!(
        p.statements[1].actions,
        ["k8s:create:events", "k8s:patch:events"]
    );
    assert!(rbac_findings(&w.privileges).is_empty());
}

#[test]
fn app_reads_its_own_configmap_and_gets_namespace_group_grants() {
    let inv = fixture();
    let web = sa(&inv, "shop", "web");
    let p = policy(
        web,
        "role:shop/configmap-reader via rolebinding:shop/web-config",
    );
    assert_eq!(p.name, "configmap-reader");
    assert_eq!(p.statements.len(), 1);
    assert_eq!(
        p.statements[0].actions,
        ["k8s:get:configmaps", "k8s:watch:configmaps"]
    );
    assert_eq!(p.statements[0].resources, ["shop/configmaps/shop-config"]);

    // The ClusterRole bound to every service account of the namespace, scoped to it.
    let g = policy(
        web,
        "clusterrole:pod-watcher via rolebinding:shop/all-sa-pods (group system:serviceaccounts:shop)",
    );
    assert!(g.statements.iter().all(|s| s.resources == ["shop/*"]));
    assert!(inv.group_policies["system:serviceaccounts:shop"]
        .iter()
        .any(|d| d.source == g.source));
    // Not given to accounts in other namespaces.
    assert!(!sources(sa(&inv, "payments", "worker")).contains(&g.source.as_str()));
    assert!(rbac_findings(&web.privileges).is_empty());
}

#[test]
fn namespaced_secret_reader() {
    let inv = fixture();
    let worker = sa(&inv, "payments", "worker");
    let p = policy(
        worker,
        "role:payments/secret-reader via rolebinding:payments/read-secrets",
    );
    assert_eq!(p.statements[0].actions, ["k8s:get:secrets"]);
    assert_eq!(p.statements[0].resources, ["payments/*"]);
    assert_eq!(p.statements[1].actions, ["k8s:list:deployments"]);
    assert_eq!(
        p.statements[1].conditions[CONDITION_OPERATOR][API_GROUP_CONDITION],
        ["apps"]
    );
    let f = rbac_findings(&worker.privileges);
    assert!(f.secrets_read);
    assert!(!f.cluster_admin && !f.pod_exec);
    assert!(f.wildcard.is_empty() && f.escalation.is_empty());
    assert_eq!(f.sources["secrets_read"], [p.source.as_str()]);
}

#[test]
fn missing_role_keeps_the_identity_unresolved() {
    let inv = fixture();
    let legacy = sa(&inv, "payments", "legacy-job");
    assert_eq!(
        legacy.privileges.unresolved_policies,
        ["rbac:role:payments/legacy-role"]
    );
    assert_eq!(sources(legacy), [DISCOVERY]);
}

#[test]
fn aggregated_roles_resolve_by_label_or_are_rejected() {
    let inv = fixture();
    let agent = sa(&inv, "monitoring", "agent");
    let p = policy(
        agent,
        "clusterrole:monitoring-aggregate via clusterrolebinding:monitoring-agent",
    );
    let actions: Vec<&str> = p
        .statements
        .iter()
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    for a in [
        "k8s:get:nodes",
        "k8s:watch:nodes/proxy",
        "k8s:get:/metrics",
        "k8s:list:pods",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    assert!(agent.privileges.unresolved_policies.is_empty());

    let helper = sa(&inv, "tools", "helper");
    assert_eq!(
        helper.privileges.unresolved_policies,
        ["rbac:clusterrole:custom-aggregate"]
    );
}

#[test]
fn crd_wildcard_is_not_cluster_admin() {
    let inv = fixture();
    let f = rbac_findings(&sa(&inv, "ci", "crd-installer").privileges);
    assert!(!f.cluster_admin);
    assert_eq!(
        f.wildcard,
        ["clusterrole:crd-admin via clusterrolebinding:crd-installer rules[0]: k8s:*:*"]
    );
    assert!(!f.secrets_read && !f.pod_exec && f.escalation.is_empty());
}

#[test]
fn escalation_and_exec_in_a_namespace() {
    let inv = fixture();
    let op = sa(&inv, "platform", "operator");
    let p = policy(
        op,
        "clusterrole:rbac-manager via rolebinding:platform/operator-rbac",
    );
    assert!(p.statements.iter().all(|s| s.resources == ["platform/*"]));
    let f = rbac_findings(&op.privileges);
    assert_eq!(
        f.escalation,
        [
            "bind",
            "create rolebindings",
            "create serviceaccounts/token",
            "escalate",
            "impersonate"
        ]
    );
    assert!(f.pod_exec);
    assert!(!f.cluster_admin && !f.secrets_read);
    assert_eq!(f.sources["escalation:bind"], [p.source.as_str()]);

    // A `User` subject named like a service account is that service account.
    let toolbox = sa(&inv, "debug", "toolbox");
    assert_eq!(toolbox.name, "toolbox");
    let f = rbac_findings(&toolbox.privileges);
    assert!(f.pod_exec);
    assert!(f.escalation.is_empty());
}

fn doc(v: serde_json::Value) -> RbacInventory {
    parse_rbac(v.to_string().as_bytes(), "t.json").unwrap()
}

#[test]
fn typed_lists_without_item_kinds_and_concatenated_documents() {
    let roles = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleList", "items": [
        {"metadata": {"name": "r", "namespace": "a"},
         "rules": [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}]}
    ]});
    let bindings = json!({"kind": "RoleBindingList", "items": [
        {"metadata": {"name": "b", "namespace": "a"},
         "roleRef": {"kind": "Role", "name": "r"},
         "subjects": [{"kind": "ServiceAccount", "name": "x"}]}
    ]});
    let text = format!("{roles}\n{bindings}\n");
    let inv = parse_rbac(text.as_bytes(), "t.json").unwrap();
    assert!(inv.rejected.is_empty(), "{:#?}", inv.rejected);
    assert_eq!((inv.roles, inv.bindings), (1, 1));
    let x = sa(&inv, "a", "x"); // namespace defaults to the binding's
    assert_eq!(
        policy(x, "role:a/r via rolebinding:a/b").statements[0].actions,
        ["k8s:get:pods/log"]
    );
}

#[test]
fn single_object_and_array_are_read() {
    let crb = json!({"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
        "roleRef": {"kind": "ClusterRole", "name": "gone"},
        "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"}]});
    let inv = doc(crb.clone());
    assert_eq!(inv.bindings, 1);
    assert_eq!(
        inv.identities[0].privileges.unresolved_policies,
        ["rbac:clusterrole:gone"]
    );
    assert_eq!(inv.rejected.len(), 1);
    let inv = doc(json!([crb]));
    assert_eq!(inv.identities.len(), 1);
}

#[test]
fn resource_names_at_cluster_scope_name_parent_resources() {
    let v = json!({"kind": "List", "items": [
        {"kind": "ClusterRole", "metadata": {"name": "r"},
         "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "resourceNames": ["p1"], "verbs": ["create"]}]},
        {"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
         "roleRef": {"kind": "ClusterRole", "name": "r"},
         "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"}]}
    ]});
    let inv = doc(v);
    let st = &inv.identities[0].privileges.policies[0].statements[0];
    assert_eq!(st.actions, ["k8s:create:pods/exec"]);
    assert_eq!(st.resources, ["*/pods/p1", "pods/p1"]);
    assert!(rbac_findings(&inv.identities[0].privileges).pod_exec);
}

#[test]
fn non_resource_urls_are_not_granted_by_a_rolebinding() {
    let v = json!({"kind": "List", "items": [
        {"kind": "ClusterRole", "metadata": {"name": "r"},
         "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]},
        {"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "n"},
         "roleRef": {"kind": "ClusterRole", "name": "r"},
         "subjects": [{"kind": "ServiceAccount", "name": "s"}]}
    ]});
    let inv = doc(v);
    assert!(inv.identities[0].privileges.policies[0]
        .statements
        .is_empty());
}

#[test]
fn bad_objects_are_rejected_and_the_rest_kept() {
    let v = json!({"kind": "List", "items": [
        {"kind": "Role", "metadata": {"name": "no-ns"}, "rules": []},
        {"kind": "ClusterRole", "metadata": {"name": "bad"}, "rules": "nope"},
        {"kind": "ClusterRoleBinding", "metadata": {"name": "to-role"},
         "roleRef": {"kind": "Role", "name": "x"}, "subjects": []},
        {"kind": "RoleBinding", "metadata": {"name": "no-ref", "namespace": "n"}},
        {"kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "n"}},
        {"kind": "ClusterRole", "metadata": {"name": "ok"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": []}]},
        {"kind": "ClusterRole", "metadata": {"name": "ok"}, "rules": []},
        {"kind": "ClusterRoleBinding", "metadata": {"name": "good"},
         "roleRef": {"kind": "ClusterRole", "name": "ok"},
         "subjects": [{"kind": "ServiceAccount", "name": "s"},
                      {"kind": "Robot", "name": "r2"},
                      {"kind": "ServiceAccount", "name": "t", "namespace": "n"}]},
        {"kind": "ClusterRoleBinding", "metadata": {"name": "bad-role"},
         "roleRef": {"kind": "ClusterRole", "name": "bad"},
         "subjects": [{"kind": "ServiceAccount", "name": "u", "namespace": "n"}]}
    ]});
    let inv = doc(v);
    assert_eq!((inv.roles, inv.bindings), (1, 2));
    let by_pos: Vec<(Option<u64>, RejectReason)> = inv
        .rejected
        .iter()
        .map(|r| (r.position, r.reason))
        .collect();
    let expect = [
        (Some(1), RejectReason::InvalidRecord), // Role without namespace
        (Some(2), RejectReason::InvalidRecord), // rules of the wrong type
        (Some(3), RejectReason::InvalidRecord), // ClusterRoleBinding to a Role
        (Some(4), RejectReason::InvalidRecord), // no roleRef
        (Some(5), RejectReason::UnknownFormat), // not RBAC
        (Some(6), RejectReason::InvalidRecord), // a rule without verbs
        (Some(7), RejectReason::InvalidRecord), // duplicate
        (Some(8), RejectReason::InvalidRecord), // SA subject without namespace
        (Some(8), RejectReason::InvalidRecord), // unknown subject kind
        (Some(9), RejectReason::InvalidRecord), // binds a role that was rejected
    ];
    for e in expect {
        assert!(by_pos.contains(&e), "{e:?} not in {:#?}", inv.rejected);
    }
    assert_eq!(inv.rejected.len(), expect.len(), "{:#?}", inv.rejected);
    let ids: Vec<&str> = inv.identities.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        ["system:serviceaccount:n:t", "system:serviceaccount:n:u"]
    );
    assert_eq!(
        sa(&inv, "n", "u").privileges.unresolved_policies,
        ["rbac:clusterrole:bad"]
    );
}

#[test]
fn whole_file_errors() {
    let yaml = b"apiVersion: v1\nkind: List\nitems: []\n";
    let err = parse_rbac(yaml, "r.yaml").unwrap_err();
    assert_eq!(err.reason(), RejectReason::UnknownFormat);
    assert!(err.to_string().contains("JSON only"), "{err}");

    let err = parse_rbac(b"{\"kind\": \"List\", ", "r.json").unwrap_err();
    assert_eq!(err.reason(), RejectReason::NotJson);

    let pods = json!({"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}}]});
    let err = parse_rbac(pods.to_string().as_bytes(), "p.json").unwrap_err();
    assert!(err.to_string().contains("kinds seen: Pod"), "{err}");

    let err = parse_rbac(b"{}", "e.json").unwrap_err();
    assert_eq!(err.reason(), RejectReason::UnknownFormat);

    let err = parse_rbac_with_cap(b"{\"kind\":\"List\",\"items\":[]}", "c.json", 4).unwrap_err();
    assert_eq!(err.reason(), RejectReason::TooLarge);

    // An empty list is an empty, valid input.
    let inv = parse_rbac(br#"{"kind":"List","items":[]}"#, "e.json").unwrap();
    assert!(inv.identities.is_empty() && inv.rejected.is_empty());
}

#[test]
fn aggregation_is_recursive_and_survives_cycles() {
    let v = json!({"kind": "List", "items": [
        {"kind": "ClusterRole", "metadata": {"name": "admin", "labels": {"agg": "top"}},
         "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"to-admin": "true"}}]}},
        {"kind": "ClusterRole", "metadata": {"name": "edit", "labels": {"to-admin": "true"}},
         "aggregationRule": {"clusterRoleSelectors": [
             {"matchExpressions": [{"key": "to-edit", "operator": "In", "values": ["true"]}]}]}},
        {"kind": "ClusterRole", "metadata": {"name": "extra", "labels": {"to-edit": "true"}},
         "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["update"]}]},
        {"kind": "ClusterRole", "metadata": {"name": "loop-a", "labels": {"l": "a"}},
         "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"l": "b"}}]}},
        {"kind": "ClusterRole", "metadata": {"name": "loop-b", "labels": {"l": "b"}},
         "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"l": "a"}}]}},
        {"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
         "roleRef": {"kind": "ClusterRole", "name": "admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"}]}
    ]});
    let inv = doc(v);
    let p = &inv.identities[0].privileges.policies[0];
    assert_eq!(p.statements.len(), 1);
    assert_eq!(p.statements[0].actions, ["k8s:update:deployments"]);
    // Both halves of the cycle are reported as unresolved, nothing hangs.
    assert_eq!(inv.rejected.len(), 2, "{:#?}", inv.rejected);
}

#[test]
fn resource_matching_follows_rbac() {
    assert!(resource_matches("*", "pods/exec"));
    assert!(resource_matches("pods/*", "pods/exec"));
    assert!(resource_matches("*/exec", "pods/exec"));
    assert!(!resource_matches("pods", "pods/exec"));
    assert!(!resource_matches("pods/log", "pods/exec"));
    assert!(!resource_matches("*/scale", "secrets"));
    assert!(verb_matches("*", "get") && !verb_matches("list", "get"));
}

#[test]
fn findings_ignore_non_rbac_policies() {
    let p = Privileges {
        policies: vec![PolicyDoc {
            source: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            name: "AdministratorAccess".into(),
            kind: PolicyKind::Managed,
            statements: vec![Statement {
                allow: true,
                actions: vec!["*".into(), "k8s:*:*".into()],
                resources: vec!["*".into()],
                ..Statement::default()
            }],
        }],
        ..Privileges::default()
    };
    assert!(rbac_findings(&p).is_empty());
}

#[test]
fn load_recognises_every_inventory_format() {
    use crate::inventory::{load, InventoryFormat};
    let dir = tempfile::tempdir().unwrap();
    let authz = json!({"UserDetailList": [{"UserName": "u", "Arn": "arn:aws:iam::123456789012:user/u"}],
                       "RoleDetailList": [], "GroupDetailList": [], "Policies": []});
    let rbac_list = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBindingList",
        "items": [{"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
                   "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "n"}]}]});
    let rbac_array =
        json!([{"kind": "Role", "metadata": {"name": "r", "namespace": "n"}, "rules": []}]);
    let cases: [(&str, String, InventoryFormat); 8] = [
        (
            "rbac.json",
            FIXTURE.to_string(),
            InventoryFormat::KubernetesRbac,
        ),
        (
            "crbl.json",
            rbac_list.to_string(),
            InventoryFormat::KubernetesRbac,
        ),
        (
            "roles.json",
            rbac_array.to_string(),
            InventoryFormat::KubernetesRbac,
        ),
        (
            "gitleaks.json",
            include_str!("../testdata/gitleaks.json").to_string(),
            InventoryFormat::Gitleaks,
        ),
        ("empty.json", "[]".to_string(), InventoryFormat::Gitleaks),
        (
            "th.jsonl",
            include_str!("../testdata/trufflehog.jsonl").to_string(),
            InventoryFormat::Trufflehog,
        ),
        (
            "authz.json",
            authz.to_string(),
            InventoryFormat::AuthorizationDetails,
        ),
        (
            "report.csv",
            include_str!("../testdata/credential_report.csv").to_string(),
            InventoryFormat::CredentialReport,
        ),
    ];
    for (name, body, format) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let loaded =
            load(&path, &crate::Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.format, format, "{name}");
        match format {
            InventoryFormat::Gitleaks | InventoryFormat::Trufflehog => {
                assert!(loaded.identities.is_empty(), "{name}");
                assert_eq!(loaded.leaked.is_empty(), name == "empty.json", "{name}");
            }
            _ => assert!(loaded.leaked.is_empty(), "{name}"),
        }
    }
    let rbac = load(&dir.path().join("rbac.json"), &crate::Limits::default()).unwrap();
    assert_eq!(rbac.identities.len(), 10);
    assert_eq!(rbac.rejected.len(), 2);
    let crbl = load(&dir.path().join("crbl.json"), &crate::Limits::default()).unwrap();
    assert_eq!(
        crbl.identities[0].privileges.unresolved_policies,
        ["rbac:clusterrole:view"]
    );
}
