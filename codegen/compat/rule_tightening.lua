-- Validation rules ((rules.field) options) tightened since the released
-- contract: not a wire break, but a request a released client sends and the
-- released daemon accepted may now be refused with INVALID_ARGUMENT, so the
-- gate warns (it never refuses). Loosened rules are fine and say nothing.
-- check(released, current, files) -> { {file, line, message}... }
local util = require("util")

local M = {}

-- How each rule tightens: "flag" when it becomes set, "min" when its value
-- grows, "max" when it shrinks. A newly set min/max bound tightens too.
local KIND = {
  required = "flag", utf8 = "flag", email = "flag", uuid = "flag",
  min_len = "min", min_chars = "min", min_items = "min", gte = "min",
  max_len = "max", max_chars = "max", max_items = "max", lte = "max",
}

-- Rules under which a field's default value ("", 0, no items) is refused:
-- a new field with one of these refuses every request of a released client,
-- which never sends the field.
local function refuses_default(rule, value)
  if KIND[rule] == "flag" then return rule ~= "utf8" and value == true end
  if rule == "gte" then return value > 0 end
  if rule == "lte" then return value < 0 end
  if KIND[rule] == "min" then return value > 0 end
  return false
end

-- "string.max_len 100 -> 50" lines for every rule of new tighter than old;
-- old and new are a FieldRules table each (nil when absent).
local function tightened(old, new, prefix, out)
  old, new = old or {}, new or {}
  for _, family in ipairs(util.sorted_keys(new)) do
    local o, n = old[family] or {}, new[family]
    if type(n) == "table" then
      for _, rule in ipairs(util.sorted_keys(n)) do
        local nv, ov = n[rule], o[rule]
        local name = prefix .. family .. "." .. rule
        if rule == "items" then
          tightened(ov, nv, name .. ".", out)
        elseif KIND[rule] == "flag" and nv == true and ov ~= true then
          out[#out + 1] = name .. " is now set"
        elseif KIND[rule] == "min" and (ov == nil or nv > ov) then
          out[#out + 1] = ("%s %s -> %d"):format(name, ov == nil and "unset" or tostring(ov), nv)
        elseif KIND[rule] == "max" and (ov == nil or nv < ov) then
          out[#out + 1] = ("%s %s -> %d"):format(name, ov == nil and "unset" or tostring(ov), nv)
        end
      end
    end
  end
  return out
end

local function rules_of(fd) return fd.options and fd.options.ext and fd.options.ext["rules.field"] end

local function message_index(set, files)
  local idx = {}
  local function add(list, scope, file)
    for _, m in ipairs(list or {}) do
      idx[scope .. m.name] = { message = m, file = file }
      add(m.nested_type, scope .. m.name .. ".", file)
    end
  end
  for _, file in ipairs(set.files) do
    if files[file.name] then add(file.messages, file.package and file.package .. "." or "", file) end
  end
  return idx
end

function M.check(released, current, files)
  local old, new = message_index(released, files), message_index(current, files)
  local warnings = {}
  for _, name in ipairs(util.sorted_keys(new)) do
    local o = old[name]
    if o then
      local n = new[name]
      local old_fields = {}
      for _, f in ipairs(o.message.fields) do old_fields[f.number] = f end
      for _, nf in ipairs(n.message.fields) do
        local of = old_fields[nf.number]
        local what = ("%s.%s"):format(name, nf.name)
        if of then
          local changes = tightened(rules_of(of), rules_of(nf), "", {})
          if #changes > 0 then
            warnings[#warnings + 1] = { file = n.file.name, line = nf.line or 1, message = ("%s: rules tightened "
              .. "(%s): requests released clients send may now be refused with INVALID_ARGUMENT")
              :format(what, table.concat(changes, ", ")) }
          end
        else
          local strict = {}
          for family, rules in pairs(rules_of(nf) or {}) do
            for rule, value in pairs(type(rules) == "table" and rules or {}) do
              if KIND[rule] and refuses_default(rule, value) then strict[#strict + 1] = family .. "." .. rule end
            end
          end
          table.sort(strict)
          if #strict > 0 then
            warnings[#warnings + 1] = { file = n.file.name, line = nf.line or 1, message = ("%s: new field with "
              .. "%s: released clients never send it, so every request of theirs is refused with INVALID_ARGUMENT")
              :format(what, table.concat(strict, ", ")) }
          end
        end
      end
    end
  end
  table.sort(warnings, function(a, b)
    if a.file ~= b.file then return a.file < b.file end
    return a.line < b.line
  end)
  return warnings
end

return M
