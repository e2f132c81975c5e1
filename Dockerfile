# The service image for `docker compose up`; the database is the pinned postgis/postgis image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 mapservice
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mapservice ./mapservice
COPY templates ./templates
COPY data ./data
# Editable, so the package finds templates/ and data/ beside it.
RUN pip install --no-cache-dir -e . && chown -R mapservice /app
USER mapservice

EXPOSE 5000
# gunicorn, processes from the container's cores (MAPSERVICE_WORKERS/THREADS override; see
# README "Running it for real"). Migrates and loads the data once, before the workers start.
ENV MAPSERVICE_BIND=0.0.0.0:5000
CMD ["mapservice", "serve"]
