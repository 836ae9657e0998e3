-- an error raised by the script itself
-- expect: boom in user code
-- expect: stack traceback
local function f() error("boom in user code") end
f()
