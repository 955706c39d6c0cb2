-- SQL files as PostgreSQL itself parses them: runs the pg_parse helper
-- (codegen/pg_parse/pg_parse.c, libpg_query's pg_query_parse; built by the
-- Makefile) on a file and decodes its JSON with lua-cjson. Each statement
-- comes back as
--   { kind = "AlterTableStmt", node = <its JSON object>, line = N,
--     leading = "the comments before it", offset = byte offset of its text }
-- and line_at(offset) gives the line of any node's "location".
local cjson = require("cjson")
local util = require("util")

local M = {}

-- Where the helper is: --pg-parse, else $PG_PARSE, else the Makefile's default.
M.DEFAULT_HELPER = "build/tools/pg_parse"

local function line_counter(text)
  return function(offset)
    local _, n = text:sub(1, offset):gsub("\n", "")
    return n + 1
  end
end

-- The comments and blank space from pos up to the statement's first token,
-- and the offset of that token (pg_query's stmt_location is where the text
-- after the previous semicolon starts).
local function leading(text, pos)
  local start = pos
  while true do
    local s, e = text:find("^%s+", pos)
    if s then pos = e + 1 end
    if text:sub(pos, pos + 1) == "--" then
      pos = (text:find("\n", pos, true) or #text) + 1
    elseif text:sub(pos, pos + 1) == "/*" then
      pos = (select(2, text:find("*/", pos + 2, true)) or #text) + 1
    elseif not s then
      break
    end
  end
  return text:sub(start, pos - 1), pos - 1
end

-- The statements of the SQL file at path; raises "path:line: message" on a
-- syntax error, as PostgreSQL would report it.
function M.parse_file(path, helper)
  helper = helper or os.getenv("PG_PARSE") or M.DEFAULT_HELPER
  local text = util.read_file(path)
  local p = io.popen(("%s %s 2>&1"):format(util.shell_quote(helper), util.shell_quote(path)))
  local out = p:read("a")
  local ok, _, code = p:close()
  local line_at = line_counter(text)
  if not ok then
    if code == 127 then
      error(("%s not found: build it with `make %s` (libpg-query-dev)"):format(helper, M.DEFAULT_HELPER), 0)
    end
    local cursor, message = out:match("^(%d+): (.-)%s*$")
    if not cursor then error(("%s: %s failed: %s"):format(path, helper, out), 0) end
    error(("%s:%d: %s"):format(path, line_at(math.max(tonumber(cursor) - 1, 0)), message), 0)
  end
  local tree = cjson.decode(out)
  local stmts = {}
  for _, raw in ipairs(tree.stmts or {}) do
    local kind, node = next(raw.stmt)
    local lead, offset = leading(text, (raw.stmt_location or 0) + 1)
    -- stmt_len 0 (or none): the statement runs to the end of the text
    local last = (raw.stmt_len or 0) > 0 and (raw.stmt_location or 0) + raw.stmt_len or #text
    stmts[#stmts + 1] = { kind = kind, node = node, leading = lead, offset = offset, line = line_at(offset + 1),
                          text = text:sub(offset + 1, last) }
  end
  return stmts, line_at, text
end

-- The plain strings of a name list ([{"String":{"sval":"x"}}...]).
function M.names(list)
  local out = {}
  for _, item in ipairs(list or {}) do
    if item.String then out[#out + 1] = item.String.sval end
  end
  return out
end

-- Calls visit(kind, node) for every node below tree (depth first).
function M.walk(tree, visit)
  if type(tree) ~= "table" then return end
  for k, v in pairs(tree) do
    if type(k) == "string" and k:match("^%u") and type(v) == "table" then visit(k, v) end
    M.walk(v, visit)
  end
end

return M
