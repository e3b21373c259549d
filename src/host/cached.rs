//! Memoises reads so that a plan reads each `defaults` domain once however many of its keys
//! the spec manages, and so that reads sent ahead as one batch ([`Host::run_batch`]) are
//! answered from it. Any write forgets everything: after a change nothing read before it can
//! be trusted, and apply's read-back must see the machine, not the cache.

use super::{Effect, Host, HttpRequest, HttpResponse, Invocation, Output};
use anyhow::Result;
use std::cell::RefCell;
use std::collections::HashMap;

pub struct Cached<'a> {
    inner: &'a dyn Host,
    reads: RefCell<HashMap<Invocation, Output>>,
    /// Whether single reads are remembered too, or only batched ones (apply: a loop that
    /// waits for something to change must see it change).
    every_read: bool,
}

impl<'a> Cached<'a> {
    /// Remembers every read until the next write (a plan's reads).
    pub fn new(inner: &'a dyn Host) -> Self {
        Cached {
            inner,
            reads: RefCell::new(HashMap::new()),
            every_read: true,
        }
    }

    /// Remembers only reads sent as a batch, until the next write: apply sends a wave's
    /// read-backs ahead in one batch, then each resource reads as it always does.
    pub fn batched_only(inner: &'a dyn Host) -> Self {
        Cached {
            every_read: false,
            ..Cached::new(inner)
        }
    }

    fn remembered(&self, invocation: &Invocation) -> Option<Output> {
        self.reads.borrow().get(invocation).cloned()
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
        if let Some(output) = self.remembered(invocation) {
            return Ok(output);
        }
        let output = self.inner.run(invocation)?;
        if self.every_read {
            self.reads
                .borrow_mut()
                .insert(invocation.clone(), output.clone());
        }
        Ok(output)
    }

    /// A batch with a write in it goes through whole and forgets everything read before; the
    /// reads after its last write saw the machine as the batch left it, and are remembered
    /// (apply's read-backs ride in the same round trip as the writes). A batch of reads
    /// sends only those not remembered (each once), and answers all of them: a failed read
    /// never ends a batch.
    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        if let Some(last_write) = invocations.iter().rposition(|i| i.effect == Effect::Write) {
            self.reads.borrow_mut().clear();
            let outputs = self.inner.run_batch(invocations, stop_at_failure)?;
            let after_writes = invocations.iter().zip(&outputs).skip(last_write + 1);
            let mut reads = self.reads.borrow_mut();
            for (invocation, output) in after_writes {
                reads.insert(invocation.clone(), output.clone());
            }
            return Ok(outputs);
        }
        let mut missing: Vec<Invocation> = Vec::new();
        for invocation in invocations {
            if self.remembered(invocation).is_none() && !missing.contains(invocation) {
                missing.push(invocation.clone());
            }
        }
        if !missing.is_empty() {
            let outputs = self.inner.run_batch(&missing, false)?;
            let mut reads = self.reads.borrow_mut();
            for (invocation, output) in missing.into_iter().zip(outputs) {
                reads.insert(invocation, output);
            }
        }
        let mut outputs = Vec::with_capacity(invocations.len());
        for invocation in invocations {
            let Some(output) = self.remembered(invocation) else {
                anyhow::bail!("the batch left `{}` unanswered", invocation.display());
            };
            outputs.push(output);
        }
        Ok(outputs)
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
