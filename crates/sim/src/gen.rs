//! Event generation: every identity's calls for one hour, drawn from streams keyed by
//! (seed, identity, hour) so that any hour can be generated on its own.

use crate::catalog::{self, P};
use crate::org::{
    Activity, Ident, Issuer, Org, Sched, Sess, Step, Via, SVC_EC2, SVC_ECS, SVC_LAMBDA, US_EAST_1,
};
use crate::rng::{mix, Rng};
use tripline_model::Timestamp;

/// The caller is the identity itself, with its own credential.
pub(crate) const M_DIRECT: u8 = 0;
/// An AWS service (`via`) assumes the identity's role: `userIdentity.type = AWSService`.
pub(crate) const M_SVC_ASSUME: u8 = 1;
/// GitHub OIDC `AssumeRoleWithWebIdentity` for the identity's role.
pub(crate) const M_WEB_ID: u8 = 2;
/// Another account (a vendor, the management account) assumes the identity's role.
pub(crate) const M_EXT_ASSUME: u8 = 3;
/// An AWS service (`via`) calls with the identity's session (`invokedBy`).
pub(crate) const M_INVOKED: u8 = 4;

pub(crate) const NO_IDENT: u16 = u16::MAX;
pub(crate) const NO_VPCE: u8 = u8::MAX;
pub(crate) const OK: u8 = 0;
pub(crate) const DENIED: u8 = 1;
pub(crate) const FAILED: u8 = 2;

/// Sessions are numbered by their start minute counted from this long before the first hour.
const SESSION_EPOCH_BEFORE: i64 = 60 * Timestamp::MS_PER_DAY;

const S_HOUR: u64 = 0x68_6f_75_72;
const S_EPISODES: u64 = 0x65_70_69;
const S_EPISODE: u64 = 0x65_70_31;
const S_PHASE: u64 = 0x70_68_61;
pub(crate) const S_KEY: u64 = 0x6b_65_79;
pub(crate) const S_TASK: u64 = 0x74_61_73_6b;

/// One event before rendering: compact, `Copy`, and enough to render the record and its label.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ev {
    pub t: i64,
    pub who: u16,
    /// API index (CloudTrail) or Kubernetes API index.
    pub act: u16,
    /// Another identity the call acts on (target user, role passed, resource owner).
    pub aux: u16,
    /// Identity whose resources the call touches.
    pub res_owner: u16,
    /// Session (slot << 24 | start minute), access key slot, or pod slot.
    pub cred: u32,
    /// Source address; 0 when the caller is an AWS service.
    pub ip: u32,
    pub ua: u16,
    /// 0 = benign; otherwise 1 + incident index.
    pub tag: u16,
    pub acct: u8,
    pub region: u8,
    pub outcome: u8,
    pub mode: u8,
    pub via: u8,
    pub vpce: u8,
    pub k8s: bool,
    pub rnd: u64,
}

pub(crate) fn session_cred(org: &Org, slot: usize, start: i64) -> u32 {
    let m = ((start - (org.start - SESSION_EPOCH_BEFORE)) / 60_000).clamp(0, 0xFF_FFFF) as u32;
    ((slot.min(255) as u32) << 24) | m
}

pub(crate) fn session_start(org: &Org, cred: u32) -> i64 {
    org.start - SESSION_EPOCH_BEFORE + i64::from(cred & 0xFF_FFFF) * 60_000
}

pub(crate) fn cred_slot(cred: u32) -> usize {
    (cred >> 24) as usize
}

fn phase(org: &Org, who: u16, slot: usize, period: i64) -> i64 {
    let minutes = (period / 60_000).max(1) as u64;
    (mix(org.seed, &[S_PHASE, u64::from(who), slot as u64]) % minutes) as i64 * 60_000
}

/// Start of the periodic session of `slot` that is current at `t`.
pub(crate) fn periodic_start(org: &Org, who: u16, slot: usize, period_min: u32, t: i64) -> i64 {
    let p = i64::from(period_min.max(1)) * 60_000;
    let ph = phase(org, who, slot, p);
    let k = (t - org.start - ph).div_euclid(p);
    org.start + ph + k * p
}

