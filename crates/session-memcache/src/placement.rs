//! Which server holds a session: [`Placement`].

use memcache::exp::Router;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Which server holds a key: rendezvous (highest random weight) hashing on XXH3.
///
/// Every key scores each server with `XXH3-64(key, seed = XXH3-64(server))` and lives on
/// the server with the highest score. So
/// - every app instance, every restart and every build computes the same placement:
///   XXH3's output is fixed by its specification (std's `DefaultHasher`, which the
///   `memcache` crate's own `Rendezvous` router uses, may change with any Rust release and
///   would strand every session on an upgrade);
/// - the order of the server list does not matter, only the servers in it;
/// - adding or removing a server moves only the keys that land on, or lived on, that
///   server.
///
/// Servers are named as configured (`host:port`, host lowercased): every instance must
/// list the same servers written the same way (`localhost:11211` and `127.0.0.1:11211` are
/// two different names). The key is the whole memcached key, `key_prefix` included.
///
/// ```
/// use session_memcache::Placement;
///
/// let servers = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"];
/// let home = Placement::server_for(b"sessionkey", &servers);
/// assert!(home < 3);
/// // The list order does not matter, only its members.
/// let reversed = ["10.0.0.3:11211", "10.0.0.2:11211", "10.0.0.1:11211"];
/// assert_eq!(reversed[Placement::server_for(b"sessionkey", &reversed)], servers[home]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement;

impl Placement {
    /// The index in `servers` of the server that holds `key` (0 for an empty list).
    pub fn server_for<S: AsRef<str>>(key: &[u8], servers: &[S]) -> usize {
        let mut best: Option<(u64, &str, usize)> = None;
        for (index, server) in servers.iter().enumerate() {
            let name = server.as_ref();
            let score = Self::score(key, name);
            // Ties (never seen in practice) go to the smaller name, so that the list order
            // still does not matter.
            let wins = match best {
                None => true,
                Some((top, top_name, _)) => score > top || (score == top && name < top_name),
            };
            if wins {
                best = Some((score, name, index));
            }
        }
        best.map_or(0, |(_, _, index)| index)
    }

    /// The weight of `server` for `key`.
    fn score(key: &[u8], server: &str) -> u64 {
        xxh3_64_with_seed(key, xxh3_64(server.as_bytes()))
    }
}

impl Router for Placement {
    fn route(&self, key: &[u8], servers: &[String]) -> usize {
        Placement::server_for(key, servers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("10.1.0.{i}:11211")).collect()
    }

    #[test]
    fn xxh3_is_the_specified_function() {
        // Reference values of XXH3-64 from the specification's test vectors: an
        // implementation that changed them would move every stored session.
        assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
        assert_eq!(xxh3_64_with_seed(b"", 0), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn spreads_keys_evenly() {
        let servers = names(4);
        let mut counts = [0usize; 4];
        for i in 0..8000u32 {
            counts[Placement::server_for(format!("sid{i}").as_bytes(), &servers)] += 1;
        }
        for count in counts {
            assert!((1700..2300).contains(&count), "uneven: {counts:?}");
        }
    }

    #[test]
    fn one_server_and_none() {
        assert_eq!(Placement::server_for(b"k", &["a:1"]), 0);
        assert_eq!(Placement::server_for::<&str>(b"k", &[]), 0);
    }
}
