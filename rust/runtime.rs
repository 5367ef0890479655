//! The process-wide tokio runtime and HTTP clients, fork-aware. Python waits on them through
//! `python/bridge.rs`.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use crate::errors::CoreError;
use crate::transport::{self, Tls};

/// Everything tied to one process: after `fork()` the child gets a fresh one because the
/// parent's worker threads and pooled sockets do not exist (or are shared) there.
pub struct Core {
    pid: u32,
    pub runtime: tokio::runtime::Runtime,
    /// One pooled client per TLS setting in use (a process uses one or two), built on
    /// first use as LiteLLM caches one SSL context per CA file.
    clients: Mutex<Vec<(Tls, transport::Client)>>,
}

impl Core {
    /// The pooled client for this TLS setting if it was built already (a cheap handle).
    pub fn cached_client(&self, tls: &Tls) -> Option<transport::Client> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .iter()
            .find(|(t, _)| t == tls)
            .map(|(_, c)| c.clone())
    }

    /// The pooled client for this TLS setting (a cheap handle onto the shared pool),
    /// built on first use.
    pub fn client(&self, tls: &Tls) -> Result<transport::Client, CoreError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = clients.iter().find(|(t, _)| t == tls) {
            return Ok(c.clone());
        }
        let client = {
            // The client's connector needs a runtime context for its DNS resolver.
            let _guard = self.runtime.enter();
            transport::Client::new(tls)?
        };
        // A process uses one or two settings; one that keeps inventing CA bundle paths
        // must not grow this list forever (clients in use live on in their calls).
        if clients.len() >= MAX_CLIENTS {
            clients.remove(0);
        }
        clients.push((tls.clone(), client.clone()));
        Ok(client)
    }
}

const MAX_CLIENTS: usize = 16;

static CORE: AtomicPtr<Core> = AtomicPtr::new(std::ptr::null_mut());

fn build_core() -> Core {
    let workers = std::env::var("EDGEQUAKE_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(2)
        });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("edgequake-io")
        .enable_all()
        .build()
        .expect("failed to start the tokio runtime");
    Core {
        pid: std::process::id(),
        runtime,
        clients: Mutex::new(Vec::new()),
    }
}

/// The live core for this process. Lock-free so a fork can never inherit a held lock; a
/// parent's core is leaked in the child on purpose (dropping it would join threads that
/// were not copied by fork).
pub fn core() -> &'static Core {
    let pid = std::process::id();
    let current = CORE.load(Ordering::Acquire);
    // SAFETY: pointers stored in CORE come from Box::into_raw and are never freed.
    if let Some(c) = unsafe { current.as_ref() } {
        if c.pid == pid {
            return c;
        }
    }
    let fresh = Box::into_raw(Box::new(build_core()));
    match CORE.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: we just stored it; never freed.
        Ok(_) => unsafe { &*fresh },
        Err(winner) => {
            // Another thread built one first: discard ours without blocking and use theirs.
            // SAFETY: `fresh` was never published, so we own it.
            let ours = unsafe { Box::from_raw(fresh) };
            ours.runtime.shutdown_background();
            // SAFETY: the winner is published and never freed.
            unsafe { &*winner }
        }
    }
}
