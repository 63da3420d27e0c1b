//! The cron loop with an injected clock and a real SQLite file: on-time firings, catch-up
//! after a stop, no double firing across a restart, overlap policies.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use switchyard::compile::{SourceFile, compile_sources};
use switchyard::plan::LiveCatalog;
use switchyard::schedule::{Clock, Scheduler};
use switchyard::store::Store;

struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn set(&self, t: &str) {
        *self.0.lock().unwrap() = DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn catalog(catchup: &str, overlap: &str) -> Arc<LiveCatalog> {
    catalog_with(&format!("catchup: {catchup}, overlap: {overlap}"))
}

/// The `hourly` workflow with more cron settings (`extra`, flow-style).
fn catalog_with(extra: &str) -> Arc<LiveCatalog> {
    let yaml = format!(
        "workflow: hourly\ntrigger:\n  cron: {{ schedule: \"0 * * * *\", timezone: Europe/Berlin, {extra} }}\nsteps:\n  - id: note\n    set: {{ at: \"{{{{ trigger.scheduled_at }}}}\" }}\n"
    );
    let compiled = compile_sources(&[SourceFile {
        path: "hourly.yaml".into(),
        text: yaml,
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    LiveCatalog::new(compiled.catalog.unwrap())
}

async fn setup(
    catchup: &str,
    overlap: &str,
) -> (Scheduler, Arc<ManualClock>, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("db")).await.unwrap();
    let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
    let scheduler = Scheduler {
        catalog: catalog(catchup, overlap),
        store: store.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
        clock: clock.clone(),
    };
    (scheduler, clock, store, dir)
}

#[tokio::test]
async fn fires_on_time_once_even_across_a_restart() {
    let (scheduler, clock, store, _dir) = setup("latest", "allow").await;
    clock.set("2026-06-01T09:59:00Z");
    assert_eq!(
        scheduler.tick().await.unwrap(),
        0,
        "first sight only records a baseline"
    );
    clock.set("2026-06-01T10:00:00.010Z");
    assert_eq!(scheduler.tick().await.unwrap(), 1);
    assert_eq!(scheduler.tick().await.unwrap(), 0);
    // A second scheduler on the same database (a restart, or another instance whose
    // record of progress lags) does not fire 10:00 again.
    let again = Scheduler {
        catalog: scheduler.catalog.clone(),
        store: store.clone(),
        wake: scheduler.wake.clone(),
        clock: clock.clone(),
    };
    store.set_handled_until("hourly", 0).await.unwrap(); // cannot move backwards
    assert_eq!(again.tick().await.unwrap(), 0);
    // Even a scheduler that believes 10:00 is due cannot record it twice.
    let ten = DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z")
        .unwrap()
        .timestamp_millis();
    let run = switchyard::store::NewRun {
        workflow: "hourly".into(),
        spec_hash: String::new(),
        trigger: serde_json::json!({}),
    };
    assert!(!store.fire("hourly", ten, Some(&run), false).await.unwrap());
    let runs = store.runs(Some("hourly"), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger["scheduled_at"], "2026-06-01T10:00:00+00:00");
}

#[tokio::test]
async fn catch_up_after_a_stop() {
    for (policy, expected) in [("none", 1), ("latest", 2), ("all", 5)] {
        let (scheduler, clock, store, _dir) = setup(policy, "allow").await;
        clock.set("2026-06-01T06:30:00Z");
        scheduler.tick().await.unwrap();
        // Down from 06:30 to 11:00:20: 07:00..10:00 were missed, 11:00 is on time.
        clock.set("2026-06-01T11:00:20Z");
        assert_eq!(scheduler.tick().await.unwrap(), expected, "{policy}");
        let firings = store.firings("hourly").await.unwrap();
        assert_eq!(firings.len(), expected, "{policy}");
        assert_eq!(
            scheduler.tick().await.unwrap(),
            0,
            "{policy}: nothing fires twice"
        );
    }
}

#[tokio::test]
async fn overlap_skip_records_a_skipped_firing_and_queue_waits() {
    let (scheduler, clock, store, _dir) = setup("latest", "skip").await;
    clock.set("2026-06-01T09:59:00Z");
    scheduler.tick().await.unwrap();
    clock.set("2026-06-01T10:00:01Z");
    assert_eq!(scheduler.tick().await.unwrap(), 1);
    // The 10:00 run is still queued at 11:00: the 11:00 firing is skipped, and recorded.
    clock.set("2026-06-01T11:00:01Z");
    assert_eq!(scheduler.tick().await.unwrap(), 0);
    let firings = store.firings("hourly").await.unwrap();
    assert_eq!(
        firings.iter().map(|(_, o)| o.as_str()).collect::<Vec<_>>(),
        ["queued", "skipped"]
    );

    let (scheduler, clock, store, _dir) = setup("latest", "queue").await;
    clock.set("2026-06-01T09:59:00Z");
    scheduler.tick().await.unwrap();
    clock.set("2026-06-01T10:00:01Z");
    scheduler.tick().await.unwrap();
    clock.set("2026-06-01T11:00:01Z");
    assert_eq!(
        scheduler.tick().await.unwrap(),
        1,
        "queue: the second run is queued"
    );
    // While the first runs, the second cannot be claimed.
    let first = store
        .claim_run("w", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .claim_run("w", std::time::Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    store.finish_run(&first.id, true, None).await.unwrap();
    let second = store
        .claim_run("w", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(first.id, second.id);
}

#[tokio::test]
async fn workflow_concurrency_limits_running_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("db")).await.unwrap();
    store
        .set_workflow_limits(&[("limited".into(), 2)])
        .await
        .unwrap();
    let run = |w: &str| switchyard::store::NewRun {
        workflow: w.into(),
        spec_hash: String::new(),
        trigger: serde_json::json!({}),
    };
    for _ in 0..3 {
        store.queue_run(&run("limited")).await.unwrap();
    }
    store.queue_run(&run("free")).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let mut claimed = Vec::new();
    while let Some(r) = store.claim_run("w", lease).await.unwrap() {
        claimed.push(r);
    }
    let limited: Vec<_> = claimed.iter().filter(|r| r.workflow == "limited").collect();
    assert_eq!(
        (limited.len(), claimed.len()),
        (2, 3),
        "two limited runs and the free one"
    );
    store.finish_run(&limited[0].id, true, None).await.unwrap();
    let third = store.claim_run("w", lease).await.unwrap().unwrap();
    assert_eq!(third.workflow, "limited");
}

/// With `jitter`, a firing waits for its own deterministic delay (the same on every
/// restart and instance), then fires once.
#[tokio::test]
async fn jitter_delays_each_firing_deterministically_and_fires_it_once() {
    let (mut scheduler, clock, store, _dir) = setup("latest", "allow").await;
    scheduler.catalog = catalog_with("catchup: latest, overlap: allow, jitter: 20m");
    let workflow = scheduler.catalog.current().workflows["hourly"].clone();
    let switchyard::plan::WorkflowTriggerPlan::Cron(plan) = &workflow.trigger else {
        panic!("a cron trigger");
    };
    let ten = DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let offset = switchyard::schedule::jitter_offset(plan, "hourly", ten);
    assert!(offset < std::time::Duration::from_secs(20 * 60));
    assert_eq!(
        offset,
        switchyard::schedule::jitter_offset(plan, "hourly", ten)
    );
    let offsets: std::collections::HashSet<_> = (0..24)
        .map(|h| {
            switchyard::schedule::jitter_offset(plan, "hourly", ten + chrono::Duration::hours(h))
        })
        .collect();
    assert!(
        offsets.len() > 20,
        "offsets differ between firings: {offsets:?}"
    );

    clock.set("2026-06-01T09:59:00Z");
    assert_eq!(scheduler.tick().await.unwrap(), 0, "baseline");
    let at = ten + chrono::Duration::from_std(offset).unwrap();
    if offset > std::time::Duration::from_millis(10) {
        *clock.0.lock().unwrap() = at - chrono::Duration::milliseconds(5);
        assert_eq!(
            scheduler.tick().await.unwrap(),
            0,
            "not before its jittered time"
        );
    }
    *clock.0.lock().unwrap() = at + chrono::Duration::milliseconds(5);
    assert_eq!(scheduler.tick().await.unwrap(), 1);
    *clock.0.lock().unwrap() = at + chrono::Duration::seconds(30);
    assert_eq!(scheduler.tick().await.unwrap(), 0, "fired once");
    assert_eq!(store.firings("hourly").await.unwrap().len(), 1);
}
