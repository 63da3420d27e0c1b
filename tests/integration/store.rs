//! The store's contract, run on every backend: SQLite always, PostgreSQL whenever
//! `SWITCHYARD_TEST_POSTGRES_URL` is set (`.ci/run` sets it). One scenario per function, the
//! same assertions on both, so the backends cannot drift apart.

use super::common::TestStore;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use switchyard::store::{
    Accepted, ApiKeyRow, EventFilter, NewEvent, NewRun, OAuthState, Reseal, RunFilter, StepRecord,
    new_connection_row, now_ms,
};

fn run_of(workflow: &str, n: i64) -> NewRun {
    NewRun {
        workflow: workflow.into(),
        spec_hash: "hash-1".into(),
        trigger: json!({ "n": n }),
    }
}

fn event<'a>(id: Option<&'a str>, payload: &'a serde_json::Value) -> NewEvent<'a> {
    NewEvent {
        connector: "github",
        connection: "acme",
        event_id: id,
        event_type: Some("issues"),
        payload,
        headers: payload,
        dedupe_window: Duration::from_secs(3600),
    }
}

fn step(id: &str, status: &str) -> StepRecord {
    StepRecord {
        step_id: id.into(),
        status: status.into(),
        attempts: 1,
        output: (status == "succeeded").then(|| json!({ "step": id })),
        error: (status == "failed").then(|| "boom".to_string()),
        input: None,
    }
}

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_event_is_stored_with_its_runs_once_per_delivery_id() {
    for t in TestStore::all("store: events and dedupe").await {
        let (s, b) = (&t.store, t.backend);
        let payload = json!({ "action": "opened", "n": 1 });
        let stored = s
            .accept_event(
                &event(Some("d-1"), &payload),
                &[run_of("w", 1), run_of("v", 1)],
            )
            .await
            .unwrap();
        let Accepted::Stored { runs } = stored else {
            panic!("{b}: first delivery not stored")
        };
        assert_eq!(runs.len(), 2, "{b}");
        assert_eq!(
            s.accept_event(&event(Some("d-1"), &payload), &[run_of("w", 1)])
                .await
                .unwrap(),
            Accepted::Duplicate,
            "{b}"
        );
        // No event id: no dedupe.
        for _ in 0..2 {
            assert!(matches!(
                s.accept_event(&event(None, &payload), &[]).await.unwrap(),
                Accepted::Stored { .. }
            ));
        }
        assert_eq!(s.queued_runs(), 2, "{b}");

        let events = s
            .events(&EventFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(events.len(), 3, "{b}");
        let first = events.last().unwrap();
        assert_eq!(first.event_id.as_deref(), Some("d-1"), "{b}");
        assert_eq!(first.payload, payload, "{b}");
        assert_eq!(first.tenant, "default", "{b}");
        assert_eq!(
            s.event(first.id).await.unwrap().as_ref(),
            Some(first),
            "{b}"
        );
        let run = s.run(&runs[0]).await.unwrap().unwrap();
        assert_eq!(
            (run.event, run.status.as_str(), run.tenant.as_str()),
            (Some(first.id), "queued", "default"),
            "{b}"
        );
        let by_event = s
            .find_runs(&RunFilter {
                event: Some(first.id),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_event.len(), 2, "{b}");
        // Keyset pagination over events.
        let older = s
            .events(&EventFilter {
                before: Some(events[0].id),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(older.len(), 2, "{b}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn runs_are_claimed_oldest_first_journaled_finished_and_retried() {
    for t in TestStore::all("store: run queue").await {
        let (s, b) = (&t.store, t.backend);
        assert!(s.claim_run("w1", LEASE).await.unwrap().is_none(), "{b}");
        let first = s.queue_run(&run_of("w", 1)).await.unwrap();
        let second = s.queue_run(&run_of("w", 2)).await.unwrap();
        let claimed = s.claim_run("w1", LEASE).await.unwrap().unwrap();
        assert_eq!(claimed.id, first, "{b}");
        assert_eq!(claimed.trigger, json!({ "n": 1 }), "{b}");
        assert!(claimed.journal.is_empty(), "{b}");
        assert_eq!(s.queued_runs(), 1, "{b}");

        s.record_step(&first, &step("a", "succeeded"), now_ms())
            .await
            .unwrap();
        // Journaling twice keeps the first record.
        s.record_step(&first, &step("a", "failed"), now_ms())
            .await
            .unwrap();
        s.record_step(&first, &step("b", "failed"), now_ms())
            .await
            .unwrap();
        s.finish_run(&first, false, Some("step `b` failed"))
            .await
            .unwrap();
        let failed = s.run(&first).await.unwrap().unwrap();
        assert_eq!(failed.status, "failed", "{b}");
        assert!(
            failed.finished_at.is_some() && failed.started_at.is_some(),
            "{b}"
        );
        let steps = s.steps(&first).await.unwrap();
        assert_eq!(
            steps
                .iter()
                .map(|r| (r.step.step_id.as_str(), r.step.status.as_str()))
                .collect::<Vec<_>>(),
            [("a", "succeeded"), ("b", "failed")],
            "{b}"
        );

        // Retry: only failed runs; succeeded steps stay, failed ones go.
        assert!(
            !s.retry_run(&second).await.unwrap(),
            "{b}: a queued run is not retried"
        );
        assert!(s.retry_run(&first).await.unwrap(), "{b}");
        // The retried run is now the oldest queued one: it comes back with its journal.
        let again = s.claim_run("w2", LEASE).await.unwrap().unwrap();
        assert_eq!(again.id, first, "{b}");
        assert_eq!(
            again
                .journal
                .iter()
                .map(|r| r.step_id.as_str())
                .collect::<Vec<_>>(),
            ["a"],
            "{b}"
        );
        s.finish_run(&first, true, None).await.unwrap();

        // Hand back, then a crash of this host: orphans go back to the queue at once.
        let taken = s.claim_run("host_1:9", LEASE).await.unwrap().unwrap();
        assert_eq!(taken.id, second, "{b}");
        s.release_run(&second).await.unwrap();
        assert_eq!(
            s.run(&second).await.unwrap().unwrap().status,
            "queued",
            "{b}"
        );
        s.claim_run("host_1:9", LEASE).await.unwrap().unwrap();
        // `_` in the prefix is a literal, not a LIKE wildcard.
        assert_eq!(s.requeue_orphans("hostx1:").await.unwrap(), 0, "{b}");
        assert_eq!(s.requeue_orphans("host_1:").await.unwrap(), 1, "{b}");
        // A lease renewed by its owner keeps the run; an expired one is taken over.
        let retaken = s.claim_run("a", Duration::ZERO).await.unwrap().unwrap();
        assert!(
            !s.renew_lease(&retaken.id, "someone-else", LEASE)
                .await
                .unwrap(),
            "{b}: only the owner renews"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        let stolen = s.claim_run("b", LEASE).await.unwrap().unwrap();
        assert_eq!(stolen.id, second, "{b}: an expired lease is claimed again");
        assert!(
            !s.renew_lease(&stolen.id, "a", LEASE).await.unwrap(),
            "{b}: the old owner learns it lost the lease"
        );
        assert!(s.renew_lease(&stolen.id, "b", LEASE).await.unwrap(), "{b}");
        assert!(s.claim_run("c", LEASE).await.unwrap().is_none(), "{b}");
        assert_eq!(s.queued_runs(), 0, "{b}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_claimers_take_every_run_exactly_once() {
    for t in TestStore::all("store: concurrent claims").await {
        let (s, b) = (&t.store, t.backend);
        let mut queued = HashSet::new();
        for n in 0..200 {
            queued.insert(s.queue_run(&run_of("w", n)).await.unwrap());
        }
        let mut claimers = Vec::new();
        for c in 0..8 {
            let s = s.clone();
            claimers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(run) = s.claim_run(&format!("c{c}"), LEASE).await.unwrap() {
                    mine.push(run.id);
                }
                mine
            }));
        }
        let mut seen = Vec::new();
        for c in claimers {
            seen.extend(c.await.unwrap());
        }
        assert_eq!(seen.len(), 200, "{b}: a run claimed twice or missed");
        assert_eq!(seen.into_iter().collect::<HashSet<_>>(), queued, "{b}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn exclusive_runs_and_concurrency_limits_hold_back_the_queue() {
    for t in TestStore::all("store: exclusive and concurrency").await {
        let (s, b) = (&t.store, t.backend);
        s.set_workflow_limits(&[("limited".into(), 1)])
            .await
            .unwrap();
        let l1 = s.queue_run(&run_of("limited", 1)).await.unwrap();
        let _l2 = s.queue_run(&run_of("limited", 2)).await.unwrap();
        let free = s.queue_run(&run_of("free", 1)).await.unwrap();
        assert_eq!(
            s.claim_run("x", LEASE).await.unwrap().unwrap().id,
            l1,
            "{b}"
        );
        // The second run of `limited` waits; the run of another workflow goes first.
        assert_eq!(
            s.claim_run("x", LEASE).await.unwrap().unwrap().id,
            free,
            "{b}"
        );
        assert!(s.claim_run("x", LEASE).await.unwrap().is_none(), "{b}");
        s.finish_run(&l1, true, None).await.unwrap();
        assert!(s.claim_run("x", LEASE).await.unwrap().is_some(), "{b}");

        // `overlap: queue` firings are exclusive: one at a time.
        assert!(
            s.fire("cron", 1_000, Some(&run_of("cron", 1)), true)
                .await
                .unwrap()
        );
        assert!(
            s.fire("cron", 2_000, Some(&run_of("cron", 2)), true)
                .await
                .unwrap()
        );
        let c1 = s.claim_run("x", LEASE).await.unwrap().unwrap();
        assert_eq!(c1.workflow, "cron", "{b}");
        assert!(s.claim_run("x", LEASE).await.unwrap().is_none(), "{b}");
        s.finish_run(&c1.id, true, None).await.unwrap();
        assert_eq!(
            s.claim_run("x", LEASE).await.unwrap().unwrap().workflow,
            "cron",
            "{b}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn cron_firings_are_unique_and_handled_time_never_moves_back() {
    for t in TestStore::all("store: cron bookkeeping").await {
        let (s, b) = (&t.store, t.backend);
        assert_eq!(s.handled_until("hourly").await.unwrap(), None, "{b}");
        assert!(
            s.fire("hourly", 3_600_000, Some(&run_of("hourly", 1)), false)
                .await
                .unwrap()
        );
        assert!(
            !s.fire("hourly", 3_600_000, Some(&run_of("hourly", 1)), false)
                .await
                .unwrap()
        );
        assert!(s.fire("hourly", 7_200_000, None, false).await.unwrap());
        assert_eq!(
            s.firings("hourly").await.unwrap(),
            [
                (3_600_000, "queued".to_string()),
                (7_200_000, "skipped".to_string())
            ],
            "{b}"
        );
        assert!(s.has_active_run("hourly").await.unwrap(), "{b}");
        assert!(!s.has_active_run("other").await.unwrap(), "{b}");
        s.set_handled_until("hourly", 7_200_000).await.unwrap();
        s.set_handled_until("hourly", 3_600_000).await.unwrap();
        assert_eq!(
            s.handled_until("hourly").await.unwrap(),
            Some(7_200_000),
            "{b}"
        );
        // Switches override the spec's `enabled`.
        s.set_workflow_enabled("hourly", false).await.unwrap();
        s.set_workflow_enabled("daily", true).await.unwrap();
        s.set_workflow_enabled("hourly", true).await.unwrap();
        s.set_workflow_enabled("weekly", false).await.unwrap();
        assert_eq!(
            s.workflow_switches().await.unwrap(),
            [
                ("daily".to_string(), true),
                ("hourly".to_string(), true),
                ("weekly".to_string(), false)
            ],
            "{b}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn poll_cursors_advance_by_compare_and_swap_with_their_items() {
    for t in TestStore::all("store: poll cursors").await {
        let (s, b) = (&t.store, t.backend);
        let window = Duration::from_secs(3600);
        assert_eq!(s.poll_cursor("p").await.unwrap(), None, "{b}");
        let items = vec![
            (Some("i1".to_string()), run_of("p", 1)),
            (Some("i2".to_string()), run_of("p", 2)),
        ];
        // The first poll records the cursor and the keys but runs nothing (`emit: false`).
        let c1 = json!({ "since": "t1" });
        assert_eq!(
            s.commit_poll("p", None, Some(&c1), &items, window, false)
                .await
                .unwrap(),
            Some(0),
            "{b}"
        );
        assert_eq!(
            s.poll_cursor("p").await.unwrap(),
            Some(Some(c1.clone())),
            "{b}"
        );
        // A poller that read an older cursor loses the race and writes nothing.
        assert_eq!(
            s.commit_poll("p", None, Some(&json!(9)), &items, window, true)
                .await
                .unwrap(),
            None,
            "{b}"
        );
        let more = vec![
            (Some("i2".to_string()), run_of("p", 2)),
            (Some("i3".to_string()), run_of("p", 3)),
            (None, run_of("p", 4)),
        ];
        let c2 = json!({ "since": "t2" });
        assert_eq!(
            s.commit_poll("p", Some(&Some(c1.clone())), Some(&c2), &more, window, true)
                .await
                .unwrap(),
            Some(2),
            "{b}: i2 was seen; i3 and the keyless item run"
        );
        assert_eq!(
            s.commit_poll("p", Some(&Some(c1)), None, &more, window, true)
                .await
                .unwrap(),
            None,
            "{b}: stale cursor"
        );
        // A cursor can go back to none, and from none on.
        assert_eq!(
            s.commit_poll("p", Some(&Some(c2)), None, &[], window, true)
                .await
                .unwrap(),
            Some(0),
            "{b}"
        );
        assert_eq!(
            s.commit_poll("p", Some(&None), Some(&json!(1)), &[], window, true)
                .await
                .unwrap(),
            Some(0),
            "{b}"
        );
        assert_eq!(s.runs(Some("p"), 10).await.unwrap().len(), 2, "{b}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn runs_are_listed_by_filter_newest_first_a_page_at_a_time() {
    for t in TestStore::all("store: run history").await {
        let (s, b) = (&t.store, t.backend);
        let mut ids = Vec::new();
        for n in 0..7 {
            ids.push(
                s.queue_run(&run_of(if n % 2 == 0 { "even" } else { "odd" }, n))
                    .await
                    .unwrap(),
            );
        }
        let failed = s.claim_run("x", LEASE).await.unwrap().unwrap();
        s.finish_run(&failed.id, false, Some("boom")).await.unwrap();
        let page = |before: Option<(i64, String)>| RunFilter {
            before,
            limit: 3,
            ..Default::default()
        };
        // Walk all pages: every run once, newest first.
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let rows = s.find_runs(&page(before.clone())).await.unwrap();
            if rows.is_empty() {
                break;
            }
            before = rows.last().map(|r| (r.created_at, r.id.clone()));
            seen.extend(rows.into_iter().map(|r| r.id));
        }
        let mut newest_first = ids.clone();
        newest_first.reverse();
        assert_eq!(seen, newest_first, "{b}");

        let even = s
            .find_runs(&RunFilter {
                workflow: Some("even".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(even.len(), 4, "{b}");
        let failed_runs = s
            .find_runs(&RunFilter {
                status: Some("failed".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(failed_runs.len(), 1, "{b}");
        assert_eq!(failed_runs[0].error.as_deref(), Some("boom"), "{b}");
        let none = s
            .find_runs(&RunFilter {
                tenant: Some("other".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.is_empty(), "{b}");
        let future = s
            .find_runs(&RunFilter {
                since: Some(now_ms() + 60_000),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(future.is_empty(), "{b}");

        let summary = s.summary("default", 0).await.unwrap();
        assert_eq!(summary.runs.get("queued"), Some(&6), "{b}");
        assert_eq!(summary.runs.get("failed"), Some(&1), "{b}");
        assert_eq!(
            s.summary("other", 0).await.unwrap(),
            Default::default(),
            "{b}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn connections_are_stored_updated_resealed_and_removed() {
    for t in TestStore::all("store: connections").await {
        let (s, b) = (&t.store, t.backend);
        let mut row = new_connection_row(
            "t1",
            "gh",
            "github",
            json!({ "org": "acme" }).as_object().unwrap().clone(),
        );
        row.secrets = Some("sy1.k1.sealed-secrets".into());
        assert!(s.insert_connection(&row).await.unwrap(), "{b}");
        assert!(
            !s.insert_connection(&row).await.unwrap(),
            "{b}: the name is taken"
        );
        let mut other = new_connection_row("t2", "gh", "github", Default::default());
        other.secrets = Some("sy1.k1.other".into());
        assert!(
            s.insert_connection(&other).await.unwrap(),
            "{b}: same name, other tenant"
        );
        assert_eq!(
            s.connection("t1", "gh").await.unwrap().as_ref(),
            Some(&row),
            "{b}"
        );
        assert_eq!(s.connections(Some("t2")).await.unwrap().len(), 1, "{b}");
        assert_eq!(s.connections(None).await.unwrap().len(), 2, "{b}");
        assert_eq!(s.connections_version().await.unwrap().1, 2, "{b}");

        assert!(
            s.set_connection_tokens(&row.id, Some("sy1.k1.tokens".into()), "active")
                .await
                .unwrap()
        );
        s.record_connection_outcome(&row.id, true, Some(("error", "401 from provider")))
            .await
            .unwrap();
        s.record_connection_outcome(&row.id, false, Some(("error", "again")))
            .await
            .unwrap();
        let failing = s.connection("t1", "gh").await.unwrap().unwrap();
        assert_eq!(
            (
                failing.status.as_str(),
                failing.error_count,
                failing.last_error.as_deref()
            ),
            ("error", 2, Some("again")),
            "{b}"
        );
        assert!(failing.last_checked_at.is_some(), "{b}");
        s.record_connection_outcome(&row.id, true, None)
            .await
            .unwrap();
        let ok = s.connection("t1", "gh").await.unwrap().unwrap();
        assert_eq!((ok.status.as_str(), ok.error_count), ("active", 0), "{b}");
        let summary = s.summary("t1", 0).await.unwrap();
        assert_eq!(summary.connections.get("active"), Some(&1), "{b}");

        // A rotation is all or nothing: one stale row fails it and nothing changes.
        let sealed = s.sealed_values().await.unwrap();
        assert_eq!(sealed.len(), 2, "{b}");
        let mut changes: Vec<Reseal> = sealed
            .iter()
            .map(|(id, secrets, tokens)| Reseal {
                id: id.clone(),
                old_secrets: secrets.clone(),
                secrets: secrets.as_ref().map(|v| v.replace("k1", "k2")),
                old_tokens: tokens.clone(),
                tokens: tokens.as_ref().map(|v| v.replace("k1", "k2")),
            })
            .collect();
        let stale = changes.last_mut().unwrap();
        stale.old_secrets = Some("not what is stored".into());
        assert!(s.reseal(changes.clone()).await.is_err(), "{b}");
        assert_eq!(
            s.sealed_values().await.unwrap(),
            sealed,
            "{b}: nothing changed"
        );
        changes.last_mut().unwrap().old_secrets = sealed.last().unwrap().1.clone();
        assert!(s.reseal(changes).await.unwrap(), "{b}");
        assert!(
            s.sealed_values()
                .await
                .unwrap()
                .iter()
                .all(|(_, sec, _)| sec.as_deref().is_some_and(|v| v.starts_with("sy1.k2."))),
            "{b}"
        );

        assert!(s.delete_connection("t1", "gh").await.unwrap(), "{b}");
        assert!(!s.delete_connection("t1", "gh").await.unwrap(), "{b}");
        assert!(s.connection("t2", "gh").await.unwrap().is_some(), "{b}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn oauth_states_work_once_and_oauth_connections_are_upserted() {
    for t in TestStore::all("store: oauth states").await {
        let (s, b) = (&t.store, t.backend);
        let state = |hash: &str, expires_at: i64| OAuthState {
            state_hash: hash.into(),
            tenant: "t1".into(),
            connector: "github".into(),
            connection: "gh".into(),
            verifier: Some("sy1.k1.verifier".into()),
            redirect_uri: "http://127.0.0.1/oauth/callback".into(),
            expires_at,
        };
        let live = state("live", now_ms() + 600_000);
        s.insert_oauth_state(&live).await.unwrap();
        s.insert_oauth_state(&state("old", now_ms() - 1))
            .await
            .unwrap();
        assert_eq!(s.take_oauth_state("live").await.unwrap(), Some(live), "{b}");
        assert_eq!(
            s.take_oauth_state("live").await.unwrap(),
            None,
            "{b}: used once"
        );
        assert_eq!(
            s.take_oauth_state("old").await.unwrap(),
            None,
            "{b}: expired"
        );
        assert_eq!(s.take_oauth_state("never").await.unwrap(), None, "{b}");

        // The first authorization creates the connection; the next updates the same row.
        let row = new_connection_row("t1", "gh", "github", Default::default());
        let created = s
            .upsert_oauth_connection(row.clone(), |id| format!("sealed-for-{id}"))
            .await
            .unwrap();
        assert_eq!(created.id, row.id, "{b}");
        let again = new_connection_row("t1", "gh", "github", Default::default());
        let updated = s
            .upsert_oauth_connection(again, |id| format!("resealed-for-{id}"))
            .await
            .unwrap();
        assert_eq!(updated.id, row.id, "{b}: the existing row keeps its id");
        let stored = s.connection("t1", "gh").await.unwrap().unwrap();
        assert_eq!(
            stored.tokens.as_deref(),
            Some(format!("resealed-for-{}", row.id).as_str()),
            "{b}"
        );
        assert_eq!(s.connections(Some("t1")).await.unwrap().len(), 1, "{b}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn api_keys_are_listed_by_tenant_and_revoked_once() {
    for t in TestStore::all("store: api keys").await {
        let (s, b) = (&t.store, t.backend);
        let key = |id: &str, tenant: &str| ApiKeyRow {
            id: id.into(),
            tenant: tenant.into(),
            scope: "write".into(),
            name: Some("ci".into()),
            secret_hash: "ab".repeat(32),
            created_at: 1_700_000_000_000,
            expires_at: Some(1_800_000_000_000),
            revoked_at: None,
        };
        s.insert_api_key(&key("k1", "t1")).await.unwrap();
        s.insert_api_key(&key("k2", "t2")).await.unwrap();
        assert!(
            s.insert_api_key(&key("k1", "t1")).await.is_err(),
            "{b}: ids are unique"
        );
        assert_eq!(s.api_key("k1").await.unwrap(), Some(key("k1", "t1")), "{b}");
        assert_eq!(s.api_key("k9").await.unwrap(), None, "{b}");
        assert_eq!(
            s.api_keys(Some("t1")).await.unwrap(),
            [key("k1", "t1")],
            "{b}"
        );
        assert_eq!(s.api_keys(None).await.unwrap().len(), 2, "{b}");
        assert!(s.revoke_api_key("k1").await.unwrap(), "{b}");
        assert!(!s.revoke_api_key("k1").await.unwrap(), "{b}");
        assert!(
            s.api_key("k1").await.unwrap().unwrap().revoked_at.is_some(),
            "{b}"
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn prune_deletes_finished_history_past_retention() {
    for t in TestStore::all("store: retention").await {
        let (s, b) = (&t.store, t.backend);
        let payload = json!({ "n": 1 });
        let Accepted::Stored { runs } = s
            .accept_event(&event(Some("old"), &payload), &[run_of("w", 1)])
            .await
            .unwrap()
        else {
            panic!("{b}")
        };
        let done = s.claim_run("x", LEASE).await.unwrap().unwrap();
        s.record_step(&done.id, &step("a", "succeeded"), now_ms())
            .await
            .unwrap();
        s.finish_run(&done.id, true, None).await.unwrap();
        let waiting = s.queue_run(&run_of("w", 2)).await.unwrap();
        let day = Duration::from_secs(86_400);
        // Within the retention window nothing goes.
        assert_eq!(s.prune(now_ms(), 30 * day, 100).await.unwrap(), 0, "{b}");
        // 31 days later the finished run, its steps and its event go; the queued run stays.
        let later = now_ms() + 31 * 86_400_000;
        assert_eq!(s.prune(later, 30 * day, 100).await.unwrap(), 1, "{b}");
        assert!(s.run(&runs[0]).await.unwrap().is_none(), "{b}");
        assert!(s.steps(&runs[0]).await.unwrap().is_empty(), "{b}");
        assert!(s.run(&waiting).await.unwrap().is_some(), "{b}");
        let events = s
            .events(&EventFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(events.is_empty(), "{b}: {events:?}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn links_are_unique_per_key_and_per_external_id() {
    for t in TestStore::all("store: linked records").await {
        let (s, b) = (&t.store, t.backend);
        let link = |key: &str, connection: &str, id: &str| switchyard::store::LinkRow {
            tenant: "default".into(),
            key: key.into(),
            connection: connection.into(),
            object_type: "event".into(),
            external_id: id.into(),
            created_at: 0,
            updated_at: 0,
        };
        s.upsert_link(&link("appointment:1", "cal", "ev-1"))
            .await
            .unwrap();
        s.upsert_link(&link("appointment:1", "outlook", "AAMk-1"))
            .await
            .unwrap();
        s.upsert_link(&link("appointment:2", "cal", "ev-2"))
            .await
            .unwrap();
        // The same key in the same connection moves to the new object.
        s.upsert_link(&link("appointment:1", "cal", "ev-1b"))
            .await
            .unwrap();
        assert_eq!(
            s.link("default", "appointment:1", "cal")
                .await
                .unwrap()
                .unwrap()
                .external_id,
            "ev-1b",
            "{b}"
        );
        // An object already linked to another key is refused, and nothing changes.
        let refused = s.upsert_link(&link("appointment:3", "cal", "ev-2")).await;
        assert!(
            matches!(refused, Err(switchyard::store::StoreError::Conflict(_))),
            "{b}: {refused:?}"
        );
        assert!(
            s.link("default", "appointment:3", "cal")
                .await
                .unwrap()
                .is_none(),
            "{b}"
        );
        // Listing: by connection, by key prefix (`_` and `%` are literal), per tenant.
        assert_eq!(
            s.links("default", Some("cal"), None, 10)
                .await
                .unwrap()
                .len(),
            2,
            "{b}"
        );
        assert_eq!(
            s.links("default", None, Some("appointment:1"), 10)
                .await
                .unwrap()
                .len(),
            2,
            "{b}"
        );
        assert!(
            s.links("default", None, Some("appointment_"), 10)
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
        assert!(
            s.links("other", None, None, 10).await.unwrap().is_empty(),
            "{b}"
        );
        assert!(
            s.delete_link("default", "appointment:1", "cal")
                .await
                .unwrap(),
            "{b}"
        );
        assert!(
            !s.delete_link("default", "appointment:1", "cal")
                .await
                .unwrap(),
            "{b}"
        );
        assert!(
            s.link("default", "appointment:1", "outlook")
                .await
                .unwrap()
                .is_some(),
            "{b}"
        );
        t.cleanup().await;
    }
}
