return { limits = { entries = 2 }, eviction = function(c) return c[1] end }
