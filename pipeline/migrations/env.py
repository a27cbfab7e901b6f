"""Alembic environment: runs on the connection `pipeline.store.migrate` hands over, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

# the review app's and the intake API's tables sit on the same Base in their own modules: imported
# here so autogenerate sees the whole schema
import pipeline.intake_tables
import pipeline.review_tables  # noqa: F401
from pipeline.store import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
