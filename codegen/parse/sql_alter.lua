-- ALTER TABLE and DROP statements of the DDL reader (sql_ddl.lua), applied
-- to the schema as they are read.
local lexer = require("parse.sql_lexer")
local Parser = lexer.Parser

local M = {}

M.SUPPORTED = "CREATE TABLE, CREATE [UNIQUE] INDEX, DROP INDEX, DROP TABLE, ALTER TABLE with ADD [COLUMN], "
  .. "DROP [COLUMN], ALTER [COLUMN] (SET/DROP NOT NULL, SET/DROP DEFAULT, [SET DATA] TYPE), ADD [CONSTRAINT] "
  .. "(PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK [NOT VALID], PRIMARY KEY/UNIQUE USING INDEX), VALIDATE CONSTRAINT, "
  .. "DROP CONSTRAINT; CREATE [OR REPLACE] FUNCTION, CREATE [CONSTRAINT] TRIGGER, GRANT, REVOKE, INSERT INTO and "
  .. "UPDATE (data fills) are read past: they shape no row"

-- [IF EXISTS]: true when it was there.
function Parser:if_exists()
  if not self:accept("IF") then return false end
  self:expect("EXISTS")
  return true
end

local function drop_behaviour(p)
  if p:accept("CASCADE") then return true end
  p:accept("RESTRICT")
  return false
end

-- ALTER [COLUMN] name SET NOT NULL | DROP NOT NULL | SET DEFAULT e | DROP DEFAULT | [SET DATA] TYPE t
function Parser:alter_column(schema, t)
  local tok = self:peek()
  local col = schema:column(self, t, self:ident(), tok)
  if self:accept("SET") then
    if self:accept("NOT") then self:expect("NULL"); col.not_null = true
    elseif self:accept("DEFAULT") then col.default = self:default_expr()
    elseif self:accept("DATA") then self:expect("TYPE"); col.type = self:column_type()
    else self:fail("unsupported ALTER COLUMN SET " .. self:peek().up .. " (supported: SET NOT NULL, SET DEFAULT, "
      .. "SET DATA TYPE)") end
  elseif self:accept("DROP") then
    if self:accept("NOT") then self:expect("NULL"); col.not_null = false
    else self:expect("DEFAULT"); col.default = nil end
  elseif self:accept("TYPE") then
    col.type = self:column_type()
  else
    self:fail("unsupported ALTER COLUMN action '" .. self:peek().text .. "'")
  end
  if self:is("USING") or self:is("COLLATE") then self:fail("ALTER COLUMN ... " .. self:peek().up .. " is not supported") end
end

-- ADD CONSTRAINT name UNIQUE | PRIMARY KEY USING INDEX idx: the unique
-- index (built CONCURRENTLY before) becomes the constraint, keeping its
-- columns; it stays one key, not two.
function Parser:constraint_using_index(schema, t, name)
  local line = self:peek().line
  local kind = "unique"
  if not self:accept("UNIQUE") then
    self:expect("PRIMARY")
    self:expect("KEY")
    kind = "primary_key"
  end
  self:expect("USING")
  self:expect("INDEX")
  local tok = self:peek()
  local idx_name = self:ident()
  for i, idx in ipairs(schema.indexes) do
    if idx.name == idx_name and idx.table == t.name then
      if not idx.unique or idx.predicate then
        self:fail(("index \"%s\" is not a plain unique index"):format(idx_name), tok)
      end
      table.remove(schema.indexes, i)
      table.insert(t.constraints, { kind = kind, columns = idx.columns, name = name, line = line, file = self.file })
      return
    end
  end
  self:fail(("no index \"%s\" on table \"%s\""):format(idx_name, t.name), tok)
end

-- One action of ALTER TABLE; actions are separated by commas.
function Parser:alter_action(schema, t)
  local start = self:peek()
  if self:accept("ADD") then
    if self:accept("CONSTRAINT") then
      local name = self:ident()
      if (self:is("UNIQUE") and self:is("USING", 1)) or (self:is("PRIMARY") and self:is("USING", 2)) then
        return self:constraint_using_index(schema, t, name)
      end
      local k = self:table_constraint(name)
      -- NOT VALID: rows already there are checked later (VALIDATE CONSTRAINT).
      if (k.kind == "foreign_key" or k.kind == "check") and self:accept("NOT") then self:expect("VALID") end
      table.insert(t.constraints, k)
    elseif self:is("PRIMARY") or self:is("UNIQUE") or self:is("FOREIGN") or self:is("CHECK") then
      table.insert(t.constraints, self:table_constraint(nil))
    else
      self:accept("COLUMN")
      local if_not_exists = false
      if self:accept("IF") then self:expect("NOT"); self:expect("EXISTS"); if_not_exists = true end
      local constraints = {}
      local col = self:column_def(constraints)
      if schema:has_column(t, col.name) then
        if if_not_exists then return end
        self:fail(("table \"%s\" already has a column \"%s\""):format(t.name, col.name), start)
      end
      table.insert(t.columns, col)
      table.move(constraints, 1, #constraints, #t.constraints + 1, t.constraints)
    end
  elseif self:accept("DROP") then
    if self:accept("CONSTRAINT") then
      local if_exists = self:if_exists()
      local tok = self:peek()
      schema:drop_constraint(self, t, self:ident(), tok, if_exists)
      drop_behaviour(self)
    else
      self:accept("COLUMN")
      local if_exists = self:if_exists()
      local tok = self:peek()
      local name = self:ident()
      local cascade = drop_behaviour(self)
      if not (if_exists and not schema:has_column(t, name)) then schema:drop_column(self, t, name, tok, cascade) end
    end
  elseif self:accept("ALTER") then
    self:accept("COLUMN")
    self:alter_column(schema, t)
  elseif self:accept("VALIDATE") then
    -- Checks the rows a NOT VALID constraint let through; the schema is unchanged.
    self:expect("CONSTRAINT")
    self:ident()
  else
    self:fail("unsupported ALTER TABLE action '" .. start.text .. "' (supported: " .. M.SUPPORTED .. ")", start)
  end
end

function Parser:alter_table(schema)
  if self:accept("IF") then self:expect("EXISTS") end
  self:accept("ONLY")
  local tok = self:peek()
  local t = schema:table(self, self:qualified_name(), tok)
  repeat self:alter_action(schema, t) until not self:punct(",")
end

-- DROP TABLE / DROP INDEX [IF EXISTS] name [, ...] [CASCADE | RESTRICT]
function Parser:drop(schema, start)
  local what = self:accept("TABLE") and "table" or (self:accept("INDEX") and "index")
  if not what then self:fail("unsupported statement DROP " .. self:peek().up .. " (supported: " .. M.SUPPORTED .. ")", start) end
  if what == "index" then self:accept("CONCURRENTLY") end
  local if_exists = self:if_exists()
  local names = {}
  repeat
    names[#names + 1] = { tok = self:peek(), name = self:qualified_name() }
  until not self:punct(",")
  local cascade = drop_behaviour(self)
  for _, n in ipairs(names) do schema:drop(self, what, n.name, n.tok, if_exists, cascade) end
end

return M
