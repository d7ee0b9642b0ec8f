//! The AWS connector against `moto_server` (real IAM/STS wire protocol, in-memory account).
//!
//! moto implements the IAM and STS APIs but does not evaluate IAM policies or their conditions:
//! these tests assert the restriction's document (Deny + `aws:CurrentTime` expiry); that the
//! deny lapses by itself is AWS's evaluation of the condition, not something moto can show.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::{keys, role, role_policies, user_policies, user_with_key, Moto};
use tripline_respond::aws::{policy_name_of, AwsConnector, Principal, Secret};
use tripline_respond::ladder;
use tripline_respond::ledger::{recover, run_apply, run_undo, Ledger, Recovery, State};
use tripline_respond::{ActionRequest, Connector, ConnectorError};

fn req(id: &str, kind: &str, identity: &str, credential: Option<&str>) -> ActionRequest {
    ActionRequest {
        action_id: id.into(),
        kind: kind.into(),
        identity: identity.into(),
        credential: credential.map(str::to_string),
        expires_in_secs: Some(3600),
        reason: "test".into(),
        params: json!({}),
        account: None,
    }
}

type Collected = Arc<Mutex<Vec<(String, String, String)>>>;

/// A connector whose secrets land in a vector: (action id, key id, secret).
fn with_sink(m: &Moto) -> (AwsConnector, Collected) {
    let got: Collected = Arc::default();
    let g = got.clone();
    let c = m
        .connector()
        .with_secret_sink(Box::new(move |id: &str, s: Secret| {
            g.lock().unwrap().push((
                id.to_string(),
                s.access_key_id().to_string(),
                s.expose_secret_access_key().to_string(),
            ));
            Ok(())
        }));
    (c, got)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn ledger(tag: &str) -> Ledger {
    Ledger::open(support::temp_dir(tag).join("ledger.db")).unwrap()
}

#[test]
fn contain_apply_verify_undo_restores_the_key() {
    let m = Moto::start();
    let c = m.connector();
    let (arn, key) = user_with_key(&c, "deployer");
    let before = keys(&c, "deployer");
    let l = ledger("contain");
    let r = req("contain-1", "contain", &arn, Some(&key));
    assert!(c
        .plan(&r)
        .unwrap()
        .steps
        .iter()
        .any(|s| s.contains("Inactive")));
    let a = run_apply(&c, &l, &r).unwrap();
    assert_eq!(keys(&c, "deployer"), vec![(key.clone(), "Inactive".into())]);
    assert!(c.verify(&a).unwrap());
    // A retry changes nothing and returns the same record.
    assert_eq!(run_apply(&c, &l, &r).unwrap(), a);
    // Plain apply on an already inactive key is a no-op too.
    c.apply(&req("contain-2", "deactivate_key", "deployer", Some(&key)))
        .unwrap();
    run_undo(&c, &l, &a).unwrap();
    assert_eq!(keys(&c, "deployer"), before);
    assert!(!c.verify(&a).unwrap());
    assert_eq!(l.get("contain-1").unwrap().unwrap().state, State::Undone);
}

#[test]
fn restrict_user_and_role_carries_expiry_and_undoes() {
    let m = Moto::start();
    let c = m.connector();
    let (arn, _) = user_with_key(&c, "app-user");
    let role_arn = role(&c, "app-role");
    let l = ledger("restrict");
    for (id, identity) in [
        ("case-7-user", arn.as_str()),
        ("case-7-role", role_arn.as_str()),
    ] {
        let r = req(id, "deny_all", identity, None);
        let t0 = now();
        let a = run_apply(&c, &l, &r).unwrap();
        assert!(c.verify(&a).unwrap());
        let principal = Principal::parse(identity).unwrap();
        let name = policy_name_of(&r);
        let doc = c.get_inline_policy(&principal, &name).unwrap().unwrap();
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let st = &doc["Statement"][0];
        assert_eq!(st["Effect"], "Deny");
        assert_eq!(st["Action"], "*");
        assert_eq!(st["Resource"], "*");
        let expiry = st["Condition"]["DateLessThan"]["aws:CurrentTime"]
            .as_str()
            .unwrap();
        assert_eq!(expiry, a.outputs["expires_at"]);
        let secs = aws_sdk_iam::primitives::DateTime::from_str(
            expiry,
            aws_sdk_iam::primitives::DateTimeFormat::DateTime,
        )
        .unwrap()
        .secs();
        assert!(
            (t0 + 3600 - 2..=now() + 3600 + 2).contains(&secs),
            "{expiry}"
        );
        run_undo(&c, &l, &a).unwrap();
        assert!(!c.verify(&a).unwrap());
    }
    assert!(user_policies(&c, "app-user").is_empty());
    assert!(role_policies(&c, "app-role").is_empty());
    // A restriction without an expiry is refused before any call.
    let mut r = req("case-8", "deny_all", &arn, None);
    r.expires_in_secs = None;
    assert!(matches!(c.apply(&r), Err(ConnectorError::Invalid(_))));
    assert!(user_policies(&c, "app-user").is_empty());
}

#[test]
fn rotate_undo_and_confirm() {
    let m = Moto::start();
    let (c, got) = with_sink(&m);
    let (arn, old) = user_with_key(&c, "ci");
    let before = keys(&c, "ci");
    let l = ledger("rotate");
    let r = req("rot-1", "rotate", &arn, Some(&old));
    let a = run_apply(&c, &l, &r).unwrap();
    let new = a.outputs["new_access_key_id"].as_str().unwrap().to_string();
    let secret = {
        let g = got.lock().unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, "rot-1");
        assert_eq!(g[0].1, new);
        g[0].2.clone()
    };
    // The secret is nowhere in the result or the ledger.
    assert!(!serde_json::to_string(&a).unwrap().contains(&secret));
    let rec = l.get("rot-1").unwrap().unwrap();
    assert!(!format!("{rec:?}").contains(&secret));
    let mut expect = vec![
        (old.clone(), "Inactive".to_string()),
        (new.clone(), "Active".into()),
    ];
    expect.sort();
    assert_eq!(keys(&c, "ci"), expect);
    assert!(c.verify(&a).unwrap());
    run_undo(&c, &l, &a).unwrap();
    assert_eq!(keys(&c, "ci"), before);

    // Rotate again, then confirm: only then is the old key deleted.
    let a2 = run_apply(&c, &l, &req("rot-2", "rotate", &arn, Some(&old))).unwrap();
    let new2 = a2.outputs["new_access_key_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(keys(&c, "ci").len(), 2);
    c.confirm_rotation(&a2).unwrap();
    assert_eq!(keys(&c, "ci"), vec![(new2, "Active".into())]);
    // Undo after confirm refuses rather than leaving the user without a working key.
    assert!(c.undo(&a2).is_err());
}

#[test]
fn rotate_refuses_a_user_with_two_keys_and_without_a_secret_destination() {
    let m = Moto::start();
    let (c, _) = with_sink(&m);
    let (arn, old) = user_with_key(&c, "two");
    c.block_on(c.iam().create_access_key().user_name("two").send())
        .unwrap();
    let err = c.apply(&req("r2", "rotate", &arn, Some(&old))).unwrap_err();
    assert!(
        err.to_string().contains("already has 2 access keys"),
        "{err}"
    );
    assert_eq!(keys(&c, "two").len(), 2);

    let bare = m.connector();
    let (arn1, old1) = user_with_key(&bare, "one");
    let err = bare
        .apply(&req("r3", "rotate", &arn1, Some(&old1)))
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Invalid(_)), "{err}");
    assert_eq!(keys(&bare, "one").len(), 1);
}

