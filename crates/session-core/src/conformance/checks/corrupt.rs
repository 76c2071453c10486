//! Stored data that does not decode reads as an empty session, never an error page.

use std::sync::Arc;

use super::{config, ensure, finish, get_i64, pass, skip, start, stored, CheckResult};
use crate::conformance::Env;

/// After the suite's hook damages the stored bytes, the session starts empty (the engine
/// logs why), and it can be used and stored again.
pub(crate) async fn corrupt_data_reads_as_empty(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let (mut client, sid) = stored(&h, &[("a", 1)]).await?;
    if env.corrupt(&sid, &mut client).await.is_none() {
        return skip("no corrupt_with hook was given to the suite");
    }
    let session = match start(&h, &client).await {
        Ok(session) => session,
        Err(super::Failure(why)) => {
            return Err(super::Failure(format!(
                "corrupt data made session_start fail: {why}"
            )))
        }
    };
    ensure!(
        get_i64(&session, "a").await?.is_none(),
        "corrupt data still yielded a value"
    );
    ensure!(
        session.keys().await?.is_empty(),
        "a corrupt session is not empty"
    );
    session.set("b", &2).await?;
    finish(&session, &mut client).await?;
    let session = start(&h, &client).await?;
    ensure!(
        get_i64(&session, "b").await? == Some(2),
        "a session that was corrupt cannot be stored again"
    );
    pass()
}
