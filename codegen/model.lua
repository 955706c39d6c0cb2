-- Resolves the parsed inputs into one model the emitters read, each part
-- built by the module that models it:
--   model/schema.lua    tables with C-typed columns and keys (migrations/)
--   model/proto.lua     messages with C names and rules, bound to tables
--   model/services.lua  proto files, services, methods, peers, request sizes
--   model/sql.lua       every statement's SQL text: CRUD per table, then queries
-- Every cross-reference is checked there, so emitters decide nothing about
-- the inputs. Two inputs are read only at emit time, by parsers that may
-- raise: protoc's descriptor sets (parse/descriptor_set.lua, for reflection)
-- and the generated table's markers in docs/errors.md (emit/error_table.lua).
--
-- The data passed from here to the emitters (LuaCATS notes; every emitter is
-- emit(Model) -> { {path, content} }):
--
---@class Model
---@field files ModelFile[]               the project's proto files, by name
---@field services Service[]
---@field messages table<string, Message>  every message by ".pkg.Name", imports included
---@field tables Table[]                   from migrations/, in creation order
---@field tables_by_name table<string, Table>
---@field statements Statement[]           every table's statements, then the queries (DB_STMT_* order)
---@field queries Query[]                  from spec/queries/
---@field system_imports string[]          imports outside proto/ that protoc-c compiles too
---@field descriptor_sets table<string, string>  a service file's serialized set, for reflection
---@field sources { migrations: string[], queries: string[] }
--
---@class ModelFile
---@field name string      "user.proto"
---@field base string      "user"
---@field path string      "proto/user.proto"
---@field package string
---@field messages Message[]
---@field services Service[]
---@field imports string[] paths of the project files it imports
---@field comment string?
--
---@class Message           a copy of the parsed DescriptorProto, extended:
---@field name string
---@field full_name string   ".pkg.Name"
---@field fields Field[]
---@field c_type string      protoc-c's struct name
---@field c_prefix string    protoc-c's function prefix
---@field c_init string      protoc-c's __INIT macro
---@field base string        its file's base name
---@field where string       "file:line: message X", for errors
---@field has_rules boolean  some field has (rules.field)
---@field table Table?       bound by (rules.table)
---@field column_of table<string, Column>?  field name -> its column, when bound
---@field needs_arena boolean?  a wrapper field is allocated when mapped
--
---@class Field             a copy of the parsed FieldDescriptorProto, extended:
---@field name string
---@field type_label string  "string", "int32", "message", ...
---@field type_name string?  ".pkg.Name" of a message or enum
---@field repeated boolean
---@field rules table[]      { kind, value, description } in check order
---@field c_type string?
---@field wrapper table?     google.protobuf.*Value it is, when bound to a column
--
---@class Service
---@field name string
---@field full_name string
---@field snake string
---@field daemon string      "user-service"
---@field file ModelFile
---@field methods Method[]
---@field peers Service[]    the services its methods depend on
---@field endpoint { service_name: string, address_env: string, default_address: string }
---@field largest_request integer   the largest valid request of its bounded methods, in bytes
---@field unbounded_request Method? the first method whose requests no rule bounds
--
---@class Method
---@field name string
---@field snake string
---@field path string        "/pkg.Service/Method"
---@field input Message
---@field output Message
---@field depends_on string[]
---@field status_codes string[]
---@field largest_request integer?  its largest valid request in bytes (request_size.lua)
---@field unbounded_because string? why it has none
--
---@class Table
---@field name string
---@field snake string
---@field columns Column[]
---@field primary_key Column[]?
---@field keys { columns: Column[], suffix: string }[]  primary, then each unique
---@field insert_columns Column[]
---@field insert Statement
---@field gets Statement[]
---@field delete Statement?
---@field checks { expr: string }[]
--
---@class Column
---@field name string
---@field snake string
---@field kind "text"|"int32"|"int64"|"timestamp"|"bool"|"numeric"
---@field c_type string       in a row struct (a pointer when nullable)
---@field param_c_type string as a parameter
---@field sql_type string
---@field not_null boolean
---@field default string?
--
---@class Statement
---@field name string         prepared statement name
---@field enum string         DB_STMT_<NAME>
---@field sql string
---@field params table[]
---@field n_params integer
---@field idempotent boolean  a read (SELECT), sent again when its connection breaks (db.h)
---@field lock_params integer|nil  bit i: parameter i+1 is a key it locks (`-- locks:`)
---@field table Table
--
---@class Query : Statement   a named query of spec/queries/
---@field query_name string
---@field kind "one"|"many"|"exec"|"execrows"
---@field doc string
---@field file string
local schema = require("model.schema")
local proto = require("model.proto")
local services = require("model.services")
local sql = require("model.sql")

local M = {}

-- inputs: { descriptors = parsed set, proto_files = {"user.proto"=path...},
--           schema = sql_ddl result, queries = parsed queries, sources = {...},
--           descriptor_sets = { [file name] = serialized set of a service file } }
function M.build(inputs)
  local model = { sources = inputs.sources, descriptor_sets = inputs.descriptor_sets or {} }
  model.tables, model.tables_by_name = schema.build(inputs.schema)
  model.messages, model.system_imports = proto.messages(inputs.descriptors, inputs.proto_files)
  model.files, model.services = services.build(inputs, model.messages, model.tables_by_name)
  model.statements, model.queries = sql.build(model.tables, inputs.queries, model.tables_by_name)
  return model
end

return M
