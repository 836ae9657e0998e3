-- arange with step 0
-- expect: step must not be zero
array.arange(0, 1, 0)
