//! What a Kubernetes API request does, read from its `objectRef` and `requestObject`.
//!
//! Written from the API's semantics: a pod (or anything that templates pods) is dangerous when it
//! escapes its sandbox (privileged, host namespaces, the node's filesystem, kernel capabilities);
//! RBAC is dangerous when it hands out everything (`cluster-admin`, wildcards) or the verbs that
//! mint more (`escalate`, `bind`, `impersonate`); system namespaces and `system:` roles belong to
//! the control plane. Control-plane callers (Kubernetes' own `system:` users and the service
//! accounts of `kube-system`) do these things by design and are left out of the rules that
//! concern system objects.

use serde_json::Value;
use tripline_model::{Technique, Techniques};

/// The request facts the rules need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub username: &'a str,
    pub groups: &'a [String],
    pub verb: &'a str,
    pub resource: Option<&'a str>,
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub request_uri: Option<&'a str>,
    pub object: Option<&'a str>,
    pub allowed: bool,
}

/// Namespaces that belong to the control plane.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Host paths that hand a container the node: its root, configuration, credentials, runtime
/// sockets, kubelet state, kernel interfaces.
const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/var/run",
    "/run",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
    "/etc/kubernetes",
    "/var/log",
    "/usr",
    "/bin",
    "/lib",
];

/// Capabilities that let a container act on the node's kernel or other processes.
const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
];

/// Roles that grant everything in their scope.
const ALL_POWERFUL_ROLES: &[&str] = &["cluster-admin", "admin", "system:masters"];

