-- gen/<p>.validate.{c,h}: one validator per message that has rules. Each field
-- yields at most one violation, the first failing rule in DESIGN-NOTES order,
-- so callers see one clear reason per field.
local c = require("emit.c")

local M = {}

local STRING_CHECKS = {
  required = function(f) return ("%s_len == 0"):format(f) end,
  min_len = function(f, v) return ("%s_len < %d"):format(f, v) end,
  max_len = function(f, v) return ("%s_len > %d"):format(f, v) end,
  utf8 = function(f) return ("!rt_rule_utf8(m->%s, %s_len)"):format(f, f) end,
  email = function(f) return ("!rt_rule_email(m->%s, %s_len)"):format(f, f) end,
  uuid = function(f) return ("!rt_rule_uuid(m->%s, %s_len)"):format(f, f) end,
}
local INT_CHECKS = {
  gte = function(f, v) return ("m->%s < %d"):format(f, v) end,
  lte = function(f, v) return ("m->%s > %d"):format(f, v) end,
}

function M.validator_name(msg) return msg.c_prefix .. "__validate" end

local function field_checks(field)
  local out = {}
  local checks = field.type_label == "string" and STRING_CHECKS or INT_CHECKS
  if field.type_label == "string" then
    out[#out + 1] = ("    size_t %s_len = strlen(m->%s);\n"):format(field.name, field.name)
  end
  for i, rule in ipairs(field.rules) do
    out[#out + 1] = ("    %sif (%s)\n        rt_violations_add(out, %s, %s);\n"):format(i > 1 and "else " or "",
      checks[rule.kind](field.name, rule.value), c.string(field.name), c.string(rule.description))
  end
  return table.concat(out)
end

local function rules_summary(msg)
  local lines = {}
  for _, field in ipairs(msg.fields) do
    if #field.rules > 0 then
      local kinds = {}
      for i, r in ipairs(field.rules) do kinds[i] = r.kind .. (r.value and (" " .. r.value) or "") end
      lines[#lines + 1] = field.name .. ": " .. table.concat(kinds, ", ")
    end
  end
  return table.concat(lines, "; ")
end

function M.emit(file)
  local messages = {}
  for _, m in ipairs(file.messages) do if m.has_rules then messages[#messages + 1] = m end end
  if #messages == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end

  local decls, defs, needs_strlen = {}, {}, false
  for _, m in ipairs(messages) do
    local proto = c.prototype("void", M.validator_name(m), { "const " .. m.c_type .. " *m", "rt_violations *out" })
    decls[#decls + 1] = c.comment(("Checks the rules of %s (%s) and adds one violation per failing field."):format(
      m.full_name:sub(2), rules_summary(m))) .. proto .. ";\n"
    local body = {}
    for _, field in ipairs(m.fields) do
      if #field.rules > 0 then
        body[#body + 1] = field_checks(field)
        if field.type_label == "string" then needs_strlen = true end
      end
    end
    defs[#defs + 1] = proto .. "\n{\n" .. table.concat(body, "\n") .. "}\n"
  end
  local base = file.base .. ".validate"
  return {
    { base .. ".h", c.header(base .. ".h", sources, { file.base .. ".pb-c.h", "violations.h" }, table.concat(decls, "\n")) },
    { base .. ".c", c.source(sources, base .. ".h", needs_strlen and { "<string.h>" } or {}, table.concat(defs, "\n")) },
  }
end

return M
