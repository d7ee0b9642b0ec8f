//! Address pools and user agents that make the simulated traffic look like real traffic.
//!
//! Providers are shared between benign and hostile use: partners run on the same hosting
//! companies an intruder rents from, so a provider alone never gives an incident away.

use crate::rng::{ip, Rng};

/// /16 prefixes of public ranges, grouped by who typically announces them.
pub(crate) const AWS_US_EAST_1: &[(u8, u8)] = &[
    (3, 213),
    (3, 226),
    (18, 204),
    (18, 209),
    (34, 192),
    (44, 194),
    (52, 0),
    (54, 80),
    (54, 152),
];
pub(crate) const AWS_US_WEST_2: &[(u8, u8)] =
    &[(34, 208), (35, 80), (44, 224), (52, 10), (54, 184)];
pub(crate) const AWS_EU_WEST_1: &[(u8, u8)] = &[(34, 240), (34, 246), (52, 16), (54, 72), (63, 32)];
pub(crate) const AWS_EU_CENTRAL_1: &[(u8, u8)] =
    &[(3, 64), (3, 120), (18, 156), (18, 184), (52, 28)];
pub(crate) const AZURE: &[(u8, u8)] = &[
    (20, 57),
    (20, 84),
    (20, 102),
    (20, 172),
    (40, 70),
    (52, 234),
    (13, 64),
    (4, 148),
];
pub(crate) const GCP: &[(u8, u8)] = &[(34, 23), (34, 72), (35, 188), (35, 196), (35, 224)];
pub(crate) const HETZNER: &[(u8, u8)] = &[(5, 9), (88, 198), (95, 216), (135, 181), (65, 108)];
pub(crate) const DIGITALOCEAN: &[(u8, u8)] = &[
    (104, 248),
    (134, 209),
    (138, 68),
    (159, 89),
    (161, 35),
    (165, 227),
    (167, 99),
    (178, 62),
];
pub(crate) const VULTR: &[(u8, u8)] =
    &[(45, 32), (45, 63), (45, 76), (66, 42), (108, 61), (149, 28)];
pub(crate) const OVH: &[(u8, u8)] = &[(51, 38), (51, 68), (51, 77), (54, 36), (137, 74), (141, 94)];
pub(crate) const LINODE: &[(u8, u8)] = &[(45, 33), (45, 79), (139, 162), (172, 104), (172, 105)];
pub(crate) const BUSINESS_ISP: &[(u8, u8)] = &[
    (38, 104),
    (38, 140),
    (50, 204),
    (64, 125),
    (65, 154),
    (70, 42),
    (96, 88),
    (208, 80),
];
pub(crate) const RESIDENTIAL: &[(u8, u8)] = &[
    (24, 18),
    (67, 180),
    (73, 93),
    (76, 102),
    (98, 207),
    (174, 62),
    (81, 107),
    (86, 14),
];
pub(crate) const VPN: &[(u8, u8)] = &[
    (37, 120),
    (89, 187),
    (146, 70),
    (185, 195),
    (193, 176),
    (194, 110),
];

pub(crate) fn aws_prefixes(region: &str) -> &'static [(u8, u8)] {
    match region {
        "us-west-2" => AWS_US_WEST_2,
        "eu-west-1" => AWS_EU_WEST_1,
        "eu-central-1" => AWS_EU_CENTRAL_1,
        _ => AWS_US_EAST_1,
    }
}

/// A host address in one of the given /16s (avoiding .0 and .255).
pub(crate) fn host_in(rng: &mut Rng, prefixes: &[(u8, u8)]) -> u32 {
    let (a, b) = prefixes
        .get(rng.index(prefixes.len()))
        .copied()
        .unwrap_or((52, 0));
    ip(a, b, rng.range(0, 255) as u8, rng.range(1, 254) as u8)
}

/// `n` addresses from one small block (a /27 in one of the prefixes): a fixed egress range.
pub(crate) fn block_in(rng: &mut Rng, prefixes: &[(u8, u8)], n: usize) -> Vec<u32> {
    let base = host_in(rng, prefixes) & 0xFFFF_FFE0;
    let mut out: Vec<u32> = Vec::with_capacity(n);
    while out.len() < n {
        let a = base + rng.range(1, 30) as u32;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Picks a version string `major.minor.patch` inside the given bounds.
fn ver(rng: &mut Rng, major: u32, minor: (i64, i64), patch: (i64, i64)) -> String {
    format!(
        "{major}.{}.{}",
        rng.range(minor.0, minor.1),
        rng.range(patch.0, patch.1)
    )
}

fn amzn_kernel(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!(
            "5.10.{}-{}.{}.amzn2.x86_64",
            rng.range(210, 228),
            rng.range(200, 220),
            rng.range(800, 900)
        ),
        1 => format!(
            "6.1.{}-{}.{}.amzn2023.x86_64",
            rng.range(90, 115),
            rng.range(120, 160),
            rng.range(200, 230)
        ),
        _ => format!(
            "5.10.{}-{}.{}.amzn2.aarch64",
            rng.range(210, 228),
            rng.range(200, 220),
            rng.range(800, 900)
        ),
    }
}

/// Families of user agents the simulated software sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UaKind {
    Boto3,
    Boto3Lambda,
    GoV2,
    GoV1,
    Java2,
    Java1,
    Node3,
    GithubAction,
    CliLinux,
    CliMac,
    CliWindows,
    Terraform,
    Datadog,
    CwAgent,
    SsmAgent,
    Kubectl,
}