/// Kinds whose spec carries a pod template, and where.
fn pod_specs(resource: &str, obj: &Value) -> Vec<Value> {
    let at = |path: &[&str]| {
        let mut v = obj;
        for p in path {
            v = v.get(*p)?;
        }
        Some(v.clone())
    };
    let spec = match resource {
        "pods" => at(&["spec"]),
        "deployments"
        | "daemonsets"
        | "statefulsets"
        | "replicasets"
        | "jobs"
        | "replicationcontrollers" => at(&["spec", "template", "spec"]),
        "cronjobs" => at(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    };
    spec.into_iter().collect()
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

fn sensitive_host_path(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p.is_empty()
        || SENSITIVE_HOST_PATHS
            .iter()
            .any(|s| p == *s || p.strip_prefix(s).is_some_and(|r| r.starts_with('/')))
        || p.ends_with(".sock")
}

/// A pod spec that escapes its sandbox.
pub(crate) fn escapes_sandbox(spec: &Value) -> bool {
    if ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .any(|k| is_true(spec.get(*k)))
    {
        return true;
    }
    let containers = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten();
    for c in containers {
        let sc = c.get("securityContext");
        if is_true(sc.and_then(|s| s.get("privileged"))) {
            return true;
        }
        let adds = sc
            .and_then(|s| s.get("capabilities"))
            .and_then(|c| c.get("add"))
            .and_then(Value::as_array);
        if adds.is_some_and(|a| {
            a.iter().filter_map(Value::as_str).any(|cap| {
                let cap = cap.trim_start_matches("CAP_").to_ascii_uppercase();
                DANGEROUS_CAPABILITIES.contains(&cap.as_str())
            })
        }) {
            return true;
        }
    }
    spec.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("hostPath")?.get("path")?.as_str())
        .any(sensitive_host_path)
}

/// An RBAC rule set that grants everything, the verbs that mint privilege, or the resources that
/// are a step from it.
fn rules_escalate(obj: &Value) -> bool {
    let rules = obj.get("rules").and_then(Value::as_array);
    rules.into_iter().flatten().any(|r| {
        let list = |k: &str| -> Vec<String> {
            r.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default()
        };
        let verbs = list("verbs");
        let resources = list("resources");
        let any = |v: &[String], x: &str| v.iter().any(|s| s == x);
        let reads_or_more = |v: &[String]| {
            v.iter()
                .any(|s| ["*", "get", "list", "watch", "create"].contains(&s.as_str()))
        };
        any(&verbs, "*")
            || any(&resources, "*")
            || ["escalate", "bind", "impersonate"]
                .iter()
                .any(|x| any(&verbs, x))
            || ([
                "pods/exec",
                "pods/attach",
                "serviceaccounts/token",
                "nodes/proxy",
            ]
            .iter()
            .any(|x| any(&resources, x))
                && reads_or_more(&verbs))
            || (any(&resources, "secrets") && reads_or_more(&verbs))
    })
}

/// A binding whose role grants everything, or whose subjects are everyone.
fn binding_escalates(obj: &Value) -> bool {
    let role = obj
        .get("roleRef")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let everyone = obj
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .any(|n| {
            matches!(
                n,
                "system:anonymous" | "system:unauthenticated" | "system:authenticated"
            )
        });
    ALL_POWERFUL_ROLES.contains(&role) || everyone
}

/// `system:serviceaccount:<ns>:<name>` → (ns, name).
fn service_account(username: &str) -> Option<(&str, &str)> {
    username
        .strip_prefix("system:serviceaccount:")?
        .split_once(':')
}

/// Kubernetes' own components and the controllers that run in system namespaces.
fn control_plane(username: &str) -> bool {
    match service_account(username) {
        Some((ns, _)) => SYSTEM_NAMESPACES.contains(&ns),
        None => {
            username.starts_with("system:")
                && username != "system:anonymous"
                && !username.starts_with("system:node:")
        }
    }
}

fn writes(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

/// Endpoints that clusters open to everyone by default (health, version, discovery of the
/// service-account issuer).
fn public_by_default(uri: &str) -> bool {
    let path = uri.split('?').next().unwrap_or(uri);
    [
        "/healthz",
        "/livez",
        "/readyz",
        "/version",
        "/.well-known/openid-configuration",
        "/openid/v1/jwks",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The techniques one request performs.
pub(crate) fn techniques(r: Request<'_>) -> Techniques {
    let mut t = Techniques::EMPTY;
    let resource = r.resource.unwrap_or("");
    let parse = || r.object.and_then(|o| serde_json::from_str::<Value>(o).ok());
    let anonymous =
        r.username == "system:anonymous" || r.groups.iter().any(|g| g == "system:unauthenticated");
    if anonymous && r.allowed && !r.request_uri.is_some_and(public_by_default) {
        t.insert(Technique::K8sAnonymousAllowed);
    }
    if resource == "pods" && matches!(r.subresource, Some("exec" | "attach" | "portforward")) {
        t.insert(Technique::K8sPodExec);
    }
    if resource == "pods" && r.subresource == Some("ephemeralcontainers") && writes(r.verb) {
        t.insert(Technique::K8sPodExec);
    }
    let creates_or_changes = matches!(r.verb, "create" | "update" | "patch");
    if creates_or_changes && r.subresource.is_none() {
        if let Some(obj) = parse() {
            if pod_specs(resource, &obj).iter().any(escapes_sandbox) {
                t.insert(Technique::K8sPrivilegedWorkload);
            }
            let rbac_escalates = match resource {
                "clusterroles" | "roles" => rules_escalate(&obj),
                "clusterrolebindings" | "rolebindings" => binding_escalates(&obj),
                _ => false,
            };
            if rbac_escalates && !control_plane(r.username) {
                t.insert(Technique::K8sRbacEscalation);
            }
        }
    }
    let caller_ns = service_account(r.username).map(|(ns, _)| ns);
    if writes(r.verb) && !control_plane(r.username) {
        let system_target = r
            .namespace
            .is_some_and(|ns| SYSTEM_NAMESPACES.contains(&ns));
        let workload_or_access = matches!(
            resource,
            "pods"
                | "serviceaccounts"
                | "secrets"
                | "deployments"
                | "daemonsets"
                | "statefulsets"
                | "replicasets"
                | "jobs"
                | "cronjobs"
                | "roles"
                | "rolebindings"
                | "configmaps"
                | "services"
        );
        if system_target && workload_or_access && caller_ns != r.namespace {
            t.insert(Technique::K8sSystemNamespaceWrite);
        }
        let system_role = matches!(resource, "clusterroles" | "clusterrolebindings")
            && r.name.is_some_and(|n| n.starts_with("system:"))
            && r.verb != "create";
        if system_role {
            t.insert(Technique::K8sSystemRoleChanged);
        }
    }
    if resource == "serviceaccounts" && r.subresource == Some("token") && r.verb == "create" {
        let own = service_account(r.username)
            .is_some_and(|(ns, name)| Some(ns) == r.namespace && Some(name) == r.name);
        if !own && !r.username.starts_with("system:node:") && !control_plane(r.username) {
            t.insert(Technique::K8sTokenRequest);
        }
    }
    if resource == "secrets"
        && matches!(r.verb, "get" | "list" | "watch")
        && !control_plane(r.username)
        && !r.username.starts_with("system:node:")
    {
        // A workload reading its own namespace's secrets is ordinary; across namespaces or the
        // whole cluster it is collection.
        let elsewhere = match (caller_ns, r.namespace) {
            (_, None) => true,
            (Some(mine), Some(theirs)) => mine != theirs,
            (None, Some(_)) => false,
        };
        if elsewhere {
            t.insert(Technique::K8sSecretRead);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(
        user: &'a str,
        verb: &'a str,
        resource: &'a str,
        ns: Option<&'a str>,
        obj: &'a str,
    ) -> Request<'a> {
        Request {
            username: user,
            groups: &[],
            verb,
            resource: Some(resource),
            subresource: None,
            namespace: ns,
            name: None,
            request_uri: None,
            object: Some(obj),
            allowed: true,
        }
    }

    const SA: &str = "system:serviceaccount:apps:builder";

    #[test]
    fn pods_that_escape_their_sandbox_in_any_workload_kind() {
        let privileged = r#"{"kind":"Pod","spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true}}]}}"#;
        let host_net = r#"{"spec":{"hostNetwork":true,"containers":[{"name":"c"}]}}"#;
        let root_mount = r#"{"spec":{"containers":[{"name":"c"}],"volumes":[{"name":"h","hostPath":{"path":"/"}}]}}"#;
        let socket = r#"{"spec":{"containers":[{"name":"c"}],"volumes":[{"name":"h","hostPath":{"path":"/var/run/docker.sock"}}]}}"#;
        let caps = r#"{"spec":{"containers":[{"name":"c","securityContext":{"capabilities":{"add":["SYS_ADMIN"]}}}]}}"#;
        for obj in [privileged, host_net, root_mount, socket, caps] {
            assert!(
                techniques(req(SA, "create", "pods", Some("apps"), obj))
                    .contains(Technique::K8sPrivilegedWorkload),
                "{obj}"
            );
        }
        let ds = r#"{"spec":{"template":{"spec":{"hostPID":true,"containers":[{"name":"c"}]}}}}"#;
        assert!(
            techniques(req(SA, "create", "daemonsets", Some("apps"), ds))
                .contains(Technique::K8sPrivilegedWorkload)
        );
        let cron = r#"{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}}}}}}"#;
        assert!(
            techniques(req(SA, "create", "cronjobs", Some("apps"), cron))
                .contains(Technique::K8sPrivilegedWorkload)
        );
        // Near misses: an ordinary pod, a harmless host path, a dropped capability, NET_BIND_SERVICE.
        let plain = r#"{"spec":{"containers":[{"name":"c","securityContext":{"privileged":false,"capabilities":{"drop":["ALL"],"add":["NET_BIND_SERVICE"]}}}],"volumes":[{"name":"d","hostPath":{"path":"/data/cache"}},{"name":"e","emptyDir":{}}]}}"#;
        assert!(techniques(req(SA, "create", "pods", Some("apps"), plain)).is_empty());
    }

    #[test]
    fn rbac_that_hands_out_everything_or_the_verbs_that_mint_more() {
        let admin = r#"{"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"x","namespace":"apps"}]}"#;
        let view = r#"{"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"x","namespace":"apps"}]}"#;
        assert!(
            techniques(req(SA, "create", "clusterrolebindings", None, admin))
                .contains(Technique::K8sRbacEscalation)
        );
        assert!(
            !techniques(req(SA, "create", "clusterrolebindings", None, view))
                .contains(Technique::K8sRbacEscalation)
        );
        let wild = r#"{"rules":[{"apiGroups":[""],"resources":["*"],"verbs":["get"]}]}"#;
        let exec = r#"{"rules":[{"apiGroups":[""],"resources":["pods/exec"],"verbs":["create"]}]}"#;
        let imp = r#"{"rules":[{"apiGroups":[""],"resources":["users"],"verbs":["impersonate"]}]}"#;
        let read_pods = r#"{"rules":[{"apiGroups":[""],"resources":["pods","pods/log"],"verbs":["get","list"]}]}"#;
        for obj in [wild, exec, imp] {
            assert!(
                techniques(req(SA, "create", "clusterroles", None, obj))
                    .contains(Technique::K8sRbacEscalation),
                "{obj}"
            );
        }
        assert!(
            !techniques(req(SA, "create", "clusterroles", None, read_pods))
                .contains(Technique::K8sRbacEscalation)
        );
    }

    #[test]
    fn system_namespaces_and_roles_but_not_for_the_control_plane() {
        let pod = r#"{"spec":{"containers":[{"name":"c"}]}}"#;
        assert!(
            techniques(req(SA, "create", "pods", Some("kube-system"), pod))
                .contains(Technique::K8sSystemNamespaceWrite)
        );
        assert!(techniques(req(
            SA,
            "create",
            "serviceaccounts",
            Some("kube-public"),
            "{}"
        ))
        .contains(Technique::K8sSystemNamespaceWrite));
        let controller = "system:serviceaccount:kube-system:daemon-set-controller";
        assert!(techniques(req(controller, "create", "pods", Some("kube-system"), pod)).is_empty());
        assert!(techniques(req(
            "system:kube-controller-manager",
            "update",
            "leases",
            Some("kube-system"),
            "{}"
        ))
        .is_empty());
        let mut r = req(SA, "patch", "clusterroles", None, "{}");
        r.name = Some("system:node");
        assert!(techniques(r).contains(Technique::K8sSystemRoleChanged));
        let mut r = req(SA, "delete", "clusterrolebindings", None, "{}");
        r.name = Some("system:kube-dns");
        assert!(techniques(r).contains(Technique::K8sSystemRoleChanged));
        let mut r = req("system:apiserver", "update", "clusterroles", None, "{}");
        r.name = Some("system:node");
        assert!(!techniques(r).contains(Technique::K8sSystemRoleChanged));
    }

    #[test]
    fn exec_anonymous_tokens_and_secrets() {
        let mut r = req(SA, "create", "pods", Some("apps"), "{}");
        r.subresource = Some("exec");
        r.object = None;
        assert!(techniques(r).contains(Technique::K8sPodExec));
        let mut anon = req("system:anonymous", "get", "secrets", Some("apps"), "{}");
        anon.object = None;
        assert!(techniques(anon).contains(Technique::K8sAnonymousAllowed));
        anon.allowed = false;
        assert!(!techniques(anon).contains(Technique::K8sAnonymousAllowed));
        let mut health = req("system:anonymous", "get", "", None, "{}");
        health.resource = None;
        health.request_uri = Some("/healthz?verbose");
        assert!(!techniques(health).contains(Technique::K8sAnonymousAllowed));
        let mut tok = req(SA, "create", "serviceaccounts", Some("apps"), "{}");
        tok.subresource = Some("token");
        tok.name = Some("deployer");
        assert!(techniques(tok).contains(Technique::K8sTokenRequest));
        tok.name = Some("builder");
        assert!(!techniques(tok).contains(Technique::K8sTokenRequest));
        assert!(
            techniques(req(SA, "list", "secrets", None, "{}")).contains(Technique::K8sSecretRead)
        );
        assert!(
            techniques(req(SA, "get", "secrets", Some("payments"), "{}"))
                .contains(Technique::K8sSecretRead)
        );
        assert!(!techniques(req(SA, "get", "secrets", Some("apps"), "{}"))
            .contains(Technique::K8sSecretRead));
    }
}
