"""Glue PySpark jobs: thin entry scripts and the pure transforms they call."""
