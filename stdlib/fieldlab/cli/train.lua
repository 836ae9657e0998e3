-- fieldlab train (stub)
return {}
