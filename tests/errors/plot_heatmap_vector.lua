-- a heatmap needs a scalar field
-- expect: plot.heatmap: the field must be scalar on R^2
-- expect: grid_curl
plot.heatmap(field.rotation{omega = 1}, {file = "h.png"})
