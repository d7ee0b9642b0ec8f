//! Injected incidents. Each one is a sequence of ordinary-looking API calls by a real identity
//! of the organisation; only `labels.csv` and `incidents.csv` say what they are.

use crate::gen::{
    periodic_start, session_cred, CallOpts, Ev, Gen, DENIED, M_DIRECT, NO_IDENT, NO_VPCE, OK,
};
use crate::net::{self, UaKind};
use crate::org::{self, Env, Ident, Issuer, Kind, Org, ScaleUp, Sess, REGIONS};
use crate::policy::allowed;
use crate::render::identity_label;
use crate::rng::Rng;
use crate::SimError;
use tripline_model::{IdentityClass, Timestamp};

const MIN: i64 = 60_000;
const HOUR: i64 = Timestamp::MS_PER_HOUR;

/// One labelled incident (or a labelled benign episode such as a scale-up).
#[derive(Debug, Clone)]
pub(crate) struct Incident {
    pub id: String,
    pub identity: String,
    pub malicious: bool,
    pub category: &'static str,
    pub description: String,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, Copy)]
enum Kindx {
    StolenKey,
    PrivEsc,
    Enumeration,
    SharedAcrossEnv,
    AgentOutOfTask,
    InstanceExfil,
    K8sToken,
    ScaleUp,
}

/// What an incident needs, chosen while the organisation can still be changed.
struct Spec {
    kind: Kindx,
    who: u16,
    t0: i64,
    ip: u32,
    ua: u16,
    other: u16,
    extra: Vec<(u32, u16)>,
}

fn find(org: &Org, used: &[u16], pred: impl Fn(&Ident) -> bool) -> Option<u16> {
    org.idents
        .iter()
        .enumerate()
        .find(|(i, id)| pred(id) && !used.contains(&(*i as u16)))
        .map(|(i, _)| i as u16)
}

fn hostile_ip(rng: &mut Rng) -> u32 {
    let pools: [&[(u8, u8)]; 5] = [
        net::VPN,
        net::DIGITALOCEAN,
        net::VULTR,
        net::LINODE,
        net::RESIDENTIAL,
    ];
    let p = pools
        .get(rng.index(pools.len()))
        .copied()
        .unwrap_or(net::VPN);
    net::host_in(rng, p)
}

fn pick_time(rng: &mut Rng, org: &Org, dur: i64) -> i64 {
    let learn_end = org.start + (org.end - org.start) * 2 / 3;
    let last = (org.end - dur - 30 * MIN).max(learn_end);
    let t = learn_end + rng.below((last - learn_end).max(1) as u64) as i64;
    t - t.rem_euclid(1000)
}

