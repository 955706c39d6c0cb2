-- docs/errors.md's validation table from the fixture's rules: one row per
-- request field with rules, messages in check order; only the marked region
-- of the file is rewritten.
local h = require("helpers")
local util = require("util")
local error_table = require("emit.error_table")

return {
  { "every request field with rules, its messages in check order", function()
    local doc = util.read_file(h.generated() .. "/errors.md")
    h.contains(doc, "| `/shop.ShopService/CreateItem` | `code` | `must not be empty`, `must be at least 2 bytes`, "
      .. "`must be at most 8 bytes` |")
    h.contains(doc, "| `/shop.ShopService/GetItems` | `ids` | `must have at least 1 item`, `must have at most 3 items`, "
      .. "`each item must be a UUID` |")
    h.truthy(not doc:find("`tags`", 1, true), "a field without rules has no row")
  end },
  { "only the marked region is replaced; missing markers are an error", function()
    local text = "# Errors\n\nbefore\n\n" .. error_table.BEGIN .. "\nold\n" .. error_table.END .. "\n\nafter\n"
    h.eq(error_table.splice(text, "NEW", "e.md"), "# Errors\n\nbefore\n\nNEW\n\nafter\n")
    h.contains(h.raises(error_table.splice, "# Errors\n", "NEW", "docs/errors.md"),
      "docs/errors.md: the markers of the generated validation table are missing")
  end },
}
