-- fieldlab decompose (stub)
return {}
