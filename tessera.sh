#!/usr/bin/env bash
# tessera set-up: installs what is missing (Debian 12 / Ubuntu), builds, then runs a job.
#   ./tessera.sh demo [model.gguf]   build and run the main job (factory demo model when no file is given)
#   ./tessera.sh test                build (release + sanitize) and run the whole test suite, then
#                                    cross-build for Windows x64 (TESSERA_SKIP_CROSS=1 skips it)
#   ./tessera.sh build               only install and build
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
root=$(pwd)

log() { printf '[tessera.sh] %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else log "need root to install packages (no sudo found): $*"; exit 1; fi
}

# Debian packages the build and the tests need. Lavapipe (mesa-vulkan-drivers) comes from
# bookworm-backports on Debian 12: Mesa 25 has Vulkan 1.4, integer dot product and a heap as
# large as RAM, where bookworm's Mesa 22.3 caps the heap at 2 GiB.
packages=(build-essential cmake ninja-build pkg-config
          libvulkan-dev libvulkan-volk-dev glslc glslang-tools spirv-tools spirv-headers
          vulkan-validationlayers vulkan-tools mesa-vulkan-drivers
          libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev)
# Only for `test`: the Windows x64 cross build (the library, CLI and tools must link).
test_packages=(g++-mingw-w64-x86-64-posix)

codename() { . /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}"; }

ensure_backports() {
  [ "$(codename)" = bookworm ] || return 0
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports to apt sources (for Mesa 25 lavapipe)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | as_root tee /etc/apt/sources.list.d/tessera-backports.sources >/dev/null
    apt_updated=0
  fi
}

mesa_is_new() {
  local v; v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 24
}

apt_updated=0
apt_update() { [ "$apt_updated" = 1 ] || { as_root apt-get update -qq; apt_updated=1; }; }

ensure_packages() {
  command -v dpkg-query >/dev/null || { log "not a Debian/Ubuntu system: install the packages in tessera.sh by hand"; return 0; }
  local want_mesa=0
  if [ "$(codename)" = bookworm ] && ! mesa_is_new; then want_mesa=1; fi
  local missing=()
  for p in "${packages[@]}"; do
    # On bookworm, Mesa comes from backports below, not from bookworm's own 22.3.
    [ "$p" = mesa-vulkan-drivers ] && [ "$(codename)" = bookworm ] && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ensure_backports
  if [ ${#missing[@]} -gt 0 ] || [ "$want_mesa" = 1 ]; then
    apt_update
    if [ ${#missing[@]} -gt 0 ]; then
      log "installing: ${missing[*]}"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if [ "$want_mesa" = 1 ]; then
      log "installing mesa-vulkan-drivers from bookworm-backports"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports mesa-vulkan-drivers >/dev/null
    fi
  fi
}

# Lavapipe needs a writable XDG_RUNTIME_DIR.
ensure_runtime_dir() {
  if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -w "${XDG_RUNTIME_DIR}" ]; then
    export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/tessera-xdg-$(id -u)"
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  fi
}

jobs_n() { nproc 2>/dev/null || echo 2; }

build_preset() {  # $1 = configure/build preset name
  local preset=$1
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(jobs_n)"
}

cmd=${1:-demo}; shift || true
[ "$cmd" = test ] && [ "${TESSERA_SKIP_CROSS:-0}" != 1 ] && packages+=("${test_packages[@]}")
ensure_packages
ensure_runtime_dir
case "$cmd" in
  build)
    build_preset release ;;
  demo)
    build_preset release
    exec "$root/scripts/demo.sh" "$@" ;;
  test)
    build_preset release
    log "running the test suite (release)"
    ctest --preset release
    if [ "${TESSERA_SKIP_SANITIZE:-0}" != 1 ]; then
      build_preset sanitize
      log "running the test suite (ASan + UBSan)"
      ctest --preset sanitize
    fi
    if [ "${TESSERA_SKIP_CROSS:-0}" != 1 ]; then
      log "cross-building for Windows x64 (mingw-w64): library, tessera.exe, tools"
      build_preset windows-x64-mingw
    fi ;;
  *)
    echo "usage: $0 {demo [model.gguf]|test|build}" >&2; exit 2 ;;
esac
