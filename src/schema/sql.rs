//! SQL as tokens, and a cursor over them: shared by the statement classifier ([`super::ddl`]) and
//! the schema history's DDL parser ([`super::history`]).
//!
//! The lexer knows MySQL's quoting — `backquoted` and "double-quoted" identifiers (the
//! ANSI_QUOTES reading; where a statement names a table no string can stand), 'strings' with
//! doubled quotes and backslash escapes — drops comments, and keeps the text of executable
//! comments (`/*!50100 … */`, MariaDB's `/*M!100301 … */`), which the server runs. It reads lazily, so a caller that needs only
//! a statement's head never scans the rest.

use super::ddl::QualifiedName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) text: String,
    /// A `backquoted` or "double-quoted" identifier.
    pub(super) quoted: bool,
    /// A 'string' literal.
    pub(super) string: bool,
    /// In "double quotes": an identifier under sql_mode ANSI_QUOTES, else a string (as in
    /// `ENUM("a", "b")`, which is a string in every mode).
    pub(super) double_quoted: bool,
}

impl Token {
    fn word(text: String) -> Self {
        Self { text, quoted: false, string: false, double_quoted: false }
    }

    /// A single punctuation character.
    pub(super) fn punct(&self) -> bool {
        !self.quoted && !self.string && self.text.len() == 1 && !self.text.chars().all(is_word_char)
    }

    pub(super) fn is_word(&self, word: &str) -> bool {
        !self.quoted && !self.string && self.text.eq_ignore_ascii_case(word)
    }

    /// A bare word (keyword or unquoted identifier).
    pub(super) fn is_bare_word(&self) -> bool {
        !self.quoted && !self.string && !self.punct()
    }

    pub(super) fn upper(&self) -> String {
        self.text.to_ascii_uppercase()
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// What the session's sql_mode (a QUERY event's) changes in how quotes read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quoting {
    /// NO_BACKSLASH_ESCAPES: a backslash in a string is itself (`'a\'` is the string `a\`).
    pub no_backslash_escapes: bool,
    /// ANSI_QUOTES: "double quotes" enclose an identifier, where a backslash is itself (a name
    /// may hold one: `"a\n"` names `a\n`); otherwise they enclose a string, where it escapes.
    pub ansi_quotes: bool,
}

/// The sql_mode bit for ANSI_QUOTES (MySQL's and MariaDB's; sql_mode=ANSI includes it).
pub const MODE_ANSI_QUOTES: u64 = 1 << 2;
/// The sql_mode bit for NO_BACKSLASH_ESCAPES (MySQL's and MariaDB's).
pub const MODE_NO_BACKSLASH_ESCAPES: u64 = 1 << 20;

impl Quoting {
    /// The quoting of a statement run with these sql_mode bits (`None`: the event does not say,
    /// so the server's default, which sets neither).
    pub fn of_sql_mode(sql_mode: Option<u64>) -> Self {
        let mode = |bit: u64| sql_mode.is_some_and(|mode| mode & bit != 0);
        Self { no_backslash_escapes: mode(MODE_NO_BACKSLASH_ESCAPES), ansi_quotes: mode(MODE_ANSI_QUOTES) }
    }

