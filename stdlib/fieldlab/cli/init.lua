-- fieldlab init (stub)
return {}
