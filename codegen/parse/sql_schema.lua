-- The schema the migrations build, statement by statement: tables and
-- indexes in creation order, lookups that fail at the token that named
-- something unknown, and the drops, done as PostgreSQL does them.
local M = {}

local Schema = {}
Schema.__index = Schema

function Schema:table(p, name, tok)
  for _, t in ipairs(self.tables) do if t.name == name then return t end end
  p:fail(("unknown table \"%s\""):format(name), tok)
end

function Schema:has_column(t, name)
  for _, c in ipairs(t.columns) do if c.name == name then return true end end
  return false
end

function Schema:column(p, t, name, tok)
  for i, c in ipairs(t.columns) do if c.name == name then return c, i end end
  p:fail(("table \"%s\" has no column \"%s\""):format(t.name, name), tok)
end

local function contains(list, value)
  for _, v in ipairs(list or {}) do if v == value then return true end end
  return false
end

-- Removes the items of list for which drop(item) holds.
local function remove_if(list, drop)
  for i = #list, 1, -1 do if drop(list[i]) then table.remove(list, i) end end
end

-- DROP COLUMN, as PostgreSQL does it: the column's own constraints and
-- indexes go with it; a foreign key of another table that references it
-- goes only with CASCADE.
function Schema:drop_column(p, t, name, tok, cascade)
  local _, i = self:column(p, t, name, tok)
  local function references_it(k)
    return k.kind == "foreign_key" and k.ref_table == t.name and contains(k.ref_columns, name)
  end
  for _, other in ipairs(self.tables) do
    for _, k in ipairs(other.constraints) do
      if references_it(k) and not cascade then
        p:fail(("column \"%s\".\"%s\" is referenced by a foreign key of \"%s\" (DROP COLUMN ... CASCADE drops it)")
          :format(t.name, name, other.name), tok)
      end
    end
  end
  table.remove(t.columns, i)
  remove_if(t.constraints, function(k) return contains(k.columns, name) end)
  remove_if(self.indexes, function(idx) return idx.table == t.name and contains(idx.columns, name) end)
  for _, other in ipairs(self.tables) do remove_if(other.constraints, references_it) end
end

function Schema:drop_constraint(p, t, name, tok, if_exists)
  for i, k in ipairs(t.constraints) do
    if k.name == name then table.remove(t.constraints, i); return end
  end
  if not if_exists then p:fail(("table \"%s\" has no constraint \"%s\""):format(t.name, name), tok) end
end

-- DROP TABLE / DROP INDEX of one name; a table takes its indexes with it.
function Schema:drop(p, what, name, tok, if_exists)
  local list = what == "table" and self.tables or self.indexes
  local before = #list
  remove_if(list, function(x) return x.name == name end)
  if #list == before and not if_exists then p:fail(("unknown %s \"%s\""):format(what, name), tok) end
  if what == "table" then remove_if(self.indexes, function(idx) return idx.table == name end) end
end

-- into (a schema from earlier files) or a new one, with the methods above.
function M.open(into) return setmetatable(into or { tables = {}, indexes = {} }, Schema) end

-- The plain table the parser returns.
function M.close(schema) return setmetatable(schema, nil) end

return M
