# syntax=docker/dockerfile:1
# The pulse-runbooks worker image (docker-compose.yml builds it; deploy/README.md explains the deployment).
#
# glibc on purpose: the Temporal TypeScript SDK's native core (@temporalio/core-bridge) ships prebuilt for glibc
# Linux only, so Alpine (musl) images do not work. Every stage is Debian 12 (bookworm).
#
# Targets:
#   worker-go  (default in docker-compose.yml) the worker plus the Go toolchain, for the Code Rollback's build
#              check (`go build ./...` in the Pulse checkout; Pulse needs Go >= 1.24 and cgo for SQLite,
#              and Debian 12's own golang-go is 1.19, too old, hence the toolchain of the official Go image);
#   worker     the worker alone: every procedure except that build check.
ARG NODE_IMAGE=node:20-bookworm
ARG GO_IMAGE=golang:1.25-bookworm

# 1. Production dependencies only: the node_modules the image ships. No TypeScript, no tsx loader at run time: the
#    image runs the compiled JavaScript that stage 2 builds.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# 2. The build, with every dependency (TypeScript is a devDependency): `npm run build` (scripts/build.mjs) compiles
#    src/, workflows/ and activities/ to dist/, builds the workflow bundle dist/workflow-bundle.js (the worker loads it
#    through PULSE_RUNBOOKS_WORKFLOW_BUNDLE instead of running webpack at every start, see src/worker.ts) and writes
#    dist/.build-stamp. The bundle carries the encrypted failure converter
#    (src/temporal/encrypted-failure-converter.cjs), so a worker with a payload key file (the compose setup) uses it
#    as it is. Only dist/ leaves this stage (source maps dropped, as in the npm package).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY bin/build-freshness.mjs ./bin/build-freshness.mjs
COPY scripts/build.mjs scripts/build-workflow-bundle.ts ./scripts/
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN node scripts/build.mjs \
  && test -f dist/workflow-bundle.js \
  && find dist -name '*.map' -delete

FROM ${GO_IMAGE} AS go-toolchain

# 3. The worker. The full bookworm image (not -slim) is deliberate: the procedures run git and ssh, and a cgo
#    build needs gcc; all three come with it. The explicit install below documents the dependency and is a no-op
#    when the base image already has them.
FROM ${NODE_IMAGE} AS worker
RUN apt-get update \
  && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PULSE_RUNBOOKS_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
# Owned by root and not writable by the worker's user: the worker cannot change its own code. Production
# dependencies, bin/ and the compiled dist/ only, no sources: bin/pulse-runbook.js then always runs dist/ (a package
# without sources counts its build as current, bin/build-freshness.mjs), the CLI and the worker start from compiled
# JavaScript, and the worker loads the prebuilt bundle (PULSE_RUNBOOKS_WORKFLOW_BUNDLE).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
RUN chmod 0755 bin/pulse-runbook.js \
  && ln -s /app/bin/pulse-runbook.js /usr/local/bin/pulse-runbook \
  && install -d -o node -g node -m 0700 /home/node/.ssh
# The image's unprivileged user (uid 1000). Files it must read (the Pulse token secret, an SSH key) must be
# readable by uid 1000; see deploy/README.md.
USER node
ENTRYPOINT ["pulse-runbook"]
CMD ["worker"]

FROM worker AS worker-go
USER root
COPY --from=go-toolchain /usr/local/go /usr/local/go
# GOTOOLCHAIN=local: never download another toolchain at run time; a Pulse that needs a newer Go fails with a
# clear "go.mod requires go >= ..." instead. The caches live under the user's home (a volume in compose).
ENV PATH=/usr/local/go/bin:$PATH \
    GOTOOLCHAIN=local \
    GOPATH=/home/node/go \
    GOCACHE=/home/node/.cache/go-build
RUN install -d -o node -g node /home/node/go /home/node/.cache /home/node/.cache/go-build
USER node
