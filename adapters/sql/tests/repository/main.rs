//! The repositories under test: the contract suite against core's
//! `MemRepository` and `SqlRepository` on SQLite (a file in a temp dir) and
//! PostgreSQL (a fresh database per test, see `harness`), then what only the
//! SQL engines have (reopening, migrations, corrupt rows).

mod contract;
mod engines;
mod harness;

/// For each contract check, one module with a test per repository:
/// `<check>::on_memory`, `<check>::on_sqlite`, `<check>::on_postgres`.
/// `by_ref` checks take `&dyn Repository`; `by_arc` ones spawn tasks;
/// `with_log` ones take the repository and its `ExtractionLog`;
/// `with_props` ones its `PropertyStore`; `with_repo_props` both.
macro_rules! contract_tests {
    (
        by_ref: [$($by_ref:ident),* $(,)?],
        by_arc: [$($by_arc:ident),* $(,)?],
        with_log: [$($with_log:ident),* $(,)?],
        with_props: [$($with_props:ident),* $(,)?],
        with_repo_props: [$($with_repo_props:ident),* $(,)?] $(,)?
    ) => {
        $(contract_tests!(@one $by_ref, |t| contract::$by_ref(&*t.repo));)*
        $(contract_tests!(@one $by_arc, |t| contract::$by_arc(t.repo.clone()));)*
        $(contract_tests!(@one $with_log, |t| contract::$with_log(&*t.repo, &*t.log));)*
        $(contract_tests!(@one $with_props, |t| contract::$with_props(&*t.props));)*
        $(contract_tests!(@one $with_repo_props, |t| contract::$with_repo_props(&*t.repo, &*t.props));)*
    };
    (@one $name:ident, |$t:ident| $call:expr) => {
        mod $name {
            use super::{contract, harness};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_memory() -> anyhow::Result<()> {
                let $t = harness::memory();
                $call.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() -> anyhow::Result<()> {
                let $t = harness::sqlite().await?;
                $call.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() -> anyhow::Result<()> {
                let Some($t) = harness::postgres().await? else {
                    return Ok(());
                };
                $call.await
            }
        }
    };
}

contract_tests!(
    by_ref: [
        // accounts
        principals_round_trip_exactly,
        saving_a_principal_again_overwrites_it,
        principals_are_listed_by_login_with_paging_and_total,
        a_duplicate_login_is_a_conflict,
        sessions_round_trip_and_are_deleted_one_by_one_or_per_principal,
        expired_sessions_are_deleted_and_counted,
        tokens_round_trip_and_are_found_by_hash_or_listed,
        a_duplicate_token_hash_is_a_conflict,
        a_preferred_language_is_kept_per_principal_cleared_and_needs_the_principal,
        a_second_factor_round_trips_is_replaced_deleted_and_needs_its_principal,
        the_last_active_day_only_moves_forward_and_needs_its_principal,
        // spaces
        spaces_round_trip_exactly_and_are_found_by_slug,
        saving_a_space_again_overwrites_it,
        a_duplicate_slug_is_a_conflict,
        spaces_are_listed_by_title_case_insensitively_with_paging_and_total,
        spaces_of_a_principal_are_its_non_removed_memberships_with_role,
        memberships_round_trip_and_members_exclude_removed_ones,
        document_types_round_trip_with_their_fields,
        // content
        folders_round_trip_exactly_including_trash_state,
        documents_round_trip_exactly_including_metadata_and_trash_state,
        live_items_are_listed_by_name_under_their_parent,
        documents_are_queried_filtered_and_sorted_over_the_whole_folder,
        the_latest_document_of_a_space_is_found_in_any_folder,
        name_taken_is_case_insensitive_and_ignores_trashed_rows_and_the_exception,
        a_duplicate_live_name_in_a_folder_is_a_conflict,
        the_trash_lists_trashed_but_not_purged_items,
        all_folders_include_trashed_but_not_purged_ones,
        documents_in_folders_include_trashed_but_not_purged_ones,
        versions_are_listed_by_number_and_deleted_per_document,
        current_versions_are_those_of_the_folders_live_documents,
        referenced_hashes_are_every_version_hash,
        space_hashes_are_the_hashes_of_that_space_only,
        rows_referring_to_missing_parents_are_refused,
        // audit
        the_audit_log_starts_empty,
        audit_entries_round_trip_exactly_and_the_head_follows_appends,
        audit_entries_are_filtered_by_space_and_paged_after_a_sequence_number,
        a_duplicate_audit_sequence_number_is_a_conflict,
        // transactions
        revisions_strictly_increase_across_transactions,
        a_dropped_write_transaction_leaves_nothing,
        a_reader_is_not_blocked_by_a_writer_and_sees_only_committed_rows,
        writes_in_a_read_transaction_are_refused,
        a_conflict_leaves_the_transaction_usable,
        // replication
        invitations_round_trip_exactly_and_are_found_by_hash,
        a_duplicate_invitation_secret_is_a_conflict_and_a_space_is_needed,
        the_current_revision_is_read_without_taking_one,
        spaces_shared_with_an_edge_are_listed_by_id,
        applied_ops_round_trip_and_the_quarantine_lists_rejected_ones_newest_first,
        the_quarantine_is_counted_per_edge_and_space,
        edge_states_are_upserted_and_listed_by_edge,
        cursors_are_set_per_space_and_listed_by_space,
        the_outbox_assigns_increasing_seqs_and_tracks_outcomes,
        referenced_hashes_include_pending_outbox_content_until_decided,
        a_contractors_outbox_pages_newest_first_without_their_acceptance,
        pending_items_are_counted_and_decided_ones_pruned_by_verdict_time,
        purging_a_space_deletes_its_rows_and_the_principals_left_without_membership,
        blob_claims_are_kept_per_space_released_and_purged_with_it,
        blob_claims_of_a_large_batch_are_claimed_and_released_whole,
        replication_writes_in_a_read_transaction_are_refused,
        // replication: the change feed
        changes_carry_every_row_of_the_space_with_tombstones,
        changes_carry_the_links_whose_both_ends_are_in_the_space,
        changes_stop_at_the_last_whole_revision_within_the_limit,
        a_revision_larger_than_the_limit_comes_whole,
        changes_carry_the_principals_of_the_space_without_credentials,
        through_is_the_last_whole_revision_even_when_parents_brought_along_are_newer,
        every_non_empty_batch_carries_the_space_even_when_it_is_the_newest_row,
        a_version_comes_with_its_document_even_when_the_document_changed_later,
        an_empty_range_gives_no_rows_and_keeps_the_cursor,
        small_batches_applied_in_order_cover_the_space_like_one_big_batch,
        the_feed_backlog_counts_the_rows_changes_has_past_a_cursor,
        // locks
        locks_round_trip_exactly_and_are_found_by_token,
        saving_a_lock_again_replaces_it,
        locks_are_found_by_resource_and_by_space_oldest_first_then_by_token,
        locks_are_deleted_by_token_by_resource_and_once_expired,
        a_lock_needs_its_owner_and_space_and_a_write_transaction,
        a_dropped_transaction_keeps_no_lock_and_a_purge_takes_the_spaces_locks,
        // links between documents
        links_round_trip_and_are_listed_from_both_ends_oldest_first,
        a_link_is_unique_by_its_ends_and_kind_and_needs_its_documents,
        // notifications
        the_feed_reads_the_audit_log_by_space_action_actor_and_time,
        subscriptions_and_defaults_round_trip_and_need_their_rows,
        notices_are_queued_once_due_in_order_and_counted_when_sent,
        // the ingestion ledger of drop folders
        ingestions_round_trip_and_are_found_by_drop_folder_and_hash,
        ingestions_are_found_by_reference_oldest_first_across_drop_folders,
        an_ingestion_is_written_once_and_needs_its_space_and_account,
        // the edge's mirror of the internal node's locks
        a_snapshot_round_trips_in_order_and_replaces_only_its_spaces_mirror,
        mirrored_locks_are_found_by_resource_of_the_right_kind,
        a_mirror_needs_its_space_and_a_write_transaction_and_goes_with_a_purge,
    ],
    by_arc: [
        concurrent_writers_take_distinct_gapless_revisions,
        an_outbox_append_begun_during_a_purge_waits_and_finds_the_space_gone,
    ],
    with_log: [
        extractions_round_trip_every_status_exactly,
        recording_again_replaces_the_record,
        records_are_written_in_a_batch_and_the_later_of_a_hash_wins,
        due_records_are_those_whose_time_has_come_soonest_first,
        problems_leave_out_ok_and_empty_last_tried_first_and_page_with_a_total,
        records_are_counted_by_status,
        holders_are_the_unpurged_documents_whose_current_version_has_the_hash,
        an_unknown_hash_has_no_record_and_no_holders,
    ],
    with_props: [
        properties_round_trip_sorted_by_namespace_then_name,
        a_patch_replaces_removes_and_keeps_resources_apart,
    ],
    with_repo_props: [
        children_properties_are_those_of_the_live_children_only,
    ],
);
