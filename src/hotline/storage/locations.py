"""What kind of store a location names, without loading a database driver to say so."""

from __future__ import annotations


def is_database_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL database (not a SQLite file)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))
