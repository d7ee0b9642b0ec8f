//! Wildcard patterns as IAM and owners files write them: `*` matches any run of characters
//! (including none, and including `/` and `:`), `?` exactly one character; everything else
//! matches itself. No escaping, no character classes, no allocation, no regex. Matching is
//! linear in practice (greedy with one backtrack point), so a hostile pattern such as
//! `*a*a*a*b` cannot blow up.

/// Length in bytes of the UTF-8 character starting at byte `i` of `t` (1 for a stray byte).
fn char_len_at(t: &[u8], i: usize) -> usize {
    let len = match t.get(i) {
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(&b) if b >= 0xC0 => 2,
        _ => 1,
    };
    len.min(t.len().saturating_sub(i)).max(1)
}

/// Whether the whole of `text` matches `pattern`, ASCII case-insensitively (IAM action names
/// are case-insensitive; ARNs are compared the same way, which errs towards a match).
pub fn matches(pattern: &str, text: &str) -> bool {
    match_with(pattern, text, |a, b| a.eq_ignore_ascii_case(&b))
}

/// Whether the whole of `text` matches `pattern`, case-sensitively (owners-file globs).
pub fn matches_exact(pattern: &str, text: &str) -> bool {
    match_with(pattern, text, |a, b| a == b)
}

fn match_with(pattern: &str, text: &str, eq: impl Fn(u8, u8) -> bool) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    if p == b"*" {
        return true;
    }
    let (mut pi, mut ti) = (0usize, 0usize);
    // The last `*` seen: the pattern index just after it, and the text index it is tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len_at(t, ti);
            }
            Some(&pc) if t.get(ti).is_some_and(|&tc| eq(tc, pc)) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((after, at)) => {
                    let next = at + char_len_at(t, at);
                    pi = after;
                    ti = next;
                    star = Some((after, next));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}
