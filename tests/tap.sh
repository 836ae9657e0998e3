# TAP helpers for the shell test scripts (sourced).
# ok COND-EXIT-STATUS "description" ; skip "description" "reason"; diag "text"
tap_n=0
tap_plan() { echo "1..$1"; }
tap_ok() {
  tap_n=$((tap_n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; fi
}
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
