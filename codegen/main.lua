-- codegen/ entry point: parse (proto descriptors, migrations, queries) ->
-- model -> emit, then write gen/, runtime/proto (the protoc-c code of the
-- runtime's built-in contracts), docs/api.md and the validation table of
-- docs/errors.md, touching only files whose bytes changed. Run from the
-- repository root:
--   lua5.4 codegen/main.lua [--out DIR] [--runtime-proto DIR] [--proto-dir DIR]
--                           [--migrations DIR] [--queries DIR] [--docs FILE]
--                           [--errors-doc FILE] [--pg-parse PATH]
-- (--pg-parse: PostgreSQL's parser as a command, which `make` builds; it
-- reads the migrations first, parse/migration.lua)
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. package.path

local util = require("util")
local protoc = require("protoc")
local descriptor = require("parse.descriptor")
local migration = require("parse.migration")
local queries = require("parse.queries")
local model_builder = require("model")
local write = require("write")

-- Every emitter of gen/ has one signature: emit(model) -> { {path, content}... }.
local EMITTERS = { require("emit.validate"), require("emit.map"), require("emit.service"), require("emit.client"),
                   require("emit.daemon_main"), require("emit.descriptor"), require("emit.repository"),
                   require("emit.db_statements"), (require("emit.queries")) }
local api_doc = require("emit.api_doc")
local error_table = require("emit.error_table")

local DEFAULTS = { out = "gen", ["proto-dir"] = "proto", migrations = "migrations", queries = "spec/queries",
                   docs = "docs/api.md", ["runtime-proto"] = "runtime/proto", ["errors-doc"] = "docs/errors.md",
                   ["pg-parse"] = os.getenv("PG_PARSE") or require("parse.pg_tree").DEFAULT_HELPER }

local function parse_args(argv)
  local opts = {}
  for k, v in pairs(DEFAULTS) do opts[k] = v end
  local i = 1
  while i <= #argv do
    local key = argv[i]:match("^%-%-([%w-]+)$")
    if not key or DEFAULTS[key] == nil or argv[i + 1] == nil then
      error("usage: lua5.4 codegen/main.lua [--out DIR] [--runtime-proto DIR] [--proto-dir DIR] "
        .. "[--migrations DIR] [--queries DIR] [--docs FILE] [--errors-doc FILE] [--pg-parse PATH]", 0)
    end
    opts[key] = argv[i + 1]:gsub("/$", "")
    i = i + 2
  end
  return opts
end

-- Builds every output in memory: returns { [path relative to out] = content },
-- api.md text, { [path relative to runtime-proto] = content } and the
-- validation table for docs/errors.md.
local function generate(opts, tmp)
  local proto_names = util.glob(opts["proto-dir"], "%.proto$")
  if #proto_names == 0 then error("no .proto files in " .. opts["proto-dir"], 0) end
  local proto_files = {}
  for _, n in ipairs(proto_names) do proto_files[n] = util.join(opts["proto-dir"], n) end

  local schema = { tables = {}, indexes = {} }
  local migration_paths = {}
  for _, n in ipairs(util.glob(opts.migrations, "%.sql$")) do
    local path = util.join(opts.migrations, n)
    migration_paths[#migration_paths + 1] = path
    migration.apply(path, schema, opts["pg-parse"])
  end
  local parsed_queries, query_paths = {}, {}
  for _, n in ipairs(util.glob(opts.queries, "%.sql$")) do
    local path = util.join(opts.queries, n)
    query_paths[#query_paths + 1] = path
    for _, q in ipairs(queries.parse(util.read_file(path), path)) do parsed_queries[#parsed_queries + 1] = q end
  end

  -- protoc, all of it, before any emitter runs: the set the model is read
  -- from, each service file's set for reflection (with the built-in
  -- contracts), protoc-c's C for gen/ and for runtime/proto.
  local descriptors = descriptor.parse(protoc.descriptor_set(opts["proto-dir"], proto_names, tmp))
  local descriptor_sets = {}
  for _, file in ipairs(descriptors.files) do
    if proto_files[file.name] and #file.services > 0 then
      descriptor_sets[file.name] = protoc.descriptor_set(opts["proto-dir"], { file.name }, tmp, protoc.BUILTIN)
    end
  end
  local model = model_builder.build({
    descriptors = descriptors, proto_files = proto_files, schema = schema, queries = parsed_queries,
    sources = { migrations = migration_paths, queries = query_paths }, descriptor_sets = descriptor_sets,
  })
  local files = protoc.c_files(opts["proto-dir"], proto_names, tmp, model.system_imports)
  local runtime_files = protoc.builtin_c_files(opts["proto-dir"], tmp)

  for _, emitter in ipairs(EMITTERS) do
    for _, pair in ipairs(emitter.emit(model)) do
      if files[pair[1]] then error("two generators both produce " .. pair[1], 0) end
      files[pair[1]] = pair[2]
    end
  end
  return files, api_doc.emit(model)[1][2], runtime_files, error_table.emit(model)
end

local function main(argv)
  local opts = parse_args(argv)
  local tmp = util.mktemp_dir()
  local ok, files, doc, runtime_files, errors_table = pcall(generate, opts, tmp)
  util.remove_tree(tmp)
  if not ok then error(files, 0) end
  local f = io.open(opts["errors-doc"], "rb")
  local errors_text = f and f:read("a")
  if f then f:close() end
  local errors_written = write.write_if_changed(opts["errors-doc"],
    error_table.splice(errors_text, errors_table, opts["errors-doc"]))
  local written, removed = write.sync_dir(opts.out, files)
  local rt_written, rt_removed = write.sync_dir(opts["runtime-proto"], runtime_files)
  local doc_written = write.write_if_changed(opts.docs, doc)
  local total = 0
  for _ in pairs(files) do total = total + 1 end
  for _, rel in ipairs(written) do print("wrote   " .. util.join(opts.out, rel)) end
  for _, rel in ipairs(removed) do print("removed " .. util.join(opts.out, rel)) end
  for _, rel in ipairs(rt_written) do print("wrote   " .. util.join(opts["runtime-proto"], rel)) end
  for _, rel in ipairs(rt_removed) do print("removed " .. util.join(opts["runtime-proto"], rel)) end
  if doc_written then print("wrote   " .. opts.docs) end
  if errors_written then print("wrote   " .. opts["errors-doc"]) end
  print(("codegen: %d files in %s, %d written, %d removed%s"):format(total, opts.out, #written, #removed,
    doc_written and ", " .. opts.docs .. " written" or ""))
end

local ok, err = pcall(main, arg or {})
if not ok then
  io.stderr:write("codegen: " .. tostring(err) .. "\n")
  os.exit(1)
end
