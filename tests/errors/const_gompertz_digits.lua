-- digits out of range
-- expect: gompertz
-- expect: digits must be an integer 1 to 10^7
const.gompertz(0)
