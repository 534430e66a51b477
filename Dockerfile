# The outbox-cache image: the `outbox-cache` CLI (`node dist/cli/main.js <command>`: sink, schemas,
# connectors, migrate, ...) with its production dependencies, the Avro schemas, the SQL files and
# the connector files. docker-compose.yml runs the sink, the one-shot setup and the demo writer
# from it. Build: docker build -t outbox-cache .
#
# Compiled inside the build stage from the sources, so the image does not depend on what a host
# `npm run build` left in dist/ (.dockerignore keeps dist/ and node_modules/ out of the context).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/
COPY src/ src/
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY schemas/ schemas/
COPY connectors/*.json connectors/
USER node
CMD ["node", "dist/cli/main.js", "--help"]
