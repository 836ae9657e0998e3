-- a non-finite working precision
-- expect: const.pslq: option 'digits' must be an integer from 15 to 10^7
-- expect: not inf
const.pslq({const.pi(30), const.e(30)}, {digits = math.huge})
