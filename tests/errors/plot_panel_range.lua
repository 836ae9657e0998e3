-- a panel index beyond the figure
-- expect: Figure:scatter: option 'panel' must be an integer 1 to 4, not 5
local fig = plot.figure{rows = 2, cols = 2}
fig:scatter(array.randn({10, 2}), {panel = 5})