/// Chooses victims and times, adjusts the organisation (scale-up windows, new user agents), and
/// returns the incidents with their events sorted by time.
pub(crate) fn plan(org: &mut Org) -> Result<(Vec<Incident>, Vec<Ev>), SimError> {
    let mut rng = Rng::derive(org.seed, &[0x696e63]);
    let mut specs: Vec<Spec> = Vec::new();
    let mut used: Vec<u16> = Vec::new();
    let is_integ = |id: &Ident| {
        id.class == IdentityClass::SharedIntegration
            && id.is_user()
            && id.keys.iter().any(|k| k.active && k.weight > 0)
    };

    // stolen_key: a partner integration key used from a new network.
    if let Some(w) = find(org, &used, |id| is_integ(id) && id.env != Env::Dev).or_else(|| {
        find(org, &used, |id| {
            id.class == IdentityClass::CiCd && id.is_user()
        })
    }) {
        used.push(w);
        let kind = if rng.chance(0.5) {
            UaKind::CliLinux
        } else {
            UaKind::Boto3
        };
        let ua = net::user_agent(&mut rng, kind, "");
        let ua = org.add_ua(ua);
        let t0 = pick_time(&mut rng, org, 3 * HOUR);
        specs.push(Spec {
            kind: Kindx::StolenKey,
            who: w,
            t0,
            ip: hostile_ip(&mut rng),
            ua,
            other: NO_IDENT,
            extra: Vec::new(),
        });
    }
    // privilege_escalation: a CI user key runs an escalation chain from its usual runner.
    if let Some(w) = find(org, &used, |id| {
        id.class == IdentityClass::CiCd && id.is_user()
    }) {
        used.push(w);
        let ua = net::user_agent(&mut rng, UaKind::Boto3, "");
        let ua = org.add_ua(ua);
        let t0 = pick_time(&mut rng, org, HOUR);
        let ip = org
            .ident(w)
            .and_then(|id| id.ips.first().copied())
            .unwrap_or(0);
        let target = find(org, &[w], |id| {
            id.is_user() && id.class == IdentityClass::SharedIntegration
        })
        .unwrap_or(NO_IDENT);
        let admin = find(org, &[], |id| {
            id.class == IdentityClass::AdminFacing && id.acct == org.ident(w).map_or(0, |x| x.acct)
        })
        .unwrap_or(NO_IDENT);
        specs.push(Spec {
            kind: Kindx::PrivEsc,
            who: w,
            t0,
            ip,
            ua,
            other: target,
            extra: vec![(0, admin)],
        });
    }
    // enumeration_burst: another long-lived key enumerates the account.
    if let Some(w) = find(org, &used, |id| is_integ(id) && id.env != Env::Dev).or_else(|| {
        find(org, &used, |id| {
            id.is_user() && id.class == IdentityClass::Telemetry
        })
    }) {
        used.push(w);
        let ua = net::user_agent(&mut rng, UaKind::Boto3, "");
        let ua = org.add_ua(ua);
        let t0 = pick_time(&mut rng, org, HOUR);
        specs.push(Spec {
            kind: Kindx::Enumeration,
            who: w,
            t0,
            ip: hostile_ip(&mut rng),
            ua,
            other: NO_IDENT,
            extra: Vec::new(),
        });
    }
    // shared_across_env: a dev key shows up in prod, used by several consumers.
    if let Some(w) = find(org, &used, |id| is_integ(id) && id.env == Env::Dev) {
        used.push(w);
        let nat: Vec<u32> = org
            .accounts
            .first()
            .map(|a| a.nat.iter().flatten().copied().collect())
            .unwrap_or_default();
        let mut consumers = Vec::new();
        for (i, kind) in [UaKind::Java2, UaKind::GoV2, UaKind::Node3]
            .into_iter()
            .enumerate()
        {
            let ua = net::user_agent(&mut rng, kind, "");
            let ua = org.add_ua(ua);
            let ip = nat
                .get(i % nat.len().max(1))
                .copied()
                .unwrap_or_else(|| net::host_in(&mut rng, net::AWS_US_EAST_1));
            consumers.push((ip, ua));
        }
        let t0 = pick_time(&mut rng, org, 36 * HOUR);
        specs.push(Spec {
            kind: Kindx::SharedAcrossEnv,
            who: w,
            t0,
            ip: 0,
            ua: 0,
            other: NO_IDENT,
            extra: consumers,
        });
    }
    // agent_out_of_task: an AI agent calls IAM, secrets and EC2.
    if let Some(w) = find(org, &used, |id| id.class == IdentityClass::Agent) {
        used.push(w);
        let t0 = pick_time(&mut rng, org, HOUR);
        let admin = find(org, &[], |id| {
            id.class == IdentityClass::AdminFacing && id.acct == 0
        })
        .unwrap_or(NO_IDENT);
        specs.push(Spec {
            kind: Kindx::AgentOutOfTask,
            who: w,
            t0,
            ip: 0,
            ua: 0,
            other: admin,
            extra: Vec::new(),
        });
    }
    // instance_credential_exfil: EC2 instance credentials used off the instance.
    if let Some(w) = find(org, &used, |id| {
        matches!(
            id.sess,
            Sess::Periodic {
                issuer: Issuer::Ec2,
                ..
            }
        ) && id.class == IdentityClass::Workload
    }) {
        used.push(w);
        let kind = match rng.below(3) {
            0 => UaKind::CliMac,
            1 => UaKind::CliWindows,
            _ => UaKind::CliLinux,
        };
        let ua = net::user_agent(&mut rng, kind, "");
        let ua = org.add_ua(ua);
        let t0 = pick_time(&mut rng, org, HOUR);
        specs.push(Spec {
            kind: Kindx::InstanceExfil,
            who: w,
            t0,
            ip: hostile_ip(&mut rng),
            ua,
            other: NO_IDENT,
            extra: Vec::new(),
        });
    }
    // k8s: a service account token used from outside the cluster.
    if let Some(w) = find(org, &used, |id| {
        id.k8s
            .as_ref()
            .is_some_and(|k| k.in_cluster && !k.cluster_binding)
    })
    .or_else(|| {
        find(org, &used, |id| {
            id.k8s.as_ref().is_some_and(|k| k.in_cluster)
        })
    }) {
        used.push(w);
        let ua = net::user_agent(&mut rng, UaKind::Kubectl, "");
        let ua = org.add_ua(ua);
        let t0 = pick_time(&mut rng, org, HOUR);
        specs.push(Spec {
            kind: Kindx::K8sToken,
            who: w,
            t0,
            ip: hostile_ip(&mut rng),
            ua,
            other: NO_IDENT,
            extra: Vec::new(),
        });
    }
    // scale_up (benign): a deploy raises an ECS service's capacity tenfold.
    if let Some(w) = find(org, &used, |id| {
        id.name.ends_with("-task-role")
            && matches!(
                id.sess,
                Sess::Periodic {
                    issuer: Issuer::Ecs,
                    ..
                }
            )
    }) {
        let acct = org.ident(w).map_or(0, |x| x.acct);
        let deployer = find(org, &[], |id| {
            id.class == IdentityClass::CiCd && id.acct == acct && id.name.starts_with("gha-deploy-")
        })
        .or_else(|| {
            find(org, &[], |id| {
                id.class == IdentityClass::CiCd && id.acct == acct && !id.is_k8s()
            })
        })
        .or_else(|| {
            find(org, &[], |id| {
                id.class == IdentityClass::CiCd && !id.is_k8s()
            })
        });
        if let Some(d) = deployer {
            used.push(w);
            let mut t0 = pick_time(&mut rng, org, 8 * HOUR);
            // Prefer a weekday afternoon (UTC), when deploys happen.
            let day = t0.div_euclid(Timestamp::MS_PER_DAY);
            let snapped = day * Timestamp::MS_PER_DAY + 15 * HOUR + rng.range(0, 90) * MIN;
            let learn_end = org.start + (org.end - org.start) * 2 / 3;
            if snapped > learn_end && snapped + 6 * HOUR < org.end {
                t0 = snapped;
            }
            specs.push(Spec {
                kind: Kindx::ScaleUp,
                who: w,
                t0,
                ip: 0,
                ua: 0,
                other: d,
                extra: Vec::new(),
            });
        }
    }

    // Register the scale-up window before events are drawn.
    let mut incidents = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        if let Kindx::ScaleUp = s.kind {
            let hours = rng.range(3, 5);
            let tag = (i + 1) as u16;
            if let Some(id) = org.idents.get_mut(usize::from(s.who)) {
                id.scale_up = Some(ScaleUp {
                    start: s.t0 + 7 * MIN,
                    end: s.t0 + 7 * MIN + hours * HOUR,
                    factor: 10.0,
                    tag,
                });
            }
        }
    }

    let gen = Gen::new(org);
    let mut all = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let tag = (i + 1) as u16;
        let id = org
            .ident(s.who)
            .ok_or_else(|| SimError::Internal("incident victim".into()))?;
        let mut b = Seq {
            gen: &gen,
            org,
            who: s.who,
            id,
            t: s.t0,
            tag,
            rng: Rng::derive(org.seed, &[0x696e63, i as u64]),
            evs: Vec::new(),
        };
        let (category, malicious, description) = match s.kind {
            Kindx::StolenKey => {
                stolen_key(&mut b, s);
                ("stolen_key", true, format!("long-lived access key of {} used from a new network and client: recon (sts, iam, s3, ec2 in a new region) then bulk S3 downloads", id.name))
            }
            Kindx::PrivEsc => {
                priv_esc(&mut b, s);
                ("privilege_escalation", true, format!("{} key runs an escalation chain: denied attempts, CreatePolicyVersion, AttachUserPolicy AdministratorAccess, CreateAccessKey for another user, PassRole to a new Lambda function and invoke", id.name))
            }
            Kindx::Enumeration => {
                enumeration(&mut b, s);
                ("enumeration_burst", true, format!("{} key enumerates List/Describe/Get across many services and regions within minutes, mostly AccessDenied", id.name))
            }
            Kindx::SharedAcrossEnv => {
                shared(&mut b, s);
                ("shared_across_env", true, format!("dev credential {} used from production networks by several different clients", id.name))
            }
            Kindx::AgentOutOfTask => {
                agent(&mut b, s);
                ("agent_out_of_task", true, format!("AI agent {} leaves its declared task: IAM discovery, secret reads, EC2 launch attempts", id.name))
            }
            Kindx::InstanceExfil => {
                exfil(&mut b, s);
                ("instance_credential_exfil", true, format!("instance profile session credentials of {} (ec2RoleDelivery) used from an external address: listing and downloading S3 data", id.name))
            }
            Kindx::K8sToken => {
                k8s(&mut b, s);
                ("k8s_token_theft", true, format!("service account token of {} used from outside the cluster: permission discovery, secret reads, pod exec attempts", id.name))
            }
            Kindx::ScaleUp => {
                scale_up(&mut b, s);
                ("scale_up", false, format!("legitimate scale-up: {} raised desired capacity of {} tenfold (UpdateStack, UpdateService, SetDesiredCapacity) and task volume followed", org.ident(s.other).map_or("deployer", |d| d.name.as_str()), id.name))
            }
        };
        let mut evs = std::mem::take(&mut b.evs);
        evs.retain(|e| e.t >= org.start && e.t < org.end);
        let mut start = evs.iter().map(|e| e.t).min().unwrap_or(s.t0);
        let mut end = evs.iter().map(|e| e.t).max().unwrap_or(s.t0);
        if let (Kindx::ScaleUp, Some(su)) = (s.kind, id.scale_up) {
            start = start.min(su.start);
            end = end.max(su.end.min(org.end));
        }
        incidents.push(Incident {
            id: format!("INC-{:03}", i + 1),
            identity: identity_label(id).to_string(),
            malicious,
            category,
            description,
            start,
            end,
        });
        all.extend(evs);
    }
    all.sort_by_key(|e| (e.t, e.who, e.rnd));
    Ok((incidents, all))
}

