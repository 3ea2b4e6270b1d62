# ai-monitor container image.
#
#   docker build -t ai-monitor .
#   docker run -d --name ai-monitor -p 8765:8765 -v ai-monitor-data:/app/monitoring_data ai-monitor
#
# or with Compose: docker compose -f infra/docker-compose.yml up -d   (see infra/README.md)
#
# Base image: node:22-bookworm-slim.
#   - Node 22 is an LTS line supported well past Node 20's end of life (April 2026), and some
#     of the server's dependencies (graphql-yoga's @whatwg-node helpers) declare node >= 22.15.
#   - better-sqlite3 12 supports Node 20-24 and builds against 22 (prebuilt binary when one
#     can be downloaded, otherwise compiled with python3/make/g++ in the build stage).
#   - bookworm (glibc) rather than alpine (musl) so native addons behave as on the
#     developers' Debian machines.
# Override with --build-arg NODE_IMAGE=node:20-bookworm-slim if you must stay on Node 20.
ARG NODE_IMAGE=node:22-bookworm-slim

# --------------------------------------------------------------------------------------------
# Stage 1: install every dependency (with build tools for native addons), build, then prune
# the dev dependencies in place so the compiled better-sqlite3 binary is kept as built.
# --------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# Same npm as package.json's "packageManager", so the lockfile and "allowScripts" are read
# as they are in development (the base image ships an older npm).
ARG NPM_VERSION=11.19.1

ENV TURBO_TELEMETRY_DISABLED=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g "npm@${NPM_VERSION}"

WORKDIR /app

# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/schema/package.json packages/schema/
COPY packages/client/package.json packages/client/
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
RUN npm ci

# Sources, then the build of every workspace (schema, client, api, web); then dev dependencies
# are pruned in place, and better-sqlite3's C sources and object files (about 25 MB) are
# dropped, keeping only its compiled better_sqlite3.node.
COPY turbo.json tsconfig.base.json ./
COPY packages/ packages/
COPY apps/ apps/
RUN npx turbo run build --output-logs=errors-only \
 && test -f apps/api/dist/cli.js \
 && test -d apps/web/build \
 && npm prune --omit=dev \
 && (cd node_modules/better-sqlite3 \
     && rm -rf deps src build/deps build/Release/obj build/Release/obj.target build/Release/.deps \
               build/Release/test_extension.node build/Release/*.a) \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

# --------------------------------------------------------------------------------------------
# Stage 2: runtime. Node, production node_modules and the built output; no compilers, no
# sources of the web app, no dev dependencies. Runs as the unprivileged "node" user (1000).
# --------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

LABEL org.opencontainers.image.title="ai-monitor" \
      org.opencontainers.image.description="Self-hosted real-time monitoring for AI assistants: GraphQL API, seed WebSocket protocol and live dashboard on one port" \
      org.opencontainers.image.licenses="UNLICENSED"

ENV NODE_ENV=production \
    AI_MONITOR_HOST=0.0.0.0 \
    AI_MONITOR_PORT=8765 \
    AI_MONITOR_DATA_DIR=/app/monitoring_data \
    AI_MONITOR_WEB_DIR=/app/apps/web/build

WORKDIR /app

# Application files stay owned by root (read-only for the runtime user); only the data
# directory is writable.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages/schema ./packages/schema
COPY --from=build /app/packages/client ./packages/client
COPY --from=build /app/apps/api ./apps/api
COPY --from=build /app/apps/web/package.json ./apps/web/package.json
COPY --from=build /app/apps/web/build ./apps/web/build
COPY infra/docker/healthcheck.mjs ./infra/docker/healthcheck.mjs

# `ai-monitor` on PATH inside the container (docker exec ... ai-monitor backup ...), the data
# directory owned by the runtime user, and a check that the native addon loads here.
RUN printf '#!/bin/sh\nexec node /app/apps/api/dist/cli.js "$@"\n' > /usr/local/bin/ai-monitor \
 && chmod 0755 /usr/local/bin/ai-monitor \
 && mkdir -p /app/monitoring_data \
 && chown 1000:1000 /app/monitoring_data \
 && node -e "new (require('better-sqlite3'))(':memory:').close()"

USER 1000:1000

VOLUME /app/monitoring_data

# GraphQL (/graphql, HTTP + graphql-ws), the seed WebSocket protocol (any other upgrade path),
# /health, /metrics and the dashboard (/), all on one port.
EXPOSE 8765

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/infra/docker/healthcheck.mjs"]

# Node is PID 1 and handles SIGTERM itself (graceful shutdown flushes pending writes).
STOPSIGNAL SIGTERM
CMD ["node", "apps/api/dist/cli.js", "serve"]
