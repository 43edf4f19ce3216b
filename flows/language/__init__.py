"""The runbook language: YAML step graphs, validated and compiled into Prefect flows.

Reading order: `models` (the document), `catalog` (pipelines, grains, engineers),
`step_params` (`uses:` and `with:`), `graph` (ids, needs, cycles, reachability),
`templates` and `template_reads` (the template language and what a template reads),
`template_checks`, `pipelines`, `policy` and `pinning` (safety rules), `partitions`,
`validator` (all passes together), `compiler`, `params`, `execution`, `plan`, `diagram`,
`schema`, `step_reference`. Positioned YAML and problems live in `foundation`.
"""
