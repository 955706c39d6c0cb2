-- Asks PostgreSQL itself whether the generator read the queries right: the
-- migrations are applied to a throwaway cluster (scripts/pg.sh, a temp dir,
-- a free port), every query of spec/queries is prepared there and described
-- (pg_describe, PQdescribePrepared), and what PostgreSQL says is compared
-- with what the generator assumed: each @param's type from its cast, and
-- for :one/:many the columns, in order, with the kinds the DDL reader gave
-- the table (the generated decoder reads them by position), for the SQL the
-- generator prepares (`*` expanded to the table's columns). A query that
-- does not prepare fails here, not at a daemon's start. gen/ is not written:
-- regen stays what it is. Run from the repository root:
--   lua5.4 codegen/describe_queries.lua [--migrations DIR] [--queries DIR]
--          [--pg-parse PATH] [--pg-describe PATH]
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. package.path

local cjson = require("cjson")
local util = require("util")
local migration = require("parse.migration")
local queries = require("parse.queries")
local schema_model = require("model.schema")

local USAGE = "usage: lua5.4 codegen/describe_queries.lua [--migrations DIR] [--queries DIR] [--pg-parse PATH] "
  .. "[--pg-describe PATH]"

-- PostgreSQL's type OIDs for each kind the generator carries.
local OIDS = { text = { [25] = "text", [1043] = "varchar", [2950] = "uuid" }, int32 = { [23] = "integer" },
  int64 = { [20] = "bigint" }, timestamp = { [1114] = "timestamp" }, bool = { [16] = "boolean" },
  numeric = { [1700] = "numeric" } }
local ARRAY_OIDS = { text = { [1009] = "text[]", [1015] = "varchar[]", [2951] = "uuid[]" }, int32 = { [1007] = "integer[]" },
  int64 = { [1016] = "bigint[]" }, timestamp = { [1115] = "timestamp[]" }, numeric = { [1231] = "numeric[]" } }

local function parse_args(argv)
  local opts = { migrations = "migrations", queries = "spec/queries",
                 ["pg-parse"] = os.getenv("PG_PARSE") or "build/tools/pg_parse",
                 ["pg-describe"] = os.getenv("PG_DESCRIBE") or "build/tools/pg_describe" }
  local i = 1
  while i <= #argv do
    local key = argv[i]:match("^%-%-([%w-]+)$")
    if not key or opts[key] == nil or argv[i + 1] == nil then error(USAGE, 0) end
    opts[key] = argv[i + 1]:gsub("/$", "")
    i = i + 2
  end
  return opts
end

local function abs(path) return path:sub(1, 1) == "/" and path or (util.run("pwd"):gsub("%s+$", "") .. "/" .. path) end

-- A throwaway cluster with the migrations applied: its URL and how to stop it.
local function cluster(opts)
  local dir = util.mktemp_dir()
  os.execute("chmod 711 " .. util.shell_quote(dir))
  -- a port the kernel says is free (as tests/integration/run.sh finds one),
  -- else a random one
  local port = util.run("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
    .. "print(s.getsockname()[1])' 2>/dev/null || true"):gsub("%s+$", "")
  if port == "" then port = tostring(math.random(20000, 39999)) end
  local function stop()
    os.execute(("bash scripts/pg.sh stop %s >/dev/null 2>&1"):format(util.shell_quote(dir .. "/pg")))
    util.remove_tree(dir)
  end
  local ok, url = pcall(util.run, ("bash scripts/pg.sh start %s %s 2>/dev/null"):format(
    util.shell_quote(dir .. "/pg"), port))
  if ok then
    url = url:gsub("%s+$", "")
    ok, url = pcall(function()
      util.run(("DATABASE_URL=%s MIGRATIONS_DIR=%s bash scripts/migrate.sh"):format(util.shell_quote(url),
        util.shell_quote(abs(opts.migrations))))
      return url
    end)
  end
  if not ok then stop(); error(url, 0) end
  return url, stop
end

local function expected_names(set)
  local names = {}
  for _, n in pairs(set) do names[#names + 1] = n end
  table.sort(names)
  return table.concat(names, "/")
end

-- Compares one query with PostgreSQL's description; returns problems.
local function compare(q, d, tables)
  local where = ("%s:%d: query %s"):format(q.file, q.line, q.name)
  if d.error then return { ("%s does not prepare on the migrated schema: %s"):format(where, (d.error:gsub("%s+$", ""))) } end
  local problems = {}
  for i, p in ipairs(q.params) do
    local kind = schema_model.CAST_KINDS[p.sql_type]
    local set = kind and (p.array and ARRAY_OIDS or OIDS)[kind]
    if set and not set[d.params[i]] then
      problems[#problems + 1] = ("%s: PostgreSQL types @%s as OID %s, the generator as %s"):format(where, p.name,
        tostring(d.params[i]), expected_names(set))
    end
  end
  if q.kind == "one" or q.kind == "many" then
    local t = tables[q.table]
    local cols = t and t.columns or {}
    if #d.columns ~= #cols then
      problems[#problems + 1] = ("%s: PostgreSQL answers %d columns, the generator decodes %d of table %q"):format(
        where, #d.columns, #cols, tostring(q.table))
    else
      for i, col in ipairs(cols) do
        local kind = schema_model.COLUMN_KINDS[col.type.name]
        local name, oid = d.columns[i][1], d.columns[i][2]
        if name ~= col.name or (kind and not OIDS[kind][oid]) then
          problems[#problems + 1] = ("%s: column %d is %q (OID %d) in PostgreSQL, %q %s for the generator"):format(
            where, i, name, oid, col.name, col.type.text)
        end
      end
    end
  end
  return problems
end

local function main(argv)
  local opts = parse_args(argv)
  local started = os.time()
  local schema = { tables = {}, indexes = {} }
  for _, n in ipairs(util.glob(opts.migrations, "%.sql$")) do
    migration.apply(util.join(opts.migrations, n), schema, opts["pg-parse"])
  end
  local tables = {}
  for _, t in ipairs(schema.tables) do tables[t.name] = t end
  local list = {}
  for _, n in ipairs(util.glob(opts.queries, "%.sql$")) do
    local path = util.join(opts.queries, n)
    for _, q in ipairs(queries.parse(util.read_file(path), path)) do list[#list + 1] = q end
  end
  local url, stop = cluster(opts)
  local args = { util.shell_quote(opts["pg-describe"]), util.shell_quote(url) }
  for _, q in ipairs(list) do
    -- the SQL the generator prepares: `*` is its table's column list
    local sql = q.sql
    if q.star and tables[q.table] then
      local names = {}
      for i, col in ipairs(tables[q.table].columns) do names[i] = col.name end
      sql = queries.expand_star(q, names)
    end
    args[#args + 1] = util.shell_quote(q.name)
    args[#args + 1] = util.shell_quote(sql)
  end
  local ok, out = pcall(util.run, table.concat(args, " "))
  stop()
  if not ok then error(out, 0) end
  local problems, i = {}, 0
  for line in out:gmatch("[^\n]+") do
    i = i + 1
    for _, p in ipairs(compare(list[i], cjson.decode(line), tables)) do problems[#problems + 1] = p end
  end
  for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
  if #problems > 0 then os.exit(1) end
  print(("describe: %d queries prepared and described by PostgreSQL, as the generator read them (%d s)")
    :format(#list, os.time() - started))
end

local ok, err = pcall(main, arg or {})
if not ok then
  io.stderr:write("describe: " .. tostring(err) .. "\n")
  os.exit(1)
end
