"""The five pipelines as Prefect flows (`aggregate-profit`, ...), thin over `warehouse.runner`.

A failed run emits `pipeline.failed` (resource `pipeline.<name>`, payload kind, partition,
pipeline, detail) and ends FAILED, so automations can start the matching runbook.
"""

from flows.pipelines.flows import PIPELINE_FLOWS, emit_pipeline_failed, pipeline_flow

__all__ = ["PIPELINE_FLOWS", "emit_pipeline_failed", "pipeline_flow"]
