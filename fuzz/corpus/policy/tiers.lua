-- Tiers: limits by the session name's prefix. Sessions are named by their
-- keys ("{name}..." or "name:..."), so "pro-acme:cart" is in the pro tier.
local tiers = {
  ["pro-"] = { bytes = "100MB", entries = 100000, eviction = "lfu" },
  ["free-"] = { bytes = "1MB", entries = 100 },
}
local default = { bytes = "10MB", entries = 1000 }

return {
  name = "tiers",
  limits = function(session)
    for prefix, limits in pairs(tiers) do
      if session:sub(1, #prefix) == prefix then return limits end
    end
    return default
  end,
  system = { bytes = "1GB", sessions = 1000 },
  eviction = "lru",
}
