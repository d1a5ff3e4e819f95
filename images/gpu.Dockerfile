# The GPU image of kzr (documented; it cannot be built on the project's machines: no CUDA base
# image can be pulled and libtensorflow cannot be downloaded there). Same layout and entrypoint as
# images/cpu.Dockerfile, plus:
# - TensorFlow.js on the GPU: @tensorflow/tfjs-node-gpu 4.22.0 with libtensorflow 2.9.1 (built for
#   CUDA 11.2 / cuDNN 8.1; runs on the CUDA 11.8 libraries installed below). The library is
#   provided beforehand as the build context `libtensorflow` (the extracted
#   libtensorflow-gpu-linux-x86_64-2.9.1 tarball: lib/libtensorflow*.so*), so the package's
#   install script finds it in deps/ and downloads nothing.
# - ONNX Runtime on CUDA: onnxruntime-node 1.30.0 ships the CPU provider only; its CUDA 12
#   providers (libonnxruntime_providers_{cuda,shared,tensorrt}.so) are provided as the build
#   context `onnxruntime-cuda` and copied next to the binding.
# The phase Jobs of training use it (jobs.image in the chart's ci/gpu-values.yaml); the trainer
# adds nvidia.com/gpu to training phases, and KZR_TF_BACKEND=gpu pins the backend.
#
# Build (BuildKit, from the repository root):
#   docker buildx build -f images/gpu.Dockerfile \
#     --build-context libtensorflow=/path/to/libtensorflow-2.9.1-gpu \
#     --build-context onnxruntime-cuda=/path/to/onnxruntime-1.30.0-cuda12/lib \
#     -t kzr:0.1.0-gpu .

ARG NODE_IMAGE=node:20-bookworm-slim
ARG BASE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY . .
# libtensorflow where tfjs-node-gpu's install script looks for it, before npm ci runs the script.
COPY --from=libtensorflow lib/ /opt/libtensorflow/lib/
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && mkdir -p node_modules/@tensorflow/tfjs-node-gpu/deps \
 && cp -a /opt/libtensorflow/lib node_modules/@tensorflow/tfjs-node-gpu/deps/lib \
 && (cd node_modules/@tensorflow/tfjs-node-gpu && node scripts/install.js gpu) \
 && npm rebuild esbuild protobufjs @bufbuild/buf \
 && npm run --silent gen \
 && npm run --silent build
COPY --from=onnxruntime-cuda libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so libonnxruntime_providers_tensorrt.so /src/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf test bench packages/*/test services/*/test packages/*/dist/test services/*/dist/test \
 && find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete

FROM ${NODE_IMAGE} AS node

FROM ${BASE}
# CUDA 11.8 and cuDNN 8 beside the base's CUDA 12 (different sonames): libtensorflow 2.9.1 needs
# CUDA 11, ONNX Runtime 1.30's providers CUDA 12. The base image's NVIDIA apt repository has both.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cuda-cudart-11-8 libcublas-11-8 libcufft-11-8 libcurand-11-8 libcusolver-11-8 libcusparse-11-8 \
      libcudnn8 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV LD_LIBRARY_PATH=/usr/local/cuda-11.8/lib64:${LD_LIBRARY_PATH} \
    NODE_ENV=production \
    KZR_TF_BACKEND=gpu
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin kzr
WORKDIR /app
COPY --from=build /src /app
RUN touch packages/cli/dist/.kzr-build
EXPOSE 50051 50052 50053 50054 8081
USER 10001:10001
ENTRYPOINT ["node"]
CMD ["--conditions=production", "packages/cli/bin/kzr.js", "--help"]
