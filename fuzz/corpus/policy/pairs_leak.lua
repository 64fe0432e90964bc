local _, t = pairs(string)
return { limits = { entries = 10 } }
