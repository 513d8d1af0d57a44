"""Benchmarks (`make bench`): the data layer side by side with hand-written asyncpg."""
