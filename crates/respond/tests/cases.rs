//! Case transitions, the owner check and timeout escalation, persisted in SQLite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use tripline_respond::cases::{CaseBook, CaseConfig, CaseError, CaseState, Tier, Verdict};

const T0: i64 = 1_700_000_000;
const ID: &str = "arn:aws:iam::1:user/ci";

fn cfg() -> CaseConfig {
    CaseConfig {
        admins: vec!["secops".into()],
        owner_window_secs: 3600,
        max_restriction_secs: 7200,
    }
}

fn book_with_case(tier: Tier) -> (CaseBook, String) {
    let book = CaseBook::open_in_memory(cfg()).unwrap();
    let case = book
        .open_case(
            ID,
            "inc-1",
            Some("alice".into()),
            tier,
            "jit_restrict: new network",
            T0,
        )
        .unwrap();
    (book, case.id)
}

#[test]
fn one_case_per_identity_and_incident() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    let again = book
        .open_case(
            ID,
            "inc-1",
            Some("bob".into()),
            Tier::Notify,
            "other",
            T0 + 5,
        )
        .unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.owner.as_deref(), Some("alice"));
    assert_eq!(again.opened_at, T0);
    book.open_case(ID, "inc-2", None, Tier::Notify, "x", T0)
        .unwrap();
    assert_eq!(book.list().unwrap().len(), 2);
}

#[test]
fn open_awaiting_restricted_contained_resolved() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    let c = book.get(&id).unwrap();
    assert_eq!(
        (c.state, c.identity.as_str(), c.tier),
        (CaseState::Open, ID, Tier::JitRestrict)
    );
    book.request_owner(&id, T0).unwrap();
    let c = book.get(&id).unwrap();
    assert_eq!(c.state, CaseState::AwaitingOwner);
    assert_eq!(c.owner_deadline, Some(T0 + 3600));
    book.restrict(&id, T0 + 1800).unwrap();
    assert_eq!(book.get(&id).unwrap().state, CaseState::Restricted);
    book.contain(&id).unwrap();
    assert_eq!(book.get(&id).unwrap().state, CaseState::Contained);
    book.resolve(&id, "alice", "key rotated", T0 + 10).unwrap();
    let c = book.get(&id).unwrap();
    assert_eq!(c.state, CaseState::Resolved);
    // Closed: nothing moves it any more.
    assert!(matches!(
        book.approve(&id, "alice", T0),
        Err(CaseError::BadTransition { .. })
    ));
    assert!(matches!(
        book.contain(&id),
        Err(CaseError::BadTransition { .. })
    ));
}

#[test]
fn approve_moves_to_restricted_or_contained() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    book.request_owner(&id, T0).unwrap();
    book.approve(&id, "alice", T0 + 60).unwrap();
    let c = book.get(&id).unwrap();
    assert_eq!(c.state, CaseState::Restricted);
    assert_eq!(c.approvals.len(), 1);
    assert_eq!(
        (c.approvals[0].who.as_str(), c.approvals[0].at),
        ("alice", T0 + 60)
    );
    assert_eq!(c.approvals[0].verdict, Verdict::Approved);

    let (book, id) = book_with_case(Tier::Contain);
    book.request_owner(&id, T0).unwrap();
    book.approve(&id, "secops", T0).unwrap();
    assert_eq!(book.get(&id).unwrap().state, CaseState::Contained);
}

#[test]
fn deny_is_a_false_positive_with_a_reason() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    book.request_owner(&id, T0).unwrap();
    book.restrict(&id, T0 + 600).unwrap();
    assert!(matches!(
        book.deny(&id, "alice", " ", T0),
        Err(CaseError::Invalid(_))
    ));
    book.deny(&id, "alice", "planned migration", T0 + 30)
        .unwrap();
    let c = book.get(&id).unwrap();
    assert_eq!(c.state, CaseState::FalsePositive);
    assert!(c.undo_requested, "the restriction must be undone");
    assert_eq!(
        c.approvals[0].verdict,
        Verdict::Denied {
            reason: "planned migration".into()
        }
    );
    assert!(matches!(
        book.deny(&id, "alice", "again", T0),
        Err(CaseError::BadTransition { .. })
    ));
}