    /// Whether a backslash escapes the next character between these quotes.
    fn escapes_within(self, quote: char) -> bool {
        !self.no_backslash_escapes && (quote == '\'' || (quote == '"' && !self.ansi_quotes))
    }
}

/// The sql_mode a statement was read under, given its QUERY event's: the event's, unless the
/// statement starts with MariaDB's `SET STATEMENT sql_mode = … FOR`. The server reads the whole
/// text under the session's mode and applies the prefix only to run it, while the event records
/// the prefix's mode (measured on MariaDB 10.11: `SET STATEMENT sql_mode='ORACLE' FOR CREATE
/// TABLE t (d DATE)` makes a DATE, in an event saying ORACLE). The session's mode is then not in
/// the binlog: it is taken to be the default, which sets none of the modes that change how DDL
/// reads (`None`).
pub fn read_under_sql_mode(sql: &str, event_mode: Option<u64>) -> Option<u64> {
    let mut lexer = Lexer::new(sql);
    if lexer.next_word() != "SET" || lexer.next_word() != "STATEMENT" {
        return event_mode;
    }
    for token in lexer {
        if token.is_word("FOR") {
            break;
        }
        if token.is_word("sql_mode") {
            return None;
        }
    }
    event_mode
}

/// The tokens of a statement, read as they are asked for: words, quoted identifiers, string
/// literals, single punctuation characters.
pub(super) struct Lexer<'a> {
    sql: &'a str,
    /// Byte offset of the next unread character.
    at: usize,
    quoting: Quoting,
}

impl<'a> Lexer<'a> {
    /// A lexer for a statement run in the server's default sql_mode.
    pub(super) fn new(sql: &'a str) -> Self {
        Self::quoting(sql, Quoting::default())
    }

    /// A lexer for a statement whose quotes read as `quoting` says.
    pub(super) fn quoting(sql: &'a str, quoting: Quoting) -> Self {
        Self { sql, at: 0, quoting }
    }

    /// The statement's first word, upper-cased ("" if it starts with something else), past
    /// MariaDB's `SET STATEMENT var = value, … FOR` prefix: the statement runs with those session
    /// settings, and the binlog keeps the prefix in its text.
    pub(super) fn first_word(&mut self) -> String {
        let first = self.next_word();
        if first != "SET" || self.next_word() != "STATEMENT" {
            return first;
        }
        while let Some(token) = self.next() {
            if token.is_word("FOR") {
                return self.next_word();
            }
        }
        String::new()
    }

    fn next_word(&mut self) -> String {
        self.next().filter(Token::is_bare_word).map(|t| t.upper()).unwrap_or_default()
    }

    /// A quoted token whose opening `quote` is at the read offset.
    fn quoted(&mut self, quote: char) -> Token {
        let body_start = self.at + 1;
        let mut chars = self.sql[body_start..].char_indices().peekable();
        let mut text = String::new();
        self.at = self.sql.len(); // unterminated: runs to the end
        while let Some((i, c)) = chars.next() {
            if c == quote {
                if chars.next_if(|&(_, next)| next == quote).is_some() {
                    text.push(quote);
                    continue;
                }
                self.at = body_start + i + 1;
                break;
            }
            match chars.next_if(|_| c == '\\' && self.quoting.escapes_within(quote)) {
                Some((_, escaped)) => push_escaped(&mut text, escaped),
                None => text.push(c),
            }
        }
        Token { text, quoted: quote != '\'', string: quote == '\'', double_quoted: quote == '"' }
    }
}

/// The character a backslash sequence in a string stands for, as the server reads it: `\0`, `\b`,
/// `\n`, `\r`, `\t` and `\Z` are control characters, `\%` and `\_` keep their backslash (they are
/// LIKE's), any other character is itself.
pub(super) fn push_escaped(text: &mut String, escaped: char) {
    match escaped {
        '0' => text.push('\0'),
        'b' => text.push('\u{8}'),
        'n' => text.push('\n'),
        'r' => text.push('\r'),
        't' => text.push('\t'),
        'Z' => text.push('\u{1a}'),
        '%' | '_' => {
            text.push('\\');
            text.push(escaped);
        }
        other => text.push(other),
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            let rest = &self.sql[self.at..];
            let c = rest.chars().next()?;
            if c.is_whitespace() {
                self.at += c.len_utf8();
            } else if let Some((opening, body)) = ["/*!", "/*M!"].iter().find_map(|o| Some((o, rest.strip_prefix(o)?)))
            {
                // An executable comment (`/*M!` is MariaDB's): its version number goes, its text stays.
                let digits = body.find(|d: char| !d.is_ascii_digit()).unwrap_or(body.len());
                self.at += opening.len() + digits;
            } else if let Some(body) = rest.strip_prefix("/*") {
                self.at = body.find("*/").map_or(self.sql.len(), |end| self.at + 2 + end + 2);
            } else if rest.starts_with("*/") {
                self.at += 2; // the end of an executable comment
            } else if c == '#'
                || rest
                    .strip_prefix("--")
                    .is_some_and(|after| after.chars().next().is_none_or(|c| c.is_whitespace() || c.is_control()))
            {
                self.at = rest.find('\n').map_or(self.sql.len(), |end| self.at + end);
            } else if matches!(c, '`' | '"' | '\'') {
                return Some(self.quoted(c));
            } else if is_word_char(c) {
                let len = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
                self.at += len;
                return Some(Token::word(rest[..len].to_owned()));
            } else {
                self.at += c.len_utf8();
                return Some(Token::word(c.to_string()));
            }
        }
    }
}

