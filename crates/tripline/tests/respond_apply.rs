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
