-- Whole-line C templates with named holes, in the manner of protoc-c's
-- printer: an emitter writes the C it produces, and marks what varies as
-- $name$. So the shape of the output is read in the emitter, not pieced
-- together from fragments.
--
--   template.render([[
--   static rt_status invoke_$method$(rt_call *call)
--   {
--       $body$
--   }
--   ]], { method = "get_user", body = "return RT_OK;" })
--
-- Rules, all of them:
--   $name$    the value of name (a string or number); a hole without a value
--             is a bug in the emitter and raises.
--   $$        a literal $.
--   A line holding only a hole (and indentation) is a block: each line of
--             its value is indented like the hole, and an empty value
--             (or false) drops the line. Blocks go in as they are.
--   Any other line longer than the style's width (emit/c.lua) is wrapped
--             after the parenthesis of its call, as emit/c.lua's c.call
--             wraps, so a template line may hold a whole prototype or call
--             (unless a value put a line break into it: that is kept as is).
local c = require("emit.c")

local M = {}

local function value_of(vars, name)
  local v = vars[name]
  if v == nil then error("template: no value for $" .. name .. "$", 2) end
  return v
end

-- Splits "indent prefix(args)suffix" at its first parenthesis and the
-- top-level commas of its argument list (string and character literals and
-- nested parentheses kept whole); nil when the line holds no call.
local function split_call(line)
  local indent, rest = line:match("^(%s*)(.*)$")
  local open = rest:find("(", 1, true)
  if not open then return nil end
  local args, depth, start, quote = {}, 0, open + 1, nil
  local i = open + 1
  while i <= #rest do
    local ch = rest:sub(i, i)
    if quote then
      if ch == "\\" then i = i + 1 elseif ch == quote then quote = nil end
    elseif ch == '"' or ch == "'" then
      quote = ch
    elseif ch == "(" then
      depth = depth + 1
    elseif ch == ")" then
      if depth == 0 then
        args[#args + 1] = rest:sub(start, i - 1)
        return indent, rest:sub(1, open - 1), args, rest:sub(i + 1)
      end
      depth = depth - 1
    elseif ch == "," and depth == 0 then
      args[#args + 1] = rest:sub(start, i - 1)
      start = i + 2 -- past ", "
    end
    i = i + 1
  end
  return nil
end

local function wrap(line)
  if #line <= c.WIDTH or line:find("\n") then return line end
  local indent, prefix, args, suffix = split_call(line)
  if not indent then return line end
  return c.call(indent, prefix, args, suffix)
end

-- The text of template with every hole filled from vars.
function M.render(template, vars)
  local out = {}
  local body = template:gsub("\n$", "")
  for line in (body .. "\n"):gmatch("(.-)\n") do
    local indent, block = line:match("^(%s*)%$([%w_]+)%$$")
    if block then
      local v = value_of(vars, block)
      if v and v ~= "" then
        for l in (tostring(v):gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do
          out[#out + 1] = l == "" and "" or indent .. l
        end
      end
    else
      local filled = line:gsub("%$([%w_]*)%$", function(name)
        if name == "" then return "$" end
        return tostring(value_of(vars, name))
      end)
      out[#out + 1] = wrap(filled)
    end
  end
  return table.concat(out, "\n") .. (template:sub(-1) == "\n" and "\n" or "")
end

return M