#[test]
fn retried_rotate_never_creates_a_second_new_key() {
    let m = Moto::start();
    let (c, got) = with_sink(&m);
    let (arn, old) = user_with_key(&c, "svc");
    let l = ledger("retry");
    let r = req("rot-retry", "rotate", &arn, Some(&old));

    // Simulated crash between CreateAccessKey (secret handed over) and finish.
    l.begin(&r, "aws").unwrap();
    let created = c
        .block_on(c.iam().create_access_key().user_name("svc").send())
        .unwrap();
    let nk = created.access_key().unwrap().access_key_id().to_string();
    l.record_partial(
        "rot-retry",
        &json!({"before": [old], "old_key": old, "old_status": "Active",
                "new_key": nk, "secret_delivered": true}),
    )
    .unwrap();
    let a = run_apply(&c, &l, &r).unwrap();
    assert_eq!(a.outputs["new_access_key_id"], nk.as_str());
    assert!(
        got.lock().unwrap().is_empty(),
        "no second key, no second secret"
    );
    let a2 = run_apply(&c, &l, &r).unwrap();
    assert_eq!(a, a2);
    let mut expect = vec![(old.clone(), "Inactive".to_string()), (nk, "Active".into())];
    expect.sort();
    assert_eq!(keys(&c, "svc"), expect);

    // Crash after CreateAccessKey but before its id was recorded: the stray key is removed
    // and exactly one new key exists afterwards.
    let (arn2, old2) = user_with_key(&c, "svc2");
    let r2 = req("rot-retry-2", "rotate", &arn2, Some(&old2));
    l.begin(&r2, "aws").unwrap();
    l.record_partial(
        "rot-retry-2",
        &json!({"before": [old2], "old_key": old2, "old_status": "Active"}),
    )
    .unwrap();
    let stray = c
        .block_on(c.iam().create_access_key().user_name("svc2").send())
        .unwrap()
        .access_key()
        .unwrap()
        .access_key_id()
        .to_string();
    let a = run_apply(&c, &l, &r2).unwrap();
    let new2 = a.outputs["new_access_key_id"].as_str().unwrap();
    assert_ne!(new2, stray);
    let ks = keys(&c, "svc2");
    assert_eq!(ks.len(), 2);
    assert!(ks.contains(&(old2, "Inactive".into())));
    assert!(ks.contains(&(new2.to_string(), "Active".into())));
}

