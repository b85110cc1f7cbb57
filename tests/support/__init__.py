"""Helpers the tests share: real servers started on demand."""
