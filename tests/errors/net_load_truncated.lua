-- a file cut inside its header
-- expect: net.load
-- expect: header length
-- expect: beyond the file
local function write(path, header, data)
  if header:len() % 8 ~= 0 then header = header .. string.rep(" ", 8 - header:len() % 8) end
  local f = assert(io.open(path, "wb"))
  f:write(string.pack("<I8", header:len()), header, data)
  f:close()
end
local path = os.tmpname()
local arch = [[{\"kind\":\"mlp\",\"dim\":1,\"out\":1,\"hidden\":[],\"act\":\"tanh\",\"time\":\"none\",\"param\":\"velocity\"}]]
write(path, '{"__metadata__":{"fieldlab":"' .. arch .. '"}}', "")
local f = assert(io.open(path, "rb")); local all = f:read("a"); f:close()
f = assert(io.open(path, "wb")); f:write(all:sub(1, 30)); f:close()
net.load(path)
