-- S3-FIFO (eviction = "s3fifo"): a key used once and not again leaves
-- quickly from the small queue; a key used twice is kept in main; a key
-- that comes back soon after going returns straight to main.
local testing = require "policyd.testing"

describe("the s3fifo strategy", function()
  after_each(testing.remove_policy_files)

  it("keeps a key used twice over keys used once", function()
    local e = testing.engine { policy = testing.policy_file(
      'return { limits = { entries = 10 }, eviction = "s3fifo" }\n') }
    local s = e:session("alice")
    for i = 0, 9 do s:set("k" .. i, "v") end
    s:get("k0"); s:get("k0")
    s:set("n1", "v")
    assert.is_true(s:exists("k0"))
    assert.is_false(s:exists("k1"))
    assert.equals(10, s:info().entries)
    assert.equals("s3fifo", s:info().strategy)
    assert.equals(s:info().arena_bytes, s:info().bytes)
    e:close()
  end)
end)
