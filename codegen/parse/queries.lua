-- Reads sqlc-style query files: a `-- name: Name :kind` line, the `--`
-- lines right after it as the doc comment, then the SQL up to the next name
-- line. Named parameters `@name::type` (or `@name::type[]` for an array)
-- become $1..$n in order of first appearance (the cast stays, so PostgreSQL
-- infers nothing), and `*` in RETURNING/SELECT becomes the table's explicit
-- column list. A doc line `locks: @a @b` names the parameters whose values
-- the statement locks (rows FOR UPDATE, unique keys it inserts): group
-- commit orders its groups' locks by them (runtime/src/db/db_pipeline.c).
local M = {}

-- :one a row or NOT_FOUND, :many a list of rows, :exec nothing, :execrows the
-- number of rows affected (sqlc's meanings).
M.KINDS = { "one", "many", "exec", "execrows" }
local KINDS = {}
for _, k in ipairs(M.KINDS) do KINDS[k] = true end
local KIND_LIST = ":" .. table.concat(M.KINDS, "|:")

-- Walks sql outside quoted strings/identifiers, calling fn(chunk) for plain
-- text and keeping quoted parts verbatim; returns the rebuilt text.
local function map_unquoted(sql, fn)
  local out, pos = {}, 1
  while pos <= #sql do
    local q = sql:find("[\"']", pos)
    if not q then out[#out + 1] = fn(sql:sub(pos)); break end
    out[#out + 1] = fn(sql:sub(pos, q - 1))
    local quote = sql:sub(q, q)
    local stop = q + 1
    while true do
      local e = sql:find(quote, stop, true)
      if not e then error("unterminated quote", 0) end
      if sql:sub(e + 1, e + 1) == quote then stop = e + 2 else stop = e; break end
    end
    out[#out + 1] = sql:sub(q, stop)
    pos = stop + 1
  end
  return table.concat(out)
end
M.map_unquoted = map_unquoted

-- Collapses whitespace (outside quotes) so statements read as one line in C.
local function one_line(sql)
  sql = sql:gsub("^%s+", ""):gsub("[%s;]+$", "")
  return map_unquoted(sql, function(s) return (s:gsub("%s+", " ")) end)
end

-- The cast right after a parameter: `::name`, an optional `(n[,m])` and an
-- optional `[]`. Returns its text, the type name (lower case) and whether it
-- is an array; a cast that goes on in any other way (`[1]`, `::a::b`) is an
-- error, so no type is half-read.
local function read_cast(chunk, at, fail, param)
  local name = chunk:match("^::([%a_][%w_]*)", at)
  if not name then return "", nil, false end
  local stop = at + 2 + #name
  local args = chunk:match("^%(%s*%d+%s*[,%d%s]*%)", stop)
  if args then stop = stop + #args end
  local array = chunk:sub(stop, stop + 1) == "[]"
  if array then stop = stop + 2 end
  if chunk:match("^[%[:]", stop) then
    fail(("parameter @%s: cannot read the cast %s; write ::type, ::type(n) or ::type[]"):format(
      param, chunk:match("^::[^%s,)]*", at)))
  end
  return chunk:sub(at, stop - 1), name:lower(), array
end

-- Rewrites @name::type to $n::type; returns sql and the params in order.
local function number_params(sql, fail)
  local params, by_name = {}, {}
  sql = map_unquoted(sql, function(chunk)
    -- Numbered placeholders would not be counted, so the statement would be
    -- prepared with too few parameters.
    local numbered = chunk:match("%$%d+") or chunk:match("sqlc%.n?arg")
    if numbered then fail(("write parameters as @name::type, not %s"):format(numbered)) end
    local out, pos = {}, 1
    while true do
      local at, name_end, name = chunk:find("@([%a_][%w_]*)", pos)
      if not at then out[#out + 1] = chunk:sub(pos); break end
      local cast, sql_type, array = read_cast(chunk, name_end + 1, fail, name)
      out[#out + 1] = chunk:sub(pos, at - 1)
      local p = by_name[name]
      local spelled = sql_type and sql_type .. (array and "[]" or "")
      if not p then
        if not sql_type then fail(("parameter @%s needs a ::type cast where it first appears"):format(name)) end
        p = { name = name, index = #params + 1, sql_type = sql_type, array = array }
        params[#params + 1], by_name[name] = p, p
      elseif spelled and spelled ~= p.sql_type .. (p.array and "[]" or "") then
        fail(("parameter @%s cast to both %s and %s"):format(name, p.sql_type .. (p.array and "[]" or ""), spelled))
      end
      out[#out + 1] = "$" .. p.index .. cast
      pos = name_end + 1 + #cast
    end
    return table.concat(out)
  end)
  return sql, params
end

-- Drops leading common table expressions (`WITH a AS (...), b AS (...)`):
-- the statement after them decides the table and the result rows.
local function strip_ctes(sql)
  local rest = sql:match("^[Ww][Ii][Tt][Hh]%s+(.*)$")
  if not rest then return sql end
  repeat
    local open = rest:match("^[%w_\"]+%s+[Aa][Ss]%s*()%(")
    if not open then return sql end
    local close = rest:match("%b()()", open)
    rest = rest:sub(close):gsub("^%s*", "")
    local more = rest:match("^,%s*(.*)$")
    if more then rest = more end
  until not more
  return rest
end

-- The table a statement works on: UPDATE t, INSERT INTO t, DELETE FROM t, SELECT .. FROM t.
local function target_table(sql)
  sql = strip_ctes(sql)
  local patterns = { '^UPDATE%s+"([^"]+)"', '^UPDATE%s+([%w_]+)', '^INSERT%s+INTO%s+"([^"]+)"',
    '^INSERT%s+INTO%s+([%w_]+)', '^DELETE%s+FROM%s+"([^"]+)"', '^DELETE%s+FROM%s+([%w_]+)',
    '^SELECT%s.-%sFROM%s+"([^"]+)"', '^SELECT%s.-%sFROM%s+([%w_]+)' }
  local upper_sql = sql:gsub("^%a+", string.upper):gsub("%s(%a+)%s", function(w) return " " .. w:upper() .. " " end)
  for _, pat in ipairs(patterns) do
    local name = upper_sql:match(pat)
    if name then
      -- unquoted names fold to lower case, as PostgreSQL folds them
      if not pat:find('"', 1, true) then name = name:lower() end
      return name
    end
  end
end

-- Parses one file. Returns a list of queries:
--   { name, kind, doc, sql (with $n), params = {{name, index, sql_type, array}}, locks = {index...}, table,
--     star, line }
function M.parse(src, file)
  local queries, current, line_no = {}, nil, 0
  local function fail(msg, line) error(("%s:%d: %s"):format(file, line or line_no, msg), 0) end
  local function finish()
    if not current then return end
    local body = table.concat(current.body, "\n")
    if body:match("^%s*$") then fail("query " .. current.name .. " has no SQL", current.line) end
    local sql, params = number_params(one_line(body), function(m) fail(m, current.line) end)
    current.sql, current.params, current.body = sql, params, nil
    current.locks = {}
    for _, doc in ipairs(current.doc) do
      local list = doc:match("^locks:%s*(.*)$")
      for name in (list or ""):gmatch("%S+") do
        local param = name:match("^@([%a_][%w_]*)$")
        local found
        for _, p in ipairs(params) do
          if p.name == param then found = p end
        end
        if not found or found.array or found.sql_type ~= "text" then
          fail(("query %s: locks: %s is not one of its text parameters"):format(current.name, name), current.line)
        end
        current.locks[#current.locks + 1] = found.index
      end
    end
    current.table = target_table(sql)
    current.star = sql:find("RETURNING %*$") ~= nil or sql:upper():find("^SELECT %* FROM") ~= nil
    queries[#queries + 1] = current
    current = nil
  end
  for line in (src .. "\n"):gmatch("(.-)\r?\n") do
    line_no = line_no + 1
    local name, kind = line:match("^%-%-%s*name:%s*([%a_][%w_]*)%s+:(%a+)%s*$")
    if line:match("^%-%-%s*name:") and not name then
      fail("malformed name line, expected `-- name: Name " .. KIND_LIST .. "`")
    end
    if name then
      finish()
      if not KINDS[kind] then fail(("query %s: unsupported kind :%s (use %s)"):format(name, kind, KIND_LIST)) end
      for _, q in ipairs(queries) do
        if q.name == name then fail("query " .. name .. " defined twice (first on line " .. q.line .. ")") end
      end
      current = { name = name, kind = kind, doc = {}, body = {}, line = line_no, file = file }
    elseif current then
      local comment = line:match("^%s*%-%-%s?(.*)$")
      if comment and #current.body == 0 then
        current.doc[#current.doc + 1] = comment
      elseif not comment then
        current.body[#current.body + 1] = line
      end
    elseif not line:match("^%s*%-%-") and not line:match("^%s*$") then
      fail("SQL outside a query: every statement needs a `-- name: Name " .. KIND_LIST .. "` line above it")
    end
  end
  finish()
  for _, q in ipairs(queries) do q.doc = table.concat(q.doc, "\n") end
  return queries
end

-- Replaces `RETURNING *` / `SELECT *` by the quoted column list of the
-- query's table (columns = list of SQL column names, in table order).
function M.expand_star(query, columns)
  local list = {}
  for i, c in ipairs(columns) do list[i] = '"' .. c .. '"' end
  local cols = table.concat(list, ", ")
  local sql = query.sql:gsub("RETURNING %*$", "RETURNING " .. cols)
  sql = sql:gsub("^SELECT %* FROM", "SELECT " .. cols .. " FROM"):gsub("^select %* from", "SELECT " .. cols .. " FROM")
  return sql
end

return M
