-- saving a figure made without a file
-- expect: Figure:save: no file
local fig = plot.figure{cols = 2}
fig:line({1, 2}, {panel = 2})
fig:save()
