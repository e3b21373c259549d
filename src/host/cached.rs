//! Memoises reads so that a plan reads each `defaults` domain once however many of its keys
//! the spec manages, and so that reads sent ahead as one batch ([`Host::run_batch`]) are
//! answered from it. Any write forgets everything: after a change nothing read before it can
//! be trusted, and apply's read-back must see the machine, not the cache.

use super::{Effect, Host, HttpRequest, HttpResponse, Invocation, Output, curl};
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
    /// sends only those not remembered (each once), and answers all of them up to one that
    /// could not run: a failed read never ends a batch.
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
        // A read that could not run ends the batch; the rest go on in another, and the
        // answers end before it, as the inner host's would.
        while !missing.is_empty() {
            let outputs = self.inner.run_batch(&missing, false)?;
            let ran = outputs.len();
            let mut reads = self.reads.borrow_mut();
            for (invocation, output) in missing.iter().zip(outputs) {
                reads.insert(invocation.clone(), output);
            }
            missing.drain(..(ran + 1).min(missing.len()));
        }
        Ok(invocations
            .iter()
            .map_while(|invocation| self.remembered(invocation))
            .collect())
    }

    /// A read that went ahead in a batch as the Mac's `curl` (see [`Host::remote`])
    /// is answered from it; other requests go through (models are read once per plan
    /// anyway), and a write forgets every read as any other change does.
    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        if request.effect() == Effect::Write {
            self.reads.borrow_mut().clear();
        } else if self.inner.remote() && !curl::streamed(request) {
            let invocation = curl::invocation(request);
            if let Some(output) = self.remembered(&invocation) {
                return curl::response(self.inner.name(), request, output, on_line);
            }
        }
        self.inner.http(request, on_line)
    }

    fn configured_user(&self) -> Option<&str> {
        self.inner.configured_user()
    }

    fn remote(&self) -> bool {
        self.inner.remote()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A remote Mac that lacks the program `missing`, answers `curl` with a fixed body, and
    /// counts the commands and batches it is sent.
    #[derive(Default)]
    struct Remote {
        ran: RefCell<Vec<String>>,
        batches: RefCell<usize>,
    }

    impl Host for Remote {
        fn name(&self) -> &str {
            "remote"
        }

        fn run(&self, invocation: &Invocation) -> Result<Output> {
            let program = invocation.argv[0].clone();
            self.ran.borrow_mut().push(program.clone());
            match program.as_str() {
                "missing" => anyhow::bail!("no such program"),
                "curl" => Ok(Output::ok("{\"models\":[]}\n200 application/json")),
                _ => Ok(Output::ok(program)),
            }
        }

        fn run_batch(&self, invocations: &[Invocation], stop: bool) -> Result<Vec<Output>> {
            *self.batches.borrow_mut() += 1;
            crate::host::run_in_order(self, invocations, stop)
        }

        fn http(&self, _: &HttpRequest, _: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
            anyhow::bail!("asked over its own round trip")
        }

        fn remote(&self) -> bool {
            true
        }
    }

    fn reads(programs: &[&str]) -> Vec<Invocation> {
        programs.iter().map(|p| Invocation::read([*p])).collect()
    }

    #[test]
    fn a_read_that_cannot_run_ends_the_answers_but_not_the_reads_after_it() {
        let remote = Remote::default();
        let cached = Cached::new(&remote);
        let outputs = cached
            .run_batch(&reads(&["first", "missing", "last"]), false)
            .unwrap();
        // The answers end where the inner host's would; what came after still ran, in a
        // second batch, and is remembered.
        assert_eq!(outputs, [Output::ok("first")]);
        assert_eq!(*remote.batches.borrow(), 2);
        assert_eq!(
            cached.run(&reads(&["last"])[0]).unwrap(),
            Output::ok("last")
        );
        assert_eq!(*remote.ran.borrow(), ["first", "missing", "last"]);
        // The one that could not run runs again on its own, for its error.
        assert!(cached.run(&reads(&["missing"])[0]).is_err());
    }

    #[test]
    fn an_ollama_read_sent_ahead_as_curl_is_answered_from_the_batch() {
        let remote = Remote::default();
        let cached = Cached::batched_only(&remote);
        let tags = HttpRequest::get("/api/tags");
        cached
            .run_batch(
                &[curl::invocation(&tags), Invocation::read(["other"])],
                false,
            )
            .unwrap();
        let response = cached.http(&tags, &mut |_| {}).unwrap();
        assert_eq!(
            (response.status, response.body.as_str()),
            (200, "{\"models\":[]}")
        );
        // A write forgets it: the next request goes to the Mac (here: an error).
        cached.run(&Invocation::write(["touch"])).unwrap();
        assert!(cached.http(&tags, &mut |_| {}).is_err());
    }
}
