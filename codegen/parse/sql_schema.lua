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

-- Removes the foreign keys for which refers(k, owner table) holds: what
-- a drop with CASCADE does. Without CASCADE any such key is an error naming
-- what (e.g. 'column "T"."c"') and the statement that would drop it.
function Schema:drop_references(p, tok, cascade, what, statement, refers)
  for _, other in ipairs(self.tables) do
    for _, k in ipairs(other.constraints) do
      if k.kind == "foreign_key" and refers(k, other) and not cascade then
        p:fail(("%s is referenced by a foreign key of \"%s\" (%s ... CASCADE drops it)"):format(what, other.name,
          statement), tok)
      end
    end
  end
  for _, other in ipairs(self.tables) do
    remove_if(other.constraints, function(k) return k.kind == "foreign_key" and refers(k, other) end)
  end
end

-- DROP COLUMN, as PostgreSQL does it: the column's own constraints and
-- indexes go with it, and foreign keys that reference it with CASCADE.
function Schema:drop_column(p, t, name, tok, cascade)
  local _, i = self:column(p, t, name, tok)
  self:drop_references(p, tok, cascade, ("column \"%s\".\"%s\""):format(t.name, name), "DROP COLUMN",
    function(k) return k.ref_table == t.name and contains(k.ref_columns, name) end)
  table.remove(t.columns, i)
  remove_if(t.constraints, function(k) return contains(k.columns, name) end)
  remove_if(self.indexes, function(idx) return idx.table == t.name and contains(idx.columns, name) end)
end

function Schema:drop_constraint(p, t, name, tok, if_exists)
  for i, k in ipairs(t.constraints) do
    if k.name == name then table.remove(t.constraints, i); return end
  end
  if not if_exists then p:fail(("table \"%s\" has no constraint \"%s\""):format(t.name, name), tok) end
end

-- DROP TABLE / DROP INDEX of one name. A table takes its indexes with it,
-- and the foreign keys of other tables that reference it only with CASCADE.
function Schema:drop(p, what, name, tok, if_exists, cascade)
  local list = what == "table" and self.tables or self.indexes
  local found = false
  for _, x in ipairs(list) do found = found or x.name == name end
  if not found then
    if not if_exists then p:fail(("unknown %s \"%s\""):format(what, name), tok) end
    return
  end
  if what == "table" then
    self:drop_references(p, tok, cascade, ("table \"%s\""):format(name), "DROP TABLE",
      -- its own foreign keys go with it
      function(k, owner) return k.ref_table == name and owner.name ~= name end)
    remove_if(self.indexes, function(idx) return idx.table == name end)
  end
  remove_if(list, function(x) return x.name == name end)
end

-- into (a schema from earlier files) or a new one, with the methods above.
function M.open(into) return setmetatable(into or { tables = {}, indexes = {} }, Schema) end

-- The plain table the parser returns.
function M.close(schema) return setmetatable(schema, nil) end

return M
