print(".TH FIELDLAB-LUA 7")
