-- fieldlab cmf (stub)
return {}
