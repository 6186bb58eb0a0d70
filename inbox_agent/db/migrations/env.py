"""Alembic environment: the engine comes from the caller (inbox_agent.db.session.upgrade)."""

from alembic import context

from inbox_agent.db.tables import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
