//! Knowledge of networks beyond the address itself: AWS's published ranges (`ip-ranges.json`),
//! so that "from outside AWS" is a fact rather than a guess.

use std::net::IpAddr;

/// AWS's address ranges as sorted, merged intervals (IPv4 and IPv6 apart).
#[derive(Debug, Clone, Default)]
pub struct AwsRanges {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

/// Why a prefix could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CIDR prefix: {0:?}")]
pub struct BadPrefix(pub String);

fn merge<T: Ord + Copy>(mut v: Vec<(T, T)>, next: impl Fn(T) -> Option<T>) -> Vec<(T, T)> {
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if next(last.1).is_some_and(|n| a <= n) || a <= last.1 => {
                if b > last.1 {
                    last.1 = b;
                }
            }
            _ => out.push((a, b)),
        }
    }
    out
}

fn find<T: Ord + Copy>(v: &[(T, T)], x: T) -> bool {
    let i = v.partition_point(|(a, _)| *a <= x);
    i > 0 && v.get(i - 1).is_some_and(|(_, b)| x <= *b)
}

impl AwsRanges {
    /// Builds the ranges from CIDR prefixes (`3.5.140.0/22`, `2600:1f00::/24`).
    pub fn from_prefixes<'a>(
        prefixes: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, BadPrefix> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for p in prefixes {
            let bad = || BadPrefix(p.to_string());
            let (addr, len) = p.trim().split_once('/').ok_or_else(bad)?;
            let len: u32 = len.parse().map_err(|_| bad())?;
            match addr.parse::<IpAddr>().map_err(|_| bad())? {
                IpAddr::V4(a) if len <= 32 => {
                    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                    let start = u32::from(a) & mask;
                    v4.push((start, start | !mask));
                }
                IpAddr::V6(a) if len <= 128 => {
                    let mask = if len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - len)
                    };
                    let start = u128::from(a) & mask;
                    v6.push((start, start | !mask));
                }
                _ => return Err(bad()),
            }
        }
        Ok(Self {
            v4: merge(v4, |x: u32| x.checked_add(1)),
            v6: merge(v6, |x: u128| x.checked_add(1)),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => find(&self.v4, u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4)),
                None => find(&self.v6, u128::from(a)),
            },
        }
    }

    /// Whether a textual address is in the ranges (false for anything that is not an address).
    pub fn contains_str(&self, ip: &str) -> bool {
        ip.trim().parse().is_ok_and(|a| self.contains(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_merged_and_searched() {
        let r = AwsRanges::from_prefixes([
            "3.5.140.0/22",
            "3.5.144.0/23",
            "3.5.142.0/24",
            "2600:1f00::/24",
        ])
        .unwrap_or_default();
        assert!(r.contains_str("3.5.140.1"));
        assert!(r.contains_str("3.5.143.255"));
        assert!(!r.contains_str("3.5.146.0"));
        assert!(r.contains_str("3.5.145.9"));
        assert!(!r.contains_str("198.51.100.7"));
        assert!(r.contains_str("2600:1f00::1"));
        assert!(!r.contains_str("2001:db8::1"));
        assert!(!r.contains_str("lambda.amazonaws.com"));
        assert!(AwsRanges::from_prefixes(["10.0.0.0/33"]).is_err());
        assert!(AwsRanges::from_prefixes(["nonsense"]).is_err());
    }
}
