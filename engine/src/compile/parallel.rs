//! Spreading per-file work over the machine's cores.
//!
//! Loading and compiling one file does not depend on another file's work (workflows only
//! read the connector specs, which are shared read-only), so files are split over scoped
//! threads. Each thread has its own state (template compiler, diagnostics list); results
//! come back in input order, so output is the same whatever the thread count.

use crate::diag::Diagnostics;

/// Stack of each worker thread: the same as the main thread's usual 8 MiB, so a spec
/// that compiles on one thread compiles on several.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Files per thread below which threads cost more than they save.
const MIN_ITEMS_PER_THREAD: usize = 16;

/// Maps `f` over `items` on up to `available_parallelism()` threads. `init` makes each
/// thread's state. Diagnostics of all threads are merged.
pub fn map_with_diagnostics<'a, T, S, R>(
    items: &'a [T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &'a T, &mut Diagnostics) -> R + Sync,
) -> (Vec<R>, Diagnostics)
where
    T: Sync,
    R: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(items.len() / MIN_ITEMS_PER_THREAD).max(1);
    let run = |chunk: &'a [T]| {
        let mut state = init();
        let mut diagnostics = Diagnostics::default();
        let results: Vec<R> = chunk
            .iter()
            .map(|item| f(&mut state, item, &mut diagnostics))
            .collect();
        (results, diagnostics)
    };
    if threads == 1 {
        return run(items);
    }
    let chunk_size = items.len().div_ceil(threads);
    let parts: Vec<(Vec<R>, Diagnostics)> = std::thread::scope(|scope| {
        // A chunk whose thread cannot be started runs on this thread instead.
        let started: Vec<_> = items
            .chunks(chunk_size)
            .map(|chunk| {
                std::thread::Builder::new()
                    .stack_size(THREAD_STACK_BYTES)
                    .spawn_scoped(scope, move || run(chunk))
                    .map_err(|_| chunk)
            })
            .collect();
        started
            .into_iter()
            .map(|thread| match thread {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(chunk) => run(chunk),
            })
            .collect()
    });
    let mut results = Vec::with_capacity(items.len());
    let mut diagnostics = Diagnostics::default();
    for (part, diags) in parts {
        results.extend(part);
        diagnostics.extend(diags);
    }
    (results, diagnostics)
}
