-- a working precision of zero digits
-- expect: const.pslq: option 'digits' must be an integer from 15 to 10^7
-- expect: not 0
const.pslq({const.pi(30), const.e(30)}, {digits = 0})
