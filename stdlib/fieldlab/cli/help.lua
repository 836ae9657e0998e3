-- fieldlab help (stub)
return {}
