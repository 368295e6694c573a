//! Label selectors and field selectors, parsed, printed and matched exactly as kube-apiserver
//! does it (Kubernetes 1.35 `k8s.io/apimachinery` `labels` and `fields` packages; API-semantics
//! spec, section 3.4).
//!
//! # Label selectors
//!
//! The `labelSelector` query parameter is a comma-separated list of requirements, all of which
//! must hold (AND):
//!
//! | text | matches objects whose labels |
//! |---|---|
//! | `k=v`, `k==v` | have `k` with value `v` |
//! | `k!=v` | lack `k`, or have it with another value |
//! | `k in (a,b)` | have `k` with value `a` or `b` |
//! | `k notin (a,b)` | lack `k`, or have it with neither value |
//! | `k` | have `k` |
//! | `!k` | lack `k` |
//! | `k>5`, `k<5` | have `k` with an integer value greater (smaller) than 5 |
//!
//! Whitespace (space, tab, CR, LF) may surround every token. Keys are label keys (an optional RFC
//! 1123 subdomain prefix and `/`, then at most 63 bytes); values are label values (empty, or at
//! most 63 bytes of alphanumerics and `-_.` starting and ending alphanumeric); `in`/`notin` value
//! sets are `(` values separated by `,` `)`, where `()` and empty entries stand for the empty
//! value. `in` and `notin` are keywords only where an operator is expected, so `in=notin` is a
//! valid requirement. The empty selector matches everything.
//!
//! Parsing sorts requirements by key (stably) and each value set, so [`LabelSelector`]'s
//! `Display` is the canonical form upstream prints: `app=web,env in (a,b),!legacy`.
//!
//! A selector can also come from a `metav1.LabelSelector` object (`matchLabels` and
//! `matchExpressions`), as controllers hold them: see [`LabelSelector::from_json`]. There a
//! *missing or null* selector matches nothing, while an *empty* one (`{}`) matches everything.
//!
//! # Field selectors
//!
//! The `fieldSelector` query parameter is a comma-separated list of `field=value`,
//! `field==value` or `field!=value` terms (AND). Nothing is trimmed. In values, `\,` `\=` and
//! `\\` stand for `,` `=` and `\`; an unescaped `,` splits terms and an unescaped `=` or any other
//! escape is an error. A field that the object lacks has the value `""`. Which fields a type
//! supports is the caller's table; [`FieldSelector::check_fields`] refuses the others with
//! upstream's two messages.
//!
//! # Errors
//!
//! Every [`SelectorError`] is the client's fault: answer `400 BadRequest` with its `Display`
//! text, which is upstream's message.

use std::fmt;

use serde_json::{Map, Value};

use crate::validation::names::{is_label_value, is_qualified_name};

/// Why a selector was refused. All are the client's fault: answer `400 BadRequest` with the
/// `Display` text (upstream's wording) as the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The `labelSelector` text does not parse, or one of its requirements is invalid.
    #[error("{0}")]
    InvalidLabelSelector(String),
    /// A `metav1.LabelSelector` object is malformed: an unknown operator, a value set that does
    /// not fit the operator, an invalid key or value, or the wrong JSON shape.
    #[error("{0}")]
    InvalidLabelSelectorObject(String),
    /// The `fieldSelector` text does not parse: a term without operator, or a bad escape.
    #[error("{0}")]
    InvalidFieldSelector(String),
    /// The selector names a field that a type with its own selectable fields does not support.
    #[error("field label not supported: {0}")]
    FieldLabelNotSupported(String),
    /// The selector names a field other than `metadata.name`/`metadata.namespace` on a type that
    /// has no selectable fields of its own.
    #[error("{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"", go_quote(.0))]
    UnknownFieldSelector(String),
}

/// Quotes a string as Go's `%q` does for the ASCII cases that occur in messages: `"` and `\`
/// escaped, control bytes as `\n`, `\t`… or `\xNN`; printable characters as they are.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// The operator of one label requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `k`: the label is present.
    Exists,
    /// `!k`: the label is absent.
    DoesNotExist,
    /// `k=v`.
    Equals,
    /// `k==v`: the same as `=`, kept apart only so that it prints back as written.
    DoubleEquals,
    /// `k!=v`: absent, or another value.
    NotEquals,
    /// `k in (…)`.
    In,
    /// `k notin (…)`: absent, or none of the values.
    NotIn,
    /// `k>n`: an integer value greater than `n`.
    GreaterThan,
    /// `k<n`: an integer value smaller than `n`.
    LessThan,
}

/// One requirement of a label selector: a key, an operator and its values. Build it with
/// [`Requirement::new`], which refuses what upstream's `NewRequirement` refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

/// How a label looks up in an object's labels.
enum Label<'a> {
    Absent,
    Value(&'a str),
    /// Present but not a string (a malformed object): exists, equals no value.
    NotAString,
}

/// Formats one field error as upstream's `field.Error.Error()` does for an invalid value.
fn invalid(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {}: {detail}", go_quote(value))
}

/// Formats a list of errors as upstream's aggregate error: one as itself, several de-duplicated
/// between brackets.
fn aggregate(errors: Vec<String>) -> String {
    let mut unique: Vec<String> = Vec::with_capacity(errors.len());
    for error in errors {
        if !unique.contains(&error) {
            unique.push(error);
        }
    }
    if unique.len() == 1 { unique.remove(0) } else { format!("[{}]", unique.join(", ")) }
}

/// The value set as upstream prints it in an error: JSON, `null` when empty (Go's nil slice).
fn values_json(values: &[String]) -> String {
    if values.is_empty() { "null".to_string() } else { serde_json::to_string(values).unwrap_or_default() }
}

