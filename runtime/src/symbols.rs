//! The node's symbol table. A symbol is an immediate holding its index here;
//! symbols are never freed, and travel between nodes by name.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Default)]
struct Table {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

static TABLE: RwLock<Option<Table>> = RwLock::new(None);

pub fn intern(name: &str) -> u32 {
    if let Some(t) = TABLE.read().unwrap_or_else(|e| e.into_inner()).as_ref()
        && let Some(id) = t.ids.get(name)
    {
        return *id;
    }
    let mut guard = TABLE.write().unwrap_or_else(|e| e.into_inner());
    let t = guard.get_or_insert_with(Table::default);
    if let Some(id) = t.ids.get(name) {
        return *id;
    }
    let id = t.names.len() as u32;
    let name: Arc<str> = Arc::from(name);
    t.names.push(name.clone());
    t.ids.insert(name, id);
    id
}

pub fn name(id: u32) -> Arc<str> {
    TABLE
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|t| t.names.get(id as usize).cloned())
        .unwrap_or_else(|| Arc::from("?"))
}

static GENSYM: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A fresh, uninterned-looking symbol name.
pub fn gensym(prefix: &str) -> u32 {
    let n = GENSYM.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    intern(&format!("{prefix}{n}"))
}
