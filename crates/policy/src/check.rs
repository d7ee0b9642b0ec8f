//! Load-time reference check.
//!
//! Rego treats a reference to a missing field as undefined, and an undefined expression as false:
//! `input.scroe > 50` never fires and nothing says so. This module scans policy text for
//! references into `input` (checked against [`INPUT_SCHEMA`](crate::input)) and into the data
//! document's top-level keys (checked against the loaded data), following simple aliases:
//!
//! - `some s in input.signals` / `some i, s in …` / `every s in …` bind `s` to an element;
//! - `x := <reference>` / `x = <reference>` (a whole expression that is only a reference,
//!   including rule heads such as `cfg := data.escalation`) bind `x` to that node.
//!
//! An alias bound in two places to different nodes, or also bound to anything else (a function
//! parameter, a computed value), is ambiguous and not followed: the check never guesses. Dynamic
//! lookups (`input.signals[i]`, `cfg.thresholds[class]`) stop the walk into objects but step into
//! array elements.

use crate::error::UnknownField;
use crate::input::{Shape, INPUT_SCHEMA};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    /// First token on its line.
    line_start: bool,
}

const PUNCTS: [&str; 20] = [
    ":=", "==", "!=", "<=", ">=", ".", "[", "]", "(", ")", "{", "}", ",", ";", "|", "=", "<", ">",
    ":", "&",
];

fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut last_line = 0;
    let mut push = |tok: Tok, line: usize, out: &mut Vec<Token>| {
        let line_start = line != last_line;
        last_line = line;
        out.push(Token {
            tok,
            line,
            line_start,
        });
    };
    while let Some(&c) = chars.get(i) {
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => {
                while chars.get(i).is_some_and(|c| *c != '\n') {
                    i += 1;
                }
            }
            '"' => {
                let start_line = line;
                let mut s = String::new();
                i += 1;
                while let Some(&c) = chars.get(i) {
                    match c {
                        '\\' => {
                            if let Some(&n) = chars.get(i + 1) {
                                s.push(n);
                            }
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\n' => {
                            line += 1;
                            i += 1;
                        }
                        c => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                push(Tok::Str(s), start_line, &mut out);
            }
            '`' => {
                let start_line = line;
                let mut s = String::new();
                i += 1;
                while let Some(&c) = chars.get(i) {
                    i += 1;
                    if c == '`' {
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                    }
                    s.push(c);
                }
                push(Tok::Str(s), start_line, &mut out);
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut s = String::new();
                while let Some(&c) = chars.get(i) {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        s.push(c);
                        i += 1;
                    } else {
                        break;
                    }
                }
                push(Tok::Ident(s), line, &mut out);
            }
            c if c.is_ascii_digit() => {
                let begin = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                    || (chars.get(i) == Some(&'.')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit))
                {
                    i += 1;
                }
                let text: String = chars.get(begin..i).unwrap_or_default().iter().collect();
                push(Tok::Num(text), line, &mut out);
            }
            _ => {
                let two: String = chars.iter().skip(i).take(2).collect();
                let p = PUNCTS
                    .iter()
                    .find(|p| p.len() == 2 && **p == two)
                    .or_else(|| PUNCTS.iter().find(|p| p.len() == 1 && p.starts_with(c)))
                    .copied();
                match p {
                    Some(p) => {
                        i += p.len();
                        push(Tok::Punct(p), line, &mut out);
                    }
                    None => {
                        i += 1;
                        push(Tok::Punct("?"), line, &mut out);
                    }
                }
            }
        }
    }
    out
}

/// A step of a reference path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Field(String),
    /// `[expr]` with a non-literal key.
    Dynamic,
}

/// A reference: root identifier and the steps after it, with the token index just past it.
struct PathRef {
    root: String,
    segs: Vec<Seg>,
    end: usize,
}

fn is_punct(t: Option<&Token>, p: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Punct(q), .. }) if *q == p)
}