impl Requirement {
    /// A requirement, checked as upstream's `NewRequirement`: the key must be a label key, every
    /// value a label value; `In`/`NotIn` need at least one value, the equality operators exactly
    /// one, `Exists`/`DoesNotExist` none, and `GreaterThan`/`LessThan` exactly one integer. The
    /// error lists every broken rule in upstream's words (`key: Invalid value: …`,
    /// `values[0][key]: Invalid value: …`).
    pub fn new(key: impl Into<String>, operator: Operator, values: Vec<String>) -> Result<Self, SelectorError> {
        let key = key.into();
        let errors = Self::check(&key, operator, &values);
        if errors.is_empty() {
            Ok(Requirement { key, operator, values })
        } else {
            Err(SelectorError::InvalidLabelSelectorObject(aggregate(errors)))
        }
    }

    fn check(key: &str, operator: Operator, values: &[String]) -> Vec<String> {
        let mut errors = Vec::new();
        let key_errors = is_qualified_name(key);
        if !key_errors.is_empty() {
            errors.push(invalid("key", key, &key_errors.join("; ")));
        }
        let values_invalid = |detail: &str| format!("values: Invalid value: {}: {detail}", values_json(values));
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                errors.push(values_invalid("for 'in', 'notin' operators, values set can't be empty"));
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if values.len() != 1 => {
                errors.push(values_invalid("exact-match compatibility requires one single value"));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                errors.push(values_invalid("values set must be empty for exists and does not exist"));
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errors.push(values_invalid("for 'Gt', 'Lt' operators, exactly one value is required"));
                }
                for (i, value) in values.iter().enumerate() {
                    if value.parse::<i64>().is_err() {
                        errors.push(invalid(
                            &format!("values[{i}]"),
                            value,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, value) in values.iter().enumerate() {
            let value_errors = is_label_value(value);
            if !value_errors.is_empty() {
                errors.push(invalid(&format!("values[{i}][{key}]"), value, &value_errors.join("; ")));
            }
        }
        errors
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values (sorted and de-duplicated when parsed from text; as given otherwise).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    fn matches_label(&self, label: Label<'_>) -> bool {
        match (self.operator, label) {
            (Operator::Exists, label) => !matches!(label, Label::Absent),
            (Operator::DoesNotExist, label) => matches!(label, Label::Absent),
            (Operator::In | Operator::Equals | Operator::DoubleEquals, Label::Value(value)) => self.has_value(value),
            (Operator::In | Operator::Equals | Operator::DoubleEquals, _) => false,
            (Operator::NotIn | Operator::NotEquals, Label::Value(value)) => !self.has_value(value),
            (Operator::NotIn | Operator::NotEquals, _) => true,
            (Operator::GreaterThan | Operator::LessThan, Label::Value(value)) => {
                // Upstream: a value that is not an integer, or a malformed value set, never matches.
                let (Ok(actual), [wanted]) = (value.parse::<i64>(), self.values.as_slice()) else {
                    return false;
                };
                let Ok(wanted) = wanted.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan { actual > wanted } else { actual < wanted }
            }
            (Operator::GreaterThan | Operator::LessThan, _) => false,
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream's `Requirement.String()`: `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
    /// `k notin (a,b)`, `k>1`, `k<1`, value sets printed sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (operator, set) = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => ("=", false),
            Operator::DoubleEquals => ("==", false),
            Operator::NotEquals => ("!=", false),
            Operator::In => (" in ", true),
            Operator::NotIn => (" notin ", true),
            Operator::GreaterThan => (">", false),
            Operator::LessThan => ("<", false),
        };
        f.write_str(operator)?;
        if set {
            f.write_str("(")?;
        }
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        f.write_str(&values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: requirements that must all hold, or the selector that matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    /// Set only for a missing `metav1.LabelSelector` (upstream's `labels.Nothing()`).
    matches_nothing: bool,
}

impl LabelSelector {
    /// The selector that matches every object (the empty selector).
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// The selector that matches no object: what a missing `metav1.LabelSelector` means. It
    /// prints as the empty string, like upstream's.
    pub fn nothing() -> Self {
        LabelSelector { requirements: Vec::new(), matches_nothing: true }
    }

    /// A selector of the given requirements, sorted by key (stably) as upstream sorts them.
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector { requirements, matches_nothing: false }
    }

    /// Parses the `labelSelector` query parameter text (upstream's `labels.Parse`). The empty or
    /// blank text is [`LabelSelector::everything`].
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let requirements = Parser::new(text).parse().map_err(SelectorError::InvalidLabelSelector)?;
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// The selector matching exactly the given labels (`k=v` for each), as a Service's or a
    /// ReplicationController's `spec.selector` map means it. An empty map matches everything.
    /// Keys and values are checked like [`Requirement::new`]; values must be strings.
    pub fn from_labels(labels: &Map<String, Value>) -> Result<Self, SelectorError> {
        let mut requirements = Vec::with_capacity(labels.len());
        for (key, value) in labels {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => {
                    return Err(SelectorError::InvalidLabelSelectorObject(format!(
                        "label {} must have a string value, not {other}",
                        go_quote(key)
                    )));
                }
            };
            requirements.push(Requirement::new(key.clone(), Operator::Equals, vec![value])?);
        }
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// The selector a `metav1.LabelSelector` JSON value means (upstream's
    /// `LabelSelectorAsSelector`), as controllers read `spec.selector`:
    ///
    /// * `None` (field missing) or `null` → [`LabelSelector::nothing`]: matches no object;
    /// * `{}` (no `matchLabels`, no `matchExpressions`) → [`LabelSelector::everything`];
    /// * otherwise `k=v` for each of `matchLabels`, and each of `matchExpressions` with operator
    ///   `In`, `NotIn`, `Exists` or `DoesNotExist`, checked as [`Requirement::new`] checks them.
    ///
    /// An unknown operator is `"Foo" is not a valid label selector operator`, as upstream.
    pub fn from_json(selector: Option<&Value>) -> Result<Self, SelectorError> {
        let object = match selector {
            None | Some(Value::Null) => return Ok(LabelSelector::nothing()),
            Some(Value::Object(object)) => object,
            Some(other) => {
                return Err(SelectorError::InvalidLabelSelectorObject(format!(
                    "a label selector must be an object, not {other}"
                )));
            }
        };
        let empty = Map::new();
        let match_labels = match object.get("matchLabels") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(labels)) => labels,
            Some(other) => {
                return Err(SelectorError::InvalidLabelSelectorObject(format!(
                    "matchLabels must be an object, not {other}"
                )));
            }
        };
        let expressions: &[Value] = match object.get("matchExpressions") {
            None | Some(Value::Null) => &[],
            Some(Value::Array(expressions)) => expressions,
            Some(other) => {
                return Err(SelectorError::InvalidLabelSelectorObject(format!(
                    "matchExpressions must be a list, not {other}"
                )));
            }
        };
        if match_labels.is_empty() && expressions.is_empty() {
            return Ok(LabelSelector::everything());
        }
        let mut requirements = LabelSelector::from_labels(match_labels)?.requirements;
        for expression in expressions {
            requirements.push(expression_requirement(expression)?);
        }
        Ok(LabelSelector::from_requirements(requirements))
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether this selector matches every object.
    pub fn is_everything(&self) -> bool {
        !self.matches_nothing && self.requirements.is_empty()
    }

    /// Whether this selector matches no object (a missing `metav1.LabelSelector`).
    pub fn is_nothing(&self) -> bool {
        self.matches_nothing
    }

    /// Whether an object with these labels (its `metadata.labels` map) is selected. A label whose
    /// value is not a string (a malformed object) counts as present but equal to no value.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        self.matches_lookup(|key| match labels.get(key) {
            None => Label::Absent,
            Some(Value::String(value)) => Label::Value(value),
            Some(Value::Null) => Label::Value(""),
            Some(_) => Label::NotAString,
        })
    }

    /// Whether an object is selected, reading its labels through `get` (e.g. over a
    /// `BTreeMap<String, String>`: `|k| map.get(k).map(String::as_str)`).
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.matches_lookup(|key| get(key).map_or(Label::Absent, Label::Value))
    }

