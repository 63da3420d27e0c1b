//! Retention: finished runs past their age or beyond the newest N per workflow are deleted
//! with their steps, and the database file gives the space back.

use serde_json::json;
use std::time::Duration;
use switchyard::store::{NewRun, StepRecord, Store};

async fn finished_runs(store: &Store, workflow: &str, n: usize, padding: usize) {
    for _ in 0..n {
        let id = store
            .queue_run(&NewRun {
                workflow: workflow.into(),
                spec_hash: "h".into(),
                trigger: json!({ "pad": "x".repeat(padding) }),
            })
            .await
            .unwrap();
        let claimed = store
            .claim_run("t", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, id);
        let step = StepRecord {
            step_id: "s".into(),
            status: "succeeded".into(),
            attempts: 1,
            output: Some(json!({ "pad": "y".repeat(padding) })),
            error: None,
            input: None,
        };
        store.record_step(&id, &step, 0).await.unwrap();
        store.finish_run(&id, true, None).await.unwrap();
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn old_and_surplus_runs_are_deleted_and_the_file_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = Store::open_sqlite(&path).await.unwrap();
    let day = Duration::from_secs(24 * 3600);

    // Keep the newest 2 per workflow.
    finished_runs(&store, "a", 5, 10).await;
    finished_runs(&store, "b", 1, 10).await;
    assert_eq!(store.prune(now_ms(), 30 * day, 2).await.unwrap(), 3);
    assert_eq!(store.runs(Some("a"), 10).await.unwrap().len(), 2);
    assert_eq!(store.runs(Some("b"), 10).await.unwrap().len(), 1);

    // Age: 31 days later everything finished is past 30 days. Steps go with their runs.
    let kept = store.runs(Some("a"), 1).await.unwrap()[0].id.clone();
    assert_eq!(
        store
            .prune(now_ms() + 31 * 86_400_000, 30 * day, 1000)
            .await
            .unwrap(),
        3
    );
    assert!(store.steps(&kept).await.unwrap().is_empty());

    // Space comes back: 2,000 runs with 4 KiB of data each, pruned, leave a small file.
    finished_runs(&store, "big", 2000, 2048).await;
    let full = std::fs::metadata(&path).unwrap().len()
        + std::fs::metadata(dir.path().join("db-wal")).map_or(0, |m| m.len());
    store
        .prune(now_ms() + 31 * 86_400_000, 30 * day, 1000)
        .await
        .unwrap();
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(full > 8_000_000, "{full}");
    assert!(
        after < full / 10,
        "file {after} bytes after pruning, {full} before"
    );
}
