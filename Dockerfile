# syntax=docker/dockerfile:1
#
# Container images of the two services, one target each:
#
#   docker build --target gateway -t mcpgw/openai-gateway .
#   docker build --target mcp     -t mcpgw/openai-gateway-mcp .
#
# Stages: `build` installs every dependency once and compiles TypeScript; `gateway-deps` and
# `mcp-deps` install only the production dependencies of one workspace (no TypeScript, no Nx, no
# `node` devDependency); `gateway` and `mcp` copy that tree onto the plain Node image and run as
# the image's non-root `node` user (uid 1000).
#
# Behind a TLS-intercepting proxy, give npm its CA as a build secret (Docker and Podman both):
#   docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt --target gateway .

FROM node:24-bookworm-slim AS manifests
WORKDIR /app
# npm ci checks every workspace's manifest against the lockfile, so all of them come along. The
# install stages start from this tree, so their npm ci layers change only when a dependency does.
COPY package.json package-lock.json .npmrc ./
COPY packages/openai-protocol/package.json packages/openai-protocol/
COPY packages/mcp-http/package.json packages/mcp-http/
COPY packages/mcp-tools/package.json packages/mcp-tools/
COPY packages/openai-gateway/package.json packages/openai-gateway/
COPY packages/openai-gateway-mcp/package.json packages/openai-gateway-mcp/
COPY packages/fake-upstream/package.json packages/fake-upstream/
COPY packages/test-support/package.json packages/test-support/
COPY packages/release-tests/package.json packages/release-tests/

# Every npm ci below runs with --ignore-scripts: no install script is needed to compile or to run
# (the `node` devDependency's would fetch a second Node binary; the base image has one).

