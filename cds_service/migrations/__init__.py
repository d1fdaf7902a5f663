"""Alembic migrations of the crs-cds database (run with `crs-cds db upgrade`)."""
