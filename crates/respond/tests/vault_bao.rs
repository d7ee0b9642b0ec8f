//! The OpenBao/Vault connector against a real `bao server -dev` and the local PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bao_support;

use bao_support::{pg_role_exists, Bao};
use serde_json::json;
use tripline_respond::ledger::{run_apply, run_undo, Ledger};
use tripline_respond::vault::{LeaseState, VaultConnector};
use tripline_respond::{ActionRequest, Connector, ConnectorError};

fn issue_req(id: &str, ttl: u64) -> ActionRequest {
    ActionRequest {
        action_id: id.into(),
        kind: "issue_credentials".into(),
        identity: "ro".into(),
        credential: None,
        expires_in_secs: Some(ttl),
        reason: "rotate after suspected leak".into(),
        params: json!({}),
        account: None,
    }
}

fn revoke_req(id: &str, lease: &str, approved: bool) -> ActionRequest {
    ActionRequest {
        action_id: id.into(),
        kind: "revoke_lease".into(),
        identity: "ro".into(),
        credential: Some(lease.into()),
        expires_in_secs: None,
        reason: "leaked credential".into(),
        params: json!({ "approved": approved }),
        account: None,
    }
}

#[test]
fn issue_then_revoke() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let issued = vault.issue(&issue_req("a1", 120)).unwrap();
    assert!(!issued.password.expose().is_empty());
    assert!(!format!("{issued:?}").contains(issued.password.expose()));
    let out = &issued.applied.outputs;
    let lease = out["lease_id"].as_str().unwrap().to_string();
    assert!(lease.starts_with("database/creds/ro/"), "{lease}");
    assert_eq!(out["lease_duration_secs"], 60);
    assert_eq!(out["username"].as_str().unwrap(), issued.username);
    assert!(!out.to_string().contains(issued.password.expose()));
    if let Some(exists) = pg_role_exists(&issued.username) {
        assert!(
            exists,
            "PostgreSQL role {} was not created",
            issued.username
        );
    }

    let plan = vault.plan(&revoke_req("a2", &lease, true)).unwrap();
    assert!(!plan.reversible);
    let revoked = vault.apply(&revoke_req("a2", &lease, true)).unwrap();
    assert!(vault.verify(&revoked).unwrap());
    assert_eq!(vault.lookup_lease(&lease).unwrap(), LeaseState::Gone);
    if let Some(exists) = pg_role_exists(&issued.username) {
        assert!(
            !exists,
            "PostgreSQL role {} survived the revoke",
            issued.username
        );
    }
    // Irreversible: undo refuses. Idempotent: revoking again is fine.
    assert!(matches!(
        vault.undo(&revoked),
        Err(ConnectorError::Invalid(_))
    ));
    vault.apply(&revoke_req("a2", &lease, true)).unwrap();
}

#[test]
fn revoke_without_approval_is_refused() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let applied = vault.apply(&issue_req("b1", 60)).unwrap();
    let lease = applied.outputs["lease_id"].as_str().unwrap();
    let err = vault.apply(&revoke_req("b2", lease, false)).unwrap_err();
    assert!(
        matches!(err, ConnectorError::Invalid(ref m) if m.contains("approved")),
        "{err}"
    );
    assert!(matches!(
        vault.lookup_lease(lease).unwrap(),
        LeaseState::Alive { .. }
    ));
    vault.undo(&applied).unwrap();
}

#[test]
fn apply_verify_undo_round_trip_and_retry_hint() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let req = issue_req("c1", 60);
    let plan = vault.plan(&req).unwrap();
    assert!(plan.reversible);
    let applied = vault.apply(&req).unwrap();
    assert!(vault.verify(&applied).unwrap());
    let lease = applied.outputs["lease_id"].as_str().unwrap().to_string();

    // A retry that carries the lease recorded by the ledger gets the same lease back.
    let mut retry = req.clone();
    retry.params = json!({ "existing_lease": lease });
    let again = vault.apply(&retry).unwrap();
    assert_eq!(again.outputs["lease_id"], lease.as_str());
    assert_eq!(again.outputs["reused"], true);

    vault.undo(&applied).unwrap();
    assert!(!vault.verify(&applied).unwrap());
    assert_eq!(vault.lookup_lease(&lease).unwrap(), LeaseState::Gone);

    // With the hinted lease gone, a retry issues a fresh one.
    let fresh = vault.apply(&retry).unwrap();
    assert_ne!(fresh.outputs["lease_id"], lease.as_str());
    vault.undo(&fresh).unwrap();
}

#[test]
fn lease_longer_than_requested_is_refused_and_revoked() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let err = vault.apply(&issue_req("d1", 10)).unwrap_err();
    assert!(
        matches!(err, ConnectorError::Invalid(ref m) if m.contains("revoked")),
        "{err}"
    );
    assert_eq!(bao.lease_keys("database/creds/ro/"), Vec::<String>::new());
    // The positive control: an accepted credential does show up in that listing.
    let ok = vault.apply(&issue_req("d2", 60)).unwrap();
    assert_eq!(bao.lease_keys("database/creds/ro/").len(), 1);
    vault.undo(&ok).unwrap();
}

#[test]
fn bad_token_gives_a_clean_error() {
    let bao = Bao::start();
    let vault = VaultConnector::new(&bao.addr, "not-the-token");
    let err = vault.apply(&issue_req("e1", 60)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConnectorError::Api { .. }), "{msg}");
    assert!(
        msg.contains("403") && msg.contains("permission denied"),
        "{msg}"
    );
    assert!(!msg.contains("not-the-token"));
    let err = vault.lookup_lease("database/creds/ro/x").unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

