-- Assertions and fixtures shared by the codegen tests. The generator's tests
-- run on the fixture contract under codegen/tests/fixtures, never on proto/,
-- migrations/ or spec/: the real contract is checked by `make check-gen`.
local util = require("util")

local M = {}

M.FIXTURE = "codegen/tests/fixtures/shop"
M.CFLAGS = "-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iruntime/include -Iruntime/src -Iruntime/src/db -I/usr/include/postgresql"
M.SANITIZE = "-g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

function M.eq(actual, expected, what)
  if actual ~= expected then
    error(("%s: expected %s, got %s"):format(what or "value", tostring(expected), tostring(actual)), 2)
  end
end

function M.truthy(v, what)
  if not v then error((what or "condition") .. " does not hold", 2) end
end

-- Calls fn and returns its error message, failing when it succeeds.
function M.raises(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error", 2) end
  return tostring(err)
end

function M.contains(haystack, needle, what)
  if not haystack:find(needle, 1, true) then
    error(("%s: %q not found in %q"):format(what or "text", needle, haystack), 2)
  end
end

-- A fixture file's text.
function M.fixture(rel) return util.read_file(util.join(M.FIXTURE, rel)) end

-- The parsed descriptor set of the fixture's proto files (or of proto_dir).
function M.descriptors(proto_dir)
  proto_dir = proto_dir or (M.FIXTURE .. "/proto")
  local tmp = util.mktemp_dir()
  local set = require("protoc").descriptor_set(proto_dir, util.glob(proto_dir, "%.proto$"), tmp)
  util.remove_tree(tmp)
  return require("parse.descriptor").parse(set)
end

-- PostgreSQL's parser as a command (codegen/pg_parse): $PG_PARSE, which
-- `make test-codegen` builds, else built once here.
local pg_parse_dir
function M.pg_parse()
  if os.getenv("PG_PARSE") then return os.getenv("PG_PARSE") end
  if not pg_parse_dir then
    pg_parse_dir = util.mktemp_dir()
    util.run(("gcc -std=c11 -Wall -Wextra -Werror -o %s/pg_parse codegen/pg_parse/pg_parse.c -lpg_query")
      :format(util.shell_quote(pg_parse_dir)))
  end
  return pg_parse_dir .. "/pg_parse"
end

-- codegen/main.lua's arguments for the fixture, with outputs under dir;
-- overrides replaces inputs ({ ["proto-dir"] = ... }).
function M.args(dir, overrides)
  local opts = { out = dir .. "/gen", docs = dir .. "/api.md", ["errors-doc"] = dir .. "/errors.md", ["runtime-proto"] = dir .. "/runtime-proto", ["proto-dir"] = M.FIXTURE .. "/proto",
                 migrations = M.FIXTURE .. "/migrations", queries = M.FIXTURE .. "/queries", ["pg-parse"] = M.pg_parse() }
  for k, v in pairs(overrides or {}) do opts[k] = v end
  local out = {}
  for _, k in ipairs(util.sorted_keys(opts)) do out[#out + 1] = "--" .. k .. " " .. util.shell_quote(opts[k]) end
  return table.concat(out, " ")
end

-- Runs the generator; returns whether it succeeded and its output.
function M.regen(args)
  local p = io.popen("lua5.4 codegen/main.lua " .. args .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

-- The fixture generated once per test run into a temp dir; returns the dir
-- (gen/ and api.md inside). Tests only read it.
local generated
function M.generated()
  if not generated then
    generated = util.mktemp_dir()
    local ok, out = M.regen(M.args(generated))
    if not ok then error(out, 0) end
  end
  return generated
end

function M.cleanup()
  if generated then util.remove_tree(generated); generated = nil end
  if pg_parse_dir then util.remove_tree(pg_parse_dir); pg_parse_dir = nil end
end

-- Compiles main (a C file of the fixture's checks/) with the given sources
-- (relative to the generated gen/, to dir when they start with
-- runtime-proto/, or to the repository root when they start with runtime/), under ASan and UBSan, and runs it; raises with the output
-- when either fails.
function M.compile_and_run(dir, main, sources, libs)
  local gen = dir .. "/gen"
  local files = { util.shell_quote(util.join(M.FIXTURE .. "/checks", main)) }
  for _, s in ipairs(sources) do
    local path = s:match("^runtime/") and s or s:match("^runtime%-proto/") and util.join(dir, s) or util.join(gen, s)
    files[#files + 1] = util.shell_quote(path)
  end
  local exe = util.join(dir, main:gsub("%.c$", ""))
  util.run(("gcc %s %s -I%s -I%s -o %s %s %s"):format(M.CFLAGS, M.SANITIZE, util.shell_quote(gen),
    util.shell_quote(dir .. "/runtime-proto"), util.shell_quote(exe),
    table.concat(files, " "), libs or ""))
  return util.run(util.shell_quote(exe))
end

return M
