-- PSLQ on fewer than 2 values
-- expect: const.pslq: needs a list of at least 2 values, got 1
const.pslq({const.pi(30)})