/// Builds one incident's calls in order.
struct Seq<'a> {
    gen: &'a Gen<'a>,
    org: &'a Org,
    who: u16,
    id: &'a Ident,
    t: i64,
    tag: u16,
    rng: Rng,
    evs: Vec<Ev>,
}

impl Seq<'_> {
    fn wait(&mut self, mean_ms: f64) {
        self.t += 200 + self.rng.exp(mean_ms) as i64;
    }

    fn opts(&self, ua: u16) -> CallOpts {
        let mut o = CallOpts::new(ua);
        o.tag = self.tag;
        o
    }

    /// A call whose outcome follows the identity's policy.
    fn call(&mut self, key: &str, gap_ms: f64, mut o: CallOpts) {
        self.wait(gap_ms);
        let Ok(act) = org::api(key) else { return };
        let perm = crate::catalog::get(act).map_or("", |a| a.perm);
        if o.outcome.is_none() {
            o.outcome = Some(if allowed(self.org, self.id, perm) {
                OK
            } else {
                DENIED
            });
        }
        if o.region.is_none() {
            // One client, one configured region.
            o.region = self.id.regions.first().copied();
        }
        let t = self.t;
        let ev = self.gen.call(self.who, self.id, t, act, &o, &mut self.rng);
        self.evs.push(ev);
    }

    fn k8s(&mut self, key: &str, gap_ms: f64, outcome: u8, o: CallOpts) {
        self.wait(gap_ms);
        let Ok(act) = org::k8s_api(key) else { return };
        let mut o = o;
        o.outcome = Some(outcome);
        let t = self.t;
        let ev = self.gen.call(self.who, self.id, t, act, &o, &mut self.rng);
        self.evs.push(ev);
    }
}

