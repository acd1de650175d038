"""Benchmarks: each of our figures measured against its baseline in the same run (``pipenv run bench``)."""
