-- PSLQ needs nonzero values
-- expect: const.pslq: value 2 is zero: PSLQ needs nonzero numbers
const.pslq({const.pi(30), 0})
