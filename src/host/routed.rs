//! Where the host's Ollama answers. `OLLAMA_HOST` decides where the server listens
//! (ollama/ollama `envconfig.Host()`), and a spec may change it: before the restart that
//! applies it the server still listens where it did, after it only on the new address. So
//! requests try the addresses the spec and the state name, most likely first, then the
//! host's default, and keep to the first that answers until it stops answering (a restart
//! moved the server). A refused connection costs one round trip; nothing else is retried.

use super::{Host, HttpRequest, HttpResponse, Invocation, Output, Unreachable};
use anyhow::Result;
use std::cell::RefCell;

pub struct Routed<'a> {
    inner: &'a dyn Host,
    /// Base URLs (`http://127.0.0.1:11500`) where the server may listen, most likely
    /// first; `None` is the host's own default.
    candidates: RefCell<Vec<Option<String>>>,
    /// The one that answered last.
    answered: RefCell<Option<Option<String>>>,
}

impl<'a> Routed<'a> {
    /// Only the host's default address.
    pub fn new(inner: &'a dyn Host) -> Routed<'a> {
        Routed {
            inner,
            candidates: RefCell::new(vec![None]),
            answered: RefCell::new(None),
        }
    }

    pub fn inner(&self) -> &'a dyn Host {
        self.inner
    }

    /// Tries `addresses` (base URLs, most likely first) before the host's default.
    pub fn prefer(&self, addresses: Vec<String>) {
        let mut candidates: Vec<Option<String>> = Vec::new();
        for address in addresses.into_iter().map(Some).chain([None]) {
            if !candidates.contains(&address) {
                candidates.push(address);
            }
        }
        *self.candidates.borrow_mut() = candidates;
        *self.answered.borrow_mut() = None;
    }

    /// `request` sent where [`Host::http`] tries first: for reads sent ahead in a batch,
    /// which are then found under the same request.
    pub fn likely(&self, request: &HttpRequest) -> HttpRequest {
        match request.address {
            Some(_) => request.clone(),
            None => HttpRequest {
                address: self.order().swap_remove(0),
                ..request.clone()
            },
        }
    }

    /// The address that answered last first, then the others in order.
    fn order(&self) -> Vec<Option<String>> {
        let mut order: Vec<Option<String>> = self.answered.borrow().iter().cloned().collect();
        for candidate in self.candidates.borrow().iter() {
            if !order.contains(candidate) {
                order.push(candidate.clone());
            }
        }
        order
    }
}

impl Host for Routed<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn run(&self, invocation: &Invocation) -> Result<Output> {
        self.inner.run(invocation)
    }

    fn run_batch(&self, invocations: &[Invocation], stop_at_failure: bool) -> Result<Vec<Output>> {
        self.inner.run_batch(invocations, stop_at_failure)
    }

    fn remote(&self) -> bool {
        self.inner.remote()
    }

    /// A request that names its address goes there; others try the candidates. When none
    /// answers, the error is the first one's (the most likely address).
    fn http(&self, request: &HttpRequest, on_line: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
        if request.address.is_some() {
            return self.inner.http(request, on_line);
        }
        let mut refused = None;
        for address in self.order() {
            let routed = HttpRequest {
                address: address.clone(),
                ..request.clone()
            };
            match self.inner.http(&routed, on_line) {
                Err(err) if err.downcast_ref::<Unreachable>().is_some() => {
                    refused.get_or_insert(err);
                }
                Ok(response) => {
                    *self.answered.borrow_mut() = Some(address);
                    return Ok(response);
                }
                Err(err) => return Err(err),
            }
        }
        Err(refused.expect("there is always the default address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers on one address only, and says which addresses were asked.
    struct OnePort {
        listening: RefCell<Option<String>>,
        asked: RefCell<Vec<Option<String>>>,
    }

    impl Host for OnePort {
        fn name(&self) -> &str {
            "one-port"
        }

        fn run(&self, _invocation: &Invocation) -> Result<Output> {
            Ok(Output::ok(""))
        }

        fn http(&self, request: &HttpRequest, _: &mut dyn FnMut(&str)) -> Result<HttpResponse> {
            self.asked.borrow_mut().push(request.address.clone());
            if request.address == *self.listening.borrow() {
                return Ok(HttpResponse {
                    status: 200,
                    ..HttpResponse::default()
                });
            }
            Err(anyhow::Error::new(Unreachable {
                address: format!("{:?}", request.address),
                reason: "connection refused".into(),
            }))
        }
    }

    #[test]
    fn requests_follow_the_server_from_address_to_address() {
        let host = OnePort {
            listening: RefCell::new(None),
            asked: RefCell::new(Vec::new()),
        };
        let routed = Routed::new(&host);
        let new = "http://127.0.0.1:11500".to_string();
        routed.prefer(vec![new.clone()]);
        let get = || routed.http(&HttpRequest::get("/"), &mut |_| {});
        // Before the restart: the new address is refused, the default answers and is kept.
        assert!(get().is_ok());
        assert!(get().is_ok());
        assert_eq!(*host.asked.borrow(), [Some(new.clone()), None, None]);
        // After it the default is refused and the new address answers.
        *host.listening.borrow_mut() = Some(new.clone());
        host.asked.borrow_mut().clear();
        assert!(get().is_ok());
        assert!(get().is_ok());
        assert_eq!(
            *host.asked.borrow(),
            [None, Some(new.clone()), Some(new.clone())]
        );
        // Nothing answers: the error names the most likely address.
        *host.listening.borrow_mut() = Some("elsewhere".into());
        let err = get().unwrap_err();
        assert_eq!(
            err.downcast_ref::<Unreachable>().unwrap().address,
            format!("{:?}", Some(new))
        );
    }
}