/// A user agent; `cli` marks aws-cli strings, which carry the command they ran.
#[derive(Debug, Clone)]
pub(crate) struct UserAgent {
    pub text: String,
    pub cli: bool,
}

pub(crate) fn user_agent(rng: &mut Rng, kind: UaKind, arch_hint: &str) -> UserAgent {
    let arch = if arch_hint.is_empty() {
        "x86_64"
    } else {
        arch_hint
    };
    let text = match kind {
        UaKind::Boto3 | UaKind::Boto3Lambda => {
            let v = ver(rng, 1, (34, 35), (10, 90));
            let py = format!("3.{}.{}", rng.range(10, 12), rng.range(1, 9));
            let env = match (kind, rng.below(3)) {
                (UaKind::Boto3Lambda, _) => format!(" exec-env/AWS_Lambda_python{}", py.rsplit_once('.').map_or(py.as_str(), |(a, _)| a)),
                (_, 0) => " exec-env/AWS_ECS_FARGATE".to_string(),
                _ => String::new(),
            };
            format!(
                "Boto3/{v} md/Botocore#{v} ua/2.0 os/linux#{} md/arch#{arch} lang/python#{py} md/pyimpl#CPython{env} cfg/retry-mode#{} Botocore/{v}",
                amzn_kernel(rng),
                if rng.chance(0.5) { "legacy" } else { "standard" }
            )
        }
        UaKind::GoV2 => format!(
            "aws-sdk-go-v2/1.{}.{} os/linux lang/go#1.{}.{} md/GOOS#linux md/GOARCH#{}",
            rng.range(24, 32),
            rng.range(0, 9),
            rng.range(21, 23),
            rng.range(1, 9),
            if arch == "aarch64" { "arm64" } else { "amd64" },
        ),
        UaKind::GoV1 => format!(
            "aws-sdk-go/1.{}.{} (go1.{}.{}; linux; amd64)",
            rng.range(44, 55),
            rng.range(1, 340),
            rng.range(19, 22),
            rng.range(1, 12)
        ),
        UaKind::Java2 => format!(
            "aws-sdk-java/2.{}.{} Linux/{} OpenJDK_64-Bit_Server_VM/17.0.{}+{}-LTS Java/17.0.{} vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
            rng.range(21, 29),
            rng.range(1, 30),
            amzn_kernel(rng),
            rng.range(8, 12),
            rng.range(5, 9),
            rng.range(8, 12)
        ),
        UaKind::Java1 => format!(
            "aws-sdk-java/1.12.{} Linux/{} OpenJDK_64-Bit_Server_VM/11.0.{}+{}-LTS java/11.0.{} vendor/Eclipse_Adoptium cfg/retry-mode/standard",
            rng.range(400, 780),
            amzn_kernel(rng),
            rng.range(18, 24),
            rng.range(5, 9),
            rng.range(18, 24)
        ),
        UaKind::Node3 => {
            let v = format!("3.{}.0", rng.range(450, 700));
            format!(
                "aws-sdk-js/{v} ua/2.1 os/linux#{} lang/js md/nodejs#20.{}.{} api/dynamodb#{v}",
                amzn_kernel(rng),
                rng.range(10, 18),
                rng.range(0, 3)
            )
        }
        UaKind::GithubAction => {
            let v = format!("3.{}.0", rng.range(520, 700));
            format!(
                "aws-sdk-js/{v} ua/2.1 os/linux#6.5.0-10{}-azure lang/js md/nodejs#20.{}.{} api/sts#{v} configure-aws-credentials-for-github-actions",
                rng.range(16, 30),
                rng.range(10, 18),
                rng.range(0, 3)
            )
        }
        UaKind::CliLinux => format!(
            "aws-cli/2.{}.{} md/awscrt#0.{}.{} ua/2.0 os/linux#{} md/arch#{arch} lang/python#3.11.{} md/pyimpl#CPython exe/{arch}.{} prompt/off",
            rng.range(13, 22),
            rng.range(1, 40),
            rng.range(19, 23),
            rng.range(1, 19),
            if arch_hint == "azure" { format!("6.5.0-10{}-azure", rng.range(16, 30)) } else { amzn_kernel(rng) },
            rng.range(6, 9),
            if rng.chance(0.5) { "ubuntu.22" } else { "amzn.2023" }
        ),
        UaKind::CliMac => format!(
            "aws-cli/2.{}.{} md/awscrt#0.{}.{} ua/2.0 os/macos#23.{}.0 md/arch#arm64 lang/python#3.11.{} md/pyimpl#CPython exe/arm64 prompt/off",
            rng.range(13, 22),
            rng.range(1, 40),
            rng.range(19, 23),
            rng.range(1, 19),
            rng.range(1, 6),
            rng.range(6, 9)
        ),
        UaKind::CliWindows => format!(
            "aws-cli/2.{}.{} md/awscrt#0.{}.{} ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.11.{} md/pyimpl#CPython exe/AMD64 prompt/off",
            rng.range(13, 22),
            rng.range(1, 40),
            rng.range(19, 23),
            rng.range(1, 19),
            rng.range(6, 9)
        ),
        UaKind::Terraform => {
            let sdk = format!("1.{}.{}", rng.range(24, 32), rng.range(0, 9));
            format!(
                "APN/1.0 HashiCorp/1.0 Terraform/1.{}.{} (+https://www.terraform.io) terraform-provider-aws/5.{}.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/{sdk} ua/2.0 os/linux lang/go#1.22.{} md/GOOS#linux md/GOARCH#amd64",
                rng.range(6, 9),
                rng.range(0, 6),
                rng.range(40, 80),
                rng.range(1, 9)
            )
        }
        UaKind::Datadog => format!(
            "Datadog/1.0 aws-sdk-go/1.{}.{} (go1.{}.{}; linux; amd64)",
            rng.range(48, 55),
            rng.range(1, 300),
            rng.range(21, 22),
            rng.range(1, 9)
        ),
        UaKind::CwAgent => format!(
            "CWAgent/1.300{}.{}b{} (go1.{}.{}; linux; amd64) inputs:(cpu disk mem net) outputs:(cloudwatch cloudwatchlogs)",
            rng.range(32, 48),
            rng.range(0, 2),
            rng.range(100, 900),
            rng.range(21, 22),
            rng.range(1, 9)
        ),
        UaKind::SsmAgent => format!(
            "aws-sdk-go/1.{}.{} (go1.{}.{}; linux; amd64) amazon-ssm-agent/3.3.{}.0",
            rng.range(44, 50),
            rng.range(1, 300),
            rng.range(20, 22),
            rng.range(1, 9),
            rng.range(40, 1500)
        ),
        UaKind::Kubectl => {
            let minor = rng.range(27, 31);
            format!("kubectl/v1.{minor}.{} (linux/amd64) kubernetes/{}", rng.range(1, 9), rng.hex(7))
        }
    };
    let cli = matches!(kind, UaKind::CliLinux | UaKind::CliMac | UaKind::CliWindows);
    UserAgent { text, cli }
}

