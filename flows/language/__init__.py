"""The runbook language: YAML step graphs, validated and compiled into Prefect flows.

Reading order: `yaml_source` (positioned YAML), `errors`, `durations`, `models`,
`graph`, `templates`, `policy`, `validator` (all passes together), `compiler`, `schema`.
"""
