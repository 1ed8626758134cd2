//! GTIDs and GTID sets of both flavours.
//!
//! - MySQL: a transaction is `source_uuid[:tag]:gno`; the executed set is `uuid:1-5:7-9,uuid2:1-3`.
//! - MariaDB: a transaction is `domain-server-seq`; the replication state is one GTID per domain,
//!   `0-1-100,1-2-7` (what `@@gtid_binlog_pos` and `@slave_connect_state` use).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A MySQL server UUID (`source_uuid` of a GTID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid(pub [u8; 16]);

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Uuid {
    type Err = GtidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return Err(GtidParseError(format!("'{s}' is not a UUID")));
        }
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| GtidParseError(format!("'{s}' is not a UUID")))?;
        }
        Ok(Self(bytes))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid GTID: {0}")]
pub struct GtidParseError(pub String);

/// One MySQL transaction id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MysqlGtid {
    pub source: Uuid,
    /// MySQL 8.3+ tagged GTIDs (`uuid:tag:gno`).
    pub tag: Option<String>,
    pub gno: u64,
}

impl fmt::Display for MysqlGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(f, "{}:{}:{}", self.source, tag, self.gno),
            None => write!(f, "{}:{}", self.source, self.gno),
        }
    }
}

/// A set of MySQL GTIDs: per (uuid, tag), sorted disjoint inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MysqlGtidSet {
    intervals: BTreeMap<SourceTag, Vec<(u64, u64)>>,
}

/// A GTID source: server UUID and optional tag.
type SourceTag = (Uuid, Option<String>);

impl MysqlGtidSet {
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// Add the inclusive range `start..=end` for a source.
    pub fn add_interval(&mut self, source: Uuid, tag: Option<String>, start: u64, end: u64) {
        let list = self.intervals.entry((source, tag)).or_default();
        list.push((start, end));
        list.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(list.len());
        for &(s, e) in list.iter() {
            match merged.last_mut() {
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        *list = merged;
    }

    pub fn add(&mut self, gtid: &MysqlGtid) {
        self.add_interval(gtid.source, gtid.tag.clone(), gtid.gno, gtid.gno);
    }

    pub fn contains(&self, gtid: &MysqlGtid) -> bool {
        self.intervals
            .get(&(gtid.source, gtid.tag.clone()))
            .is_some_and(|list| list.iter().any(|&(s, e)| s <= gtid.gno && gtid.gno <= e))
    }

    pub fn has_tags(&self) -> bool {
        self.intervals.keys().any(|(_, tag)| tag.is_some())
    }

    /// The encoding COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS use. Untagged sets: n_sids, then per
    /// sid the UUID, n_intervals and `[start, end)` pairs, all little-endian u64. A set with tags
    /// uses MySQL 8.3's tagged format: the first u64 is `1 << 56 | n << 8 | 1` and each UUID is
    /// followed by its tag as a one-byte varlen length (tags are at most 32 characters) and bytes.
    pub fn encode(&self) -> Vec<u8> {
        let tagged = self.has_tags();
        let mut out = Vec::new();
        let n = self.intervals.len() as u64;
        let head = if tagged { (1 << 56) | (n << 8) | 1 } else { n };
        out.extend_from_slice(&head.to_le_bytes());
        for ((uuid, tag), list) in &self.intervals {
            out.extend_from_slice(&uuid.0);
            if tagged {
                let tag = tag.as_deref().unwrap_or_default();
                out.push((tag.len() as u8) << 1);
                out.extend_from_slice(tag.as_bytes());
            }
            out.extend_from_slice(&(list.len() as u64).to_le_bytes());
            for &(s, e) in list {
                out.extend_from_slice(&s.to_le_bytes());
                out.extend_from_slice(&(e + 1).to_le_bytes());
            }
        }
        out
    }
}

impl fmt::Display for MysqlGtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first_uuid = true;
        let mut last_uuid: Option<Uuid> = None;
        for ((uuid, tag), list) in &self.intervals {
            if last_uuid != Some(*uuid) {
                if !first_uuid {
                    f.write_str(",")?;
                }
                first_uuid = false;
                write!(f, "{uuid}")?;
                last_uuid = Some(*uuid);
            }
            if let Some(tag) = tag {
                write!(f, ":{tag}")?;
            }
            for &(s, e) in list {
                if s == e { write!(f, ":{s}")? } else { write!(f, ":{s}-{e}")? }
            }
        }
        Ok(())
    }
}

