"""The reference data platform: warehouse, sources, pipelines, faults and sample data.

Public API (everything takes a SQLAlchemy `Engine` or a `warehouse.db.Platform`):

- `warehouse.db`: `engine_for(url, schema=None)`, `Platform.from_settings()`, `Platform.of(e)`.
- `warehouse.schema`: source and warehouse tables; `create_sources`, `create_warehouse`,
  `migrate(engine, "head")` (Alembic), `reset_warehouse`.
- `warehouse.generate.generate(engine, scale="small"|"bench", seed=7) -> rows per table`.
- `warehouse.pipelines.registry` / `get_pipeline(name) -> Pipeline` (area, grain, sources,
  steps, checks, measure, report); `warehouse.calendar.parse_partition(grain, key)`.
- `warehouse.transform.run_transform(engine, pipeline, partition) -> TransformResult`.
- `warehouse.checks.run_checks(engine, pipeline, partition) -> list[CheckResult]`
  (`name, passed, failing_rows, kind, blocking, failing_count`); `raise_for_checks`.
- `warehouse.runner.run_pipeline(engine, pipeline, partition) -> RunResult` and
  `validate_partition(engine, pipeline, partition)`: both raise `PipelineFailure`.
- `warehouse.failures`: `FailureKind` (7 kinds), `PipelineFailure(kind, partition, detail)`.
- `warehouse.recovery`: `source_counts`, `missing_partitions`, `missing_days`,
  `backfill_from_activity_logs`, `restore_events_from_backup`, `annotate`.
- `warehouse.outputs`: `report_csv`, `dashboard_feed`, `write_outputs`.
- `warehouse.faults`: `inject(engine, kind, pipeline, partition, variant=None)`,
  `clear_faults(engine, data=False)`, `active_faults`, `publishing_fault`,
  `raise_if_publishing_blocked`.
- `warehouse.job_logs`: `read_job_logs(flow_run_id)`, `latest_failed_run(pipeline)`,
  `extraction_failures(lines)` (async, through the Prefect client).
"""