#[test]
fn recover_completes_or_undoes_half_done_actions() {
    let m = Moto::start();
    let c = m.connector();
    let (arn, old) = user_with_key(&c, "rec");
    let l = ledger("recover");

    // rotate: new key created and handed over, crash before deactivating the old one.
    let r1 = req("rec-rotate", "rotate", &arn, Some(&old));
    l.begin(&r1, "aws").unwrap();
    let nk = c
        .block_on(c.iam().create_access_key().user_name("rec").send())
        .unwrap()
        .access_key()
        .unwrap()
        .access_key_id()
        .to_string();
    l.record_partial(
        "rec-rotate",
        &json!({"before": [old], "old_key": old, "old_status": "Active",
                "new_key": nk, "secret_delivered": true}),
    )
    .unwrap();

    // restrict: expiry recorded, crash before PutUserPolicy.
    let r2 = req("rec-restrict-1", "deny_all", &arn, None);
    l.begin(&r2, "aws").unwrap();
    l.record_partial(
        "rec-restrict-1",
        &json!({"policy_name": ladder::policy_name("deny_all", "rec-restrict-1"), "expiry": "2099-01-01T00:00:00Z"}),
    )
    .unwrap();

    // restrict: policy put, crash before finish.
    let r3 = req("rec-restrict-2", "deny_all", &arn, None);
    l.begin(&r3, "aws").unwrap();
    let mut j = tripline_respond::NoJournal::default();
    c.apply_journaled(&r3, &mut j).unwrap();
    l.record_partial(
        "rec-restrict-2",
        tripline_respond::Journal::partial(&j).unwrap(),
    )
    .unwrap();

    // contain: crash right after begin (nothing recorded, nothing done).
    let r4 = req("rec-contain", "contain", &arn, Some(&nk));
    l.begin(&r4, "aws").unwrap();

    let mut out = recover(&c, &l).unwrap();
    out.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        out,
        vec![
            Recovery::Completed("rec-restrict-2".into()),
            Recovery::Completed("rec-rotate".into()),
            Recovery::Undone("rec-contain".into()),
            Recovery::Undone("rec-restrict-1".into()),
        ]
    );
    assert!(l.pending().unwrap().is_empty());
    let mut expect = vec![
        (old.clone(), "Inactive".to_string()),
        (nk.clone(), "Active".into()),
    ];
    expect.sort();
    assert_eq!(keys(&c, "rec"), expect);
    assert_eq!(
        user_policies(&c, "rec"),
        vec![ladder::policy_name("deny_all", "rec-restrict-2")]
    );
    // Ledger and IAM agree: the completed records verify.
    for id in ["rec-rotate", "rec-restrict-2"] {
        let a = l.get(id).unwrap().unwrap().applied.unwrap();
        assert!(c.verify(&a).unwrap(), "{id}");
    }
}

