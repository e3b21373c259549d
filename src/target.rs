//! The host a resource acts on, with its facts read lazily: a spec of `defaults` keys never
//! pays for them, and a run reads them at most once.

use crate::facts::Facts;
use crate::host::Host;
use anyhow::Result;
use std::cell::OnceCell;

pub struct Target<'a> {
    host: &'a dyn Host,
    facts: OnceCell<Facts>,
}

impl<'a> Target<'a> {
    pub fn new(host: &'a dyn Host) -> Target<'a> {
        Target {
            host,
            facts: OnceCell::new(),
        }
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
