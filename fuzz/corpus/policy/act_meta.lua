return { limits = { entries = 10 }, on_sample = function(s, act) setmetatable(act, { __index = function() error("x") end }); act.state = nil end }