fn main_key(id: &Ident) -> u32 {
    id.keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.active)
        .max_by_key(|(_, k)| k.weight)
        .map_or(0, |(i, _)| i as u32)
}

fn new_region(id: &Ident) -> u8 {
    (0..REGIONS.len() as u8)
        .rev()
        .find(|r| !id.regions.contains(r))
        .unwrap_or(0)
}

fn stolen_key(b: &mut Seq<'_>, s: &Spec) {
    let mut o = b.opts(s.ua);
    o.ip = Some(s.ip);
    o.cred = Some(main_key(b.id));
    let me = Some(b.who);
    let with_aux = |mut o: CallOpts, aux: Option<u16>| {
        o.aux = aux.unwrap_or(NO_IDENT);
        o
    };
    b.call("sts:GetCallerIdentity", 5_000.0, o);
    b.call("iam:GetUser", 8_000.0, with_aux(o, me));
    b.call("iam:ListAttachedUserPolicies", 6_000.0, with_aux(o, me));
    b.call("iam:ListUserPolicies", 3_000.0, with_aux(o, me));
    b.call("iam:ListGroupsForUser", 3_000.0, with_aux(o, me));
    b.call("s3:ListBuckets", 20_000.0, o);
    let mut far = o;
    far.region = Some(new_region(b.id));
    b.call("ec2:DescribeRegions", 30_000.0, far);
    b.call("ec2:DescribeInstances", 4_000.0, far);
    b.call("secretsmanager:ListSecrets", 15_000.0, o);
    let lists = b.rng.range(3, 6);
    for _ in 0..lists {
        b.call("s3:ListObjects", 10_000.0, o);
    }
    let n = b.rng.range(25, 80);
    for _ in 0..n {
        b.call("s3:GetObject", 3_000.0, o);
    }
    b.wait(30.0 * MIN as f64);
    let n = b.rng.range(10, 30);
    for _ in 0..n {
        b.call("s3:GetObject", 4_000.0, o);
    }
}

