#!/bin/sh
# The subcommands (fieldlab CMD ..., stdlib/fieldlab/cli/<cmd>.lua): each on
# small inputs with its output checked against closed forms, its exit
# statuses (0 ok, 1 failed run, 2 usage error, with the option named), its
# --help, the dispatch rules, and the man pages (sections, groff lint).
# TAP output. Environment (set by make check): FIELDLAB, top_srcdir,
# top_builddir, GROFF (empty: the lint tests are skipped).
. "$top_srcdir/tests/tap.sh"
set -u
: "${top_builddir:=$top_srcdir}"
GROFF=${GROFF-$(command -v groff 2>/dev/null)}
unset FIELDLAB_INIT FIELDLAB_PATH LUA_INIT LUA_PATH LUA_CPATH FIELDLAB_DEBUG
tap_scratch
cd "$scratch" || exit 99

tap_plan 79

rc=0
# run CMD...: stdout, stderr and status in out, err and $rc.
run() { "$@" >out 2>err; rc=$?; }
# t DESCRIPTION CONDITION: one TAP line; on failure the last run as comments.
t() {
  eval "$2"
  r=$?
  tap_ok $r "$1"
  if [ $r -ne 0 ]; then
    tap_diag "status $rc; stdout:" "$(head -n 20 out)" "stderr:" "$(head -n 20 err)"
  fi
}
has() { grep -q -e "$1" out; }
ehas() { grep -q -F -e "$1" err; }
# usage DESC OPTION-FRAGMENT CMD...: a usage error naming the option.
usage() {
  d=$1; frag=$2; shift 2
  run "$@"
  t "usage error: $d (exit 2, names $frag)" \
    '[ $rc -eq 2 ] && ehas "$frag" && ehas "Try '"'"'fieldlab" && [ ! -s out ]'
}
# jnum KEY FILE: the first number of "KEY":number in a JSON file.
jnum() { grep -o "\"$1\":[-+0-9.eE]*" "$2" | head -n 1 | cut -d: -f2; }
# lt X Y: X < Y as numbers.
lt() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x != "" && y != "" && x + 0 < y + 0) }'; }
FL=$FIELDLAB
B=0,6.283185307179586

# Inputs: Taylor-Green (divergence-free), grad(sin x sin y), the identity
# field (x, y) on a bounded box, a density exp(cos x + cos y), the rotated
# field (sin y, -sin x) (div(p v) != 0 but mostly gauge), test points.
"$FL" -e '
local tp = 2 * math.pi
field.sample(field.taylor_green{}, {n = {32, 32}, box = {0, tp}, periodic = true}).values:save("tg.npy")
local gr = field.fn(function(x) local a, b = x:col(1), x:col(2)
  return array.stack({a:cos() * b:sin(), a:sin() * b:cos()}, 2) end, {dim = 2})
field.sample(gr, {n = {32, 32}, box = {0, tp}, periodic = true}).values:save("gr.npy")
field.sample(field.linear{A = {{1, 0}, {0, 1}}}, {n = {17, 17}, box = {-1, 1}}).values:save("lin.npy")
local p = field.fn(function(x) return (x:col(1):cos() + x:col(2):cos()):exp() end, {dim = 2, codim = 1})
field.sample(p, {n = {32, 32}, box = {0, tp}, periodic = true}).values:save("p.npy")
array.ones({8, 8}):save("p8.npy")
array.randn({100, 2}, {seed = 3}):save("pts.npy")
array.randn({10, 3}, {seed = 3}):save("pts3.npy")
' 2>err
tap_ok $? "the inputs are written"

# ------------------------------------------------------------- dispatch
printf 'print("the script named check", ...)\n' >check
run "$FL" ./check a b
t "a script named like a subcommand runs as ./check" '[ $rc -eq 0 ] && has "the script named check	a	b"'
run "$FL" -- check a
t "... and as fieldlab -- check" '[ $rc -eq 0 ] && has "the script named check	a"'
run "$FL" --threads 2 --quiet cmf e --trajectory 1,1 --depth 10
t "global options before a subcommand are taken" '[ $rc -eq 0 ] && has "^depth  *10"'
run "$FL" -e 'x = 1' nosuchcommand
t "an operand that is no subcommand is still a script (exit 1, cannot open)" '[ $rc -eq 1 ] && ehas "nosuchcommand"'

# ---------------------------------------------------------------- check
run "$FL" check rotation,omega=2 --n 200 --json r.json
t "check rotation: exit 0, the table, not conservative" \
  '[ $rc -eq 0 ] && has "^  0  *jacobian  *NAsym" && has "Not conservative" && grep -q "\"conservative\":false" r.json'
