#!/usr/bin/env bash
# tessera set-up: installs what is missing (Debian 12 / Ubuntu), builds, then runs a job.
#   ./tessera.sh demo [model.gguf]   build and run the main job (factory demo model when no file is given)
#   ./tessera.sh test                build (release + sanitize) and run the whole test suite, then the
#                                    cross builds: Windows x64 (mingw-w64; its tests run under wine64)
#                                    and Linux aarch64 (its CPU tests run under qemu-user)
#                                    TESSERA_SKIP_SANITIZE=1, TESSERA_SKIP_CROSS=1 (both cross builds),
#                                    TESSERA_SKIP_WINE=1, TESSERA_SKIP_ARM64=1 leave parts out
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
          libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
          libstb-dev libsndfile1-dev libsamplerate0-dev libwebp-dev)
# Only for `test`, the cross builds. GoogleTest for the targets is compiled from Debian's sources
# (googletest, /usr/src/googletest); wine64 runs the Windows test executables; qemu-user runs the
# aarch64 ones (no binfmt_misc needed: CMake's CROSSCOMPILING_EMULATOR names it).
cross_packages=(googletest g++-mingw-w64-x86-64-posix)
wine_packages=(wine64)
arm64_packages=(g++-aarch64-linux-gnu qemu-user)

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

# `phase NAME COMMAND...`: runs the command and records its wall time for print_timings.
timings=()
phase() {
  local name=$1 t0=$SECONDS; shift
  log "== $name"
  "$@"
  local dt=$((SECONDS - t0))
  timings+=("$(printf '%-36s %3d:%02d' "$name" $((dt / 60)) $((dt % 60)))")
  log "== $name: done in ${dt}s"
}
started=$SECONDS
print_timings() {
  [ ${#timings[@]} -gt 0 ] || return 0
  log "phase timings (m:ss):"
  local t; for t in "${timings[@]}"; do printf '[tessera.sh]   %s\n' "$t" >&2; done
  local dt=$((SECONDS - started))
  printf '[tessera.sh]   %-36s %3d:%02d\n' total $((dt / 60)) $((dt % 60)) >&2
}

skip() { [ "${!1:-0}" = 1 ]; }  # skip TESSERA_SKIP_X: true when that variable is 1

# The Windows test executables under wine64, run directly (not through CTest: one wine start per
# executable instead of one per test). No Vulkan under wine, so the GPU tests skip; the rest (GGUF,
# factory, tokenizer, sampling, plan, the CPU reference forward, and the tools started through
# cmd.exe) run on the Windows code paths (CreateFileMapping, UTF-16 paths, CRT). The prefix lives in
# the build folder.
run_wine_tests() {
  local wine=/usr/lib/wine/wine64 server=/usr/lib/wine/wineserver
  [ -x "$wine" ] || wine=$(command -v wine64 || command -v wine)
  [ -x "$server" ] || server=$(command -v wineserver)
  export WINEPREFIX="$root/build-win64/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  mkdir -p "$WINEPREFIX"
  "$server" -p  # one wineserver for all the runs
  "$wine" wineboot --init >/dev/null 2>&1 || true
  local t rc=0
  for t in "$root"/build-win64/bin/test_*.exe; do
    log "wine64 $(basename "$t")"
    "$wine" "$t" --gtest_brief=1 || rc=1
  done
  "$server" -k || true
  return $rc
}

cmd=${1:-demo}; shift || true
if [ "$cmd" = test ] && ! skip TESSERA_SKIP_CROSS; then
  packages+=("${cross_packages[@]}")
  skip TESSERA_SKIP_WINE || packages+=("${wine_packages[@]}")
  skip TESSERA_SKIP_ARM64 || packages+=("${arm64_packages[@]}")
fi
if [ "$cmd" = test ]; then
  trap print_timings EXIT
  phase "packages" ensure_packages
else
  ensure_packages
fi
ensure_runtime_dir
case "$cmd" in
  build)
    build_preset release ;;
  demo)
    build_preset release
    exec "$root/scripts/demo.sh" "$@" ;;
  test)
    phase "release: build" build_preset release
    phase "release: tests" ctest --preset release
    if ! skip TESSERA_SKIP_SANITIZE; then
      phase "sanitize (ASan+UBSan): build" build_preset sanitize
      phase "sanitize (ASan+UBSan): tests" ctest --preset sanitize
    fi
    if ! skip TESSERA_SKIP_CROSS; then
      # Cross builds compile at -O1 (CMakePresets.json): they check that everything compiles,
      # links and passes the CPU tests on the target, and -O1 compiles a third faster than -O3.
      phase "windows x64 (mingw-w64): build" build_preset windows-x64-mingw
      skip TESSERA_SKIP_WINE || phase "windows x64: tests under wine64" run_wine_tests
      if ! skip TESSERA_SKIP_ARM64; then
        phase "linux aarch64: build" build_preset linux-arm64-cross
        # Under qemu-user, with no aarch64 Vulkan driver: the GPU tests skip and the CPU tests run,
        # the tools they start (tessera, tessera-factory) run under qemu too. The test preset
        # leaves out the few slowest under emulation (its filter in CMakePresets.json).
        phase "linux aarch64: tests under qemu-user" ctest --preset linux-arm64-cross
      fi
    fi ;;
  *)
    echo "usage: $0 {demo [model.gguf]|test|build}" >&2; exit 2 ;;
esac
