-- LFU: keeps the keys used most often. A key's score is its use count times
-- lfu_decay (60 s) plus the time of its last use; the lowest score goes
-- first, so a key used often stays even if a newer key was used once, and a
-- key that stops being used loses one use per minute until it goes.
return {
  name = "lfu",
  limits = { bytes = "64MB", entries = 1000 },
  eviction = "lfu",
}
