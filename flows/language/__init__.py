"""The runbook language: YAML step graphs, validated, planned and drawn, without Prefect.

Pure: nothing here imports Prefect or a database, so `runbook validate`, `plan`, `graph`,
`schema`, `steps` and `docs` (and editors) use it at once; `flows.runtime` compiles what it
validates into a Prefect flow.

Reading order: `models` (the document), `catalog` (pipelines, grains, engineers),
`step_params` (`uses:` and `with:`), `graph` (ids, needs, cycles, reachability),
`templates` and `template_reads` (the template language and what a template reads),
`template_checks`, `pipelines`, `policy`, `gate_inputs` and `pinning` (safety rules),
`partitions`, `validator` (all passes together), `library` (the runbooks folder), `params`,
`waves`, `plan`, `diagram`, `schema`, `step_reference`. Positioned YAML and problems live in
`foundation`.
"""
