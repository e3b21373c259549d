//! The host a resource acts on, with its facts read lazily: a spec of `defaults` keys never
//! pays for them, and a run reads them at most once.

use crate::facts::Facts;
use crate::host::Host;
use anyhow::Result;
use std::cell::{OnceCell, RefCell};

pub struct Target<'a> {
    host: &'a dyn Host,
    facts: OnceCell<Facts>,
    warnings: RefCell<Vec<String>>,
}

impl<'a> Target<'a> {
    pub fn new(host: &'a dyn Host) -> Target<'a> {
        Target {
            host,
            facts: OnceCell::new(),
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// Something the user should know about this host, found while reading (each said once).
    pub fn warn(&self, warning: String) {
        let mut warnings = self.warnings.borrow_mut();
        if !warnings.contains(&warning) {
            warnings.push(warning);
        }
    }

    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// Facts already read for this host (while rendering its spec), so they are not read
    /// again.
    pub fn with_facts(self, facts: Option<Facts>) -> Target<'a> {
        if let Some(facts) = facts {
            let _ = self.facts.set(facts);
        }
        self
    }

    pub fn host(&self) -> &'a dyn Host {
        self.host
    }

    pub fn facts(&self) -> Result<&Facts> {
        if let Some(facts) = self.facts.get() {
            return Ok(facts);
        }
        let facts = Facts::read(self.host)?;
        Ok(self.facts.get_or_init(|| facts))
    }

    /// `~/x` -> `/Users/NAME/x` on this host; other paths unchanged. Spec paths keep their
    /// `~` (ids stay the same on every Mac); it is resolved only when the host is touched.
    pub fn expand_home(&self, path: &str) -> Result<String> {
        Ok(match path.strip_prefix("~/") {
            Some(rest) => format!("{}/{rest}", self.facts()?.home),
            None if path == "~" => self.facts()?.home.clone(),
            None => path.to_string(),
        })
    }
}
