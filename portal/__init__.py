"""The investor portal: a small HTTP service that receives reports and dashboard feeds.

The server (`portal.app`) stores every publication durably and versioned; the client
(`portal.client`) is what the recovery flows use to publish, with retries for transient
failures and a clear error taxonomy for the rest. Served behind the fault layer
(`faults.portal_layer`), beside the product, it can be told to misbehave so the publishing
path is tested against real failures; the product portal itself does no fault work.
"""
