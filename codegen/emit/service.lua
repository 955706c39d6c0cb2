-- gen/<p>.service.{c,h}: what a daemon hands the runtime. The header declares
-- the typed handler of every method (handlers/ implements them); the source
-- adapts them to the runtime's untyped invoke/validate signatures and
-- describes the service, its peers, statements and descriptor set.
local util = require("util")
local c = require("emit.c")
local validate = require("emit.validate")
local descriptor = require("emit.descriptor")

local M = {}

function M.handler_name(svc, m) return svc.snake .. "__" .. m.snake end

local function handler_params(m)
  return { "rt_call *call", "const " .. m.input.c_type .. " *request", m.output.c_type .. " *response" }
end

local function message_headers(svc)
  local list = {}
  for _, m in ipairs(svc.methods) do
    list[#list + 1] = m.input.base .. ".pb-c.h"
    list[#list + 1] = m.output.base .. ".pb-c.h"
  end
  return list
end

local function endpoint(e)
  return ("{%s, %s, %s}"):format(c.string(e.service_name), c.string(e.address_env), c.string(e.default_address))
end

function M.sources(file, svcs)
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  for _, svc in ipairs(svcs) do
    for _, peer in ipairs(svc.peers) do sources[#sources + 1] = peer.file.path end
  end
  return sources
end

local function header(file, sources)
  local body, includes = {}, { "service.h" }
  for _, svc in ipairs(file.services) do
    for _, inc in ipairs(message_headers(svc)) do includes[#includes + 1] = inc end
    body[#body + 1] = c.comment(("%s handlers, implemented in handlers/%s.c. Each runs after the request passed its "
      .. "validator; *response is initialised and lives in the call arena."):format(svc.full_name, svc.snake))
    for _, m in ipairs(svc.methods) do
      body[#body + 1] = c.comment(m.comment or m.name)
        .. c.prototype("rt_status", M.handler_name(svc, m), handler_params(m), ";") .. "\n"
    end
    body[#body + 1] = c.comment(("The %s daemon: %s."):format(svc.daemon, (svc.comment or svc.full_name):gsub("%.$", "")))
      .. "extern const rt_service " .. svc.snake .. "__service;\n"
  end
  return c.header(file.base .. ".service.h", sources, includes, table.concat(body, "\n"))
end

local function source(file, sources)
  local out = {}
  local includes = { "db_statements.h", file.base .. ".descriptor.h" }
  for _, svc in ipairs(file.services) do
    local validators = {}
    for _, m in ipairs(svc.methods) do
      local input = m.input
      if input.has_rules and not validators[input.full_name] then
        validators[input.full_name] = "validate_" .. input.c_prefix
        includes[#includes + 1] = input.base .. ".validate.h"
        out[#out + 1] = c.prototype("static void", validators[input.full_name],
            { "const ProtobufCMessage *request", "rt_violations *out" })
          .. "\n{\n" .. c.call("    ", validate.validator_name(input), { "(const " .. input.c_type .. " *)request", "out" }, ";")
          .. "\n}\n"
      end
    end
    for _, m in ipairs(svc.methods) do
      out[#out + 1] = c.prototype("static rt_status", "invoke_" .. m.snake,
          { "rt_call *call", "const ProtobufCMessage *request", "ProtobufCMessage **response" })
        .. "\n{\n"
        .. ("    %s *typed = rt_arena_alloc(rt_call_arena(call), sizeof *typed);\n"):format(m.output.c_type)
        .. ("    %s__init(typed);\n"):format(m.output.c_prefix)
        .. "    *response = &typed->base;\n"
        .. c.call("    ", "return " .. M.handler_name(svc, m), { "call", "(const " .. m.input.c_type .. " *)request",
          "typed" }, ";") .. "\n}\n"
    end
    local methods = {}
    for _, m in ipairs(svc.methods) do
      methods[#methods + 1] = ("    {\n        .path = %s,\n        .name = %s,\n        .request_type = &%s__descriptor,\n"
        .. "        .response_type = &%s__descriptor,\n        .validate = %s,\n        .invoke = invoke_%s,\n    },\n")
        :format(c.string(m.path), c.string(m.name), m.input.c_prefix, m.output.c_prefix,
          validators[m.input.full_name] or "NULL", m.snake)
    end
    local prefix = #file.services > 1 and svc.snake .. "_" or ""
    out[#out + 1] = "static const rt_method " .. prefix .. "methods[] = {\n" .. table.concat(methods) .. "};\n"
    local peers_field, n_peers = "NULL", "0"
    if #svc.peers > 0 then
      local peers = {}
      for i, peer in ipairs(svc.peers) do peers[i] = "    " .. endpoint(peer.endpoint) .. ",\n" end
      out[#out + 1] = c.comment("The services its methods call (rules.depends_on), found where they listen.")
        .. "static const rt_endpoint " .. prefix .. "peers[] = {\n" .. table.concat(peers) .. "};\n"
      peers_field = prefix .. "peers"
      n_peers = ("sizeof %speers / sizeof %speers[0]"):format(prefix, prefix)
    end
    local set = descriptor.symbol(file)
    out[#out + 1] = "const rt_service " .. svc.snake .. "__service = {\n"
      .. ("    .daemon_name = %s,\n"):format(c.string(svc.daemon))
      .. ("    .self = %s,\n"):format(endpoint(svc.endpoint))
      .. ("    .methods = %smethods,\n    .n_methods = sizeof %smethods / sizeof %smethods[0],\n"):format(prefix, prefix, prefix)
      .. ("    .peers = %s,\n    .n_peers = %s,\n"):format(peers_field, n_peers)
      .. "    .statements = db_statements,\n    .n_statements = DB_STATEMENT_COUNT,\n"
      .. ("    .descriptors = &%s,\n"):format(set)
      .. ("    .largest_request_bytes = %d,\n};\n"):format(svc.unbounded_request and 0 or svc.largest_request)
  end
  return c.source(sources, file.base .. ".service.h", includes, table.concat(out, "\n"))
end

local function emit_file(file)
  if #file.services == 0 then return {} end
  local sources = M.sources(file, file.services)
  return {
    { file.base .. ".service.h", header(file, sources) },
    { file.base .. ".service.c", source(file, sources) },
  }
end

M.emit = util.each_file(emit_file)

return M
