//! Which topic a table's messages go to, and how many partitions each topic has — Canal's
//! `canal.mq.dynamicTopic` and `canal.mq.dynamicTopicPartitionNum`, with Canal's semantics:
//!
//! - Rules are separated by `,` or `;`. A rule is `topic:pattern` (messages of matching tables go
//!   to `topic`) or a bare `pattern` (they go to a topic named after what matched: the lowercased
//!   name with `.` replaced by `_`, e.g. `shop.orders` → `shop_orders`).
//! - A pattern without regex characters is a schema or `schema.table` name (case-insensitive).
//!   A regex containing an escaped dot (`\.`) matches `schema.table`; any other regex matches the
//!   schema name. Regexes match the whole name, case-insensitively.
//! - `schema.table` is tried against every rule first, then the schema name; the first rule that
//!   matches wins. A table no rule matches, and a statement without a table, goes to the default
//!   topic.
//! - Partition counts: `topicPattern:count` rules (first match by topic name), else the default.

use regex::{Regex, RegexBuilder};

use super::RouteError;

const REGEX_CHARS: [char; 13] = ['*', '?', '+', '|', '(', ')', '{', '}', '[', ']', '\\', '$', '^'];

#[derive(Debug, Clone)]
enum Pattern {
    /// A schema or `schema.table` name.
    Name(String),
    /// A regex over `schema.table`.
    Table(Regex),
    /// A regex over the schema name.
    Schema(Regex),
}

#[derive(Debug, Clone)]
struct TopicRule {
    /// `None`: named after the match.
    topic: Option<String>,
    pattern: Pattern,
}

#[derive(Debug, Clone)]
pub struct TopicRules {
    default_topic: String,
    default_partitions: u32,
    rules: Vec<TopicRule>,
    partitions: Vec<(Pattern, u32)>,
}

fn whole_match(rule: &str, pattern: &str) -> Result<Regex, RouteError> {
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .build()
        .map_err(|e| RouteError { rule: rule.into(), reason: e.to_string() })
}

fn split_rules(rules: &[String]) -> impl Iterator<Item = &str> {
    rules.iter().flat_map(|r| r.split([',', ';'])).map(str::trim).filter(|r| !r.is_empty())
}

