local s = ("a"):rep(1000)
local n = select("#", s:find(".-.-b"))
return { limits = { entries = n } }