/// Every token of `sql`.
#[cfg(test)]
pub(super) fn lex(sql: &str) -> Vec<Token> {
    Lexer::new(sql).collect()
}

/// A cursor over tokens.
pub(super) struct Parser<'t> {
    pub(super) tokens: &'t [Token],
    pub(super) at: usize,
    /// The schema of unqualified table names (the QUERY event's).
    pub(super) default_schema: &'t str,
    /// Database and table names are read in lower case, as a server with
    /// `lower_case_table_names=1` stores them (and names them in TABLE_MAPs).
    fold_names: bool,
}

impl<'t> Parser<'t> {
    pub(super) fn new(tokens: &'t [Token], default_schema: &'t str) -> Self {
        Self { tokens, at: 0, default_schema, fold_names: false }
    }

    /// Read database and table names in lower case (see `fold_names`).
    pub(super) fn folding_names(mut self, fold: bool) -> Self {
        self.fold_names = fold;
        self
    }

    /// A parser over part of this one's tokens that reads names as this one does.
    pub(super) fn nested(&self, tokens: &'t [Token]) -> Self {
        Self { tokens, at: 0, default_schema: self.default_schema, fold_names: self.fold_names }
    }

    fn folded(&self, name: String) -> String {
        if self.fold_names { name.to_lowercase() } else { name }
    }

