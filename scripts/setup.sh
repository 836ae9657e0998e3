# Shared by scripts/demo and scripts/check (sourced, not run): install the
# Debian packages fieldlab needs when they are missing, then configure and
# build in a build directory of the source tree.

FL_PACKAGES="gcc make autoconf automake libtool pkg-config \
liblua5.4-dev lua5.4 libopenblas-dev libopenblas0-pthread liblapacke-dev \
libfftw3-dev libcmocka-dev libreadline-dev groff-base man-db tmux python3-numpy \
libjansson-dev libplplot-dev plplot-driver-cairo libflint-dev libmpfr-dev"

fl_install_deps() {
  missing=""
  for p in $FL_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "fieldlab: installing missing Debian packages:$missing"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "fieldlab: need root (or sudo) to install:$missing" >&2
    return 1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# fl_build BUILDDIR [configure options...]
fl_build() {
  builddir=$1; shift
  top=$(pwd)
  if [ -f "$top/config.status" ]; then
    echo "fieldlab: the source tree itself is configured; cleaning it so $builddir can be used (make distclean)"
    make -s distclean >/dev/null 2>&1 || true
  fi
  if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] || [ "$top/Makefile.am" -nt "$top/configure" ]; then
    autoreconf -fi
  fi
  mkdir -p "$builddir"
  cd "$builddir"
  if [ ! -f config.status ] || [ "$(cat .configure-flags 2>/dev/null)" != "$*" ]; then
    "$top/configure" "$@"
    echo "$*" > .configure-flags
  fi
  make -j"$(nproc 2>/dev/null || echo 2)"
  cd "$top"
}
