//! A minimal glob matcher for owners-file patterns.
//!
//! `*` matches any run of characters, including none and including `/` and `:` (so
//! `arn:aws:iam::*:role/ci-*` spans accounts and role paths); `?` matches exactly one
//! character. Everything else matches itself, case-sensitively. The matcher is
//! [`tripline_model::glob`], shared with IAM pattern matching (which ignores case).

/// Whether `pattern` contains a wildcard (`*` or `?`).
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// The number of literal (non-wildcard) characters: how specific a glob is.
pub fn literal_len(pattern: &str) -> usize {
    pattern.chars().filter(|c| !matches!(c, '*' | '?')).count()
}

/// Whether `text` matches `pattern` as a whole (case-sensitively).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    tripline_model::glob::matches_exact(pattern, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_edge_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("*", "anything/at:all", true),
            ("**", "", true),
            ("?", "", false),
            ("?", "a", true),
            ("?", "ab", false),
            ("?", "é", true),
            ("a*", "a", true),
            ("*a", "a", true),
            ("a*b", "ab", true),
            ("a*b", "a/x:y/b", true),
            ("a*b", "a/x:y/bc", false),
            ("a*b*c", "abbbc", true),
            ("a*b*c", "acb", false),
            ("*.*", "no-dot", false),
            ("ci-???", "ci-abc", true),
            ("ci-???", "ci-ab", false),
            ("Role", "role", false),
            (
                "*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            (
                "arn:aws:iam::*:role/ci-*",
                "arn:aws:iam::012345678901:role/ci-deploy",
                true,
            ),
            (
                "arn:aws:iam::*:role/ci-*",
                "arn:aws:iam::012345678901:role/path/ci-deploy",
                false,
            ),
            (
                "arn:aws:iam::*:role/*ci-*",
                "arn:aws:iam::012345678901:role/path/ci-deploy",
                true,
            ),
            (
                "arn:aws:iam::*:role/ci-*",
                "arn:aws:iam::012345678901:user/ci-deploy",
                false,
            ),
            // `*` and `?` in the text are ordinary characters.
            ("a?c", "a*c", true),
            ("abc", "a*c", false),
        ];
        for &(pattern, text, want) in cases {
            assert_eq!(
                glob_match(pattern, text),
                want,
                "glob {pattern:?} on {text:?}"
            );
        }
    }

    #[test]
    fn specificity_counts_literal_characters() {
        assert_eq!(literal_len("arn:aws:iam::*:role/ci-*"), 22);
        assert_eq!(literal_len("*"), 0);
        assert_eq!(literal_len("ci-???"), 3);
        assert!(is_glob("ci-?"));
        assert!(!is_glob("ci-deploy"));
    }
}
