-- gen/db_statements.{c,h}: every prepared statement of every table and named
-- query, indexed by an enum, so the runtime prepares them all once per
-- connection and repositories refer to them by DB_STMT_* index.
local c = require("emit.c")
local template = require("template")
local queries = require("parse.queries")

local M = {}

-- Splits SQL before its main clauses into adjacent C literals, one per line.
local CLAUSES = { "FROM", "WHERE", "SET", "VALUES", "RETURNING", "AND" }
local function sql_lines(sql)
  local marked = queries.map_unquoted(sql, function(chunk)
    for _, kw in ipairs(CLAUSES) do chunk = chunk:gsub(" (" .. kw .. ") ", "\1%1 ") end
    return (chunk:gsub("^DELETE\1FROM", "DELETE FROM"))
  end)
  local lines = {}
  for piece in (marked .. "\1"):gmatch("(.-)\1") do lines[#lines + 1] = piece end
  for i = 1, #lines - 1 do lines[i] = lines[i] .. " " end
  return lines
end

-- The comment above a function that runs statement s: its name and SQL, one
-- clause a line, so a person debugging reads what runs without db_statements.c.
function M.sql_comment(s)
  local out = { "/* ", s.name, ":\n" }
  for _, l in ipairs(sql_lines(s.sql)) do out[#out + 1] = " *   " .. l:gsub(" $", "") .. "\n" end
  out[#out + 1] = " */\n"
  return table.concat(out)
end

function M.sources(model)
  local sources = {}
  for _, p in ipairs(model.sources.migrations) do sources[#sources + 1] = p end
  for _, p in ipairs(model.sources.queries) do sources[#sources + 1] = p end
  return sources
end

-- One entry of db_statements; $sql$ is its SQL as adjacent literals, a clause a
-- line; $locks$ only for a statement with `-- locks:` parameters.
local ENTRY = [[
    [$enum$] = {
        .name = $name$,
        .sql = $sql$,
        .n_params = $n_params$,
        .idempotent = $idempotent$,
        $locks$
    },
]]

local HEADER = [[
/* Indexes into db_statements: the repositories' statements (gen/db_<table>.c), then the named
 * queries (gen/db_queries.c). */
enum {
$enum$    DB_STATEMENT_COUNT
};

$doc$
extern const rt_db_statement db_statements[DB_STATEMENT_COUNT];
]]

local SOURCE = [[
const rt_db_statement db_statements[DB_STATEMENT_COUNT] = {
$entries$};
]]

function M.emit(model)
  local sources = M.sources(model)
  local enum, entries = {}, {}
  for _, s in ipairs(model.statements) do
    enum[#enum + 1] = "    " .. s.enum .. ",\n"
    local lits = {}
    for i, l in ipairs(sql_lines(s.sql)) do lits[i] = (i == 1 and "" or string.rep(" ", 15)) .. c.string(l) end
    entries[#entries + 1] = template.render(ENTRY, { enum = s.enum, name = c.string(s.name),
      sql = table.concat(lits, "\n"), n_params = s.n_params, idempotent = tostring(s.idempotent),
      locks = (s.lock_params or 0) ~= 0 and (".lock_params = 0x%xu,"):format(s.lock_params) })
  end
  local header_body = template.render(HEADER, { enum = table.concat(enum),
    doc = c.comment("Every statement a daemon prepares on each of its connections. Reads are idempotent: sent again "
      .. "when their connection breaks, up to three runs in all (RT_PIPE_MAX_RUNS, db_pipeline.c); writes never are.") })
  return {
    { "db_statements.h", c.header("db_statements.h", sources, { "db.h" }, header_body) },
    { "db_statements.c", c.source(sources, "db_statements.h", {},
      template.render(SOURCE, { entries = table.concat(entries) })) },
  }
end

return M
