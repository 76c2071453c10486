//! No lost updates: concurrent requests changing different keys of one session.

use std::sync::Arc;

use http::HeaderMap;

use super::{config, ensure, get_i64, pass, skip, start, stored, CheckResult};
use crate::conformance::Env;

/// How many requests change the session at once.
const WRITERS: i64 = 8;

/// Requests that loaded the same session and change different keys all keep their
/// changes, deletes included (engines that claim to merge).
pub(crate) async fn concurrent_changes_to_different_keys_merge(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    if !h.caps.merges_concurrent_changes {
        return skip("the engine does not claim merges_concurrent_changes");
    }
    let (client, _) = stored(&h, &[("doomed", 1), ("kept", 2)]).await?;
    // Every request loads before any releases, so each writes over a stale read.
    let mut sessions = Vec::new();
    for _ in 0..WRITERS {
        sessions.push(start(&h, &client).await?);
    }
    let mut releases = tokio::task::JoinSet::new();
    for (i, session) in sessions.into_iter().enumerate() {
        releases.spawn(async move {
            session.set(&format!("writer{i}"), &(i as i64)).await?;
            if i == 0 {
                session.delete("doomed").await?;
            }
            session.release(&mut HeaderMap::new()).await
        });
    }
    while let Some(joined) = releases.join_next().await {
        joined.map_err(|e| super::Failure(format!("a writer task died: {e}")))??;
    }
    let session = start(&h, &client).await?;
    for i in 0..WRITERS {
        let got = get_i64(&session, &format!("writer{i}")).await?;
        ensure!(got == Some(i), "writer{i} was lost: {got:?} (lost update)");
    }
    ensure!(
        get_i64(&session, "doomed").await?.is_none(),
        "a concurrent delete was lost"
    );
    ensure!(
        get_i64(&session, "kept").await? == Some(2),
        "an untouched key was lost"
    );
    pass()
}
