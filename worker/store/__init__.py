"""The state store: what the worker has seen and done, so every action happens exactly once."""

from sqlalchemy import Connection

from worker.store.db import Store

__all__ = ["Connection", "Store"]
