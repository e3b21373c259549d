//! Remembers for a whole run the answers that cannot change while macllm runs: which Mac it
//! is and whose account the commands run as. The state's check of its Mac and user, the
//! plan's question whether it runs as root, and the facts all ask them; over SSH each
//! asking again would be a round trip.

use super::{Effect, Host, HttpRequest, HttpResponse, Invocation, Output};
use anyhow::Result;
use std::cell::RefCell;
use std::collections::HashMap;

/// The questions: the account (`id -u`, `id -un`) and the Mac's hardware UUID.
fn is_constant(invocation: &Invocation) -> bool {
    let argv: Vec<&str> = invocation.argv.iter().map(String::as_str).collect();
    invocation.effect == Effect::Read
        && matches!(
            argv.as_slice(),
            ["id", "-u"] | ["id", "-un"] | ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"]
        )
}

pub struct Constant {
    inner: Box<dyn Host>,
    answers: RefCell<HashMap<Invocation, Output>>,
}

impl Constant {
    pub fn new(inner: Box<dyn Host>) -> Constant {
        Constant {
            inner,
            answers: RefCell::new(HashMap::new()),
        }
    }

    fn remember(&self, invocation: &Invocation, output: &Output) {
        if is_constant(invocation) {
            self.answers
                .borrow_mut()
                .insert(invocation.clone(), output.clone());
        }
    }
}

impl Host for Constant {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        if let Some(output) = self.answers.borrow().get(invocation) {
            return Ok(output.clone());
        }
        let output = self.inner.run(invocation)?;
        self.remember(invocation, &output);
        Ok(output)
    }

    /// Sends only what is not known yet; the answers come back in the batch's order, and
    /// end where the inner host's did (a command that could not run).
    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        let known = self.answers.borrow().clone();
        let missing: Vec<Invocation> = invocations
            .iter()
            .filter(|invocation| !known.contains_key(invocation))
            .cloned()
            .collect();
        let mut sent = self.inner.run_batch(&missing, stop_at_failure)?.into_iter();
        let mut outputs = Vec::with_capacity(invocations.len());
        for invocation in invocations {
            let output = match known.get(invocation) {
                Some(output) => output.clone(),
                None => match sent.next() {
                    Some(output) => output,
                    None => break,
                },
            };
            self.remember(invocation, &output);
            outputs.push(output);
        }
        Ok(outputs)
    }

    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
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
    use std::rc::Rc;

    /// Notes what it runs.
    #[derive(Default)]
    struct Counting {
        ran: RefCell<Vec<String>>,
    }

    impl Host for Rc<Counting> {
        fn name(&self) -> &str {
            "counting"
        }

        fn run(&self, invocation: &Invocation) -> Result<Output> {
            let line = invocation.argv.join(" ");
            self.ran.borrow_mut().push(line.clone());
            Ok(Output::ok(line))
        }

        fn http(&self, _: &HttpRequest, _: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
            unreachable!("no test sends one")
        }
    }

    #[test]
    fn the_account_is_asked_once_a_run_and_other_reads_every_time() {
        let counting = Rc::new(Counting::default());
        let host = Constant::new(Box::new(counting.clone()));
        let id = Invocation::read(["id", "-u"]);
        let sw_vers = Invocation::read(["sw_vers"]);
        let outputs = host
            .run_batch(&[id.clone(), sw_vers.clone()], false)
            .unwrap();
        assert_eq!(outputs, [Output::ok("id -u"), Output::ok("sw_vers")]);
        assert_eq!(host.run(&id).unwrap(), Output::ok("id -u"));
        let outputs = host
            .run_batch(&[sw_vers.clone(), id.clone()], false)
            .unwrap();
        assert_eq!(outputs, [Output::ok("sw_vers"), Output::ok("id -u")]);
        assert_eq!(*counting.ran.borrow(), ["id -u", "sw_vers", "sw_vers"]);
        // A write is not a question: it always runs.
        host.run(&Invocation::write(["id", "-u"])).unwrap();
        assert_eq!(counting.ran.borrow().len(), 4);
    }
}
