//! Test harness: a `moto_server` (PyPI `moto[server]`) on a free loopback port, killed on drop.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tripline_respond::aws::AwsConnector;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// A running moto server.
pub struct Moto {
    child: Child,
    pub port: u16,
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

fn python_has_moto() -> bool {
    Command::new("python3")
        .args(["-c", "import moto.server, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `moto_server` if it is on PATH, else `python3 -m moto.server`, installing `moto[server]`
/// with pip when neither works (idempotent: pip is skipped once the import succeeds).
fn moto_command() -> Command {
    if on_path("moto_server") {
        return Command::new("moto_server");
    }
    if !python_has_moto() {
        let st = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "moto[server]"])
            .status()
            .expect("running pip");
        assert!(st.success(), "pip install 'moto[server]' failed");
    }
    let mut c = Command::new("python3");
    c.args(["-m", "moto.server"]);
    c
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

impl Moto {
    pub fn start() -> Moto {
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = moto_command();
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_REGION", REGION)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().expect("spawning moto_server");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Moto { child, port };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited (port taken?): try another port
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn connector(&self) -> AwsConnector {
        AwsConnector::with_credentials(Some(self.endpoint()), REGION, "testing", "testing")
            .expect("connector")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a user with one access key; returns (user ARN, key id).
pub fn user_with_key(c: &AwsConnector, name: &str) -> (String, String) {
    let u = c
        .block_on(c.iam().create_user().user_name(name).send())
        .expect("CreateUser");
    let arn = u.user().expect("user").arn().to_string();
    let k = c
        .block_on(c.iam().create_access_key().user_name(name).send())
        .expect("CreateAccessKey");
    (
        arn,
        k.access_key().expect("key").access_key_id().to_string(),
    )
}

/// Creates a role trusted by the account; returns its ARN.
pub fn role(c: &AwsConnector, name: &str) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let r = c
        .block_on(
            c.iam()
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .send(),
        )
        .expect("CreateRole");
    r.role().expect("role").arn().to_string()
}

/// Inline policy names of a user.
pub fn user_policies(c: &AwsConnector, user: &str) -> Vec<String> {
    c.block_on(c.iam().list_user_policies().user_name(user).send())
        .expect("ListUserPolicies")
        .policy_names()
        .to_vec()
}

/// Inline policy names of a role.
pub fn role_policies(c: &AwsConnector, role: &str) -> Vec<String> {
    c.block_on(c.iam().list_role_policies().role_name(role).send())
        .expect("ListRolePolicies")
        .policy_names()
        .to_vec()
}

/// `(key id, "Active"/"Inactive")`, sorted.
pub fn keys(c: &AwsConnector, user: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = c
        .list_keys(user)
        .expect("ListAccessKeys")
        .into_iter()
        .map(|(k, s)| (k, s.as_str().to_string()))
        .collect();
    v.sort();
    v
}

pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("tripline-respond-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