fn priv_esc(b: &mut Seq<'_>, s: &Spec) {
    let mut o = b.opts(s.ua);
    o.ip = Some(s.ip);
    o.cred = Some(main_key(b.id));
    let me = b.who;
    let target = s.other;
    let admin = s.extra.first().map_or(NO_IDENT, |e| e.1);
    let aux = |mut o: CallOpts, a: u16| {
        o.aux = a;
        o
    };
    b.call("sts:GetCallerIdentity", 3_000.0, o);
    b.call("iam:ListAttachedUserPolicies", 5_000.0, aux(o, me));
    b.call("iam:ListGroupsForUser", 3_000.0, aux(o, me));
    b.call("iam:GetPolicy", 4_000.0, aux(o, me));
    b.call("iam:GetPolicyVersion", 3_000.0, aux(o, me));
    // Attempts the key is not allowed to make.
    let mut denied = aux(o, me);
    denied.outcome = Some(DENIED);
    b.call("iam:CreateUser", 20_000.0, denied);
    b.call("iam:PutUserPolicy", 6_000.0, denied);
    b.call("iam:AttachRolePolicy", 6_000.0, aux(denied, admin));
    // The escalation chain.
    let mut ok = aux(o, me);
    ok.outcome = Some(OK);
    b.call("iam:CreatePolicyVersion", 40_000.0, ok);
    b.call("iam:AttachUserPolicy", 10_000.0, ok);
    if target != NO_IDENT {
        b.call("iam:CreateAccessKey", 15_000.0, aux(ok, target));
    }
    b.call("iam:ListRoles", 20_000.0, ok);
    if admin != NO_IDENT {
        b.call("iam:GetRole", 5_000.0, aux(ok, admin));
        b.call("lambda:CreateFunction20150331", 30_000.0, aux(ok, admin));
        b.call("lambda:Invoke", 20_000.0, aux(ok, admin));
    }
    b.call("sts:GetCallerIdentity", 60_000.0, ok);
}

