-- an unknown manifold lists the valid ones
-- expect: data.manifold_dim: unknown manifold 'torus'
-- expect: circle, sphere, swissroll
print(data.manifold_dim("torus"))
