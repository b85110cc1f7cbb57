"""recovery-worker: turns client complaints into Jira recoveries and keeps the promised cadence."""

__version__ = "0.1.0"
