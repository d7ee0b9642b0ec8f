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
