-- The SQL tokenizer and token cursor the DDL reader is built on: words,
-- quoted identifiers, strings, numbers and punctuation, each with its line,
-- so every error can name file:line.
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
      local op = src:match("^::", pos) or src:match("^[<>!]=", pos) or src:match("^<>", pos)
        or src:match("^||", pos) or c
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
M.Parser = Parser

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

-- Reads a parenthesised expression, '(' through its matching ')', and
-- returns it as text; used for CHECK, where the generator keeps the
-- expression only to show it.
function Parser:parenthesised()
  self:expect_punct("(")
  local parts, depth = { "(" }, 1
  while depth > 0 do
    local t = self:next()
    if t.kind == "eof" then self:fail("unterminated parenthesis", t) end
    if t.kind == "punct" and t.text == "(" then depth = depth + 1 end
    if t.kind == "punct" and t.text == ")" then depth = depth - 1 end
    parts[#parts + 1] = M.token_text(t)
  end
  return M.join_tokens(parts)
end

-- A token as it is spelled in SQL (quotes restored).
function M.token_text(t)
  if t.kind == "qident" then return '"' .. t.text:gsub('"', '""') .. '"' end
  if t.kind == "string" then return "'" .. t.text:gsub("'", "''") .. "'" end
  return t.text
end

-- Joins token texts with single spaces, then drops those around parentheses and casts.
function M.join_tokens(parts)
  return (table.concat(parts, " "):gsub(" %( ", "("):gsub(" %)", ")"):gsub("%( ", "("):gsub(" ::", "::"):gsub(":: ", "::"))
end

function M.new(src, file)
  return setmetatable({ tokens = tokenize(src, file), i = 1, file = file }, Parser)
end

return M
