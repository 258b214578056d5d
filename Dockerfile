# Cutover's processes (API, worker, host agent, router) from one image; the command picks the process.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx@4
COPY . .
ENV CUTOVER_CONFIG=/app/deploy/compose/cutover.yaml
CMD ["node", "--import", "tsx", "src/api/main.ts"]
