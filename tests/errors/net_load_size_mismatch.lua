-- offsets whose byte count does not fit the shape
-- expect: net.load
-- expect: tensor 'layers.0.bias': data offsets [8, 12] hold 4 bytes, shape and dtype F64 need 8
local function write(path, header, data)
  if header:len() % 8 ~= 0 then header = header .. string.rep(" ", 8 - header:len() % 8) end
  local f = assert(io.open(path, "wb"))
  f:write(string.pack("<I8", header:len()), header, data)
  f:close()
end
local path = os.tmpname()
local arch = [[{\"kind\":\"mlp\",\"dim\":1,\"out\":1,\"hidden\":[],\"act\":\"tanh\",\"time\":\"none\",\"param\":\"velocity\"}]]
write(path, '{"__metadata__":{"fieldlab":"' .. arch .. '"},'
  .. '"layers.0.weight":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},'
  .. '"layers.0.bias":{"dtype":"F64","shape":[1],"data_offsets":[8,12]}}', string.rep("\0", 16))
net.load(path)
