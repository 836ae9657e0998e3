-- fieldlab help [CMD]: the manual page fieldlab-CMD(1) through man(1), else
-- the page next to the program (man -l), else the built-in synopsis.
-- Without CMD: the list of subcommands. See fieldlab-help(1).
local cmd = {
  name = "help",
  summary = "show the manual page of a subcommand, or list the subcommands",
  args = { min = 0, max = 1, name = "CMD" },
}

cmd.synopsis = [==[
usage: fieldlab help [--synopsis] [CMD]
Show the manual page fieldlab-CMD(1) (man fieldlab-CMD; else man -l of the
page beside the program; else the built-in synopsis). Without CMD: list the
subcommands.

Options:
  --synopsis         print the built-in synopsis, do not run man
  -h, --help         show this help

Exit status: 0 success, 1 the page could not be shown, 2 usage error
(such as an unknown CMD).
]==]

cmd.options = { { "synopsis", "flag" } }

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function exists(path)
  local fh = io.open(path, "r")
  if fh then fh:close() return true end
  return false
end

-- The page beside the program: <bindir>/../man/ (the build tree) or
-- <bindir>/../share/man/man1/ (an installation).
local function local_page(page)
  local prog
  for i = -1, -100, -1 do
    if arg == nil or arg[i] == nil then break end
    prog = arg[i]
  end
  if not prog or not prog:find("/") then return nil end
  local dir = prog:match("^(.*)/[^/]*$")
  for _, p in ipairs({ dir .. "/../man/" .. page .. ".1", dir .. "/../share/man/man1/" .. page .. ".1" }) do
    if exists(p) then return p end
  end
  return nil
end

local function has_man()
  return os.execute("command -v man >/dev/null 2>&1") == true
end

function cmd.run(cli, o, args)
  local name = args[1]
  if not name then
    local rows = {}
    for _, n in ipairs(cli.commands) do
      local c = cli.load_command(n)
      rows[#rows + 1] = { n, c and c.summary or "" }
    end
    print("usage: fieldlab [options] CMD [options] [operands]")
    print("The subcommands ('fieldlab help CMD' shows a manual page, 'fieldlab CMD --help' the synopsis):")
    print(cli.table({ "command", "what it does" }, rows))
    print("Scripts and the prompt: man fieldlab; the Lua API: man 7 fieldlab-lua.")
    return 0
  end
  local known = false
  for _, n in ipairs(cli.commands) do known = known or n == name end
  if not known then
    cli.usage("unknown subcommand '%s' (one of %s)", name, table.concat(cli.commands, ", "))
  end
  local c = cli.load_command(name)
  local page = "fieldlab-" .. name
  if not o.synopsis and has_man() then
    io.stdout:flush()
    if os.execute("man -w " .. page .. " >/dev/null 2>&1") == true then
      if os.execute("man " .. page) == true then return 0 end
      cli.fail("man %s failed", page)
    end
    local p = local_page(page)
    if p then
      if os.execute("man -l " .. shell_quote(p)) == true then return 0 end
      cli.fail("man -l %s failed", p)
    end
    cli.note("fieldlab help: no manual page %s(1) found; the synopsis follows", page)
  end
  io.stdout:write(c.synopsis)
  return 0
end

return cmd