#[test]
fn extend_is_bounded() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    assert!(matches!(
        book.extend(&id, "alice", 60, T0),
        Err(CaseError::BadTransition { .. })
    ));
    book.restrict(&id, T0 + 1800).unwrap();
    assert_eq!(book.extend(&id, "alice", 1800, T0).unwrap(), T0 + 3600);
    assert_eq!(
        book.get(&id).unwrap().restriction_expires_at,
        Some(T0 + 3600)
    );
    let err = book.extend(&id, "alice", 3601 + 100, T0).unwrap_err();
    assert!(
        matches!(err, CaseError::ExtensionTooLong { max: 7200, .. }),
        "{err}"
    );
    assert_eq!(
        book.get(&id).unwrap().restriction_expires_at,
        Some(T0 + 3600)
    );
    // Past its expiry, an extension counts from now.
    assert_eq!(
        book.extend(&id, "alice", 600, T0 + 5000).unwrap(),
        T0 + 5600
    );
}

#[test]
fn undo_marks_for_undo() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    assert!(matches!(
        book.undo(&id, "alice", T0),
        Err(CaseError::BadTransition { .. })
    ));
    book.restrict(&id, T0 + 600).unwrap();
    book.undo(&id, "alice", T0 + 1).unwrap();
    let c = book.get(&id).unwrap();
    assert!(c.undo_requested);
    assert_eq!(c.approvals.last().unwrap().verdict, Verdict::UndoRequested);
}

#[test]
fn only_the_owner_or_an_admin_may_act() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    book.request_owner(&id, T0).unwrap();
    let err = book.approve(&id, "mallory", T0).unwrap_err();
    assert_eq!(
        err,
        CaseError::NotOwner {
            who: "mallory".into(),
            case: id.clone(),
            owner: "alice".into()
        }
    );
    assert!(matches!(
        book.deny(&id, "mallory", "x", T0),
        Err(CaseError::NotOwner { .. })
    ));
    book.restrict(&id, T0 + 60).unwrap();
    assert!(matches!(
        book.extend(&id, "mallory", 60, T0),
        Err(CaseError::NotOwner { .. })
    ));
    assert!(matches!(
        book.undo(&id, "mallory", T0),
        Err(CaseError::NotOwner { .. })
    ));
    assert!(book.get(&id).unwrap().approvals.is_empty());
    book.extend(&id, "secops", 60, T0).unwrap();

    // No owner: admins only.
    let c = book
        .open_case("orphan", "inc-9", None, Tier::Notify, "x", T0)
        .unwrap();
    book.request_owner(&c.id, T0).unwrap();
    assert!(matches!(
        book.approve(&c.id, "alice", T0),
        Err(CaseError::NotOwner { .. })
    ));
    book.approve(&c.id, "secops", T0).unwrap();
}

#[test]
fn silent_owner_escalates_one_tier_with_a_reason() {
    let (book, id) = book_with_case(Tier::JitRestrict);
    book.request_owner(&id, T0).unwrap();
    assert!(
        book.escalate_overdue(T0 + 3600).unwrap().is_empty(),
        "not past the deadline yet"
    );
    assert_eq!(book.escalate_overdue(T0 + 3601).unwrap(), vec![id.clone()]);
    let c = book.get(&id).unwrap();
    assert_eq!(c.tier, Tier::Rotate);
    assert_eq!(c.escalations.len(), 1);
    assert_eq!(
        (c.escalations[0].from, c.escalations[0].to),
        (Tier::JitRestrict, Tier::Rotate)
    );
    assert!(
        c.escalations[0].why.contains("alice"),
        "{}",
        c.escalations[0].why
    );
    assert_eq!(c.owner_deadline, Some(T0 + 3601 + 3600));
    // Not again within the new window; again after it.
    assert!(book.escalate_overdue(T0 + 4000).unwrap().is_empty());
    assert_eq!(book.escalate_overdue(T0 + 7202).unwrap().len(), 1);
    assert_eq!(book.get(&id).unwrap().tier, Tier::OwnerReview);
    // An owner who answered is not escalated.
    book.approve(&id, "alice", T0 + 7300).unwrap();
    assert!(book.escalate_overdue(T0 + 100_000).unwrap().is_empty());
}

#[test]
fn cases_survive_reopening_the_file() {
    let path = std::env::temp_dir().join(format!("tripline-cases-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let id = {
        let book = CaseBook::open(&path, cfg()).unwrap();
        let c = book
            .open_case(ID, "inc-1", Some("alice".into()), Tier::Notify, "x", T0)
            .unwrap();
        book.request_owner(&c.id, T0).unwrap();
        c.id
    };
    let book = CaseBook::open(&path, cfg()).unwrap();
    assert_eq!(book.get(&id).unwrap().state, CaseState::AwaitingOwner);
    assert!(matches!(book.get("nope"), Err(CaseError::NotFound(_))));
    drop(book);
    let _ = std::fs::remove_file(&path);
}