    pub(super) fn peek(&self) -> Option<&'t Token> {
        self.tokens.get(self.at)
    }

    /// The tokens not read yet.
    pub(super) fn rest(&self) -> &'t [Token] {
        &self.tokens[self.at.min(self.tokens.len())..]
    }

    pub(super) fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// The next bare word, upper-cased ("" if the next token is not one; it is not consumed then).
    pub(super) fn word(&mut self) -> String {
        let word = self.peek_word();
        if !word.is_empty() {
            self.at += 1;
        }
        word
    }

    pub(super) fn peek_word(&self) -> String {
        self.peek().filter(|t| t.is_bare_word()).map(Token::upper).unwrap_or_default()
    }

    pub(super) fn eat_word(&mut self, word: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_word(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect_word(&mut self, word: &str) -> Result<(), String> {
        if self.eat_word(word) { Ok(()) } else { Err(format!("expected {word}")) }
    }

    pub(super) fn skip_words(&mut self, words: &[&str]) {
        while words.iter().any(|w| self.peek().is_some_and(|t| t.is_word(w))) {
            self.at += 1;
        }
    }

    /// Skip past the next `word` (to the end if there is none).
    pub(super) fn skip_past_word(&mut self, word: &str) {
        while !self.at_end() && !self.eat_word(word) {
            self.at += 1;
        }
    }

    pub(super) fn peek_is(&self, punct: &str) -> bool {
        self.peek().is_some_and(|t| t.punct() && t.text == punct)
    }

    pub(super) fn eat(&mut self, punct: &str) -> bool {
        if self.peek_is(punct) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// MariaDB's lock wait option after a table name: `WAIT n` or `NOWAIT`.
    pub(super) fn skip_lock_wait(&mut self) {
        if self.eat_word("WAIT") {
            self.at += 1;
        } else {
            self.eat_word("NOWAIT");
        }
    }

    pub(super) fn skip_if_exists(&mut self) -> bool {
        self.skip_sequence(&["IF", "EXISTS"])
    }

    pub(super) fn skip_if_not_exists(&mut self) -> bool {
        self.skip_sequence(&["IF", "NOT", "EXISTS"])
    }

    /// Whether the next tokens are these bare words (nothing is consumed).
    pub(super) fn at_words(&self, words: &[&str]) -> bool {
        words.iter().enumerate().all(|(i, w)| self.tokens.get(self.at + i).is_some_and(|t| t.is_word(w)))
    }

    fn skip_sequence(&mut self, words: &[&str]) -> bool {
        let found = self.at_words(words);
        if found {
            self.at += words.len();
        }
        found
    }

    /// An identifier, quoted or bare ("" if none).
    pub(super) fn ident(&mut self) -> String {
        match self.peek() {
            Some(t) if !t.string && !t.punct() => {
                self.at += 1;
                t.text.clone()
            }
            _ => String::new(),
        }
    }

    /// An option's value, which may be written bare, quoted or as a string (`CHARACTER SET
    /// 'latin1'`): its text ("" at punctuation or the end).
    pub(super) fn option_value(&mut self) -> String {
        match self.peek() {
            Some(t) if !t.punct() => {
                self.at += 1;
                t.text.clone()
            }
            _ => String::new(),
        }
    }

    /// `schema.table` or `table` (in the default schema).
    pub(super) fn name(&mut self) -> QualifiedName {
        let first = self.ident();
        let name = if self.eat(".") {
            QualifiedName { schema: first, table: self.ident() }
        } else {
            QualifiedName { schema: self.default_schema.to_owned(), table: first }
        };
        if self.fold_names { name.lowercased() } else { name }
    }

    /// A database name.
    pub(super) fn database(&mut self) -> String {
        let name = self.ident();
        self.folded(name)
    }

    /// Up to `max` comma-separated table names (fewer where a name is missing).
    pub(super) fn names(&mut self, max: usize) -> Vec<QualifiedName> {
        let mut names = Vec::new();
        while names.len() < max {
            let name = self.name();
            if name.table.is_empty() {
                break;
            }
            names.push(name);
            if names.len() == max || !self.eat(",") {
                break;
            }
        }
        names
    }

    /// The database an ALTER DATABASE names: its name, or the default schema where it names none
    /// (`ALTER DATABASE CHARACTER SET x`).
    pub(super) fn altered_database(&mut self) -> String {
        let unnamed = self.peek().is_none_or(|t| {
            !t.quoted && matches!(t.upper().as_str(), "DEFAULT" | "CHARACTER" | "CHARSET" | "COLLATE" | "COMMENT")
        });
        if unnamed { self.folded(self.default_schema.to_owned()) } else { self.database() }
    }

    /// The tokens up to the `)` matching an already consumed `(`; consumes that `)`.
    pub(super) fn until_close(&mut self) -> Result<&'t [Token], String> {
        let start = self.at;
        let mut depth = 1usize;
        while let Some(t) = self.peek() {
            self.at += 1;
            if t.punct() {
                match t.text.as_str() {
                    "(" => depth += 1,
                    ")" => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(&self.tokens[start..self.at - 1]);
                        }
                    }
                    _ => {}
                }
            }
        }
        Err("unbalanced parentheses".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<(String, bool, bool)> {
        lex(sql).into_iter().map(|t| (t.text, t.quoted, t.string)).collect()
    }

    #[test]
    fn quoting_comments_and_executable_comments() {
        let w = |s: &str| (s.to_owned(), false, false);
        assert_eq!(
            texts("CREATE /*!32312 IF NOT EXISTS*/ `a``b` -- note\n(x 'it''s \\'q\\'' \"id\") # end"),
            [
                w("CREATE"),
                w("IF"),
                w("NOT"),
                w("EXISTS"),
                ("a`b".into(), true, false),
                w("("),
                w("x"),
                ("it's 'q'".into(), false, true),
                ("id".into(), true, false),
                w(")"),
            ]
        );
        assert_eq!(texts("blob /*M!100301 COMPRESSED*/ NULL"), [w("blob"), w("COMPRESSED"), w("NULL")]);
        assert_eq!(texts("/* only a comment"), []);
        // `--` starts a comment only before a space or control character (`1--1` is 1 - -1).
        assert_eq!(texts("1--1 --\tx\ny --"), [w("1"), w("-"), w("-"), w("1"), w("y")]);
        assert_eq!(texts("'unterminated"), [("unterminated".into(), false, true)]);
        assert_eq!(texts("`é`.ü≠"), [("é".into(), true, false), w("."), w("ü"), w("≠")]);
    }

    #[test]
    fn backslashes_escape_unless_the_mode_says_not() {
        let strings = |lexer: Lexer<'_>| lexer.filter(|t| t.string).map(|t| t.text).collect::<Vec<_>>();
        let sql = r"'x\' 'y'";
        assert_eq!(strings(Lexer::new(sql)), ["x' ", ""]);
        let no_escapes = Quoting { no_backslash_escapes: true, ansi_quotes: false };
        assert_eq!(strings(Lexer::quoting(sql, no_escapes)), [r"x\", "y"]);
    }

    #[test]
    fn double_quotes_enclose_names_without_escapes_under_ansi_quotes() {
        let texts = |lexer: Lexer<'_>| lexer.map(|t| t.text).collect::<Vec<_>>();
        let sql = r#""a\n" 'b\n' "c""d""#;
        assert_eq!(texts(Lexer::new(sql)), ["a\n", "b\n", "c\"d"]);
        let ansi = Quoting::of_sql_mode(Some(MODE_ANSI_QUOTES | 1));
        assert_eq!(ansi, Quoting { no_backslash_escapes: false, ansi_quotes: true });
        assert_eq!(texts(Lexer::quoting(sql, ansi)), [r"a\n", "b\n", "c\"d"]);
        let both = Quoting::of_sql_mode(Some(MODE_ANSI_QUOTES | MODE_NO_BACKSLASH_ESCAPES));
        assert_eq!(texts(Lexer::quoting(sql, both)), [r"a\n", r"b\n", "c\"d"]);
    }

    #[test]
    fn a_set_statement_prefix_setting_sql_mode_is_not_how_the_statement_read() {
        let oracle = Some(1 << 9);
        assert_eq!(read_under_sql_mode("CREATE TABLE t (d DATE)", oracle), oracle);
        assert_eq!(read_under_sql_mode("SET STATEMENT sql_mode='ORACLE' FOR CREATE TABLE t (d DATE)", oracle), None);
        assert_eq!(
            read_under_sql_mode("set statement x=1, SQL_MODE = 'ORACLE' for alter table t add d date", oracle),
            None
        );
        assert_eq!(
            read_under_sql_mode("SET STATEMENT max_statement_time=1 FOR CREATE TABLE sql_mode (a INT)", oracle),
            oracle
        );
    }

    #[test]
    fn names_stop_at_what_is_not_one() {
        let tokens = lex("a, s.b, c ON x");
        let mut p = Parser::new(&tokens, "db");
        let got: Vec<String> = p.names(2).iter().map(ToString::to_string).collect();
        assert_eq!(got, ["db.a", "s.b"]);
        assert!(p.eat(","), "the comma after the last wanted name stays");
        assert_eq!(p.names(usize::MAX).len(), 1);
        p.skip_past_word("on");
        assert_eq!(p.ident(), "x");
        assert!(p.at_end());
    }
}
