-- an error raised by an observer is the user's own
-- expect: the observer said no
integrate.ode{field = field.rotation{}, x0 = {1, 0}, t1 = 1, steps = 10,
  observer = function(t, x) if t > 0.5 then error("the observer said no") end end}
