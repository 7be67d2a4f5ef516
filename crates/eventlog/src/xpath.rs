//! The XPath subset of Windows event queries: what admins paste from `wevtutil qe /q:`,
//! Event Viewer's "Filter Current Log" XML tab, and `Get-WinEvent -FilterXPath`.
//!
//! Understood: `*[...]` (or a bare predicate), `and` / `or` / `not(...)` / parentheses,
//! and inside
//! - `System[...]`: `Provider[@Name='Schannel']` (`@Guid`, `@EventSourceName`),
//!   `EventID`, `Level`, `EventRecordID`, `Task`, `Opcode`, `Version` with `= != < <= > >=`,
//!   `TimeCreated[@SystemTime>='2026-11-25T10:00:00Z']`,
//!   `TimeCreated[timediff(@SystemTime) <= 86400000]`,
//!   `Correlation[@ActivityID='{...}']`, `Execution[@ProcessID=n]` / `@ThreadID`,
//!   `Channel='System'`, `Computer='name'`, `band(Keywords, n)`;
//! - `EventData[...]`: `Data[@Name='AlertDesc']=46` (and `!=`), `Data[@Name='X']`,
//!   `Data='v'`.
//! - a whole `<QueryList>`: its `<Select>` paths are or-ed, its `<Suppress>` paths removed.
//!
//! `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` are read as the characters they stand for, so
//! a query copied out of XML works as it is. Anything else is an error pointing at the
//! character where understanding stopped.
//!
//! The parser recurses once per `(`, `not(` and `[`, so nesting is limited to
//! [`MAX_DEPTH`] levels: a deeper query is an error at the opening character that goes
//! too deep, not a stack overflow. (Real queries nest a handful of levels.)

use crate::error::QueryError;
use crate::query::{field_names, Cmp, Filter};
use securechannel_events::{parse_rfc3339, ActivityId, PROVIDER_GUID, PROVIDER_NAME};

/// How many `(`, `not(` and `[` may be open at once in a query.
pub(crate) const MAX_DEPTH: usize = 64;

/// Parse an XPath query (or a `<QueryList>`) into a filter.
pub fn parse(query: &str) -> Result<Filter, QueryError> {
    let trimmed = query.trim_start();
    if trimmed.starts_with('<') {
        return parse_query_list(query);
    }
    parse_path(query, 0, query.len())
}

/// Parse `query[start..end]` as one path; positions in errors are relative to `query`.
fn parse_path(query: &str, start: usize, end: usize) -> Result<Filter, QueryError> {
    let tokens = lex(query, start, end)?;
    let mut p = Parser {
        query,
        tokens,
        at: 0,
        depth: 0,
    };
    let f = p.top()?;
    p.expect_end()?;
    Ok(f)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Star,
    LBrack,
    RBrack,
    LParen,
    RParen,
    At,
    Comma,
    Op(Cmp),
    Str(String),
    Num(String),
    Name(String),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Star => "'*'".into(),
            Tok::LBrack => "'['".into(),
            Tok::RBrack => "']'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::At => "'@'".into(),
            Tok::Comma => "','".into(),
            Tok::Op(_) => "a comparison".into(),
            Tok::Str(s) => format!("the string '{s}'"),
            Tok::Num(n) => format!("the number {n}"),
            Tok::Name(n) => format!("'{n}'"),
            Tok::End => "the end of the query".into(),
        }
    }
}

/// A token and the character position (not byte) where it starts.
type Spanned = (Tok, usize);

fn err_at(query: &str, byte: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        message: message.into(),
        query: Some(query.to_string()),
        position: Some(query[..byte.min(query.len())].chars().count()),
    }
}

const ENTITIES: [(&str, char); 5] = [
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&amp;", '&'),
    ("&quot;", '"'),
    ("&apos;", '\''),
];

/// The character at byte `i` with XML entities decoded, and the bytes it takes.
fn char_at(query: &str, i: usize) -> Option<(char, usize)> {
    let rest = &query[i..];
    for (entity, c) in ENTITIES {
        if rest.starts_with(entity) {
            return Some((c, entity.len()));
        }
    }
    rest.chars().next().map(|c| (c, c.len_utf8()))
}

