"""Database access: models, sessions and migrations (the only package that talks SQL)."""
