//! The simulated organisation: accounts, networks, identities and how each identity behaves.
//! Everything here is drawn from the seed once, before any event is generated.

use crate::catalog;
use crate::net::{self, UaKind, UserAgent};
use crate::rng::{ip, Rng};
use crate::SimError;
use tripline_model::{IdentityClass, Timestamp};

pub(crate) const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];
pub(crate) const US_EAST_1: u8 = 0;

/// AWS service principals that call on an identity's behalf or issue its sessions.
pub(crate) const SERVICES: [&str; 6] = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "athena.amazonaws.com",
    "glue.amazonaws.com",
    "cloudformation.amazonaws.com",
];
pub(crate) const SVC_EC2: u8 = 0;
pub(crate) const SVC_LAMBDA: u8 = 1;
pub(crate) const SVC_ECS: u8 = 2;
pub(crate) const SVC_ATHENA: u8 = 3;

/// Services reachable through the VPC endpoints every simulated VPC has.
pub(crate) const VPCE_SERVICES: [&str; 8] = [
    "s3",
    "dynamodb",
    "sts",
    "kms",
    "secretsmanager",
    "ssm",
    "logs",
    "monitoring",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Env {
    Prod,
    Staging,
    Dev,
    Shared,
}

impl Env {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Env::Prod => "prod",
            Env::Staging => "staging",
            Env::Dev => "dev",
            Env::Shared => "shared",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Account {
    pub id: String,
    pub env: Env,
    /// Region indexes into [`REGIONS`]; the first is the home region.
    pub regions: Vec<u8>,
    /// NAT gateway elastic IPs, per entry of `regions`.
    pub nat: Vec<Vec<u32>>,
    /// Second octet of the account's 10.x.0.0/16 VPC.
    pub vpc_octet: u8,
    /// VPC endpoint ids, one per entry of [`VPCE_SERVICES`].
    pub vpce: Vec<String>,
    pub created: i64,
}

impl Account {
    pub(crate) fn home_region(&self) -> u8 {
        self.regions.first().copied().unwrap_or(US_EAST_1)
    }

    pub(crate) fn nat_ips(&self, region: u8) -> &[u32] {
        let pos = self.regions.iter().position(|&r| r == region).unwrap_or(0);
        self.nat
            .get(pos)
            .or_else(|| self.nat.first())
            .map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn vpce_for(&self, svc: &str) -> Option<u8> {
        VPCE_SERVICES
            .iter()
            .position(|s| *s == svc)
            .and_then(|p| u8::try_from(p).ok())
    }
}

/// How a role's sessions are issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Issuer {
    Ec2,
    Lambda,
    Ecs,
    WebIdentity,
    /// A vendor's AWS account assumes the role (with an external id).
    ExternalAccount,
    /// The organisation's management account (people and tooling) assumes the role.
    ManagementAccount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sess {
    /// IAM user long-lived keys, or a Kubernetes token.
    None,
    /// Sessions rotate every `period_min` per slot, each issued by `issuer`.
    Periodic { period_min: u32, issuer: Issuer },
    /// One session per episode.
    PerEpisode { issuer: Issuer },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Role,
    K8s { ns: String, sa: String },
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub id: String,
    pub created: i64,
    pub active: bool,
    /// Share of the identity's calls made with this key.
    pub weight: u32,
}

/// One running copy of a workload: an instance, a task, a Lambda execution environment, a pod.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub name: String,
    pub ip: u32,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Vocab {
    pub acts: Vec<u16>,
    pub w: Vec<u32>,
}

impl Vocab {
    pub(crate) fn aws(items: &[(&str, u32)]) -> Result<Self, SimError> {
        let mut v = Vocab::default();
        for (k, w) in items {
            v.acts.push(
                catalog::find(k).ok_or_else(|| SimError::Internal(format!("unknown api {k}")))?,
            );
            v.w.push(*w);
        }
        Ok(v)
    }

    pub(crate) fn k8s(items: &[(&str, u32)]) -> Result<Self, SimError> {
        let mut v = Vocab::default();
        for (k, w) in items {
            v.acts.push(
                catalog::find_k8s(k)
                    .ok_or_else(|| SimError::Internal(format!("unknown k8s api {k}")))?,
            );
            v.w.push(*w);
        }
        Ok(v)
    }
}

pub(crate) fn api(key: &str) -> Result<u16, SimError> {
    catalog::find(key).ok_or_else(|| SimError::Internal(format!("unknown api {key}")))
}

pub(crate) fn k8s_api(key: &str) -> Result<u16, SimError> {
    catalog::find_k8s(key).ok_or_else(|| SimError::Internal(format!("unknown k8s api {key}")))
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Rhythm {
    Flat,
    /// Weekday working hours (UTC), `off` elsewhere.
    Business {
        start: u8,
        end: u8,
        off: f64,
    },
    /// Smooth day/night cycle peaking at `peak` (UTC), quieter at weekends.
    Diurnal {
        peak: u8,
    },
}

impl Rhythm {
    /// Relative activity (peak 1.0) for an hour of the day and a day of the week (0 = Monday).
    pub(crate) fn weight(self, hour: u32, dow: u32) -> f64 {
        let weekend = dow >= 5;
        match self {
            Rhythm::Flat => 1.0,
            Rhythm::Business { start, end, off } => {
                let h = hour as u8;
                if !weekend && h >= start && h < end {
                    1.0
                } else {
                    off
                }
            }
            Rhythm::Diurnal { peak } => {
                let d = (f64::from(hour) - f64::from(peak)) * std::f64::consts::TAU / 24.0;
                let w = 0.3 + 0.7 * (0.5 + 0.5 * d.cos());
                if weekend {
                    w * 0.6
                } else {
                    w
                }
            }
        }
    }
}

/// How an event's caller is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Direct,
    /// An AWS service calls with the identity's session (`invokedBy`).
    Service(u8),
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub act: u16,
    pub fixed: u32,
    /// Mean extra calls per unit of volume scale.
    pub scaled: f64,
    /// Index into the identity's user agents.
    pub ua: u8,
    pub via: Via,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Sched {
    /// Once a day at `at_min` minutes past midnight UTC, give or take `jitter` minutes.
    Daily {
        at_min: u32,
        jitter: u32,
        weekdays: bool,
    },
    /// Poisson number per day, starting between `start_h` and `end_h` UTC.
    Random {
        per_day: f64,
        start_h: u8,
        end_h: u8,
        weekend: f64,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum Activity {
    /// Independent calls at `rate` per hour at the rhythm's peak, scaled by volume.
    Background {
        vocab: Vocab,
        rate: f64,
        rhythm: Rhythm,
        ua: Vec<u8>,
    },
    /// A call every `every_min` minutes from each active slot (fixed volume).
    Heartbeat { act: u16, every_min: u32, ua: u8 },
    /// Bursts of ordered calls (a deploy, a nightly ETL run, an admin session).
    Episodes {
        sched: Sched,
        dur_min: (u32, u32),
        steps: Vec<Step>,
    },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Resources {
    pub buckets: Vec<String>,
    pub prefixes: Vec<String>,
    pub tables: Vec<String>,
    pub queues: Vec<String>,
    pub topics: Vec<String>,
    pub functions: Vec<String>,
    pub stacks: Vec<String>,
    pub ecs_cluster: String,
    pub services: Vec<String>,
    pub secrets: Vec<String>,
    pub params: Vec<String>,
    pub kms_key: String,
    pub log_group: String,
    pub metric_ns: String,
    pub glue_db: String,
    pub glue_tables: Vec<String>,
    pub workgroup: String,
    pub models: Vec<&'static str>,
    pub repos: Vec<String>,
    pub asg: String,
    pub target_group: String,
    pub k8s_names: Vec<String>,
}

/// An extra, rarely used or never used grant written into the identity's policy.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct PolicySpec {
    /// AWS managed policies attached directly.
    pub managed: Vec<&'static str>,
    /// Whether the identity's own permissions are a customer managed policy (else inline).
    pub customer_managed: bool,
    /// Grants beyond what the identity's behaviour needs.
    pub extra: Vec<Grant>,
    /// Permissions the identity is denied (never written into a policy).
    pub denied: Vec<&'static str>,
    /// IAM groups the user belongs to.
    pub groups: Vec<&'static str>,
    /// Trust policy principal for roles (a service, an account, or a federated provider).
    pub trust: Trust,
    /// Number of earlier versions of the customer managed policy.
    pub old_versions: u8,
}

#[derive(Debug, Clone, Default)]
pub(crate) enum Trust {
    #[default]
    None,
    Service(&'static str),
    Account(String, Option<String>),
    GithubOidc(String),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaleUp {
    pub start: i64,
    pub end: i64,
    pub factor: f64,
    /// Label tag applied to events in the window.
    pub tag: u16,
}

#[derive(Debug, Clone)]
pub(crate) struct K8sInfo {
    pub binding: String,
    pub cluster_binding: bool,
    pub in_cluster: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Ident {
    pub name: String,
    pub arn: String,
    pub kind: Kind,
    pub acct: u8,
    pub class: IdentityClass,
    pub model_kind: &'static str,
    pub env: Env,
    pub owner: Option<String>,
    pub team: &'static str,
    pub intent: Option<String>,
    /// AIDA…/AROA… unique id, or the Kubernetes service account uid.
    pub uid: String,
    pub created: i64,
    pub keys: Vec<Key>,
    pub slots: Vec<Slot>,
    /// Slots used outside a scale-up.
    pub normal_slots: usize,
    pub sess: Sess,
    pub ips: Vec<u32>,
    pub ip_w: Vec<u32>,
    /// Calls from slots' private addresses through VPC endpoints where one exists.
    pub vpc: bool,
    pub uas: Vec<u16>,
    pub regions: Vec<u8>,
    pub region_w: Vec<u32>,
    pub acts: Vec<Activity>,
    /// Probability that a call is denied (missing resource-level grant).
    pub deny_rate: f64,
    /// Calls that are always denied (a misconfiguration that keeps retrying), and their rate
    /// relative to the background rate.
    pub deny_vocab: Vocab,
    pub deny_probe: f64,
    pub fail_rate: f64,
    pub res: Resources,
    pub policy: PolicySpec,
    pub scale_up: Option<ScaleUp>,
    pub k8s: Option<K8sInfo>,
    /// Name of the session issuer's principal for ExternalAccount / ManagementAccount issuers.
    pub assumer: Option<String>,
}

impl Ident {
    pub(crate) fn is_user(&self) -> bool {
        self.kind == Kind::User
    }
    pub(crate) fn is_k8s(&self) -> bool {
        matches!(self.kind, Kind::K8s { .. })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Human {
    pub name: String,
    pub arn: String,
    pub uid: String,
    pub acct: u8,
    pub created: i64,
    pub password_changed: i64,
    pub password_used: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct Cluster {
    pub name: String,
    pub acct: u8,
    pub region: u8,
}

#[derive(Debug)]
pub(crate) struct Org {
    pub seed: u64,
    pub start: i64,
    pub end: i64,
    pub slug: String,
    pub accounts: Vec<Account>,
    pub idents: Vec<Ident>,
    pub uas: Vec<UserAgent>,
    pub mgmt_account: String,
    pub vendor_account: String,
    pub cluster: Option<Cluster>,
    pub humans: Vec<Human>,
    pub github_pool: Vec<u32>,
    pub office: Vec<u32>,
}

impl Org {
    pub(crate) fn ident(&self, i: u16) -> Option<&Ident> {
        self.idents.get(usize::from(i))
    }
    pub(crate) fn account(&self, i: u8) -> Option<&Account> {
        self.accounts.get(usize::from(i))
    }
    pub(crate) fn ua(&self, i: u16) -> Option<&UserAgent> {
        self.uas.get(usize::from(i))
    }
    pub(crate) fn add_ua(&mut self, ua: UserAgent) -> u16 {
        self.uas.push(ua);
        u16::try_from(self.uas.len() - 1).unwrap_or(u16::MAX)
    }
}

const ORG_SLUGS: [&str; 8] = [
    "northwind",
    "brightpath",
    "cobaltbay",
    "larkspur",
    "meridianco",
    "quillcraft",
    "tessellate",
    "vantablue",
];
const SERVICE_NAMES: [&str; 24] = [
    "payments",
    "orders",
    "catalog",
    "search",
    "checkout",
    "billing",
    "ledger",
    "notifications",
    "accounts",
    "reporting",
    "inventory",
    "pricing",
    "shipping",
    "recommendations",
    "fraud-scoring",
    "media",
    "auth",
    "gateway",
    "invoicing",
    "loyalty",
    "reviews",
    "subscriptions",
    "fulfillment",
    "profiles",
];
const ETL_JOBS: [&str; 10] = [
    "orders",
    "clickstream",
    "billing",
    "inventory",
    "finance",
    "marketing",
    "sessions",
    "ledger",
    "customer",
    "returns",
];
const INTEGRATIONS: [(&str, &str); 10] = [
    ("crm-sync", "integrations"),
    ("billing-export", "finance-eng"),
    ("warehouse-loader", "data-eng"),
    ("marketing-feed", "growth"),
    ("support-desk", "support-eng"),
    ("payroll-bridge", "finance-eng"),
    ("erp-connector", "integrations"),
    ("bi-reader", "data-eng"),
    ("tax-filing", "finance-eng"),
    ("ad-conversions", "growth"),
];
const PEOPLE: [&str; 8] = [
    "jdoe",
    "asmith",
    "mkowalski",
    "lchen",
    "rpatel",
    "tnguyen",
    "ebrown",
    "sgarcia",
];
const MODELS: [&str; 4] = [
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.titan-embed-text-v2:0",
    "meta.llama3-1-70b-instruct-v1:0",
];

/// What to build, in order: the population is cut from this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    CiOidc,
    CiUser,
    Batch,
    CwAgent,
    Datadog,
    LogShipper,
    Integration,
    Agent,
    Admin,
    Ec2,
    Lambda,
    Ecs,
    K8sPrometheus,
    K8sLbController,
    K8sAutoscaler,
    K8sArgo,
    K8sCertManager,
    K8sExternalDns,
    K8sApp,
    K8sCiDeployer,
}

fn plan(n: usize, k8s: bool, rng: &mut Rng) -> Vec<T> {
    let mut out = vec![
        T::CiOidc,
        T::CiUser,
        T::Batch,
        T::CwAgent,
        T::Datadog,
        T::LogShipper,
        T::Integration,
        T::Integration,
        T::Integration,
        T::Agent,
        T::Admin,
        T::Ec2,
        T::Lambda,
        T::Ecs,
    ];
    if k8s {
        out.extend([
            T::K8sPrometheus,
            T::K8sLbController,
            T::K8sApp,
            T::K8sCiDeployer,
        ]);
    }
    let mut fill: Vec<(T, u32)> = vec![
        (T::CiOidc, 9),
        (T::CiUser, 2),
        (T::Batch, 7),
        (T::Integration, 9),
        (T::Agent, 5),
        (T::Admin, 3),
        (T::Ec2, 11),
        (T::Lambda, 13),
        (T::Ecs, 10),
        (T::CwAgent, 1),
    ];
    if k8s {
        fill.extend([(T::K8sApp, 9), (T::K8sCiDeployer, 1)]);
    }
    let mut once = if k8s {
        vec![
            T::K8sAutoscaler,
            T::K8sArgo,
            T::K8sCertManager,
            T::K8sExternalDns,
        ]
    } else {
        Vec::new()
    };
    let weights: Vec<u32> = fill.iter().map(|f| f.1).collect();
    while out.len() < n {
        if !once.is_empty() && rng.chance(0.25) {
            out.push(once.remove(0));
            continue;
        }
        let pick = rng.weighted(&weights);
        if let Some((t, _)) = fill.get(pick) {
            out.push(*t);
        }
    }
    out
}

pub(crate) struct Builder<'a> {
    pub org: Org,
    rng: Rng,
    used_names: Vec<(u8, String)>,
    svc_cursor: usize,
    services: Vec<&'static str>,
    etl_cursor: usize,
    integ_cursor: usize,
    admin_cursor: usize,
    agent_cursor: usize,
    k8s_app_cursor: usize,
    _cfg: &'a crate::SimConfig,
}

pub(crate) fn build(cfg: &crate::SimConfig) -> Result<Org, SimError> {
    let mut rng = Rng::derive(cfg.seed, &[0x06_72_67]);
    let start = cfg.start.millis() - cfg.start.millis().rem_euclid(Timestamp::MS_PER_HOUR);
    let end = start + i64::from(cfg.days.max(1)) * Timestamp::MS_PER_DAY;
    let slug = (*rng.pick(&ORG_SLUGS).unwrap_or(&"northwind")).to_string();
    let n_accounts = cfg.accounts.clamp(1, 8);
    let mut accounts = Vec::with_capacity(n_accounts);
    let envs: &[(Env, &str)] = match n_accounts {
        1 => &[(Env::Prod, "prod")],
        2 => &[(Env::Prod, "prod"), (Env::Dev, "dev")],
        _ => &[
            (Env::Prod, "prod"),
            (Env::Staging, "staging"),
            (Env::Dev, "dev"),
        ],
    };
    let extra_names = ["shared-services", "data", "security", "sandbox", "tools"];
    for i in 0..n_accounts {
        let (env, _name) = match envs.get(i) {
            Some(&(e, n)) => (e, n.to_string()),
            None => (
                Env::Shared,
                extra_names
                    .get(i - envs.len())
                    .unwrap_or(&"tools")
                    .to_string(),
            ),
        };
        let id = format!("{}{:011}", rng.range(1, 9), rng.below(100_000_000_000));
        let home: u8 = if rng.chance(0.75) { 0 } else { 2 };
        let mut regions = vec![home];
        let second = if home == 0 { 1 } else { 3 };
        if env == Env::Prod || rng.chance(0.5) {
            regions.push(second);
        }
        if env == Env::Prod && rng.chance(0.5) {
            regions.push(if home == 0 { 2 } else { 0 });
        }
        let nat = regions
            .iter()
            .map(|&r| {
                let pre = net::aws_prefixes(REGIONS.get(usize::from(r)).unwrap_or(&"us-east-1"));
                (0..rng.range(1, 3))
                    .map(|_| net::host_in(&mut rng, pre))
                    .collect()
            })
            .collect();
        let vpce = VPCE_SERVICES
            .iter()
            .map(|_| format!("vpce-0{}", rng.hex(16)))
            .collect();
        accounts.push(Account {
            id,
            env,
            regions,
            nat,
            vpc_octet: 16 + (i as u8) * 8 + rng.range(0, 7) as u8,
            vpce,
            created: start - rng.range(900, 2600) * Timestamp::MS_PER_DAY
                + rng.range(0, 86_399) * 1000,
        });
    }
    let mgmt_account = format!("{}{:011}", rng.range(1, 9), rng.below(100_000_000_000));
    let vendor_account = format!("{}{:011}", rng.range(1, 9), rng.below(100_000_000_000));
    let github_pool: Vec<u32> = (0..48)
        .map(|_| net::host_in(&mut rng, net::AZURE))
        .collect();
    let office = net::block_in(&mut rng, net::BUSINESS_ISP, 3);
    let cluster = if cfg.k8s {
        Some(Cluster {
            name: format!("{slug}-prod-eks"),
            acct: 0,
            region: accounts.first().map_or(0, Account::home_region),
        })
    } else {
        None
    };
    let mut services: Vec<&'static str> = SERVICE_NAMES.to_vec();
    for i in (1..services.len()).rev() {
        let j = rng.index(i + 1);
        services.swap(i, j);
    }
    let org = Org {
        seed: cfg.seed,
        start,
        end,
        slug,
        accounts,
        idents: Vec::new(),
        uas: Vec::new(),
        mgmt_account,
        vendor_account,
        cluster,
        humans: Vec::new(),
        github_pool,
        office,
    };
    let mut b = Builder {
        org,
        rng,
        used_names: Vec::new(),
        svc_cursor: 0,
        services,
        etl_cursor: 0,
        integ_cursor: 0,
        admin_cursor: 0,
        agent_cursor: 0,
        k8s_app_cursor: 0,
        _cfg: cfg,
    };
    let kinds = plan(cfg.identities, cfg.k8s, &mut b.rng);
    for (i, t) in kinds.iter().enumerate() {
        let ident = b.make(*t, i)?;
        b.org.idents.push(ident);
    }
    b.humans();
    Ok(b.org)
}

fn acct_id(org: &Org, acct: u8) -> String {
    org.account(acct).map(|a| a.id.clone()).unwrap_or_default()
}

impl Builder<'_> {
    fn next_service(&mut self) -> &'static str {
        let s = self
            .services
            .get(self.svc_cursor % self.services.len())
            .copied()
            .unwrap_or("app");
        self.svc_cursor += 1;
        s
    }

    fn unique(&mut self, acct: u8, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 2;
        while self
            .used_names
            .iter()
            .any(|(a, s)| *a == acct && *s == name)
        {
            name = format!("{base}-{n}");
            n += 1;
        }
        self.used_names.push((acct, name.clone()));
        name
    }

    /// A non-prod account when there is one.
    fn other_account(&mut self) -> u8 {
        let n = self.org.accounts.len();
        if n <= 1 {
            0
        } else {
            self.rng.range(1, n as i64 - 1) as u8
        }
    }

    fn workload_account(&mut self) -> u8 {
        if self.rng.chance(0.7) {
            0
        } else {
            self.other_account()
        }
    }

    fn env_of(&self, acct: u8) -> Env {
        self.org.account(acct).map_or(Env::Prod, |a| a.env)
    }

    fn ua(&mut self, kind: UaKind, hint: &str) -> u16 {
        let ua = net::user_agent(&mut self.rng, kind, hint);
        self.org.add_ua(ua)
    }

    fn ua_text(&mut self, text: String) -> u16 {
        self.org.add_ua(UserAgent { text, cli: false })
    }

    fn private_ip(&mut self, acct: u8) -> u32 {
        let oct = self.org.account(acct).map_or(16, |a| a.vpc_octet);
        ip(
            10,
            oct,
            self.rng.range(0, 47) as u8,
            self.rng.range(4, 250) as u8,
        )
    }

    fn key(&mut self, created: i64, active: bool, weight: u32) -> Key {
        let created =
            created - created.rem_euclid(Timestamp::MS_PER_DAY) + self.rng.range(0, 86_399) * 1000;
        Key {
            id: format!("AKIA{}", self.rng.b32(16)),
            created,
            active,
            weight,
        }
    }

    fn base(
        &mut self,
        name: String,
        kind: Kind,
        acct: u8,
        class: IdentityClass,
        team: &'static str,
    ) -> Ident {
        let acct_id = acct_id(&self.org, acct);
        let (arn, uid) = match &kind {
            Kind::User => (
                format!("arn:aws:iam::{acct_id}:user/{name}"),
                format!("AIDA{}", self.rng.b32(17)),
            ),
            Kind::Role => (
                format!("arn:aws:iam::{acct_id}:role/{name}"),
                format!("AROA{}", self.rng.b32(17)),
            ),
            Kind::K8s { ns, sa } => (format!("system:serviceaccount:{ns}:{sa}"), self.rng.uuid()),
        };
        let home = self.org.account(acct).map_or(0, Account::home_region);
        let created = self.org.start - self.rng.range(20, 1400) * Timestamp::MS_PER_DAY
            + self.rng.range(0, 86_399) * 1000;
        let env = self.env_of(acct);
        Ident {
            name,
            arn,
            kind,
            acct,
            class,
            model_kind: "workload_identity",
            env,
            owner: Some(format!("{team}@example.com")),
            team,
            intent: None,
            uid,
            created,
            keys: Vec::new(),
            slots: Vec::new(),
            normal_slots: 0,
            sess: Sess::None,
            ips: Vec::new(),
            ip_w: Vec::new(),
            vpc: false,
            uas: Vec::new(),
            regions: vec![home],
            region_w: vec![1],
            acts: Vec::new(),
            deny_rate: 0.0,
            deny_vocab: Vocab::default(),
            deny_probe: 0.0,
            fail_rate: 0.004,
            res: Resources::default(),
            policy: PolicySpec::default(),
            scale_up: None,
            k8s: None,
            assumer: None,
        }
    }

    fn nat_ips(&self, acct: u8) -> Vec<u32> {
        self.org
            .account(acct)
            .map(|a| a.nat.iter().flatten().copied().collect())
            .unwrap_or_default()
    }

    fn bucket(&self, acct: u8, what: &str) -> String {
        format!("{}-{}-{}", self.org.slug, self.env_of(acct).as_str(), what)
    }

    fn regions_multi(&mut self, id: &mut Ident) {
        if let Some(a) = self.org.account(id.acct) {
            if a.regions.len() > 1 && self.rng.chance(0.35) {
                id.regions = a.regions.clone();
                id.region_w = a
                    .regions
                    .iter()
                    .enumerate()
                    .map(|(i, _)| if i == 0 { 8 } else { 2 })
                    .collect();
            }
        }
    }

    fn make(&mut self, t: T, _i: usize) -> Result<Ident, SimError> {
        match t {
            T::CiOidc => self.ci_oidc(),
            T::CiUser => self.ci_user(),
            T::Batch => self.batch(),
            T::CwAgent => self.cw_agent(),
            T::Datadog => self.datadog(),
            T::LogShipper => self.log_shipper(),
            T::Integration => self.integration(),
            T::Agent => self.agent(),
            T::Admin => self.admin(),
            T::Ec2 => self.ec2(),
            T::Lambda => self.lambda(),
            T::Ecs => self.ecs(),
            T::K8sPrometheus => self.k8s_prometheus(),
            T::K8sLbController => {
                self.k8s_controller("kube-system", "aws-load-balancer-controller")
            }
            T::K8sAutoscaler => self.k8s_controller("kube-system", "cluster-autoscaler"),
            T::K8sArgo => self.k8s_controller("argocd", "argocd-application-controller"),
            T::K8sCertManager => self.k8s_controller("cert-manager", "cert-manager"),
            T::K8sExternalDns => self.k8s_controller("external-dns", "external-dns"),
            T::K8sApp => self.k8s_app(),
            T::K8sCiDeployer => self.k8s_ci(),
        }
    }

    fn deploy_steps(&self, cf: bool, ecs: bool, ua: u8) -> Result<Vec<Step>, SimError> {
        let s = |k: &str, fixed: u32, scaled: f64| -> Result<Step, SimError> {
            Ok(Step {
                act: api(k)?,
                fixed,
                scaled,
                ua,
                via: Via::Direct,
            })
        };
        let mut v = vec![
            s("sts:GetCallerIdentity", 1, 0.0)?,
            s("ecr:GetAuthorizationToken", 1, 0.0)?,
            s("ecr:InitiateLayerUpload", 2, 2.0)?,
            s("ecr:CompleteLayerUpload", 2, 2.0)?,
            s("ecr:PutImage", 1, 0.0)?,
            s("s3:PutObject", 1, 3.0)?,
        ];
        if cf {
            v.extend([
                s("cloudformation:ValidateTemplate", 1, 0.0)?,
                s("cloudformation:CreateChangeSet", 1, 0.0)?,
                s("cloudformation:DescribeChangeSet", 2, 3.0)?,
                s("cloudformation:ExecuteChangeSet", 1, 0.0)?,
                s("cloudformation:DescribeStackEvents", 4, 14.0)?,
                s("cloudformation:DescribeStacks", 2, 4.0)?,
            ]);
        }
        if ecs {
            v.extend([
                s("ecs:DescribeTaskDefinition", 1, 0.0)?,
                s("ecs:RegisterTaskDefinition", 1, 0.0)?,
                s("ecs:UpdateService", 1, 0.0)?,
                s("ecs:DescribeServices", 3, 12.0)?,
            ]);
        }
        Ok(v)
    }

    fn app_resources(&mut self, acct: u8, svc: &str) -> Resources {
        let env = self.env_of(acct).as_str();
        Resources {
            buckets: vec![
                self.bucket(acct, &format!("{svc}-data")),
                self.bucket(acct, "shared-assets"),
            ],
            prefixes: vec![
                format!("{svc}/"),
                "exports/".into(),
                format!("{svc}/cache/"),
            ],
            tables: vec![format!("{svc}-{env}"), format!("{svc}-{env}-events")],
            queues: vec![format!("{svc}-{env}-jobs"), format!("{svc}-{env}-dlq")],
            topics: vec![format!("{svc}-{env}-events")],
            functions: vec![format!("{svc}-{env}-worker")],
            stacks: vec![format!("{svc}-{env}")],
            ecs_cluster: format!("{env}-apps"),
            services: vec![format!("{svc}-api"), format!("{svc}-worker")],
            secrets: vec![
                format!("{env}/{svc}/db-credentials"),
                format!("{env}/{svc}/api-keys"),
            ],
            params: vec![
                format!("/{env}/{svc}/config"),
                format!("/{env}/{svc}/feature-flags"),
            ],
            kms_key: self.rng.uuid(),
            log_group: format!("/ecs/{svc}-{env}"),
            metric_ns: format!("App/{svc}"),
            glue_db: format!("{env}_lake"),
            glue_tables: vec![format!("{}_events", svc.replace('-', "_"))],
            workgroup: "primary".into(),
            models: Vec::new(),
            repos: vec![format!("{svc}-api"), format!("{svc}-worker")],
            asg: format!("{svc}-{env}-asg"),
            target_group: format!("{svc}-{env}-tg"),
            k8s_names: Vec::new(),
        }
    }

    fn ci_oidc(&mut self) -> Result<Ident, SimError> {
        let svc = self.next_service();
        let acct = if self.rng.chance(0.6) {
            0
        } else {
            self.other_account()
        };
        let name = self.unique(acct, &format!("gha-deploy-{svc}"));
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::CiCd, "platform");
        id.sess = Sess::PerEpisode {
            issuer: Issuer::WebIdentity,
        };
        id.ips = self.org.github_pool.clone();
        id.ip_w = vec![1; id.ips.len()];
        let a = self.ua(UaKind::GithubAction, "");
        let b = self.ua(UaKind::CliLinux, "azure");
        id.uas = vec![a, b];
        id.res = self.app_resources(acct, svc);
        id.res
            .buckets
            .insert(0, self.bucket(acct, "deploy-artifacts"));
        let per_day = 0.8 + self.rng.f64() * 3.5;
        let start_h = if self.rng.chance(0.7) { 13 } else { 7 };
        id.acts.push(Activity::Episodes {
            sched: Sched::Random {
                per_day,
                start_h,
                end_h: start_h + 9,
                weekend: 0.05,
            },
            dur_min: (5, 14),
            steps: {
                let cf = self.rng.chance(0.7);
                self.deploy_steps(cf, true, 1)?
            },
        });
        id.deny_rate = 0.002;
        id.policy.customer_managed = true;
        id.policy.trust =
            Trust::GithubOidc(format!("repo:{}/{svc}:ref:refs/heads/main", self.org.slug));
        id.policy.extra.push(Grant {
            actions: vec!["iam:PassRole".into()],
            resources: vec![format!(
                "arn:aws:iam::{}:role/{svc}-*",
                acct_id(&self.org, acct)
            )],
        });
        id.policy.old_versions = self.rng.range(0, 3) as u8;
        Ok(id)
    }

    fn ci_user(&mut self) -> Result<Ident, SimError> {
        let names = [
            "jenkins-deployer",
            "buildkite-agent",
            "circleci-deploy",
            "teamcity-release",
        ];
        let base = (*self.rng.pick(&names).unwrap_or(&"jenkins-deployer")).to_string();
        let acct = 0;
        let name = self.unique(acct, &base);
        let mut id = self.base(name, Kind::User, acct, IdentityClass::CiCd, "platform");
        id.model_kind = "service_account";
        id.created = self.org.start - self.rng.range(700, 1800) * Timestamp::MS_PER_DAY
            + self.rng.range(0, 86_399) * 1000;
        let k = self.key(id.created + Timestamp::MS_PER_DAY, true, 1);
        id.keys.push(k);
        id.ips = net::block_in(&mut self.rng, net::BUSINESS_ISP, 2);
        id.ip_w = vec![3, 1];
        let a = self.ua(UaKind::Terraform, "");
        let b = self.ua(UaKind::CliLinux, "");
        id.uas = vec![a, b];
        let svc = self.next_service();
        id.res = self.app_resources(acct, svc);
        id.res
            .buckets
            .insert(0, self.bucket(acct, "terraform-state"));
        let s = |k: &str, fixed: u32, scaled: f64, ua: u8| -> Result<Step, SimError> {
            Ok(Step {
                act: api(k)?,
                fixed,
                scaled,
                ua,
                via: Via::Direct,
            })
        };
        let mut steps = vec![
            s("sts:GetCallerIdentity", 1, 0.0, 0)?,
            s("s3:GetObject", 1, 0.0, 0)?,
            s("dynamodb:PutItem", 1, 0.0, 0)?,
            s("iam:GetRole", 2, 4.0, 0)?,
            s("iam:ListAttachedRolePolicies", 1, 2.0, 0)?,
            s("iam:GetPolicy", 1, 2.0, 0)?,
            s("iam:GetPolicyVersion", 1, 2.0, 0)?,
            s("ec2:DescribeSecurityGroups", 1, 2.0, 0)?,
            s("ec2:DescribeVpcs", 1, 1.0, 0)?,
            s("ec2:DescribeSubnets", 1, 1.0, 0)?,
            s("lambda:GetFunction20150331v2", 1, 2.0, 0)?,
            s("s3:GetBucketPolicy", 1, 2.0, 0)?,
            s("s3:GetBucketVersioning", 1, 1.0, 0)?,
            s("s3:GetBucketEncryption", 1, 1.0, 0)?,
            s("kms:DescribeKey", 1, 1.0, 0)?,
            s("lambda:UpdateFunctionCode20150331v2", 1, 0.0, 0)?,
            s("s3:PutObject", 1, 0.0, 0)?,
            s("dynamodb:UpdateItem", 1, 0.0, 0)?,
        ];
        steps.extend(self.deploy_steps(false, true, 1)?);
        id.acts.push(Activity::Episodes {
            sched: Sched::Random {
                per_day: 1.0 + self.rng.f64() * 2.0,
                start_h: 13,
                end_h: 23,
                weekend: 0.1,
            },
            dur_min: (4, 12),
            steps,
        });
        id.deny_rate = 0.003;
        id.policy.groups = vec!["deployers"];
        id.policy.customer_managed = true;
        id.policy.extra.push(Grant {
            actions: vec![
                "iam:CreatePolicyVersion".into(),
                "iam:AttachUserPolicy".into(),
                "iam:CreateAccessKey".into(),
                "iam:PassRole".into(),
                "lambda:CreateFunction".into(),
                "lambda:InvokeFunction".into(),
            ],
            resources: vec!["*".into()],
        });
        id.policy.old_versions = self.rng.range(1, 4) as u8;
        Ok(id)
    }

    fn batch(&mut self) -> Result<Ident, SimError> {
        let job = ETL_JOBS
            .get(self.etl_cursor % ETL_JOBS.len())
            .copied()
            .unwrap_or("etl");
        self.etl_cursor += 1;
        let acct = if self.rng.chance(0.8) {
            0
        } else {
            self.other_account()
        };
        let name = self.unique(acct, &format!("etl-{job}-nightly"));
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::BatchJob, "data-eng");
        id.sess = Sess::PerEpisode {
            issuer: Issuer::Ecs,
        };
        id.slots = vec![Slot {
            name: String::new(),
            ip: self.private_ip(acct),
        }];
        id.normal_slots = 1;
        id.vpc = true;
        id.ips = self.nat_ips(acct);
        id.ip_w = vec![1; id.ips.len()];
        let kind = if self.rng.chance(0.5) {
            UaKind::Boto3
        } else {
            UaKind::Java2
        };
        let u = self.ua(kind, "");
        id.uas = vec![u];
        let env = self.env_of(acct).as_str();
        id.res = Resources {
            buckets: vec![
                self.bucket(acct, "datalake-raw"),
                self.bucket(acct, "datalake-curated"),
                self.bucket(acct, "athena-results"),
            ],
            prefixes: vec![
                format!("{job}/dt="),
                format!("{job}/hourly/"),
                "tmp/".into(),
            ],
            tables: vec![format!("etl-{job}-checkpoints")],
            topics: vec![format!("data-{env}-alerts")],
            glue_db: format!("{env}_lake"),
            glue_tables: vec![
                format!("{job}_raw"),
                format!("{job}_daily"),
                format!("{job}_agg"),
            ],
            workgroup: "etl".into(),
            kms_key: self.rng.uuid(),
            ..Resources::default()
        };
        let s = |k: &str, fixed: u32, scaled: f64, via: Via| -> Result<Step, SimError> {
            Ok(Step {
                act: api(k)?,
                fixed,
                scaled,
                ua: 0,
                via,
            })
        };
        let d = Via::Direct;
        let athena = Via::Service(SVC_ATHENA);
        let steps = vec![
            s("glue:GetDatabase", 1, 0.0, d)?,
            s("glue:GetTable", 2, 1.0, d)?,
            s("glue:GetPartitions", 1, 3.0, d)?,
            s("s3:ListObjects", 2, 8.0, d)?,
            s("s3:GetObject", 8, 90.0, d)?,
            s("kms:Decrypt", 1, 6.0, d)?,
            s("athena:StartQueryExecution", 2, 2.0, d)?,
            s("athena:GetQueryExecution", 6, 30.0, d)?,
            s("s3:GetObject", 4, 40.0, athena)?,
            s("s3:PutObject", 2, 10.0, athena)?,
            s("athena:GetQueryResults", 2, 4.0, d)?,
            s("s3:PutObject", 4, 45.0, d)?,
            s("kms:GenerateDataKey", 1, 5.0, d)?,
            s("glue:BatchCreatePartition", 1, 1.0, d)?,
            s("dynamodb:PutItem", 1, 0.0, d)?,
            s("sns:Publish", 1, 0.0, d)?,
        ];
        let at = self.rng.range(60, 240) as u32;
        id.acts.push(Activity::Episodes {
            sched: Sched::Daily {
                at_min: at,
                jitter: 8,
                weekdays: false,
            },
            dur_min: (40, 110),
            steps,
        });
        id.deny_rate = 0.001;
        id.policy.customer_managed = true;
        id.policy.trust = Trust::Service("ecs-tasks.amazonaws.com");
        if self.rng.chance(0.4) {
            id.policy.managed.push("AmazonS3FullAccess");
        }
        Ok(id)
    }

    fn cw_agent(&mut self) -> Result<Ident, SimError> {
        let acct = if self
            .org
            .idents
            .iter()
            .any(|i| i.class == IdentityClass::Telemetry && i.acct == 0)
        {
            self.other_account()
        } else {
            0
        };
        let name = self.unique(acct, "CloudWatchAgentServerRole");
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::Telemetry, "sre");
        id.sess = Sess::Periodic {
            period_min: 360,
            issuer: Issuer::Ec2,
        };
        let n = self.rng.range(2, 4) as usize;
        id.slots = (0..n)
            .map(|_| Slot {
                name: format!("i-0{}", self.rng.hex(16)),
                ip: self.private_ip(acct),
            })
            .collect();
        id.normal_slots = n;
        id.vpc = true;
        id.ips = self.nat_ips(acct);
        id.ip_w = vec![1; id.ips.len()];
        let a = self.ua(UaKind::CwAgent, "");
        let b = self.ua(UaKind::SsmAgent, "");
        id.uas = vec![a, b];
        id.res = Resources {
            log_group: "/var/log/messages".into(),
            metric_ns: "CWAgent".into(),
            ..Resources::default()
        };
        id.acts.push(Activity::Heartbeat {
            act: api("monitoring:PutMetricData")?,
            every_min: 5,
            ua: 0,
        });
        id.acts.push(Activity::Heartbeat {
            act: api("ssm:UpdateInstanceInformation")?,
            every_min: 10,
            ua: 1,
        });
        id.acts.push(Activity::Background {
            vocab: Vocab::aws(&[
                ("ec2:DescribeTags", 4),
                ("logs:DescribeLogStreams", 3),
                ("logs:CreateLogStream", 1),
            ])?,
            rate: 1.5,
            rhythm: Rhythm::Flat,
            ua: vec![0],
        });
        id.policy.managed = vec![
            "CloudWatchAgentServerPolicy",
            "AmazonSSMManagedInstanceCore",
        ];
        id.policy.trust = Trust::Service("ec2.amazonaws.com");
        Ok(id)
    }

    fn datadog(&mut self) -> Result<Ident, SimError> {
        let acct = 0;
        let name = self.unique(acct, "DatadogIntegrationRole");
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::Telemetry, "sre");
        id.sess = Sess::Periodic {
            period_min: 60,
            issuer: Issuer::ExternalAccount,
        };
        id.slots = vec![Slot {
            name: format!("{}", self.rng.range(1_000_000, 9_999_999)),
            ip: 0,
        }];
        id.normal_slots = 1;
        id.assumer = Some("DatadogAWSIntegrationRole".into());
        id.ips = net::block_in(&mut self.rng, net::AWS_US_EAST_1, 4);
        id.ip_w = vec![1; 4];
        let u = self.ua(UaKind::Datadog, "");
        id.uas = vec![u];
        if let Some(a) = self.org.account(acct) {
            id.regions = a.regions.clone();
            id.region_w = vec![1; a.regions.len()];
        }
        let svc = self.next_service();
        id.res = self.app_resources(acct, svc);
        id.acts.push(Activity::Background {
            vocab: Vocab::aws(&[
                ("monitoring:GetMetricData", 30),
                ("monitoring:ListMetrics", 6),
                ("ec2:DescribeInstances", 6),
                ("tagging:GetResources", 8),
                ("elasticloadbalancing:DescribeLoadBalancers", 2),
                ("elasticloadbalancing:DescribeTargetGroups", 2),
                ("rds:DescribeDBInstances", 2),
                ("lambda:ListFunctions20150331", 2),
                ("dynamodb:ListTables", 1),
                ("sqs:ListQueues", 1),
                ("ecs:ListClusters", 1),
                ("autoscaling:DescribeAutoScalingGroups", 2),
                ("health:DescribeEvents", 1),
                ("cloudtrail:DescribeTrails", 1),
                ("ec2:DescribeVolumes", 1),
            ])?,
            rate: 40.0,
            rhythm: Rhythm::Flat,
            ua: vec![0],
        });
        id.policy.managed = vec!["ReadOnlyAccess"];
        id.policy.trust = Trust::Account(self.org.vendor_account.clone(), Some(self.rng.hex(32)));
        id.policy.customer_managed = true;
        Ok(id)
    }

    fn log_shipper(&mut self) -> Result<Ident, SimError> {
        let acct = 0;
        let name = self.unique(acct, "fluentbit-logs");
        let mut id = self.base(name, Kind::User, acct, IdentityClass::Telemetry, "sre");
        id.model_kind = "service_account";
        id.created = self.org.start - self.rng.range(500, 1500) * Timestamp::MS_PER_DAY
            + self.rng.range(0, 86_399) * 1000;
        let k = self.key(id.created + 3 * Timestamp::MS_PER_DAY, true, 1);
        id.keys.push(k);
        id.ips = net::block_in(&mut self.rng, net::BUSINESS_ISP, 2);
        id.ip_w = vec![1, 1];
        let u = self.ua(UaKind::GoV1, "");
        id.uas = vec![u];
        id.res = Resources {
            log_group: "/onprem/syslog".into(),
            metric_ns: "OnPrem/Logs".into(),
            ..Resources::default()
        };
        id.acts.push(Activity::Heartbeat {
            act: api("logs:DescribeLogStreams")?,
            every_min: 10,
            ua: 0,
        });
        id.acts.push(Activity::Background {
            vocab: Vocab::aws(&[("logs:CreateLogStream", 5), ("logs:DescribeLogGroups", 1)])?,
            rate: 1.0,
            rhythm: Rhythm::Flat,
            ua: vec![0],
        });
        id.deny_vocab = Vocab::aws(&[("logs:CreateLogGroup", 1)])?;
        id.deny_probe = 0.02;
        id.policy.customer_managed = false;
        id.policy.denied = vec!["logs:CreateLogGroup"];
        Ok(id)
    }

    fn integration(&mut self) -> Result<Ident, SimError> {
        let (purpose, team) = INTEGRATIONS
            .get(self.integ_cursor % INTEGRATIONS.len())
            .copied()
            .unwrap_or(("sync", "integrations"));
        self.integ_cursor += 1;
        // The third integration lives in a non-prod account (or is labelled dev).
        let dev = self.integ_cursor == 3;
        let acct = if dev {
            self.other_account()
        } else if self.rng.chance(0.85) {
            0
        } else {
            self.other_account()
        };
        let name = self.unique(acct, &format!("svc-{purpose}"));
        let mut id = self.base(
            name,
            Kind::User,
            acct,
            IdentityClass::SharedIntegration,
            team,
        );
        if dev {
            id.env = Env::Dev;
        }
        id.model_kind = "service_account";
        id.created = self.org.start - self.rng.range(300, 2000) * Timestamp::MS_PER_DAY
            + self.rng.range(0, 86_399) * 1000;
        let age = (self.org.start - id.created) / Timestamp::MS_PER_DAY;
        let k1_created = id.created + self.rng.range(0, (age / 3).max(1)) * Timestamp::MS_PER_DAY;
        match self.rng.below(10) {
            0..=2 => {
                // Rotation half done: the new key carries most traffic, the old one is still used.
                let k2_created = self.org.start - self.rng.range(10, 120) * Timestamp::MS_PER_DAY;
                let k1 = self.key(k1_created, true, 1);
                let k2 = self.key(k2_created, true, 6);
                id.keys = vec![k1, k2];
            }
            3 | 4 => {
                // A second key created and never used.
                let k2_created = self.org.start - self.rng.range(30, 400) * Timestamp::MS_PER_DAY;
                let k1 = self.key(k1_created, true, 1);
                let k2 = self.key(k2_created, true, 0);
                id.keys = vec![k1, k2];
            }
            5 => {
                let k1 = self.key(k1_created, false, 0);
                let c2 = self.org.start - self.rng.range(60, 300) * Timestamp::MS_PER_DAY;
                let k2 = self.key(c2, true, 1);
                id.keys = vec![k1, k2];
            }
            _ => {
                let k1 = self.key(k1_created, true, 1);
                id.keys = vec![k1];
            }
        }
        let providers: [&[(u8, u8)]; 6] = [
            net::AWS_US_EAST_1,
            net::GCP,
            net::HETZNER,
            net::DIGITALOCEAN,
            net::OVH,
            net::AZURE,
        ];
        let p1 = providers
            .get(self.rng.index(providers.len()))
            .copied()
            .unwrap_or(net::GCP);
        let nips = self.rng.range(2, 3) as usize;
        id.ips = net::block_in(&mut self.rng, p1, nips);
        if self.rng.chance(0.4) {
            let p2 = providers
                .get(self.rng.index(providers.len()))
                .copied()
                .unwrap_or(net::AZURE);
            id.ips.push(net::host_in(&mut self.rng, p2));
        }
        id.ip_w = id
            .ips
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { 5 } else { 2 })
            .collect();
        let kinds = [
            UaKind::Java1,
            UaKind::Boto3,
            UaKind::GoV1,
            UaKind::Node3,
            UaKind::Java2,
        ];
        let k = *self.rng.pick(&kinds).unwrap_or(&UaKind::Java1);
        let u = self.ua(k, "");
        id.uas = vec![u];
        let env = self.env_of(acct).as_str();
        id.res = Resources {
            buckets: vec![
                self.bucket(acct, &format!("{purpose}-exchange")),
                self.bucket(acct, "exports"),
            ],
            prefixes: vec![
                format!("{purpose}/outbound/"),
                format!("{purpose}/inbound/"),
                "daily/".into(),
            ],
            tables: vec![format!("{purpose}-{env}-state")],
            queues: vec![format!("{purpose}-{env}-events")],
            kms_key: self.rng.uuid(),
            ..Resources::default()
        };
        let vocab = match self.rng.below(4) {
            0 => Vocab::aws(&[
                ("s3:ListObjects", 20),
                ("s3:GetObject", 60),
                ("s3:HeadObject", 10),
                ("s3:GetBucketLocation", 2),
                ("kms:Decrypt", 8),
            ])?,
            1 => Vocab::aws(&[
                ("s3:PutObject", 50),
                ("s3:ListObjects", 10),
                ("s3:GetObject", 5),
                ("kms:GenerateDataKey", 8),
            ])?,
            2 => Vocab::aws(&[
                ("sqs:ReceiveMessage", 60),
                ("sqs:DeleteMessage", 30),
                ("sqs:GetQueueAttributes", 4),
            ])?,
            _ => Vocab::aws(&[
                ("dynamodb:Query", 50),
                ("dynamodb:GetItem", 30),
                ("dynamodb:DescribeTable", 2),
                ("s3:GetObject", 10),
            ])?,
        };
        let rhythm = if self.rng.chance(0.5) {
            Rhythm::Flat
        } else {
            Rhythm::Business {
                start: 12,
                end: 23,
                off: 0.1,
            }
        };
        id.acts.push(Activity::Background {
            vocab,
            rate: 6.0 + self.rng.f64() * 20.0,
            rhythm,
            ua: vec![0],
        });
        id.deny_rate = 0.002;
        if self.rng.chance(0.3) {
            id.deny_vocab = Vocab::aws(&[("s3:ListBuckets", 1)])?;
            id.deny_probe = 0.01;
            id.policy.denied = vec!["s3:ListAllMyBuckets"];
        }
        id.policy.groups = vec!["integrations"];
        id.policy.customer_managed = self.rng.chance(0.5);
        if self.rng.chance(0.3) {
            id.policy.extra.push(Grant {
                actions: vec!["s3:*".into()],
                resources: vec!["*".into()],
            });
        }
        Ok(id)
    }

    fn agent(&mut self) -> Result<Ident, SimError> {
        let kinds: [(&str, &str, &str); 4] = [
            ("support-agent", "support-eng", "answers customer support tickets from the help-centre knowledge base and order history"),
            ("code-review-agent", "dev-productivity", "reviews pull requests using build artifacts and posts comments through the review tool"),
            ("finops-agent", "finance-eng", "answers cloud cost questions from the cost-and-usage report with Athena queries"),
            ("ops-copilot", "sre", "summarises service health from logs and metrics for on-call engineers"),
        ];
        let (name, team, intent) = kinds
            .get(self.agent_cursor % kinds.len())
            .copied()
            .unwrap_or(kinds[0]);
        self.agent_cursor += 1;
        let acct = 0;
        let name = self.unique(acct, name);
        let mut id = self.base(name.clone(), Kind::Role, acct, IdentityClass::Agent, team);
        id.model_kind = "ai_agent";
        id.intent = Some(intent.into());
        id.sess = Sess::Periodic {
            period_min: 360,
            issuer: Issuer::Ecs,
        };
        let n = self.rng.range(1, 3) as usize;
        id.slots = (0..n)
            .map(|_| Slot {
                name: String::new(),
                ip: self.private_ip(acct),
            })
            .collect();
        id.normal_slots = n;
        id.vpc = true;
        id.ips = self.nat_ips(acct);
        id.ip_w = vec![1; id.ips.len()];
        let u = self.ua(UaKind::Boto3, "");
        id.uas = vec![u];
        let env = self.env_of(acct).as_str();
        id.res = Resources {
            buckets: vec![
                self.bucket(acct, &format!("{name}-kb")),
                self.bucket(acct, "cur-reports"),
            ],
            prefixes: vec!["kb/articles/".into(), "kb/faq/".into(), "reports/".into()],
            tables: vec![
                format!("{name}-{env}-memory"),
                format!("{name}-{env}-sessions"),
            ],
            functions: vec![
                format!("{name}-tool-lookup"),
                format!("{name}-tool-search"),
                format!("{name}-tool-notify"),
            ],
            models: vec![MODELS[0], MODELS[1], MODELS[2]],
            kms_key: self.rng.uuid(),
            log_group: format!("/ecs/{name}"),
            workgroup: "primary".into(),
            glue_db: format!("{env}_lake"),
            glue_tables: vec!["cur_daily".into()],
            ..Resources::default()
        };
        let vocab = match name.split('-').next().unwrap_or("") {
            "finops" => Vocab::aws(&[
                ("bedrock:InvokeModel", 30),
                ("bedrock:Converse", 15),
                ("athena:StartQueryExecution", 8),
                ("athena:GetQueryExecution", 20),
                ("athena:GetQueryResults", 8),
                ("s3:GetObject", 10),
            ])?,
            "ops" => Vocab::aws(&[
                ("bedrock:Converse", 40),
                ("logs:FilterLogEvents", 15),
                ("monitoring:GetMetricData", 15),
                ("ecs:DescribeServices", 6),
                ("lambda:Invoke", 6),
            ])?,
            _ => Vocab::aws(&[
                ("bedrock:InvokeModel", 35),
                ("bedrock:Converse", 20),
                ("s3:GetObject", 15),
                ("s3:ListObjects", 4),
                ("dynamodb:Query", 10),
                ("dynamodb:GetItem", 8),
                ("dynamodb:PutItem", 8),
                ("lambda:Invoke", 10),
                ("kms:Decrypt", 3),
            ])?,
        };
        id.acts.push(Activity::Background {
            vocab,
            rate: 15.0 + self.rng.f64() * 30.0,
            rhythm: Rhythm::Diurnal { peak: 16 },
            ua: vec![0],
        });
        id.deny_rate = 0.003;
        id.policy.customer_managed = true;
        id.policy.trust = Trust::Service("ecs-tasks.amazonaws.com");
        id.policy.extra.push(Grant {
            actions: vec!["secretsmanager:GetSecretValue".into()],
            resources: vec!["*".into()],
        });
        id.policy.extra.push(Grant {
            actions: vec!["iam:Get*".into(), "iam:List*".into()],
            resources: vec!["*".into()],
        });
        Ok(id)
    }

    fn admin(&mut self) -> Result<Ident, SimError> {
        let n = self.admin_cursor;
        self.admin_cursor += 1;
        let acct = (n % self.org.accounts.len().max(1)) as u8;
        let (base, issuer) = match n / self.org.accounts.len().max(1) {
            0 => ("OrganizationAccountAccessRole", Issuer::ManagementAccount),
            1 => ("platform-admin", Issuer::ManagementAccount),
            _ => ("break-glass-admin", Issuer::ManagementAccount),
        };
        let name = self.unique(acct, base);
        let mut id = self.base(
            name,
            Kind::Role,
            acct,
            IdentityClass::AdminFacing,
            "platform",
        );
        id.model_kind = "workload_identity";
        id.sess = Sess::PerEpisode { issuer };
        let people: Vec<Slot> = (0..3)
            .map(|_| Slot {
                name: (*self.rng.pick(&PEOPLE).unwrap_or(&"jdoe")).to_string(),
                ip: 0,
            })
            .collect();
        id.slots = people;
        id.normal_slots = id.slots.len();
        id.assumer = Some("AWSReservedSSO_AdministratorAccess".into());
        id.ips = self.org.office.clone();
        id.ip_w = vec![1; id.ips.len()];
        let a = self.ua(UaKind::CliMac, "");
        let b = self.ua(UaKind::Terraform, "");
        id.uas = vec![a, b];
        let svc = self.next_service();
        id.res = self.app_resources(acct, svc);
        let s = |k: &str, fixed: u32, scaled: f64| -> Result<Step, SimError> {
            Ok(Step {
                act: api(k)?,
                fixed,
                scaled,
                ua: 0,
                via: Via::Direct,
            })
        };
        let steps = vec![
            s("sts:GetCallerIdentity", 1, 0.0)?,
            s("iam:ListRoles", 1, 0.0)?,
            s("iam:GetRole", 2, 2.0)?,
            s("iam:ListAttachedRolePolicies", 1, 2.0)?,
            s("ec2:DescribeInstances", 1, 2.0)?,
            s("ec2:DescribeSecurityGroups", 1, 1.0)?,
            s("s3:ListBuckets", 1, 0.0)?,
            s("s3:GetBucketPolicy", 1, 1.0)?,
            s("cloudtrail:DescribeTrails", 1, 0.0)?,
            s("organizations:DescribeOrganization", 1, 0.0)?,
            s("rds:DescribeDBInstances", 1, 1.0)?,
            s("kms:ListAliases", 1, 0.0)?,
            s("logs:FilterLogEvents", 1, 2.0)?,
            s("iam:TagRole", 1, 0.0)?,
        ];
        id.acts.push(Activity::Episodes {
            sched: Sched::Random {
                per_day: 0.1 + self.rng.f64() * 0.25,
                start_h: 14,
                end_h: 22,
                weekend: 0.1,
            },
            dur_min: (8, 40),
            steps,
        });
        id.policy.managed = vec!["AdministratorAccess"];
        id.policy.trust = Trust::Account(self.org.mgmt_account.clone(), None);
        Ok(id)
    }

    fn workload_vocab(&mut self) -> Result<Vocab, SimError> {
        Ok(match self.rng.below(3) {
            0 => Vocab::aws(&[
                ("s3:GetObject", 30),
                ("s3:PutObject", 10),
                ("dynamodb:GetItem", 20),
                ("dynamodb:Query", 15),
                ("dynamodb:PutItem", 10),
                ("kms:Decrypt", 8),
                ("secretsmanager:GetSecretValue", 1),
                ("ssm:GetParameter", 2),
                ("sqs:SendMessage", 5),
            ])?,
            1 => Vocab::aws(&[
                ("sqs:ReceiveMessage", 30),
                ("sqs:DeleteMessage", 20),
                ("dynamodb:UpdateItem", 15),
                ("dynamodb:GetItem", 10),
                ("sns:Publish", 8),
                ("kms:GenerateDataKey", 4),
                ("s3:PutObject", 6),
                ("secretsmanager:GetSecretValue", 1),
            ])?,
            _ => Vocab::aws(&[
                ("s3:GetObject", 40),
                ("s3:HeadObject", 10),
                ("s3:ListObjects", 5),
                ("dynamodb:Query", 20),
                ("kms:Decrypt", 10),
                ("ssm:GetParametersByPath", 1),
                ("secretsmanager:GetSecretValue", 1),
                ("lambda:Invoke", 4),
            ])?,
        })
    }

    fn ec2(&mut self) -> Result<Ident, SimError> {
        let svc = self.next_service();
        let acct = self.workload_account();
        let name = self.unique(acct, &format!("{svc}-ec2-role"));
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::Workload, "core-api");
        id.sess = Sess::Periodic {
            period_min: 360,
            issuer: Issuer::Ec2,
        };
        let n = self.rng.range(2, 4) as usize;
        id.slots = (0..n)
            .map(|_| Slot {
                name: format!("i-0{}", self.rng.hex(16)),
                ip: self.private_ip(acct),
            })
            .collect();
        id.normal_slots = n;
        id.vpc = true;
        id.ips = self.nat_ips(acct);
        id.ip_w = vec![1; id.ips.len()];
        let kinds = [UaKind::Java2, UaKind::GoV2, UaKind::Boto3];
        let k = *self.rng.pick(&kinds).unwrap_or(&UaKind::Java2);
        let a = self.ua(k, "");
        let b = self.ua(UaKind::SsmAgent, "");
        id.uas = vec![a, b];
        id.res = self.app_resources(acct, svc);
        id.acts.push(Activity::Background {
            vocab: self.workload_vocab()?,
            rate: 15.0 + self.rng.f64() * 45.0,
            rhythm: Rhythm::Diurnal {
                peak: self.rng.range(14, 20) as u8,
            },
            ua: vec![0],
        });
        id.acts.push(Activity::Heartbeat {
            act: api("ssm:UpdateInstanceInformation")?,
            every_min: 30,
            ua: 1,
        });
        self.regions_multi(&mut id);
        id.deny_rate = 0.002;
        if self.rng.chance(0.25) {
            id.deny_vocab = Vocab::aws(&[("ssm:GetParameter", 1)])?;
            id.deny_probe = 0.01;
            id.policy.denied = vec!["ssm:GetParameter"];
        }
        id.policy.managed = vec!["AmazonSSMManagedInstanceCore"];
        id.policy.customer_managed = self.rng.chance(0.5);
        id.policy.trust = Trust::Service("ec2.amazonaws.com");
        if self.rng.chance(0.3) {
            id.policy.managed.push("AmazonS3FullAccess");
        }
        Ok(id)
    }

    fn lambda(&mut self) -> Result<Ident, SimError> {
        let svc = self.next_service();
        let acct = self.workload_account();
        let suffixes = [
            "processor",
            "webhook",
            "resizer",
            "sync",
            "notifier",
            "scheduler",
        ];
        let f = *self.rng.pick(&suffixes).unwrap_or(&"processor");
        let func = format!("{svc}-{f}");
        let name = self.unique(acct, &format!("{func}-lambda-role"));
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::Workload, "core-api");
        id.sess = Sess::Periodic {
            period_min: 180 + self.rng.range(0, 120) as u32,
            issuer: Issuer::Lambda,
        };
        let n = self.rng.range(1, 3) as usize;
        id.slots = (0..n)
            .map(|_| Slot {
                name: func.clone(),
                ip: 0,
            })
            .collect();
        id.normal_slots = n;
        let home = self.org.account(acct).map_or(0, Account::home_region);
        let pre = net::aws_prefixes(REGIONS.get(usize::from(home)).unwrap_or(&"us-east-1"));
        id.ips = (0..12).map(|_| net::host_in(&mut self.rng, pre)).collect();
        id.ip_w = vec![1; 12];
        let k = if self.rng.chance(0.6) {
            UaKind::Boto3Lambda
        } else {
            UaKind::Node3
        };
        let u = self.ua(k, "");
        id.uas = vec![u];
        id.res = self.app_resources(acct, svc);
        id.res.functions.insert(0, func);
        id.acts.push(Activity::Background {
            vocab: self.workload_vocab()?,
            rate: 8.0 + self.rng.f64() * 35.0,
            rhythm: Rhythm::Diurnal {
                peak: self.rng.range(13, 21) as u8,
            },
            ua: vec![0],
        });
        id.deny_rate = 0.002;
        id.policy.managed = vec!["AWSLambdaBasicExecutionRole"];
        id.policy.customer_managed = false;
        id.policy.trust = Trust::Service("lambda.amazonaws.com");
        if self.rng.chance(0.25) {
            id.policy.extra.push(Grant {
                actions: vec!["dynamodb:*".into()],
                resources: vec!["*".into()],
            });
        }
        Ok(id)
    }

    fn ecs(&mut self) -> Result<Ident, SimError> {
        let svc = self.next_service();
        let acct = if self
            .org
            .idents
            .iter()
            .any(|i| i.name.ends_with("-task-role"))
        {
            self.workload_account()
        } else {
            0
        };
        let name = self.unique(acct, &format!("{svc}-task-role"));
        let mut id = self.base(name, Kind::Role, acct, IdentityClass::Workload, "core-api");
        id.sess = Sess::Periodic {
            period_min: 360,
            issuer: Issuer::Ecs,
        };
        let n = self.rng.range(2, 3) as usize;
        id.slots = (0..12)
            .map(|_| Slot {
                name: String::new(),
                ip: self.private_ip(acct),
            })
            .collect();
        id.normal_slots = n;
        id.vpc = true;
        id.ips = self.nat_ips(acct);
        id.ip_w = vec![1; id.ips.len()];
        let kinds = [UaKind::Java2, UaKind::GoV2, UaKind::Node3];
        let k = *self.rng.pick(&kinds).unwrap_or(&UaKind::Java2);
        let u = self.ua(k, "");
        id.uas = vec![u];
        id.res = self.app_resources(acct, svc);
        id.acts.push(Activity::Background {
            vocab: self.workload_vocab()?,
            rate: 15.0 + self.rng.f64() * 40.0,
            rhythm: Rhythm::Diurnal {
                peak: self.rng.range(14, 20) as u8,
            },
            ua: vec![0],
        });
        self.regions_multi(&mut id);
        id.deny_rate = 0.002;
        id.policy.customer_managed = true;
        id.policy.trust = Trust::Service("ecs-tasks.amazonaws.com");
        Ok(id)
    }

    fn k8s_base(&mut self, ns: &str, sa: &str, class: IdentityClass, team: &'static str) -> Ident {
        let acct = self.org.cluster.as_ref().map_or(0, |c| c.acct);
        let mut id = self.base(
            sa.to_string(),
            Kind::K8s {
                ns: ns.into(),
                sa: sa.into(),
            },
            acct,
            class,
            team,
        );
        id.model_kind = "service_account";
        id.name = format!("{ns}:{sa}");
        let pods = (0..3)
            .map(|_| Slot {
                name: format!(
                    "{sa}-{}-{}",
                    self.rng.hex(9).to_lowercase(),
                    self.rng.alnum(5).to_lowercase()
                ),
                ip: self.private_ip(acct),
            })
            .collect();
        id.slots = pods;
        id.normal_slots = 1;
        id.k8s = Some(K8sInfo {
            binding: sa.into(),
            cluster_binding: true,
            in_cluster: true,
        });
        id
    }

    fn k8s_prometheus(&mut self) -> Result<Ident, SimError> {
        let mut id = self.k8s_base("monitoring", "prometheus", IdentityClass::Telemetry, "sre");
        let text = format!(
            "Prometheus/2.{}.{}",
            self.rng.range(45, 54),
            self.rng.range(0, 3)
        );
        let u = self.ua_text(text);
        id.uas = vec![u];
        id.acts.push(Activity::Background {
            vocab: Vocab::k8s(&[
                ("watch:pods@cluster", 8),
                ("watch:services", 8),
                ("watch:endpoints", 8),
                ("watch:nodes", 6),
                ("list:pods@cluster", 2),
                ("list:services", 2),
                ("list:endpoints", 2),
                ("list:nodes", 2),
                ("get:nodes", 6),
            ])?,
            rate: 20.0,
            rhythm: Rhythm::Flat,
            ua: vec![0],
        });
        Ok(id)
    }

    fn k8s_controller(&mut self, ns: &str, sa: &str) -> Result<Ident, SimError> {
        let (class, team) = if sa.starts_with("argocd") {
            (IdentityClass::CiCd, "platform")
        } else {
            (IdentityClass::Workload, "platform")
        };
        let mut id = self.k8s_base(ns, sa, class, team);
        let ver = format!(
            "v{}.{}.{}",
            self.rng.range(1, 2),
            self.rng.range(5, 14),
            self.rng.range(0, 6)
        );
        let text = format!("{sa}/{ver} (linux/amd64) kubernetes/{}", self.rng.hex(7));
        let u = self.ua_text(text);
        id.uas = vec![u];
        let vocab = match sa {
            "aws-load-balancer-controller" => Vocab::k8s(&[
                ("get:leases", 30),
                ("update:leases", 30),
                ("watch:services", 3),
                ("watch:ingresses", 3),
                ("watch:endpointslices", 3),
                ("list:pods@cluster", 1),
                ("create:events", 1),
            ])?,
            "cluster-autoscaler" => Vocab::k8s(&[
                ("get:leases", 20),
                ("update:leases", 20),
                ("list:nodes", 10),
                ("list:pods@cluster", 10),
                ("get:configmaps", 5),
                ("update:configmaps", 5),
                ("watch:nodes", 2),
            ])?,
            "argocd-application-controller" => Vocab::k8s(&[
                ("watch:applications", 4),
                ("list:applications", 4),
                ("patch:applications", 6),
                ("get:deployments", 6),
                ("watch:deployments@cluster", 3),
                ("list:deployments@cluster", 2),
                ("watch:pods@cluster", 3),
                ("patch:deployments", 1),
            ])?,
            "cert-manager" => Vocab::k8s(&[
                ("get:leases", 20),
                ("update:leases", 20),
                ("watch:certificates", 3),
                ("list:certificates", 1),
                ("get:secrets", 4),
                ("watch:secrets", 2),
                ("update:certificates/status", 1),
                ("create:events", 1),
            ])?,
            _ => Vocab::k8s(&[
                ("list:services", 10),
                ("list:ingresses", 10),
                ("list:nodes", 2),
            ])?,
        };
        id.acts.push(Activity::Background {
            vocab,
            rate: 15.0 + self.rng.f64() * 20.0,
            rhythm: Rhythm::Flat,
            ua: vec![0],
        });
        id.res.k8s_names = vec![
            format!("{sa}-leader"),
            format!("{sa}-config"),
            format!("{sa}-webhook-tls"),
        ];
        Ok(id)
    }

    fn k8s_app(&mut self) -> Result<Ident, SimError> {
        let apps = [
            "checkout",
            "catalog",
            "search",
            "orders",
            "profiles",
            "payments",
            "media",
            "pricing",
            "inventory",
            "reviews",
        ];
        let app = apps
            .get(self.k8s_app_cursor % apps.len())
            .copied()
            .unwrap_or("app");
        self.k8s_app_cursor += 1;
        let mut id = self.k8s_base(app, app, IdentityClass::Workload, "core-api");
        if let Some(k) = id.k8s.as_mut() {
            k.cluster_binding = false;
            k.binding = format!("{app}-reader");
        }
        let u = self.ua_text(format!("{app}/v0.0.0 (linux/amd64) kubernetes/$Format"));
        id.uas = vec![u];
        id.acts.push(Activity::Background {
            vocab: Vocab::k8s(&[
                ("get:leases", 10),
                ("update:leases", 10),
                ("get:configmaps", 4),
                ("get:secrets", 1),
                ("list:pods", 1),
            ])?,
            rate: 4.0 + self.rng.f64() * 10.0,
            rhythm: Rhythm::Flat,
            ua: vec![0],
        });
        id.res.k8s_names = vec![
            format!("{app}-leader"),
            format!("{app}-config"),
            format!("{app}-credentials"),
        ];
        Ok(id)
    }

    fn k8s_ci(&mut self) -> Result<Ident, SimError> {
        let mut id = self.k8s_base("ci", "deployer", IdentityClass::CiCd, "platform");
        if let Some(k) = id.k8s.as_mut() {
            k.in_cluster = false;
            k.binding = "ci-deployer".into();
        }
        id.slots.clear();
        id.ips = self.org.github_pool.clone();
        id.ip_w = vec![1; id.ips.len()];
        let u = self.ua(UaKind::Kubectl, "");
        id.uas = vec![u];
        let s = |k: &str, fixed: u32, scaled: f64| -> Result<Step, SimError> {
            Ok(Step {
                act: k8s_api(k)?,
                fixed,
                scaled,
                ua: 0,
                via: Via::Direct,
            })
        };
        let steps = vec![
            s("get:deployments", 1, 0.0)?,
            s("patch:deployments", 1, 1.0)?,
            s("get:deployments", 3, 10.0)?,
            s("list:replicasets", 1, 3.0)?,
            s("list:pods", 1, 3.0)?,
        ];
        id.acts.push(Activity::Episodes {
            sched: Sched::Random {
                per_day: 2.0 + self.rng.f64() * 3.0,
                start_h: 13,
                end_h: 23,
                weekend: 0.05,
            },
            dur_min: (2, 6),
            steps,
        });
        id.res.k8s_names = vec![
            "checkout".into(),
            "catalog".into(),
            "search".into(),
            "orders".into(),
        ];
        Ok(id)
    }

    fn humans(&mut self) {
        for (a, acct) in self.org.accounts.iter().enumerate() {
            for _ in 0..2 {
                let who = *self.rng.pick(&PEOPLE).unwrap_or(&"jdoe");
                let name = format!("{who}.{}", acct.env.as_str());
                let created = self.org.start - self.rng.range(100, 1500) * Timestamp::MS_PER_DAY
                    + self.rng.range(0, 86_399) * 1000;
                let used = if self.rng.chance(0.7) {
                    Some(
                        self.org.start - self.rng.range(1, 60) * Timestamp::MS_PER_DAY
                            + self.rng.range(0, 86_399) * 1000,
                    )
                } else {
                    None
                };
                self.org.humans.push(Human {
                    arn: format!("arn:aws:iam::{}:user/{name}", acct.id),
                    name,
                    uid: format!("AIDA{}", self.rng.b32(17)),
                    acct: a as u8,
                    created,
                    password_changed: created + self.rng.range(1, 90) * Timestamp::MS_PER_DAY,
                    password_used: used,
                });
            }
        }
    }
}
