"""Serving the app for real: the gunicorn server behind ``mapservice serve`` and its settings."""
