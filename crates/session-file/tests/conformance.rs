//! The public conformance suite, run against the file engine on a temporary directory.

use session_core::conformance::{Corruption, Suite};
use session_file::session_file_path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let hook_dir = dir.clone();
    let held_dir = dir.clone();
    Suite::new("file")
        .provider_config(dir.to_str().unwrap())
        // GC must really remove expired files, not just have reads skip them.
        .held_with(move |sid: String| {
            let held = session_file_path(&held_dir, &sid)
                .is_some_and(|path| std::fs::symlink_metadata(path).is_ok());
            Box::pin(async move { held })
        })
        .corrupt_with(move |c: Corruption| {
            let dir = hook_dir.clone();
            Box::pin(async move {
                let path = session_file_path(&dir, &c.sid).unwrap();
                assert!(
                    path.is_file(),
                    "the suite's session {} is not stored at {path:?}",
                    c.sid
                );
                // Valid version byte, then bytes that are no MessagePack map.
                std::fs::write(&path, b"\x01\xc1garbage\xff\xff").unwrap();
                c
            })
        })
        .run()
        .await;
}

/// The JSON form with fsync on passes the same contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_json_config_and_fsync() {
    let tmp = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "path": tmp.path().join("s"), "fsync": true }).to_string();
    Suite::new("file").provider_config(config).run().await;
}