pub(crate) fn active_slots(id: &Ident, t: i64) -> usize {
    let all = id.slots.len().max(1);
    match id.scale_up {
        Some(s) if t >= s.start && t < s.end => all,
        _ => id.normal_slots.clamp(1, all),
    }
}

/// Tag for an identity's own events at `t` (scale-up windows carry the scale-up incident's tag).
fn tag_at(id: &Ident, t: i64) -> u16 {
    match id.scale_up {
        Some(s) if t >= s.start && t < s.end => s.tag,
        _ => 0,
    }
}

fn issuer_mode(issuer: Issuer) -> (u8, u8) {
    match issuer {
        Issuer::Ec2 => (M_SVC_ASSUME, SVC_EC2),
        Issuer::Lambda => (M_SVC_ASSUME, SVC_LAMBDA),
        Issuer::Ecs => (M_SVC_ASSUME, SVC_ECS),
        Issuer::WebIdentity => (M_WEB_ID, 0),
        Issuer::ExternalAccount | Issuer::ManagementAccount => (M_EXT_ASSUME, 0),
    }
}

/// Where generated events go: collected, or only counted towards the expected volume.
pub(crate) enum Sink<'a> {
    Emit {
        out: &'a mut Vec<Ev>,
        scale: f64,
    },
    Expect {
        fixed: &'a mut f64,
        scaled: &'a mut f64,
    },
}

impl Sink<'_> {
    fn count(&mut self, rng: &mut Rng, fixed: f64, scaled: f64) -> u64 {
        match self {
            Sink::Emit { scale, .. } => {
                let f = fixed.floor();
                let extra = rng.poisson(scaled * *scale + (fixed - f));
                f as u64 + extra
            }
            Sink::Expect {
                fixed: fx,
                scaled: sc,
            } => {
                **fx += fixed;
                **sc += scaled;
                0
            }
        }
    }

    fn fixed(&mut self, n: u64) -> u64 {
        match self {
            Sink::Emit { .. } => n,
            Sink::Expect { fixed, .. } => {
                **fixed += n as f64;
                0
            }
        }
    }

    fn push(&mut self, ev: Ev) {
        if let Sink::Emit { out, .. } = self {
            out.push(ev);
        }
    }

    fn emitting(&self) -> bool {
        matches!(self, Sink::Emit { .. })
    }
}

/// Options for one generated call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallOpts {
    pub ua: u16,
    pub via: Via,
    /// Fixed source address (an episode's runner, an intruder's host).
    pub ip: Option<u32>,
    /// Fixed credential (an episode's session, a stolen session).
    pub cred: Option<u32>,
    pub region: Option<u8>,
    pub outcome: Option<u8>,
    pub tag: u16,
    pub aux: u16,
    pub res_owner: u16,
    pub acct: Option<u8>,
}

impl CallOpts {
    pub(crate) fn new(ua: u16) -> Self {
        Self {
            ua,
            via: Via::Direct,
            ip: None,
            cred: None,
            region: None,
            outcome: None,
            tag: 0,
            aux: NO_IDENT,
            res_owner: NO_IDENT,
            acct: None,
        }
    }
}

