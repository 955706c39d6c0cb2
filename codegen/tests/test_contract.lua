-- The contract gate (codegen/contract.lua) on the fixture contract: for every
-- rule, a change of shop.proto that must be refused (rule, message,
-- file:line, safe way) and its safe form that must pass; ALLOW_BREAKING;
-- warnings for tightened rules. The released contract is the fixture as it
-- is (or with `base` edits), accepted into a temp baseline.
local h = require("helpers")
local util = require("util")

local PROTO = h.FIXTURE .. "/proto"

-- Applies { {from, to}... } (plain text, each must match) to text.
local function edit(text, edits)
  for _, e in ipairs(edits or {}) do
    local at = text:find(e[1], 1, true)
    if not at then error("fixture edit: " .. e[1] .. " not found", 2) end
    text = text:sub(1, at - 1) .. e[2] .. text:sub(at + #e[1])
  end
  return text
end

-- A copy of the fixture's proto dir with shop.proto edited; returns the dir.
local function proto_copy(root, name, edits)
  local dir = util.join(root, name)
  util.run(("mkdir -p %s && cp -r %s/. %s"):format(util.shell_quote(dir), util.shell_quote(PROTO), util.shell_quote(dir)))
  local f = assert(io.open(util.join(dir, "shop.proto"), "wb"))
  f:write(edit(h.fixture("proto/shop.proto"), edits))
  f:close()
  return dir
end

-- Runs contract.lua; returns whether it passed and its output.
local function gate(command, proto_dir, baseline, allow)
  local p = io.popen(("%slua5.4 codegen/contract.lua %s --proto-dir %s --baseline %s 2>&1"):format(
    allow and ("ALLOW_BREAKING=" .. util.shell_quote(allow) .. " ") or "", command, util.shell_quote(proto_dir),
    util.shell_quote(baseline)))
  local out = p:read("a")
  return p:close() == true, out
end

-- The 1-based line of the first occurrence of needle in dir's shop.proto.
local function line_of(dir, needle)
  local n = 0
  for line in io.lines(util.join(dir, "shop.proto")) do
    n = n + 1
    if line:find(needle, 1, true) then return n end
  end
  error("no line with " .. needle)
end

-- Each case: the edit refused (rule, a fragment of its message, the line its
-- refusal names, by a needle in the changed file) and the safe edit.
local CASES = {
  { rule = "FIELD_SAME_NUMBER", change = { { "  string note = 5;", "  string note = 15;" } },
    says = "shop.Item.note (field 5) was renumbered to 15", at = "string note = 15;",
    safe = { { "  string note = 5;", "  string note = 5;\n  string memo = 15;" } } },
  { rule = "FIELD_NO_DELETE", change = { { "  string note = 5;\n", "" } },
    says = "shop.Item.note (field 5) was removed but its number and name are not reserved", at = "message Item {",
    safe = { { "  string note = 5;\n", "  reserved 5;\n  reserved \"note\";\n" } } },
  { rule = "FIELD_NO_DELETE", name = "number reserved, name not",
    change = { { "  string note = 5;\n", "  reserved 5;\n" } },
    says = "shop.Item.note (field 5) was removed but its name is not reserved", at = "message Item {",
    safe = { { "  string note = 5;\n", "  reserved 5;\n  reserved \"note\";\n" } } },
  { rule = "FIELD_SAME_TYPE", change = { { "  int32 stock = 4;", "  int64 stock = 4;" } },
    says = "shop.Item.stock (field 4) changed type from int32 to int64", at = "int64 stock = 4;",
    safe = { { "  int32 stock = 4;", "  int32 stock = 4;\n  int64 stock_total = 29;" } } },
  { rule = "FIELD_SAME_TYPE", name = "message type", change = { { "repeated Item items = 1;", "repeated ItemPresence items = 1;" } },
    says = "shop.ItemList.items (field 1) changed type from shop.Item to shop.ItemPresence", at = "ItemPresence items = 1;",
    safe = { { "repeated Item items = 1;", "repeated Item items = 1;\n  repeated ItemPresence presences = 2;" } } },
  { rule = "FIELD_SAME_CARDINALITY", change = { { "  repeated string tags = 3;", "  string tags = 3;" } },
    says = "shop.GetItemsRequest.tags (field 3) changed from repeated to singular", at = "string tags = 3;",
    safe = { { "  repeated string tags = 3;", "  repeated string tags = 3;\n  string tag = 4;" } } },
  { rule = "FIELD_SAME_JSON_NAME", change = { { "  string code = 2;", "  string sku = 2;" } },
    says = "shop.Item.code (field 2) was renamed to sku (JSON \"code\" -> \"sku\")", at = "string sku = 2;",
    safe = { { "  string code = 2;", "  string code = 2;\n  string sku = 29;" } } },
  { rule = "FIELD_SAME_JSON_NAME", name = "json_name option",
    change = { { "  string code = 2;", "  string code = 2 [json_name = \"sku\"];" } },
    says = "(JSON \"code\" -> \"sku\")", at = "json_name",
    safe = { { "  string code = 2;", "  string code = 2 [json_name = \"code\"];" } } },
  { rule = "FIELD_SAME_ONEOF", change = { { "  string note = 5;", "  oneof detail { string note = 5; }" } },
    says = "shop.Item.note (field 5) moved from oneof (none) to oneof detail", at = "oneof detail",
    safe = { { "  string note = 5;", "  string note = 5;\n  oneof detail { string memo = 29; }" } } },
  { rule = "ENUM_VALUE_NO_DELETE", change = { { "  KIND_WEIGHT = 2;\n", "" } },
    says = "shop.Kind.KIND_WEIGHT (value 2) was removed", at = "enum Kind {",
    safe = { { "  KIND_WEIGHT = 2;\n", "  reserved 2;\n  reserved \"KIND_WEIGHT\";\n" } } },
  { rule = "ENUM_VALUE_SAME_NAME", change = { { "KIND_WEIGHT = 2;", "KIND_MASS = 2;" } },
    says = "shop.Kind.KIND_WEIGHT (value 2) was renamed to KIND_MASS", at = "KIND_MASS = 2;",
    safe = { { "KIND_WEIGHT = 2;", "KIND_WEIGHT = 2;\n  KIND_MASS = 3;" } } },
  { rule = "RESERVED_NO_REUSE", base = { { "  string note = 5;", "  string note = 5;\n  reserved 29;" } },
    change = { { "  string note = 5;", "  string note = 5;\n  string legacy = 29;" } },
    says = "shop.Item: legacy uses number 29, reserved in the released contract", at = "string legacy = 29;",
    safe = { { "  string note = 5;", "  string note = 5;\n  reserved 29;\n  string legacy = 30;" } } },
  { rule = "RESERVED_NO_REUSE", name = "a reserved name",
    base = { { "  string note = 5;", "  string note = 5;\n  reserved \"legacy\";" } },
    change = { { "  string note = 5;", "  string note = 5;\n  string legacy = 29;" } },
    says = "shop.Item: legacy reuses the name \"legacy\"", at = "string legacy = 29;",
    safe = { { "  string note = 5;", "  string note = 5;\n  reserved \"legacy\";\n  string legacy_note = 29;" } } },
  { rule = "RESERVED_NO_DELETE", base = { { "KIND_WEIGHT = 2;", "KIND_WEIGHT = 2;\n  reserved 7 to 8;" } },
    change = {}, says = "shop.Kind: reserved number 7 to 8 is no longer reserved", at = "enum Kind {",
    safe = { { "KIND_WEIGHT = 2;", "KIND_WEIGHT = 2;\n  reserved 7 to 8, 9;" } } },
  { rule = "RPC_NO_DELETE", change = { { "rpc CreateItem(", "rpc AddItem(" } },
    says = "rpc /shop.ShopService/CreateItem was removed (renamed to AddItem?)", at = "service ShopService {",
    safe = { { "rpc CreateItem(CreateItemRequest) returns (Item);",
               "rpc CreateItem(CreateItemRequest) returns (Item);\n  rpc AddItem(CreateItemRequest) returns (Item);" } } },
  { rule = "RPC_SAME_REQUEST_TYPE", change = { { "rpc CreateItem(CreateItemRequest)", "rpc CreateItem(GetItemsRequest)" } },
    says = "rpc /shop.ShopService/CreateItem request type changed from shop.CreateItemRequest to shop.GetItemsRequest",
    at = "rpc CreateItem(", safe = { { "rpc CreateItem(CreateItemRequest) returns (Item);",
      "rpc CreateItem(CreateItemRequest) returns (Item);\n  rpc CreateItems(GetItemsRequest) returns (Item);" } } },
  { rule = "RPC_SAME_RESPONSE_TYPE", change = { { "returns (Item);", "returns (ItemList);" } },
    says = "response type changed from shop.Item to shop.ItemList", at = "rpc CreateItem(",
    safe = { { "returns (Item);", "returns (Item);\n  rpc CreateItemList(CreateItemRequest) returns (ItemList);" } } },
  { rule = "RPC_SAME_STREAMING", change = { { "returns (Item);", "returns (stream Item);" } },
    says = "rpc /shop.ShopService/CreateItem changed from unary to server-streaming", at = "rpc CreateItem(",
    safe = { { "returns (Item);", "returns (Item);\n  rpc WatchItems(CreateItemRequest) returns (stream Item);" } } },
  { rule = "MESSAGE_NO_DELETE", change = { { "message ItemPresence {", "message ItemWithPresence {" } },
    says = "message shop.ItemPresence was removed or renamed", at = "package shop;",
    safe = { { "message ItemPresence {", "message ItemWithPresence {\n  string id = 1;\n}\n\nmessage ItemPresence {" } } },
  { rule = "MESSAGE_NO_DELETE", name = "moved to another package", change = { { "package shop;", "package shop.v2;" } },
    says = "message shop.Item moved to shop.v2.Item", at = "message Item {",
    safe = { { "message ItemList {", "message ItemListV2 {\n  repeated Item items = 1;\n}\n\nmessage ItemList {" } } },
  { rule = "SERVICE_NO_DELETE", change = { { "service ShopService {", "service StoreService {" } },
    says = "service shop.ShopService was removed or renamed", at = "package shop;",
    safe = { { "// A new item.", "service StoreService {\n  rpc CreateItem(CreateItemRequest) returns (Item);\n}\n\n// A new item." } } },
  { rule = "SERVICE_NO_DELETE", name = "moved to another package", change = { { "package shop;", "package shop.v2;" } },
    says = "service shop.ShopService moved to shop.v2.ShopService", at = "service ShopService {",
    safe = {} },
  { rule = "ENUM_NO_DELETE", change = { { "enum Kind {", "enum ItemKind {" }, { "  Kind kind = 8;", "  ItemKind kind = 8;" } },
    says = "enum shop.Kind was removed or renamed", at = "package shop;",
    safe = { { "enum Kind {", "enum Grade {\n  GRADE_UNSPECIFIED = 0;\n}\n\nenum Kind {" } } },
}

local root = util.mktemp_dir()
local released_cache = {}
-- The baseline for a case's base edits, accepted once per distinct base.
local function baseline(base)
  local parts = {}
  for i, e in ipairs(base or {}) do parts[i] = e[1] .. "=>" .. e[2] end
  local key = table.concat(parts, "|")
  if not released_cache[key] then
    local n = 0
    for _ in pairs(released_cache) do n = n + 1 end
    local dir = proto_copy(root, "released" .. n, base)
    local path = util.join(root, "released" .. n .. ".pb")
    local ok, out = gate("accept", dir, path)
    if not ok then error(out, 0) end
    released_cache[key] = path
  end
  return released_cache[key]
end

local tests = {}
local covered = {}
for i, case in ipairs(CASES) do
  covered[case.rule] = true
  tests[#tests + 1] = { case.rule .. (case.name and " (" .. case.name .. ")" or "") .. ": refused, safe form passes",
    function()
      local base = baseline(case.base)
      local changed = proto_copy(root, "change" .. i, case.change)
      local ok, out = gate("check", changed, base)
      h.truthy(not ok, "the change is refused:\n" .. out)
      local line = line_of(changed, case.at)
      h.contains(out, ("shop.proto:%d: %s: "):format(line, case.rule), "file:line and rule")
      h.contains(out, case.says, "message")
      h.contains(out, "safe way: ", "safe way")
      h.contains(out, "ALLOW_BREAKING=RULE[,RULE] make accept-contract", "how to accept")
      local allowed_ok, allowed_out = gate("check", changed, base, case.rule)
      if allowed_ok then h.contains(allowed_out, case.rule .. " (allowed by ALLOW_BREAKING)", "allowed") end
      local safe = proto_copy(root, "safe" .. i, case.safe)
      local safe_ok, safe_out = gate("check", safe, base)
      h.truthy(safe_ok, "the safe form passes:\n" .. safe_out)
    end }
end

tests[#tests + 1] = { "every rule has a fixture case", function()
  for _, rule in ipairs(util.sorted_keys(require("compat.wire_rules").RULES)) do
    h.truthy(covered[rule], rule .. " has a case")
  end
end }

tests[#tests + 1] = { "ALLOW_BREAKING passes the named rule only; an unknown name is an error", function()
  local base = baseline()
  local changed = proto_copy(root, "allow", { { "  string note = 5;", "  string note = 15;" },
    { "  int32 stock = 4;", "  int64 stock = 4;" } })
  local ok, out = gate("check", changed, base, "FIELD_SAME_NUMBER")
  h.truthy(not ok, "FIELD_SAME_TYPE still refused")
  h.contains(out, "FIELD_SAME_NUMBER (allowed by ALLOW_BREAKING)")
  h.contains(out, "contract: 1 breaking change(s)")
  ok, out = gate("check", changed, base, "FIELD_SAME_NUMBER,FIELD_SAME_TYPE")
  h.truthy(ok, "both allowed:\n" .. out)
  ok, out = gate("check", changed, base, "FIELD_SAME_NUMBERS")
  h.truthy(not ok, "a typo is refused")
  h.contains(out, "ALLOW_BREAKING: unknown rule FIELD_SAME_NUMBERS")
end }

tests[#tests + 1] = { "accept refuses a breaking change unless allowed, then records it", function()
  local base = util.join(root, "accept.pb")
  util.run(("cp %s %s"):format(util.shell_quote(baseline()), util.shell_quote(base)))
  local before = util.read_file(base)
  local changed = proto_copy(root, "accept", { { "  string note = 5;", "  string note = 15;" } })
  local ok = gate("accept", changed, base)
  h.truthy(not ok, "accept refuses")
  h.eq(util.read_file(base), before, "baseline untouched")
  ok = gate("accept", changed, base, "FIELD_SAME_NUMBER")
  h.truthy(ok, "accept with ALLOW_BREAKING")
  ok = gate("check", changed, base)
  h.truthy(ok, "the accepted contract is the new baseline")
end }

tests[#tests + 1] = { "a missing baseline is an error naming make accept-contract", function()
  local ok, out = gate("check", PROTO, util.join(root, "none.pb"))
  h.truthy(not ok, "refused")
  h.contains(out, "run `make accept-contract`")
end }

tests[#tests + 1] = { "tightened rules warn, loosened ones do not; neither refuses", function()
  local base = baseline()
  local tight = proto_copy(root, "tight", { { "min_len: 2, max_len: 8", "min_len: 3, max_len: 6" },
    { "int32 = { gte: 0, lte: 1000 }", "int32 = { gte: 0, lte: 100 }" },
    { "max_items: 3, items: { string: { uuid: true } }", "max_items: 2, items: { string: { uuid: true, max_len: 36 } }" },
    { "  string email = 4 [(rules.field).string = { email: true }];",
      "  string email = 4 [(rules.field).string = { email: true }];\n  string region = 7 [(rules.field).string = { required: true }];" } })
  local ok, out = gate("check", tight, base)
  h.truthy(ok, "warnings do not refuse:\n" .. out)
  h.contains(out, ("shop.proto:%d: warning: shop.CreateItemRequest.code: rules tightened (string.max_len 8 -> 6, "
    .. "string.min_len 2 -> 3)"):format(line_of(tight, "string code = 2")))
  h.contains(out, "shop.CreateItemRequest.stock: rules tightened (int32.lte 1000 -> 100)")
  h.contains(out, "shop.GetItemsRequest.ids: rules tightened (repeated.items.string.max_len unset -> 36, "
    .. "repeated.max_items 3 -> 2)")
  h.contains(out, "shop.CreateItemRequest.region: new field with string.required")
  local loose = proto_copy(root, "loose", { { "min_len: 2, max_len: 8", "min_len: 1, max_len: 10" },
    { "  string email = 4 [(rules.field).string = { email: true }];",
      "  string email = 4 [(rules.field).string = { email: true }];\n  string region = 7 [(rules.field).string = { max_len: 5 }];" } })
  ok, out = gate("check", loose, base)
  h.truthy(ok, "loosened passes")
  h.truthy(not out:find("warning", 1, true), "no warning for loosened rules:\n" .. out)
end }

tests[#tests + 1] = { "cleanup", function() util.remove_tree(root) end }

return tests
