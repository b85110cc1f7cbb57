"""The one home of outside writes: each made exactly once, across crashes and lost answers."""

from worker.outbox.writes import Outbox, Unconfirmed, Write, marker

__all__ = ["Outbox", "Unconfirmed", "Write", "marker"]
