"""Jupyter views over a lab session (issue 5; not built yet)."""
