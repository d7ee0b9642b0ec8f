//! `scan --respond apply` end to end against a real AWS-compatible API server (moto_server,
//! started here on loopback): the leaked key is rotated, a retry does not rotate twice, and
//! `tripline action undo` puts the account back as it was.
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

#[test]
fn leaked_key_is_rotated_once_and_undo_restores_the_account() {
    let m = moto();
    let endpoint = format!("http://127.0.0.1:{}", m.1);
    let admin =
        AwsConnector::with_credentials(Some(endpoint.clone()), "us-east-1", "testing", "testing")
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
    let arn = "arn:aws:iam::123456789012:user/svc-report";

    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let event = format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"{arn}","accountId":"123456789012","accessKeyId":"{key_id}","userName":"svc-report"}},"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"123456789012"}}"#
    );
    std::fs::write(d.join("trail.jsonl"), format!("{event}\n")).unwrap();
    let leak = serde_json::json!([{
        "Description": "AWS Access Key", "StartLine": 1, "EndLine": 1, "StartColumn": 1, "EndColumn": 20,
        "Match": key_id, "Secret": key_id, "File": "ops/run.sh", "SymlinkFile": "", "Commit": "abc1234",
        "Entropy": 3.0, "Author": "a", "Email": "a@example.com", "Date": "2025-12-31T00:00:00Z", "Message": "m",
        "Tags": [], "RuleID": "aws-access-token", "Fingerprint": "abc1234:ops/run.sh:aws-access-token:1"
    }]);
    std::fs::write(d.join("gitleaks.json"), leak.to_string()).unwrap();
    let secrets = d.join("secrets");
    std::fs::write(
        d.join("connectors.toml"),
        format!(
            "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_key_id_env = \"T_KEY\"\nsecret_access_key_env = \"T_SECRET\"\nsecrets_dir = \"{}\"\n",
            secrets.display()
        ),
    )
    .unwrap();
    let scan = || {
        let out = tripline()
            .env("T_KEY", "testing")
            .env("T_SECRET", "testing")
            .args([
                "scan",
                "--logs",
                d.join("trail.jsonl").to_str().unwrap(),
                "--inventory",
                d.join("gitleaks.json").to_str().unwrap(),
            ])
            .args([
                "--respond",
                "apply",
                "--connectors",
                d.join("connectors.toml").to_str().unwrap(),
            ])
            .args([
                "--ledger",
                d.join("actions.sqlite").to_str().unwrap(),
                "--evidence",
                d.join("evidence.sqlite").to_str().unwrap(),
            ])
            .args(["--cases", d.join("cases.sqlite").to_str().unwrap()])
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let doc = scan();
    let ident = identity(&doc, "user/svc-report");
    let applied = ident["applied"].as_array().unwrap();
    let rotate = applied
        .iter()
        .find(|a| a["kind"] == "rotate")
        .unwrap_or_else(|| panic!("{ident:#}"));
    assert_eq!(rotate["status"], "applied", "{rotate:#}");
    let after = keys(&admin, "svc-report");
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.contains(&(key_id.clone(), "Inactive".into())),
        "old key deactivated: {after:?}"
    );
    // The new secret went to a 0600 file, and nowhere else.
    let files: Vec<_> = std::fs::read_dir(&secrets)
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

    // A retry (same day, same decision) does not rotate twice.
    scan();
    assert_eq!(keys(&admin, "svc-report").len(), 2);

    // Undo restores the account.
    let action_id = rotate["action_id"].as_str().unwrap();
    let undo = tripline()
        .env("T_KEY", "testing")
        .env("T_SECRET", "testing")
        .args([
            "action",
            "--ledger",
            d.join("actions.sqlite").to_str().unwrap(),
            "--connectors",
            d.join("connectors.toml").to_str().unwrap(),
            "undo",
            action_id,
        ])
        .output()
        .unwrap();
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert_eq!(
        keys(&admin, "svc-report"),
        vec![(key_id.clone(), "Active".to_string())]
    );
    let list = tripline()
        .args([
            "action",
            "--ledger",
            d.join("actions.sqlite").to_str().unwrap(),
            "list",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("undone"));
    // The evidence of both runs verifies.
    let v = tripline()
        .args([
            "evidence",
            "verify",
            "--store",
            d.join("evidence.sqlite").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0));
}

#[path = "../../respond/tests/bao_support/mod.rs"]
#[allow(dead_code)]
mod bao_support;

/// A leaked key of an IAM user whose workload also reads database credentials from Vault.
struct Both {
    _moto: Moto,
    bao: bao_support::Bao,
    admin: AwsConnector,
    key_id: String,
    dir: tempfile::TempDir,
}

