//! The owners file: who owns an identity, what it is for, where it runs.
//!
//! YAML:
//! ```yaml
//! owners:
//!   - match: "arn:aws:iam::*:role/ci-*"   # ARN glob, exact ARN, plain name, or name glob
//!     owner: platform@example.com
//!     class: ci_cd                        # see IdentityClass
//!     environment: prod
//!     kind: workload_identity             # optional, see IdentityKind
//!     intent: "deploy services"           # optional
//! ```
//! TOML: `[[owners]]` tables with the same keys. The format follows the extension (`.yaml`,
//! `.yml`, `.json` → YAML; `.toml` → TOML), else it is sniffed. Unknown keys are errors, and
//! so are an unknown class or kind (the message names the entry and the allowed values), an
//! empty `match`, and an entry that sets nothing.
//!
//! Matching: a pattern containing `:` is matched against the identity id (an ARN, or
//! `system:serviceaccount:<ns>:<name>`); any other pattern against the identity name. `*` and
//! `?` make it a glob (see [`super::glob`]); otherwise it must be equal. Case-sensitive. When
//! several entries match, the most specific wins: an exact id, then an exact name, then the
//! glob with the most literal characters; on a tie, the first in the file.

use super::glob::{glob_match, is_glob, literal_len};
use super::{InventoryError, MAX_OWNERS_BYTES};
use serde::Deserialize;
use std::collections::HashMap;
use tripline_model::{Identity, IdentityClass, IdentityKind, Provenance};

/// The syntax of an owners file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnersFormat {
    Yaml,
    Toml,
}

impl OwnersFormat {
    /// From the file extension; `None` when it says nothing.
    pub fn from_path(origin: &str) -> Option<Self> {
        let ext = std::path::Path::new(origin)
            .extension()?
            .to_str()?
            .to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" | "json" => Some(Self::Yaml),
            "toml" => Some(Self::Toml),
            _ => None,
        }
    }

    /// From the content: TOML when the first meaningful line is a table header or `key = …`.
    pub fn sniff(text: &str) -> Self {
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        let toml_key = first.split_once('=').is_some_and(|(k, _)| {
            !k.trim().is_empty() && !k.contains(':') && !k.trim_start().starts_with('-')
        });
        if (first.starts_with('[') && !first.starts_with("[{")) || toml_key {
            Self::Toml
        } else {
            Self::Yaml
        }
    }
}

/// What the pattern is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchTarget {
    /// The identity id (the pattern contains `:`).
    Id,
    /// The identity name.
    Name,
}

/// One validated entry of the owners file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRule {
    /// 1-based position in the file.
    pub entry: usize,
    pub pattern: String,
    pub target: MatchTarget,
    pub glob: bool,
    pub owner: Option<String>,
    pub class: Option<IdentityClass>,
    pub environment: Option<String>,
    pub kind: Option<IdentityKind>,
    pub intent: Option<String>,
}

impl OwnerRule {
    /// Whether this rule matches the identity with this id and name.
    pub fn matches(&self, id: &str, name: &str) -> bool {
        let subject = match self.target {
            MatchTarget::Id => id,
            MatchTarget::Name => name,
        };
        if self.glob {
            glob_match(&self.pattern, subject)
        } else {
            self.pattern == subject
        }
    }

    /// Higher is more specific: (exact id 3 / exact name 2 / glob 1, literal characters).
    fn specificity(&self) -> (u8, usize) {
        match (self.glob, self.target) {
            (false, MatchTarget::Id) => (3, 0),
            (false, MatchTarget::Name) => (2, 0),
            (true, _) => (1, literal_len(&self.pattern)),
        }
    }
}

/// A parsed, validated owners file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnersFile {
    pub origin: String,
    pub rules: Vec<OwnerRule>,
    /// Exact patterns → first rule index.
    exact_ids: HashMap<String, usize>,
    exact_names: HashMap<String, usize>,
    /// Rule indexes of globs by target and literal prefix (the text before the first `*` or
    /// `?`), so a lookup tries only the globs whose prefix the subject starts with: it scales
    /// with identities + globs, not their product (1e4 globs × 1e5 identities took ~250 s).
    globs: GlobIndex,
}

/// Globs bucketed by literal prefix, for one match target each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct GlobIndex {
    by_prefix: [HashMap<String, Vec<usize>>; 2],
    /// Distinct prefix lengths (bytes) per target, ascending.
    lengths: [Vec<usize>; 2],
}

impl GlobIndex {
    fn slot(target: MatchTarget) -> usize {
        match target {
            MatchTarget::Id => 0,
            MatchTarget::Name => 1,
        }
    }

