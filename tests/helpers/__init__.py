"""Helpers shared by the test packages (on sys.path through tests/conftest.py's folder)."""
