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
# tap_scratch: a scratch directory in $scratch, removed on exit.
tap_scratch() {
  scratch=$(mktemp -d) || exit 99
  trap 'rm -rf "$scratch"' EXIT
}
# tap_each_script DIR: plan one test point per DIR/*.lua; the list goes to $files.
tap_each_script() {
  files=$(ls "$1"/*.lua 2>/dev/null | sort)
  tap_plan "$(echo "$files" | grep -c .)"
}
