-- gen/<p>.validate.{c,h}: one validator per message that has rules. Each field
-- yields at most one violation, the first failing rule in DESIGN-NOTES order,
-- so callers see one clear reason per field. A repeated field checks its item
-- count, then its items through a static helper that answers the first rule
-- an item breaks.
local util = require("util")
local c = require("emit.c")
local template = require("template")

local M = {}

-- Each check is the C condition under which the rule fails, for the value v
-- (a C expression) whose length is in the variable len.
local CHECKS = {
  required = function(_, len) return ("%s == 0"):format(len) end,
  min_len = function(_, len, n) return ("%s < %d"):format(len, n) end,
  max_len = function(_, len, n) return ("%s > %d"):format(len, n) end,
  min_chars = function(v, len, n) return ("rt_rule_chars(%s, %s) < %d"):format(v, len, n) end,
  max_chars = function(v, len, n) return ("rt_rule_chars(%s, %s) > %d"):format(v, len, n) end,
  utf8 = function(v, len) return ("!rt_rule_utf8(%s, %s)"):format(v, len) end,
  email = function(v, len) return ("!rt_rule_email(%s, %s)"):format(v, len) end,
  uuid = function(v, len) return ("!rt_rule_uuid(%s, %s)"):format(v, len) end,
  gte = function(v, _, n) return ("%s < %d"):format(v, n) end,
  lte = function(v, _, n) return ("%s > %d"):format(v, n) end,
  -- for these v is the item count
  min_items = function(v, _, n) return ("%s < %d"):format(v, n) end,
  max_items = function(v, _, n) return ("%s > %d"):format(v, n) end,
}

function M.validator_name(msg) return msg.c_prefix .. "__validate" end

local function item_helper_name(msg, field) return msg.c_prefix .. "__" .. field.name .. "_item_fails" end

-- `if (fails) action; else if ...` over rules, for value v of length len.
local function chain(rules, v, len, action, indent)
  local out = {}
  for i, rule in ipairs(rules) do
    out[#out + 1] = ("%s%sif (%s)\n%s    %s\n"):format(indent, i > 1 and "else " or "",
      CHECKS[rule.kind](v, len, rule.value), indent, action(rule))
  end
  return table.concat(out)
end

-- The static helper of a repeated field with item rules: $checks$ is one
-- ITEM_CHECK per rule.
local ITEM_HELPER = [[
$doc$
static const char *$helper$($param$)
{
    $strlen$
$checks$
    return NULL;
}
]]
local ITEM_CHECK = [[
    if ($fails$)
        return $description$;
]]

local function item_helper(msg, field, items)
  local checks = {}
  for i, rule in ipairs(items) do
    checks[i] = template.render(ITEM_CHECK, { fails = CHECKS[rule.kind]("v", "len", rule.value),
      description = c.string(rule.description) })
  end
  local is_string = field.type_label == "string"
  return template.render(ITEM_HELPER, { helper = item_helper_name(msg, field),
    doc = c.comment(("The first rule an item of %s.%s breaks, or NULL."):format(msg.full_name:sub(2), field.name)),
    param = (is_string and "const char *" or field.c_type .. " ") .. "v",
    strlen = is_string and "size_t len = strlen(v);", checks = table.concat(checks) })
end

-- A repeated field's items: the first bad one is found before the chain of
-- count rules, which reports it last ($else$ continues that chain).
local ITEMS_CHECK = [[
    const char *$bad$ = NULL;
    for (size_t i = 0; i < $count$ && !$bad$; i++)
        $bad$ = $helper$(m->$field$[i]);
$counts$
    $else$if ($bad$)
        rt_violations_add(out, $name$, $bad$);
]]

local function field_checks(msg, field)
  local function add(rule) return ("rt_violations_add(out, %s, %s);"):format(c.string(field.name),
    c.string(rule.description)) end
  if not field.repeated then
    local setup = ""
    if field.type_label == "string" then setup = ("    size_t %s_len = strlen(m->%s);\n"):format(field.name, field.name) end
    return setup .. chain(field.rules, "m->" .. field.name, field.name .. "_len", add, "    ")
  end
  local counts, items = {}, nil
  for _, rule in ipairs(field.rules) do
    if rule.kind == "items" then items = rule else counts[#counts + 1] = rule end
  end
  local count = "m->n_" .. field.name
  local out = chain(counts, count, nil, add, "    ")
  if not items then return out end
  return template.render(ITEMS_CHECK, { bad = field.name .. "_bad_item", count = count, field = field.name,
    helper = item_helper_name(msg, field), counts = out, ["else"] = #counts > 0 and "else " or "",
    name = c.string(field.name) })
end

local function rules_summary(msg)
  local lines = {}
  for _, field in ipairs(msg.fields) do
    if #field.rules > 0 then
      local kinds = {}
      for _, r in ipairs(field.rules) do
        local list = r.items or { r }
        for _, one in ipairs(list) do
          kinds[#kinds + 1] = (r.items and "each " or "") .. one.kind .. (one.value and (" " .. one.value) or "")
        end
      end
      lines[#lines + 1] = field.name .. ": " .. table.concat(kinds, ", ")
    end
  end
  return table.concat(lines, "; ")
end

-- True when a message's checks call strlen.
local function uses_strlen(msg)
  for _, field in ipairs(msg.fields) do
    if #field.rules > 0 and field.type_label == "string" then
      if not field.repeated then return true end
      for _, r in ipairs(field.rules) do if r.kind == "items" then return true end end
    end
  end
  return false
end

local function emit_file(file)
  local messages = {}
  for _, m in ipairs(file.messages) do if m.has_rules then messages[#messages + 1] = m end end
  if #messages == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end

  local decls, defs, includes = {}, {}, { "rules.h" }
  for _, m in ipairs(messages) do
    local proto = c.prototype("void", M.validator_name(m), { "const " .. m.c_type .. " *m", "rt_violations *out" })
    decls[#decls + 1] = c.comment(("Checks the rules of %s (%s) and adds one violation per failing field."):format(
      m.full_name:sub(2), rules_summary(m))) .. proto .. ";\n"
    local body = {}
    for _, field in ipairs(m.fields) do
      if #field.rules > 0 then
        body[#body + 1] = field_checks(m, field)
        for _, r in ipairs(field.rules) do
          if r.items then
            defs[#defs + 1] = item_helper(m, field, r.items)
            includes[#includes + 1] = "<stddef.h>"
          end
        end
      end
    end
    if uses_strlen(m) then includes[#includes + 1] = "<string.h>" end
    defs[#defs + 1] = proto .. "\n{\n" .. table.concat(body, "\n") .. "}\n"
  end
  local base = file.base .. ".validate"
  return {
    { base .. ".h", c.header(base .. ".h", sources, { file.base .. ".pb-c.h", "violations.h" }, table.concat(decls, "\n")) },
    { base .. ".c", c.source(sources, base .. ".h", includes, table.concat(defs, "\n")) },
  }
end

M.emit = util.each_file(emit_file)

return M
