# Cutover's processes (API, worker, host agent with its router, the compose demo) from one image; the command picks the process.
FROM node:20-bookworm-slim
# pg_dump / pg_restore for PostgreSQL environments; SQL Server needs nothing here (the server runs its own BACKUP and RESTORE).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Everything in the lock file, tsx included: the processes run their TypeScript sources with `node --import tsx`.
RUN npm ci --no-audit --no-fund
COPY . .
# At the root of /app, so that package paths such as examples/demo-app/v1 resolve as they do on a developer machine.
RUN cp deploy/compose/cutover.yaml /app/cutover.compose.yaml
ENV CUTOVER_CONFIG=/app/cutover.compose.yaml
CMD ["node", "--import", "tsx", "src/api/main.ts"]
