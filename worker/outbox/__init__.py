"""The one home of outside writes: each made exactly once, across crashes and lost answers."""

from worker.outbox.writes import Outbox, Unconfirmed, Write, comment_marker, marker

__all__ = ["Outbox", "Unconfirmed", "Write", "comment_marker", "marker"]
