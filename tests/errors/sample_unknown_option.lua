-- a misspelt option is an error, never ignored
-- expect: stpes
local vp = diffusion.vp()
sample.ode{field = vp:noised(field.gaussian{mean = {0, 0}}).velocity, n = 10, solver = "euler", stpes = 10}
