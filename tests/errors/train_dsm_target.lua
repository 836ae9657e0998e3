-- expect: loss.dsm: unknown target 'noise'
loss.dsm(diffusion.vp(), {target = "noise"})