impl Both {
    fn start(restrict_secs: u64) -> Option<Both> {
        let m = moto();
        let bao = bao_support::Bao::start();
        if !bao.setup_database(60) {
            return None;
        }
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
        let event = format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"{arn}","accountId":"123456789012","accessKeyId":"{key_id}","userName":"svc-report"}},"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"123456789012"}}"#
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
                "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_key_id_env = \"T_KEY\"\nsecret_access_key_env = \"T_SECRET\"\nsecrets_dir = \"{}\"\n\n\
                 [vault]\naddress = \"{}\"\ntoken_env = \"T_VAULT\"\nrestrict_ttl_secs = 30\n\n\
                 [[vault.bind]]\nidentity = \"arn:aws:iam::*:user/svc-*\"\nrole = \"ro\"\n",
                d.join("secrets").display(),
                bao.addr
            ),
        )
        .unwrap();
        // Short restrictions, so that expiry can be watched.
        std::fs::write(
            d.join("data.json"),
            format!(r#"{{"escalation": {{"expires_in_secs": {{"rotate": {restrict_secs}}}}}}}"#),
        )
        .unwrap();
        Some(Both {
            _moto: m,
            bao,
            admin,
            key_id,
            dir,
        })
    }

    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = tripline();
        c.env("T_KEY", "testing")
            .env("T_SECRET", "testing")
            .env("T_VAULT", &self.bao.token);
        c
    }

    fn scan(&self) -> serde_json::Value {
        let out = self
            .cmd()
            .args(["scan", "--logs", &self.p("trail.jsonl")])
            .args(["--inventory", &self.p("gitleaks.json")])
            .args(["--policy-data", &self.p("data.json")])
            .args([
                "--respond",
                "apply",
                "--connectors",
                &self.p("connectors.toml"),
            ])
            .args(["--ledger", &self.p("actions.sqlite")])
            .args(["--evidence", &self.p("evidence.sqlite")])
            .args(["--cases", &self.p("cases.sqlite"), "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `tripline case … <args>` as the admin, with the connectors; stdout.
    fn case(&self, args: &[&str]) -> String {
        let out = self
            .cmd()
            .args([
                "case",
                "--cases",
                &self.p("cases.sqlite"),
                "--admin",
                "secops",
            ])
            .args(["--ledger", &self.p("actions.sqlite")])
            .args(["--connectors", &self.p("connectors.toml")])
            .args(["--evidence", &self.p("evidence.sqlite")])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "case {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn case_line(&self) -> String {
        let list = self.case(&["list"]);
        list.lines()
            .find(|l| l.contains("user/svc-report"))
            .unwrap_or_else(|| panic!("{list}"))
            .to_string()
    }

    fn role_ttls(&self) -> (u64, u64) {
        let v = self
            .bao
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
fn vault_bound_identity_is_restricted_and_case_undo_restores_both_systems() {
    let Some(t) = Both::start(3600) else { return };
    let doc = t.scan();
    assert_eq!(outcome(&doc, "aws", "rotate")["status"], "applied");
    assert_eq!(outcome(&doc, "vault", "restrict")["status"], "applied");
    // The irreversible lease reset waits for an approval; the restriction stands in for it.
    let held = outcome(&doc, "vault", "reset_leases");
    assert_eq!(held["status"], "held", "{held:#}");
    assert_eq!(t.role_ttls(), (30, 30));
    assert_eq!(keys(&t.admin, "svc-report").len(), 2);
    let line = t.case_line();
    assert!(line.contains("restricted"), "{line}");
    let id = line.split_whitespace().next().unwrap().to_string();

    // The owner's undo puts both systems back as they were, read back through their APIs.
    t.case(&["undo", &id, "--as", "secops"]);
    assert_eq!(t.role_ttls(), (60, 120));
    assert_eq!(
        keys(&t.admin, "svc-report"),
        vec![(t.key_id.clone(), "Active".to_string())]
    );
    let line = t.case_line();
    assert!(line.contains(" open "), "{line}");
    // The next scan does not re-apply what the owner undid for this incident.
    let again = t.scan();
    let rotate = outcome(&again, "aws", "rotate");
    assert_eq!(rotate["status"], "skipped", "{rotate:#}");
    assert_eq!(t.role_ttls(), (60, 120));
    // Every step is in the evidence, which verifies.
    let v = tripline()
        .args(["evidence", "verify", "--store", &t.p("evidence.sqlite")])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0));
}

#[test]
fn restrictions_expire_extend_and_an_approval_unlocks_the_lease_reset() {
    let Some(t) = Both::start(4) else { return };
    let doc = t.scan();
    assert_eq!(outcome(&doc, "vault", "restrict")["status"], "applied");
    assert_eq!(t.role_ttls(), (30, 30));
    let id = t.case_line().split_whitespace().next().unwrap().to_string();

    // Extended by the admin: the end moves in the ledger, so the expiry sweep leaves it alone.
    t.case(&["extend", &id, "--as", "secops", "--secs", "600"]);
    std::thread::sleep(Duration::from_secs(5));
    t.case(&["sweep"]);
    assert_eq!(t.role_ttls(), (30, 30), "extended restriction was lifted");
    assert!(t.case_line().contains("restricted"));

    // Undo, then a fresh restriction that is left to run out: the sweep lifts it.
    t.case(&["undo", &id, "--as", "secops"]);
    assert_eq!(t.role_ttls(), (60, 120));

    // An approval on the case unlocks the irreversible reset for this identity only.
    let a = t
        .bao
        .root("GET", "database/creds/ro", serde_json::Value::Null);
    let lease = a["lease_id"].as_str().unwrap().to_string();
    t.case(&["approve", &id, "--as", "secops"]);
    let doc = t.scan();
    let reset = outcome(&doc, "vault", "reset_leases");
    assert_eq!(reset["status"], "applied", "{reset:#}");
    assert!(
        t.bao.lease_keys("database/creds/ro/").is_empty(),
        "{lease} survived"
    );
}

#[test]
fn an_unextended_restriction_is_lifted_by_the_sweep_after_it_expires() {
    let Some(t) = Both::start(3) else { return };
    t.scan();
    assert_eq!(t.role_ttls(), (30, 30));
    assert!(t.case_line().contains("restricted"));
    // Before the end: nothing changes.
    t.case(&["sweep"]);
    assert_eq!(t.role_ttls(), (30, 30));
    std::thread::sleep(Duration::from_secs(4));
    t.case(&["sweep"]);
    assert_eq!(t.role_ttls(), (60, 120));
    let line = t.case_line();
    assert!(line.contains(" open "), "{line}");
    // The AWS rotation is not a time-boxed restriction: it stays until undone or confirmed.
    assert_eq!(keys(&t.admin, "svc-report").len(), 2);
}