fn enumeration(b: &mut Seq<'_>, s: &Spec) {
    let mut o = b.opts(s.ua);
    o.ip = Some(s.ip);
    o.cred = Some(main_key(b.id));
    let apis = [
        "iam:ListUsers",
        "iam:ListRoles",
        "iam:ListPolicies",
        "iam:ListGroups",
        "iam:GetAccountSummary",
        "iam:ListAccountAliases",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListInstanceProfiles",
        "s3:ListBuckets",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
        "s3:GetBucketPublicAccessBlock",
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSnapshots",
        "ec2:DescribeVolumes",
        "ec2:DescribeKeyPairs",
        "ec2:DescribeImages",
        "ec2:DescribeAddresses",
        "ec2:DescribeNetworkInterfaces",
        "lambda:ListFunctions20150331",
        "dynamodb:ListTables",
        "rds:DescribeDBInstances",
        "rds:DescribeDBSnapshots",
        "rds:DescribeDBClusters",
        "kms:ListKeys",
        "kms:ListAliases",
        "secretsmanager:ListSecrets",
        "ssm:DescribeParameters",
        "sqs:ListQueues",
        "sns:ListTopics",
        "logs:DescribeLogGroups",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "guardduty:ListDetectors",
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "eks:ListClusters",
        "ecs:ListClusters",
        "ecr:DescribeRepositories",
        "route53:ListHostedZones",
        "glue:GetDatabases",
        "monitoring:DescribeAlarms",
        "config:DescribeConfigurationRecorders",
        "elasticloadbalancing:DescribeLoadBalancers",
        "autoscaling:DescribeAutoScalingGroups",
        "ssm:DescribeInstanceInformation",
        "athena:GetQueryExecution",
    ];
    b.call("sts:GetCallerIdentity", 2_000.0, o);
    let rounds = b.rng.range(5, 9);
    for _ in 0..rounds {
        for r in 0..REGIONS.len() as u8 {
            let mut ro = o;
            ro.region = Some(r);
            let k = b.rng.range(8, 16);
            for _ in 0..k {
                let a = *b.rng.pick(&apis).unwrap_or(&"ec2:DescribeInstances");
                b.call(a, 350.0, ro);
            }
        }
    }
}

fn shared(b: &mut Seq<'_>, s: &Spec) {
    let vocab: Vec<u16> =
        b.id.acts
            .iter()
            .find_map(|a| match a {
                org::Activity::Background { vocab, .. } => Some(vocab.acts.clone()),
                _ => None,
            })
            .unwrap_or_default();
    let end = (s.t0 + b.rng.range(30, 60) * HOUR).min(b.org.end - MIN);
    let key = main_key(b.id);
    for (ci, &(ip, ua)) in s.extra.iter().enumerate() {
        let mut t = s.t0 + ci as i64 * b.rng.range(20, 240) * MIN;
        let mut o = b.opts(ua);
        o.ip = Some(ip);
        o.cred = Some(key);
        b.t = t;
        b.call("sts:GetCallerIdentity", 1_000.0, o);
        let rate = 3.0 + b.rng.f64() * 8.0;
        while t < end {
            t += b.rng.exp(HOUR as f64 / rate) as i64;
            if t >= end {
                break;
            }
            b.t = t;
            if let Some(&act) = b.rng.pick(&vocab) {
                let mut oo = o;
                oo.outcome = Some(OK);
                b.wait(100.0);
                let ev = b.gen.call(b.who, b.id, b.t, act, &oo, &mut b.rng);
                b.evs.push(ev);
            }
        }
    }
}

fn agent(b: &mut Seq<'_>, s: &Spec) {
    let ua = b.id.uas.first().copied().unwrap_or(0);
    let o = b.opts(ua);
    let admin = s.other;
    let aux = |mut o: CallOpts, a: u16| {
        o.aux = a;
        o
    };
    // Secrets of other workloads in the same account.
    let owners: Vec<u16> = b
        .org
        .idents
        .iter()
        .enumerate()
        .filter(|(_, x)| {
            x.acct == b.id.acct && !x.res.secrets.is_empty() && x.class == IdentityClass::Workload
        })
        .map(|(i, _)| i as u16)
        .take(4)
        .collect();
    b.call("bedrock:Converse", 5_000.0, o);
    b.call("iam:ListRoles", 20_000.0, o);
    b.call("iam:ListUsers", 5_000.0, o);
    if admin != NO_IDENT {
        b.call("iam:GetRole", 8_000.0, aux(o, admin));
        b.call("iam:ListAttachedRolePolicies", 4_000.0, aux(o, admin));
    }
    b.call("bedrock:Converse", 15_000.0, o);
    b.call("secretsmanager:ListSecrets", 10_000.0, o);
    for &w in &owners {
        let mut so = o;
        so.res_owner = w;
        b.call("secretsmanager:GetSecretValue", 6_000.0, so);
    }
    b.call("bedrock:Converse", 20_000.0, o);
    b.call("ec2:DescribeImages", 10_000.0, o);
    b.call("ec2:RunInstances", 8_000.0, o);
    b.call("ec2:RunInstances", 30_000.0, o);
    b.call("ec2:CreateKeyPair", 10_000.0, o);
    b.call("bedrock:Converse", 20_000.0, o);
}

