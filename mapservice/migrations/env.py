"""Alembic environment: runs on the connection handed over by mapservice.db.migrate."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from mapservice.db import include_in_migrations
from mapservice.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_in_migrations,
        compare_type=True,
        # GeoAlchemy2 renders spatial tables and their indexes so they are created once.
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
