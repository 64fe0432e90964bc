-- TTL: when a session is full, the key closest to expiry goes first; keys
-- without a TTL go only after every key that has one, least recently used
-- first. Suits caches whose entries carry their own freshness.
return {
  name = "ttl",
  limits = { bytes = "64MB", entries = 1000 },
  eviction = "ttl",
}
