# T-Shape image: one image for web (gunicorn), worker and beat (celery), and the migrate one-off.

# --- Builder: Python packages, front-end packages, compiled translations, collected static ------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# Node and npm only fetch and copy the browser builds; they never reach the runtime image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && pip install -r requirements.lock

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

COPY . .

# static/vendor from node_modules (scripts/copy_vendor.mjs), then node_modules is dropped.
RUN node scripts/copy_vendor.mjs && rm -rf node_modules

# The same msgfmt call as the Makefile; a tree without catalogues compiles nothing.
RUN if [ -d locale ]; then \
      find locale -name '*.po' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \; ; \
    fi

# Production settings refuse to load without a real-looking SECRET_KEY; this throwaway one exists
# only for this command and is never part of the image's environment.
RUN TSHAPE_ENV=production \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-runtime-0123456789 \
    python manage.py collectstatic --noinput


# --- Runtime ----------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PATH=/opt/venv/bin:$PATH \
    TSHAPE_ENV=production \
    MEDIA_ROOT=/data/media \
    GUNICORN_BIND=0.0.0.0:8000

# A CJK font for Chinese in generated documents; Pango (and HarfBuzz's subsetter, which keeps
# embedded fonts small) for the PDF renderer, WeasyPrint.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

# The volumes (media, beat schedule) are created from these directories, owned by the app user.
RUN groupadd --system tshape \
    && useradd --system --gid tshape --home-dir /app --no-create-home --shell /usr/sbin/nologin tshape \
    && mkdir -p /data/media /data/beat \
    && chown tshape:tshape /data/media /data/beat

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

WORKDIR /app
USER tshape

EXPOSE 8000

# Workers, timeout and log format come from the environment (config/gunicorn.py, .env.example).
CMD ["gunicorn", "--config=config/gunicorn.py", "config.wsgi:application"]
