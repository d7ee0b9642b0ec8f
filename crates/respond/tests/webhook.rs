//! The webhook connector against a real local HTTP server (a std `TcpListener` thread).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tripline_respond::webhook::{Format, WebhookConnector};
use tripline_respond::{ActionRequest, Connector, ConnectorError};

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers each request with the next status in `statuses` (200 once they run out).
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

fn serve(statuses: Vec<u16>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let mut statuses: VecDeque<u16> = statuses.into();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap();
                    }
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push(Recorded {
                method,
                path,
                headers,
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            });
            let status = statuses.pop_front().unwrap_or(200);
            let reply =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    Server { url, seen }
}

fn req(kind: &str) -> ActionRequest {
    ActionRequest {
        action_id: format!("act-{kind}-1"),
        kind: kind.into(),
        identity: "arn:aws:iam::111122223333:user/ci-deployer".into(),
        credential: Some("AKIAEXAMPLE".into()),
        expires_in_secs: Some(3600),
        reason: "new network and first-seen sensitive calls".into(),
        params: json!({ "message": "please confirm", "owner": "team-ci" }),
        account: None,
    }
}

#[test]
fn generic_json_with_idempotency_key() {
    let server = serve(vec![]);
    let hook = WebhookConnector::new(&server.url, Format::Generic);
    for kind in ["notify", "step_up", "owner_review"] {
        let r = req(kind);
        let plan = hook.plan(&r).unwrap();
        assert!(plan.steps.iter().any(|s| s.contains("nothing to undo")));
        let applied = hook.apply(&r).unwrap();
        assert!(hook.verify(&applied).unwrap());
        hook.undo(&applied).unwrap();
        assert_eq!(applied.outputs["attempts"], 1);
    }
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let first = &seen[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/hook");
    assert_eq!(first.header("Idempotency-Key"), Some("act-notify-1"));
    assert_eq!(first.header("Content-Type"), Some("application/json"));
    let t = &first.body["tripline"];
    assert_eq!(t["action_id"], "act-notify-1");
    assert_eq!(t["kind"], "notify");
    assert_eq!(t["identity"], "arn:aws:iam::111122223333:user/ci-deployer");
    assert_eq!(t["expires_in_secs"], 3600);
    assert_eq!(t["reason"], "new network and first-seen sensitive calls");
    assert_eq!(t["message"], "please confirm");
    assert_eq!(seen[2].body["tripline"]["kind"], "owner_review");
}

#[test]
fn chat_format_is_slack_compatible() {
    let server = serve(vec![]);
    let hook = WebhookConnector::new(&server.url, Format::Chat);
    hook.apply(&req("step_up")).unwrap();
    let seen = server.seen.lock().unwrap().clone();
    let body = seen[0].body.as_object().unwrap();
    assert_eq!(body.len(), 1, "{body:?}");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("Step-up verification"), "{text}");
    assert!(
        text.contains("ci-deployer") && text.contains("act-step_up-1"),
        "{text}"
    );
}

#[test]
fn retries_a_5xx_with_backoff_and_the_same_key() {
    let server = serve(vec![500, 503]);
    let hook = WebhookConnector::new(&server.url, Format::Generic)
        .with_retry(3, Duration::from_millis(50));
    let start = Instant::now();
    let applied = hook.apply(&req("notify")).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "backoff 50 + 100 ms"
    );
    assert_eq!(applied.outputs["attempts"], 3);
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|r| r.header("Idempotency-Key") == Some("act-notify-1")));
}

#[test]
fn retries_are_bounded_and_4xx_is_not_retried() {
    let server = serve(vec![500, 500, 500, 500]);
    let hook = WebhookConnector::new(&server.url, Format::Generic)
        .with_retry(2, Duration::from_millis(10));
    let err = hook.apply(&req("notify")).unwrap_err();
    assert!(matches!(err, ConnectorError::Api { .. }), "{err}");
    assert!(err.to_string().contains("2 attempts"), "{err}");
    assert_eq!(server.seen.lock().unwrap().len(), 2);

    let server = serve(vec![400]);
    let hook = WebhookConnector::new(&server.url, Format::Generic)
        .with_retry(3, Duration::from_millis(10));
    let err = hook.apply(&req("notify")).unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

#[test]
fn unknown_kind_is_unsupported() {
    let hook = WebhookConnector::new("http://127.0.0.1:9/", Format::Generic);
    assert!(matches!(
        hook.plan(&req("restrict")),
        Err(ConnectorError::Unsupported(_))
    ));
    assert!(matches!(
        hook.apply(&req("restrict")),
        Err(ConnectorError::Unsupported(_))
    ));
}

#[test]
fn url_secret_stays_out_of_debug_and_errors() {
    // Nothing listens on port 9 (discard), so every attempt is a transport error.
    let hook = WebhookConnector::new("http://127.0.0.1:9/services/T0/B0/s3cr3t", Format::Chat)
        .with_retry(2, Duration::from_millis(1));
    let dbg = format!("{hook:?}");
    assert!(
        !dbg.contains("s3cr3t") && dbg.contains("127.0.0.1:9"),
        "{dbg}"
    );
    let err = hook.apply(&req("notify")).unwrap_err().to_string();
    assert!(
        !err.contains("s3cr3t") && err.contains("2 attempts"),
        "{err}"
    );
}
