//! The store's conformance suite: every case runs once on SQLite and once on PostgreSQL
//! (`sqlite::<case>` and `postgres::<case>` in the test output); `sqlite_file` and
//! `postgres_only` hold what one backend has alone.

mod cases;
mod concurrency;
mod directory;
mod postgres_only;
mod projector;
mod rules;
mod sqlite_file;
mod vault;

use chrono::NaiveDate;
use roadback_store::{EventContext, NewEvent};
use uuid::Uuid;

/// Generates `sqlite::<case>` and `postgres::<case>` for each case, each on a fresh database.
macro_rules! conformance {
    ($($module:ident::$case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = roadback_store::testing::TestDatabase::sqlite();
                    crate::$module::$case(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = roadback_store::testing::TestDatabase::postgres().await;
                    crate::$module::$case(&db).await;
                }
            )*
        }
    };
}

conformance!(
    cases::appended_events_read_back_with_every_field,
    cases::expected_version_is_checked,
    cases::a_conflict_stores_nothing,
    cases::a_retried_append_returns_the_first_result,
    cases::an_append_answers_its_events_as_stored,
    cases::a_reused_event_id_is_rejected,
    cases::limits_reject_bad_appends_and_store_nothing,
    cases::a_nul_character_in_one_of_concurrent_appends_fails_only_that_append,
    cases::appends_that_fit_land_beside_conflicts_and_retries,
    cases::read_all_pages_in_position_order,
    cases::read_log_streams_the_log_in_position_order,
    cases::read_stream_from_a_version,
    cases::checkpoints_commit_with_the_consumers_writes,
    cases::events_cannot_be_updated_or_deleted,
    cases::the_log_survives_reopening,
    concurrency::subscription_catches_up_then_follows_live,
    concurrency::racing_appends_to_one_stream_admit_one,
    concurrency::concurrent_writers_and_a_live_subscriber,
    concurrency::two_instances_share_one_order,
    concurrency::two_instances_racing_on_the_same_streams_take_each_version_once,
    concurrency::the_writers_reconnect_when_the_server_drops_their_connections,
    concurrency::writes_wait_for_a_consumers_open_transaction_then_commit,
    projector::the_projector_and_a_rebuild_give_the_pure_read_models,
    projector::a_rebuild_in_parts_reads_every_stream_once,
    projector::a_crash_before_commit_neither_loses_nor_repeats_an_update,
    projector::two_projectors_never_apply_a_batch_twice,
    projector::the_projector_follows_the_log_live,
    projector::an_old_event_shape_is_read_in_the_current_shape,
    directory::organisations_and_users_are_unique_and_listed,
    directory::sessions_and_tokens_expire_and_revoke,
    directory::a_kept_token_lookup_never_outlives_its_token,
    directory::failed_sign_ins_are_counted_in_a_window,
    directory::the_access_log_is_append_only,
    directory::concurrent_access_log_rows_are_each_committed_and_a_bad_one_fails_alone,
    directory::plan_pages_filter_and_page_by_case_code,
    directory::data_locks_are_kept_by_name_per_organisation,
    rules::commands_decided_against_the_stored_record_keep_it_valid,
    vault::personal_data_is_sealed_and_erased_for_good,
    vault::rotation_rewraps_every_data_key,
    vault::the_deployment_secret_is_shared_and_survives_rotation,
);

/// The context every test event carries.
pub fn context() -> EventContext {
    EventContext {
        actor: Uuid::from_u128(1),
        organisation: Uuid::from_u128(2),
        correlation_id: Uuid::from_u128(3),
    }
}

/// A test event of type `Noted` with payload `{"n": n}`.
pub fn noted(n: u64) -> NewEvent {
    NewEvent::new(
        Uuid::now_v7(),
        "Noted",
        1,
        NaiveDate::from_ymd_opt(2012, 3, 4).unwrap(),
        context(),
        &serde_json::json!({ "n": n }),
    )
    .unwrap()
}

/// `count` test events.
pub fn noted_many(count: u64) -> Vec<NewEvent> {
    (0..count).map(noted).collect()
}