fn lex(query: &str, start: usize, end: usize) -> Result<Vec<(Tok, usize)>, QueryError> {
    let mut out: Vec<(Tok, usize)> = Vec::new();
    let mut i = start;
    while i < end {
        let Some((c, n)) = char_at(query, i) else {
            break;
        };
        let begin = i;
        match c {
            c if c.is_whitespace() => i += n,
            '*' => push(&mut out, Tok::Star, begin, &mut i, n),
            '[' => push(&mut out, Tok::LBrack, begin, &mut i, n),
            ']' => push(&mut out, Tok::RBrack, begin, &mut i, n),
            '(' => push(&mut out, Tok::LParen, begin, &mut i, n),
            ')' => push(&mut out, Tok::RParen, begin, &mut i, n),
            '@' => push(&mut out, Tok::At, begin, &mut i, n),
            ',' => push(&mut out, Tok::Comma, begin, &mut i, n),
            '=' => push(&mut out, Tok::Op(Cmp::Eq), begin, &mut i, n),
            '!' | '<' | '>' => {
                i += n;
                let eq = char_at(query, i).filter(|(c, _)| *c == '=');
                if let Some((_, m)) = eq {
                    i += m;
                }
                let op = match (c, eq.is_some()) {
                    ('!', true) => Cmp::Ne,
                    ('<', false) => Cmp::Lt,
                    ('<', true) => Cmp::Le,
                    ('>', false) => Cmp::Gt,
                    ('>', true) => Cmp::Ge,
                    _ => return Err(err_at(query, begin, "'!' must be followed by '=' ('!=')")),
                };
                out.push((Tok::Op(op), begin));
            }
            '\'' | '"' => {
                i += n;
                let mut s = String::new();
                loop {
                    match char_at(query, i).filter(|_| i < end) {
                        None => return Err(err_at(query, begin, "this string is not closed")),
                        Some((d, m)) if d == c => {
                            i += m;
                            break;
                        }
                        Some((d, m)) => {
                            s.push(d);
                            i += m;
                        }
                    }
                }
                out.push((Tok::Str(s), begin));
            }
            c if c.is_ascii_digit() => {
                let mut s = String::new();
                while let Some((d, m)) = char_at(query, i).filter(|_| i < end) {
                    if d.is_ascii_alphanumeric() || d == '.' {
                        s.push(d);
                        i += m;
                    } else {
                        break;
                    }
                }
                out.push((Tok::Num(s), begin));
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::new();
                while let Some((d, m)) = char_at(query, i).filter(|_| i < end) {
                    if d.is_alphanumeric() || matches!(d, '_' | '-' | '.' | ':') {
                        s.push(d);
                        i += m;
                    } else {
                        break;
                    }
                }
                out.push((Tok::Name(s), begin));
            }
            _ => {
                return Err(err_at(
                    query,
                    begin,
                    format!("'{c}' is not understood here"),
                ))
            }
        }
    }
    out.push((Tok::End, end));
    Ok(out)
}

fn push(out: &mut Vec<(Tok, usize)>, t: Tok, begin: usize, i: &mut usize, n: usize) {
    out.push((t, begin));
    *i += n;
}

/// Where in the event a predicate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Event,
    System,
    Provider,
    TimeCreated,
    Correlation,
    Execution,
    EventData,
}

impl Ctx {
    fn expected(self) -> &'static str {
        match self {
            Ctx::Event => "System[...] or EventData[...]",
            Ctx::System => "Provider[...], EventID, Level, EventRecordID, TimeCreated[...], Correlation[...], Execution[...], Task, Opcode, Version, Channel, Computer or band(Keywords, n)",
            Ctx::Provider => "@Name, @Guid or @EventSourceName",
            Ctx::TimeCreated => "@SystemTime or timediff(@SystemTime)",
            Ctx::Correlation => "@ActivityID",
            Ctx::Execution => "@ProcessID or @ThreadID",
            Ctx::EventData => "Data[@Name='...']=value, Data[@Name='...'] or Data=value",
        }
    }
}

