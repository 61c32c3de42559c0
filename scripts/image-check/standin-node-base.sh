#!/usr/bin/env bash
# For a machine that can reach Debian's mirror but no container registry: makes a local STAND-IN for
# node:20-slim (Debian bookworm minbase from debootstrap, plus this machine's own Node 20 and npm laid
# out as the official image lays them out: /usr/local/bin/node, /usr/local/lib/node_modules/npm, user
# node with uid and gid 1000) and tags it docker.io/library/node:20-slim, so the Dockerfile's FROM
# resolves with `build --pull=never`. It is not the official image: use it to check the Dockerfile,
# never to ship. Run as root with podman (or docker) and debootstrap installed.
# Usage: scripts/image-check/standin-node-base.sh [debian mirror] (default http://deb.debian.org/debian)
set -euo pipefail
MIRROR=${1:-http://deb.debian.org/debian}
ENGINE=${IMAGE_CHECK_ENGINE:-podman}
NODE=$(readlink -f "$(command -v node)")
PREFIX=$(dirname "$(dirname "$NODE")")
[ "$("$NODE" -p 'process.versions.node.split(".")[0]')" = 20 ] || {
  echo "standin: this machine's node is $("$NODE" -v), not Node 20" >&2
  exit 1
}
[ -d "$PREFIX/lib/node_modules/npm" ] || {
  echo "standin: no npm beside $NODE" >&2
  exit 1
}

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
install -m 755 "$NODE" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$PREFIX/lib/node_modules/npm" "$ROOT/usr/local/lib/node_modules/"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
chroot "$ROOT" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
env -u NODE_EXTRA_CA_CERTS chroot "$ROOT" node -v >/dev/null

tar --numeric-owner -C "$ROOT" -c . | "$ENGINE" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$("$NODE" -p process.versions.node)" \
  --change 'CMD ["node"]' - localhost/node-standin:20-slim
"$ENGINE" tag localhost/node-standin:20-slim docker.io/library/node:20-slim
echo "standin: docker.io/library/node:20-slim is now a local stand-in (node $("$NODE" -v)), not the official image"
