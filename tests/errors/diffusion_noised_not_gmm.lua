-- noised() takes a GMM
-- expect: noised
-- expect: fieldlab.GMM expected
local pt = diffusion.cosine():noised(array.zeros{2})
