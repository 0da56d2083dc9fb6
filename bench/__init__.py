"""Benchmarks of searchapp against a naive Whoosh app, Datasette and a constant-JSON floor."""