/// The aws-cli `command/<service>.<operation>` suffix for an event name.
pub(crate) fn cli_command(svc: &str, event_name: &str) -> String {
    let svc = match svc {
        "monitoring" => "cloudwatch",
        "tagging" => "resourcegroupstaggingapi",
        "s3" => "s3api",
        other => other,
    };
    let trimmed = event_name
        .find(|c: char| c.is_ascii_digit())
        .map_or(event_name, |i| event_name.get(..i).unwrap_or(event_name));
    let mut op = String::with_capacity(trimmed.len() + 4);
    let bytes: Vec<char> = trimmed.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && bytes.get(i - 1).is_some_and(|p| p.is_ascii_lowercase());
            let next_lower = bytes.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && bytes.get(i - 1).is_some_and(|p| p.is_ascii_uppercase());
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                op.push('-');
            }
            op.push(c.to_ascii_lowercase());
        } else {
            op.push(*c);
        }
    }
    format!("{svc}.{op}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_commands_are_kebab_case() {
        assert_eq!(cli_command("s3", "ListBuckets"), "s3api.list-buckets");
        assert_eq!(cli_command("iam", "ListMFADevices"), "iam.list-mfa-devices");
        assert_eq!(
            cli_command("lambda", "CreateFunction20150331"),
            "lambda.create-function"
        );
        assert_eq!(
            cli_command("sts", "GetCallerIdentity"),
            "sts.get-caller-identity"
        );
    }
}
