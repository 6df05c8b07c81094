# The storefront bot. Build: docker build -t storefront .
# Run:   docker run -e BOT_TOKEN=123:abc -p 8080:8080 -v storefront-data:/data storefront
# Scaled out (PostgreSQL, Redis, bot replicas and workers): compose.yaml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/storefront.sqlite3

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app shop \
    && mkdir -p /data && chown shop:shop /data

COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY bot ./bot
COPY handlers ./handlers
COPY vendors ./vendors
COPY storage ./storage
COPY locales ./locales
COPY catalog.toml ./

# The same install step as ./run.sh, ./test.sh and CI: ./.venv plus compiled translations.
RUN scripts/install.sh && chown -R shop:shop /app

USER shop
VOLUME ["/data"]
# GET /health and /metrics; the Telegram webhook, vendor webhooks, G2A's calls: HTTP_PORT
EXPOSE 8080
# The same entry command CI runs; compose.yaml adds --role bot or --role worker.
CMD [".venv/bin/python", "-m", "bot"]
