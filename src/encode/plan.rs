//! Which rows of a rows event share a message: rows go to their partition, consecutive rows of one
//! partition with the same kind share a message, and (by default) an UPDATE that changes the
//! routing key becomes a DELETE of the old key plus an INSERT of the new one, so no consumer sees
//! the new key before the old key's earlier changes (invariant 6).

use super::RowPart;
use crate::event::{RowKind, RowsChange};
use crate::route::{Partitioner, RowRouting};

/// How UPDATEs that change the routing key are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUpdate {
    /// DELETE on the old key's partition, then INSERT on the new key's.
    #[default]
    Split,
    /// One UPDATE on the new key's partition (Canal's behaviour).
    Update,
}

/// One planned message.
#[derive(Debug)]
pub struct PlannedMessage<'a> {
    pub partition: u32,
    pub kind: RowKind,
    pub rows: Vec<RowPart<'a>>,
}

/// Plan the messages of one rows event. `one_row_per_message` is for keyed output.
pub fn plan_rows<'a>(
    change: &'a RowsChange,
    partitioner: &Partitioner,
    key_update: KeyUpdate,
    one_row_per_message: bool,
) -> Vec<PlannedMessage<'a>> {
    let routing = partitioner.routing_for(&change.table);
    let database = change.table.schema.as_str();
    let mut done: Vec<PlannedMessage<'a>> = Vec::new();
    // The message being filled per partition.
    let mut open: Vec<Option<PlannedMessage<'a>>> = (0..partitioner.partitions()).map(|_| None).collect();
    let mut add = |partition: u32, kind: RowKind, part: RowPart<'a>| {
        let slot = &mut open[partition as usize];
        if let Some(msg) = slot
            && (msg.kind != kind || one_row_per_message)
        {
            done.push(slot.take().expect("checked above"));
        }
        slot.get_or_insert_with(|| PlannedMessage { partition, kind, rows: Vec::new() }).rows.push(part);
    };
    for row in &change.rows {
        match (change.kind, row.before.as_ref(), row.after.as_ref()) {
            (RowKind::Insert, _, Some(after)) => {
                add(
                    partitioner.partition(&routing, database, after),
                    RowKind::Insert,
                    RowPart { data: after, before: None },
                );
            }
            (RowKind::Delete, Some(before), _) => {
                add(
                    partitioner.partition(&routing, database, before),
                    RowKind::Delete,
                    RowPart { data: before, before: None },
                );
            }
            (RowKind::Update, Some(before), Some(after)) => {
                let key_changed = match &routing {
                    RowRouting::ByColumns(columns) => columns.iter().any(|&i| {
                        let (b, a) = (before.get(i), after.get(i));
                        b.is_some_and(|c| c.is_present()) && a.is_some_and(|c| c.is_present()) && b != a
                    }),
                    RowRouting::Fixed(_) => false,
                };
                if key_changed && key_update == KeyUpdate::Split {
                    add(
                        partitioner.partition(&routing, database, before),
                        RowKind::Delete,
                        RowPart { data: before, before: None },
                    );
                    add(
                        partitioner.partition(&routing, database, after),
                        RowKind::Insert,
                        RowPart { data: after, before: None },
                    );
                } else {
                    let partition = partitioner.partition(&routing, database, after);
                    add(partition, RowKind::Update, RowPart { data: after, before: Some(before) });
                }
            }
            // The binlog decoder always fills the images its event kind has.
            _ => {}
        }
    }
    done.extend(open.into_iter().flatten());
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{BinlogPosition, Cell, EventOrigin, RowChange};
    use std::sync::Arc;

    type Images<'a> = (Option<[&'a str; 2]>, Option<[&'a str; 2]>);

    fn change(kind: RowKind, rows: Vec<Images<'_>>) -> RowsChange {
        let table = Arc::new(crate::schema::int_table("s", "t", &[("id", true), ("v", false)]));
        let image = |v: [&str; 2]| v.map(Cell::Text).into();
        RowsChange {
            table,
            kind,
            rows: rows.into_iter().map(|(b, a)| RowChange { before: b.map(image), after: a.map(image) }).collect(),
            origin: EventOrigin {
                position: BinlogPosition::new("f", 4),
                server_id: 1,
                timestamp_ms: 0,
                event_length: 0,
            },
            table_id: 1,
        }
    }

    fn partitioner() -> Partitioner {
        Partitioner::new(4, &["s.t:$pk$".into()], true).unwrap()
    }

    #[test]
    fn rows_group_by_partition_keeping_order() {
        let c = change(
            RowKind::Insert,
            (1..=20).map(|i| (None, Some([Box::leak(i.to_string().into_boxed_str()) as &str, "x"]))).collect(),
        );
        let p = partitioner();
        let plan = plan_rows(&c, &p, KeyUpdate::Split, false);
        assert!(plan.len() <= 4);
        assert_eq!(plan.iter().map(|m| m.rows.len()).sum::<usize>(), 20);
        for msg in &plan {
            let ids: Vec<i32> =
                msg.rows.iter().map(|r| r.data.get(0).and_then(Cell::as_text).unwrap().parse().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "order kept within partition {}", msg.partition);
            for r in &msg.rows {
                assert_eq!(p.partition(&p.routing_for(&c.table), "s", r.data), msg.partition);
            }
        }
    }

    #[test]
    fn key_change_splits_into_delete_and_insert() {
        let c =
            change(RowKind::Update, vec![(Some(["1", "a"]), Some(["2", "a"])), (Some(["3", "a"]), Some(["3", "b"]))]);
        let p = partitioner();
        let plan = plan_rows(&c, &p, KeyUpdate::Split, false);
        let kinds: Vec<(RowKind, &str)> = plan
            .iter()
            .flat_map(|m| m.rows.iter().map(move |r| (m.kind, r.data.get(0).and_then(Cell::as_text).unwrap())))
            .collect();
        assert!(kinds.contains(&(RowKind::Delete, "1")));
        assert!(kinds.contains(&(RowKind::Insert, "2")));
        assert!(kinds.contains(&(RowKind::Update, "3")));
        let delete_at = plan.iter().position(|m| m.kind == RowKind::Delete).unwrap();
        let insert_at = plan.iter().position(|m| m.kind == RowKind::Insert).unwrap();
        if plan[delete_at].partition == plan[insert_at].partition {
            assert!(delete_at < insert_at, "the old key's DELETE comes first");
        }
        let as_update = plan_rows(&c, &p, KeyUpdate::Update, false);
        assert!(as_update.iter().all(|m| m.kind == RowKind::Update));
    }

    #[test]
    fn keyed_output_has_one_row_per_message() {
        let c = change(RowKind::Delete, vec![(Some(["1", "a"]), None), (Some(["1", "b"]), None)]);
        let plan = plan_rows(&c, &partitioner(), KeyUpdate::Split, true);
        assert_eq!(plan.len(), 2);
    }
}
