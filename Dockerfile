# Production image: gunicorn + whitenoise. Front-end libraries come from the npm registry.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Translations are compiled with GNU gettext here, so neither gettext nor Babel is in the image.
FROM debian:bookworm-slim AS messages
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY locale ./locale
RUN find locale -name '*.po' -exec sh -c 'for po; do msgfmt --check-format -o "${po%.po}.mo" "$po" || exit 1; done' _ {} +

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --create-home smartcare
# The runtime lock: every package, transitive ones included, pinned with its hashes.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY --from=assets /app/node_modules ./node_modules
COPY . .
COPY --from=messages /app/locale ./locale
# collectstatic needs settings but no real secrets or services.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 EMAIL_URL=consolemail:// SMARTCARE_BASE_URL=https://build.example \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media && chown -R smartcare /app/var
USER smartcare
EXPOSE 8000
CMD ["gunicorn", "smartcare.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--config", "gunicorn.conf.py"]
