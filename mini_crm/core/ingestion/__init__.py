"""Ingestion of customers and orders: validation, idempotent upserts, exact stats.

- `schemas`: the pydantic item models and per-item validation of a batch;
- `upsert`: one-statement-per-batch upserts and the customer stats recompute.
"""
