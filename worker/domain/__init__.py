"""The domain's records: recoveries, their events and follow-ups, mail, Jira issues and documents.

Plain values with no I/O; every layer (core, store, adapters, steps) speaks in them.
"""
