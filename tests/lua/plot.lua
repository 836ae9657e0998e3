-- Module plot: every plot type writes a valid file in each format, a quiver
-- draws where its field is non-zero (pixel check), stdout stays empty, and
-- options are checked.
local T = dofile(os.getenv("top_srcdir") .. "/tests/testlib.lua")

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
local function path(name) return dir .. "/" .. name end
local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local py = "/usr/bin/python3"

-- SVG well-formedness: xmllint when present, else python's xml module.
local function svg_ok(p)
  if os.execute("command -v xmllint >/dev/null 2>&1") then
    return os.execute("xmllint --noout '" .. p .. "' 2>/dev/null")
  end
  return os.execute(py .. " -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' '" .. p .. "' 2>/dev/null")
end

local function check_file(p)
  local s = slurp(p)
  if p:match("%.png$") then
    T.eq(s:sub(1, 8), "\137PNG\r\n\26\n", p .. " signature")
    -- IHDR: width and height as asked
    local w, h = string.unpack(">I4>I4", s, 17)
    T.eq(w, 640, p .. " width")
    T.eq(h, 480, p .. " height")
    assert(#s > 5000, p .. " is too small: " .. #s)
  elseif p:match("%.svg$") then
    assert(s:find("<svg", 1, true), p .. " has no <svg>")
    assert(svg_ok(p), p .. " is not well-formed XML")
    assert(#s > 2000, p .. " is too small")
  else
    T.eq(s:sub(1, 5), "%PDF-", p .. " signature")
    assert(s:find("%%EOF"), p .. " has no %%EOF")
    assert(#s > 1000, p .. " is too small")
  end
end

local xs = array.randn({400, 2}, {seed = 1})
local rot = field.rotation{omega = 1}
local scalar = field.fn(function(x) return x:col(1) * x:col(2) end, {dim = 2, codim = 1})
local grid = field.sample(rot, {n = {24, 24}, box = {{-2, 2}, {-2, 2}}})
local cases = {
  scatter = function(o) return plot.scatter(xs, o) end,
  line = function(o) return plot.line({{y = {1, 0.5, 0.25}, label = "a"}, {1, 0.1, 0.01}}, o) end,
  line_xy = function(o) return plot.line(array.from{1, 2, 4}, {1, 0.5, 0.25}, o) end,
  hist = function(o) return plot.hist(xs:col(1), o) end,
  hist2d = function(o) return plot.hist2d(xs, o) end,
  heatmap = function(o) return plot.heatmap(grid:grid_curl(), o) end,
  heatmap_fn = function(o) return plot.heatmap(scalar, o) end,
  quiver = function(o) return plot.quiver(rot, o) end,
  streamlines = function(o) return plot.streamlines(rot, o) end,
}
local n = 0
for name, draw in pairs(cases) do
  for _, ext in ipairs{"png", "svg", "pdf"} do
    local p = path(name .. "." .. ext)
    T.eq(draw{file = p, title = name, width = 640, height = 480}, p, name .. " return value")
    check_file(p)
    n = n + 1
  end
end
T.eq(n, 27, "files written")

-- A figure with every type in its panels.
local fig = plot.figure{rows = 2, cols = 4, file = path("all.png"), width = 640, height = 480}
T.eq(fig.rows, 2, "rows")
T.eq(fig.cols, 4, "cols")
local k = 0
for _, name in ipairs{"scatter", "line", "hist", "hist2d", "heatmap", "quiver", "streamlines"} do
  k = k + 1
  local data = ({scatter = xs, line = {1, 2, 3}, hist = xs, hist2d = xs, heatmap = scalar, quiver = rot,
                 streamlines = rot})[name]
  T.eq(fig[name](fig, data, {panel = k, title = name}), fig, name .. " returns the figure")
end
check_file(fig:save())
check_file(fig:save(path("all.svg")))

-- Histogram counts against a direct count.
local counts, used = plot._histogram(array.from{0, 0.1, 0.5, 1, 2, -1}, 2, 0, 1)
T.allclose(counts, {2, 2}, 0, "histogram counts")
T.eq(used, 4, "histogram used")

-- viridis: matplotlib's endpoints and middle entry (128/255)
local r, g, b = plot.viridis(128 / 255)
T.near(r, 0.127568, 1e-9, "viridis r")
T.near(g, 0.566949, 1e-9, "viridis g")
T.near(b, 0.550556, 1e-9, "viridis b")
r, g, b = plot.viridis(1)
T.near(r, 0.993248, 1e-12, "viridis(1) r")

-- Pixel check: a field non-zero only in the quadrant x > 0, y > 0 draws
-- arrows only in the upper right quarter of the frame.
local quad = field.fn(function(x)
  local out = {}
  local t = x:totable()
  for i, p in ipairs(t) do
    local on = p[1] > 0.1 and p[2] > 0.1
    out[i] = {on and 1 or 0, on and 0.5 or 0}
  end
  return array.from(out)
end, {dim = 2})
local qp = path("quad.png")
plot.quiver(quad, {file = qp, box = {{-1, 1}, {-1, 1}}, n = 12, xlim = {-1.2, 1.2}, ylim = {-1.2, 1.2},
  width = 640, height = 480, color = 1})
local script = path("png.py")
local f = assert(io.open(script, "w"))
f:write([[
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
p, idat = 8, b''
while p < len(d):
    n, = struct.unpack('>I', d[p:p+4]); t = d[p+4:p+8]
    if t == b'IHDR': w, h, bd, ct = struct.unpack('>IIBB', d[p+8:p+18])
    if t == b'IDAT': idat += d[p+8:p+8+n]
    p += 12 + n
assert bd == 8 and ct in (2, 6)
bpp = 3 if ct == 2 else 4
raw = zlib.decompress(idat); stride = w * bpp; prev = bytearray(stride); rows = []; i = 0
for y in range(h):
    ft = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
    for x in range(stride):
        a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
        if ft == 1: line[x] = (line[x] + a) & 255
        elif ft == 2: line[x] = (line[x] + b) & 255
        elif ft == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif ft == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
px = lambda x, y: tuple(rows[y][x*bpp:x*bpp+3])
dark = lambda c: max(c) < 170 and max(c) - min(c) < 30
blue = lambda c: c[2] > 120 and c[2] - c[0] > 60
cols = [sum(dark(px(x, y)) for y in range(h)) for x in range(w)]
rws = [sum(dark(px(x, y)) for x in range(w)) for y in range(h)]
L = min(x for x in range(w) if cols[x] > 0.4 * max(cols)); R = max(x for x in range(w) if cols[x] > 0.4 * max(cols))
Tp = min(y for y in range(h) if rws[y] > 0.4 * max(rws)); B = max(y for y in range(h) if rws[y] > 0.4 * max(rws))
bl = [(x, y) for y in range(h) for x in range(w) if blue(px(x, y))]
print(L, R, Tp, B, len(bl), min(x for x, y in bl), max(x for x, y in bl), min(y for x, y in bl), max(y for x, y in bl))
]])
f:close()
local pipe = assert(io.popen(py .. " '" .. script .. "' '" .. qp .. "'"))
local out = pipe:read("a")
pipe:close()
local v = {}
for w in out:gmatch("%S+") do v[#v + 1] = tonumber(w) end
assert(#v == 9, "png decoder output: " .. out)
local L, R, Top, B, nblue, x0, x1, y0, y1 = table.unpack(v)
assert(R - L > 300 and B - Top > 250, "frame not found: " .. out)
assert(nblue > 200, "too few arrow pixels: " .. out)
local cx, cy = (L + R) / 2, (Top + B) / 2
-- The nodes are linspace(-1, 1, 12); the first with x, y > 0.1 is 3/11 = 0.2727
-- on both axes: the leftmost arrow pixel is at its x, the lowest at its y
-- (window [-1.2, 1.2] on the frame), within the line width.
local node = 3 / 11
local ex, ey = L + (node + 1.2) / 2.4 * (R - L), B - (node + 1.2) / 2.4 * (B - Top)
assert(math.abs(x0 - ex) <= 3, ("left edge of the arrows at pixel %d, expected %.1f: %s"):format(x0, ex, out))
assert(math.abs(y1 - ey) <= 3, ("lower edge of the arrows at pixel %d, expected %.1f: %s"):format(y1, ey, out))
assert(x1 < R and y0 > Top, "arrow pixels outside the frame: " .. out)
-- and they fill the quadrant: they reach near its far corner
assert(x1 > cx + 0.75 * (R - cx) and y0 < cy - 0.75 * (cy - Top), "arrows do not reach the corner: " .. out)

-- stdout stays empty while plotting (a separate run of the program)
local prog = os.getenv("FIELDLAB") or (os.getenv("top_srcdir") .. "/src/fieldlab")
local sp = path("quiet.lua")
f = assert(io.open(sp, "w"))
f:write(string.format([[
plot.scatter(array.randn({100, 2}), {file = %q})
plot.heatmap(field.fn(function(x) return x:col(1) end, {dim = 2, codim = 1}), {file = %q})
plot.line({1, 2, 3}, {file = %q})
]], path("q1.png"), path("q2.pdf"), path("q3.svg")))
f:close()
pipe = assert(io.popen("'" .. prog .. "' '" .. sp .. "' 2>/dev/null"))
out = pipe:read("a")
local ok = pipe:close()
assert(ok, "the plotting run failed")
T.eq(out, "", "stdout of a plotting run")
check_file(path("q2.pdf"))

-- errors
T.raises(function() plot.scatter(xs, {file = path("x.jpg")}) end, "plot.scatter", ".png, .svg or .pdf")
T.raises(function() plot.scatter(xs, {file = path("x.png"), colour = 2}) end, "unknown option 'colour'")
T.raises(function() plot.scatter(xs, {}) end, "option 'file' is required")
T.raises(function() plot.quiver(scalar, {file = path("x.png")}) end, "R^2 to R^2", "R^1")
T.raises(function() plot.heatmap(rot, {file = path("x.png")}) end, "scalar")
T.raises(function() fig:scatter(xs, {panel = 9}) end, "panel")
T.raises(function() plot.scatter(xs, {file = "/nonexistent-dir/x.png"}) end, "cannot write")

os.execute("rm -rf '" .. dir .. "'")