    fn matches_lookup<'a>(&self, lookup: impl Fn(&str) -> Label<'a>) -> bool {
        !self.matches_nothing && self.requirements.iter().all(|r| r.matches_label(lookup(&r.key)))
    }
}

impl fmt::Display for LabelSelector {
    /// The canonical text: requirements joined by `,` (the empty string for both everything and
    /// nothing, as upstream prints them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

/// One `matchExpressions` entry as a requirement.
fn expression_requirement(expression: &Value) -> Result<Requirement, SelectorError> {
    let malformed = |what: &str| SelectorError::InvalidLabelSelectorObject(format!("matchExpressions: {what}"));
    let object = expression.as_object().ok_or_else(|| malformed("each entry must be an object"))?;
    let text = |field: &str| match object.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(malformed(&format!("{field} must be a string"))),
    };
    let key = text("key")?;
    let operator = match text("operator")?.as_str() {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => {
            return Err(SelectorError::InvalidLabelSelectorObject(format!(
                "{} is not a valid label selector operator",
                go_quote(other)
            )));
        }
    };
    let values = match object.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| malformed("values must be strings")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(malformed("values must be a list")),
    };
    Requirement::new(key, operator, values)
}

/// Tokens of the label-selector lexer, as upstream names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(text: &[u8]) -> Option<Token> {
    Some(match text {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Upstream's byte-wise lexer. A NUL byte reads as the end of the input, as in upstream.
struct Lexer<'a> {
    input: &'a [u8],
    position: usize,
}

impl Lexer<'_> {
    fn read(&mut self) -> u8 {
        match self.input.get(self.position) {
            Some(&b) => {
                self.position += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.position = self.position.saturating_sub(1);
    }

    fn lex(&mut self) -> (Token, String) {
        let mut b = self.read();
        while is_whitespace(b) {
            b = self.read();
        }
        if b == 0 {
            return (Token::EndOfString, String::new());
        }
        self.unread();
        if is_special_symbol(b) { self.scan_special_symbol() } else { self.scan_identifier_or_keyword() }
    }

    fn scan_identifier_or_keyword(&mut self) -> (Token, String) {
        let start = self.position;
        let mut end = start;
        loop {
            let b = self.read();
            if b == 0 {
                break;
            }
            if is_special_symbol(b) || is_whitespace(b) {
                self.unread();
                break;
            }
            end = self.position;
        }
        let text = &self.input[start..end];
        let literal = String::from_utf8_lossy(text).into_owned();
        match keyword(text) {
            Some(token) => (token, literal),
            None => (Token::Identifier, literal),
        }
    }

    /// The longest run of special symbols that is still a token (`!=`, `==`…).
    fn scan_special_symbol(&mut self) -> (Token, String) {
        let start = self.position;
        let mut last: Option<(Token, usize)> = None;
        loop {
            let b = self.read();
            if b == 0 {
                break;
            }
            if !is_special_symbol(b) {
                self.unread();
                break;
            }
            match keyword(&self.input[start..self.position]) {
                Some(token) => last = Some((token, self.position)),
                None if last.is_some() => {
                    self.unread();
                    break;
                }
                None => {}
            }
        }
        match last {
            Some((token, end)) => (token, String::from_utf8_lossy(&self.input[start..end]).into_owned()),
            None => {
                let buffer = String::from_utf8_lossy(&self.input[start..self.position]);
                (Token::Error, format!("error expected: keyword found '{buffer}'"))
            }
        }
    }
}

/// Whether `in`/`notin` are operators (after a key) or plain identifiers (everywhere else).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

/// Upstream's recursive-descent parser over the scanned tokens; errors are upstream's messages.
struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";
const NIL_PATH: &str = "<nil>";

impl Parser {
    fn new(text: &str) -> Self {
        let mut lexer = Lexer { input: text.as_bytes(), position: 0 };
        let mut items = Vec::new();
        loop {
            let item = lexer.lex();
            let end = item.0 == Token::EndOfString;
            items.push(item);
            if end {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn item(&self, position: usize, context: Context) -> (Token, &str) {
        let (token, literal) = self.items.get(position).map_or((Token::EndOfString, ""), |(t, l)| (*t, l.as_str()));
        match token {
            Token::In | Token::NotIn if context == Context::Values => (Token::Identifier, literal),
            _ => (token, literal),
        }
    }

    fn lookahead(&self, context: Context) -> (Token, String) {
        let (token, literal) = self.item(self.position, context);
        (token, literal.to_string())
    }

    fn consume(&mut self, context: Context) -> (Token, String) {
        let item = self.lookahead(context);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (token, literal) = self.lookahead(Context::Values);
            match token {
                Token::Identifier | Token::DoesNotExist => {
                    let requirement =
                        self.parse_requirement().map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(requirement);
                    let (token, literal) = self.consume(Context::Values);
                    match token {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (next, next_literal) = self.lookahead(Context::Values);
                            if next != Token::Identifier && next != Token::DoesNotExist {
                                return Err(format!("found '{next_literal}', expected: identifier after ','"));
                            }
                        }
                        _ => return Err(format!("found '{literal}', expected: ',' or 'end of string'")),
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => return Err(format!("found '{literal}', expected: !, identifier, or 'end of string'")),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, operator) = self.parse_key_and_infer_operator()?;
        let (operator, values) = match operator {
            Some(operator) => (operator, Vec::new()),
            None => {
                let operator = self.parse_operator()?;
                let values = match operator {
                    Operator::In | Operator::NotIn => self.parse_values()?,
                    _ => self.parse_exact_value()?,
                };
                (operator, values)
            }
        };
        let errors = Requirement::check(&key, operator, &values);
        if errors.is_empty() { Ok(Requirement { key, operator, values }) } else { Err(aggregate(errors)) }
    }

    /// The key, and the operator when it is unary (`!k`, or `k` followed by `,` or the end).
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut token, mut literal) = self.consume(Context::Values);
        if token == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (token, literal) = self.consume(Context::Values);
        }
        if token != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        let key_errors = is_qualified_name(&literal);
        if !key_errors.is_empty() {
            // Upstream validates the key here with no field path, which prints as "<nil>".
            return Err(invalid(NIL_PATH, &literal, &key_errors.join("; ")));
        }
        let (next, _) = self.lookahead(Context::Values);
        if (next == Token::EndOfString || next == Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (token, literal) = self.consume(Context::KeyAndOperator);
        Ok(match token {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{literal}', expected: {BINARY_OPERATORS}")),
        })
    }

    /// `( values )`, returned sorted and de-duplicated as upstream's string set.
    fn parse_values(&mut self) -> Result<Vec<String>, String> {
        let (token, literal) = self.consume(Context::Values);
        if token != Token::OpenPar {
            return Err(format!("found '{literal}' expected: '('"));
        }
        let (token, literal) = self.lookahead(Context::Values);
        let mut set = match token {
            Token::Identifier | Token::Comma => {
                let set = self.parse_identifiers_list()?;
                let (token, _) = self.consume(Context::Values);
                if token != Token::ClosedPar {
                    return Err(format!("found '{literal}', expected: ')'"));
                }
                set
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                vec![String::new()]
            }
            _ => return Err(format!("found '{literal}', expected: ',', ')' or identifier")),
        };
        set.sort_unstable();
        set.dedup();
        Ok(set)
    }

    /// Comma-separated, possibly empty identifiers up to (not including) `)`.
    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, String> {
        let mut set: Vec<String> = Vec::new();
        loop {
            let (token, literal) = self.consume(Context::Values);
            match token {
                Token::Identifier => {
                    set.push(literal);
                    let (next, next_literal) = self.lookahead(Context::Values);
                    match next {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set),
                        _ => return Err(format!("found '{next_literal}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    // An empty entry (`(,a)`, `(a,,b)`, `(a,)`) is the empty value.
                    if set.is_empty() {
                        set.push(String::new());
                    }
                    let (next, _) = self.lookahead(Context::Values);
                    match next {
                        Token::ClosedPar => {
                            set.push(String::new());
                            return Ok(set);
                        }
                        Token::Comma => set.push(String::new()),
                        _ => {}
                    }
                }
                _ => return Err(format!("found '{literal}', expected: ',', or identifier")),
            }
        }
    }

    /// The one value after `=`, `==`, `!=`, `>` or `<`; nothing before `,` or the end means "".
    fn parse_exact_value(&mut self) -> Result<Vec<String>, String> {
        let (token, _) = self.lookahead(Context::Values);
        if token == Token::EndOfString || token == Token::Comma {
            return Ok(vec![String::new()]);
        }
        let (token, literal) = self.consume(Context::Values);
        if token == Token::Identifier {
            Ok(vec![literal])
        } else {
            Err(format!("found '{literal}', expected: identifier"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

/// The operator of one field-selector term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `field=value` or `field==value` (upstream does not keep them apart).
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One term of a field selector, with its value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`, `spec.nodeName` (not trimmed, not checked).
    pub field: String,
    /// The operator.
    pub operator: FieldOperator,
    /// The value, unescaped.
    pub value: String,
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operator = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{operator}{}", self.field, escape_field_value(&self.value))
    }
}

/// A field selector: terms that must all hold. The empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldRequirement>,
}

/// Escapes a value for a field selector: `\` → `\\`, `,` → `\,`, `=` → `\=`.
pub fn escape_field_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape_field_value`]; an unescaped `,` or `=`, an unknown escape or a trailing
/// `\` is an error in upstream's words.
pub fn unescape_field_value(value: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError::InvalidFieldSelector(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            // Upstream prints the rune with %v, i.e. as its number.
            ',' | '=' => {
                return Err(SelectorError::InvalidFieldSelector(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )));
            }
            c => out.push(c),
        }
    }
    if escaped {
        return Err(SelectorError::InvalidFieldSelector("invalid field selector: invalid escape sequence: \\".into()));
    }
    Ok(out)
}

/// Splits at commas not escaped by a backslash.
fn split_terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, b) in text.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b',' {
            terms.push(&text[start..i]);
            start = i + 1;
        }
    }
    terms.push(&text[start..]);
    terms
}

/// Splits a term at its first operator; at each position `!=` is tried before `==` and `=`.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    let bytes = term.as_bytes();
    for i in 0..bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"!=") {
            return Some((&term[..i], FieldOperator::NotEquals, &term[i + 2..]));
        }
        if rest.starts_with(b"==") {
            return Some((&term[..i], FieldOperator::Equals, &term[i + 2..]));
        }
        if rest.starts_with(b"=") {
            return Some((&term[..i], FieldOperator::Equals, &term[i + 1..]));
        }
    }
    None
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        FieldSelector::default()
    }

    /// A selector of the given terms, in the given order.
    pub fn from_terms(terms: Vec<FieldRequirement>) -> Self {
        FieldSelector { terms }
    }

    /// Parses the `fieldSelector` query parameter text (upstream's `fields.ParseSelector`).
    /// Terms are sorted by their text, as upstream does before parsing; empty terms are skipped.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(text);
        parts.sort_unstable();
        let mut terms = Vec::with_capacity(parts.len());
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let (field, operator, value) = split_term(part).ok_or_else(|| {
                SelectorError::InvalidFieldSelector(format!("invalid selector: '{text}'; can't understand '{part}'"))
            })?;
            terms.push(FieldRequirement { field: field.to_string(), operator, value: unescape_field_value(value)? });
        }
        Ok(FieldSelector { terms })
    }

    /// The terms.
    pub fn terms(&self) -> &[FieldRequirement] {
        &self.terms
    }

    /// Whether the selector has no terms (matches everything).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether an object is selected. `get` returns the object's value of a field path (the
    /// caller knows how each supported field reads, e.g. booleans as `"true"`); `None` reads as
    /// `""`, as upstream's field sets do.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|term| {
            let actual = get(&term.field).unwrap_or_default();
            match term.operator {
                FieldOperator::Equals => actual == term.value,
                FieldOperator::NotEquals => actual != term.value,
            }
        })
    }

    /// The value an `=` term requires of `field`, if any (upstream's `RequiresExactMatch`): how
    /// a request narrows itself to one name or namespace.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms.iter().find(|t| t.field == field && t.operator == FieldOperator::Equals).map(|t| t.value.as_str())
    }

    /// Refuses the first term whose field is not in `allowed`. `type_has_own_fields` picks
    /// upstream's message: types that register selectable fields (Pods, Events, Secrets…) answer
    /// `field label not supported: <field>`; the others fall back to upstream's default
    /// conversion, which answers `"<field>" is not a known field selector: only "metadata.name",
    /// "metadata.namespace"`. Both are `400 BadRequest`.
    pub fn check_fields(&self, allowed: &[&str], type_has_own_fields: bool) -> Result<(), SelectorError> {
        match self.terms.iter().find(|t| !allowed.contains(&t.field.as_str())) {
            None => Ok(()),
            Some(term) if type_has_own_fields => Err(SelectorError::FieldLabelNotSupported(term.field.clone())),
            Some(term) => Err(SelectorError::UnknownFieldSelector(term.field.clone())),
        }
    }
}