#[test]
fn issue_credentials_is_short_lived_and_scoped() {
    let m = Moto::start();
    let c = m.connector();
    let role_arn = role(&c, "responder");
    let dir = support::temp_dir("sts");
    let file = dir.join("creds.json");
    let mut r = req("sts-1", "issue_credentials", &role_arn, None);
    r.expires_in_secs = Some(1200);
    r.params = json!({
        "secret_file": file.to_str().unwrap(),
        "session_policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]}
    });
    assert!(c
        .plan(&r)
        .unwrap()
        .steps
        .iter()
        .any(|s| s.contains("nothing to undo")));
    let t0 = now();
    let a = c.apply(&r).unwrap();
    let key = a.outputs["access_key_id"].as_str().unwrap();
    assert!(!key.is_empty());
    let exp = aws_sdk_iam::primitives::DateTime::from_str(
        a.outputs["expiration"].as_str().unwrap(),
        aws_sdk_iam::primitives::DateTimeFormat::DateTime,
    )
    .unwrap()
    .secs();
    assert!(
        exp > t0 && exp <= now() + 1200 + 1,
        "expiration {exp} vs {t0}+1200"
    );
    assert!(c.verify(&a).unwrap());
    c.undo(&a).unwrap(); // nothing to undo: the credentials expire
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let creds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(creds["AccessKeyId"], key);
    assert!(creds["SecretAccessKey"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert!(!serde_json::to_string(&a)
        .unwrap()
        .contains(creds["SecretAccessKey"].as_str().unwrap()));
    // A user ARN is not a role.
    let (uarn, _) = user_with_key(&c, "u");
    let mut bad = r.clone();
    bad.identity = uarn;
    assert!(matches!(c.apply(&bad), Err(ConnectorError::Invalid(_))));
}

#[test]
fn missing_principals_give_clean_errors() {
    let m = Moto::start();
    let (c, _) = with_sink(&m);
    let ghost = "arn:aws:iam::123456789012:user/ghost";
    let l = ledger("missing");
    for (id, kind, cred) in [
        ("m1", "contain", Some("AKIAAAAAAAAAAAAAAAAA")),
        ("m2", "rotate", Some("AKIAAAAAAAAAAAAAAAAA")),
        ("m3", "deny_all", None),
    ] {
        let err = run_apply(&c, &l, &req(id, kind, ghost, cred)).unwrap_err();
        match &err {
            ConnectorError::Api { connector, message } => {
                assert_eq!(connector, "aws");
                assert!(message.contains("NoSuchEntity"), "{message}");
            }
            other => panic!("{kind}: {other:?}"),
        }
        assert_eq!(l.get(id).unwrap().unwrap().state, State::Failed);
    }
    let err = c
        .apply(&req(
            "m4",
            "deny_all",
            "arn:aws:iam::123456789012:role/nope",
            None,
        ))
        .unwrap_err();
    assert!(err.to_string().contains("NoSuchEntity"), "{err}");
    assert!(matches!(
        c.plan(&req("m5", "notify", ghost, None)),
        Err(ConnectorError::Unsupported(_))
    ));
    // Recovery of the failed records finds nothing to undo.
    let out = recover(&c, &l).unwrap();
    assert!(
        out.iter().all(|r| matches!(r, Recovery::Undone(_))),
        "{out:?}"
    );
}

const CHILD_ENV: &str = "TRIPLINE_AWS_CHILD";

/// Not a test on its own: the body of the child process of `sigkill_mid_rotate_then_recover`.
#[test]
fn child_rotate_blocks() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    let marker = spec["marker"].as_str().unwrap().to_string();
    let c = AwsConnector::with_credentials(
        Some(spec["endpoint"].as_str().unwrap().into()),
        support::REGION,
        "testing",
        "testing",
    )
    .unwrap()
    .with_secret_sink(Box::new(|_, _| Ok(())))
    .with_key_created_hook(Box::new(move |key| {
        std::fs::write(&marker, key).unwrap();
        std::thread::sleep(Duration::from_secs(600));
    }));
    let l = Ledger::open(spec["ledger"].as_str().unwrap()).unwrap();
    let r: ActionRequest = serde_json::from_value(spec["req"].clone()).unwrap();
    let _ = run_apply(&c, &l, &r);
    panic!("the parent should have killed this process");
}

#[test]
fn sigkill_mid_rotate_then_recover() {
    let m = Moto::start();
    let c = m.connector();
    let (arn, old) = user_with_key(&c, "killme");
    let dir = support::temp_dir("sigkill");
    let ledger_path = dir.join("ledger.db");
    let marker = dir.join("created");
    let r = req("rot-kill", "rotate", &arn, Some(&old));
    let spec = json!({
        "endpoint": m.endpoint(),
        "ledger": ledger_path.to_str().unwrap(),
        "marker": marker.to_str().unwrap(),
        "req": r,
    });
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_rotate_blocks",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(
            Instant::now() < deadline,
            "child never reached CreateAccessKey"
        );
        assert!(child.try_wait().unwrap().is_none(), "child exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let new = std::fs::read_to_string(&marker).unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Mid-flight: IAM has the new key, the ledger knows about it.
    assert_eq!(keys(&c, "killme").len(), 2);
    let l = Ledger::open(&ledger_path).unwrap();
    let pending = l.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].state, State::Applying);
    assert_eq!(
        pending[0].partial.as_ref().unwrap()["new_key"],
        new.as_str()
    );

    // The secret never reached anyone, so recovery removes the key and restores the old one.
    assert_eq!(
        recover(&c, &l).unwrap(),
        vec![Recovery::Undone("rot-kill".into())]
    );
    assert_eq!(l.get("rot-kill").unwrap().unwrap().state, State::Undone);
    assert_eq!(keys(&c, "killme"), vec![(old, "Active".into())]);
    assert!(l.pending().unwrap().is_empty());
}

