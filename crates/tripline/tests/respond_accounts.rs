//! `scan --respond apply` in an organisation (moto_server on loopback, several account ids):
//! the same role name in two accounts, a connector for one of them. Only the identity's own
//! account is ever changed; the other is refused and recorded. Stale evidence is refused, and
//! the per-run cap holds. The session reset is read back through the IAM API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tripline_respond::aws::AwsConnector;
use tripline_respond::AccountRef;

const PROD: &str = "619854769921";
const DEV: &str = "789027099975";

struct Moto(Child, u16);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let m = Moto(child, port);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    m
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn acct(a: &str) -> AccountRef {
    AccountRef {
        partition: "aws".into(),
        account: a.into(),
    }
}

/// CloudTrail records of a role session in `account`: routine reads, then a sensitive call.
fn events(account: &str, role: &str, at: i64, tag: &str) -> String {
    let mut out = String::new();
    for (n, (src, name)) in [
        ("s3.amazonaws.com", "ListBuckets"),
        ("iam.amazonaws.com", "CreateAccessKey"),
    ]
    .iter()
    .enumerate()
    {
        let t = tripline_model::Timestamp::from_secs(at + n as i64).to_string();
        out.push_str(&format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROA:{role}","arn":"arn:aws:sts::{account}:assumed-role/{role}/s1","accountId":"{account}","accessKeyId":"ASIA{tag}{n}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}}}}}},"eventTime":"{t}","eventSource":"{src}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15","eventID":"{tag}-{account}-{role}-{n}","eventType":"AwsApiCall","recipientAccountId":"{account}"}}"#
        ));
        out.push('\n');
    }
    out
}

struct Org {
    _moto: Moto,
    prod: AwsConnector,
    dev: AwsConnector,
    dir: tempfile::TempDir,
}

