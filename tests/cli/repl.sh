#!/bin/sh
# The fieldlab prompt: the completion logic (stdlib/fieldlab/complete.lua,
# through the program), then the interactive loop on a real terminal under
# tmux: expression printing, continuation lines, tab completion, Ctrl-C during
# a computation and at the prompt, Ctrl-D, the history file. TAP output.
# Needs FIELDLAB (the built program); the terminal tests need TMUX_BIN (they
# are skipped when it is empty).

: "${FIELDLAB:?FIELDLAB must name the fieldlab program}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fieldlab-repl.XXXXXX") || exit 1
sock=fieldlab-test-$$
cleanup() {
  if [ -n "$TMUX_BIN" ]; then "$TMUX_BIN" -L "$sock" kill-server 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
unset FIELDLAB_INIT FIELDLAB_PATH LUA_INIT LUA_PATH LUA_CPATH

n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# check DESCRIPTION CONDITION (shell code, eval'd)
check() {
  if eval "$2"; then pass "$1"; else fail "$1"; fi
}

# ------------------------------------------------- completion logic (no tty)
# complete.lua through the program: each case prints the candidates joined by
# spaces ("-" for none).
cat > "$tmp/complete.lua" <<'LUA'
local C = require "fieldlab.complete"
local function show(text, env)
  local r = C.complete(text, env)
  assert(type(r) == "table", "complete must return a table")
  print(#r == 0 and "-" or table.concat(r, " "))
end
local case = ...
if case == "global" then show("fie")
elseif case == "dotted" then show("string.fo")
elseif case == "nested" then
  show("t.a.b.x", {t = {a = {b = {xa = 1, xb = 2, y = 3}}}})
elseif case == "colon" then
  s = "x"; show("s:up")
elseif case == "keyword" then show("functio")
elseif case == "private" then show("t.", {t = {_hidden = 1, shown = 2}})
elseif case == "private2" then show("t._", {t = {_hidden = 1, shown = 2}})
elseif case == "colonfn" then show("t:", {t = {f = print, v = 1}})
elseif case == "class" then
  local mt = {__name = "Demo", __methods = {sum = print, size = print, mean = print},
              __properties = {"shape", "sizes"}}
  mt.__index = function() error("getter must not run") end
  local env = {a = setmetatable({}, mt)}
  show("a:s", env); show("a.s", env)
elseif case == "array" then
  a = array.zeros(3); show("a:su")
elseif case == "nomatch" then show("zzz_no_such"); show("string.zzz"); show("nosuchtable.x")
elseif case == "nontable" then show("n.x", {n = 5}); show("f:x", {f = print}); show("b.", {b = true})
elseif case == "odd" then
  show("1.5"); show("a..b", {a = {}}); show("x.end", {x = {}}); show("(")
  print(#C.complete(nil), #C.complete(42))
elseif case == "hostile" then
  local mt = {__index = function() error("boom") end, __metatable = "locked"}
  local env = setmetatable({p = setmetatable({}, mt)}, {__index = function() error("boom") end})
  show("p.", env); show("p:", env); show("q.", env); show("x", env)
  local loop = {}; loop.__index = setmetatable({}, loop)
  show("l.", {l = setmetatable({}, loop)})
end
LUA
complete_case() {
  "$FIELDLAB" "$tmp/complete.lua" "$1" 2>&1
}
check "complete: a global (fie -> field fieldlab)" '[ "$(complete_case global)" = "field fieldlab" ]'
check "complete: a dotted name (string.fo -> string.format)" '[ "$(complete_case dotted)" = string.format ]'
check "complete: nested tables (t.a.b.x)" '[ "$(complete_case nested)" = "t.a.b.xa t.a.b.xb" ]'
check "complete: a method through the string metatable (s:up -> s:upper)" \
  '[ "$(complete_case colon)" = s:upper ]'
check "complete: keywords" '[ "$(complete_case keyword)" = function ]'
check "complete: _names only when typed" \
  '[ "$(complete_case private)" = t.shown ] && [ "$(complete_case private2)" = t._hidden ]'
check "complete: after : only functions" '[ "$(complete_case colonfn)" = t:f ]'
check "complete: class __methods after :, __properties too after ., no getter call" \
  '[ "$(complete_case class)" = "$(printf "a:size a:sum\na.shape a.size a.sizes a.sum")" ]'
check "complete: Array methods (a:su -> a:sum)" '[ "$(complete_case array)" = a:sum ]'
check "complete: no match gives nothing" '[ "$(complete_case nomatch)" = "$(printf -- "-\n-\n-")" ]'
check "complete: fields of non-table values give nothing" \
  '[ "$(complete_case nontable)" = "$(printf -- "-\n-\n-")" ]'
check "complete: odd input gives nothing and never raises" \
  '[ "$(complete_case odd)" = "$(printf -- "-\n-\n-\n-\n0\t0")" ]'
check "complete: hostile metatables never raise" \
  '[ "$(complete_case hostile)" = "$(printf -- "-\n-\n-\n-\n-")" ]'

# ------------------------------------------------------------ the terminal
if [ -z "$TMUX_BIN" ]; then
  for t in "expression" "multi-line" "completion fie" "completion string.fo" \
    "completion s:up" "completion list" "Ctrl-C in a loop" "values survive" \
    "Ctrl-C at the prompt" "Ctrl-C in a continuation" "Ctrl-D exit 0" \
    "history written" "history recalled" "FIELDLAB_NOHISTORY"; do
    skip "tmux not available: $t"
  done
  echo "1..$n"
  exit 0
fi

tm() { "$TMUX_BIN" -L "$sock" -f /dev/null "$@"; }
# start NAME HOME [env assignments...]: the program in a detached session; its
# exit status goes to $tmp/NAME.status.
start() {
  name=$1
  home=$2
  shift 2
  mkdir -p "$home"
  tm new-session -d -s "$name" -x 120 -y 50 \
    "env -u FIELDLAB_NOHISTORY HOME='$home' INPUTRC=/dev/null TERM=screen $* '$FIELDLAB'; echo \$? > '$tmp/$name.status'"
  wait_for "$name" 'type help() for help'
}
# wait_for NAME PATTERN: poll the screen (up to ~20 s: generous, for a loaded CI machine) for a line matching PATTERN.
wait_for() {
  i=0
  while [ $i -lt 200 ]; do
    tm capture-pane -p -J -t "$1" > "$tmp/pane" 2>/dev/null && grep -q -e "$2" "$tmp/pane" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  echo "# timed out waiting for /$2/ in session $1; the screen:"
  sed 's/^/#   /' "$tmp/pane"
  return 1
}
# type_text NAME TEXT [KEY...]: literal text, then named keys (Enter, Tab, C-c).
type_text() {
  name=$1
  tm send-keys -t "$name" -l "$2"
  shift 2
  if [ $# -gt 0 ]; then tm send-keys -t "$name" "$@"; fi
}
# interrupt NAME: Ctrl-C (again every 0.5 s, in case the first one came before
# the loop started) until "interrupted!" shows, up to ~5 s.
interrupt() {
  i=0
  while [ $i -lt 10 ]; do
    tm send-keys -t "$1" C-c
    j=0
    while [ $j -lt 5 ]; do
      tm capture-pane -p -J -t "$1" > "$tmp/pane" 2>/dev/null && grep -q 'interrupted!' "$tmp/pane" && return 0
      sleep 0.1
      j=$((j + 1))
    done
    i=$((i + 1))
  done
  return 1
}
# wait_exit NAME: the session's program has exited (status file written).
wait_exit() {
  i=0
  while [ $i -lt 200 ]; do
    [ -s "$tmp/$1.status" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# Tab completion and history need a line-editing library (see fieldlab -h).
editing=yes
if "$FIELDLAB" -h | grep -q 'line editing: none'; then editing=; fi
# editing_check DESCRIPTION CONDITION: check, or skip without line editing.
editing_check() {
  if [ -n "$editing" ]; then check "$1" "$2"; else skip "built without line editing: $1"; fi
}

s=main
if start $s "$tmp/home1" FIELDLAB_NOHISTORY=1; then
  type_text $s 'print(1 + 2)' Enter
  check "an expression prints its value" 'wait_for $s "^3\$"'
  type_text $s 'function f()' Enter
  wait_for $s '^>> $' >/dev/null
  type_text $s 'return 40 + 4' Enter
  type_text $s 'end' Enter
  type_text $s 'f()' Enter
  check "a multi-line function, with >> prompts" 'wait_for $s "^44\$" && grep -q "^>> return 40 + 4\$" "$tmp/pane"'
  type_text $s 'x1 = fie' Tab
  editing_check "Tab completes fie to field (the common prefix of field, fieldlab)" 'wait_for $s "^> x1 = field\$"'
  type_text $s 'l' Tab
  editing_check "Tab completes fieldl to fieldlab" 'wait_for $s "^> x1 = fieldlab\$"'
  tm send-keys -t $s C-u
  type_text $s 'x2 = string.fo' Tab
  editing_check "Tab completes string.fo to string.format" 'wait_for $s "^> x2 = string.format\$"'
  tm send-keys -t $s C-u
  type_text $s 's = "x"' Enter 'x3 = s:up' Tab
  editing_check "Tab completes s:up to s:upper (string metatable)" 'wait_for $s "^> x3 = s:upper\$"'
  tm send-keys -t $s C-u
  type_text $s 'x4 = string.re' Tab Tab
  editing_check "Tab Tab lists several candidates" 'wait_for $s "string.rep *string.reverse"'
  tm send-keys -t $s C-u
  type_text $s 'keep = 5' Enter 'while true do end' Enter
  wait_for $s '^> while true do end$' >/dev/null
  check "Ctrl-C stops a running loop with interrupted!" 'interrupt $s'
  type_text $s 'print(keep * 11)' Enter
  check "the prompt goes on and values defined before remain" 'wait_for $s "^55\$"'
  type_text $s 'print("half'
  wait_for $s '^> print("half$' >/dev/null
  tm send-keys -t $s C-c
  wait_for $s '^> print("half$' >/dev/null
  type_text $s 'print(1000 + 1)' Enter
  check "Ctrl-C at the prompt discards the line; the prompt still answers" \
    'wait_for $s "^1001\$" && ! grep -q "unfinished string" "$tmp/pane" && grep -q "^> print(1000 + 1)\$" "$tmp/pane"'
  type_text $s 'for i = 1, 3 do' Enter
  wait_for $s '^>> $' >/dev/null
  type_text $s 'print("never")'
  wait_for $s '^>> print("never")$' >/dev/null
  tm send-keys -t $s C-c
  type_text $s 'print(2000 + 2)' Enter
  check "Ctrl-C in a continuation line drops the whole statement" \
    'wait_for $s "^2002\$" && ! grep -q "^never\$" "$tmp/pane" && grep -q "^> print(2000 + 2)\$" "$tmp/pane"'
  tm send-keys -t $s C-d
  check "Ctrl-D at an empty prompt exits with status 0" 'wait_exit $s && [ "$(cat "$tmp/$s.status")" = 0 ]'
else
  for t in "expression" "multi-line" "completion fie" "completion string.fo" \
    "completion s:up" "completion list" "Ctrl-C in a loop" "values survive" \
    "Ctrl-C at the prompt" "Ctrl-C in a continuation" "Ctrl-D exit 0"; do
    fail "the prompt did not start: $t"
  done
fi

# history: written at exit, recalled with Up in the next session
s=hist1
start $s "$tmp/home2" && type_text $s 'x_hist_test = 1' Enter && wait_for $s '^> x_hist_test = 1$' >/dev/null
tm send-keys -t $s C-d
wait_exit $s
editing_check "the history file keeps the session's lines" 'grep -q "x_hist_test" "$tmp/home2/.fieldlab_history" 2>/dev/null'
s=hist2
if start $s "$tmp/home2"; then
  tm send-keys -t $s Up
  editing_check "Up recalls the previous session's line" 'wait_for $s "^> x_hist_test = 1\$"'
  tm send-keys -t $s C-u C-d
  wait_exit $s
else
  fail "Up recalls the previous session's line"
fi
s=nohist
start $s "$tmp/home3" FIELDLAB_NOHISTORY=1 && type_text $s 'y_hist = 2' Enter && wait_for $s '^> y_hist = 2$' >/dev/null
tm send-keys -t $s C-d
wait_exit $s
check "FIELDLAB_NOHISTORY: no history file" '[ -s "$tmp/$s.status" ] && [ ! -e "$tmp/home3/.fieldlab_history" ]'

echo "1..$n"
