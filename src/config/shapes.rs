//! The shapes of AWS identifiers and sizes the inputs must have — region, node type, engine
//! version, EC2 ids, image reference, role ARN, bucket name, Fargate CPU/memory pairs — as pure
//! predicates, so that validation refuses a malformed value before any AWS call.

/// `<prefix>-` followed by 8 or 17 lowercase hex digits (EC2 ids).
pub(super) fn is_ec2_id(prefix: &str, v: &str) -> bool {
    v.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| {
            (h.len() == 8 || h.len() == 17)
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// AWS region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, …
pub(super) fn is_region(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// `cache.<family><generation>[<options>].<size>`, e.g. `cache.t4g.micro`, `cache.r7g.2xlarge`,
/// `cache.r6gd.xlarge`, `cache.m5.24xlarge`.
pub(super) fn is_node_type(v: &str) -> bool {
    let mut parts = v.split('.');
    let (Some("cache"), Some(class), Some(size), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let letters = class.bytes().take_while(u8::is_ascii_lowercase).count();
    let rest = &class[letters..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let size_ok = matches!(
        size,
        "micro" | "small" | "medium" | "large" | "xlarge" | "metal"
    ) || size
        .strip_suffix("xlarge")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    letters >= 1
        && digits >= 1
        && rest[digits..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && size_ok
}

/// Engine versions as ElastiCache names them: `7.1`, `8.0`, `7.2.6`, `6.x`.
pub(super) fn is_engine_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts.iter().enumerate().all(|(i, p)| {
            (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                || (i > 0 && *p == "x")
        })
}

/// The valid Fargate memory sizes (MiB) for a CPU size, or `None` for an invalid CPU size.
/// Source: the RegisterTaskDefinition `cpu`/`memory` table (shared docs/aws-notes.md §4.1).
pub fn fargate_memory_options(cpu: u32) -> Option<Vec<u32>> {
    let range = |lo: u32, hi: u32, step: usize| (lo..=hi).step_by(step).collect::<Vec<_>>();
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122_880, 8192),
        _ => return None,
    })
}

/// Whether an image reference is plausible: `[registry/]name[:tag][@sha256:…]`, no spaces.
pub(super) fn is_image(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 255
        && v.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b':' | b'@')
        })
        && !v.starts_with(['-', '/', ':', '@'])
}

/// A Secrets Manager secret ARN: `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`.
pub(super) fn is_secret_arn(v: &str) -> bool {
    let mut p = v.splitn(7, ':');
    let (
        Some("arn"),
        Some(part),
        Some("secretsmanager"),
        Some(region),
        Some(acct),
        Some("secret"),
        Some(name),
    ) = (
        p.next(),
        p.next(),
        p.next(),
        p.next(),
        p.next(),
        p.next(),
        p.next(),
    )
    else {
        return false;
    };
    part.starts_with("aws")
        && is_region(region)
        && acct.len() == 12
        && acct.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
}

/// IAM role ARN: `arn:<partition>:iam::<12 digits>:role/<path/name>`.
pub(super) fn is_role_arn(v: &str) -> bool {
    let mut p = v.splitn(6, ':');
    let (Some("arn"), Some(part), Some("iam"), Some(""), Some(acct), Some(res)) =
        (p.next(), p.next(), p.next(), p.next(), p.next(), p.next())
    else {
        return false;
    };
    part.starts_with("aws")
        && acct.len() == 12
        && acct.bytes().all(|b| b.is_ascii_digit())
        && res.strip_prefix("role/").is_some_and(|n| {
            !n.is_empty()
                && n.len() <= 576
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
        })
}

/// S3 bucket naming rules (general purpose buckets).
pub(super) fn bucket_problem(v: &str) -> Option<&'static str> {
    if !(3..=63).contains(&v.len()) {
        return Some("must be 3 to 63 characters long");
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some("must use only lowercase letters, digits, dots and hyphens");
    }
    let first_last_ok =
        |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !first_last_ok(v.bytes().next()) || !first_last_ok(v.bytes().last()) {
        return Some("must begin and end with a letter or digit");
    }
    if v.contains("..") || v.contains(".-") || v.contains("-.") {
        return Some("must not have two dots in a row or a dot next to a hyphen");
    }
    if v.split('.').count() == 4 && v.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Some("must not look like an IP address");
    }
    if v.starts_with("xn--") || v.starts_with("sthree-") || v.ends_with("-s3alias") {
        return Some("must not use a prefix or suffix S3 reserves (xn--, sthree-, -s3alias)");
    }
    None
}
