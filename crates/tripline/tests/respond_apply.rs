//! `scan --respond apply` end to end against real servers started here on loopback: an
//! AWS-compatible API (moto_server), and for the Vault-bound cases OpenBao with PostgreSQL. The
//! leaked key is rotated once, undo (by action or by case) puts the systems back as they were,
//! restrictions are extended and lifted by the case sweep, and a case approval unlocks the
//! irreversible lease reset.
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

struct Moto(Child, u16);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto() -> Moto {
    let has = Command::new("python3")
        .args(["-c", "import moto.server, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        let st = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "moto[server]"])
            .status()
            .unwrap();
        assert!(st.success(), "pip install moto[server] failed");
    }
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

fn keys(c: &AwsConnector, user: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = c
        .list_keys(user)
        .unwrap()
        .into_iter()
        .map(|(id, st)| (id, st.as_str().to_string()))
        .collect();
    v.sort();
    v
}

#[path = "../../respond/tests/bao_support/mod.rs"]
#[allow(dead_code)]
mod bao_support;

/// A leaked access key of `svc-report`, seen in use in CloudTrail and reported by gitleaks; the
/// connectors file names moto, and with Vault also binds the user to the Vault role `ro`.
struct Org {
    _moto: Moto,
    bao: Option<bao_support::Bao>,
    admin: AwsConnector,
    key_id: String,
    dir: tempfile::TempDir,
}

impl Org {
    fn start() -> Org {
        let m = moto();
        let endpoint = format!("http://127.0.0.1:{}", m.1);
        let admin = AwsConnector::with_credentials(
            Some(endpoint.clone()),
            "us-east-1",
            "testing",
            "testing",
        )
        .unwrap();
        admin
            .block_on(admin.iam().create_user().user_name("svc-report").send())
            .unwrap();
        let key = admin
            .block_on(
                admin
                    .iam()
                    .create_access_key()
                    .user_name("svc-report")
                    .send(),
            )
            .unwrap();
        let key_id = key.access_key().unwrap().access_key_id().to_string();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let arn = "arn:aws:iam::123456789012:user/svc-report";
        // An hour ago: `--respond apply` refuses evidence older than a day.
        let fresh = tripline_model::Timestamp::from_secs(now_secs() - 3600).to_string();
        let event = format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"{arn}","accountId":"123456789012","accessKeyId":"{key_id}","userName":"svc-report"}},"eventTime":"{fresh}","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"123456789012"}}"#
        );
        std::fs::write(d.join("trail.jsonl"), format!("{event}\n")).unwrap();
        let leak = serde_json::json!([{
            "Description": "AWS Access Key", "StartLine": 1, "EndLine": 1, "StartColumn": 1, "EndColumn": 20,
            "Match": key_id, "Secret": key_id, "File": "ops/run.sh", "SymlinkFile": "", "Commit": "abc1234",
            "Entropy": 3.0, "Author": "a", "Email": "a@example.com", "Date": "2025-12-31T00:00:00Z", "Message": "m",
            "Tags": [], "RuleID": "aws-access-token", "Fingerprint": "abc1234:ops/run.sh:aws-access-token:1"
        }]);
        std::fs::write(d.join("gitleaks.json"), leak.to_string()).unwrap();
        std::fs::write(
            d.join("connectors.toml"),
            format!(
                "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_key_id_env = \"T_KEY\"\nsecret_access_key_env = \"T_SECRET\"\nsecrets_dir = \"{}\"\n",
                d.join("secrets").display()
            ),
        )
        .unwrap();
        Org {
            _moto: m,
            bao: None,
            admin,
            key_id,
            dir,
        }
    }

    /// With OpenBao: `[vault]` binds `svc-*` users to the role `ro` (credentials of 60 s,
    /// at most 120 s; capped to 30 s when restricted), and rotations expire after
    /// `restrict_secs`. `None` when PostgreSQL is not there (a failure under CI).
    fn with_vault(restrict_secs: u64) -> Option<Org> {
        let mut org = Org::start();
        let bao = bao_support::Bao::start();
        if !bao.setup_database(60) {
            return None;
        }
        let mut conf = std::fs::read_to_string(org.path("connectors.toml")).unwrap();
        conf.push_str(&format!(
            "\n[vault]\naddress = \"{}\"\ntoken_env = \"T_VAULT\"\nrestrict_ttl_secs = 30\n\n\
             [[vault.bind]]\nidentity = \"arn:aws:iam::*:user/svc-*\"\nrole = \"ro\"\n",
            bao.addr
        ));
        std::fs::write(org.path("connectors.toml"), conf).unwrap();
        std::fs::write(
            org.path("data.json"),
            format!(r#"{{"escalation": {{"expires_in_secs": {{"rotate": {restrict_secs}}}}}}}"#),
        )
        .unwrap();
        org.bao = Some(bao);
        Some(org)
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn bao(&self) -> &bao_support::Bao {
        self.bao.as_ref().unwrap()
    }

    /// `tripline` with the connectors' secrets in its environment.
    fn cmd(&self) -> assert_cmd::Command {
        let mut c = tripline();
        c.env("T_KEY", "testing").env("T_SECRET", "testing");
        if let Some(b) = &self.bao {
            c.env("T_VAULT", &b.token);
        }
        c
    }

    fn scan(&self) -> serde_json::Value {
        let mut c = self.cmd();
        c.args(["scan", "--logs", &self.path("trail.jsonl")])
            .args(["--inventory", &self.path("gitleaks.json")])
            .args([
                "--respond",
                "apply",
                "--connectors",
                &self.path("connectors.toml"),
            ])
            .args(["--ledger", &self.path("actions.sqlite")])
            .args(["--evidence", &self.path("evidence.sqlite")])
            .args(["--cases", &self.path("cases.sqlite"), "--format", "json"]);
        if self.bao.is_some() {
            c.args(["--policy-data", &self.path("data.json")]);
        }
        json_ok(&mut c)
    }

    /// `tripline case … <args>` as the admin, with the connectors; stdout.
    fn case(&self, args: &[&str]) -> String {
        stdout_ok(
            self.cmd()
                .args([
                    "case",
                    "--cases",
                    &self.path("cases.sqlite"),
                    "--admin",
                    "secops",
                ])
                .args(["--ledger", &self.path("actions.sqlite")])
                .args(["--connectors", &self.path("connectors.toml")])
                .args(["--evidence", &self.path("evidence.sqlite")])
                .args(args),
        )
    }

    fn case_line(&self) -> String {
        let list = self.case(&["list"]);
        list.lines()
            .find(|l| l.contains("user/svc-report"))
            .unwrap_or_else(|| panic!("{list}"))
            .to_string()
    }

    fn case_id(&self) -> String {
        self.case_line()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    fn keys(&self) -> Vec<(String, String)> {
        keys(&self.admin, "svc-report")
    }

    fn role_ttls(&self) -> (u64, u64) {
        let v = self
            .bao()
            .root("GET", "database/roles/ro", serde_json::Value::Null);
        (
            v["data"]["default_ttl"].as_u64().unwrap(),
            v["data"]["max_ttl"].as_u64().unwrap(),
        )
    }
}

fn outcome<'a>(doc: &'a serde_json::Value, connector: &str, kind: &str) -> &'a serde_json::Value {
    let ident = identity(doc, "user/svc-report");
    ident["applied"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["connector"] == connector && a["kind"] == kind)
        .unwrap_or_else(|| panic!("no {connector} {kind} in {ident:#}"))
}

