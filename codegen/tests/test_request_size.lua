-- The largest valid request from the rules (codegen/request_size.lua): each
-- field at its longest, encoded as protobuf does; unbounded fields named;
-- the figure in gen/ (the daemon's receive limit grows to it) and in
-- api.md; a request no daemon may receive stops the generator.
local h = require("helpers")
local util = require("util")
local request_size = require("request_size")

local function field(name, number, type_label, rules, repeated)
  return { name = name, number = number, type_label = type_label, rules = rules or {}, repeated = repeated }
end
local function msg(name, fields) return { full_name = ".t." .. name, fields = fields } end
local function r(kind, value) return { kind = kind, value = value } end

return {
  { "strings at max_len, max_chars (4 bytes each) or UUID length; ints at their widest varint", function()
    local m = msg("M", {
      field("email", 1, "string", { r("max_len", 254) }),       -- 1 + 2 + 254
      field("label", 2, "string", { r("max_chars", 10) }),      -- 1 + 1 + 40
      field("id", 3, "string", { r("uuid") }),                  -- 1 + 1 + 36
      field("amount", 4, "int32", { r("gte", 1), r("lte", 100) }), -- 1 + 1
      field("delta", 5, "int32", {}),                           -- 1 + 10 (negative)
      field("size", 16, "int32", { r("gte", 0) }),              -- 2 + 5
    })
    h.eq(request_size.largest(m, {}), 257 + 42 + 38 + 2 + 11 + 7)
  end },
  { "repeated fields at max_items; the issue's 200 UUIDs exceed 4 KiB, 107 do not", function()
    local function ids(n)
      return msg("Ids", { field("ids", 1, "string", { r("max_items", n), { kind = "items", items = { r("uuid") } } }, true) })
    end
    h.eq(request_size.largest(ids(200), {}), 7600)
    h.truthy(request_size.largest(ids(107), {}) <= 4096, "107 ids fit 4 KiB")
    h.truthy(request_size.largest(ids(108), {}) > 4096, "108 do not")
  end },
  { "nested messages count with their length prefix; an unbounded field is named", function()
    local inner = msg("Inner", { field("id", 1, "string", { r("uuid") }) })
    local outer = msg("Outer", { field("inner", 1, "message", {}), field("note", 2, "string", {}) })
    outer.fields[1].type_name = ".t.Inner"
    local size, why = request_size.largest(outer, { [".t.Inner"] = inner })
    h.eq(size, nil)
    h.eq(why, "t.Outer.note has no max_len, max_chars or uuid rule")
    outer.fields[2] = nil
    h.eq(request_size.largest(outer, { [".t.Inner"] = inner }), 1 + 1 + 38)
    local list = msg("L", { field("tags", 1, "string", { { kind = "items", items = { r("max_len", 3) } } }, true) })
    h.eq(select(2, request_size.largest(list, {})), "t.L.tags has no max_items rule")
  end },
  { "the fixture's figures in api.md and gen/", function()
    local dir = h.generated()
    local doc = util.read_file(dir .. "/api.md")
    h.contains(doc, "Largest valid request: none (shop.CreateItemRequest.email has no max_len, max_chars or uuid rule).")
    h.contains(doc, "Largest valid request: none (shop.GetItemsRequest.ranks has no max_items rule).")
    h.contains(util.read_file(dir .. "/gen/shop.service.c"), ".largest_request_bytes = 0,")
  end },
  { "a bounded service carries its figure; one too large for any daemon stops the generator", function()
    local root = util.mktemp_dir()
    local proto = root .. "/proto"
    util.run(("cp -r %s %s"):format(util.shell_quote(h.FIXTURE .. "/proto"), util.shell_quote(proto)))
    local text = h.fixture("proto/shop.proto")
      :gsub("string email = 4 %[%(rules.field%).string = { email: true }%]",
        "string email = 4 [(rules.field).string = { email: true, max_len: 254 }]")
      :gsub("repeated int32 ranks = 2 %[%(rules.field%).repeated = { items",
        "repeated int32 ranks = 2 [(rules.field).repeated = { max_items: 5, items")
      :gsub("repeated string tags = 3;", "repeated string tags = 3 [(rules.field).repeated = { max_items: 200, "
        .. "items: { string: { uuid: true } } }];")
    local f = assert(io.open(proto .. "/shop.proto", "wb"))
    f:write(text)
    f:close()
    local ok, out = h.regen(h.args(root, { ["proto-dir"] = proto }))
    h.truthy(ok, out)
    -- GetItems: 3 ids (114) + 5 ranks (each 1 + 5: gte 1, no lte) + 200 UUID tags (7600)
    h.contains(util.read_file(root .. "/gen/shop.service.c"), ".largest_request_bytes = 7744,")
    f = assert(io.open(proto .. "/shop.proto", "wb"))
    f:write((text:gsub("max_items: 200,", "max_items: 2000000,")))
    f:close()
    ok, out = h.regen(h.args(root, { ["proto-dir"] = proto }))
    h.truthy(not ok, "refused")
    h.contains(out, "shop.ShopService.GetItems: its largest valid request is 76000144 bytes, more than any daemon "
      .. "may receive (67108864")
    util.remove_tree(root)
  end },
}