nasym=$(grep -o '"mean":[^,]*,"median":[^,]*,"metric":"NAsym"' r.json | head -n 1 | sed 's/"mean":\([^,]*\),.*/\1/')
t "check rotation: mean NAsym is 1 (J skew), G/area is 2 omega = 4" \
  '[ "$nasym" = 1 ] && grep -q "\"mean\":4,\"median\":4,\"metric\":\"G/area\"" r.json'
run "$FL" check gmm:8gaussians:vp:velocity --n 300 --t 0.1,0.5 --json r2.json
t "check gmm:8gaussians:vp:velocity: exit 0, consistent with a gradient field" \
  '[ $rc -eq 0 ] && grep -q "\"conservative\":true" r2.json && grep -q "\"times\":\[0.1[0-9]*,0.5\]" r2.json && has "consistent with a gradient field"'
run "$FL" check gmm:8gaussians:vp,gauge=0.2 --n 300 --t 0.1 --tests jacobian,gauge,error
t "check with a gauge part: not conservative, the error is all gauge" \
  '[ $rc -eq 0 ] && has "Not conservative" && grep "error  *gauge fraction" out | grep -q " 1 "'
run "$FL" check tg.npy --box $B --periodic --n 200 --json - --seed 1
tgn=$(grep -o '"mean":[^,]*,"median":[^,]*,"metric":"NAsym"' out | head -n 1 | sed 's/"mean":\([^,]*\),.*/\1/')
run "$FL" check gr.npy --box $B --periodic --n 200 --json - --seed 1
grn=$(grep -o '"mean":[^,]*,"median":[^,]*,"metric":"NAsym"' out | head -n 1 | sed 's/"mean":\([^,]*\),.*/\1/')
t "check on .npy grids: NAsym > 0.3 for Taylor-Green, < 1e-4 for a gradient (interpolation)" \
  '[ $rc -eq 0 ] && lt 0.3 "$tgn" && lt "$grn" 1e-4'
run "$FL" check vortex,core=0.5 --points pts.npy --tests curl --json c.json
t "check --points FILE: 100 points, the curl test" \
  '[ $rc -eq 0 ] && grep -q "\"npoints\":100" c.json && has "curl"'
run "$FL" check abc --points pts.npy
t "check --points of the wrong width: exit 1" '[ $rc -eq 1 ] && ehas "n-by-3"'
run "$FL" check model.safetensors --n 10
if "$FL" -e 'os.exit(type(net.load) == "function" and 0 or 1)' 2>/dev/null; then
  t "check FILE.safetensors that does not exist: exit 1, names it" '[ $rc -eq 1 ] && ehas "model.safetensors" && ehas "cannot open"'
else
  t "check FILE.safetensors without net.load: exit 1, says so" '[ $rc -eq 1 ] && ehas "needs module net with net.load (not in this build)"'