impl Org {
    fn start() -> Org {
        let m = moto();
        let endpoint = format!("http://127.0.0.1:{}", m.1);
        let base = AwsConnector::with_credentials(
            Some(endpoint.clone()),
            "us-east-1",
            "testing",
            "testing",
        )
        .unwrap();
        let prod = base.assume_into(&acct(PROD), "tripline-response").unwrap();
        let dev = base.assume_into(&acct(DEV), "tripline-response").unwrap();
        for (c, names) in [
            (&prod, &["gha-deploy-orders", "gha-deploy-payments"][..]),
            (&dev, &["gha-deploy-orders"][..]),
        ] {
            for n in names {
                c.block_on(
                    c.iam()
                        .create_role()
                        .role_name(*n)
                        .assume_role_policy_document("{}")
                        .send(),
                )
                .unwrap();
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Only the prod account is served: org mode, the response role assumed in it.
        std::fs::write(
            d.join("connectors.toml"),
            format!(
                "[aws_org]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_key_id_env = \"T_KEY\"\nsecret_access_key_env = \"T_SECRET\"\nsecrets_dir = \"{}\"\nresponse_role = \"tripline-response\"\naccounts = [\"{PROD}\"]\n",
                d.join("secrets").display()
            ),
        )
        .unwrap();
        // Low thresholds: every identity reaches the credential-reset tier without an approval.
        let row = r#"{"notify": 1, "step_up": 2, "jit_restrict": 3, "rotate": 4, "owner_review": 99, "contain": 100}"#;
        let classes = [
            "admin_facing",
            "ci_cd",
            "shared_integration",
            "agent",
            "workload",
            "batch_job",
            "telemetry",
            "unclassified",
        ];
        let thresholds: Vec<String> = classes.iter().map(|c| format!("\"{c}\": {row}")).collect();
        std::fs::write(
            d.join("data.json"),
            format!(
                r#"{{"escalation": {{"thresholds": {{{}}}}}}}"#,
                thresholds.join(", ")
            ),
        )
        .unwrap();
        Org {
            _moto: m,
            prod,
            dev,
            dir,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn trail(&self, name: &str, at: i64, tag: &str) -> String {
        let body = [
            events(PROD, "gha-deploy-orders", at, tag),
            events(PROD, "gha-deploy-payments", at + 10, tag),
            events(DEV, "gha-deploy-orders", at + 20, tag),
        ]
        .concat();
        std::fs::write(self.path(name), body).unwrap();
        self.path(name)
    }

    fn scan(&self, trail: &str, extra: &[&str]) -> serde_json::Value {
        json_ok(
            tripline()
                .env("T_KEY", "testing")
                .env("T_SECRET", "testing")
                .args(["scan", "--logs", trail, "--format", "json", "--all"])
                .args([
                    "--respond",
                    "apply",
                    "--connectors",
                    &self.path("connectors.toml"),
                ])
                .args(["--ledger", &self.path("actions.sqlite")])
                .args(["--policy-data", &self.path("data.json")])
                .args(extra),
        )
    }
}

fn policies(c: &AwsConnector, role: &str) -> Vec<String> {
    c.block_on(c.iam().list_role_policies().role_name(role).send())
        .unwrap()
        .policy_names()
        .to_vec()
}

fn outcomes<'a>(doc: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    identity(doc, id)["applied"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

fn statuses(doc: &serde_json::Value, id: &str) -> Vec<String> {
    outcomes(doc, id)
        .iter()
        .filter(|o| o["connector"] == "aws")
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn only_the_identitys_own_account_is_changed_stale_input_is_refused_and_the_cap_holds() {
    let org = Org::start();
    let prod_orders = format!("arn:aws:iam::{PROD}:role/gha-deploy-orders");
    let prod_payments = format!("arn:aws:iam::{PROD}:role/gha-deploy-payments");
    let dev_orders = format!("arn:aws:iam::{DEV}:role/gha-deploy-orders");

    // Seven weeks old: refused, nothing anywhere.
    let old = org.trail("old.jsonl", now_secs() - 49 * 86_400, "O");
    let doc = org.scan(&old, &[]);
    for id in [&prod_orders, &prod_payments, &dev_orders] {
        let st: Vec<_> = outcomes(&doc, id)
            .into_iter()
            .filter(|o| o["connector"] == "aws")
            .collect();
        assert!(!st.is_empty(), "{id}: no outcome in {doc:#}");
        for o in st {
            assert_eq!(o["status"], "refused", "{o:#}");
            // The dev identity is refused for its account before its age is looked at.
            let why = if id == &dev_orders { DEV } else { "older than" };
            assert!(o["detail"].as_str().unwrap().contains(why), "{o:#}");
        }
    }
    for (c, r) in [
        (&org.prod, "gha-deploy-orders"),
        (&org.prod, "gha-deploy-payments"),
        (&org.dev, "gha-deploy-orders"),
    ] {
        assert!(policies(c, r).is_empty());
    }

    // Fresh, with a cap of one restricted identity.
    let fresh = org.trail("fresh.jsonl", now_secs() - 3600, "F");
    let doc = org.scan(&fresh, &["--max-restricted", "1"]);
    // The dev role of the same name: refused (its account is not served), nothing applied.
    let dev = statuses(&doc, &dev_orders);
    assert!(
        !dev.is_empty() && dev.iter().all(|s| s == "refused"),
        "{dev:?}"
    );
    let detail = outcomes(&doc, &dev_orders)
        .into_iter()
        .find(|o| o["connector"] == "aws")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains(DEV) && detail.contains(PROD), "{detail}");
    assert!(policies(&org.dev, "gha-deploy-orders").is_empty());
    // Exactly one prod identity changed; the other is held back by the cap.
    let a = statuses(&doc, &prod_orders);
    let b = statuses(&doc, &prod_payments);
    let applied = |v: &Vec<String>| v.iter().any(|s| s == "applied");
    assert!(applied(&a) ^ applied(&b), "{a:?} {b:?}");
    let capped = if applied(&a) { &b } else { &a };
    assert!(capped.iter().all(|s| s == "skipped"), "{capped:?}");
    let (done_role, done_id) = if applied(&a) {
        ("gha-deploy-orders", &prod_orders)
    } else {
        ("gha-deploy-payments", &prod_payments)
    };
    // A stolen session is answered by a session reset, read back through IAM.
    let reset = outcomes(&doc, done_id)
        .into_iter()
        .find(|o| o["kind"] == "reset_sessions")
        .unwrap_or_else(|| panic!("no reset_sessions in {doc:#}"));
    assert_eq!(reset["status"], "applied", "{reset:#}");
    let names = policies(&org.prod, done_role);
    let name = names
        .iter()
        .find(|n| n.starts_with("tripline-reset-sessions-"))
        .unwrap_or_else(|| panic!("{names:?}"));
    let doc_text = org
        .prod
        .block_on(
            org.prod
                .iam()
                .get_role_policy()
                .role_name(done_role)
                .policy_name(name)
                .send(),
        )
        .unwrap()
        .policy_document()
        .to_string();
    assert!(
        doc_text.contains("aws:TokenIssueTime") || doc_text.contains("aws%3ATokenIssueTime"),
        "{doc_text}"
    );
    // The decision never carries an unapproved containment.
    for id in [&prod_orders, &prod_payments, &dev_orders] {
        let d = &identity(&doc, id)["decision"];
        assert!(
            d["actions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["type"] != "contain"),
            "{d:#}"
        );
    }
    // The refusal is recorded in the ledger.
    let list =
        stdout_ok(tripline().args(["action", "--ledger", &org.path("actions.sqlite"), "list"]));
    assert!(
        list.lines()
            .any(|l| l.contains(&dev_orders) && l.contains("refused")),
        "{list}"
    );

    // The next run, with room: the other prod role now, the first one is already applied.
    // Its cases (the identities have no owner in any owners file) go to the default owner.
    let cases = org.path("cases.sqlite");
    let doc = org.scan(
        &fresh,
        &["--cases", &cases, "--default-owner", "secops@example.com"],
    );
    let list = stdout_ok(tripline().args(["case", "--cases", &cases, "list"]));
    assert!(
        list.lines()
            .filter(|l| l.contains(&prod_orders))
            .all(|l| l.contains("owner secops@example.com")),
        "{list}"
    );
    assert!(list.contains(&prod_orders), "{list}");
    let first = statuses(&doc, done_id);
    assert!(first.iter().any(|s| s == "already_applied"), "{first:?}");
    assert!(!first.iter().any(|s| s == "applied"), "{first:?}");
    let other = if done_id == &prod_orders {
        &prod_payments
    } else {
        &prod_orders
    };
    assert!(statuses(&doc, other).iter().any(|s| s == "applied"));
    assert!(policies(&org.dev, "gha-deploy-orders").is_empty());
}

/// Commands that read a ledger or a case book say which flag gives it.
#[test]
fn missing_stores_name_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.sqlite");
    let missing = missing.to_str().unwrap();
    for (args, flag) in [
        (vec!["action", "--ledger", missing, "list"], "--ledger"),
        (vec!["case", "--cases", missing, "list"], "--cases"),
    ] {
        let out = tripline().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag) && err.contains("no such file"), "{err}");
    }
    assert!(!tmp.path().join("nope.sqlite").exists(), "nothing created");
}