/// MySQL's tag rule: `[a-zA-Z_][a-zA-Z0-9_]{0,31}`.
fn is_valid_tag(field: &str) -> bool {
    let mut chars = field.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && field.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FromStr for MysqlGtidSet {
    type Err = GtidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = Self::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut fields = part.split(':');
            let uuid: Uuid = fields.next().unwrap_or_default().trim().parse()?;
            let mut tag: Option<String> = None;
            let mut saw_interval = false;
            for field in fields {
                let field = field.trim();
                if field.starts_with(|c: char| c.is_ascii_digit()) {
                    let (start, end) = match field.split_once('-') {
                        Some((a, b)) => (parse_u64(a, part)?, parse_u64(b, part)?),
                        None => {
                            let n = parse_u64(field, part)?;
                            (n, n)
                        }
                    };
                    if start == 0 || end < start {
                        return Err(GtidParseError(format!("bad interval '{field}' in '{part}'")));
                    }
                    set.add_interval(uuid, tag.clone(), start, end);
                    saw_interval = true;
                } else if is_valid_tag(field) {
                    tag = Some(field.to_ascii_lowercase());
                } else if !field.is_empty() {
                    return Err(GtidParseError(format!(
                        "'{field}' in '{part}' is not a GTID tag (a letter or '_', then up to 31 letters, digits or '_')"
                    )));
                } else {
                    return Err(GtidParseError(format!("empty field in '{part}'")));
                }
            }
            if !saw_interval {
                return Err(GtidParseError(format!("'{part}' has no transaction numbers")));
            }
        }
        Ok(set)
    }
}

fn parse_u64(text: &str, context: &str) -> Result<u64, GtidParseError> {
    text.trim().parse().map_err(|_| GtidParseError(format!("'{text}' is not a number in '{context}'")))
}

/// One MariaDB transaction id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MariadbGtid {
    pub domain_id: u32,
    pub server_id: u32,
    pub sequence: u64,
}

impl fmt::Display for MariadbGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain_id, self.server_id, self.sequence)
    }
}

impl FromStr for MariadbGtid {
    type Err = GtidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split('-');
        let (Some(d), Some(sv), Some(seq), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(GtidParseError(format!("'{s}' is not domain-server-sequence")));
        };
        Ok(Self {
            domain_id: d.parse().map_err(|_| GtidParseError(format!("bad domain in '{s}'")))?,
            server_id: sv.parse().map_err(|_| GtidParseError(format!("bad server id in '{s}'")))?,
            sequence: seq.parse().map_err(|_| GtidParseError(format!("bad sequence in '{s}'")))?,
        })
    }
}

/// MariaDB replication state: the last GTID applied per domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MariadbGtidList {
    by_domain: BTreeMap<u32, MariadbGtid>,
}

impl MariadbGtidList {
    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty()
    }

    pub fn add(&mut self, gtid: MariadbGtid) {
        self.by_domain.insert(gtid.domain_id, gtid);
    }

    pub fn gtids(&self) -> impl Iterator<Item = &MariadbGtid> {
        self.by_domain.values()
    }

    /// Whether `gtid` is at or before this state in its domain.
    pub fn contains(&self, gtid: &MariadbGtid) -> bool {
        self.by_domain.get(&gtid.domain_id).is_some_and(|last| gtid.sequence <= last.sequence)
    }
}

impl FromIterator<MariadbGtid> for MariadbGtidList {
    fn from_iter<I: IntoIterator<Item = MariadbGtid>>(iter: I) -> Self {
        let mut list = Self::default();
        for gtid in iter {
            list.add(gtid);
        }
        list
    }
}

impl fmt::Display for MariadbGtidList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, gtid) in self.by_domain.values().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{gtid}")?;
        }
        Ok(())
    }
}

impl FromStr for MariadbGtidList {
    type Err = GtidParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::parse).collect()
    }
}

/// A transaction id of either flavour.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Gtid {
    Mysql(MysqlGtid),
    Mariadb(MariadbGtid),
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mysql(g) => g.fmt(f),
            Self::Mariadb(g) => g.fmt(f),
        }
    }
}

