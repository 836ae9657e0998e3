-- fieldlab check (stub)
return {}