impl fmt::Display for FieldSelector {
    /// The terms joined by `,`, values escaped; `==` prints as `=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn labels(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn parse(text: &str) -> LabelSelector {
        match LabelSelector::parse(text) {
            Ok(selector) => selector,
            Err(e) => panic!("{text:?} should parse: {e}"),
        }
    }

    fn parse_error(text: &str) -> String {
        match LabelSelector::parse(text) {
            Ok(selector) => panic!("{text:?} should not parse, got {selector}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn equality_requirements_match_the_label_value() {
        let web = labels(json!({"app": "web", "tier": "front"}));
        assert!(parse("app=web").matches(&web));
        assert!(parse("app==web,tier=front").matches(&web));
        assert!(!parse("app=db").matches(&web));
        assert!(!parse("missing=web").matches(&web));
    }

    #[test]
    fn not_equals_matches_objects_without_the_label() {
        assert!(parse("app!=web").matches(&labels(json!({}))));
        assert!(parse("app!=web").matches(&labels(json!({"app": "db"}))));
        assert!(!parse("app!=web").matches(&labels(json!({"app": "web"}))));
    }

    #[test]
    fn set_based_notin_matches_objects_without_the_label() {
        let selector = parse("env notin (prod, staging)");
        assert!(selector.matches(&labels(json!({}))));
        assert!(selector.matches(&labels(json!({"env": "dev"}))));
        assert!(!selector.matches(&labels(json!({"env": "prod"}))));
    }

    #[test]
    fn set_based_in_requires_the_label() {
        let selector = parse("env in (prod,staging)");
        assert!(selector.matches(&labels(json!({"env": "staging"}))));
        assert!(!selector.matches(&labels(json!({}))));
    }

    #[test]
    fn exists_and_does_not_exist_look_only_at_the_key() {
        let with = labels(json!({"canary": ""}));
        assert!(parse("canary").matches(&with));
        assert!(!parse("!canary").matches(&with));
        assert!(parse("!canary").matches(&labels(json!({}))));
    }

    #[test]
    fn greater_and_less_than_compare_integers_and_refuse_non_integers() {
        let three = labels(json!({"replicas": "3"}));
        assert!(parse("replicas>2").matches(&three));
        assert!(!parse("replicas>3").matches(&three));
        assert!(parse("replicas<10").matches(&three));
        assert!(!parse("replicas<10").matches(&labels(json!({"replicas": "x"}))));
        assert!(!parse("replicas<10").matches(&labels(json!({}))));
        assert_eq!(
            parse_error("replicas>x"),
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
        );
    }

    #[test]
    fn empty_selector_matches_everything_and_prints_empty() {
        for text in ["", "  ", "\t\n"] {
            let selector = parse(text);
            assert!(selector.is_everything());
            assert!(selector.matches(&labels(json!({"a": "b"}))));
            assert_eq!(selector.to_string(), "");
        }
    }

    #[test]
    fn whitespace_around_tokens_is_ignored_and_output_is_canonical() {
        let selector = parse("  tier in ( b , a ),app = web , ! legacy,x==y,z notin(c)");
        assert_eq!(selector.to_string(), "app=web,!legacy,tier in (a,b),x==y,z notin (c)");
    }

    #[test]
    fn keywords_are_identifiers_where_a_value_or_key_is_expected() {
        let selector = parse("in=notin,notin in (in)");
        assert_eq!(selector.to_string(), "in=notin,notin in (in)");
        assert!(selector.matches(&labels(json!({"in": "notin", "notin": "in"}))));
    }

    #[test]
    fn empty_values_in_sets_and_after_operators_mean_the_empty_string() {
        assert_eq!(parse("a in ()").requirements()[0].values(), [""]);
        assert_eq!(parse("a in (,b,,)").requirements()[0].values(), ["", "b"]);
        assert_eq!(parse("a=,b").to_string(), "a=,b");
        assert!(parse("a=").matches(&labels(json!({"a": ""}))));
        assert!(!parse("a=").matches(&labels(json!({}))));
    }

    #[test]
    fn prefixed_keys_are_accepted() {
        let selector = parse("app.kubernetes.io/name=web");
        assert!(selector.matches(&labels(json!({"app.kubernetes.io/name": "web"}))));
    }

    #[test]
    fn parse_errors_carry_upstreams_messages() {
        assert_eq!(parse_error("a in"), "unable to parse requirement: found '' expected: '('");
        assert_eq!(parse_error("a in (b"), "unable to parse requirement: found '', expected: ',' or ')'");
        assert_eq!(parse_error("a,"), "found '', expected: identifier after ','");
        assert_eq!(
            parse_error("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(parse_error("a=b c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(parse_error("=a"), "found '=', expected: !, identifier, or 'end of string'");
        assert_eq!(parse_error("a=(b)"), "unable to parse requirement: found '(', expected: identifier");
        assert_eq!(parse_error("!a=b"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(parse_error("a in (b c)"), "unable to parse requirement: found 'c', expected: ',' or ')'");
        assert_eq!(parse_error("!"), "unable to parse requirement: found '', expected: identifier");
        assert_eq!(
            parse_error("a (b)"),
            "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"
        );
    }

    #[test]
    fn invalid_keys_and_values_are_reported_with_upstreams_paths() {
        assert_eq!(
            parse_error("-a=b"),
            "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert_eq!(
            parse_error("a=-b"),
            "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        let two = parse_error("a in (-b,-c)");
        assert!(two.starts_with("unable to parse requirement: [values[0][a]: Invalid value: \"-b\""), "{two}");
        assert!(two.contains(", values[1][a]: Invalid value: \"-c\""), "{two}");
    }

    #[test]
    fn label_selector_object_with_no_fields_matches_everything_and_null_matches_nothing() {
        let everything = LabelSelector::from_json(Some(&json!({}))).expect("valid");
        assert!(everything.is_everything());
        assert!(everything.matches(&labels(json!({"a": "b"}))));
        for nothing in [LabelSelector::from_json(None), LabelSelector::from_json(Some(&Value::Null))] {
            let nothing = nothing.expect("valid");
            assert!(nothing.is_nothing());
            assert!(!nothing.matches(&labels(json!({}))));
            assert_eq!(nothing.to_string(), "");
        }
    }

    #[test]
    fn label_selector_object_combines_match_labels_and_expressions() {
        let selector = LabelSelector::from_json(Some(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "canary"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        })))
        .expect("valid");
        assert_eq!(selector.to_string(), "app=web,env in (canary,prod),!legacy");
        assert!(selector.matches(&labels(json!({"app": "web", "env": "prod"}))));
        assert!(!selector.matches(&labels(json!({"app": "web", "env": "prod", "legacy": "1"}))));
    }

    #[test]
    fn label_selector_object_refuses_unknown_operators_and_bad_value_sets() {
        let unknown = LabelSelector::from_json(Some(&json!({"matchExpressions": [{"key": "a", "operator": "Gt"}]})));
        assert_eq!(unknown.map_err(|e| e.to_string()), Err("\"Gt\" is not a valid label selector operator".into()));
        let empty_in = LabelSelector::from_json(Some(&json!({"matchExpressions": [{"key": "a", "operator": "In"}]})));
        assert_eq!(
            empty_in.map_err(|e| e.to_string()),
            Err("values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty".into())
        );
        let exists_with_values = LabelSelector::from_json(Some(&json!({
            "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
        })));
        assert_eq!(
            exists_with_values.map_err(|e| e.to_string()),
            Err("values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist".into())
        );
        let bad_key = LabelSelector::from_json(Some(&json!({"matchLabels": {"a b": "c"}})));
        assert!(bad_key.map_err(|e| e.to_string()).unwrap_err().starts_with("key: Invalid value: \"a b\": name part"));
        for malformed in [json!([]), json!({"matchLabels": []}), json!({"matchExpressions": [1]})] {
            assert!(LabelSelector::from_json(Some(&malformed)).is_err(), "{malformed}");
        }
    }

    #[test]
    fn selector_from_labels_requires_every_label() {
        let selector = LabelSelector::from_labels(&labels(json!({"b": "2", "a": "1"}))).expect("valid");
        assert_eq!(selector.to_string(), "a=1,b=2");
        assert!(LabelSelector::from_labels(&Map::new()).expect("valid").is_everything());
    }

    #[test]
    fn matches_with_reads_any_label_map() {
        let map = BTreeMap::from([("app".to_string(), "web".to_string())]);
        assert!(parse("app=web,!db").matches_with(|k| map.get(k).map(String::as_str)));
    }

    #[test]
    fn non_string_label_values_exist_but_equal_nothing() {
        let odd = labels(json!({"n": 5}));
        assert!(parse("n").matches(&odd));
        assert!(!parse("n=5").matches(&odd));
        assert!(parse("n!=5").matches(&odd));
    }

    #[test]
    fn field_selector_terms_match_extracted_values() {
        let selector = FieldSelector::parse("spec.nodeName=node-1,status.phase!=Failed").expect("valid");
        let pod = |node: &str, phase: &str| {
            let (node, phase) = (node.to_string(), phase.to_string());
            move |field: &str| match field {
                "spec.nodeName" => Some(node.clone()),
                "status.phase" => Some(phase.clone()),
                _ => None,
            }
        };
        assert!(selector.matches(pod("node-1", "Running")));
        assert!(!selector.matches(pod("node-1", "Failed")));
        assert!(!selector.matches(pod("node-2", "Running")));
    }

    #[test]
    fn field_selector_absent_fields_read_as_empty() {
        assert!(FieldSelector::parse("spec.nodeName=").expect("valid").matches(|_| None));
        assert!(FieldSelector::parse("spec.nodeName!=x").expect("valid").matches(|_| None));
    }

    #[test]
    fn field_selector_unescapes_values_and_prints_them_escaped() {
        let selector = FieldSelector::parse(r"metadata.name=a\,b\=c\\d").expect("valid");
        assert_eq!(selector.terms()[0].value, r"a,b=c\d");
        assert_eq!(selector.to_string(), r"metadata.name=a\,b\=c\\d");
    }

    #[test]
    fn field_selector_double_equals_prints_as_equals_and_terms_are_sorted() {
        let selector = FieldSelector::parse("status.phase==Running,metadata.name=a").expect("valid");
        assert_eq!(selector.to_string(), "metadata.name=a,status.phase=Running");
        assert_eq!(selector.requires_exact_match("metadata.name"), Some("a"));
        assert_eq!(selector.requires_exact_match("metadata.namespace"), None);
    }

    #[test]
    fn field_selector_errors_carry_upstreams_messages() {
        let error = |text: &str| FieldSelector::parse(text).map(|s| s.to_string()).map_err(|e| e.to_string());
        assert_eq!(
            error("metadata.name"),
            Err("invalid selector: 'metadata.name'; can't understand 'metadata.name'".into())
        );
        assert_eq!(error("a=b=c"), Err("invalid field selector: unescaped character in value: 61".into()));
        assert_eq!(error(r"a=b\x"), Err(r"invalid field selector: invalid escape sequence: \x".into()));
        assert_eq!(error(r"a=b\"), Err(r"invalid field selector: invalid escape sequence: \".into()));
        assert_eq!(error(""), Ok(String::new()));
        assert_eq!(error(",,"), Ok(String::new()));
    }

    #[test]
    fn field_selector_refuses_unsupported_fields_in_upstreams_words() {
        let selector = FieldSelector::parse("metadata.name=a,spec.foo=b").expect("valid");
        let allowed = ["metadata.name", "metadata.namespace", "spec.nodeName"];
        assert_eq!(
            selector.check_fields(&allowed, true).map_err(|e| e.to_string()),
            Err("field label not supported: spec.foo".into())
        );
        assert_eq!(
            selector.check_fields(&allowed[..2], false).map_err(|e| e.to_string()),
            Err("\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into())
        );
        assert_eq!(FieldSelector::parse("metadata.name=a").expect("valid").check_fields(&allowed, true), Ok(()));
    }

    // -----------------------------------------------------------------------------------------
    // Properties
    // -----------------------------------------------------------------------------------------

    fn key_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]([a-z0-9._-]{0,6}[a-z0-9])?",
            "[a-z]{1,4}\\.[a-z]{2,3}/[A-Za-z]([A-Za-z0-9_.-]{0,4}[A-Za-z0-9])?",
            Just("in".to_string()),
            Just("notin".to_string()),
        ]
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[A-Za-z0-9]([A-Za-z0-9_.-]{0,5}[A-Za-z0-9])?", Just("in".to_string())]
    }

    fn operator_strategy() -> impl Strategy<Value = Operator> {
        prop_oneof![
            Just(Operator::Exists),
            Just(Operator::DoesNotExist),
            Just(Operator::Equals),
            Just(Operator::DoubleEquals),
            Just(Operator::NotEquals),
            Just(Operator::In),
            Just(Operator::NotIn),
            Just(Operator::GreaterThan),
            Just(Operator::LessThan),
        ]
    }

    fn requirement_strategy() -> impl Strategy<Value = Requirement> {
        (key_strategy(), operator_strategy(), proptest::collection::btree_set(value_strategy(), 1..4), 0i64..20)
            .prop_map(|(key, operator, set, number)| {
                let values = match operator {
                    Operator::Exists | Operator::DoesNotExist => Vec::new(),
                    Operator::In | Operator::NotIn => set.into_iter().collect(),
                    Operator::GreaterThan | Operator::LessThan => vec![number.to_string()],
                    _ => set.into_iter().take(1).collect(),
                };
                Requirement { key, operator, values }
            })
    }

    fn labels_strategy() -> impl Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map(
            key_strategy(),
            prop_oneof![value_strategy(), (0i64..20).prop_map(|n| n.to_string())],
            0..5,
        )
    }

    /// The meaning of each operator, written out independently of the implementation.
    fn reference_matches(requirements: &[Requirement], labels: &BTreeMap<String, String>) -> bool {
        requirements.iter().all(|r| {
            let actual = labels.get(&r.key);
            let in_set = actual.is_some_and(|v| r.values.contains(v));
            let number = |s: &String| s.parse::<i64>().ok();
            match r.operator {
                Operator::Exists => actual.is_some(),
                Operator::DoesNotExist => actual.is_none(),
                Operator::Equals | Operator::DoubleEquals | Operator::In => in_set,
                Operator::NotEquals | Operator::NotIn => !in_set,
                Operator::GreaterThan => {
                    matches!((actual.and_then(number), number(&r.values[0])), (Some(a), Some(b)) if a > b)
                }
                Operator::LessThan => {
                    matches!((actual.and_then(number), number(&r.values[0])), (Some(a), Some(b)) if a < b)
                }
            }
        })
    }

    proptest! {
        #[test]
        fn label_selector_display_then_parse_round_trips(requirements in proptest::collection::vec(requirement_strategy(), 0..5)) {
            let selector = LabelSelector::from_requirements(requirements);
            let text = selector.to_string();
            let reparsed = LabelSelector::parse(&text);
            prop_assert_eq!(reparsed, Ok(selector), "text: {}", text);
        }

        #[test]
        fn label_selector_matching_agrees_with_the_reference(
            requirements in proptest::collection::vec(requirement_strategy(), 0..4),
            labels in labels_strategy(),
        ) {
            let selector = LabelSelector::parse(&LabelSelector::from_requirements(requirements.clone()).to_string())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let as_json: Map<String, Value> = labels.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            let expected = reference_matches(&requirements, &labels);
            prop_assert_eq!(selector.matches(&as_json), expected);
            prop_assert_eq!(selector.matches_with(|k| labels.get(k).map(String::as_str)), expected);
        }

        #[test]
        fn label_selector_parse_never_panics_and_its_output_reparses_to_itself(text in "[a-z0-9 !=<>(),.\\-/in]{0,24}") {
            if let Ok(selector) = LabelSelector::parse(&text) {
                let printed = selector.to_string();
                prop_assert_eq!(LabelSelector::parse(&printed), Ok(selector), "from {:?} printed {:?}", text, printed);
            }
        }

        #[test]
        fn label_selector_parse_never_panics_on_arbitrary_text(text in "\\PC{0,40}") {
            let _ = LabelSelector::parse(&text);
        }

        #[test]
        fn field_values_escape_then_unescape_to_themselves(value in "[a-z,=\\\\ ]{0,12}") {
            prop_assert_eq!(unescape_field_value(&escape_field_value(&value)), Ok(value));
        }

        #[test]
        fn field_selector_display_then_parse_round_trips(
            terms in proptest::collection::vec(("[a-z]{1,3}(\\.[a-z]{1,3})?", any::<bool>(), "[a-z0-9,=\\\\!-]{0,6}"), 0..4),
        ) {
            let terms: Vec<FieldRequirement> = terms
                .into_iter()
                .map(|(field, equals, value)| FieldRequirement {
                    field,
                    operator: if equals { FieldOperator::Equals } else { FieldOperator::NotEquals },
                    value,
                })
                .collect();
            let text = FieldSelector::from_terms(terms.clone()).to_string();
            let parsed = FieldSelector::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            // Parsing sorts the terms by their text; compare as multisets of printed terms.
            let mut expected: Vec<String> = terms.iter().map(ToString::to_string).collect();
            expected.sort();
            let printed: Vec<String> = parsed.terms().iter().map(ToString::to_string).collect();
            prop_assert_eq!(printed, expected);
            // And the printed form is a fixed point.
            prop_assert_eq!(FieldSelector::parse(&parsed.to_string()), Ok(parsed));
        }

        #[test]
        fn field_selector_matching_agrees_with_the_reference(
            terms in proptest::collection::vec(("[ab]", any::<bool>(), "[xy]?"), 0..4),
            object in proptest::collection::btree_map("[ab]", "[xy]?", 0..2),
        ) {
            let terms: Vec<FieldRequirement> = terms
                .into_iter()
                .map(|(field, equals, value)| FieldRequirement {
                    field,
                    operator: if equals { FieldOperator::Equals } else { FieldOperator::NotEquals },
                    value,
                })
                .collect();
            let expected = terms.iter().all(|t| {
                let actual = object.get(&t.field).cloned().unwrap_or_default();
                (t.operator == FieldOperator::Equals) == (actual == t.value)
            });
            let selector = FieldSelector::parse(&FieldSelector::from_terms(terms).to_string())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(selector.matches(|f| object.get(f).cloned()), expected);
        }
    }
}