    fn insert(&mut self, target: MatchTarget, pattern: &str, index: usize) {
        let slot = Self::slot(target);
        let prefix = pattern
            .find(['*', '?'])
            .and_then(|at| pattern.get(..at))
            .unwrap_or(pattern);
        if let (Some(map), Some(lengths)) =
            (self.by_prefix.get_mut(slot), self.lengths.get_mut(slot))
        {
            map.entry(prefix.to_string()).or_default().push(index);
            if let Err(at) = lengths.binary_search(&prefix.len()) {
                lengths.insert(at, prefix.len());
            }
        }
    }

    /// Rule indexes (ascending: file order) of the globs whose prefix `subject` starts with.
    fn candidates(&self, target: MatchTarget, subject: &str, out: &mut Vec<usize>) {
        let slot = Self::slot(target);
        let (Some(map), Some(lengths)) = (self.by_prefix.get(slot), self.lengths.get(slot)) else {
            return;
        };
        for &len in lengths.iter().take_while(|&&l| l <= subject.len()) {
            if let Some(rules) = subject.get(..len).and_then(|p| map.get(p)) {
                out.extend_from_slice(rules);
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    owners: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "match")]
    pattern: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    intent: Option<String>,
}

const KINDS: [IdentityKind; 7] = [
    IdentityKind::ServiceAccount,
    IdentityKind::ApiKey,
    IdentityKind::WorkloadIdentity,
    IdentityKind::AiAgent,
    IdentityKind::CloudService,
    IdentityKind::Human,
    IdentityKind::Root,
];

/// Deepest nesting accepted in an owners file (flow brackets or indentation levels): the
/// format needs three, and a deeply nested 200 KB file took the YAML parser 21.7 s.
pub const MAX_OWNERS_DEPTH: usize = 32;

/// `Some(depth)` when `text` nests deeper than `cap`: open `[`/`{` outside quotes and
/// comments, or block indentation (counted in steps of two spaces, each `- ` one level).
fn nesting_over(text: &str, cap: usize) -> Option<usize> {
    let mut flow = 0usize;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if indent / 2 > cap {
            return Some(indent / 2);
        }
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow > cap {
                        return Some(flow);
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

impl OwnersFile {
    /// Parses an owners file, YAML or TOML by extension or by content, capped at
    /// [`MAX_OWNERS_BYTES`].
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, InventoryError> {
        Self::parse_with_cap(bytes, origin, MAX_OWNERS_BYTES)
    }

    pub fn parse_with_cap(
        bytes: &[u8],
        origin: &str,
        max_bytes: usize,
    ) -> Result<Self, InventoryError> {
        if bytes.len() > max_bytes {
            return Err(InventoryError::TooLarge {
                origin: origin.to_string(),
                len: bytes.len(),
                cap: max_bytes,
            });
        }
        let text =
            std::str::from_utf8(super::strip_bom(bytes)).map_err(|e| InventoryError::NotUtf8 {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
        let format = OwnersFormat::from_path(origin).unwrap_or_else(|| OwnersFormat::sniff(text));
        Self::parse_str(text, origin, format)
    }

    /// Parses owners text in the given syntax.
    pub fn parse_str(
        text: &str,
        origin: &str,
        format: OwnersFormat,
    ) -> Result<Self, InventoryError> {
        let syntax = |message: String| InventoryError::OwnersSyntax {
            origin: origin.to_string(),
            message,
        };
        if let Some(depth) = nesting_over(text, MAX_OWNERS_DEPTH) {
            return Err(syntax(format!(
                "nested {depth} levels deep, over the cap of {MAX_OWNERS_DEPTH} (an owners file needs 3)"
            )));
        }
        let raw: RawFile = match format {
            OwnersFormat::Yaml => {
                serde_norway::from_str(text).map_err(|e| syntax(format!("yaml: {e}")))?
            }
            OwnersFormat::Toml => toml::from_str(text)
                .map_err(|e| syntax(format!("toml: {}", e.to_string().trim_end())))?,
        };
        Self::validate(raw, origin)
    }

    fn validate(raw: RawFile, origin: &str) -> Result<Self, InventoryError> {
        let mut file = OwnersFile {
            origin: origin.to_string(),
            ..Self::default()
        };
        for (i, r) in raw.owners.into_iter().enumerate() {
            let entry = i + 1;
            let invalid = |message: String| InventoryError::OwnersInvalid {
                origin: origin.to_string(),
                entry,
                pattern: r.pattern.clone(),
                message,
            };
            let pattern = r.pattern.trim().to_string();
            if pattern.is_empty() {
                return Err(invalid("match is empty".into()));
            }
            let class = match r.class.as_deref() {
                None => None,
                Some(c) => Some(IdentityClass::parse(c).ok_or_else(|| {
                    let allowed: Vec<&str> =
                        IdentityClass::ALL.iter().map(|c| c.as_str()).collect();
                    invalid(format!(
                        "unknown class {c:?}; expected one of {}",
                        allowed.join(", ")
                    ))
                })?),
            };
            let kind = match r.kind.as_deref() {
                None => None,
                Some(k) => Some(IdentityKind::parse(k).ok_or_else(|| {
                    let allowed: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
                    invalid(format!(
                        "unknown kind {k:?}; expected one of {}",
                        allowed.join(", ")
                    ))
                })?),
            };
            let text = |field: &str, v: Option<String>| -> Result<Option<String>, InventoryError> {
                match v.map(|s| s.trim().to_string()) {
                    Some(s) if s.is_empty() => Err(invalid(format!("{field} is empty"))),
                    other => Ok(other),
                }
            };
            let owner = text("owner", r.owner.clone())?;
            let environment = text("environment", r.environment.clone())?;
            let intent = text("intent", r.intent.clone())?;
            if owner.is_none()
                && class.is_none()
                && environment.is_none()
                && kind.is_none()
                && intent.is_none()
            {
                return Err(invalid(
                    "sets nothing; give at least one of owner, class, environment, kind, intent"
                        .into(),
                ));
            }
            let target = if pattern.contains(':') {
                MatchTarget::Id
            } else {
                MatchTarget::Name
            };
            let glob = is_glob(&pattern);
            let index = file.rules.len();
            match (glob, target) {
                (true, _) => file.globs.insert(target, &pattern, index),
                (false, MatchTarget::Id) => {
                    file.exact_ids.entry(pattern.clone()).or_insert(index);
                }
                (false, MatchTarget::Name) => {
                    file.exact_names.entry(pattern.clone()).or_insert(index);
                }
            }
            file.rules.push(OwnerRule {
                entry,
                pattern,
                target,
                glob,
                owner,
                class,
                environment,
                kind,
                intent,
            });
        }
        Ok(file)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The most specific rule matching this id and name (exact id > exact name > longest glob
    /// literal; ties → first in the file).
    pub fn lookup(&self, id: &str, name: &str) -> Option<&OwnerRule> {
        if let Some(rule) = self.exact_ids.get(id).and_then(|&i| self.rules.get(i)) {
            return Some(rule);
        }
        if let Some(rule) = self.exact_names.get(name).and_then(|&i| self.rules.get(i)) {
            return Some(rule);
        }
        let mut candidates = Vec::new();
        self.globs.candidates(MatchTarget::Id, id, &mut candidates);
        self.globs
            .candidates(MatchTarget::Name, name, &mut candidates);
        candidates.sort_unstable();
        let mut best: Option<&OwnerRule> = None;
        for rule in candidates.iter().filter_map(|&i| self.rules.get(i)) {
            let better = match best {
                Some(b) => rule.specificity() > b.specificity(),
                None => true,
            };
            if better && rule.matches(id, name) {
                best = Some(rule);
            }
        }
        best
    }

    /// Sets owner, class, environment, kind and intent from the matching rule (only the fields
    /// it gives); class and kind get [`Provenance::OwnersFile`]. Returns the rule applied.
    pub fn apply(&self, identity: &mut Identity) -> Option<&OwnerRule> {
        let rule = self.lookup(&identity.id, &identity.name)?;
        if let Some(owner) = &rule.owner {
            identity.owner = Some(owner.clone());
        }
        if let Some(class) = rule.class {
            identity.class = class;
            identity.class_from = Provenance::OwnersFile;
        }
        if let Some(env) = &rule.environment {
            identity.environment = Some(env.clone());
        }
        if let Some(kind) = rule.kind {
            identity.kind = kind;
            identity.kind_from = Provenance::OwnersFile;
        }
        if let Some(intent) = &rule.intent {
            identity.intent = Some(intent.clone());
        }
        Some(rule)
    }

    /// [`Self::apply`] to each identity; returns how many matched a rule.
    pub fn apply_all(&self, identities: &mut [Identity]) -> usize {
        identities
            .iter_mut()
            .filter_map(|i| self.apply(i).map(|_| ()))
            .count()
    }
}

#[cfg(test)]
mod tests;
