//! Which tables a destination captures: Canal-style regular expressions over `schema.table`,
//! matched case-insensitively against the whole name, with an exclude list that wins.

use regex::{Regex, RegexBuilder};

#[derive(Debug, Clone)]
pub struct TableFilter {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid table filter pattern '{pattern}': {reason}")]
pub struct FilterError {
    pub pattern: String,
    pub reason: String,
}

impl TableFilter {
    /// `include` empty means every table.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, FilterError> {
        Ok(Self { include: compile(include)?, exclude: compile(exclude)? })
    }

    pub fn all() -> Self {
        Self { include: Vec::new(), exclude: Vec::new() }
    }

    pub fn matches(&self, schema: &str, table: &str) -> bool {
        let name = format!("{schema}.{table}");
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(&name)))
            && !self.exclude.iter().any(|r| r.is_match(&name))
    }
}

fn compile(patterns: &[String]) -> Result<Vec<Regex>, FilterError> {
    patterns
        .iter()
        .map(|p| {
            RegexBuilder::new(&format!("^(?:{p})$"))
                .case_insensitive(true)
                .build()
                .map_err(|e| FilterError { pattern: p.clone(), reason: e.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canal_style_patterns() {
        let f = TableFilter::new(&["shop\\..*".into(), "crm.customer".into()], &["shop\\.tmp_.*".into()]).unwrap();
        assert!(f.matches("shop", "orders"));
        assert!(f.matches("SHOP", "Orders"));
        assert!(f.matches("crm", "customer"));
        assert!(!f.matches("crm", "customers"));
        assert!(!f.matches("shop", "tmp_1"));
        assert!(!f.matches("other", "t"));
        assert!(TableFilter::all().matches("any", "thing"));
        assert!(TableFilter::new(&["(".into()], &[]).is_err());
    }
}
