"""Benchmarks: how fast and how good errdesk is, beside the naive ways, measured in one run.

`python -m benchmarks` runs every part and prints one table; `python -m benchmarks recognition`
runs one part; `--quick` runs each with small counts (the smoke test uses it).
"""
