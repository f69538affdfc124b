#!/usr/bin/env bash
# Build what bench/gpu/run.sh needs on the GPU machine, which has no Node.js: one bundle
# (this machine's node binary, stripped; Dawn's Node binding for linux-x64 only; the built
# dist/src, dist/bench and dist/vendor without maps and declarations; the Vulkan loader
# libvulkan1 as a .deb), xz-compressed and split into parts small enough that each, with the
# repository's tracked files, fits the device tool's 64 MiB per call. Writes .gpu/part-K-of-N-SHA
# (the folder is git-ignored). Run from the repository root after `npm run build`:
#   bash bench/gpu/pack.sh            # then see bench/gpu/README.md for the calls
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/bench/gpu/bert-base.js ] || { echo "pack.sh: dist/ is not built (npm run build)" >&2; exit 1; }
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "pack.sh: node_modules/webgpu is missing (npm ci installs the devDependency)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/node_modules/webgpu/dist/linux-x64" "$stage/deb"
cp "$(command -v node)" "$stage/bin/node"
strip "$stage/bin/node" 2>/dev/null || true
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$stage/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$stage/node_modules/webgpu/dist/linux-x64/"
mkdir -p "$stage/dist"
tar -C dist --exclude='*.map' --exclude='*.d.ts' -cf - src bench vendor | tar -C "$stage/dist" -xf -
(cd "$stage/deb" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "pack.sh: could not download libvulkan1 (apt); run.sh then relies on the machine's loader" >&2
rm -rf .gpu && mkdir .gpu
tar -C "$stage" -cf - . | xz -T2 -9 >.gpu/bundle.tar.xz
sha=$(sha256sum .gpu/bundle.tar.xz | cut -c1-12)
# Room per call: 64 MiB less the tracked files and 2 MiB of margin (untracked files travel too).
tracked=$(git ls-files -z | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
room=$(( 62 * 1024 * 1024 - tracked ))
[ "$room" -gt $((1024 * 1024)) ] || { echo "pack.sh: the tracked files ($tracked bytes) leave no room under 64 MiB" >&2; exit 1; }
size=$(stat -c %s .gpu/bundle.tar.xz)
n=$(( (size + room - 1) / room ))
split -a 2 -d -n "$n" .gpu/bundle.tar.xz .gpu/chunk-
rm .gpu/bundle.tar.xz
k=0
for f in .gpu/chunk-*; do k=$((k + 1)); mv "$f" ".gpu/part-$k-of-$n-$sha"; done
echo "bundle $sha: $size bytes in $n part(s) of at most $room bytes (tracked files: $tracked bytes):"
ls -l .gpu/