fi
# A PyTorch MLP (tests/data/torch_mlp.safetensors, 2:16,16:2:tanh): the
# command's mean NAsym is what check.jacobian gives on the same points.
mlp=$top_srcdir/tests/data/torch_mlp.safetensors
if [ -s "$mlp" ] && "$FL" -e 'os.exit(type(net.import_torch) == "function" and 0 or 1)' 2>/dev/null; then
  run "$FL" check "$mlp" --arch 2:16,16:2:tanh --n 200 --tests jacobian --json m.json
  cli=$(grep -o '"mean":[^,]*,"median":[^,]*,"metric":"NAsym"' m.json | head -n 1 | sed 's/"mean":\([^,]*\),.*/\1/')
  lua=$(MLP=$mlp "$FL" -e 'local f = net.import_torch(os.getenv("MLP"), {arch = "2:16,16:2:tanh"})
    io.write(string.format("%.17g", check.jacobian(f, {points = array.randn({200, 2}, {seed = 0})}).summary.mean))' 2>&1)
  t "check a PyTorch MLP with --arch: mean NAsym as check.jacobian computes it (> 0.01)" \
    '[ $rc -eq 0 ] && lt 0.01 "$cli" && awk -v a="$cli" -v b="$lua" "BEGIN { d = a - b; exit !(d < 1e-12 * b && -d < 1e-12 * b) }"'
else
  tap_skip "check a PyTorch MLP with --arch" "no net.import_torch or no fixture"
fi
usage "unknown option" "--bogus" "$FL" check rotation --bogus
usage "bad --t" "--t" "$FL" check rotation --t 0.1,x
usage "unknown test" "--tests" "$FL" check rotation --tests jacobian,sideways
usage "--points with --data" "--points" "$FL" check rotation --points pts.npy --data moons
usage "unknown field" "nofield" "$FL" check nofield
usage "grid without --box" "--box" "$FL" check tg.npy
usage "bad --n" "--n" "$FL" check rotation --n 0
run "$FL" check --help
t "check --help: the synopsis, exit 0" '[ $rc -eq 0 ] && has "^usage: fieldlab check FIELD" && has "--tests LIST"'

# ------------------------------------------------------------ decompose
run "$FL" decompose tg.npy --box $B --periodic --out hhd --json e1.json
t "decompose Taylor-Green: solenoidal fraction 1 to 1e-14, gradient < 1e-20" \
  '[ $rc -eq 0 ] && has "^solenoidal  *1 " && lt "$(jnum gradient e1.json)" 1e-20 &&
   lt "$(jnum solenoidal e1.json)" 1.00000000000001 && lt 0.99999999999999 "$(jnum solenoidal e1.json)"'
t "decompose writes the parts as .npy" \
  '(for f in gradient solenoidal harmonic phi psi; do [ -s hhd/$f.npy ] || exit 1; done)'
run "$FL" -e 'local a = array.load("hhd/solenoidal.npy"); local b = array.load("tg.npy"); print(a.shape[1], a.shape[3], (a - b):abs():max() < 1e-12)'
t "... and solenoidal.npy is the input field" '[ $rc -eq 0 ] && has "^32	2	true"'
run "$FL" decompose gr.npy --box $B --periodic --out hhd2 --json e2.json
t "decompose grad(sin x sin y): gradient fraction 1 to 1e-14, solenoidal < 1e-20" \
  '[ $rc -eq 0 ] && lt "$(jnum gradient e2.json)" 1.00000000000001 && lt 0.99999999999999 "$(jnum gradient e2.json)" &&
   lt "$(jnum solenoidal e2.json)" 1e-20'
run "$FL" decompose lin.npy --box -1,1,-1,1 --boundary normal --out hhd3 --json e3.json
t "decompose (x, y) on a bounded box, normal: all gradient, int |v|^2 = 2.6875 (trapezoid)" \
  '[ $rc -eq 0 ] && [ "$(jnum gradient e3.json)" = 1 ] && lt "$(jnum solenoidal e3.json)" 1e-20 && [ "$(jnum total e3.json)" = 2.6875 ]'
run "$FL" decompose gr.npy --box $B --periodic --density p.npy --out w1 --json w1.json
t "decompose --density of a gradient field: gauge fraction < 1e-15" \
  '[ $rc -eq 0 ] && lt "$(jnum gauge_fraction w1.json)" 1e-15 && [ -s w1/gauge.npy ] && [ -s w1/density.npy ]'
run "$FL" decompose gr.npy --box $B --periodic --density p8.npy --out w2
t "decompose --density on another grid: exit 1, names the shapes" '[ $rc -eq 1 ] && ehas "8,8"'
run "$FL" decompose missing.npy --box $B --periodic --out x
t "decompose of a missing file: exit 1" '[ $rc -eq 1 ] && ehas "missing.npy"'
usage "missing --box" "--box" "$FL" decompose tg.npy --periodic --out x
usage "3 numbers in --box" "--box" "$FL" decompose tg.npy --box 1,2,3 --periodic --out x
usage "unknown boundary" "--boundary" "$FL" decompose tg.npy --box $B --boundary sideways --out x
usage "bounded grid without a boundary" "--boundary" "$FL" decompose tg.npy --box $B --out x
usage "--density on a bounded grid" "--density" "$FL" decompose tg.npy --box $B --boundary natural --density p.npy --out x
usage "missing --out" "--out" "$FL" decompose tg.npy --box $B --periodic
run "$FL" decompose -h
t "decompose -h: the synopsis, exit 0" '[ $rc -eq 0 ] && has "^usage: fieldlab decompose FIELD.npy"'

# ------------------------------------------------------------------ cmf
run "$FL" cmf e --trajectory 1,1 --depth 30 --json e.json
# 1/(1 - e) to 50 digits
t "cmf e: the limit 1/(1-e) to 50 digits" \
  '[ $rc -eq 0 ] && grep -q "\"value\":\"-0.58197670686932642438500200510901155854686930107540\"" e.json'
run "$FL" cmf zeta3 --trajectory 1,1 --depth 200 --delta
prec=$(sed -n 's/^precision (digits) *//p' out)
delta=$(sed -n 's/^delta (blind, vs depth 2N) *//p' out)
# Apery: 10^-3.0 per step ((1+sqrt 2)^4 ~ 33.97^2), delta -> 0.0805 from above
t "cmf zeta3: (1 - zeta(3))/zeta(3), > 600 digits at depth 200, delta in (0.0805, 0.09)" \
  '[ $rc -eq 0 ] && has "-0.168092627419292531316873721178" && lt 600 "$prec" && lt 0.0805 "$delta" && lt "$delta" 0.09'
cat >mine.lua <<'EOF'
return cmf.new{axes = {"x", "y"}, M = {
  x = {{1, "-y-1"}, {-1, "x+y+2"}},
  y = {{0, "-y-1"}, {-1, "x+y+1"}}}}
EOF
run "$FL" cmf mine.lua --trajectory 1,1 --depth 30 --start 0,0
t "cmf FILE.lua: the same field as cmf.known.e, the same limit" '[ $rc -eq 0 ] && has "-0.5819767068693264243850020051090115585468693010754"'
echo 'return 42' >notcmf.lua
run "$FL" cmf notcmf.lua --trajectory 1,1 --depth 3
t "cmf FILE.lua that returns no field: exit 1" '[ $rc -eq 1 ] && ehas "must return a CMF"'
run "$FL" cmf zeta3 --trajectory 1,1 --depth 100 --identify
# PSLQ on [1, L, zeta(3), L zeta(3)] finds mpmath's relation [1, 0, -1, -1]
t "cmf zeta3 --identify: L = (1 - zeta(3))/zeta(3), relation [1, 0, -1, -1]" \
  '[ $rc -eq 0 ] && has "^identified  *L = (1 - zeta(3))/zeta(3)$" && has "^relation  *\[1, 0, -1, -1\] on \[1, L, zeta(3), L\*zeta(3)\]"'
run "$FL" cmf e --trajectory 1,1 --depth 30 --identify --json eid.json
t "cmf e --identify: 1/(1 - e) in the table and the JSON" \
  '[ $rc -eq 0 ] && has "L = 1/(1 - e)" && grep -q "\"closed_form\":\"1/(1 - e)\"" eid.json && grep -q "\"relation\":\[1,-1,0,1\]" eid.json'
usage "unknown constant in --basis" "--basis" "$FL" cmf e --trajectory 1,1 --depth 30 --identify --basis pi,foo
usage "--identify on a field of one's own needs --basis" "--basis" "$FL" cmf mine.lua --trajectory 1,1 --depth 30 --start 0,0 --identify
usage "unknown field" "nofield" "$FL" cmf nofield --trajectory 1,1 --depth 3
usage "trajectory of the wrong length" "--trajectory" "$FL" cmf e --trajectory 1,1,1 --depth 3
usage "non-integer trajectory" "--trajectory" "$FL" cmf e --trajectory 1,0.5 --depth 3
usage "depth 1" "--depth" "$FL" cmf e --trajectory 1,1 --depth 1
usage "bad start" "--start" "$FL" cmf e --trajectory 1,1 --depth 5 --start 1,x
run "$FL" cmf --help
t "cmf --help: the synopsis, exit 0" '[ $rc -eq 0 ] && has "^usage: fieldlab cmf"'

# --------------------------------------------------------------- sample
run "$FL" sample gmm:8gaussians:vp:velocity --n 2000 --steps 20 --out s.npy --against 8gaussians --json s8.json
run "$FL" sample gmm:8gaussians:vp:velocity --n 2000 --steps 20 --out s.npy --against moons --json sm.json
m8=$(jnum mmd2 s8.json); mm=$(jnum mmd2 sm.json); se=$(jnum mmd2_se s8.json)
t "sample the exact velocity: MMD^2 to 8gaussians within 4 se of 0, 20x below moons" \
  '[ $rc -eq 0 ] && lt "$m8" "$(awk -v s="$se" "BEGIN{print 4*s}")" && lt "$(awk -v s="$se" "BEGIN{print -4*s}")" "$m8" && lt "$(awk -v m="$m8" -v s="$se" "BEGIN{print 20*(m<0?s:m+s)}")" "$mm"'
run "$FL" -e 'local x = array.load("s.npy"); print(x.shape[1], x.shape[2])'
t "sample writes n-by-2 samples" '[ $rc -eq 0 ] && has "^2000	2$"'
run "$FL" sample gmm:8gaussians:vp --solver dpm++2m --steps 10 --n 500 --out s2.npy
t "sample the exact score with dpm++2m: 10 steps, nfe 10" '[ $rc -eq 0 ] && has "^nfe  *10 " && has "^solver  *dpm++2m"'
run "$FL" sample model.safetensors --out x.npy
if "$FL" -e 'os.exit(type(net.load) == "function" and 0 or 1)' 2>/dev/null; then
  t "sample FILE.safetensors that does not exist: exit 1, names it" '[ $rc -eq 1 ] && ehas "model.safetensors" && ehas "cannot open"'
else
  t "sample FILE.safetensors without net.load: exit 1, says so" '[ $rc -eq 1 ] && ehas "needs module net with net.load (not in this build)"'
fi
usage "unknown solver" "--solver" "$FL" sample gmm:8gaussians:vp --solver rk9 --out x.npy
usage "bad --steps" "--steps" "$FL" sample gmm:8gaussians:vp --steps ten --out x.npy
usage "missing --out" "--out" "$FL" sample gmm:8gaussians:vp
usage "contradictory schedule" "--schedule" "$FL" sample gmm:8gaussians:vp --schedule ve --out x.npy
run "$FL" sample --help
t "sample --help: the synopsis, exit 0" '[ $rc -eq 0 ] && has "^usage: fieldlab sample MODEL"'

# ---------------------------------------------------------------- train
usage "unknown loss" "--loss" "$FL" train --data 8gaussians --loss mse --out m.safetensors
usage "bad --arch" "--arch" "$FL" train --data 8gaussians --arch 2:64,,64:2:tanh --out m.safetensors
usage "bad --steps" "--steps" "$FL" train --data 8gaussians --steps -5 --out m.safetensors
usage "missing --data" "--data" "$FL" train --out m.safetensors
run "$FL" train --data 8gaussians --steps 10 --batch 64 --arch 2:16,16:2:tanh --out m.safetensors
if "$FL" -e 'os.exit(type(net.train) == "function" and 0 or 1)' 2>/dev/null; then
  t "train: a small DSM run writes a model that net.load reads and sample uses" \
    '[ $rc -eq 0 ] && has "wrote: m.safetensors" && "$FL" -e "assert(net.load(\"m.safetensors\").param == \"eps\")" &&
     "$FL" sample m.safetensors --schedule vp --solver euler --steps 5 --n 100 --out s.npy >/dev/null 2>&1'
else
  t "train without net.train: exit 1, the message of the issue" \
    '[ $rc -eq 1 ] && [ "$(cat err)" = "fieldlab train: needs module net with training (not in this build)" ]'
fi
run "$FL" train --help
t "train --help: the synopsis, exit 0" '[ $rc -eq 0 ] && has "^usage: fieldlab train"'

# ----------------------------------------------------------------- help
run "$FL" help
t "help: lists every subcommand" '[ $rc -eq 0 ] && (for c in check decompose train sample cmf help; do has "^$c  " || exit 1; done)'
"$FL" check --help >syn1 2>&1
run "$FL" help --synopsis check
t "help --synopsis check is check --help" '[ $rc -eq 0 ] && cmp -s out syn1'
usage "unknown command" "frob" "$FL" help frob
usage "unknown option" "--bogus" "$FL" help --bogus check
usage "two operands" "decompose" "$FL" help check decompose
if command -v man >/dev/null 2>&1; then
  # the pages as an installation would hold them (a VPATH build has them only in the source tree)
  mkdir -p mandir/man1 && cp "$top_srcdir"/man/fieldlab-*.1 mandir/man1/
  MANPATH="$PWD/mandir" MANPAGER=cat PAGER=cat MANWIDTH=80 run "$FL" help check
  t "help check shows the manual page" '[ $rc -eq 0 ] && has "NAME" && has "fieldlab-check - run the conservativity battery"'
else
  tap_skip "help check shows the manual page" "no man(1)"
fi
run "$FL" help -h
t "help -h: the synopsis, exit 0" '[ $rc -eq 0 ] && has "^usage: fieldlab help"'

# ------------------------------------------------------------ man pages
for c in check decompose train sample cmf help; do
  page=$top_srcdir/man/fieldlab-$c.1
  missing=
  for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    grep -q "^\.SH \"*$s\"*\$" "$page" || missing="$missing $s"
  done
  if [ -z "$GROFF" ]; then
    [ -z "$missing" ]
    tap_ok $? "fieldlab-$c.1 has every section (lint skipped: no groff)"
  else
    "$GROFF" -man -ww -z "$page" >/dev/null 2>lint
    [ -z "$missing" ] && [ ! -s lint ]
    tap_ok $? "fieldlab-$c.1 has every section and lints clean (groff -man -ww -z)"
  fi
  [ -n "$missing" ] && tap_diag "missing sections:$missing"
  [ -s lint ] && tap_diag "$(head -n 10 lint)"
done
exit 0