const PROD: &str = "619854769921";
const DEV: &str = "789027099975";

fn account(a: &str) -> tripline_respond::AccountRef {
    tripline_respond::AccountRef {
        partition: "aws".into(),
        account: a.into(),
    }
}

/// Two member accounts (moto keeps one IAM per account id and maps an assumed role's session
/// to the account in the role's ARN), the same role name in both: a connector only ever acts
/// in its own account, refuses the other with nothing applied, and the refusal is recorded.
#[test]
fn a_connector_acts_only_in_its_own_account() {
    let m = Moto::start();
    let base = m.connector();
    let prod = base
        .assume_into(&account(PROD), "tripline-response")
        .unwrap();
    let dev = base
        .assume_into(&account(DEV), "tripline-response")
        .unwrap();
    assert_eq!(prod.caller().unwrap().account, account(PROD));
    assert_eq!(dev.caller().unwrap().account, account(DEV));
    assert_eq!(
        prod.caller().unwrap().principal_arn(),
        format!("arn:aws:iam::{PROD}:role/tripline-response")
    );
    let prod_arn = role(&prod, "gha-deploy-orders");
    let dev_arn = role(&dev, "gha-deploy-orders");
    assert_eq!(
        prod_arn,
        format!("arn:aws:iam::{PROD}:role/gha-deploy-orders")
    );
    assert_eq!(
        dev_arn,
        format!("arn:aws:iam::{DEV}:role/gha-deploy-orders")
    );

    // The prod identity handed to the dev connector: refused, nothing applied anywhere.
    let l = ledger("accounts");
    let mut r = req("aws:reset_sessions:prod", "reset_sessions", &prod_arn, None);
    r.account = Some(account(PROD));
    let err = run_apply(&dev, &l, &r).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::WrongAccount { identity_account, serves, .. }
            if identity_account == &format!("aws:{PROD}") && serves == &format!("aws:{DEV}")),
        "{err}"
    );
    assert!(dev.plan(&r).is_err());
    assert!(role_policies(&dev, "gha-deploy-orders").is_empty());
    assert!(role_policies(&prod, "gha-deploy-orders").is_empty());
    let rec = l.get("aws:reset_sessions:prod").unwrap().unwrap();
    assert_eq!(rec.state, State::Failed);
    assert!(rec.error.unwrap().contains("refused"));
    // A request whose declared account contradicts the ARN is refused too.
    let mut lying = r.clone();
    lying.account = Some(account(DEV));
    assert!(matches!(dev.apply(&lying), Err(ConnectorError::Invalid(_))));
    assert!(role_policies(&dev, "gha-deploy-orders").is_empty());

    // The connector of the identity's own account changes exactly that role.
    let a = run_apply(&prod, &l, &r).unwrap();
    assert_eq!(role_policies(&prod, "gha-deploy-orders").len(), 1);
    assert!(role_policies(&dev, "gha-deploy-orders").is_empty());
    // Undo through the wrong account is refused as well, and leaves the restriction.
    assert!(matches!(
        dev.undo(&a),
        Err(ConnectorError::WrongAccount { .. })
    ));
    assert_eq!(role_policies(&prod, "gha-deploy-orders").len(), 1);
    run_undo(&prod, &l, &a).unwrap();
    assert!(role_policies(&prod, "gha-deploy-orders").is_empty());
}

