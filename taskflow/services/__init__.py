"""Data-layer use cases: queries and writes. They flush; the caller commits once."""