#[test]
fn leaked_key_is_rotated_once_and_undo_restores_the_account() {
    let org = Org::start();
    let doc = org.scan();
    let rotate = outcome(&doc, "aws", "rotate");
    assert_eq!(rotate["status"], "applied", "{rotate:#}");
    let after = org.keys();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.contains(&(org.key_id.clone(), "Inactive".into())),
        "old key deactivated: {after:?}"
    );
    // The new secret went to a 0600 file, and nowhere else.
    let files: Vec<_> = std::fs::read_dir(org.path("secrets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let secret_text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        !doc.to_string().contains(secret_text.trim()),
        "secret leaked into the report"
    );

    // A retry (same day, same decision) does not rotate twice, and says so.
    let again = org.scan();
    assert_eq!(org.keys().len(), 2);
    let rotate_again = outcome(&again, "aws", "rotate");
    assert_eq!(
        rotate_again["status"], "already_applied",
        "{rotate_again:#}"
    );

    // Undo restores the account.
    let action_id = rotate["action_id"].as_str().unwrap();
    stdout_ok(org.cmd().args([
        "action",
        "--ledger",
        &org.path("actions.sqlite"),
        "--connectors",
        &org.path("connectors.toml"),
        "undo",
        action_id,
    ]));
    assert_eq!(org.keys(), vec![(org.key_id.clone(), "Active".to_string())]);
    let list =
        stdout_ok(tripline().args(["action", "--ledger", &org.path("actions.sqlite"), "list"]));
    assert!(list.contains("undone"), "{list}");
    // The evidence of both runs verifies.
    evidence_verifies(org.dir.path().join("evidence.sqlite").as_path());
}

