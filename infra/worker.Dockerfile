# A custflow worker image: the sources, production dependencies, and `custflow worker` as the entry point.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin bin
COPY lib lib
COPY activities activities
COPY workflows workflows
COPY workers workers
COPY infra infra
COPY scripts scripts
USER node
ENTRYPOINT ["node", "bin/custflow.mjs", "worker"]
