"""Database access: tables, sessions and migrations (the only package that talks SQL)."""