# ---- build: all dependencies, then tsc for the two services and the rules they share -----------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --ignore-scripts
COPY tsconfig.base.json ./
COPY packages/openai-protocol/ packages/openai-protocol/
COPY packages/mcp-http/ packages/mcp-http/
COPY packages/mcp-tools/ packages/mcp-tools/
COPY packages/openai-gateway/ packages/openai-gateway/
COPY packages/openai-gateway-mcp/ packages/openai-gateway-mcp/
# In this order: both services compile against the shared packages' declarations.
RUN npm run build --workspace=@mcpgw/openai-protocol --workspace=@mcpgw/mcp-http --workspace=@mcpgw/mcp-tools --workspace=@mcpgw/openai-gateway --workspace=@mcpgw/openai-gateway-mcp \
 && rm -f packages/*/dist/.tsbuildinfo

# ---- production dependencies, one workspace each ----------------------------------------------
# `npm ci --omit=dev --workspace=X` still installs the dependencies of any workspace that X lists
# as a devDependency (the MCP server's tests use the gateway, so fastify came along); without X's
# devDependencies it installs exactly X's production closure, at the lockfile's versions. Then X's
# bin/ and dist/ join it, and so do the shared @mcpgw/openai-protocol, @mcpgw/mcp-http and
# @mcpgw/mcp-tools (production dependencies of both, linked like any workspace); the other
# workspaces and links to them go. So do the
# dependencies' source maps (12 MB in the gateway's tree, most of it Swagger UI's): node reads none
# without --enable-source-maps, and a browser asks for one only with its developer tools open.
FROM node:24-bookworm-slim AS gateway-deps
WORKDIR /app
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm pkg delete devDependencies --workspace=@mcpgw/openai-gateway \
 && npm ci --ignore-scripts --omit=dev --workspace=@mcpgw/openai-gateway \
 && rm -rf package.json package-lock.json .npmrc packages/fake-upstream packages/test-support packages/release-tests packages/openai-gateway-mcp \
 && find node_modules -xtype l -delete \
 && find node_modules -name '*.map' -type f -delete
COPY --from=build /app/packages/openai-protocol/dist packages/openai-protocol/dist
COPY --from=build /app/packages/mcp-http/dist packages/mcp-http/dist
COPY --from=build /app/packages/mcp-tools/dist packages/mcp-tools/dist
COPY packages/openai-gateway/bin packages/openai-gateway/bin
COPY --from=build /app/packages/openai-gateway/dist packages/openai-gateway/dist

FROM node:24-bookworm-slim AS mcp-deps
WORKDIR /app
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm pkg delete devDependencies --workspace=@mcpgw/openai-gateway-mcp \
 && npm ci --ignore-scripts --omit=dev --workspace=@mcpgw/openai-gateway-mcp \
 && rm -rf package.json package-lock.json .npmrc packages/fake-upstream packages/test-support packages/release-tests packages/openai-gateway \
 && find node_modules -xtype l -delete \
 && find node_modules -name '*.map' -type f -delete
COPY --from=build /app/packages/openai-protocol/dist packages/openai-protocol/dist
COPY --from=build /app/packages/mcp-http/dist packages/mcp-http/dist
COPY --from=build /app/packages/mcp-tools/dist packages/mcp-tools/dist
COPY packages/openai-gateway-mcp/bin packages/openai-gateway-mcp/bin
COPY --from=build /app/packages/openai-gateway-mcp/dist packages/openai-gateway-mcp/dist

# ---- gateway: the HTTP service ----------------------------------------------------------------
FROM node:24-bookworm-slim AS gateway
LABEL org.opencontainers.image.title="openai-gateway" \
      org.opencontainers.image.description="An OpenAI-compatible gateway that holds upstream keys and serves clients with keys of its own." \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
# Code and dependencies stay owned by root: the service cannot rewrite itself.
COPY --from=gateway-deps /app /app
# Inside a container the gateway must listen on every interface to be reachable at all. It refuses
# to do that without client keys, so GATEWAY_API_KEYS (comma-separated) must be given at run time:
#   docker run -p 8080:8080 -e GATEWAY_API_KEYS=... -e OPENAI_API_KEY=... mcpgw/openai-gateway
# Without OPENAI_API_KEY / OPENAI_BASE_URL it serves the offline demo model mcpgw-offline-demo.
# The gateway's files (the chat sessions' SQLite) go to /data: mount a volume there to keep them
# across containers (`-v mcpgw-data:/data`). Made here and owned by the node user, so that it is
# writable with no mount at all (then the sessions last as long as the container).
RUN mkdir /data && chown 1000:1000 /data
VOLUME /data
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_LEVEL=info \
    GATEWAY_DATA_DIR=/data
EXPOSE 8080
# The base image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# node itself does the check (the slim image has no curl); /health needs no client key. It asks
# 127.0.0.1:$PORT, so change the port with PORT (not --port) and keep HOST at 0.0.0.0 or loopback.
# No --start-period: the gateway listens within a second, and dockerfilelint 1.8 misreads the flag.
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Flags may follow the image name, e.g. --config /config/gateway.yaml (mounted read-only).
ENTRYPOINT ["node", "/app/packages/openai-gateway/bin/openai-gateway.js"]

# ---- mcp: the stdio MCP server ----------------------------------------------------------------
FROM node:24-bookworm-slim AS mcp
LABEL org.opencontainers.image.title="openai-gateway-mcp" \
      org.opencontainers.image.description="A stdio MCP server whose tools (chat_completion, list_models) call an OpenAI-compatible gateway." \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
COPY --from=mcp-deps /app /app
# MCP over stdin/stdout, logs on stderr only: run it with `docker run --rm -i` (no -t) and
# GATEWAY_URL, GATEWAY_API_KEY (and optionally DEFAULT_MODEL, TIMEOUT, MAX_RETRIES, LOG_LEVEL).
# Or detached, over Streamable HTTP at :3000/mcp, with keys of its own for its clients:
#   docker run -d -p 3000:3000 -e MCP_TRANSPORT=http -e HOST=0.0.0.0 -e MCP_API_KEYS=... \
#     -e GATEWAY_URL=... -e GATEWAY_API_KEY=... mcpgw/openai-gateway-mcp
ENV NODE_ENV=production \
    LOG_LEVEL=info
EXPOSE 3000
USER 1000:1000
# Only over HTTP is there anything to ask; on stdio (the default) the check passes, as the
# container lives exactly as long as its client's session. Change the port with PORT, not --port.
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "if ((process.env.MCP_TRANSPORT || 'stdio').toLowerCase() !== 'http') process.exit(0); fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/packages/openai-gateway-mcp/bin/openai-gateway-mcp.js"]
