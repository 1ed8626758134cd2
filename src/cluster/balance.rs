//! Spreading destinations over servers. Every `balance_interval_ms` each server reads who leads what
//! and who could, and hands over (gracefully) at most one destination when that makes the spread
//! fairer or when another candidate prefers it. The destination's runner then waits a cool-down
//! before campaigning again, so the other candidate wins.
//!
//! The rule is local and monotone: a server only gives a destination to a candidate that, after the
//! move, still leads fewer destinations than this server does — so two servers never trade the same
//! destination back and forth.

use std::collections::BTreeMap;

use zookeeper_client as zk;

use super::election::CandidateData;
use super::zk::{ZkError, ZkPaths};

/// A server able to run a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub address: String,
    pub prefers: bool,
}

/// Who leads a destination and who could.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestinationView {
    pub leader: Option<String>,
    pub candidates: Vec<Candidate>,
}

/// The destination `me` should hand over now, if any.
pub fn choose_handover(me: &str, views: &BTreeMap<String, DestinationView>) -> Option<String> {
    let mut led: BTreeMap<&str, usize> = BTreeMap::new();
    for view in views.values() {
        for c in &view.candidates {
            led.entry(&c.address).or_default();
        }
        if let Some(leader) = &view.leader {
            *led.entry(leader).or_default() += 1;
        }
    }
    let mine = led.get(me).copied().unwrap_or(0);
    let i_prefer = |view: &DestinationView| view.candidates.iter().any(|c| c.address == me && c.prefers);
    let leading: Vec<(&String, &DestinationView)> =
        views.iter().filter(|(_, v)| v.leader.as_deref() == Some(me)).collect();
    // A candidate that prefers a destination this server merely runs gets it.
    for (name, view) in &leading {
        if !i_prefer(view) && view.candidates.iter().any(|c| c.address != me && c.prefers) {
            return Some((*name).clone());
        }
    }
    // Otherwise move one destination to a candidate that would still lead fewer than this server.
    for (name, view) in &leading {
        if i_prefer(view) {
            continue;
        }
        let better = view
            .candidates
            .iter()
            .any(|c| c.address != me && led.get(c.address.as_str()).copied().unwrap_or(0) + 1 < mine);
        if better {
            return Some((*name).clone());
        }
    }
    None
}

/// Read the views of `destinations` from ZooKeeper.
pub async fn read_views(
    client: &zk::Client,
    paths: &ZkPaths,
    destinations: &[String],
) -> Result<BTreeMap<String, DestinationView>, ZkError> {
    let mut views = BTreeMap::new();
    for d in destinations {
        let leader = super::Election::leader(client, paths, d).await?;
        let dir = paths.destination_cluster_dir(d);
        let names = match client.list_children(&dir).await {
            Ok(names) => names,
            Err(zk::Error::NoNode) => Vec::new(),
            Err(e) => return Err(ZkError::op("list", &dir, e)),
        };
        let mut candidates = Vec::with_capacity(names.len());
        for address in names {
            let path = paths.destination_server(d, &address);
            let prefers = match client.get_data(&path).await {
                Ok((data, _)) => serde_json::from_slice::<CandidateData>(&data).map(|c| c.prefer).unwrap_or(false),
                Err(zk::Error::NoNode) => continue,
                Err(e) => return Err(ZkError::op("read", &path, e)),
            };
            candidates.push(Candidate { address, prefers });
        }
        views.insert(d.clone(), DestinationView { leader, candidates });
    }
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(leader: Option<&str>, candidates: &[(&str, bool)]) -> DestinationView {
        DestinationView {
            leader: leader.map(str::to_owned),
            candidates: candidates.iter().map(|(a, p)| Candidate { address: (*a).into(), prefers: *p }).collect(),
        }
    }

    fn views(list: &[(&str, DestinationView)]) -> BTreeMap<String, DestinationView> {
        list.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect()
    }

    #[test]
    fn the_first_server_up_gives_destinations_to_a_newcomer() {
        let both = [("a", false), ("b", false)];
        let v =
            views(&[("d1", view(Some("a"), &both)), ("d2", view(Some("a"), &both)), ("d3", view(Some("a"), &both))]);
        assert_eq!(choose_handover("a", &v).as_deref(), Some("d1"));
        assert_eq!(choose_handover("b", &v), None, "a standby hands nothing over");
    }

    #[test]
    fn a_balanced_cluster_stays_put() {
        let both = [("a", false), ("b", false)];
        let v =
            views(&[("d1", view(Some("a"), &both)), ("d2", view(Some("b"), &both)), ("d3", view(Some("a"), &both))]);
        // a leads 2, b leads 1: moving one would make b lead 2 and a 1 — no better.
        assert_eq!(choose_handover("a", &v), None);
        assert_eq!(choose_handover("b", &v), None);
    }

    #[test]
    fn only_to_servers_that_can_run_the_destination() {
        let v = views(&[
            ("d1", view(Some("a"), &[("a", false)])),
            ("d2", view(Some("a"), &[("a", false)])),
            ("d3", view(None, &[("b", false)])),
        ]);
        assert_eq!(choose_handover("a", &v), None);
    }

    #[test]
    fn preference_wins_and_is_never_balanced_away() {
        let v = views(&[("d1", view(Some("a"), &[("a", false), ("b", true)]))]);
        assert_eq!(choose_handover("a", &v).as_deref(), Some("d1"));
        let v = views(&[
            ("d1", view(Some("a"), &[("a", true), ("b", false)])),
            ("d2", view(Some("a"), &[("a", true), ("b", false)])),
            ("d3", view(Some("a"), &[("a", true), ("b", false)])),
        ]);
        assert_eq!(choose_handover("a", &v), None, "preferred destinations stay");
    }
}
