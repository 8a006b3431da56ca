# Production image: gunicorn + whitenoise. Front-end libraries come from the npm registry.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --create-home smartcare
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY --from=assets /app/node_modules ./node_modules
COPY . .
# collectstatic and message compilation need settings but no real secrets or services.
RUN pybabel compile --domain=django --directory=locale \
 && SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 EMAIL_URL=consolemail:// SMARTCARE_BASE_URL=https://build.example \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media && chown -R smartcare /app/var
USER smartcare
EXPOSE 8000
CMD ["gunicorn", "smartcare.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
