"""The five pipelines as Prefect flows (`pipeline-aggregate-profit`, ...), thin over
`warehouse.runner`.

A failed run delivers `pipeline.failed` (resource `pipeline.<name>` with the label
`pipeline.partition`; payload kind, partition, pipeline, detail and the run's `flow_run_id`)
and ends FAILED, so the matching runbook's trigger starts its recovery.
"""

from flows.pipelines.flows import PIPELINE_FLOWS, emit_pipeline_failed, pipeline_flow

__all__ = ["PIPELINE_FLOWS", "emit_pipeline_failed", "pipeline_flow"]
