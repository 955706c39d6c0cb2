-- Reads the DDL subset the migrations use (Prisma-style PostgreSQL): CREATE
-- TABLE, CREATE [UNIQUE] INDEX, ALTER TABLE ... ADD CONSTRAINT. Functions,
-- triggers and data statements (INSERT ... SELECT filling a new table) shape
-- no row or parameter, so they are read past, by name. Anything else is an
-- error naming file:line: a statement the generator silently skipped would
-- make gen/ disagree with the database.
local M = {}

-- Tokens: {kind = "word"|"qident"|"string"|"number"|"punct", text, line}.
-- Words keep their spelling; .up is the upper-cased form used for keywords.
local function tokenize(src, file)
  local tokens, pos, line = {}, 1, 1
  local function fail(msg) error(("%s:%d: %s"):format(file, line, msg), 0) end
  local function push(kind, text, l) tokens[#tokens + 1] = { kind = kind, text = text, up = text:upper(), line = l } end
  while pos <= #src do
    local c = src:sub(pos, pos)
    if c == "\n" then
      line, pos = line + 1, pos + 1
    elseif c:match("%s") then
      pos = pos + 1
    elseif src:sub(pos, pos + 1) == "--" then
      pos = (src:find("\n", pos, true) or #src + 1)
    elseif src:sub(pos, pos + 1) == "/*" then
      local stop = src:find("*/", pos + 2, true)
      if not stop then fail("unterminated /* comment") end
      local _, n = src:sub(pos, stop):gsub("\n", "")
      line, pos = line + n, stop + 2
    elseif c == '"' or c == "'" then
      -- A doubled quote inside is the quote itself, in identifiers and strings alike.
      local start_line, buf, i = line, {}, pos + 1
      while true do
        local ch = src:sub(i, i)
        if ch == "" then fail("unterminated " .. (c == '"' and "quoted identifier" or "string")) end
        if ch == c then
          if src:sub(i + 1, i + 1) == c then buf[#buf + 1] = c; i = i + 2
          else break end
        else
          if ch == "\n" then line = line + 1 end
          buf[#buf + 1] = ch; i = i + 1
        end
      end
      push(c == '"' and "qident" or "string", table.concat(buf), start_line)
      pos = i + 1
    elseif src:match("^%$[%a_]*%$", pos) then
      -- $tag$ ... $tag$: a function body, kept whole as one string
      local tag = src:match("^%$[%a_]*%$", pos)
      local stop = src:find(tag, pos + #tag, true)
      if not stop then fail("unterminated " .. tag .. " string") end
      local body = src:sub(pos + #tag, stop - 1)
      push("string", body, line)
      local _, n = body:gsub("\n", "")
      line, pos = line + n, stop + #tag
    elseif c:match("[%a_]") then
      local word = src:match("^[%w_$]+", pos)
      push("word", word, line); pos = pos + #word
    elseif c:match("%d") then
      local num = src:match("^%d+%.?%d*", pos)
      push("number", num, line); pos = pos + #num
    else
      local op = src:match("^::", pos) or c
      push("punct", op, line); pos = pos + #op
    end
  end
  push("eof", "", line)
  return tokens
end
M.tokenize = tokenize

-- A cursor over the tokens of one file with the usual expect/accept helpers.
local Parser = {}
Parser.__index = Parser

function Parser:peek(k) return self.tokens[self.i + (k or 0)] end
function Parser:fail(msg, tok)
  tok = tok or self:peek()
  error(("%s:%d: %s"):format(self.file, tok.line, msg), 0)
end
function Parser:next() local t = self:peek(); self.i = self.i + 1; return t end
function Parser:is(word, k)
  local t = self:peek(k)
  return t.kind == "word" and t.up == word
end
function Parser:accept(word)
  if self:is(word) then return self:next() end
end
function Parser:expect(word)
  if not self:accept(word) then self:fail(("expected %s, found '%s'"):format(word, self:peek().text)) end
end
function Parser:punct(p)
  local t = self:peek()
  if t.kind == "punct" and t.text == p then self.i = self.i + 1; return true end
end
function Parser:expect_punct(p)
  if not self:punct(p) then self:fail(("expected '%s', found '%s'"):format(p, self:peek().text)) end
end
-- Unquoted identifiers fold to lower case, as PostgreSQL folds them.
function Parser:ident()
  local t = self:next()
  if t.kind == "qident" then return t.text end
  if t.kind == "word" then return t.text:lower() end
  self:fail(("expected an identifier, found '%s'"):format(t.text), t)
end
-- schema.name is accepted; the schema is dropped (everything lives in one).
function Parser:qualified_name()
  local name = self:ident()
  if self:punct(".") then name = self:ident() end
  return name
end
function Parser:ident_list()
  self:expect_punct("(")
  local names = { self:ident() }
  while self:punct(",") do names[#names + 1] = self:ident() end
  self:expect_punct(")")
  return names
end

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
    if depth == 0 and ((t.kind == "punct" and (t.text == "," or t.text == ")"))
        or (t.kind == "word" and COLUMN_STOP[t.up])) then break end
    if t.kind == "punct" and t.text == "(" then depth = depth + 1 end
    if t.kind == "punct" and t.text == ")" then depth = depth - 1 end
    local text = t.text
    if t.kind == "qident" then text = '"' .. text:gsub('"', '""') .. '"' end
    if t.kind == "string" then text = "'" .. text:gsub("'", "''") .. "'" end
    parts[#parts + 1] = text
    self:next()
  end
  if #parts == 0 then self:fail("DEFAULT without an expression") end
  return (table.concat(parts, " "):gsub(" %( ", "("):gsub(" %)", ")"):gsub("%( ", "("):gsub(" ::", "::"):gsub(":: ", "::"))
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

-- PRIMARY KEY (..) | UNIQUE (..) | FOREIGN KEY (..) REFERENCES ..
function Parser:table_constraint(name)
  local line = self:peek().line
  if self:accept("PRIMARY") then
    self:expect("KEY")
    return { kind = "primary_key", name = name, columns = self:ident_list(), line = line }
  elseif self:accept("UNIQUE") then
    return { kind = "unique", name = name, columns = self:ident_list(), line = line }
  elseif self:accept("FOREIGN") then
    self:expect("KEY")
    return self:references({ kind = "foreign_key", name = name, columns = self:ident_list(), line = line })
  end
  self:fail("unsupported table constraint '" .. self:peek().text .. "'")
end

function Parser:column_def(table_def)
  local col = { line = self:peek().line }
  col.name = self:ident()
  col.type = self:column_type()
  col.not_null = false
  while true do
    local constraint_name
    if self:accept("CONSTRAINT") then constraint_name = self:ident() end
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
      table.insert(table_def.constraints, { kind = "primary_key", name = constraint_name, columns = { col.name }, line = col.line })
    elseif self:accept("UNIQUE") then
      table.insert(table_def.constraints, { kind = "unique", name = constraint_name, columns = { col.name }, line = col.line })
    elseif self:is("REFERENCES") then
      table.insert(table_def.constraints, self:references({ kind = "foreign_key", name = constraint_name, columns = { col.name }, line = col.line }))
    elseif constraint_name then
      self:fail("expected a constraint after CONSTRAINT " .. constraint_name)
    else
      break
    end
  end
  return col
end

function Parser:create_table(line)
  local t = { line = line, columns = {}, constraints = {} }
  if self:accept("IF") then self:expect("NOT"); self:expect("EXISTS") end
  t.name = self:qualified_name()
  self:expect_punct("(")
  repeat
    if self:accept("CONSTRAINT") then
      local name = self:ident()
      table.insert(t.constraints, self:table_constraint(name))
    elseif self:is("PRIMARY") or self:is("UNIQUE") or self:is("FOREIGN") then
      table.insert(t.constraints, self:table_constraint(nil))
    elseif self:is("CHECK") or self:is("EXCLUDE") or self:is("LIKE") then
      self:fail("unsupported table element " .. self:peek().up)
    else
      table.insert(t.columns, self:column_def(t))
    end
  until not self:punct(",")
  self:expect_punct(")")
  return t
end

function Parser:create_index(line, unique)
  local idx = { line = line, unique = unique }
  self:accept("CONCURRENTLY")
  if self:accept("IF") then self:expect("NOT"); self:expect("EXISTS") end
  idx.name = self:qualified_name()
  self:expect("ON")
  self:accept("ONLY")
  idx.table = self:qualified_name()
  if self:accept("USING") then idx.method = self:next().text:lower() end
  idx.columns = self:ident_list()
  return idx
end

-- Reads past the rest of a statement that shapes no table (a function, a
-- trigger, a data fill) up to its ';'; strings, function bodies included,
-- are single tokens, so a ';' inside them does not end it.
function Parser:skip_statement()
  while not (self:peek().kind == "punct" and self:peek().text == ";") and self:peek().kind ~= "eof" do self:next() end
end

-- Parses one file's text; returns { tables = {...}, indexes = {...} } in file order.
function M.parse(src, file, into)
  local result = into or { tables = {}, indexes = {} }
  local p = setmetatable({ tokens = tokenize(src, file), i = 1, file = file }, Parser)
  local function find_table(name, tok)
    for _, t in ipairs(result.tables) do if t.name == name then return t end end
    p:fail(("unknown table \"%s\""):format(name), tok)
  end
  while p:peek().kind ~= "eof" do
    if not p:punct(";") then
      local start = p:peek()
      local line = start.line
      if p:accept("CREATE") then
        if p:accept("TABLE") then
          local t = p:create_table(line)
          t.file = file
          table.insert(result.tables, t)
        elseif p:accept("UNIQUE") then
          p:expect("INDEX")
          table.insert(result.indexes, p:create_index(line, true))
        elseif p:accept("INDEX") then
          table.insert(result.indexes, p:create_index(line, false))
        elseif p:is("FUNCTION") or p:is("TRIGGER") or (p:is("OR") and p:is("REPLACE", 1)) then
          p:skip_statement()
        else
          p:fail("unsupported statement CREATE " .. p:peek().up, start)
        end
      elseif p:accept("ALTER") then
        if not p:accept("TABLE") then p:fail("unsupported statement ALTER " .. p:peek().up, start) end
        p:accept("ONLY")
        local name_tok = p:peek()
        local t = find_table(p:qualified_name(), name_tok)
        if not (p:accept("ADD") and p:accept("CONSTRAINT")) then
          p:fail("unsupported statement ALTER TABLE (only ADD CONSTRAINT is supported)", start)
        end
        local name = p:ident()
        table.insert(t.constraints, p:table_constraint(name))
      elseif p:accept("INSERT") then
        p:expect("INTO")
        find_table(p:qualified_name(), p:peek(-1))
        p:skip_statement()
      else
        local second = p:peek(1)
        local what = start.kind == "word" and start.up or ("'" .. start.text .. "'")
        if start.kind == "word" and second.kind == "word" then what = what .. " " .. second.up end
        p:fail("unsupported statement " .. what, start)
      end
      if not p:punct(";") and p:peek().kind ~= "eof" then
        p:fail(("expected ';' after the statement starting on line %d, found '%s'"):format(line, p:peek().text))
      end
    end
  end
  return result
end

return M
