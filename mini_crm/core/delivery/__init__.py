"""The send pipeline, from queued log rows to vendor receipts:
`enqueue` (jobs per id range, the sweeper's resume), `job` (the RQ job deliver_batch),
`claims` (claim/renew/mark SQL on communication_log), `sending` (vendor choice, retries,
backoff), `throttle` (per-vendor rate and concurrency), `gate` (the cancel gate over
requests in flight), `tracker` (which ranges have a live job), `vendors` (one module per
vendor), `receipts` (the receipt buffer and batcher) and `signing` (HMAC signatures).
`mini_crm.core.campaigns` creates, launches and cancels campaigns and calls into this."""
