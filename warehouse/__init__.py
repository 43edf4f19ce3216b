"""The reference data platform: warehouse, sources, pipelines, partition states and sample data.

Public API (everything takes a `warehouse.db.Platform`, or a bare SQLAlchemy `Engine` for
everything in one database with the default config and no file stores):

- `warehouse.db`: `Platform.from_settings(settings, engines)` (the one place settings are
  read: engines, `WarehouseConfig`, plugins), `Platform.of(e)`, `WarehouseHooks` (the seam the
  fault layer uses; no-op by default), `install_hooks`.
- `warehouse.config.WarehouseConfig`: fiscal calendar, check thresholds, file stores.
- `warehouse.schema`: source tables; `create_sources`, `create_warehouse`,
  `migrate(engine, "head")` (Alembic), `reset_warehouse`. `warehouse.tables`: our tables.
- `warehouse.generate.generate(platform, scale="small"|"bench", seed=7) -> rows per table`.
- `warehouse.pipelines.registry` / `get_pipeline(name) -> Pipeline` (area, grain, sources,
  steps, checks, measure, report); `resolve(pipeline, key, calendar) -> (Pipeline,
  Partition)`, the one parse of a partition key (at the edge: a step's params, a command's
  argument); the functions below take the `Pipeline` and `Partition` values.
  `warehouse.calendar.parse_partition(grain, key, calendar)`.
- `warehouse.transform.run_transform(platform, pipe, part) -> TransformResult`.
- `warehouse.checks.run_checks(platform, pipe, part) -> list[CheckResult]`
  (`name, passed, failing_rows, kind, blocking, failing_count`), which records the verdict;
  `raise_for_checks`.
- `warehouse.partition_state`: `running | unchecked | complete | quarantined`, `read_state`,
  `require_readable`, `PartitionNotReadyError`.
- `warehouse.runner.run_pipeline(platform, pipeline, partition) -> RunResult` and
  `validate_partition(platform, pipeline, partition)`: both raise `PipelineFailure`.
- `warehouse.failures`: `FailureKind` (7 kinds and `unclassified`),
  `PipelineFailure(kind, partition, detail)`.
- `warehouse.source_counts`: `source_counts` (`SourceCounts`: the measure in source and warehouse).
- `warehouse.event_restore.restore_events_from_backup` (streamed) and
  `warehouse.user_restore.restore_users_from_logs`: insert-only through
  `warehouse.fill.fill_by_day` (`FillResult`); `warehouse.annotations.annotate`.
- `warehouse.outputs`: `report_csv`, `dashboard_feed`, `write_outputs` (complete partitions
  only).
- `warehouse.job_logs`: `read_job_logs(flow_run_id)`, `latest_failed_run(pipeline)`,
  `extraction_failures(lines)` (async, through the Prefect client).

Fault injection is not here: it is the `faults` package beside the product.
"""