fn exfil(b: &mut Seq<'_>, s: &Spec) {
    let (slot, period) = match b.id.sess {
        Sess::Periodic { period_min, .. } => (0usize, period_min),
        _ => (0, 360),
    };
    let start = periodic_start(b.org, b.who, slot, period, s.t0);
    let mut o = b.opts(s.ua);
    o.ip = Some(s.ip);
    o.cred = Some(session_cred(b.org, slot, start));
    b.call("sts:GetCallerIdentity", 2_000.0, o);
    b.call("s3:ListBuckets", 10_000.0, o);
    b.call("iam:ListRoles", 8_000.0, o);
    b.call("ec2:DescribeInstances", 8_000.0, o);
    let n = b.rng.range(2, 5);
    for _ in 0..n {
        b.call("s3:ListObjects", 6_000.0, o);
    }
    let n = b.rng.range(15, 40);
    for _ in 0..n {
        b.call("s3:GetObject", 2_500.0, o);
    }
    b.call("secretsmanager:GetSecretValue", 30_000.0, o);
    for e in &mut b.evs {
        e.vpce = NO_VPCE;
        e.mode = M_DIRECT;
    }
}

fn k8s(b: &mut Seq<'_>, s: &Spec) {
    let mut o = b.opts(s.ua);
    o.ip = Some(s.ip);
    b.k8s("create:selfsubjectrulesreviews", 3_000.0, OK, o);
    b.k8s("list:secrets@cluster", 8_000.0, DENIED, o);
    b.k8s("list:secrets", 5_000.0, OK, o);
    let n = b.rng.range(3, 6);
    for _ in 0..n {
        b.k8s("get:secrets", 4_000.0, OK, o);
    }
    b.k8s("list:pods", 6_000.0, OK, o);
    b.k8s("create:pods/exec", 10_000.0, DENIED, o);
    b.k8s("list:clusterrolebindings", 6_000.0, DENIED, o);
    b.k8s("create:serviceaccounts/token", 8_000.0, DENIED, o);
    b.k8s("get:configmaps", 5_000.0, OK, o);
    b.k8s("create:pods/exec", 20_000.0, DENIED, o);
}

fn scale_up(b: &mut Seq<'_>, s: &Spec) {
    // The deployer's calls that announce the scale-up.
    let Some(d) = b.org.ident(s.other) else {
        return;
    };
    let workload = b.who;
    let org = b.org;
    let gen = b.gen;
    let mut rng = Rng::derive(org.seed, &[0x7363616c65, u64::from(s.other)]);
    let mut t = s.t0;
    let ip = d.ips.get(rng.index(d.ips.len().max(1))).copied();
    let ua = d.uas.get(1).or_else(|| d.uas.first()).copied().unwrap_or(0);
    let cred = match d.sess {
        Sess::PerEpisode { .. } => {
            let c = session_cred(org, 0, t);
            if let Some(mut ev) = gen.preface(
                s.other,
                d,
                t,
                c,
                d.uas.first().copied().unwrap_or(0),
                b.tag,
                &mut rng,
            ) {
                if let Some(ip) = ip {
                    ev.ip = ip;
                }
                b.evs.push(ev);
            }
            Some(c)
        }
        _ => None,
    };
    let steps: [(&str, u32, i64); 6] = [
        ("sts:GetCallerIdentity", 1, 3),
        ("cloudformation:UpdateStack", 1, 8),
        ("cloudformation:DescribeStackEvents", 5, 20),
        ("ecs:UpdateService", 1, 15),
        ("autoscaling:SetDesiredCapacity", 1, 10),
        ("ecs:DescribeServices", 6, 30),
    ];
    for (key, n, gap_s) in steps {
        let Ok(act) = org::api(key) else { continue };
        for _ in 0..n {
            t += 1000 + rng.below((gap_s * 1000) as u64) as i64;
            let mut o = CallOpts::new(ua);
            o.tag = b.tag;
            o.ip = ip;
            o.cred = cred;
            o.outcome = Some(OK);
            o.res_owner = workload;
            if d.kind == Kind::User {
                o.ip = d.ips.first().copied();
            }
            let ev = gen.call(s.other, d, t, act, &o, &mut rng);
            b.evs.push(ev);
        }
    }
}
