-- The largest valid request of each rpc, from its (rules.field) rules: every
-- field at its longest (strings at max_len, or 4 bytes per character of
-- max_chars, or 36 for a UUID; repeated fields at max_items; integers at
-- their widest varint), each encoded once as protobuf would. A field without
-- such a bound makes the request unbounded, and the reason names it. The
-- daemon's default receive limit is raised to fit the largest (model.lua
-- sets service.largest_request; runtime/src/config.c uses it), and
-- docs/api.md prints the figures.
local M = {}

-- The most any daemon may receive (runtime/src/config.h's
-- RT_MAX_MESSAGE_BYTES_LIMIT, --max-message-bytes' upper bound).
M.LIMIT = 64 * 1024 * 1024

local function varint_size(v)
  if v < 0 then return 10 end
  local n = 1
  while v >= 0x80 do v, n = v >> 7, n + 1 end
  return n
end

local FIXED = { double = 8, fixed64 = 8, sfixed64 = 8, float = 4, fixed32 = 4, sfixed32 = 4, bool = 1 }

local function rule(rules, kind)
  for _, r in ipairs(rules or {}) do if r.kind == kind then return r.value end end
end

-- The largest encoded value (without tag) of one scalar or string under
-- rules, or nil and why it has none.
local function value_size(type_label, rules)
  if type_label == "string" then
    local bytes = rule(rules, "max_len")
    local chars = rule(rules, "max_chars")
    if chars and (not bytes or chars * 4 < bytes) then bytes = chars * 4 end
    for _, r in ipairs(rules or {}) do
      if r.kind == "uuid" and (not bytes or bytes > 36) then bytes = 36 end
    end
    if not bytes then return nil, "has no max_len, max_chars or uuid rule" end
    return varint_size(bytes) + bytes
  elseif type_label == "int32" or type_label == "enum" then
    local gte, lte = rule(rules, "gte"), rule(rules, "lte")
    if type_label == "int32" and gte and gte >= 0 then return varint_size(lte or 2147483647) end
    return 10 -- a negative int32 is sign-extended to ten bytes
  elseif type_label == "int64" or type_label == "uint64" or type_label == "sint64" or type_label == "uint32"
      or type_label == "sint32" then
    return 10
  elseif FIXED[type_label] then
    return FIXED[type_label]
  end
  return nil, "is " .. type_label .. ", which no rule bounds"
end

-- Largest size of message m (a model message) in bytes, or nil and the
-- reason ("wallet.X.f has no max_len ..."); messages maps full names.
function M.largest(m, messages, seen)
  seen = seen or {}
  if seen[m.full_name] then return nil, m.full_name:sub(2) .. " contains itself" end
  seen[m.full_name] = true
  local total = 0
  for _, f in ipairs(m.fields) do
    local tag = varint_size(f.number << 3)
    local where = ("%s.%s"):format(m.full_name:sub(2), f.name)
    local one, why
    if f.type_label == "message" then
      local sub = messages[f.type_name]
      if not sub then return nil, where .. " is of a message the contract does not hold" end
      one, why = M.largest(sub, messages, seen)
      if not one then return nil, why end
      one = varint_size(one) + one
    else
      local item_rules = f.rules
      if f.repeated then
        item_rules = {}
        for _, r in ipairs(f.rules or {}) do if r.kind == "items" then item_rules = r.items end end
      end
      one, why = value_size(f.type_label, item_rules)
      if not one then return nil, where .. " " .. why end
    end
    if f.repeated then
      local n = rule(f.rules, "max_items")
      if not n then return nil, where .. " has no max_items rule" end
      -- each item with its own tag (packed encodings are never larger)
      total = total + n * (tag + one)
    else
      total = total + tag + one
    end
  end
  seen[m.full_name] = nil
  return total
end

return M
