-- a malformed polynomial string: the message gives the position
-- expect: poly.parse
-- expect: unexpected end at position 13
poly.parse("x^2 + (y - 1")
