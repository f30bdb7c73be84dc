//! The watch table (ARCHITECTURE.md, "Who watches whom"): per node, the
//! local processes that are in the links of a process of that node, so
//! that they can be told if the node goes down. An entry goes when the
//! link fires (EXIT), when the watched process ends normally (UNWATCH),
//! when the local watcher ends, or with the node: the table holds only
//! live links, however many come and go.

use crate::ident;
use crate::value::Value;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct Watches {
    /// Node-table entry -> watcher (a local pid word) -> the processes of
    /// that node it watches (remote pids, static values; one element per
    /// link made, so a link made twice goes after two signals).
    by_node: HashMap<u32, HashMap<u64, Vec<Value>>>,
}

impl Watches {
    /// `watcher` is in the links of `watched`, a process of node `entry`.
    pub(crate) fn add(&mut self, entry: u32, watcher: u64, watched: Value) {
        self.by_node
            .entry(entry)
            .or_default()
            .entry(watcher)
            .or_default()
            .push(watched);
    }

    /// `watcher` is in the links of `watched`, which runs on node `entry`
    /// now (it may have migrated there): one entry, under that node only.
    /// (A process's links hold a pid once, so one entry is one link.)
    pub(crate) fn moved(&mut self, entry: u32, watcher: u64, watched: Value) {
        self.forget_pair(watcher, watched);
        self.add(entry, watcher, watched);
    }

    /// `watched` runs on this node now: no watcher here watches a node for it.
    pub(crate) fn forget_watched(&mut self, watched: Value) {
        self.by_node.retain(|_, m| {
            m.retain(|_, v| {
                v.retain(|&w| w != watched);
                !v.is_empty()
            });
            !m.is_empty()
        });
    }

    /// `watcher` watches `watched` under no node (it migrated to the
    /// watcher's node).
    pub(crate) fn forget_pair(&mut self, watcher: u64, watched: Value) {
        self.by_node.retain(|_, m| {
            if let Some(v) = m.get_mut(&watcher) {
                v.retain(|&w| w != watched);
                if v.is_empty() {
                    m.remove(&watcher);
                }
            }
            !m.is_empty()
        });
    }

    /// The link from `watched` to `watcher` is over (it fired, or
    /// `watched` ended normally).
    pub(crate) fn remove(&mut self, entry: u32, watcher: u64, watched: Value) {
        let Some(m) = self.by_node.get_mut(&entry) else {
            return;
        };
        let Some(v) = m.get_mut(&watcher) else {
            return;
        };
        if let Some(i) = v.iter().position(|&w| w == watched) {
            v.swap_remove(i);
        }
        if v.is_empty() {
            m.remove(&watcher);
            if m.is_empty() {
                self.by_node.remove(&entry);
            }
        }
    }

    /// Node `entry` is down: the watchers of its processes, each once.
    pub(crate) fn take_node(&mut self, entry: u32) -> Vec<u64> {
        self.by_node
            .remove(&entry)
            .map(|m| m.into_keys().collect())
            .unwrap_or_default()
    }

    /// Incarnation `incarnation` of node `entry` is up: the watchers of
    /// processes of its other incarnations (gone), each once; their
    /// entries go.
    pub(crate) fn take_other_incarnations(&mut self, entry: u32, incarnation: u64) -> Vec<u64> {
        let Some(m) = self.by_node.get_mut(&entry) else {
            return Vec::new();
        };
        let mut told = Vec::new();
        m.retain(|&watcher, watched| {
            let before = watched.len();
            // A process that migrated here from a third node keeps that
            // node's pid: only pids of this node name an incarnation of it.
            watched.retain(|&p| {
                ident::parts(p).is_none_or(|(e, i, _)| e != entry || i == incarnation)
            });
            if watched.len() < before {
                told.push(watcher);
            }
            !watched.is_empty()
        });
        if m.is_empty() {
            self.by_node.remove(&entry);
        }
        told
    }

    /// The local process `watcher` ended: its entries go.
    pub(crate) fn forget_watcher(&mut self, watcher: u64) {
        self.by_node.retain(|_, m| {
            m.remove(&watcher);
            !m.is_empty()
        });
    }

    /// What `watcher` watches: (node, watched process) pairs.
    pub(crate) fn of_watcher(&self, watcher: u64) -> Vec<(u32, Value)> {
        let mut out = Vec::new();
        for (&entry, m) in &self.by_node {
            if let Some(v) = m.get(&watcher) {
                out.extend(v.iter().map(|&w| (entry, w)));
            }
        }
        out
    }

    /// Links recorded, all nodes together.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_node
            .values()
            .flat_map(|m| m.values())
            .map(Vec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(entry: u32, incarnation: u64, word: u64) -> Value {
        ident::pid_of(entry, incarnation, word)
    }

    #[test]
    fn ten_thousand_links_that_come_and_go_leave_nothing() {
        let e = ident::node_entry("192.0.2.7", 4000, 0);
        let mut w = Watches::default();
        for i in 0..10_000u64 {
            w.add(e, 1000 + i % 7, pid(e, 9, i));
        }
        assert_eq!(w.len(), 10_000);
        // Half end normally (UNWATCH), half fire (EXIT).
        for i in 0..10_000u64 {
            w.remove(e, 1000 + i % 7, pid(e, 9, i));
        }
        assert_eq!(w.len(), 0);
        assert!(w.by_node.is_empty());
        // A watcher that ends takes its entries along, on every node.
        let f = ident::node_entry("192.0.2.8", 4000, 0);
        for i in 0..10_000u64 {
            w.add(if i % 2 == 0 { e } else { f }, 5, pid(e, 9, i));
        }
        w.add(e, 6, pid(e, 9, 1));
        w.forget_watcher(5);
        assert_eq!(w.len(), 1);
        assert_eq!(w.take_node(e), vec![6]);
        assert!(w.by_node.is_empty());
    }

    #[test]
    fn a_link_made_twice_needs_two_signals_and_node_down_tells_each_once() {
        let e = ident::node_entry("192.0.2.9", 4000, 0);
        let mut w = Watches::default();
        let t = pid(e, 9, 1);
        w.add(e, 5, t);
        w.add(e, 5, t);
        w.add(e, 5, pid(e, 9, 2));
        w.remove(e, 5, t);
        assert_eq!(w.len(), 2);
        assert_eq!(w.take_node(e), vec![5]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn a_new_incarnation_fires_the_links_to_the_old_one() {
        let e = ident::node_entry("192.0.2.10", 4000, 0);
        let mut w = Watches::default();
        w.add(e, 5, pid(e, 1, 1));
        w.add(e, 5, pid(e, 2, 1));
        w.add(e, 6, pid(e, 2, 2));
        w.add(e, 7, pid(e, 1, 3));
        let mut told = w.take_other_incarnations(e, 2);
        told.sort();
        assert_eq!(told, vec![5, 7]);
        assert_eq!(w.len(), 2);
    }
}
