# Cutover's processes (API, worker, host agent with its router, the compose demo) from one image; the command picks the process.
# They run the compiled build (npm run build: dist/, with the prebuilt workflow bundle), never TypeScript through tsx.

# The build: every dependency of the lock file (TypeScript, tsx for the build script), then `npm run build`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# What runs: production dependencies only, the build, and the files read at run time (examples/, deploy/, temporal/cli.sh).
FROM node:20-bookworm-slim
# pg_dump / pg_restore for PostgreSQL environments; SQL Server needs nothing here (the server runs its own BACKUP and RESTORE).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
COPY --from=build /app/dist ./dist
# The compose configuration, at the root of /app beside examples/ (its package root).
RUN cp deploy/compose/cutover.yaml /app/cutover.compose.yaml
ENV CUTOVER_CONFIG=/app/cutover.compose.yaml
CMD ["node", "--enable-source-maps", "dist/src/api/main.js"]