pub(crate) struct Gen<'a> {
    pub org: &'a Org,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(org: &'a Org) -> Self {
        Self { org }
    }

    fn pick_weighted_ip(&self, id: &Ident, rng: &mut Rng) -> u32 {
        let i = rng.weighted(&id.ip_w);
        id.ips.get(i).copied().unwrap_or(0)
    }

    /// One call by identity `who` at `t`.
    pub(crate) fn call(
        &self,
        who: u16,
        id: &Ident,
        t: i64,
        act: u16,
        o: &CallOpts,
        rng: &mut Rng,
    ) -> Ev {
        let mut ev = Ev {
            t,
            who,
            act,
            aux: o.aux,
            res_owner: if o.res_owner == NO_IDENT {
                who
            } else {
                o.res_owner
            },
            cred: 0,
            ip: 0,
            ua: o.ua,
            tag: o.tag,
            acct: o.acct.unwrap_or(id.acct),
            region: 0,
            outcome: OK,
            mode: M_DIRECT,
            via: 0,
            vpce: NO_VPCE,
            k8s: false,
            rnd: rng.next_u64(),
        };
        if id.is_k8s() {
            ev.k8s = true;
            if let Some(c) = &self.org.cluster {
                ev.acct = c.acct;
                ev.region = c.region;
            }
            let in_cluster = id.k8s.as_ref().is_some_and(|k| k.in_cluster);
            // Pods are replaced every few days: the token and address follow the pod.
            let pod = if id.slots.is_empty() {
                0
            } else {
                let epoch = (t - self.org.start).div_euclid(3 * Timestamp::MS_PER_DAY) as u64;
                (mix(self.org.seed, &[0x706f64, u64::from(who), epoch]) % id.slots.len() as u64)
                    as usize
            };
            ev.cred = o.cred.unwrap_or(pod as u32);
            ev.ip = match o.ip {
                Some(ip) => ip,
                None if in_cluster => id.slots.get(pod).map_or(0, |s| s.ip),
                None => self.pick_weighted_ip(id, rng),
            };
            ev.outcome = o.outcome.unwrap_or_else(|| {
                if rng.chance(id.deny_rate) {
                    DENIED
                } else if rng.chance(id.fail_rate) {
                    FAILED
                } else {
                    OK
                }
            });
            return ev;
        }
        let api = catalog::get(act);
        let global = api.is_some_and(|a| a.global() || a.p == P::ListBuckets);
        ev.region = match o.region {
            Some(r) => r,
            None if global => US_EAST_1,
            None => {
                let i = rng.weighted(&id.region_w);
                id.regions.get(i).copied().unwrap_or(US_EAST_1)
            }
        };
        if let Via::Service(s) = o.via {
            ev.mode = M_INVOKED;
            ev.via = s;
        }
        // Credential.
        ev.cred = match o.cred {
            Some(c) => c,
            None if id.is_user() => {
                let w: Vec<u32> = id
                    .keys
                    .iter()
                    .map(|k| if k.active { k.weight } else { 0 })
                    .collect();
                rng.weighted(&w) as u32
            }
            None => match id.sess {
                Sess::Periodic { period_min, .. } => {
                    let slot = rng.index(active_slots(id, t));
                    session_cred(
                        self.org,
                        slot,
                        periodic_start(self.org, who, slot, period_min, t),
                    )
                }
                _ => session_cred(self.org, 0, t),
            },
        };
        // Source address.
        if ev.mode == M_INVOKED {
            ev.ip = 0;
        } else if let Some(ip) = o.ip {
            ev.ip = ip;
        } else if id.vpc {
            let slot = cred_slot(ev.cred);
            let acct = self.org.account(ev.acct);
            let home = acct.map_or(US_EAST_1, |a| a.home_region());
            let vpce = api.and_then(|a| acct.and_then(|ac| ac.vpce_for(a.svc)));
            match vpce {
                Some(v) if ev.region == home && !global => {
                    ev.vpce = v;
                    ev.ip = id.slots.get(slot).map_or(0, |s| s.ip);
                }
                _ => {
                    let nat = acct.map_or(&[][..], |a| a.nat_ips(ev.region));
                    ev.ip = nat.get(slot % nat.len().max(1)).copied().unwrap_or(0);
                }
            }
            if ev.ip == 0 {
                ev.ip = self.pick_weighted_ip(id, rng);
            }
        } else {
            ev.ip = self.pick_weighted_ip(id, rng);
        }
        ev.outcome = o.outcome.unwrap_or_else(|| {
            if rng.chance(id.deny_rate) {
                DENIED
            } else if rng.chance(id.fail_rate) {
                FAILED
            } else {
                OK
            }
        });
        ev
    }

    /// A session being issued: the AssumeRole* record that precedes a role's calls.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn preface(
        &self,
        who: u16,
        id: &Ident,
        t: i64,
        cred: u32,
        ua: u16,
        tag: u16,
        rng: &mut Rng,
    ) -> Option<Ev> {
        let (issuer, mode_via) = match id.sess {
            Sess::Periodic { issuer, .. } | Sess::PerEpisode { issuer } => {
                (issuer, issuer_mode(issuer))
            }
            Sess::None => return None,
        };
        let act = match issuer {
            Issuer::WebIdentity => catalog::find("sts:AssumeRoleWithWebIdentity")?,
            _ => catalog::find("sts:AssumeRole")?,
        };
        let mut o = CallOpts::new(ua);
        o.cred = Some(cred);
        o.tag = tag;
        o.outcome = Some(OK);
        o.region = Some(
            self.org
                .account(id.acct)
                .map_or(US_EAST_1, |a| a.home_region()),
        );
        if mode_via.0 != M_WEB_ID {
            o.ip = Some(0);
        }
        let mut ev = self.call(who, id, t, act, &o, rng);
        ev.mode = mode_via.0;
        ev.via = mode_via.1;
        ev.vpce = NO_VPCE;
        if ev.mode == M_WEB_ID {
            // The runner calls STS itself.
            ev.ip = self.pick_weighted_ip(id, rng);
        } else if ev.mode == M_EXT_ASSUME {
            ev.ip = match issuer {
                Issuer::ExternalAccount => self.pick_weighted_ip(id, rng),
                _ => id.ips.first().copied().unwrap_or(0),
            };
        } else {
            ev.ip = 0;
        }
        Some(ev)
    }

    /// Everything identity `who` does in the hour starting at `h0`.
    pub(crate) fn ident_hour(&self, who: u16, h0: i64, sink: &mut Sink<'_>) {
        let Some(id) = self.org.ident(who) else {
            return;
        };
        let h1 = h0 + Timestamp::MS_PER_HOUR;
        let hour_idx = ((h0 - self.org.start) / Timestamp::MS_PER_HOUR) as u64;
        let mut rng = Rng::derive(self.org.seed, &[S_HOUR, u64::from(who), hour_idx]);
        let day = h0.div_euclid(Timestamp::MS_PER_DAY);
        let hod = (h0.rem_euclid(Timestamp::MS_PER_DAY) / Timestamp::MS_PER_HOUR) as u32;
        // 1970-01-01 was a Thursday: day 0 has weekday index 3 (Monday = 0).
        let dow = ((day + 3).rem_euclid(7)) as u32;
        let mid = h0 + Timestamp::MS_PER_HOUR / 2;
        let factor = match id.scale_up {
            Some(s) if mid >= s.start && mid < s.end => s.factor,
            _ => 1.0,
        };
        // Session prefaces for periodically rotated sessions.
        if let Sess::Periodic { period_min, .. } = id.sess {
            let p = i64::from(period_min.max(1)) * 60_000;
            let slots = id.slots.len().max(1);
            let mut starts: Vec<(i64, usize)> = Vec::new();
            for slot in 0..slots {
                let mut s = periodic_start(self.org, who, slot, period_min, h0);
                if s < h0 {
                    s += p;
                }
                while s < h1 {
                    if slot < active_slots(id, s) {
                        starts.push((s, slot));
                    }
                    s += p;
                }
            }
            let n = sink.fixed(starts.len() as u64);
            if n > 0 {
                let ua = id.uas.first().copied().unwrap_or(0);
                for (s, slot) in starts {
                    let cred = session_cred(self.org, slot, s);
                    if let Some(ev) = self.preface(who, id, s, cred, ua, tag_at(id, s), &mut rng) {
                        sink.push(ev);
                    }
                }
            }
        }
        for (ai, act) in id.acts.iter().enumerate() {
            match act {
                Activity::Background {
                    vocab,
                    rate,
                    rhythm,
                    ua,
                } => {
                    let w = rhythm.weight(hod, dow) * factor;
                    let n = sink.count(&mut rng, 0.0, rate * w);
                    for _ in 0..n {
                        let t = h0 + rng.below(Timestamp::MS_PER_HOUR as u64) as i64;
                        let a = vocab.acts.get(rng.weighted(&vocab.w)).copied().unwrap_or(0);
                        let u = ua.get(rng.index(ua.len())).copied().unwrap_or(0);
                        let mut o = CallOpts::new(id.uas.get(usize::from(u)).copied().unwrap_or(0));
                        o.tag = tag_at(id, t);
                        let ev = self.call(who, id, t, a, &o, &mut rng);
                        sink.push(ev);
                    }
                    if !id.deny_vocab.acts.is_empty() {
                        let n = sink.count(&mut rng, 0.0, rate * w * id.deny_probe);
                        for _ in 0..n {
                            let t = h0 + rng.below(Timestamp::MS_PER_HOUR as u64) as i64;
                            let a = id
                                .deny_vocab
                                .acts
                                .get(rng.weighted(&id.deny_vocab.w))
                                .copied()
                                .unwrap_or(0);
                            let mut o = CallOpts::new(id.uas.first().copied().unwrap_or(0));
                            o.outcome = Some(DENIED);
                            o.tag = tag_at(id, t);
                            let ev = self.call(who, id, t, a, &o, &mut rng);
                            sink.push(ev);
                        }
                    }
                }
                Activity::Heartbeat { act, every_min, ua } => {
                    let every = i64::from((*every_min).max(1)) * 60_000;
                    let slots = if id.slots.is_empty() {
                        1
                    } else {
                        active_slots(id, mid)
                    };
                    let mut ticks: Vec<(i64, usize)> = Vec::new();
                    for slot in 0..slots {
                        let ph = phase(self.org, who, slot + 1000 * ai, every)
                            + (mix(self.org.seed, &[who.into(), slot as u64, ai as u64]) % 60_000)
                                as i64;
                        let mut k = (h0 - self.org.start - ph).div_euclid(every);
                        loop {
                            let t = self.org.start + ph + k * every;
                            if t >= h1 {
                                break;
                            }
                            if t >= h0 {
                                ticks.push((t, slot));
                            }
                            k += 1;
                        }
                    }
                    let n = sink.fixed(ticks.len() as u64);
                    if n > 0 {
                        let u = id.uas.get(usize::from(*ua)).copied().unwrap_or(0);
                        for (t, slot) in ticks {
                            let jitter = rng.below(2000) as i64;
                            let mut o = CallOpts::new(u);
                            o.tag = tag_at(id, t);
                            if let Sess::Periodic { period_min, .. } = id.sess {
                                o.cred = Some(session_cred(
                                    self.org,
                                    slot,
                                    periodic_start(self.org, who, slot, period_min, t + jitter),
                                ));
                            }
                            let ev = self.call(who, id, t + jitter, *act, &o, &mut rng);
                            sink.push(ev);
                        }
                    }
                }
                Activity::Episodes {
                    sched,
                    dur_min,
                    steps,
                } => {
                    if sink.emitting() {
                        for d in [day - 1, day] {
                            for (k, (start, dur)) in self
                                .episodes(who, ai, *sched, *dur_min, d)
                                .into_iter()
                                .enumerate()
                            {
                                if start >= h1 || start + dur < h0 || start < self.org.start {
                                    continue;
                                }
                                self.episode(who, id, ai, d, k, start, dur, steps, h0, h1, sink);
                            }
                        }
                    } else {
                        for (start, _) in self.episodes(who, ai, *sched, *dur_min, day) {
                            if start >= h0 && start < h1 {
                                let pre = u64::from(matches!(id.sess, Sess::PerEpisode { .. }));
                                sink.fixed(pre);
                                for s in steps {
                                    sink.count(&mut rng, f64::from(s.fixed), s.scaled);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Episode (start, duration) pairs for one day.
    fn episodes(
        &self,
        who: u16,
        ai: usize,
        sched: Sched,
        dur: (u32, u32),
        day: i64,
    ) -> Vec<(i64, i64)> {
        let mut rng = Rng::derive(
            self.org.seed,
            &[S_EPISODES, u64::from(who), ai as u64, day as u64],
        );
        let dow = ((day + 3).rem_euclid(7)) as u32;
        let weekend = dow >= 5;
        let base = day * Timestamp::MS_PER_DAY;
        let mut out = Vec::new();
        let draw_dur = |rng: &mut Rng| {
            rng.range(i64::from(dur.0), i64::from(dur.1.max(dur.0))) * 60_000
                + rng.range(0, 59) * 1000
        };
        match sched {
            Sched::Daily {
                at_min,
                jitter,
                weekdays,
            } => {
                if weekdays && weekend {
                    return out;
                }
                let j = i64::from(jitter);
                let start = base + (i64::from(at_min) + rng.range(-j, j)) * 60_000;
                out.push((start, draw_dur(&mut rng)));
            }
            Sched::Random {
                per_day,
                start_h,
                end_h,
                weekend: wf,
            } => {
                let lambda = if weekend { per_day * wf } else { per_day };
                let n = rng.poisson(lambda);
                let span = (i64::from(end_h.saturating_sub(start_h)).max(1)) * 60;
                let mut starts: Vec<i64> = (0..n)
                    .map(|_| base + (i64::from(start_h) * 60 + rng.range(0, span - 1)) * 60_000)
                    .collect();
                starts.sort_unstable();
                for s in starts {
                    out.push((s, draw_dur(&mut rng)));
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn episode(
        &self,
        who: u16,
        id: &Ident,
        ai: usize,
        day: i64,
        k: usize,
        start: i64,
        dur: i64,
        steps: &[Step],
        h0: i64,
        h1: i64,
        sink: &mut Sink<'_>,
    ) {
        let Sink::Emit { scale, .. } = sink else {
            return;
        };
        let scale = *scale;
        let mut rng = Rng::derive(
            self.org.seed,
            &[S_EPISODE, u64::from(who), ai as u64, day as u64, k as u64],
        );
        let counts: Vec<u64> = steps
            .iter()
            .map(|s| u64::from(s.fixed) + rng.poisson(s.scaled * scale))
            .collect();
        let total: u64 = counts.iter().sum();
        let ep_ip = if id.vpc || id.ips.is_empty() {
            None
        } else {
            Some(self.pick_weighted_ip(id, &mut rng))
        };
        let slot = if id.slots.is_empty() {
            0
        } else {
            rng.index(id.slots.len().max(1))
        };
        let per_episode = matches!(id.sess, Sess::PerEpisode { .. });
        let cred = if per_episode {
            Some(session_cred(self.org, slot, start))
        } else {
            None
        };
        let tag = tag_at(id, start);
        if let Some(c) = cred {
            let ua = id.uas.first().copied().unwrap_or(0);
            // Drawn in every hour the episode touches, so the stream stays aligned.
            if let Some(mut ev) = self.preface(who, id, start, c, ua, tag, &mut rng) {
                if let Some(ip) = ep_ip {
                    if ev.mode == M_WEB_ID {
                        ev.ip = ip;
                    }
                }
                if start >= h0 && start < h1 {
                    sink.push(ev);
                }
            }
        }
        // Order-preserving times: cumulative exponential gaps normalised to the duration.
        let gaps: Vec<f64> = (0..=total).map(|_| rng.exp(1.0)).collect();
        let sum: f64 = gaps.iter().sum::<f64>().max(1e-9);
        let mut acc = 0.0;
        let mut gi = gaps.iter();
        let span = (dur - 2000).max(1000) as f64;
        for (s, &n) in steps.iter().zip(counts.iter()) {
            let ua = id.uas.get(usize::from(s.ua)).copied().unwrap_or(0);
            for _ in 0..n {
                acc += gi.next().copied().unwrap_or(1.0);
                let t = start + 1000 + (acc / sum * span) as i64;
                // Draw the call even outside this hour so every hour sees the same stream.
                let mut o = CallOpts::new(ua);
                o.via = s.via;
                o.ip = ep_ip;
                o.cred = cred;
                o.tag = tag;
                let ev = self.call(who, id, t, s.act, &o, &mut rng);
                if t >= h0 && t < h1 && t < self.org.end {
                    sink.push(ev);
                }
            }
        }
    }
}
