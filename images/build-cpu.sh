#!/usr/bin/env bash
# Builds the CPU image on a machine without a Docker engine or a reachable registry, writes it as
# an OCI archive, and smoke-runs it (images/README.md has the why of each step):
#  1. a Debian bookworm minbase rootfs by mmdebstrap (cached), plus this machine's node 20 and
#     npm, as the base image (images/base-bookworm.Dockerfile);
#  2. images/cpu.Dockerfile with that base as BASE, by `buildah bud --isolation chroot` (RUN
#     steps fail under buildah's default isolation here); npm's cache and this machine's CA
#     bundle (the registry may sit behind a TLS-intercepting proxy) are mounted from the host;
#  3. `buildah push` to an OCI archive;
#  4. the postprocess service in the image under podman + runc, read-only root, /tmp a tmpfs,
#     uid 10001: it must answer SERVING on its health-only port, then drain on SIGTERM and exit 0.
# Prints one JSON line: image, archive, sizes in bytes, build seconds, ms to SERVING, exit code.
# Usage: images/build-cpu.sh   (KZR_IMAGE_CACHE: where the rootfs and the archive go)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${KZR_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kzr/images}
base_tag=localhost/kzr-base:bookworm-node20
image=localhost/kzr:cpu
archive=$cache/kzr-cpu.oci.tar
mkdir -p "$cache"
for tool in mmdebstrap buildah podman runc skopeo; do
  command -v "$tool" >/dev/null || { echo "build-cpu: $tool is missing (Debian package $tool)" >&2; exit 1; }
done

# 1. The base.
rootfs=$cache/bookworm-minbase.tar
if [[ ! -f $rootfs ]]; then
  echo "build-cpu: mmdebstrap bookworm minbase (a few minutes, once)" >&2
  mmdebstrap --variant=minbase --format=tar --include=ca-certificates,libstdc++6 bookworm "$cache/partial.tar" >&2
  mv "$cache/partial.tar" "$rootfs"
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
ln "$rootfs" "$context/rootfs.tar" 2>/dev/null || cp "$rootfs" "$context/rootfs.tar"
cp "$(readlink -f "$(command -v node)")" "$context/node"
cp -r "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$context/npm"
started=$(date +%s)
buildah bud --quiet --isolation chroot -f images/base-bookworm.Dockerfile -t "$base_tag" "$context" >&2

# 2. The image.
ca_bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
buildah bud --quiet --isolation chroot --layers=false --build-arg "BASE=$base_tag" \
  --volume "$HOME/.npm:/root/.npm" \
  --volume "$ca_bundle:/etc/kzr-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/etc/kzr-build-ca.crt \
  -f images/cpu.Dockerfile -t "$image" . >&2
build_s=$(($(date +%s) - started))

# 3. The archive.
rm -f "$archive"
buildah push --quiet "$image" "oci-archive:$archive:kzr:cpu" >&2
image_bytes=$(podman image inspect --format '{{.Size}}' "$image")
base_bytes=$(podman image inspect --format '{{.Size}}' "$base_tag")
archive_bytes=$(stat -c %s "$archive")
[[ $(skopeo inspect --config "oci-archive:$archive" | node -p 'JSON.parse(require("fs").readFileSync(0)).config.User') == 10001:10001 ]]

# 4. The smoke run. Plain `podman run` cannot set RLIMIT_NOFILE here; runc with cgroupfs can.
health_port=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
name=kzr-smoke-$$
podman=(podman --runtime /usr/sbin/runc --cgroup-manager cgroupfs)
t0=$(date +%s%N)
"${podman[@]}" run -d --name "$name" --network=host --read-only --tmpfs /tmp --user 10001 \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  -e KZR_GRPC_HOST=127.0.0.1 -e KZR_GRPC_PORT=0 -e "KZR_HEALTH_PORT=$health_port" -e KZR_DATA_DIR=/tmp/kzr \
  "$image" --conditions=production --import ./services/postprocess/dist/src/instrumentation.js \
  services/postprocess/dist/src/main.js >/dev/null
cleanup_container() { "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true; }
trap 'cleanup_container; rm -rf "$context"' EXIT
serving_ms=
for _ in $(seq 1 600); do
  if node images/health-check.mjs "127.0.0.1:$health_port" >/dev/null 2>&1; then
    serving_ms=$((($(date +%s%N) - t0) / 1000000))
    break
  fi
  sleep 0.1
done
if [[ -z $serving_ms ]]; then
  "${podman[@]}" logs "$name" >&2 || true
  echo "build-cpu: the service in the image never answered SERVING" >&2
  exit 1
fi
"${podman[@]}" stop --time 30 "$name" >/dev/null
exit_code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$name")
"${podman[@]}" logs "$name" 2>&1 | tail -n 3 >&2
printf '{"image":"%s","archive":"%s","imageBytes":%s,"baseBytes":%s,"archiveBytes":%s,"buildSeconds":%s,"servingMs":%s,"exitCode":%s}\n' \
  "$image" "$archive" "$image_bytes" "$base_bytes" "$archive_bytes" "$build_s" "$serving_ms" "$exit_code"
[[ $exit_code == 0 ]]
