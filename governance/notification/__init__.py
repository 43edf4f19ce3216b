"""Notification: one message model, delivered through Apprise, each attempt on record.

`messages` (what is said, per kind), `delivery` (an engineer's contacts as Apprise URLs, one
send per message), `notify` (the one path every notification takes, a ledger row per attempt).
"""
