"""Benchmarks: each module measures one target and can be run alone with `python -m bench.NAME`."""
