-- codegen/ entry point: parse (proto descriptors, migrations, queries) ->
-- model -> emit, then write gen/, runtime/proto (the protoc-c code of the
-- runtime's built-in contracts) and docs/api.md, touching only files whose
-- bytes changed. Run from the repository root:
--   lua5.4 codegen/main.lua [--out DIR] [--runtime-proto DIR] [--proto-dir DIR]
--                           [--migrations DIR] [--queries DIR] [--docs FILE]
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. package.path

local util = require("util")
local protoc = require("protoc")
local descriptor = require("parse.descriptor")
local sql_ddl = require("parse.sql_ddl")
local queries = require("parse.queries")
local model_builder = require("model")
local write = require("write")

local emitters = {
  per_file = { require("emit.validate"), require("emit.map"), require("emit.service"), require("emit.client"),
               (require("emit.daemon_main")) },
  descriptor = require("emit.descriptor"),
  repository = require("emit.repository"),
  statements = require("emit.db_statements"),
  queries = require("emit.queries"),
  api_doc = require("emit.api_doc"),
}

local DEFAULTS = { out = "gen", ["proto-dir"] = "proto", migrations = "migrations", queries = "spec/queries",
                   docs = "docs/api.md", ["runtime-proto"] = "runtime/proto" }

local function parse_args(argv)
  local opts = {}
  for k, v in pairs(DEFAULTS) do opts[k] = v end
  local i = 1
  while i <= #argv do
    local key = argv[i]:match("^%-%-([%w-]+)$")
    if not key or DEFAULTS[key] == nil or argv[i + 1] == nil then
      error("usage: lua5.4 codegen/main.lua [--out DIR] [--runtime-proto DIR] [--proto-dir DIR] "
        .. "[--migrations DIR] [--queries DIR] [--docs FILE]", 0)
    end
    opts[key] = argv[i + 1]:gsub("/$", "")
    i = i + 2
  end
  return opts
end

-- Builds every output in memory: returns { [path relative to out] = content },
-- api.md text and { [path relative to runtime-proto] = content }.
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
    sql_ddl.parse(util.read_file(path), path, schema)
  end
  local parsed_queries, query_paths = {}, {}
  for _, n in ipairs(util.glob(opts.queries, "%.sql$")) do
    local path = util.join(opts.queries, n)
    query_paths[#query_paths + 1] = path
    for _, q in ipairs(queries.parse(util.read_file(path), path)) do parsed_queries[#parsed_queries + 1] = q end
  end

  local descriptors = descriptor.parse(protoc.descriptor_set(opts["proto-dir"], proto_names, tmp))
  local model = model_builder.build({
    descriptors = descriptors, proto_files = proto_files, schema = schema, queries = parsed_queries,
    sources = { migrations = migration_paths, queries = query_paths },
  })

  local files = protoc.c_files(opts["proto-dir"], proto_names, tmp, model.system_imports)
  local function add(list)
    for _, pair in ipairs(list) do
      if files[pair[1]] then error("two generators both produce " .. pair[1], 0) end
      files[pair[1]] = pair[2]
    end
  end
  local shared_descriptors, service_paths = {}, {}
  for _, file in ipairs(model.files) do
    for _, emitter in ipairs(emitters.per_file) do add(emitter.emit(file, model)) end
    if #file.services > 0 then
      add(emitters.descriptor.emit(file, protoc.descriptor_set(opts["proto-dir"], { file.name }, tmp, protoc.BUILTIN),
        shared_descriptors))
      service_paths[#service_paths + 1] = file.path
    end
  end
  add(emitters.descriptor.emit_shared(shared_descriptors, service_paths))
  for _, t in ipairs(model.tables) do add(emitters.repository.emit(t, model)) end
  add(emitters.statements.emit(model))
  add(emitters.queries.emit(model))
  return files, emitters.api_doc.emit(model), protoc.builtin_c_files(opts["proto-dir"], tmp)
end

local function main(argv)
  local opts = parse_args(argv)
  local tmp = util.mktemp_dir()
  local ok, files, doc, runtime_files = pcall(generate, opts, tmp)
  util.remove_tree(tmp)
  if not ok then error(files, 0) end
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
  print(("codegen: %d files in %s, %d written, %d removed%s"):format(total, opts.out, #written, #removed,
    doc_written and ", " .. opts.docs .. " written" or ""))
end

local ok, err = pcall(main, arg or {})
if not ok then
  io.stderr:write("codegen: " .. tostring(err) .. "\n")
  os.exit(1)
end
