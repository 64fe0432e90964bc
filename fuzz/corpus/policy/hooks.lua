local t = {} for i = 1, 100 do t[i] = {t} end
return { limits = function(n) return { entries = #n } end, on_reload = function(old) return old end, on_session_open = function(name, snap, act) act.drop(name) act.log("info", name) return { entries = 1 } end }
