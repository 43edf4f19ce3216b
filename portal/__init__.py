"""The investor portal: a small HTTP service that receives reports and dashboard feeds.

The server (`portal.app`) stores every publication durably and versioned; the client
(`portal.client`) is what the recovery flows use to publish, with retries for transient
failures and a clear error taxonomy for the rest. The portal can be told to misbehave
(`portal.faults`) so the product's publishing path is tested against real failures.
"""
