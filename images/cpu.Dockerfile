# The CPU image of kzr: the four services (preprocess, inference, postprocess, trainer) and the
# `kzr` command the trainer's phase Jobs run, as compiled JavaScript with production dependencies
# only. TensorFlow.js runs on its wasm/cpu backend and ONNX Runtime on its CPU provider.
#
# Build from the repository root (the context; .dockerignore keeps node_modules and builds out):
#   docker build -f images/cpu.Dockerfile -t kzr:cpu .
# Without a Docker engine and registry, images/build-cpu.sh builds a Debian base with mmdebstrap
# and passes it as BASE (see images/README.md).
#
# Run: `node` is the entrypoint; the arguments pick the process, for example
#   --conditions=production --import ./services/inference/dist/src/instrumentation.js services/inference/dist/src/main.js
#   --conditions=production packages/cli/bin/kzr.js phase run ...
# node is PID 1: every service drains on SIGTERM itself (health NOT_SERVING, calls finished, exit 0).

ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
# A CA bundle for npm behind a TLS-intercepting proxy (a path inside the build; build-cpu.sh
# mounts this machine's bundle there). Build stage only.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
# onnxruntime-node's postinstall would download CUDA providers; the CPU provider ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run --silent gen \
 && npm run --silent build
# Production dependencies only; tests, benches and test builds stay behind, and so do ONNX
# Runtime's binaries for other systems (about 250 MB of macOS, Windows and Linux arm64 builds).
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf test bench packages/*/test services/*/test packages/*/dist/test services/*/dist/test \
 && find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32 \
      node_modules/onnxruntime-node/bin/napi-v6/linux/arm64

FROM ${BASE}
ENV NODE_ENV=production
# A fixed non-root uid the chart's securityContext names (runAsUser 10001).
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin kzr
WORKDIR /app
COPY --from=build /src /app
# The build is current by construction: kzr.js compares its stamp with the sources' mtimes, which
# a copy between stages need not keep.
RUN touch packages/cli/dist/.kzr-build
# gRPC: preprocess 50051, inference 50052, postprocess 50053, trainer 50054; health-only 8081.
EXPOSE 50051 50052 50053 50054 8081
USER 10001:10001
ENTRYPOINT ["node"]
CMD ["--conditions=production", "packages/cli/bin/kzr.js", "--help"]
