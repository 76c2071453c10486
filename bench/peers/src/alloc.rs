//! A counting global allocator: the live heap bytes and allocations of the process, for
//! the memory a session costs. Declare it in a binary that wants the counts:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: session_peers_bench::alloc::Counting = session_peers_bench::alloc::Counting;
//!
//! fn main() {
//!     let before = session_peers_bench::alloc::live().0;
//!     let block = vec![0u8; 4096];
//!     assert!(session_peers_bench::alloc::live().0 >= before + 4096);
//!     drop(block);
//! }
//! ```
//!
//! Only the `scale` binary does: the side-by-side figures are taken with the plain system
//! allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);
/// Counting is switched off for timings on several threads: two threads adding to the same
/// counters would contend on their cache line, a global lock of the allocator's own.
static ON: AtomicBool = AtomicBool::new(true);

/// Switches counting on or off (on at start). The counts only mean something for blocks
/// allocated and freed while it is on.
pub fn set_counting(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

fn add(bytes: isize, blocks: isize) {
    if ON.load(Ordering::Relaxed) {
        LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed);
        LIVE_BLOCKS.fetch_add(blocks, Ordering::Relaxed);
    }
}

/// The system allocator, counting what is live.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

// SAFETY: every call goes to `System` unchanged; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            add(layout.size() as isize, 1);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        add(-(layout.size() as isize), -1);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            add(layout.size() as isize, 1);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new
    }
}

/// Live heap bytes and blocks now (zero unless [`Counting`] is the global allocator).
pub fn live() -> (isize, isize) {
    (
        LIVE_BYTES.load(Ordering::Relaxed),
        LIVE_BLOCKS.load(Ordering::Relaxed),
    )
}

/// Resident set size of the process in bytes (`/proc/self/statm`), if readable.
pub fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
