-- The no-eviction policy for `make bench` (tests/bench/peers.py): sizes must
-- be at least 1, so "unlimited" is a budget far beyond anything the bench
-- stores. Nothing is evicted, so throughput and memory per entry are the
-- daemon's own, comparable with redis-server and memcached holding all keys.
return {
  name = "bench",
  limits = { bytes = "16GB", entries = 16000000 },
  system = { bytes = "64GB", sessions = 100 },
  eviction = "lru",
}
