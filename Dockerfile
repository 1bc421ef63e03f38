# One image for every Placard process: web (gunicorn), worker and beat (Celery).
FROM python:3.11-slim

# The app looks for templates/ beside the campaign package it was imported from,
# and templates/ is not part of the installed package: so the code runs from /app
# (PYTHONPATH), while `pip install .` brings in its dependencies.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PLACARD_INSTANCE_PATH=/var/lib/placard

WORKDIR /app

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home placard \
    && mkdir -p /var/lib/placard \
    && chown placard:placard /var/lib/placard

COPY pyproject.toml README.md ./
COPY campaign ./campaign
COPY worker ./worker
COPY templates ./templates

# Compiled catalogs (.mo) are not committed, so they are built here; a checkout
# without any catalog yet is not an error.
RUN pip install . \
    && if find campaign/translations -name '*.po' 2>/dev/null | grep -q .; then \
           pybabel --quiet compile -d campaign/translations -f; \
       fi

USER placard

EXPOSE 8000

CMD ["gunicorn", "--bind", "0.0.0.0:8000", "campaign:create_app()"]
