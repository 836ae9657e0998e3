-- a thread count is positive
-- expect: thread count must be 1 to 1024
fieldlab.set_threads(0)