/// The executed GTID set of a position, in the flavour of its server (empty when GTIDs are off).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GtidSet {
    #[default]
    Empty,
    Mysql(MysqlGtidSet),
    Mariadb(MariadbGtidList),
}

impl GtidSet {
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Mysql(s) => s.is_empty(),
            Self::Mariadb(s) => s.is_empty(),
        }
    }

    /// Record that `gtid` was executed.
    pub fn add(&mut self, gtid: &Gtid) {
        match (self, gtid) {
            (Self::Mysql(set), Gtid::Mysql(g)) => set.add(g),
            (Self::Mariadb(set), Gtid::Mariadb(g)) => set.add(*g),
            (this @ Self::Empty, Gtid::Mysql(g)) => {
                let mut set = MysqlGtidSet::default();
                set.add(g);
                *this = Self::Mysql(set);
            }
            (this @ Self::Empty, Gtid::Mariadb(g)) => *this = Self::Mariadb(std::iter::once(*g).collect()),
            // A server does not switch flavour; keep the set we have rather than mixing them.
            (Self::Mysql(_), Gtid::Mariadb(_)) | (Self::Mariadb(_), Gtid::Mysql(_)) => {}
        }
    }

    pub fn contains(&self, gtid: &Gtid) -> bool {
        match (self, gtid) {
            (Self::Mysql(set), Gtid::Mysql(g)) => set.contains(g),
            (Self::Mariadb(set), Gtid::Mariadb(g)) => set.contains(g),
            _ => false,
        }
    }

    /// Parse either flavour's text form (empty text = empty set).
    pub fn parse(text: &str) -> Result<Self, GtidParseError> {
        let text = text.trim();
        if text.is_empty() {
            Ok(Self::Empty)
        } else if text.contains(':') {
            Ok(Self::Mysql(text.parse()?))
        } else {
            Ok(Self::Mariadb(text.parse()?))
        }
    }
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => Ok(()),
            Self::Mysql(s) => s.fmt(f),
            Self::Mariadb(s) => s.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn mysql_set_round_trips_and_merges() {
        let mut set: MysqlGtidSet = format!("{U1}:1-5:7").parse().unwrap();
        set.add(&MysqlGtid { source: U1.parse().unwrap(), tag: None, gno: 6 });
        assert_eq!(set.to_string(), format!("{U1}:1-7"));
        assert!(set.contains(&MysqlGtid { source: U1.parse().unwrap(), tag: None, gno: 3 }));
        assert!(!set.contains(&MysqlGtid { source: U1.parse().unwrap(), tag: None, gno: 8 }));
    }

    #[test]
    fn mysql_set_with_tags_and_several_sources() {
        let text = format!("{U1}:1-3:blue:1-2,00000000-0000-0000-0000-000000000001:5");
        let set: MysqlGtidSet = text.parse().unwrap();
        assert_eq!(set.to_string(), format!("00000000-0000-0000-0000-000000000001:5,{U1}:1-3:blue:1-2"));
        assert!(set.has_tags());
    }

    #[test]
    fn mysql_set_encoding_uses_exclusive_ends() {
        let set: MysqlGtidSet = format!("{U1}:1-5").parse().unwrap();
        let bytes = set.encode();
        assert_eq!(bytes.len(), 8 + 16 + 8 + 16);
        assert_eq!(&bytes[0..8], &1u64.to_le_bytes());
        assert_eq!(&bytes[32..40], &1u64.to_le_bytes());
        assert_eq!(&bytes[40..48], &6u64.to_le_bytes());
    }

    #[test]
    fn rejects_garbage() {
        assert!(GtidSet::parse("not-a-gtid").is_err());
        assert!(GtidSet::parse(&format!("{U1}:0-3")).is_err());
        assert!(GtidSet::parse(U1).is_err());
    }

    #[test]
    fn mariadb_state_keeps_last_per_domain() {
        let mut set = GtidSet::parse("0-1-7,1-2-3").unwrap();
        set.add(&Gtid::Mariadb("0-1-8".parse().unwrap()));
        assert_eq!(set.to_string(), "0-1-8,1-2-3");
        assert!(set.contains(&Gtid::Mariadb("0-1-5".parse().unwrap())));
        assert!(!set.contains(&Gtid::Mariadb("1-2-4".parse().unwrap())));
    }
}
