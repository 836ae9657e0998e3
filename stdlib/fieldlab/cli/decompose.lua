-- fieldlab decompose: Helmholtz-Hodge split (decomp.helmholtz) of a vector
-- grid field from a .npy file, or the density-weighted split
-- (decomp.weighted) with a density grid; writes the parts as .npy files and
-- prints the energy fractions. See fieldlab-decompose(1).
local cmd = {
  name = "decompose",
  summary = "split a gridded vector field into gradient, solenoidal and harmonic parts",
  args = { min = 1, max = 1, name = "FIELD.npy" },
}

cmd.synopsis = [==[
usage: fieldlab decompose FIELD.npy --box LIST [--periodic | --boundary KIND]
                          [--density P.npy] --out DIR [options]
Split a vector grid field into its parts, write them as .npy files into DIR
and print the energy fractions.

FIELD.npy holds the values on the grid nodes, shape (n1,...,nd,d), d = 2 or
3 (any d >= 1 with --density).

Options:
  --box LIST         the box: a,b (every axis) or a1,b1,...,ad,bd (nodes on
                     both ends unless periodic)
  --periodic         periodic on every axis (FFT split; the default split)
  --boundary KIND    bounded box: natural (free space) or normal (the
                     gradient carries the wall flux)
  --density P.npy    density on the same nodes, shape (n1,...,nd): the
                     density-weighted split v = grad phi + r, div(p r) = 0
                     (needs --periodic)
  --method KIND      derivative of the weighted split: fd or spectral
  --tol X            relative residual of the weighted split (default 1e-10)
  --out DIR          directory for the parts (made if missing)
  --json FILE        also write the energies as JSON ('-': stdout only)
  -h, --help         show this help

Exit status: 0 success, 1 the run failed, 2 usage error.
]==]

cmd.options = {
  { "box", "numbers" }, { "periodic", "flag" },
  { "boundary", "choice", choices = { "natural", "normal", "periodic" } },
  { "density", "file" }, { "method", "choice", choices = { "fd", "spectral" } },
  { "tol", "number", positive = true },
  { "out", "file" }, { "json", "file" },
}

function cmd.run(cli, o, args)
  local path = args[1]
  if not o.box then cli.usage("missing option '--box'") end
  if not o.out then cli.usage("missing option '--out DIR'") end
  if o.periodic and o.boundary and o.boundary ~= "periodic" then
    cli.usage("options '--periodic' and '--boundary %s' cannot be used together", o.boundary)
  end
  local periodic = o.periodic or o.boundary == "periodic"
  if not periodic and not o.boundary then
    cli.usage("a bounded grid needs '--boundary natural' or '--boundary normal' (or '--periodic')")
  end
  if o.density and not periodic then cli.usage("option '--density' needs '--periodic' (the weighted split is periodic)") end
  if (o.method or o.tol) and not o.density then cli.usage("options '--method' and '--tol' apply to the weighted split (--density)") end
  local v = cli.load_npy(path, "field")
  local shape = v.shape
  local d = #shape - 1
  if d < 1 or shape[#shape] ~= d then
    cli.fail("'%s' has shape (%s): a vector grid field needs (n1,...,nd,d)", path, table.concat(shape, ","))
  end
  if not o.density and d ~= 2 and d ~= 3 then
    cli.fail("'%s' is a %d-D field: the Helmholtz-Hodge split needs 2-D or 3-D", path, d)
  end
  local box = cli.box(o.box, d)
  local f = field.grid_from(v, box, { periodic = periodic })
  local rows, energies, kind
  local r
  if o.density then
    local p = cli.load_npy(o.density, "density")
    local ps = p.shape
    local same = #ps == d
    for k = 1, d do same = same and ps[k] == shape[k] end
    if not same then
      cli.fail("density '%s' has shape (%s); the field's grid needs (%s)", o.density, table.concat(ps, ","),
        table.concat(shape, ",", 1, d))
    end
    local pf = field.grid_from(p, box, { periodic = true })
    r = decomp.weighted(f, pf, { method = o.method, tol = o.tol })
    local e = r:energies()
    kind = "weighted"
    energies = e
    rows = {
      { "gradient (moves density)", e.gradient_fraction, e.gradient },
      { "gauge (div(p r) = 0)", e.gauge_fraction, e.gauge },
      { "cross E_p[grad phi . r]", e.cross / e.total, e.cross },
      { "total E_p|v|^2", 1.0, e.total },
    }
  else
    r = decomp.helmholtz(f, { boundary = periodic and "periodic" or o.boundary })
    local e = r:energies()
    kind = r.boundary
    energies = e
    rows = {
      { "gradient", e.gradient, e.gradient * e.total },
      { "solenoidal", e.solenoidal, e.solenoidal * e.total },
      { "harmonic", e.harmonic, e.harmonic * e.total },
      { "total int |v|^2", 1.0, e.total },
    }
  end
  local files = r:save(o.out)
  if o.json ~= "-" then
    print(string.format("%s split of %s (%s grid)", kind, path, table.concat(shape, "x", 1, d)))
    print(cli.table({ "part", "fraction", "energy" }, rows))
    print("wrote: " .. table.concat(files, " "))
  end
  if o.json then
    local e = {}
    for k, x in pairs(energies) do e[k] = x end
    cli.write_file(o.json, cli.json({ field = path, split = kind, energies = e, files = files }))
  end
  return 0
end

return cmd
