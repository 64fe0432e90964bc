-- SIEVE (eviction = "sieve"): a hit marks an entry visited without moving
-- it; at eviction a hand walks from the oldest entry toward newer ones,
-- clearing marks, and evicts the first unmarked entry.
local testing = require "policyd.testing"

describe("the sieve strategy", function()
  after_each(testing.remove_policy_files)

  it("spares a visited old entry and evicts the first unvisited one", function()
    local e = testing.engine { policy = testing.policy_file(
      'return { limits = { entries = 3 }, eviction = "sieve" }\n') }
    local s = e:session("alice")
    s:set("a", "1"); s:set("b", "2"); s:set("c", "3")
    s:get("a")
    s:set("d", "4")
    assert.same({ true, false, true, true },
      { s:exists("a"), s:exists("b"), s:exists("c"), s:exists("d") })
    s:set("e", "5") -- the hand stayed at c
    assert.is_false(s:exists("c"))
    assert.is_true(s:exists("a"))
    assert.equals("sieve", s:info().strategy)
    e:close()
  end)
end)