/// Parse `ident(.field | ["str"] | [expr])*` starting at `start` (an identifier token).
fn parse_path(toks: &[Token], start: usize) -> Option<PathRef> {
    let Some(Token {
        tok: Tok::Ident(root),
        ..
    }) = toks.get(start)
    else {
        return None;
    };
    if start > 0 && is_punct(toks.get(start - 1), ".") {
        return None;
    }
    let mut segs = Vec::new();
    let mut i = start + 1;
    loop {
        if is_punct(toks.get(i), ".") {
            if let Some(Token {
                tok: Tok::Ident(f), ..
            }) = toks.get(i + 1)
            {
                segs.push(Seg::Field(f.clone()));
                i += 2;
                continue;
            }
            break;
        }
        if is_punct(toks.get(i), "[") {
            if let (
                Some(Token {
                    tok: Tok::Str(s), ..
                }),
                true,
            ) = (toks.get(i + 1), is_punct(toks.get(i + 2), "]"))
            {
                segs.push(Seg::Field(s.clone()));
                i += 3;
                continue;
            }
            // Skip to the matching bracket.
            let mut depth = 0usize;
            let mut j = i;
            while let Some(t) = toks.get(j) {
                if is_punct(Some(t), "[") {
                    depth += 1;
                } else if is_punct(Some(t), "]") {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            segs.push(Seg::Dynamic);
            i = j + 1;
            continue;
        }
        break;
    }
    Some(PathRef {
        root: root.clone(),
        segs,
        end: i,
    })
}

/// A node a reference can land on.
#[derive(Clone, Copy)]
enum Node<'a> {
    Schema(&'a Shape),
    Data(&'a Value),
}

/// Where an alias points: a root (`input` or `data`) and the steps from it.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    root: String,
    segs: Vec<Seg>,
}

impl Target {
    fn display(&self) -> String {
        let mut s = self.root.clone();
        for seg in &self.segs {
            match seg {
                Seg::Field(f) => {
                    s.push('.');
                    s.push_str(f);
                }
                Seg::Dynamic => s.push_str("[_]"),
            }
        }
        s
    }
}

enum Walk {
    /// Ended on a node (or stopped at a dynamic lookup): fine.
    Ok,
    Unknown {
        field: String,
        parent: String,
        known: Vec<String>,
        note: Option<String>,
    },
}

fn keys_of(node: Node<'_>) -> Vec<String> {
    match node {
        Node::Schema(Shape::Object(fields)) => fields.iter().map(|(k, _)| k.to_string()).collect(),
        Node::Data(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Walk `segs` from `node`; `at` is the display path of `node`.
fn walk(mut node: Node<'_>, segs: &[Seg], mut at: String) -> Walk {
    for seg in segs {
        match seg {
            Seg::Field(f) => {
                let next = match node {
                    Node::Schema(Shape::Object(fields)) => fields
                        .iter()
                        .find(|(k, _)| *k == f.as_str())
                        .map(|(_, s)| Node::Schema(s)),
                    Node::Data(Value::Object(m)) => m.get(f.as_str()).map(Node::Data),
                    _ => None,
                };
                match next {
                    Some(n) => {
                        node = n;
                        at.push('.');
                        at.push_str(f);
                    }
                    None => {
                        let note = match node {
                            Node::Schema(Shape::Array(_)) | Node::Data(Value::Array(_)) => {
                                Some(format!("`{at}` is an array: index it (`{at}[_]`)"))
                            }
                            Node::Schema(Shape::Scalar(ty)) => {
                                Some(format!("`{at}` is a {ty} and has no fields"))
                            }
                            Node::Data(Value::Object(_)) | Node::Schema(Shape::Object(_)) => None,
                            Node::Data(v) => Some(format!("`{at}` is {v} and has no fields")),
                        };
                        return Walk::Unknown {
                            field: f.clone(),
                            known: keys_of(node),
                            parent: at,
                            note,
                        };
                    }
                }
            }
            Seg::Dynamic => match node {
                Node::Schema(Shape::Array(el)) => {
                    node = Node::Schema(el);
                    at.push_str("[_]");
                }
                Node::Data(Value::Array(a)) => match a.first() {
                    // Only follow into arrays of objects whose elements share their keys.
                    Some(first @ Value::Object(_))
                        if a.iter()
                            .all(|e| keys_of(Node::Data(e)) == keys_of(Node::Data(first))) =>
                    {
                        node = Node::Data(first);
                        at.push_str("[_]");
                    }
                    _ => return Walk::Ok,
                },
                // A dynamic key into an object whose values are objects with the same keys
                // (a table such as per-class thresholds): follow into the first row.
                Node::Data(Value::Object(m)) => {
                    let mut rows = m.values();
                    match rows.next() {
                        Some(first @ Value::Object(_))
                            if rows
                                .all(|r| keys_of(Node::Data(r)) == keys_of(Node::Data(first))) =>
                        {
                            node = Node::Data(first);
                            at.push_str("[_]");
                        }
                        _ => return Walk::Ok,
                    }
                }
                // A dynamic key into the input's objects, or indexing a scalar: not checked.
                _ => return Walk::Ok,
            },
        }
    }
    Walk::Ok
}

/// Check one policy text. `data` is the loaded data document (an object).
pub(crate) fn check_references(file: &str, src: &str, data: &Value) -> Vec<UnknownField> {
    let toks = tokenize(src);
    let data_roots: Vec<&String> = data
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();

    // Resolve a path's root into an absolute target (input/data), following aliases.
    let resolve = |path: &PathRef, aliases: &BTreeMap<String, Option<Target>>| -> Option<Target> {
        match path.root.as_str() {
            "input" => Some(Target {
                root: "input".into(),
                segs: path.segs.clone(),
            }),
            "data" => match path.segs.first() {
                Some(Seg::Field(f)) if data_roots.contains(&f) => Some(Target {
                    root: "data".into(),
                    segs: path.segs.clone(),
                }),
                _ => None,
            },
            other => aliases.get(other).cloned().flatten().map(|t| Target {
                root: t.root,
                segs: t.segs.into_iter().chain(path.segs.clone()).collect(),
            }),
        }
    };

    // Aliases: a few passes so chains (`cfg := data.escalation`, `t := cfg.thresholds`) settle.
    let mut aliases: BTreeMap<String, Option<Target>> = BTreeMap::new();
    for _ in 0..4 {
        let mut next: BTreeMap<String, Option<Target>> = BTreeMap::new();
        let mut bind = |name: &str, target: Option<Target>| {
            next.entry(name.to_string())
                .and_modify(|t| {
                    if *t != target {
                        *t = None;
                    }
                })
                .or_insert(target);
        };
        for (i, t) in toks.iter().enumerate() {
            let Tok::Ident(word) = &t.tok else { continue };
            // `some a in P`, `some a, b in P`, `every a in P`, `every a, b in P`.
            if word == "some" || word == "every" {
                let mut names = Vec::new();
                let mut j = i + 1;
                while let Some(Token {
                    tok: Tok::Ident(n), ..
                }) = toks.get(j)
                {
                    if n == "in" {
                        break;
                    }
                    names.push(n.clone());
                    j += 1;
                    if is_punct(toks.get(j), ",") {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let is_in =
                    matches!(toks.get(j), Some(Token { tok: Tok::Ident(n), .. }) if n == "in");
                if !is_in {
                    // `some x` declarations: unknown binding.
                    for n in names {
                        bind(&n, None);
                    }
                    continue;
                }
                let collection = parse_path(&toks, j + 1)
                    .filter(|p| path_is_whole(&toks, p.end))
                    .and_then(|p| resolve(&p, &aliases));
                let mut names = names.into_iter().rev();
                if let Some(value_name) = names.next() {
                    let target = collection.map(|mut c| {
                        c.segs.push(Seg::Dynamic);
                        c
                    });
                    bind(&value_name, target);
                }
                for key_name in names {
                    bind(&key_name, None);
                }
                continue;
            }
            if is_punct(toks.get(i.wrapping_sub(1)), ".") {
                continue;
            }
            // `name := P` / `name = P`.
            if is_punct(toks.get(i + 1), ":=") || is_punct(toks.get(i + 1), "=") {
                let target = parse_path(&toks, i + 2)
                    .filter(|p| path_is_whole(&toks, p.end))
                    .and_then(|p| resolve(&p, &aliases));
                bind(word, target);
                continue;
            }
            // Function heads at the start of a line: `name(a, b) …`: parameters are unknown.
            if t.line_start && is_punct(toks.get(i + 1), "(") {
                let mut j = i + 2;
                while let Some(tok) = toks.get(j) {
                    match &tok.tok {
                        Tok::Punct(")") => break,
                        Tok::Ident(p) => bind(p, None),
                        _ => {}
                    }
                    j += 1;
                }
            }
        }
        if next == aliases {
            break;
        }
        aliases = next;
    }

    let mut found = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Tok::Ident(root) = &t.tok else { continue };
        if root != "input" && root != "data" && !aliases.contains_key(root) {
            continue;
        }
        let Some(path) = parse_path(&toks, i) else {
            continue;
        };
        if path.segs.is_empty() {
            continue;
        }
        let Some(target) = resolve(&path, &aliases) else {
            continue;
        };
        let (node, at, segs) = if target.root == "input" {
            (
                Node::Schema(&INPUT_SCHEMA),
                "input".to_string(),
                &target.segs[..],
            )
        } else {
            (Node::Data(data), "data".to_string(), &target.segs[..])
        };
        if let Walk::Unknown {
            field,
            parent,
            known,
            note,
        } = walk(node, segs, at)
        {
            let written = Target {
                root: path.root.clone(),
                segs: path.segs.clone(),
            }
            .display();
            let reference = if path.root == target.root {
                written
            } else {
                format!("{written}` (= `{}`", target.display())
            };
            found.push(UnknownField {
                file: file.to_string(),
                line: t.line,
                reference,
                field,
                parent,
                known,
                note,
            });
        }
    }
    found.dedup();
    found
}

/// A path that makes up a whole expression (so `x := input.score + 1` is not an alias).
fn path_is_whole(toks: &[Token], end: usize) -> bool {
    match toks.get(end) {
        None => true,
        Some(t) if t.line_start => true,
        Some(Token {
            tok: Tok::Punct(p), ..
        }) => matches!(*p, ";" | "}" | "]" | "|" | ")" | ","),
        Some(Token {
            tok: Tok::Ident(w), ..
        }) => matches!(w.as_str(), "if" | "else" | "with"),
        _ => false,
    }
}

/// Largest `numbers.range` / `numbers.range_step` a policy may ask for (elements). regorus
/// builds the whole array inside one instruction, before its memory budget is checked again, so
/// an unbounded range (`numbers.range(1, 1e9)`) would take gigabytes: only ranges whose bounds
/// (and step) are integer literals within this many elements are accepted.
pub(crate) const MAX_RANGE_ELEMENTS: u64 = 10_000;

/// A call to a builtin whose result size the check cannot bound (see [`MAX_RANGE_ELEMENTS`]).
pub(crate) fn unbounded_builtins(file: &str, src: &str) -> Vec<String> {
    let toks = tokenize(src);
    let mut found = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.tok != Tok::Ident("numbers".into()) || !is_punct(toks.get(i + 1), ".") {
            continue;
        }
        let name = match toks.get(i + 2).map(|t| &t.tok) {
            Some(Tok::Ident(n)) if n == "range" || n == "range_step" => n.as_str(),
            _ => continue,
        };
        // Literal arguments: `( Num , Num [, Num] )`.
        let mut args = Vec::new();
        let mut j = i + 3;
        let mut literal = is_punct(toks.get(j), "(");
        j += 1;
        while literal {
            match toks.get(j).map(|t| &t.tok) {
                Some(Tok::Num(n)) => match n.parse::<u64>() {
                    Ok(v) => args.push(v),
                    Err(_) => literal = false,
                },
                _ => literal = false,
            }
            j += 1;
            if is_punct(toks.get(j), ",") {
                j += 1;
            } else {
                literal = literal && is_punct(toks.get(j), ")");
                break;
            }
        }
        let elements = match (literal, name, args.as_slice()) {
            (true, "range", [a, b]) => Some(a.abs_diff(*b).saturating_add(1)),
            (true, "range_step", [a, b, step]) if *step > 0 => Some(a.abs_diff(*b) / step + 1),
            _ => None,
        };
        if elements.is_some_and(|n| n <= MAX_RANGE_ELEMENTS) {
            continue;
        }
        found.push(format!(
            "{file}:{}: `numbers.{name}` needs integer-literal bounds within {MAX_RANGE_ELEMENTS} elements (its array is built in one step, outside the memory budget)",
            t.line
        ));
    }
    found
}

/// A top-level rule: name, line, and the identifiers of its head and body.
type RuleText = (String, usize, Vec<Tok>);

/// The package and top-level rules of a policy text.
fn rules_of(src: &str) -> (Option<String>, Vec<RuleText>) {
    let toks = tokenize(src);
    let package = package_of(src);
    let mut rules: Vec<RuleText> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(t) = toks.get(i) {
        match &t.tok {
            Tok::Punct("{" | "[" | "(") => depth += 1,
            Tok::Punct("}" | "]" | ")") => depth = depth.saturating_sub(1),
            Tok::Ident(word) if depth == 0 && t.line_start => {
                match word.as_str() {
                    "package" | "import" => {
                        // Skip the rest of the line.
                        let line = t.line;
                        while toks.get(i + 1).is_some_and(|n| n.line == line) {
                            i += 1;
                        }
                    }
                    "else" => {}
                    _ => {
                        let name = if word == "default" {
                            match toks.get(i + 1).map(|t| &t.tok) {
                                Some(Tok::Ident(n)) => n.clone(),
                                _ => word.clone(),
                            }
                        } else {
                            word.clone()
                        };
                        rules.push((name, t.line, Vec::new()));
                    }
                }
            }
            _ => {}
        }
        if let Some((_, _, body)) = rules.last_mut() {
            // Identifiers not after a `.` (field names), plus `data.<pkg>.<rule>` paths below.
            if let Tok::Ident(_) = &t.tok {
                if !is_punct(toks.get(i.wrapping_sub(1)), ".") {
                    body.push(t.tok.clone());
                }
            }
            if t.tok == Tok::Ident("data".into()) {
                if let Some(p) = parse_path(&toks, i) {
                    let fields: Vec<String> = p
                        .segs
                        .iter()
                        .map_while(|s| match s {
                            Seg::Field(f) => Some(f.clone()),
                            Seg::Dynamic => None,
                        })
                        .collect();
                    if let Some((rule, pkg)) = fields.split_last() {
                        if package.as_deref() == Some(pkg.join(".").as_str()) {
                            body.push(Tok::Ident(rule.clone()));
                        }
                    }
                }
            }
        }
        i += 1;
    }
    (package, rules)
}

/// Rules or functions that depend on themselves (`a := b` / `b := a`, `f(x) := f(x)`): regorus
/// would recurse until the stack overflows, so such a policy is rejected at load with the cycle.
/// Rules are matched by name within a package (bare names and `data.<package>.<rule>`); a local
/// variable named like a rule of its package counts as a reference to it.
pub(crate) fn recursion(sources: &[(&str, &str)]) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    // (package, rule) -> (file, line, referenced rule names)
    let mut graph: BTreeMap<(String, String), (String, usize, BTreeSet<String>)> = BTreeMap::new();
    let mut all: Vec<(String, String, String, usize, Vec<Tok>)> = Vec::new();
    for (file, src) in sources {
        let (package, rules) = rules_of(src);
        let package = package.unwrap_or_default();
        for (name, line, body) in rules {
            all.push((package.clone(), name, file.to_string(), line, body));
        }
    }
    let names: BTreeSet<(String, String)> = all
        .iter()
        .map(|(p, n, ..)| (p.clone(), n.clone()))
        .collect();
    for (package, name, file, line, body) in all {
        let entry = graph
            .entry((package.clone(), name))
            .or_insert_with(|| (file, line, BTreeSet::new()));
        // The first identifier of a body is the rule's own head (after `default`).
        let head = usize::from(body.first() == Some(&Tok::Ident("default".into()))) + 1;
        for tok in body.iter().skip(head) {
            if let Tok::Ident(r) = tok {
                if names.contains(&(package.clone(), r.clone())) {
                    entry.2.insert(r.clone());
                }
            }
        }
    }
    // Depth-first search for a back edge, iteratively (a policy's own size must not overflow us).
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let keys: Vec<(String, String)> = graph.keys().cloned().collect();
    let mut mark: BTreeMap<(String, String), Mark> =
        keys.iter().map(|k| (k.clone(), Mark::New)).collect();
    let mut found = Vec::new();
    for root in &keys {
        if mark.get(root) != Some(&Mark::New) {
            continue;
        }
        let mut stack: Vec<((String, String), Vec<String>)> = Vec::new();
        let edges = |k: &(String, String)| -> Vec<String> {
            graph
                .get(k)
                .map(|(_, _, e)| e.iter().rev().cloned().collect())
                .unwrap_or_default()
        };
        mark.insert(root.clone(), Mark::Open);
        stack.push((root.clone(), edges(root)));
        while let Some((node, pending)) = stack.last_mut() {
            let Some(next) = pending.pop() else {
                let done = node.clone();
                mark.insert(done, Mark::Done);
                stack.pop();
                continue;
            };
            let next = (node.0.clone(), next);
            match mark.get(&next).copied() {
                Some(Mark::New) => {
                    mark.insert(next.clone(), Mark::Open);
                    let e = edges(&next);
                    stack.push((next, e));
                }
                Some(Mark::Open) => {
                    let start = stack.iter().position(|(k, _)| *k == next).unwrap_or(0);
                    let cycle: Vec<String> = stack
                        .iter()
                        .skip(start)
                        .map(|(k, _)| k.1.clone())
                        .chain(std::iter::once(next.1.clone()))
                        .collect();
                    let (file, line, _) = graph.get(&next).cloned().unwrap_or_default();
                    found.push(format!(
                        "{file}:{line}: `{}` depends on itself: {}",
                        next.1,
                        cycle.join(" -> ")
                    ));
                }
                _ => {}
            }
        }
    }
    found
}

/// `package a.b` of a policy text.
pub(crate) fn package_of(src: &str) -> Option<String> {
    let toks = tokenize(src);
    let i = toks
        .iter()
        .position(|t| t.line_start && t.tok == Tok::Ident("package".into()))?;
    let path = parse_path(&toks, i + 1)?;
    let mut name = path.root;
    for s in path.segs {
        match s {
            Seg::Field(f) => {
                name.push('.');
                name.push_str(&f);
            }
            Seg::Dynamic => return None,
        }
    }
    Some(name)
}

/// Rules named `test_*` at the start of a line, with their line, in order, deduplicated.
pub(crate) fn test_rules(src: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    for t in tokenize(src) {
        match &t.tok {
            Tok::Punct("{" | "[" | "(") => depth += 1,
            Tok::Punct("}" | "]" | ")") => depth = depth.saturating_sub(1),
            Tok::Ident(name)
                if depth == 0
                    && t.line_start
                    && name.starts_with("test_")
                    && !out.iter().any(|(n, _)| n == name) =>
            {
                out.push((name.clone(), t.line));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> Value {
        json!({"escalation": {"thresholds": {"unclassified": {"notify": 20}}, "tiers": ["a"]}})
    }

    fn fields(src: &str) -> Vec<(usize, String, String)> {
        check_references("p.rego", src, &data())
            .into_iter()
            .map(|u| (u.line, u.field, u.parent))
            .collect()
    }

    #[test]
    fn direct_input_typos_are_found_with_their_line() {
        let src = "package p\n\nhot if input.scroe > 50\nok if input.score > 1\n";
        assert_eq!(fields(src), vec![(3, "scroe".into(), "input".into())]);
        let src =
            "package p\nx if input.identity.clas == \"a\"\ny if input[\"drivers\"].privilige > 0\n";
        assert_eq!(
            fields(src),
            vec![
                (2, "clas".into(), "input.identity".into()),
                (3, "privilige".into(), "input.drivers".into())
            ]
        );
    }

    #[test]
    fn arrays_and_scalars_are_not_objects() {
        let src = "package p\nx if input.signals.code == \"a\"\ny if input.score.value\nz if input.signals[_].severty\n";
        let f = fields(src);
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!(f[2].2, "input.signals[_]");
    }

    #[test]
    fn aliases_are_followed_and_ambiguous_ones_are_not() {
        let src = r#"package p
cfg := data.escalation
x if cfg.thresholds.unclassified.notfy > 1
y if { some s in input.signals; s.severty == "high" }
z if { some i, s in input.signals; s.code == "a" }
w := [t | t := input.identity; t.owner == "a"; t.ownr]
f(s) := s.anything
"#;
        let f = fields(src);
        assert_eq!(
            f,
            vec![
                (
                    3,
                    "notfy".into(),
                    "data.escalation.thresholds.unclassified".into()
                ),
                (6, "ownr".into(), "input.identity".into()),
            ],
            "`s` is also a function parameter, so it is ambiguous and not followed"
        );
        let src = "package p\ny if { some s in input.signals; s.severty == \"high\" }\n";
        assert_eq!(
            fields(src),
            vec![(2, "severty".into(), "input.signals[_]".into())]
        );
    }

    #[test]
    fn comments_strings_and_other_roots_are_ignored() {
        let src = "package p\n# input.scroe in a comment\nmsg := \"input.scroe in a string\"\nx := data.other.thing\ny := data.tripline.escalation.decision\nz := input\n";
        assert!(fields(src).is_empty(), "{:?}", fields(src));
    }

    #[test]
    fn packages_and_tests_are_listed() {
        let src = "package tripline.escalation_test\n\ntest_a if true\ntest_b if {\n  test_not_a_rule\n}\ntest_a if false\n  test_indented if true\n";
        assert_eq!(package_of(src).as_deref(), Some("tripline.escalation_test"));
        assert_eq!(
            test_rules(src),
            vec![
                ("test_a".to_string(), 3),
                ("test_b".to_string(), 4),
                ("test_indented".to_string(), 8)
            ]
        );
    }
}
