-- fieldlab check: the conservativity battery (check.conservativity) on a
-- named exact field, a gridded field (.npy + --box) or a network
-- (.safetensors, when module net can load one). See fieldlab-check(1).
local cmd = {
  name = "check",
  summary = "run the conservativity battery on a field and print the report",
  args = { min = 1, max = 1, name = "FIELD (a field name, FILE.npy or FILE.safetensors)" },
}

cmd.synopsis = [==[
usage: fieldlab check FIELD [options]
Run the conservativity battery on FIELD and print the report table.

FIELD is one of
  gmm:DATA[:SCHEDULE[:score|velocity]][,gauge=EPS]
                     exact score or PF-ODE velocity of a noised toy density
                     (DATA: 8gaussians; SCHEDULE: vp, ve, edm, linear, cosine)
  NAME[,key=value...]  rotation, shear, vortex, taylor_green, abc
  FILE.npy           grid values of shape (n1,...,nd,d); needs --box
  FILE.safetensors   a network (needs module net with net.load)

Options:
  --points FILE      test points, an n-by-d .npy array
  --data NAME        test points drawn from the toy data set NAME
  --n N              number of points (default 1000)
  --seed N           seed of the points and of the battery (default 0)
  --t LIST           times, comma-separated (default 0; 0.01,0.1,0.5 for
                     noised fields)
  --tests LIST       among jacobian, curl, circulation, path, helmholtz,
                     gauge (= weighted), error (default: the battery's)
  --radii LIST       loop radii (default 0.1 x the RMS spread of the points)
  --box LIST         grid box: a,b (every axis) or a1,b1,...,ad,bd
  --periodic         the grid is periodic on every axis
  --interp KIND      grid interpolation: linear or cubic (default cubic)
  --arch SPEC        a PyTorch MLP's architecture, DIM:H1,H2,...:OUT[:ACT]
                     (read with net.import_torch)
  --json FILE        also write the report as JSON ('-': stdout only)
  -h, --help         show this help

Exit status: 0 the run completed (the verdict is in the output), 1 it
failed, 2 usage error.
]==]

cmd.options = {
  { "points", "file" }, { "data", "string" }, { "n", "int", min = 1, max = 100000000 },
  { "seed", "int", min = 0 },
  { "t", "numbers", min = 0 },
  { "tests", "list", choices = { "jacobian", "curl", "circulation", "path", "helmholtz", "gauge", "weighted", "error" } },
  { "radii", "numbers", min = 0 },
  { "box", "numbers" }, { "periodic", "flag" },
  { "interp", "choice", choices = { "linear", "cubic" } },
  { "arch", "string" }, { "json", "file" },
}

local function grid_field(cli, path, o)
  if not o.box then cli.usage("a grid field (%s) needs option '--box'", path) end
  local v = cli.load_npy(path, "grid field")
  local shape = v.shape
  local d = #shape - 1
  if d < 1 or shape[#shape] ~= d then
    cli.fail("'%s' has shape (%s): a vector grid field needs (n1,...,nd,d)", path,
      table.concat(shape, ","))
  end
  local box = cli.box(o.box, d)
  local f = field.grid_from(v, box, { periodic = o.periodic or false, interp = o.interp or "cubic" })
  return { name = path, field = f, dim = d, box = box, grid = true, time_dependent = false }
end

local function network(cli, path, o)
  if type(net) ~= "table" or type(net.load) ~= "function" then
    cli.fail("%s: needs module net with net.load (not in this build)", path)
  end
  local f
  if o.arch then
    -- a PyTorch MLP's state dict: the architecture says how to read it
    if type(net.import_torch) ~= "function" then
      cli.fail("%s: --arch needs net.import_torch (not in this build)", path)
    end
    f = net.import_torch(path, { arch = o.arch })
  else
    f = net.load(path)
  end
  return { name = path, field = f, dim = f.dim, time_dependent = f.time_dependent }
end

function cmd.run(cli, o, args)
  local spec = args[1]
  cli.exclusive(o, "points", "data")
  cli.exclusive(o, "points", "n")
  if o.arch and not spec:find("%.safetensors$") then cli.usage("option '--arch' applies to a network (FILE.safetensors)") end
  if (o.box or o.periodic or o.interp) and not spec:find("%.npy$") then
    cli.usage("options '--box', '--periodic' and '--interp' apply to a grid field (FILE.npy)")
  end
  local F
  if spec:find("%.npy$") then F = grid_field(cli, spec, o)
  elseif spec:find("%.safetensors$") then F = network(cli, spec, o)
  else
    F = cli.named_field(spec)
    if not F then
      cli.usage("unknown field '%s' (a field name such as gmm:8gaussians:vp or rotation, FILE.npy or FILE.safetensors)", spec)
    end
  end
  local seed = o.seed or 0
  local n = o.n or 1000
  -- the points
  local x
  if o.points then
    x = cli.load_npy(o.points, "points")
    if #x.shape ~= 2 or x.shape[2] ~= F.dim then
      cli.fail("points '%s' have shape (%s); the field needs n-by-%d", o.points, table.concat(x.shape, ","), F.dim)
    end
  elseif o.data or F.data then
    local name = o.data or F.data
    local ok, r = pcall(data.toy, name, n, { seed = seed })
    if not ok then cli.usage("option '--data': %s", (tostring(r):gsub("^.-: ", "", 1))) end
    x = r
    if F.dim ~= 2 then cli.fail("toy data are 2-D; the field is %d-D", F.dim) end
  elseif F.box then
    -- uniform in the middle 80% of the box, so that loops stay inside
    x = array.rand({ n, F.dim }, { seed = seed })
    local cols = {}
    for k = 1, F.dim do
      local a, b = F.box[k][1], F.box[k][2]
      cols[k] = x:col(k) * (0.8 * (b - a)) + (a + 0.1 * (b - a))
    end
    x = array.stack(cols, 2)
  else
    x = array.randn({ n, F.dim }, { seed = seed })
  end
  -- the options of the battery
  local copts = { points = x, seed = seed }
  if o.t then copts.t = o.t
  elseif F.time_dependent then copts.t = { 0.01, 0.1, 0.5 } end
  if o.radii then copts.radii = #o.radii == 1 and o.radii[1] or o.radii end
  if o.tests then
    local tests = {}
    for _, t in ipairs(o.tests) do
      local name = t == "gauge" and "weighted" or t
      if (name == "weighted" or name == "error") and not F.density then
        cli.usage("option '--tests': '%s' needs a known density (a gmm:... field)", t)
      end
      if name == "error" and F.reference == F.field then
        cli.usage("option '--tests': 'error' needs a field with gauge=EPS (the exact field is the reference)")
      end
      if name == "helmholtz" and not F.grid then
        cli.usage("option '--tests': 'helmholtz' needs a grid field (FILE.npy)")
      end
      local dup = false
      for _, u in ipairs(tests) do dup = dup or u == name end
      if not dup then tests[#tests + 1] = name end
    end
    copts.tests = tests
    for _, name in ipairs(tests) do
      if name == "weighted" or name == "error" then
        copts.density = F.noised or F.density
        if F.reference ~= F.field then copts.reference = F.reference end
      end
    end
  end
  cli.note("fieldlab check: %s, %d points", F.name, x.shape[1])
  local r = check.conservativity(F.field, copts)
  if o.json ~= "-" then print(r) end
  if o.json then cli.write_file(o.json, r:json()) end
  return 0
end

return cmd
