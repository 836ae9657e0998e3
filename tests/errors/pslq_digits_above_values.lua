-- more working digits than the values carry
-- expect: const.pslq: option 'digits' asks for 50 digits, but value 2 is known to only 20
const.pslq({const.pi(60), const.e(20)}, {digits = 50})