/// A connector configured for one account whose credentials belong to another refuses its
/// first call (sts:GetCallerIdentity comes first), and applies nothing.
#[test]
fn credentials_of_another_account_are_refused_before_any_change() {
    let m = Moto::start();
    let c = m.connector();
    let arn = role(&c, "app");
    let wrong = m.connector().expect_account(PROD);
    let err = wrong
        .apply(&req("aws:deny_all:x", "deny_all", &arn, None))
        .unwrap_err();
    assert!(
        err.to_string().contains("belong to account 123456789012"),
        "{err}"
    );
    assert!(role_policies(&c, "app").is_empty());
}

/// The ladder's two narrow rungs, read back through the IAM API: a deny of the implicated
/// actions only (outside the known networks), and a role's session reset (the policy with
/// `aws:TokenIssueTime`). Names and Sids say what and which case.
#[test]
fn narrow_restriction_and_session_reset_are_read_back() {
    let m = Moto::start();
    let c = m.connector();
    let role_arn = role(&c, "gha-deploy-orders");
    let (user_arn, _) = user_with_key(&c, "ci-user");
    let l = ledger("ladder");
    let case = format!("{role_arn}#2026-12-04");

    let mut narrow = req("aws:restrict:r", "restrict", &role_arn, None);
    narrow.params = json!({
        "case": case,
        "deny_actions": ["iam:CreateAccessKey", "s3:*"],
        "networks": {"source_ips": ["203.0.113.0/24"]},
    });
    let a = run_apply(&c, &l, &narrow).unwrap();
    let name = policy_name_of(&narrow);
    assert!(name.starts_with("tripline-restrict-"), "{name}");
    assert_eq!(a.outputs["policy_name"], name);
    let doc: serde_json::Value = serde_json::from_str(
        &c.get_inline_policy(&Principal::parse(&role_arn).unwrap(), &name)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let st = &doc["Statement"][0];
    assert_eq!(st["Effect"], "Deny");
    assert_eq!(st["Action"], json!(["iam:CreateAccessKey", "s3:*"]));
    assert_eq!(
        st["Condition"]["NotIpAddress"]["aws:SourceIp"],
        json!(["203.0.113.0/24"])
    );
    assert_eq!(
        st["Condition"]["DateLessThan"]["aws:CurrentTime"],
        a.outputs["expires_at"]
    );
    let sid = st["Sid"].as_str().unwrap();
    assert!(
        sid.starts_with(&format!(
            "TriplineDenyActionsCase{}Until",
            ladder::short_id(&case)
        )),
        "{sid}"
    );
    assert!(c.verify(&a).unwrap());
    // Extended: same policy, later end, still verified.
    let later = now() + 7200;
    let a2 = c.extend(&a, later).unwrap();
    assert_ne!(a2.outputs["expires_at"], a.outputs["expires_at"]);
    assert!(c.verify(&a2).unwrap());
    // Without implicated actions there is nothing narrow to deny: refused, nothing applied.
    let mut empty = req("aws:restrict:e", "restrict", &role_arn, None);
    empty.params = json!({"case": "other"});
    assert!(matches!(c.apply(&empty), Err(ConnectorError::Invalid(_))));
    assert_eq!(role_policies(&c, "gha-deploy-orders"), vec![name.clone()]);

    // Session reset of the role.
    let mut reset = req("aws:reset_sessions:r", "reset_sessions", &role_arn, None);
    reset.params = json!({"case": case});
    reset.expires_in_secs = None;
    let t0 = now();
    let b = run_apply(&c, &l, &reset).unwrap();
    let reset_name = policy_name_of(&reset);
    assert!(
        reset_name.starts_with("tripline-reset-sessions-"),
        "{reset_name}"
    );
    let raw = c
        .block_on(
            c.iam()
                .get_role_policy()
                .role_name("gha-deploy-orders")
                .policy_name(&reset_name)
                .send(),
        )
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&urlencoding_decode(raw.policy_document())).unwrap();
    let st = &doc["Statement"][0];
    assert_eq!(st["Effect"], "Deny");
    assert_eq!(st["Action"], "*");
    let issued = st["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .as_str()
        .unwrap();
    let issued = tripline_model::Timestamp::parse(issued).unwrap().millis() / 1000;
    assert!((t0 - 5..=now() + 5).contains(&issued), "{issued} vs {t0}");
    assert!(
        st["Condition"]
            .get("DateLessThan")
            .unwrap()
            .get("aws:CurrentTime")
            .is_none(),
        "a session reset is not lifted by the clock: {st}"
    );
    assert!(c.verify(&b).unwrap());
    // It is inert once every session it denies has expired (12 h), and the sweep removes it then.
    let end = tripline_model::Timestamp::parse(b.outputs["expires_at"].as_str().unwrap())
        .unwrap()
        .millis()
        / 1000;
    assert!((end - issued - ladder::MAX_SESSION_SECS as i64).abs() <= 5);
    // A user's credential reset is key rotation, not a session reset.
    assert!(matches!(
        c.apply(&req(
            "aws:reset_sessions:u",
            "reset_sessions",
            &user_arn,
            None
        )),
        Err(ConnectorError::Invalid(_))
    ));
    run_undo(&c, &l, &b).unwrap();
    run_undo(&c, &l, &a2).unwrap();
    assert!(role_policies(&c, "gha-deploy-orders").is_empty());
}

fn urlencoding_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
