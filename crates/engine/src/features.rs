//! Features of one event that baselines compare: network, client family, hashes.

/// 32-bit FNV-1a: small, stable across runs and platforms (baselines may be persisted).
pub fn hash(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    // 0 is reserved as "none".
    h.max(1)
}

pub fn hash2(a: u32, b: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for byte in a.to_le_bytes().into_iter().chain(b.to_le_bytes()) {
        h ^= u32::from(byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

/// Where a call came from, coarsely. Without an ASN database the /16 (IPv4) or /32 (IPv6)
/// prefix stands in for the provider; users can add GeoIP/ASN enrichment later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Fine network: IPv4 /24, IPv6 /48, or the AWS service name.
    pub fine: String,
    /// Coarse network: IPv4 /16, IPv6 /32, or the AWS service name.
    pub coarse: String,
    pub class: NetClass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetClass {
    Public,
    Private,
    /// `sourceIPAddress` is an AWS service name (`ec2.amazonaws.com`, `AWS Internal`).
    AwsService,
    Unknown,
}

pub fn network(source: Option<&str>) -> Network {
    let Some(src) = source.map(str::trim).filter(|s| !s.is_empty()) else {
        return Network {
            fine: "unknown".into(),
            coarse: "unknown".into(),
            class: NetClass::Unknown,
        };
    };
    if let Ok(v4) = src.parse::<std::net::Ipv4Addr>() {
        let [a, b, c, _] = v4.octets();
        let class = if v4.is_private()
            || v4.is_loopback()
            || v4.is_link_local()
            || (a == 100 && (64..128).contains(&b))
        {
            NetClass::Private
        } else {
            NetClass::Public
        };
        return Network {
            fine: format!("{a}.{b}.{c}.0/24"),
            coarse: format!("{a}.{b}.0.0/16"),
            class,
        };
    }
    if let Ok(v6) = src.parse::<std::net::Ipv6Addr>() {
        let s = v6.segments();
        let seg = |i: usize| s.get(i).copied().unwrap_or(0);
        let class = if (seg(0) & 0xfe00) == 0xfc00 || v6.is_loopback() {
            NetClass::Private
        } else {
            NetClass::Public
        };
        return Network {
            fine: format!("{:x}:{:x}:{:x}::/48", seg(0), seg(1), seg(2)),
            coarse: format!("{:x}:{:x}::/32", seg(0), seg(1)),
            class,
        };
    }
    Network {
        fine: src.to_string(),
        coarse: src.to_string(),
        class: NetClass::AwsService,
    }
}

/// Operating system named in a user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
    Other,
}

/// A client family: the product token and the OS, without versions (`aws-cli|linux`). Versions
/// change with every upgrade; the family changes when a different program or machine calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub family: String,
    pub os: Os,
    /// The AWS console or a browser.
    pub console: bool,
}

impl Agent {
    /// A desktop client (macOS, Windows, a browser): not what a server workload runs.
    pub fn desktop(&self) -> bool {
        self.console || matches!(self.os, Os::MacOs | Os::Windows)
    }
}

pub fn agent(ua: Option<&str>) -> Agent {
    let ua = ua.unwrap_or("").trim();
    let lower = ua.to_ascii_lowercase();
    let console = crate::resolve::is_console_agent(ua) || lower.starts_with("mozilla/");
    let os = if lower.contains("darwin")
        || lower.contains("macos")
        || lower.contains("mac os")
        || lower.contains("os/macos")
    {
        Os::MacOs
    } else if lower.contains("windows") || lower.contains("win32") || lower.contains("win64") {
        Os::Windows
    } else if lower.contains("linux") {
        Os::Linux
    } else {
        Os::Other
    };
    let product = lower
        .trim_start_matches('[')
        .split(|c: char| c == '/' || c.is_whitespace() || c == '(' || c == ',')
        .next()
        .unwrap_or("")
        .to_string();
    let product = if console {
        "console".to_string()
    } else if product.is_empty() {
        "none".to_string()
    } else {
        product
    };
    let os_name = match os {
        Os::Linux => "linux",
        Os::MacOs => "macos",
        Os::Windows => "windows",
        Os::Other => "other",
    };
    Agent {
        family: format!("{product}|{os_name}"),
        os,
        console,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_bucketed() {
        let n = network(Some("203.0.113.45"));
        assert_eq!(
            (n.fine.as_str(), n.coarse.as_str(), n.class),
            ("203.0.113.0/24", "203.0.0.0/16", NetClass::Public)
        );
        assert_eq!(network(Some("10.1.2.3")).class, NetClass::Private);
        assert_eq!(
            network(Some("ec2.amazonaws.com")).class,
            NetClass::AwsService
        );
        assert_eq!(network(Some("2001:db8:1:2::5")).coarse, "2001:db8::/32");
        assert_eq!(network(None).class, NetClass::Unknown);
    }

    #[test]
    fn agent_families_ignore_versions() {
        let a = agent(Some(
            "aws-cli/2.15.1 Python/3.11.6 Linux/5.10 exe/x86_64.amzn.2",
        ));
        let b = agent(Some("aws-cli/2.17.0 Python/3.12.1 Linux/6.1 exe/x86_64"));
        assert_eq!(a.family, b.family);
        let mac = agent(Some(
            "[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.5]",
        ));
        assert_eq!(mac.family, "aws-cli|macos");
        assert!(mac.desktop());
        assert!(agent(Some("console.ec2.amazonaws.com")).console);
        assert_eq!(
            agent(Some("Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10")).family,
            "boto3|linux"
        );
    }
}
