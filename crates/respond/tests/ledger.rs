//! The action ledger with an in-memory connector: states, idempotent run_apply, recovery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::cell::RefCell;

use serde_json::json;
use tripline_respond::ledger::{recover, run_apply, run_undo, Begin, Ledger, Recovery, State};
use tripline_respond::{ActionRequest, Applied, Connector, ConnectorError, Journal, Plan};

/// A connector whose "system" is a set of flags; it counts API calls.
#[derive(Default)]
struct Fake {
    on: RefCell<Vec<String>>,
    calls: RefCell<u32>,
    fail_after_partial: RefCell<bool>,
}

impl Connector for Fake {
    fn name(&self) -> &str {
        "fake"
    }
    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError> {
        Ok(Plan {
            action_id: req.action_id.clone(),
            connector: "fake".into(),
            steps: vec![format!("turn on {}", req.identity)],
            reversible: true,
        })
    }
    fn apply(&self, req: &ActionRequest) -> Result<Applied, ConnectorError> {
        *self.calls.borrow_mut() += 1;
        if !self.on.borrow().contains(&req.identity) {
            self.on.borrow_mut().push(req.identity.clone());
        }
        Ok(Applied {
            action_id: req.action_id.clone(),
            connector: "fake".into(),
            kind: req.kind.clone(),
            identity: req.identity.clone(),
            undo: json!({"flag": req.identity}),
            outputs: json!({}),
        })
    }
    fn apply_journaled(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        journal.record(json!({"flag": req.identity}))?;
        if *self.fail_after_partial.borrow() {
            return Err(ConnectorError::Api {
                connector: "fake".into(),
                message: "boom".into(),
            });
        }
        self.apply(req)
    }
    fn verify(&self, applied: &Applied) -> Result<bool, ConnectorError> {
        Ok(self.on.borrow().contains(&applied.identity))
    }
    fn undo(&self, applied: &Applied) -> Result<(), ConnectorError> {
        self.on.borrow_mut().retain(|f| *f != applied.identity);
        Ok(())
    }
    fn reconcile(
        &self,
        req: &ActionRequest,
        partial: Option<&serde_json::Value>,
    ) -> Result<Option<Applied>, ConnectorError> {
        if partial.is_some() && self.on.borrow().contains(&req.identity) {
            return self.apply(req).map(Some);
        }
        self.on.borrow_mut().retain(|f| *f != req.identity);
        Ok(None)
    }
}

fn req(id: &str, identity: &str) -> ActionRequest {
    ActionRequest {
        action_id: id.into(),
        kind: "restrict".into(),
        identity: identity.into(),
        credential: None,
        expires_in_secs: Some(900),
        reason: "test".into(),
        params: json!({}),
        account: None,
    }
}

fn ledger() -> (tempdir::Dir, Ledger) {
    let d = tempdir::Dir::new();
    let l = Ledger::open(d.0.join("ledger.db")).unwrap();
    (d, l)
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let p =
                std::env::temp_dir().join(format!("tripline-ledger-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn run_apply_is_idempotent_and_states_progress() {
    let (_d, l) = ledger();
    let c = Fake::default();
    let r = req("a1", "svc-1");
    l.record_plan(&r, &c.plan(&r).unwrap()).unwrap();
    assert_eq!(l.get("a1").unwrap().unwrap().state, State::Planned);
    let a = run_apply(&c, &l, &r).unwrap();
    let b = run_apply(&c, &l, &r).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        *c.calls.borrow(),
        1,
        "second run_apply must not call the API"
    );
    assert_eq!(l.get("a1").unwrap().unwrap().state, State::Applied);
    assert!(c.verify(&a).unwrap());
    l.mark_verified("a1").unwrap();
    assert_eq!(l.get("a1").unwrap().unwrap().state, State::Verified);
    run_undo(&c, &l, &a).unwrap();
    assert_eq!(l.get("a1").unwrap().unwrap().state, State::Undone);
    assert!(!c.verify(&a).unwrap());
    // An undone action id cannot be reapplied.
    assert!(matches!(
        run_apply(&c, &l, &r),
        Err(ConnectorError::Invalid(_))
    ));
    assert!(l.pending().unwrap().is_empty());
}

#[test]
fn begin_records_applying_before_the_call_and_survives_reopen() {
    let d = tempdir::Dir::new();
    let path = d.0.join("ledger.db");
    let r = req("a2", "svc-2");
    {
        let l = Ledger::open(&path).unwrap();
        assert_eq!(l.begin(&r, "fake").unwrap(), Begin::Fresh);
        l.record_partial("a2", &json!({"step": 1})).unwrap();
        // "crash": drop without finish
    }
    let l = Ledger::open(&path).unwrap();
    let p = l.pending().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].state, State::Applying);
    assert_eq!(p[0].partial, Some(json!({"step": 1})));
    assert_eq!(p[0].request, r);
    match l.begin(&r, "fake").unwrap() {
        Begin::InProgress(rec) => assert_eq!(rec.partial, Some(json!({"step": 1}))),
        other => panic!("expected InProgress, got {other:?}"),
    }
    // Same id for another identity is refused.
    assert!(l.begin(&req("a2", "other"), "fake").is_err());
}

#[test]
fn recover_completes_or_undoes() {
    let (_d, l) = ledger();
    let c = Fake::default();
    // Crash after the change was made: completes.
    let done = req("c1", "svc-done");
    l.begin(&done, "fake").unwrap();
    l.record_partial("c1", &json!({"flag": "svc-done"}))
        .unwrap();
    c.on.borrow_mut().push("svc-done".into());
    // Crash before the change: undone.
    let not_done = req("c2", "svc-not");
    l.begin(&not_done, "fake").unwrap();
    // Another connector's record is left alone.
    l.begin(&req("c3", "x"), "other").unwrap();
    let out = recover(&c, &l).unwrap();
    assert_eq!(
        out,
        vec![
            Recovery::Completed("c1".into()),
            Recovery::Undone("c2".into())
        ]
    );
    assert_eq!(l.get("c1").unwrap().unwrap().state, State::Applied);
    assert!(l.get("c1").unwrap().unwrap().applied.is_some());
    assert_eq!(l.get("c2").unwrap().unwrap().state, State::Undone);
    assert_eq!(l.get("c3").unwrap().unwrap().state, State::Applying);
    assert_eq!(*c.on.borrow(), vec!["svc-done".to_string()]);
}

#[test]
fn failed_apply_is_recorded_and_recoverable() {
    let (_d, l) = ledger();
    let c = Fake::default();
    *c.fail_after_partial.borrow_mut() = true;
    let r = req("f1", "svc-f");
    assert!(run_apply(&c, &l, &r).is_err());
    let rec = l.get("f1").unwrap().unwrap();
    assert_eq!(rec.state, State::Failed);
    assert!(rec.error.unwrap().contains("boom"));
    assert_eq!(l.pending().unwrap().len(), 1);
    assert_eq!(
        recover(&c, &l).unwrap(),
        vec![Recovery::Undone("f1".into())]
    );
    assert!(l.pending().unwrap().is_empty());
}