fn bound_req(id: &str, kind: &str, approved: bool) -> ActionRequest {
    ActionRequest {
        action_id: id.into(),
        kind: kind.into(),
        identity: "arn:aws:iam::123456789012:role/reporting".into(),
        credential: None,
        expires_in_secs: Some(3600),
        reason: "privilege plus drift".into(),
        params: json!({ "role": "ro", "ttl_secs": 30, "approved": approved }),
        account: None,
    }
}

#[test]
fn restrict_caps_the_role_and_undo_restores_it_read_back() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    assert_eq!(vault.role_ttls("database", "ro").unwrap(), (60, 120));
    let dir = tempfile::tempdir().unwrap();
    let led = Ledger::open(dir.path().join("actions.sqlite")).unwrap();
    let req = bound_req("r1", "restrict", false);
    assert!(vault.plan(&req).unwrap().reversible);
    let applied = run_apply(&vault, &led, &req).unwrap();
    assert_eq!(vault.role_ttls("database", "ro").unwrap(), (30, 30));
    assert!(vault.verify(&applied).unwrap());
    let expires_at =
        tripline_model::Timestamp::parse(applied.outputs["expires_at"].as_str().unwrap())
            .unwrap()
            .millis()
            / 1000;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    assert!(
        (now + 3590..=now + 3610).contains(&expires_at),
        "{expires_at}"
    );
    // A credential issued under the restriction lives at most the cap.
    let issued = vault.issue(&issue_req("r1-issue", 60)).unwrap();
    assert_eq!(issued.applied.outputs["lease_duration_secs"], 30);
    vault.undo(&issued.applied).unwrap();

    // A retry does not read the capped TTLs as the originals: undo restores 60/120.
    let again = run_apply(&vault, &led, &req).unwrap();
    assert_eq!(again, applied);
    run_undo(&vault, &led, &applied).unwrap();
    assert_eq!(vault.role_ttls("database", "ro").unwrap(), (60, 120));
    assert!(!vault.verify(&applied).unwrap());
}

#[test]
fn restrict_interrupted_after_journaling_is_completed_or_rolled_back() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let req = bound_req("r2", "restrict", false);
    let partial = json!({ "default_ttl": 60, "max_ttl": 120, "expires_at": 2_000_000_000i64 });
    // Crash before the POST: nothing in place, reconcile reports nothing to complete.
    assert_eq!(vault.reconcile(&req, Some(&partial)).unwrap(), None);
    assert_eq!(vault.role_ttls("database", "ro").unwrap(), (60, 120));
    // Crash after the POST: the cap is in place, reconcile completes it with the original TTLs.
    bao.root(
        "POST",
        "database/roles/ro",
        json!({"default_ttl": "30s", "max_ttl": "30s"}),
    );
    let done = vault.reconcile(&req, Some(&partial)).unwrap().unwrap();
    assert_eq!(done.undo["default_ttl"], 60);
    assert_eq!(done.undo["max_ttl"], 120);
    vault.undo(&done).unwrap();
    assert_eq!(vault.role_ttls("database", "ro").unwrap(), (60, 120));
}

#[test]
fn reset_leases_needs_approval_then_revokes_every_credential_of_the_role() {
    let bao = Bao::start();
    if !bao.setup_database(60) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let a = vault.issue(&issue_req("s1", 60)).unwrap();
    let b = vault.issue(&issue_req("s2", 60)).unwrap();
    assert_eq!(vault.list_leases("database/creds/ro").unwrap().len(), 2);

    let err = vault
        .apply(&bound_req("s3", "reset_leases", false))
        .unwrap_err();
    assert!(err.to_string().contains("approved"), "{err}");
    assert_eq!(vault.list_leases("database/creds/ro").unwrap().len(), 2);

    let plan = vault.plan(&bound_req("s3", "reset_leases", true)).unwrap();
    assert!(!plan.reversible);
    let applied = vault.apply(&bound_req("s3", "reset_leases", true)).unwrap();
    assert_eq!(applied.outputs["revoked"], 2);
    assert!(vault.verify(&applied).unwrap());
    assert!(vault.list_leases("database/creds/ro").unwrap().is_empty());
    for u in [&a.username, &b.username] {
        if let Some(exists) = pg_role_exists(u) {
            assert!(!exists, "PostgreSQL role {u} survived the reset");
        }
    }
    assert!(vault.undo(&applied).is_err());
    // The workload's next read gets a fresh credential.
    let fresh = vault.issue(&issue_req("s4", 60)).unwrap();
    vault.undo(&fresh.applied).unwrap();
}

#[test]
fn a_short_lived_credential_expires_without_tripline() {
    let bao = Bao::start();
    if !bao.setup_database(2) {
        return;
    }
    let vault = VaultConnector::new(&bao.addr, &bao.token);
    let issued = vault.issue(&issue_req("x1", 5)).unwrap();
    let lease = issued.applied.outputs["lease_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(matches!(
        vault.lookup_lease(&lease).unwrap(),
        LeaseState::Alive { .. }
    ));
    if let Some(exists) = pg_role_exists(&issued.username) {
        assert!(exists);
    }
    // No call from here on but reads: Vault's own expiry revokes the lease and drops the user.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while vault.lookup_lease(&lease).unwrap() != LeaseState::Gone {
        assert!(
            std::time::Instant::now() < deadline,
            "lease outlived its TTL"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    if let Some(exists) = pg_role_exists(&issued.username) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut exists = exists;
        while exists && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(250));
            exists = pg_role_exists(&issued.username).unwrap_or(false);
        }
        assert!(!exists, "user {} outlived its lease", issued.username);
    }
}
