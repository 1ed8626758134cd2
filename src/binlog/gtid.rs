//! MySQL GTID, ANONYMOUS_GTID and PREVIOUS_GTIDS events.

use super::{ByteReader, DecodeError, EventType};
use crate::event::{MysqlGtid, MysqlGtidSet, Uuid};

/// The start of a MySQL transaction. `gtid` is `None` for ANONYMOUS_GTID (gtid_mode=OFF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlGtidEvent {
    pub gtid: Option<MysqlGtid>,
}

impl MysqlGtidEvent {
    pub fn parse(body: &[u8], t: EventType) -> Result<Self, DecodeError> {
        if t == EventType::GTID_TAGGED {
            return Err(DecodeError::Unsupported(
                "tagged GTIDs (MySQL 8.3+ GTID_TAGGED events) are not supported yet".into(),
            ));
        }
        let mut r = ByteReader::new(body);
        let _commit_flags = r.u8()?;
        let uuid = Uuid(r.take(16)?.try_into().expect("took 16 bytes"));
        let gno = r.u64()?;
        let gtid = (t == EventType::GTID).then_some(MysqlGtid { source: uuid, tag: None, gno });
        Ok(Self { gtid })
    }
}

/// PREVIOUS_GTIDS body: the GTID set executed before the file began.
pub fn parse_previous_gtids(body: &[u8]) -> Result<MysqlGtidSet, DecodeError> {
    let mut r = ByteReader::new(body);
    let n_sids = r.u64()?;
    if n_sids >> 56 != 0 {
        return Err(DecodeError::Unsupported(
            "PREVIOUS_GTIDS in the tagged-GTID format (MySQL 8.3+) is not supported yet".into(),
        ));
    }
    let mut set = MysqlGtidSet::default();
    for _ in 0..n_sids {
        let uuid = Uuid(r.take(16)?.try_into().expect("took 16 bytes"));
        let n_intervals = r.u64()?;
        for _ in 0..n_intervals {
            let start = r.u64()?;
            let end_exclusive = r.u64()?;
            if start == 0 || end_exclusive <= start {
                return Err(DecodeError::Malformed(format!(
                    "PREVIOUS_GTIDS interval [{start}, {end_exclusive}) for {uuid}"
                )));
            }
            set.add_interval(uuid, None, start, end_exclusive - 1);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_gtids_round_trip_with_encode() {
        let set: MysqlGtidSet = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:9".parse().unwrap();
        assert_eq!(parse_previous_gtids(&set.encode()).unwrap(), set);
    }
}
