-- Reads the DDL that Prisma-made and hand-written PostgreSQL migrations
-- commonly say (docs/contracts.md lists it) and applies it in order, so the
-- result is the schema after the last migration. Anything else is an error
-- naming file:line: a statement the generator silently skipped would make
-- gen/ disagree with the database.
local lexer = require("parse.sql_lexer")
local alter = require("parse.sql_alter")
local sql_schema = require("parse.sql_schema")
local Parser = lexer.Parser

local M = {}

M.SUPPORTED = alter.SUPPORTED

-- Type name, optional (n[, m]) and the multi-word spellings PostgreSQL allows.
function Parser:column_type()
  local t = self:next()
  if t.kind ~= "word" and t.kind ~= "qident" then self:fail("expected a column type", t) end
  local name = t.up
  if (name == "DOUBLE" and self:accept("PRECISION")) then name = "DOUBLE PRECISION" end
  if (name == "CHARACTER" or name == "CHAR" or name == "BIT") and self:accept("VARYING") then
    name = name .. " VARYING"
  end
  local args = {}
  if self:punct("(") then
    repeat
      local n = self:next()
      if n.kind ~= "number" then self:fail("expected a number in the type's arguments", n) end
      args[#args + 1] = tonumber(n.text)
    until not self:punct(",")
    self:expect_punct(")")
  end
  local tz
  if self:is("WITH") or self:is("WITHOUT") then
    tz = self:next().up
    self:expect("TIME"); self:expect("ZONE")
  end
  local array = false
  if self:punct("[") then self:expect_punct("]"); array = true end
  local text = name .. (#args > 0 and "(" .. table.concat(args, ",") .. ")" or "")
  if tz then text = text .. " " .. tz .. " TIME ZONE" end
  return { name = name, args = args, with_time_zone = tz == "WITH", array = array, text = text }
end

local COLUMN_STOP = { NOT = true, NULL = true, PRIMARY = true, UNIQUE = true, REFERENCES = true,
                      CONSTRAINT = true, CHECK = true, DEFAULT = true, COLLATE = true, GENERATED = true }

-- DEFAULT's expression, kept as text: tokens up to the next column
-- constraint keyword, or the ',' / ')' that ends the column, outside parens.
function Parser:default_expr()
  local parts, depth = {}, 0
  while true do
    local t = self:peek()
    if t.kind == "eof" then self:fail("unterminated DEFAULT expression") end
    if depth == 0 and ((t.kind == "punct" and (t.text == "," or t.text == ")" or t.text == ";"))
        or (t.kind == "word" and COLUMN_STOP[t.up])) then break end
    if t.kind == "punct" and t.text == "(" then depth = depth + 1 end
    if t.kind == "punct" and t.text == ")" then depth = depth - 1 end
    parts[#parts + 1] = lexer.token_text(t)
    self:next()
  end
  if #parts == 0 then self:fail("DEFAULT without an expression") end
  return lexer.join_tokens(parts)
end

local ACTIONS = { CASCADE = true, RESTRICT = true }
function Parser:referential_action()
  if self:accept("NO") then self:expect("ACTION"); return "NO ACTION" end
  if self:accept("SET") then
    if self:accept("NULL") then return "SET NULL" end
    self:expect("DEFAULT"); return "SET DEFAULT"
  end
  local t = self:next()
  if t.kind == "word" and ACTIONS[t.up] then return t.up end
  self:fail("unsupported referential action '" .. t.text .. "'", t)
end

-- REFERENCES t [(cols)] [ON DELETE a] [ON UPDATE a], in either order.
function Parser:references(fk)
  self:expect("REFERENCES")
  fk.ref_table = self:qualified_name()
  if self:peek().kind == "punct" and self:peek().text == "(" then fk.ref_columns = self:ident_list() end
  while self:accept("ON") do
    if self:accept("DELETE") then fk.on_delete = self:referential_action()
    else self:expect("UPDATE"); fk.on_update = self:referential_action() end
  end
  return fk
end

-- PRIMARY KEY (..) | UNIQUE (..) | FOREIGN KEY (..) REFERENCES .. | CHECK (..)
function Parser:table_constraint(name)
  local line = self:peek().line
  local k
  if self:accept("PRIMARY") then
    self:expect("KEY")
    k = { kind = "primary_key", columns = self:ident_list() }
  elseif self:accept("UNIQUE") then
    k = { kind = "unique", columns = self:ident_list() }
  elseif self:accept("FOREIGN") then
    self:expect("KEY")
    k = self:references({ kind = "foreign_key", columns = self:ident_list() })
  elseif self:accept("CHECK") then
    k = { kind = "check", columns = {}, expr = self:parenthesised() }
  else
    self:fail("unsupported table constraint '" .. self:peek().text .. "' (supported: PRIMARY KEY, UNIQUE, "
      .. "FOREIGN KEY, CHECK)")
  end
  k.name, k.line, k.file = name, line, self.file
  return k
end

-- name type [NOT NULL | NULL | DEFAULT e | PRIMARY KEY | UNIQUE | REFERENCES .. | CHECK (..)]...
-- Column constraints go to constraints, as their table-level spelling would.
function Parser:column_def(constraints)
  local col = { line = self:peek().line, file = self.file }
  col.name = self:ident()
  col.type = self:column_type()
  col.not_null = false
  while true do
    local line = self:peek().line
    local constraint_name
    if self:accept("CONSTRAINT") then constraint_name = self:ident() end
    local k
    if self:accept("NOT") then self:expect("NULL"); col.not_null = true
    elseif self:accept("NULL") then col.not_null = false
    elseif self:accept("DEFAULT") then col.default = self:default_expr()
    elseif self:accept("GENERATED") then
      -- GENERATED ALWAYS | BY DEFAULT AS IDENTITY: the database numbers the row
      if not self:accept("ALWAYS") then self:expect("BY"); self:expect("DEFAULT") end
      self:expect("AS"); self:expect("IDENTITY")
      col.default, col.not_null = "identity", true
    elseif self:accept("PRIMARY") then
      self:expect("KEY")
      col.not_null = true
      k = { kind = "primary_key" }
    elseif self:accept("UNIQUE") then k = { kind = "unique" }
    elseif self:is("REFERENCES") then k = self:references({ kind = "foreign_key" })
    elseif self:accept("CHECK") then k = { kind = "check", expr = self:parenthesised() }
    elseif constraint_name then
      self:fail("expected a constraint after CONSTRAINT " .. constraint_name)
    elseif self:peek().kind == "word" and COLUMN_STOP[self:peek().up] then
      self:fail(("column \"%s\": %s is not supported (supported: NOT NULL, NULL, DEFAULT, PRIMARY KEY, UNIQUE, "
        .. "REFERENCES, CHECK)"):format(col.name, self:peek().up))
    else
      break
    end
    if k then
      k.name, k.line, k.file = constraint_name, line, self.file
      k.columns = k.kind == "check" and {} or { col.name }
      constraints[#constraints + 1] = k
    end
  end
  return col
end

function Parser:create_table(line)
  local t = { line = line, file = self.file, columns = {}, constraints = {} }
  if self:accept("IF") then self:expect("NOT"); self:expect("EXISTS"); t.if_not_exists = true end
  t.name = self:qualified_name()
  self:expect_punct("(")
  repeat
    if self:accept("CONSTRAINT") then
      local name = self:ident()
      table.insert(t.constraints, self:table_constraint(name))
    elseif self:is("PRIMARY") or self:is("UNIQUE") or self:is("FOREIGN") or self:is("CHECK") then
      table.insert(t.constraints, self:table_constraint(nil))
    elseif self:is("EXCLUDE") or self:is("LIKE") then
      self:fail("unsupported table element " .. self:peek().up)
    else
      table.insert(t.columns, self:column_def(t.constraints))
    end
  until not self:punct(",")
  self:expect_punct(")")
  return t
end

-- CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t [USING m]
--   (col [ASC|DESC] [NULLS FIRST|LAST], ...) [WHERE predicate]
-- Only plain columns: an expression index cannot back a get_by_ function.
function Parser:create_index(line, unique)
  local idx = { line = line, file = self.file, unique = unique, columns = {} }
  self:accept("CONCURRENTLY")
  if self:accept("IF") then self:expect("NOT"); self:expect("EXISTS") end
  if not self:is("ON") then idx.name = self:qualified_name() end
  self:expect("ON")
  self:accept("ONLY")
  idx.table = self:qualified_name()
  if self:accept("USING") then idx.method = self:next().text:lower() end
  self:expect_punct("(")
  repeat
    local t = self:peek()
    if t.kind ~= "word" and t.kind ~= "qident" or (self:peek(1).kind == "punct" and self:peek(1).text == "(") then
      self:fail(("index %s: only column names are supported, not expressions"):format(idx.name or "?"), t)
    end
    idx.columns[#idx.columns + 1] = self:ident()
    if not self:accept("ASC") then self:accept("DESC") end
    if self:accept("NULLS") then
      if not self:accept("FIRST") then self:expect("LAST") end
    end
  until not self:punct(",")
  self:expect_punct(")")
  if self:accept("WHERE") then
    local parts = {}
    while not (self:peek().kind == "eof" or (self:peek().kind == "punct" and self:peek().text == ";")) do
      parts[#parts + 1] = lexer.token_text(self:next())
    end
    idx.predicate = lexer.join_tokens(parts)
  end
  return idx
end

-- Reads past the rest of a statement that shapes no table (a function, a
-- trigger, a privilege, a data fill) up to its ';'; strings, function bodies included,
-- are single tokens, so a ';' inside them does not end it.
function Parser:skip_statement()
  while not (self:peek().kind == "punct" and self:peek().text == ";") and self:peek().kind ~= "eof" do self:next() end
end

-- Parses one file's text and applies it to into (a schema from earlier
-- migrations) or a new one; returns { tables = {...}, indexes = {...} }.
function M.parse(src, file, into)
  local schema = sql_schema.open(into)
  local p = lexer.new(src, file)
  while p:peek().kind ~= "eof" do
    if not p:punct(";") then
      local start = p:peek()
      local line = start.line
      if p:accept("CREATE") then
        if p:accept("TABLE") then
          local t = p:create_table(line)
          local exists = false
          for _, other in ipairs(schema.tables) do exists = exists or other.name == t.name end
          if exists and not t.if_not_exists then p:fail(("table \"%s\" created twice"):format(t.name), start) end
          if not exists then table.insert(schema.tables, t) end
        elseif p:accept("UNIQUE") then
          p:expect("INDEX")
          table.insert(schema.indexes, p:create_index(line, true))
        elseif p:accept("INDEX") then
          table.insert(schema.indexes, p:create_index(line, false))
        elseif p:is("FUNCTION") or p:is("TRIGGER") or (p:is("CONSTRAINT") and p:is("TRIGGER", 1))
          or (p:is("OR") and p:is("REPLACE", 1)) then
          p:skip_statement()
        else
          p:fail("unsupported statement CREATE " .. p:peek().up .. " (supported: " .. M.SUPPORTED .. ")", start)
        end
      elseif p:accept("ALTER") then
        if not p:accept("TABLE") then
          p:fail("unsupported statement ALTER " .. p:peek().up .. " (supported: " .. M.SUPPORTED .. ")", start)
        end
        p:alter_table(schema)
      elseif p:accept("DROP") then
        p:drop(schema, start)
      elseif p:accept("GRANT") or p:accept("REVOKE") then
        p:skip_statement() -- privileges (docs/database.md, Roles) shape no row
      elseif p:accept("INSERT") then
        p:expect("INTO")
        local tok = p:peek()
        schema:table(p, p:qualified_name(), tok)
        p:skip_statement()
      elseif p:accept("UPDATE") then -- a data fix of existing rows: shapes no row either
        local tok = p:peek()
        schema:table(p, p:qualified_name(), tok)
        p:skip_statement()
      else
        local second = p:peek(1)
        local what = start.kind == "word" and start.up or ("'" .. start.text .. "'")
        if start.kind == "word" and second.kind == "word" then what = what .. " " .. second.up end
        p:fail("unsupported statement " .. what .. " (supported: " .. M.SUPPORTED .. ")", start)
      end
      if not p:punct(";") and p:peek().kind ~= "eof" then
        p:fail(("expected ';' after the statement starting on line %d, found '%s'"):format(line, p:peek().text))
      end
    end
  end
  return sql_schema.close(schema)
end

return M

