-- LRU: every session keeps its 1,000 most recently used keys, within 64 MB.
-- The least recently read or written key goes first.
return {
  name = "lru",
  limits = { bytes = "64MB", entries = 1000 },
  eviction = "lru",
}