impl TopicRules {
    pub fn new(
        default_topic: &str,
        default_partitions: u32,
        dynamic_topic: &[String],
        topic_partitions: &[String],
    ) -> Result<Self, RouteError> {
        let mut rules = Vec::new();
        for rule in split_rules(dynamic_topic) {
            // A `topic:` prefix never contains regex characters; a regex may contain ':' itself.
            let (topic, pattern) = match rule.split_once(':') {
                Some((topic, pattern)) if !topic.contains(REGEX_CHARS) && !pattern.is_empty() => {
                    (Some(topic.trim().to_owned()), pattern.trim())
                }
                _ => (None, rule),
            };
            let pattern = if !pattern.contains(REGEX_CHARS) {
                Pattern::Name(pattern.to_owned())
            } else if pattern.contains("\\.") {
                Pattern::Table(whole_match(rule, pattern)?)
            } else {
                Pattern::Schema(whole_match(rule, pattern)?)
            };
            rules.push(TopicRule { topic, pattern });
        }
        let mut partitions = Vec::new();
        for rule in split_rules(topic_partitions) {
            let (pattern, count) = rule
                .rsplit_once(':')
                .ok_or_else(|| RouteError { rule: rule.into(), reason: "expected `topic:partitions`".into() })?;
            let count: u32 = count.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| RouteError {
                rule: rule.into(),
                reason: "the partition count must be a positive number".into(),
            })?;
            let pattern = if pattern.contains(REGEX_CHARS) {
                Pattern::Schema(whole_match(rule, pattern)?)
            } else {
                Pattern::Name(pattern.to_owned())
            };
            partitions.push((pattern, count));
        }
        Ok(Self {
            default_topic: default_topic.to_owned(),
            default_partitions: default_partitions.max(1),
            rules,
            partitions,
        })
    }

    /// Every message to one topic with `partitions` partitions.
    pub fn single(topic: &str, partitions: u32) -> Self {
        Self {
            default_topic: topic.to_owned(),
            default_partitions: partitions.max(1),
            rules: Vec::new(),
            partitions: Vec::new(),
        }
    }

    /// The topic of a table's messages (`table` empty for schema-level statements).
    pub fn topic_for(&self, schema: &str, table: &str) -> String {
        if schema.is_empty() || table.is_empty() {
            return self.default_topic.clone();
        }
        let full = format!("{schema}.{table}");
        let matched = |name: &str, qualified: bool| {
            self.rules.iter().find(|rule| match &rule.pattern {
                Pattern::Name(n) => n.eq_ignore_ascii_case(name),
                Pattern::Table(r) => qualified && r.is_match(name),
                Pattern::Schema(r) => !qualified && r.is_match(name),
            })
        };
        let (rule, name) = match matched(&full, true) {
            Some(rule) => (rule, full.as_str()),
            None => match matched(schema, false) {
                Some(rule) => (rule, schema),
                None => return self.default_topic.clone(),
            },
        };
        rule.topic.clone().unwrap_or_else(|| name.to_lowercase().replace('.', "_"))
    }

    /// The partition count of a topic.
    pub fn partitions_of(&self, topic: &str) -> u32 {
        self.partitions
            .iter()
            .find(|(pattern, _)| match pattern {
                Pattern::Name(n) => n.eq_ignore_ascii_case(topic),
                Pattern::Table(r) | Pattern::Schema(r) => r.is_match(topic),
            })
            .map_or(self.default_partitions, |(_, n)| *n)
    }

    /// Topics known without looking at data: the default one and those rules name.
    pub fn named_topics(&self) -> Vec<String> {
        let mut topics = vec![self.default_topic.clone()];
        for topic in self.rules.iter().filter_map(|r| r.topic.clone()) {
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        topics
    }

    /// Some rule names topics after the tables it matches (the set of topics is open).
    pub fn derives_names(&self) -> bool {
        self.rules.iter().any(|r| r.topic.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(dynamic: &str, partitions: &str) -> TopicRules {
        TopicRules::new("example", 3, &[dynamic.to_owned()], &[partitions.to_owned()]).unwrap()
    }

    #[test]
    fn canal_dynamic_topic_examples() {
        // Canal's documented example: `mytest1.user,mytest2\..*,.*\..*`.
        let r = rules("mytest1.user,mytest2\\..*,.*\\..*", "");
        assert_eq!(r.topic_for("mytest1", "user"), "mytest1_user");
        assert_eq!(r.topic_for("mytest2", "orders"), "mytest2_orders");
        assert_eq!(r.topic_for("other", "T1"), "other_t1");
        // Named topics, schema names, schema regexes.
        let r = rules("orders_topic:shop\\.orders;shop;audit:log_.*", "");
        assert_eq!(r.topic_for("SHOP", "Orders"), "orders_topic");
        assert_eq!(r.topic_for("shop", "items"), "shop");
        assert_eq!(r.topic_for("log_2024", "t"), "audit");
        assert_eq!(r.topic_for("misc", "t"), "example");
        assert_eq!(r.topic_for("shop", ""), "example", "statements without a table use the default topic");
        assert_eq!(r.named_topics(), ["example", "orders_topic", "audit"]);
        assert!(r.derives_names());
    }

    #[test]
    fn full_names_are_tried_before_schema_names() {
        // The schema rule comes first, but `shop.orders` matches the table rule on the full name.
        let r = rules("a:shop,b:shop\\.orders", "");
        assert_eq!(r.topic_for("shop", "orders"), "b");
        assert_eq!(r.topic_for("shop", "items"), "a");
    }

    #[test]
    fn partition_counts_by_topic() {
        let r = rules("", "orders_topic:6,audit.*:2");
        assert_eq!(r.partitions_of("orders_topic"), 6);
        assert_eq!(r.partitions_of("audit_log"), 2);
        assert_eq!(r.partitions_of("example"), 3);
        assert!(TopicRules::new("t", 1, &[], &["x:0".into()]).is_err());
        assert!(TopicRules::new("t", 1, &["x:(".into()], &[]).is_err());
    }
}