#[test]
fn vault_bound_identity_is_restricted_and_case_undo_restores_both_systems() {
    let Some(org) = Org::with_vault(3600) else {
        return;
    };
    let doc = org.scan();
    assert_eq!(outcome(&doc, "aws", "rotate")["status"], "applied");
    assert_eq!(outcome(&doc, "vault", "restrict")["status"], "applied");
    // The irreversible lease reset waits for an approval; the restriction stands in for it.
    let held = outcome(&doc, "vault", "reset_leases");
    assert_eq!(held["status"], "held", "{held:#}");
    assert_eq!(org.role_ttls(), (30, 30));
    assert_eq!(org.keys().len(), 2);
    let line = org.case_line();
    assert!(line.contains("restricted"), "{line}");

    // The owner's undo puts both systems back as they were, read back through their APIs.
    org.case(&["undo", &org.case_id(), "--as", "secops"]);
    assert_eq!(org.role_ttls(), (60, 120));
    assert_eq!(org.keys(), vec![(org.key_id.clone(), "Active".to_string())]);
    let line = org.case_line();
    assert!(line.contains(" open "), "{line}");
    // The next scan does not re-apply what the owner undid for this incident.
    let again = org.scan();
    let rotate = outcome(&again, "aws", "rotate");
    assert_eq!(rotate["status"], "skipped", "{rotate:#}");
    assert_eq!(org.role_ttls(), (60, 120));
    // Every step is in the evidence, which verifies.
    evidence_verifies(org.dir.path().join("evidence.sqlite").as_path());
}

#[test]
fn an_extended_restriction_outlives_its_first_end_and_an_approval_unlocks_the_lease_reset() {
    let Some(org) = Org::with_vault(4) else {
        return;
    };
    let doc = org.scan();
    assert_eq!(outcome(&doc, "vault", "restrict")["status"], "applied");
    assert_eq!(org.role_ttls(), (30, 30));
    let id = org.case_id();

    // Extended by the admin: the end moves in the ledger, so the expiry sweep leaves it alone.
    org.case(&["extend", &id, "--as", "secops", "--secs", "600"]);
    std::thread::sleep(Duration::from_secs(5));
    org.case(&["sweep"]);
    assert_eq!(org.role_ttls(), (30, 30), "extended restriction was lifted");
    assert!(org.case_line().contains("restricted"));

    org.case(&["undo", &id, "--as", "secops"]);
    assert_eq!(org.role_ttls(), (60, 120));

    // An approval on the case unlocks the irreversible reset for this identity only.
    let a = org
        .bao()
        .root("GET", "database/creds/ro", serde_json::Value::Null);
    let lease = a["lease_id"].as_str().unwrap().to_string();
    org.case(&["approve", &id, "--as", "secops"]);
    let doc = org.scan();
    let reset = outcome(&doc, "vault", "reset_leases");
    assert_eq!(reset["status"], "applied", "{reset:#}");
    assert!(
        org.bao().lease_keys("database/creds/ro/").is_empty(),
        "{lease} survived"
    );
}

#[test]
fn an_unextended_restriction_is_lifted_by_the_sweep_after_it_expires() {
    let Some(org) = Org::with_vault(3) else {
        return;
    };
    org.scan();
    assert_eq!(org.role_ttls(), (30, 30));
    assert!(org.case_line().contains("restricted"));
    // Before the end: nothing changes.
    org.case(&["sweep"]);
    assert_eq!(org.role_ttls(), (30, 30));
    std::thread::sleep(Duration::from_secs(4));
    org.case(&["sweep"]);
    assert_eq!(org.role_ttls(), (60, 120));
    let line = org.case_line();
    assert!(line.contains(" open "), "{line}");
    // The AWS rotation is not a time-boxed restriction: it stays until undone or confirmed.
    assert_eq!(org.keys().len(), 2);
}
