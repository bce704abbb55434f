"""Benchmarks that print JSON (figures for the notes, never for test assertions); see docs/load.md."""
