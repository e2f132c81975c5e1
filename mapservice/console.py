"""The ``mapservice`` console script: Flask's CLI bound to the application factory."""

from __future__ import annotations

import logging

from flask.cli import FlaskGroup

from mapservice import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    FlaskGroup(create_app=create_app, add_default_commands=False)()


if __name__ == "__main__":
    main()
