-- gen/<p>.service.{c,h}: what a daemon hands the runtime. The header declares
-- the typed handler of every method (handlers/ implements them); the source
-- adapts them to the runtime's untyped invoke/validate signatures and
-- describes the service, its peers, statements and descriptor set.
local util = require("util")
local c = require("emit.c")
local template = require("template")
local validate = require("emit.validate")
local descriptor = require("emit.descriptor")

local M = {}

function M.handler_name(svc, m) return svc.snake .. "__" .. m.snake end

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
      body[#body + 1] = template.render([[
$doc$
rt_status $handler$(rt_call *call, const $input$ *request, $output$ *response);
]], { doc = c.comment(m.comment or m.name), handler = M.handler_name(svc, m), input = m.input.c_type,
        output = m.output.c_type })
    end
    body[#body + 1] = template.render([[
$tasks_doc$
extern const rt_task_def *const $service$__tasks[];

$doc$
extern const rt_service $service$__service;
]], { doc = c.comment(("The %s daemon: %s."):format(svc.daemon, (svc.comment or svc.full_name):gsub("%.$", ""))),
      tasks_doc = c.comment(("What the %s daemon runs besides its methods (background.h), NULL-terminated; "
        .. "defined in handlers/%s.c with the tasks it lists."):format(svc.daemon, svc.snake)),
      service = svc.snake })
  end
  return c.header(file.base .. ".service.h", sources, includes, table.concat(body, "\n"))
end

-- The adapter from the runtime's untyped validate signature to a message's validator.
local VALIDATOR = [[
static void $name$(const ProtobufCMessage *request, rt_violations *out)
{
    $validate$((const $input$ *)request, out);
}
]]

-- The adapter from the runtime's untyped invoke signature to a typed handler:
-- the response is allocated in the call arena and initialised before it runs.
local INVOKE = [[
static rt_status invoke_$method$(rt_call *call, const ProtobufCMessage *request, ProtobufCMessage **response)
{
    $output$ *typed = rt_arena_alloc(rt_call_arena(call), sizeof *typed);
    $output_prefix$__init(typed);
    *response = &typed->base;
    return $handler$(call, (const $input$ *)request, typed);
}
]]

local METHOD = [[
    {
        .path = $path$,
        .name = $name$,
        .request_type = &$input_prefix$__descriptor,
        .response_type = &$output_prefix$__descriptor,
        .validate = $validator$,
        .invoke = invoke_$method$,
    },
]]

local PEERS = [[
/* The services its methods call (rules.depends_on), found where they listen. */
static const rt_endpoint $prefix$peers[] = {
$rows$};
]]

local SERVICE = [[
const rt_service $service$__service = {
    .daemon_name = $daemon$,
    .self = $self$,
    .methods = $prefix$methods,
    .n_methods = sizeof $prefix$methods / sizeof $prefix$methods[0],
    .peers = $peers$,
    .n_peers = $n_peers$,
    .statements = db_statements,
    .n_statements = DB_STATEMENT_COUNT,
    .descriptors = &$descriptors$,
    .largest_request_bytes = $largest_request$,
    .tasks = $service$__tasks,
};
]]

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
        out[#out + 1] = template.render(VALIDATOR, { name = validators[input.full_name],
          validate = validate.validator_name(input), input = input.c_type })
      end
    end
    for _, m in ipairs(svc.methods) do
      out[#out + 1] = template.render(INVOKE, { method = m.snake, output = m.output.c_type,
        output_prefix = m.output.c_prefix, handler = M.handler_name(svc, m), input = m.input.c_type })
    end
    local methods = {}
    for _, m in ipairs(svc.methods) do
      methods[#methods + 1] = template.render(METHOD, { path = c.string(m.path), name = c.string(m.name),
        input_prefix = m.input.c_prefix, output_prefix = m.output.c_prefix,
        validator = validators[m.input.full_name] or "NULL", method = m.snake })
    end
    local prefix = #file.services > 1 and svc.snake .. "_" or ""
    out[#out + 1] = "static const rt_method " .. prefix .. "methods[] = {\n" .. table.concat(methods) .. "};\n"
    local peers, n_peers = "NULL", "0"
    if #svc.peers > 0 then
      local rows = {}
      for i, peer in ipairs(svc.peers) do rows[i] = "    " .. endpoint(peer.endpoint) .. ",\n" end
      out[#out + 1] = template.render(PEERS, { prefix = prefix, rows = table.concat(rows) })
      peers = prefix .. "peers"
      n_peers = ("sizeof %speers / sizeof %speers[0]"):format(prefix, prefix)
    end
    out[#out + 1] = template.render(SERVICE, { service = svc.snake, daemon = c.string(svc.daemon),
      self = endpoint(svc.endpoint), prefix = prefix, peers = peers, n_peers = n_peers,
      descriptors = descriptor.symbol(file),
      largest_request = svc.unbounded_request and 0 or svc.largest_request })
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
