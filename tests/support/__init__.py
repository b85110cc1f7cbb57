"""Helpers the tests share: real servers started on demand, and the Jira API contract."""
