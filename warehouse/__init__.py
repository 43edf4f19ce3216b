"""The reference data platform: warehouse, sources, pipelines, faults and sample data."""
