#!/usr/bin/env bash
# Packs what a GPU machine without Debian's packages needs to build and run attnviz (see docs/cuda.md,
# "Running the GPU check"): run it HERE, on the Debian machine, before the device call.
#
#   .deps/gpu/usr/  the files of Debian's libeigen3-dev, libcli11-dev, nlohmann-json3-dev, libfmt-dev and
#                   catch2 (headers, CMake package files, libfmt.so), laid out as under /usr, so that
#                   CMAKE_PREFIX_PATH=.deps/gpu/usr finds them (their CMake files are relocatable);
#   .deps/gpu/lib/  libfmt.so.9 and this machine's libcudart.so.13, for binaries built here
#                   (scripts/gpu-check.sh --prebuilt) to start there;
#   .deps/gpu/source-dir  this checkout's path, which such binaries hold.
#
# .deps/ is ignored by git; name .deps/gpu in the device call's `carry`.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.deps/gpu
rm -rf "$dest"
mkdir -p "$dest/usr" "$dest/lib"
for package in libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev catch2; do
  dpkg -L "$package" > /dev/null || { echo "gpu-pack: $package is not installed (run scripts/install-deps)" >&2; exit 1; }
  dpkg -L "$package" | grep '^/usr/' | grep -v '^/usr/share/doc' | while read -r path; do
    if [ -f "$path" ] || [ -L "$path" ]; then
      mkdir -p "$dest$(dirname "$path")"
      cp -a "$path" "$dest$path"
    fi
  done
done
# libfmt-dev ships only the .so link; the library itself is in libfmt9.
for lib in /usr/lib/x86_64-linux-gnu/libfmt.so.9*; do cp -a "$lib" "$dest/usr/lib/x86_64-linux-gnu/"; cp -a "$lib" "$dest/lib/"; done
cudart="$(ldconfig -p | awk '/libcudart.so.13 /{print $NF}' | head -1 || true)"
[ -n "$cudart" ] || cudart="$(ls /usr/local/cuda/lib*/libcudart.so.13 2> /dev/null | head -1 || true)"
if [ -n "$cudart" ]; then cp -L "$cudart" "$dest/lib/libcudart.so.13"; fi
# Where a build made here was made: its test binary holds that path (scripts/gpu-check.sh --prebuilt).
echo "$PWD" > "$dest/source-dir"
du -sh "$dest"