struct Parser<'q> {
    query: &'q str,
    tokens: Vec<Spanned>,
    at: usize,
    /// `(`, `not(` and `[` open now (each one a level of recursion).
    depth: usize,
}

/// The Keywords every Schannel event carries (`0x8000000000000000`, "Classic").
const KEYWORDS: u64 = 0x8000_0000_0000_0000;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.at).map_or(&Tok::End, |t| &t.0)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.at).map_or(self.query.len(), |t| t.1)
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>) -> QueryError {
        err_at(self.query, self.pos(), message)
    }

    fn unexpected(&self, wanted: &str) -> QueryError {
        self.error(format!(
            "expected {wanted}, found {}",
            self.peek().describe()
        ))
    }

    fn expect(&mut self, t: Tok, wanted: &str) -> Result<(), QueryError> {
        if *self.peek() == t {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected(wanted))
        }
    }

    fn expect_end(&mut self) -> Result<(), QueryError> {
        if *self.peek() == Tok::End {
            Ok(())
        } else {
            Err(self.unexpected("'and', 'or' or the end of the query"))
        }
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n.eq_ignore_ascii_case(name))
    }

    /// `*[...]`, `*`, `Event[...]`, or a bare predicate.
    fn top(&mut self) -> Result<Filter, QueryError> {
        if *self.peek() == Tok::End {
            return Ok(Filter::All);
        }
        if *self.peek() == Tok::Star || self.is_name("Event") {
            self.next();
            if *self.peek() == Tok::End {
                return Ok(Filter::All);
            }
            return self.nested(|p| {
                p.expect(Tok::LBrack, "'[' after '*'")?;
                let f = p.or_expr(Ctx::Event)?;
                p.expect(Tok::RBrack, "']' or 'and' / 'or'")?;
                Ok(f)
            });
        }
        self.or_expr(Ctx::Event)
    }

    fn or_expr(&mut self, ctx: Ctx) -> Result<Filter, QueryError> {
        let mut parts = vec![self.and_expr(ctx)?];
        while self.is_name("or") {
            self.next();
            parts.push(self.and_expr(ctx)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and_expr(&mut self, ctx: Ctx) -> Result<Filter, QueryError> {
        let mut parts = vec![self.unary(ctx)?];
        while self.is_name("and") {
            self.next();
            parts.push(self.unary(ctx)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn unary(&mut self, ctx: Ctx) -> Result<Filter, QueryError> {
        if self.is_name("not") && self.tokens.get(self.at + 1).map(|t| &t.0) == Some(&Tok::LParen) {
            return self.nested(|p| {
                p.next();
                p.next();
                let f = p.or_expr(ctx)?;
                p.expect(Tok::RParen, "')'")?;
                Ok(Filter::Not(Box::new(f)))
            });
        }
        if *self.peek() == Tok::LParen {
            return self.nested(|p| {
                p.next();
                let f = p.or_expr(ctx)?;
                p.expect(Tok::RParen, "')' or 'and' / 'or'")?;
                Ok(f)
            });
        }
        self.term(ctx)
    }

    fn bracketed(&mut self, ctx: Ctx) -> Result<Filter, QueryError> {
        self.nested(|p| {
            p.expect(Tok::LBrack, "'['")?;
            let f = p.or_expr(ctx)?;
            p.expect(Tok::RBrack, "']' or 'and' / 'or'")?;
            Ok(f)
        })
    }

    /// Parse one level deeper (the next token opens it), or refuse past `MAX_DEPTH`.
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Filter, QueryError>,
    ) -> Result<Filter, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!(
                "the query nests more than {MAX_DEPTH} levels of '(', 'not(' and '['"
            )));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn cmp(&mut self) -> Result<Cmp, QueryError> {
        match self.peek() {
            Tok::Op(c) => {
                let c = *c;
                self.next();
                Ok(c)
            }
            _ => Err(self.unexpected("a comparison (=, !=, <, <=, >, >=)")),
        }
    }

    fn number(&mut self) -> Result<u64, QueryError> {
        let text = match self.peek() {
            Tok::Num(n) | Tok::Str(n) => n.clone(),
            _ => return Err(self.unexpected("a number")),
        };
        let t = text.trim();
        let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => t.parse::<u64>().ok(),
        };
        match v {
            Some(v) => {
                self.next();
                Ok(v)
            }
            None => Err(self.error(format!("'{text}' is not a whole number"))),
        }
    }

    fn string(&mut self) -> Result<String, QueryError> {
        match self.peek() {
            Tok::Str(s) | Tok::Num(s) => {
                let s = s.clone();
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected("a quoted string")),
        }
    }

    /// `@Name`, for the attribute contexts.
    fn attribute(&mut self, ctx: Ctx) -> Result<String, QueryError> {
        if *self.peek() != Tok::At {
            return Err(self.unexpected(ctx.expected()));
        }
        self.next();
        match self.next() {
            Tok::Name(n) => Ok(n),
            _ => {
                self.at -= 1;
                Err(self.unexpected("an attribute name after '@'"))
            }
        }
    }

    fn equality(&mut self) -> Result<Cmp, QueryError> {
        let start = self.pos();
        match self.cmp()? {
            c @ (Cmp::Eq | Cmp::Ne) => Ok(c),
            _ => Err(err_at(self.query, start, "only = and != compare text here")),
        }
    }

    fn constant_text(&mut self, actual: &str) -> Result<Filter, QueryError> {
        let c = self.equality()?;
        let v = self.string()?;
        let equal = v.eq_ignore_ascii_case(actual);
        Ok(if equal == (c == Cmp::Eq) {
            Filter::All
        } else {
            Filter::Nothing
        })
    }

    fn constant_number(&mut self, actual: u64) -> Result<Filter, QueryError> {
        let c = self.cmp()?;
        let v = self.number()?;
        Ok(if c.holds(actual, v) {
            Filter::All
        } else {
            Filter::Nothing
        })
    }

    fn term(&mut self, ctx: Ctx) -> Result<Filter, QueryError> {
        let start = self.pos();
        match ctx {
            Ctx::Event => {
                if self.is_name("System") {
                    self.next();
                    return self.bracketed(Ctx::System);
                }
                if self.is_name("EventData") {
                    self.next();
                    return self.bracketed(Ctx::EventData);
                }
                Err(self.unexpected(ctx.expected()))
            }
            Ctx::System => {
                let Tok::Name(name) = self.peek().clone() else {
                    return Err(self.unexpected(ctx.expected()));
                };
                self.next();
                match name.as_str() {
                    "Provider" => self.bracketed(Ctx::Provider),
                    "TimeCreated" => self.bracketed(Ctx::TimeCreated),
                    "Correlation" => self.bracketed(Ctx::Correlation),
                    "Execution" => self.bracketed(Ctx::Execution),
                    "EventID" => {
                        let c = self.cmp()?;
                        let v = self.number()?;
                        Ok(Filter::EventId(c, v.min(u32::MAX as u64) as u32))
                    }
                    "Level" => {
                        let c = self.cmp()?;
                        let v = self.number()?;
                        Ok(Filter::Level(c, v.min(u8::MAX as u64) as u8))
                    }
                    "EventRecordID" => {
                        let c = self.cmp()?;
                        Ok(Filter::RecordId(c, self.number()?))
                    }
                    // Schannel events have Task, Opcode and Version 0.
                    "Task" | "Opcode" | "Version" => self.constant_number(0),
                    "Channel" => self.constant_text("System"),
                    "Computer" => {
                        let c = self.equality()?;
                        let f = Filter::Computer(self.string()?);
                        Ok(if c == Cmp::Eq {
                            f
                        } else {
                            Filter::Not(Box::new(f))
                        })
                    }
                    "band" => {
                        self.expect(Tok::LParen, "'(' after band")?;
                        if !self.is_name("Keywords") {
                            return Err(self.unexpected("Keywords"));
                        }
                        self.next();
                        self.expect(Tok::Comma, "','")?;
                        let mask = self.number()?;
                        self.expect(Tok::RParen, "')'")?;
                        Ok(if KEYWORDS & mask != 0 {
                            Filter::All
                        } else {
                            Filter::Nothing
                        })
                    }
                    _ => Err(err_at(
                        self.query,
                        start,
                        format!(
                            "'{name}' is not supported inside System[...]; expected {}",
                            ctx.expected()
                        ),
                    )),
                }
            }
            Ctx::Provider => {
                let attr = self.attribute(ctx)?;
                match attr.as_str() {
                    "Name" | "EventSourceName" => self.constant_text(PROVIDER_NAME),
                    "Guid" => self.constant_text(PROVIDER_GUID),
                    _ => Err(err_at(
                        self.query,
                        start,
                        format!("'@{attr}' is not supported; expected {}", ctx.expected()),
                    )),
                }
            }
            Ctx::TimeCreated => {
                if self.is_name("timediff") {
                    self.next();
                    self.expect(Tok::LParen, "'(' after timediff")?;
                    let attr = self.attribute(ctx)?;
                    if attr != "SystemTime" {
                        return Err(err_at(self.query, start, "timediff takes @SystemTime"));
                    }
                    self.expect(Tok::RParen, "')'")?;
                    let c = self.cmp()?;
                    return Ok(Filter::Age(c, self.number()?));
                }
                let attr = self.attribute(ctx)?;
                if attr != "SystemTime" {
                    return Err(err_at(
                        self.query,
                        start,
                        format!("'@{attr}' is not supported; expected {}", ctx.expected()),
                    ));
                }
                let c = self.cmp()?;
                let at = self.pos();
                let s = self.string()?;
                let t = parse_rfc3339(&s).map_err(|e| err_at(self.query, at, e))?;
                Ok(Filter::Time(c, t))
            }
            Ctx::Correlation => {
                let attr = self.attribute(ctx)?;
                if attr != "ActivityID" {
                    return Err(err_at(
                        self.query,
                        start,
                        format!("'@{attr}' is not supported; expected {}", ctx.expected()),
                    ));
                }
                let c = self.equality()?;
                let at = self.pos();
                let s = self.string()?;
                let a = ActivityId::parse(&s).map_err(|e| err_at(self.query, at, e))?;
                let f = Filter::Activity(a);
                Ok(if c == Cmp::Eq {
                    f
                } else {
                    Filter::Not(Box::new(f))
                })
            }
            Ctx::Execution => {
                let attr = self.attribute(ctx)?;
                let c = self.cmp()?;
                let v = self.number()?.min(u32::MAX as u64) as u32;
                match attr.as_str() {
                    "ProcessID" => Ok(Filter::ProcessId(c, v)),
                    "ThreadID" => Ok(Filter::ThreadId(c, v)),
                    _ => Err(err_at(
                        self.query,
                        start,
                        format!("'@{attr}' is not supported; expected {}", ctx.expected()),
                    )),
                }
            }
            Ctx::EventData => {
                if !self.is_name("Data") {
                    return Err(self.unexpected(ctx.expected()));
                }
                self.next();
                let mut name = None;
                if *self.peek() == Tok::LBrack {
                    self.next();
                    let attr_at = self.pos();
                    let attr = self.attribute(ctx)?;
                    if attr != "Name" {
                        return Err(err_at(
                            self.query,
                            attr_at,
                            "only Data[@Name='...'] is supported",
                        ));
                    }
                    if self.equality()? != Cmp::Eq {
                        return Err(err_at(
                            self.query,
                            attr_at,
                            "only Data[@Name='...'] is supported",
                        ));
                    }
                    let name_at = self.pos();
                    let n = self.string()?;
                    if crate::query::Filter::data_eq(&n, "").is_err() {
                        return Err(err_at(
                            self.query,
                            name_at,
                            format!("no Schannel event has a data field named '{n}'; the fields are: {}", field_names().join(", ")),
                        ));
                    }
                    self.expect(Tok::RBrack, "']'")?;
                    name = Some(n);
                }
                if !matches!(self.peek(), Tok::Op(_)) {
                    return match name {
                        Some(n) => Ok(Filter::HasField(n)),
                        None => Err(self.unexpected("'[@Name=...]' or a comparison after Data")),
                    };
                }
                let cmp = self.equality()?;
                let value = self.string()?;
                Ok(Filter::Data { name, cmp, value })
            }
        }
    }
}

/// `<QueryList><Query><Select Path="System">...</Select><Suppress>...</Suppress></Query></QueryList>`:
/// the Selects or-ed, minus the Suppresses.
fn parse_query_list(query: &str) -> Result<Filter, QueryError> {
    let mut selects = Vec::new();
    let mut suppresses = Vec::new();
    let mut i = 0;
    while let Some(open) = query[i..].find('<').map(|o| o + i) {
        let Some(close) = query[open..].find('>').map(|c| c + open) else {
            return Err(err_at(query, open, "this XML tag is not closed"));
        };
        let tag = &query[open + 1..close];
        i = close + 1;
        if tag.starts_with('/')
            || tag.ends_with('/')
            || tag.starts_with('?')
            || tag.starts_with('!')
        {
            continue;
        }
        let name = tag.split(char::is_whitespace).next().unwrap_or("");
        let into = match name {
            "Select" => &mut selects,
            "Suppress" => &mut suppresses,
            "QueryList" | "Query" => continue,
            _ => return Err(err_at(query, open + 1, format!("'<{name}>' is not understood in a QueryList (expected QueryList, Query, Select, Suppress)"))),
        };
        if let Some(path) = attribute_value(tag, "Path") {
            if path != "System" {
                return Err(err_at(
                    query,
                    open + 1,
                    format!("only the System log is kept here, not '{path}'"),
                ));
            }
        }
        let end_tag = format!("</{name}>");
        let Some(end) = query[i..].find(&end_tag).map(|e| e + i) else {
            return Err(err_at(query, open, format!("no {end_tag} for this tag")));
        };
        into.push(parse_path(query, i, end)?);
        i = end + end_tag.len();
    }
    if selects.is_empty() {
        return Err(err_at(query, 0, "a QueryList needs at least one <Select>"));
    }
    let mut f = if selects.len() == 1 {
        selects.remove(0)
    } else {
        Filter::Or(selects)
    };
    for s in suppresses {
        f = f.and(Filter::Not(Box::new(s)));
    }
    Ok(f)
}

fn attribute_value<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let at = tag.find(&format!("{name}="))? + name.len() + 1;
    let rest = &tag[at..];
    let quote = rest.chars().next()?;
    let rest = &rest[quote.len_utf8()..];
    rest.find(quote).map(|e| &rest[..e])
}

