//! IAM wildcard patterns: `*` matches any run of characters (including none), `?` exactly one
//! character. Matching is ASCII case-insensitive (IAM action names are case-insensitive; ARNs
//! are compared the same way, which errs towards a match). No allocation, no regex.

pub(crate) use tripline_model::glob::matches;

fn has_wildcard(s: &str) -> bool {
    s.bytes().any(|b| b == b'*' || b == b'?')
}

/// Whether every string `inner` matches also matches `outer` (`outer` ⊇ `inner`).
///
/// Exact when `inner` has no wildcard; otherwise a sound approximation: `inner` is read as a
/// text whose `*` can only be absorbed by a `*` of `outer` and whose `?` by a `?` or `*`.
/// It may answer `false` for some exotic pairs that are in fact included (never the reverse),
/// which errs towards "not covered".
pub(crate) fn covers(outer: &str, inner: &str) -> bool {
    if outer == "*" {
        return true;
    }
    if !has_wildcard(inner) {
        return matches(outer, inner);
    }
    let p = outer.as_bytes();
    let t = inner.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        let step = match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(b'?') => tc != b'*',
            Some(pc) => tc != b'*' && tc != b'?' && pc.eq_ignore_ascii_case(&tc),
            None => false,
        };
        if step {
            pi += 1;
            ti += 1;
        } else if let Some((after, at)) = star {
            pi = after;
            ti = at + 1;
            star = Some((after, at + 1));
        } else {
            return false;
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Whether some string matches both patterns.
pub(crate) fn intersects(a: &str, b: &str) -> bool {
    if a == "*" || b == "*" {
        return true;
    }
    match (has_wildcard(a), has_wildcard(b)) {
        (false, false) => return a.eq_ignore_ascii_case(b),
        (true, false) => return matches(a, b),
        (false, true) => return matches(b, a),
        (true, true) => {}
    }
    let a = a.as_bytes();
    let b = b.as_bytes();
    let (n, m) = (a.len(), b.len());
    let width = m + 1;
    let mut seen = vec![false; (n + 1) * width];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        let Some(slot) = seen.get_mut(i * width + j) else {
            continue;
        };
        if *slot {
            continue;
        }
        *slot = true;
        if i == n && j == m {
            return true;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        match (ca, cb) {
            (Some(b'*'), Some(b'*')) => {
                stack.push((i + 1, j));
                stack.push((i, j + 1));
            }
            (Some(b'*'), other) => {
                stack.push((i + 1, j));
                if other.is_some() {
                    // The star of `a` absorbs the character `b` produces.
                    stack.push((i, j + 1));
                }
            }
            (other, Some(b'*')) => {
                stack.push((i, j + 1));
                if other.is_some() {
                    stack.push((i + 1, j));
                }
            }
            (Some(x), Some(y)) if x == b'?' || y == b'?' || x.eq_ignore_ascii_case(&y) => {
                stack.push((i + 1, j + 1));
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(matches("iam:Create*", "IAM:CREATEUSER"));
        assert!(matches("s3:Get*Object", "s3:GetObject"));
        assert!(matches("s3:Get*Object", "s3:GetLegacyObject"));
        assert!(!matches("s3:Get*Object", "s3:GetObjectAcl"));
        assert!(matches("s3:?etObject", "s3:getobject"));
        assert!(!matches("s3:?etObject", "s3:etObject"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
        assert!(matches("é?", "éü"));
        assert!(matches("*:*", "iam:passrole"));
        assert!(!matches("", "x"));
        assert!(matches("", ""));
    }

    #[test]
    fn covering() {
        assert!(covers("*", "iam:*"));
        assert!(covers("iam:*", "iam:Create*"));
        assert!(covers("IAM:*", "iam:passrole"));
        assert!(!covers("iam:Create*", "iam:*"));
        assert!(covers("*a*", "a*"));
        assert!(!covers("a?", "a*"));
        assert!(covers("s3:*", "s3:Get?bject"));
        assert!(!covers("s3:Get*", "s3:?et*"));
        assert!(covers("*:*", "*:Get*"));
    }

    #[test]
    fn intersecting() {
        assert!(intersects("iam:*", "*:PassRole"));
        assert!(!intersects("iam:*", "s3:*"));
        assert!(intersects("iam:Pass*", "iam:*Role"));
        assert!(!intersects("iam:Pass*", "iam:Create*"));
        assert!(intersects("s3:Get*", "S3:GET?BJECT"));
        assert!(intersects("*:Get*", "ec2:*"));
        assert!(!intersects("a?c", "a*d"));
        assert!(intersects("a?c*", "*bc"));
    }
}
