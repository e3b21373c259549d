//! Memoises reads so that a plan reads each `defaults` domain once however many of its keys
//! the spec manages. Any write forgets everything: after a change nothing read before it can
//! be trusted, and apply's read-back must see the machine, not the cache.

use super::{Effect, Host, HttpRequest, HttpResponse, Invocation, Output};
use anyhow::Result;
use std::cell::RefCell;
use std::collections::HashMap;

pub struct Cached<'a> {
    inner: &'a dyn Host,
    reads: RefCell<HashMap<Invocation, Output>>,
}

impl<'a> Cached<'a> {
    pub fn new(inner: &'a dyn Host) -> Self {
        Cached {
            inner,
            reads: RefCell::new(HashMap::new()),
        }
    }
}

impl Host for Cached<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        if invocation.effect == Effect::Write {
            self.reads.borrow_mut().clear();
            return self.inner.run(invocation);
        }
        if let Some(output) = self.reads.borrow().get(invocation) {
            return Ok(output.clone());
        }
        let output = self.inner.run(invocation)?;
        self.reads
            .borrow_mut()
            .insert(invocation.clone(), output.clone());
        Ok(output)
    }

    /// HTTP is not cached (models are read once per plan anyway), but a write through it
    /// invalidates command reads as any other change does.
    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        if request.effect() == Effect::Write {
            self.reads.borrow_mut().clear();
        }
        self.inner.http(request, on_line)
    }

    fn configured_user(&self) -> Option<&str> {
        self.inner.configured_user()
    }
}
