return { limits = { entries = 1 }, on_sample = function() collectgarbage("step") load(string.dump(print)) end }
