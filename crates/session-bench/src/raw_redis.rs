//! The baseline a Redis session engine is measured against: redis-rs by hand on one
//! multiplexed connection, doing what a minimal store does per request (`GET`, or `GET`
//! then `SET`), on the same server in the same run.

use std::time::{Duration, Instant};

use session_redis::redis::aio::MultiplexedConnection;
use session_redis::redis::{self, AsyncCommands, RedisResult};

/// A raw redis-rs connection and a key holding a session-sized value.
#[derive(Clone)]
pub struct RawRedis {
    conn: MultiplexedConnection,
    key: String,
    value: Vec<u8>,
}

impl std::fmt::Debug for RawRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRedis")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RawRedis {
    /// Connects to `url` and stores the value the requests read.
    pub async fn connect(url: &str) -> RedisResult<Self> {
        let conn = redis::Client::open(url)?
            .get_multiplexed_async_connection()
            .await?;
        // About what the benchmark session holds: a user name and a counter.
        let value = vec![0x5a; 48];
        let mut raw = RawRedis {
            conn,
            key: "bench:raw".into(),
            value,
        };
        let (key, value) = (raw.key.clone(), raw.value.clone());
        let () = raw.conn.set_ex(&key, value, 3600).await?;
        Ok(raw)
    }

    /// One `GET`: the round trip of a read-only request.
    pub async fn get(&self) -> RedisResult<Vec<u8>> {
        self.conn.clone().get(&self.key).await
    }

    /// `EVALSHA` of a script that reads the session `sid` (default prefix) and slides its
    /// expiry when due, in one round trip: the read design the engine did not take (it
    /// sends a plain `HGETALL`), kept here so the choice can be measured again.
    pub async fn read_and_slide_script(&self, sid: &str) -> RedisResult<redis::Value> {
        static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
            redis::Script::new(
                r"
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return false end
local fields = redis.call('HGETALL', KEYS[1])
local idle
for i = 1, #fields, 2 do
  if fields[i] == '#i' then idle = tonumber(fields[i + 1]) end
end
if idle and idle - pttl > idle / 100 then
  redis.call('PEXPIRE', KEYS[1], string.format('%d', idle))
  pttl = idle
end
return {pttl, fields}
",
            )
        });
        let key = session_redis::session_key(session_redis::DEFAULT_PREFIX, sid);
        SCRIPT.key(key).invoke_async(&mut self.conn.clone()).await
    }

    /// `HGETALL` and `PTTL` of the session `sid` in one pipeline: the alternative read.
    pub async fn hgetall_pttl(&self, sid: &str) -> RedisResult<redis::Value> {
        let key = session_redis::session_key(session_redis::DEFAULT_PREFIX, sid);
        redis::pipe()
            .hgetall(&key)
            .pttl(&key)
            .query_async(&mut self.conn.clone())
            .await
    }

    /// `HGETALL` of the session `sid` alone.
    pub async fn hgetall(&self, sid: &str) -> RedisResult<redis::Value> {
        let key = session_redis::session_key(session_redis::DEFAULT_PREFIX, sid);
        self.conn.clone().hgetall(&key).await
    }

    /// `GET`, then `SET … EX`: the two round trips of a changed request.
    pub async fn get_set(&self) -> RedisResult<()> {
        let mut conn = self.conn.clone();
        let _: Vec<u8> = conn.get(&self.key).await?;
        conn.set_ex(&self.key, &self.value, 3600).await
    }
}

/// The median time per call of `op`, over `rounds` rounds of `per_round` calls, measured in
/// turn with the other operations of the same comparison so that the server's and the
/// machine's ups and downs fall on all of them alike.
pub struct Timer {
    rounds: Vec<Vec<Duration>>,
}

impl Timer {
    /// A timer for `ops` operations.
    pub fn new(ops: usize) -> Self {
        Timer {
            rounds: vec![Vec::new(); ops],
        }
    }

    /// Times `per_round` calls of operation `index`.
    pub async fn round<F, Fut, T, E>(
        &mut self,
        index: usize,
        per_round: u32,
        mut op: F,
    ) -> Result<(), E>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let began = Instant::now();
        for _ in 0..per_round {
            op().await?;
        }
        self.rounds[index].push(began.elapsed() / per_round);
        Ok(())
    }

    /// The median per-call time of operation `index`.
    pub fn median(&self, index: usize) -> Duration {
        let mut times = self.rounds[index].clone();
        times.sort();
        times.get(times.len() / 2).copied().unwrap_or_default()
    }
}
