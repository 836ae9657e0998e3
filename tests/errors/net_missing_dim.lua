-- no input dimension
-- expect: net.potential
-- expect: option 'dim'
net.potential{hidden = {8}}
