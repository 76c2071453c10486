//! Concurrent requests on one session that change different keys all keep their changes:
//! CAS writes, re-read and replayed on a conflict.

mod common;

use common::{manager, start, stored};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_requests_each_setting_its_own_key_all_survive() {
    let Some(list) = common::servers("a_hundred_concurrent_requests") else {
        return;
    };
    let manager = manager(&list, 60).await;
    let (client, _) = stored(&manager, "base", 0).await;
    let mut tasks = Vec::new();
    for i in 0..100i64 {
        let (manager, request) = (manager.clone(), client.request("/"));
        tasks.push(tokio::spawn(async move {
            let session = manager.session_start(&request).await?;
            session.set(&format!("w{i}"), &i).await?;
            session.release(&mut http::HeaderMap::new()).await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("a concurrent release");
    }
    let session = start(&manager, &client).await;
    for i in 0..100i64 {
        let key = format!("w{i}");
        assert_eq!(
            session.get::<i64>(&key).await.unwrap(),
            Some(i),
            "{key} lost"
        );
    }
    assert_eq!(session.get::<i64>("base").await.unwrap(), Some(0));
}
