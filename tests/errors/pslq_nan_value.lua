-- a value that is not a finite number
-- expect: const.pslq: value 2 is not a finite number
const.pslq({1, 0/0})
