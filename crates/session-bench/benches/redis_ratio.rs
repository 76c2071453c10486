//! Whole requests on the `redis` engine next to raw redis-rs on the same server, in the same
//! run: a changed request against `GET` + `SET`, a read-only one against `GET`, and a new
//! visitor (no round trip at all). Prints each figure as a ratio; the targets (within 5 % of
//! the raw commands) are measured here, never asserted. Run with `cargo xtask bench`.

use session_bench::raw_redis::{RawRedis, Timer};
use session_bench::Target;

const ROUNDS: usize = 15;
const PER_ROUND: u32 = 2000;

fn main() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("redis_ratio: not measured: REDIS_URL is not set (cargo xtask bench sets it)");
        return;
    };
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let target = Target::new("redis", &url).await.expect("the redis engine");
        let cookie = target.stored_session().await.expect("a stored session");
        let raw = RawRedis::connect(&url).await.expect("redis-rs");
        let sid = cookie.split_once('=').map(|(_, sid)| sid.to_owned()).expect("a session cookie");
        let mut timer = Timer::new(8);
        let mut n = 0u64;
        for _ in 0..ROUNDS {
            timer.round(0, PER_ROUND, || { n += 1; target.changed(&cookie, n) }).await.expect("changed");
            timer.round(1, PER_ROUND, || raw.get_set()).await.expect("GET + SET");
            timer.round(2, PER_ROUND, || target.read_only(&cookie)).await.expect("read-only");
            timer.round(3, PER_ROUND, || raw.get()).await.expect("GET");
            timer.round(4, PER_ROUND, || target.new_visitor()).await.expect("new visitor");
            timer.round(5, PER_ROUND, || raw.read_and_slide_script(&sid)).await.expect("EVALSHA");
            timer.round(6, PER_ROUND, || raw.hgetall_pttl(&sid)).await.expect("HGETALL + PTTL");
            timer.round(7, PER_ROUND, || raw.hgetall(&sid)).await.expect("HGETALL");
        }
        let ratio = |a: usize, b: usize| timer.median(a).as_secs_f64() / timer.median(b).as_secs_f64();
        println!("redis engine vs raw redis-rs, median of {ROUNDS} rounds of {PER_ROUND} requests:");
        println!(
            "  changed request  {:>9.1?}  raw GET+SET {:>9.1?}  ratio {:.3}",
            timer.median(0),
            timer.median(1),
            ratio(0, 1)
        );
        println!(
            "  read-only        {:>9.1?}  raw GET     {:>9.1?}  ratio {:.3}",
            timer.median(2),
            timer.median(3),
            ratio(2, 3)
        );
        println!(
            "  new visitor      {:>9.1?}  (no round trip)      vs raw GET {:.3}",
            timer.median(4),
            ratio(4, 3)
        );
        println!(
            "  read designs alone, vs raw GET: read-and-slide script {:>9.1?} ratio {:.3}; HGETALL+PTTL pipeline {:>9.1?} ratio {:.3}",
            timer.median(5),
            ratio(5, 3),
            timer.median(6),
            ratio(6, 3)
        );
        println!("  HGETALL (the engine's read) {:>9.1?} ratio {:.3}", timer.median(7), ratio(7, 3));
    });
}