#[cfg(test)]
mod tests {
    use super::*;
    use securechannel_events::EventId;

    fn id(n: u32) -> Filter {
        Filter::EventId(Cmp::Eq, n)
    }

    #[test]
    fn wevtutil_query_of_the_brief() {
        let f = parse("*[System[Provider[@Name='Schannel'] and (EventID=36887 or EventID=36888) and TimeCreated[timediff(@SystemTime) <= 86400000]]]").unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::All,
                Filter::Or(vec![id(36887), id(36888)]),
                Filter::Age(Cmp::Le, 86_400_000),
            ])
        );
    }

    #[test]
    fn level_data_and_neighbours() {
        assert_eq!(
            parse("*[System[Level=2]]").unwrap(),
            Filter::Level(Cmp::Eq, 2)
        );
        assert_eq!(
            parse("*[EventData[Data[@Name='AlertDesc']=46]]").unwrap(),
            Filter::Data {
                name: Some("AlertDesc".into()),
                cmp: Cmp::Eq,
                value: "46".into()
            }
        );
        assert_eq!(
            parse("*[System[EventRecordID>=10]]").unwrap(),
            Filter::RecordId(Cmp::Ge, 10)
        );
        assert_eq!(
            parse("*[System[Correlation[@ActivityID='{01234567-89AB-CDEF-0123-456789ABCDEF}']]]")
                .unwrap(),
            Filter::Activity(ActivityId(0x0123_4567_89AB_CDEF_0123_4567_89AB_CDEF))
        );
        assert_eq!(
            parse("*[System[TimeCreated[@SystemTime>='2026-11-25T10:00:00.000Z']]]").unwrap(),
            Filter::Time(Cmp::Ge, parse_rfc3339("2026-11-25T10:00:00Z").unwrap())
        );
        assert_eq!(
            parse("*[System[Provider[@Name='Other']]]").unwrap(),
            Filter::Nothing
        );
        assert_eq!(parse("*").unwrap(), Filter::All);
        assert_eq!(parse("").unwrap(), Filter::All);
        assert_eq!(
            parse("*[System[Level&lt;=3 and not(EventID=36880)]]").unwrap(),
            Filter::And(vec![
                Filter::Level(Cmp::Le, 3),
                Filter::Not(Box::new(id(36880)))
            ])
        );
        assert_eq!(
            parse("*[System[EventID=36887] and EventData[Data='48']]").unwrap(),
            Filter::And(vec![
                id(36887),
                Filter::Data {
                    name: None,
                    cmp: Cmp::Eq,
                    value: "48".into()
                }
            ])
        );
        assert_eq!(
            parse("*[System[band(Keywords,36028797018963968)]]").unwrap(),
            Filter::Nothing
        );
        assert_eq!(
            parse("*[System[band(Keywords,0x8000000000000000)]]").unwrap(),
            Filter::All
        );
        assert_eq!(
            parse("*[System[Execution[@ProcessID=520]]]").unwrap(),
            Filter::ProcessId(Cmp::Eq, 520)
        );
        assert_eq!(
            parse("*[EventData[Data[@Name='ErrorState']]]").unwrap(),
            Filter::HasField("ErrorState".into())
        );
    }

    #[test]
    fn query_list_from_event_viewer() {
        let xml = r#"<QueryList>
  <Query Id="0" Path="System">
    <Select Path="System">*[System[Provider[@Name='Schannel'] and (Level=2)]]</Select>
    <Suppress Path="System">*[System[(EventID=36887)]]</Suppress>
  </Query>
</QueryList>"#;
        let f = parse(xml).unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::All,
                Filter::Level(Cmp::Eq, 2),
                Filter::Not(Box::new(id(36887)))
            ])
        );
    }

    #[test]
    fn errors_point_at_the_character() {
        let cases = [
            ("*[System[Foo=1]]", 9),
            ("*[System[EventID=]]", 17),
            ("*[System[EventID=1]", 19),
            ("*[EventData[Data[@Name='Nope']=1]]", 23),
            ("*[System[EventID=1] xor System[Level=2]]", 20),
            ("*[System[EventID=1 ~]]", 19),
            ("*[System[TimeCreated[@SystemTime>='yesterday']]]", 34),
        ];
        for (q, pos) in cases {
            let e = parse(q).unwrap_err();
            assert_eq!(e.position, Some(pos), "{q}: {e}");
            let shown = e.to_string();
            let lines: Vec<&str> = shown.lines().collect();
            assert_eq!(lines[1], format!("  {q}"));
            assert_eq!(lines[2].find('^'), Some(pos + 2), "{shown}");
        }
        let e = parse("*[EventData[Data[@Name='Nope']=1]]").unwrap_err();
        assert!(e.message.contains("AlertDesc"), "{e}");
    }

    #[test]
    fn brief_queries_match_the_right_records() {
        use securechannel_events::EventRecord;
        use std::sync::Arc;
        let now = 1_800_000_000_000_000_000;
        let rec = |id: EventId, data: &[&str], age_ms: i64| EventRecord {
            record_id: 1,
            time: now - age_ms * 1_000_000,
            event_id: id,
            computer: Arc::from("h"),
            process_id: 1,
            thread_id: 1,
            activity_id: None,
            data: data.iter().collect(),
            binary: None,
            fold: None,
        };
        let f = parse("*[System[Provider[@Name='Schannel'] and (EventID=36887 or EventID=36888) and TimeCreated[timediff(@SystemTime) <= 86400000]]]").unwrap();
        assert!(f.matches(&rec(EventId::FatalAlertReceived, &["46"], 1000), now));
        assert!(!f.matches(&rec(EventId::FatalAlertReceived, &["46"], 86_400_001), now));
        assert!(!f.matches(&rec(EventId::HandshakeCompleted, &[], 10), now));
        let f = parse("*[EventData[Data[@Name='AlertDesc']=46]]").unwrap();
        assert!(f.matches(
            &rec(EventId::FatalAlertGenerated, &["46", "1", "x"], 0),
            now
        ));
        assert!(!f.matches(
            &rec(EventId::FatalAlertGenerated, &["48", "46", "x"], 0),
            now
        ));
    }

    /// Deep nesting is an error at the first opening character past the limit, not a
    /// stack overflow: a thread with a small stack parses 100,000 '(' (and 'not(', and
    /// a mix) and gets the error; the limit itself still parses.
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let run = || {
            let deep = format!(
                "*[System[{}EventID=1{}]]",
                "(".repeat(100_000),
                ")".repeat(100_000)
            );
            let e = parse(&deep).unwrap_err();
            // `*[` and `System[` are two levels; the 63rd '(' is one too many.
            assert_eq!(e.position, Some(9 + 62), "{}", e.message);
            assert!(e.message.contains("more than 64 levels"), "{}", e.message);
            let nots = format!(
                "*[System[{}EventID=1{}]]",
                "not(".repeat(100_000),
                ")".repeat(100_000)
            );
            let e = parse(&nots).unwrap_err();
            assert_eq!(e.position, Some(9 + 62 * 4), "{}", e.message);
            let mixed = format!("*[System[{}EventID=1]]", "(not(".repeat(50_000));
            assert!(parse(&mixed).unwrap_err().message.contains("levels"));
            // '[' can only open where the grammar has a context for it (System[,
            // Provider[, ...), so a run of them stops at the second.
            let brackets = format!("*{}", "[".repeat(100_000));
            assert_eq!(parse(&brackets).unwrap_err().position, Some(2));
            // Exactly the limit: fine.
            let ok = format!("*[System[{}EventID=1{}]]", "(".repeat(62), ")".repeat(62));
            assert_eq!(parse(&ok).unwrap(), Filter::EventId(Cmp::Eq, 1));
        };
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(run)
            .expect("spawn a parser thread")
            .join()
            .expect("the parser thread must not fail (nor overflow its stack)");
    }

    /// Whatever an admin pastes, the parser answers with a filter or an error, never a
    /// panic: every prefix of real queries, and deterministic mutations of them with
    /// multi-byte characters and entities thrown in.
    #[test]
    fn never_panics_on_mangled_input() {
        let seeds = [
            "*[System[Provider[@Name='Schannel'] and (EventID=36887 or EventID=36888) and TimeCreated[timediff(@SystemTime) &lt;= 86400000]]]",
            "*[EventData[Data[@Name='AlertDesc']=46]] ",
            "<QueryList><Query Id=\"0\"><Select Path=\"System\">*[System[Level=2]]</Select><Suppress Path=\"System\">*[System[EventID=1]]</Suppress></Query></QueryList>",
            "*[System[Correlation[@ActivityID='{01234567-89AB-CDEF-0123-456789ABCDEF}'] and band(Keywords,0x8000000000000000)]]",
        ];
        let alphabet: Vec<char> = "*[]()@=!<>'\" &;,.-_0123456789aZé✓\u{0}\t\n"
            .chars()
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for seed in seeds {
            for (end, _) in seed.char_indices() {
                let _ = parse(&seed[..end]);
            }
            for _ in 0..300 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..1 + next(4) {
                    let at = next(chars.len() + 1);
                    match next(3) {
                        0 if at < chars.len() => {
                            chars.remove(at);
                        }
                        _ => chars.insert(at.min(chars.len()), alphabet[next(alphabet.len())]),
                    }
                }
                let q: String = chars.into_iter().collect();
                if let Err(e) = parse(&q) {
                    let shown = e.to_string();
                    assert!(
                        e.position.is_some_and(|p| p <= q.chars().count()),
                        "{q:?}: {shown}"
                    );
                }
            }
        }
    }
}
