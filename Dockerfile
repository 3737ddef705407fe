# The Nightshift worker image (used by docker-compose.yml): the compiled TypeScript and its
# runtime dependencies on Node 20. Needs a registry (node:20-bookworm); on machines without one,
# deploy/build-images.sh makes the same image from this checkout's build on a local base
# (deploy/worker/Dockerfile), or run the worker on the host (`node dist/worker/cli.js worker`).
#
# The agents do not run here: the worker starts sandbox containers (nightshift/claude-code,
# nightshift/codex; build them with sandbox-images/build.sh) through the mounted Docker socket.

# NODE_IMAGE: override to use a mirror or a locally made Node 20 image.
ARG NODE_IMAGE=node:20-bookworm

# --- build: all dependencies (TypeScript is a devDependency), compile. -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Same fallback as scripts/setup.sh: `npm ci` refuses this lock file when it lacks optional platform
# packages of a dependency (@swc/core-darwin-*: missing on some registry mirrors); `npm install
# --no-save` installs the locked versions without rewriting the lock.
RUN npm ci --no-audit --no-fund \
 || { echo "npm ci refused the lock file; falling back to npm install --no-save" >&2; \
      npm install --no-save --no-audit --no-fund; }
COPY . .
RUN npm run build \
 # The agent CLIs' native binaries (~600 MB) are only needed to build the sandbox images, never by
 # the worker. The rest of the devDependencies stay: worker/temporal.ts imports @temporalio/testing
 # (the dev server used by `nightshift dev`), so `npm prune --omit=dev` would break the worker.
 && rm -rf node_modules/@anthropic-ai/claude-code* node_modules/@openai/codex*

# --- runtime. ----------------------------------------------------------------------------------------
# node:20-bookworm (not -slim) because the activities run git on the host side (clone, commit, push).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Two glibc malloc arenas instead of 8 per core: the worker's threads (the Temporal core's, V8's)
# otherwise keep freed memory in arenas of their own. With 1,000 runs held waiting the worker's
# RSS settles at ~223 MB instead of ~270 MB (bench/queue.bench.ts).
ENV MALLOC_ARENA_MAX=2
# iptables: the worker installs the sandbox firewall (fails closed without it).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends iptables && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Root, because it talks to /var/run/docker.sock (root-owned) and writes the shared state dir.
CMD ["node", "dist/worker/cli.js", "worker"]
