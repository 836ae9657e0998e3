-- fieldlab sample (stub)
return {}
