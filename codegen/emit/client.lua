-- gen/<p>.client.{c,h}: typed stubs for calling a service's methods from
-- another daemon, over rt_client_unary (runtime/include/client.h).
local util = require("util")
local c = require("emit.c")
local template = require("template")

local M = {}

function M.stub_name(svc, m) return svc.snake .. "__call_" .. m.snake end

local DECLARATION = [[
$doc$
rt_status $stub$(rt_call *call, const $input$ *request, $output$ **response);
]]

local DEFINITION = [[
rt_status $stub$(rt_call *call, const $input$ *request, $output$ **response)
{
    return rt_client_unary(call, $service$, $path$, &request->base, &$output_prefix$__descriptor, (ProtobufCMessage **)response);
}
]]

local function emit_file(file)
  if #file.services == 0 then return {} end
  local sources = { file.path }
  local decls, defs, includes = {}, {}, { "client.h" }
  for _, svc in ipairs(file.services) do
    for _, m in ipairs(svc.methods) do
      includes[#includes + 1] = m.input.base .. ".pb-c.h"
      includes[#includes + 1] = m.output.base .. ".pb-c.h"
      local doc = ("Calls %s on the %s peer (%s). On OK, *response lives in the calling call's arena; "
        .. "UNAVAILABLE when the peer is down."):format(m.path, svc.daemon, svc.endpoint.address_env)
      if m.comment then doc = m.comment .. "\n" .. doc end
      local vars = { doc = c.comment(doc), stub = M.stub_name(svc, m), input = m.input.c_type,
                     output = m.output.c_type, service = c.string(svc.full_name), path = c.string(m.path),
                     output_prefix = m.output.c_prefix }
      decls[#decls + 1] = template.render(DECLARATION, vars)
      defs[#defs + 1] = template.render(DEFINITION, vars)
    end
  end
  local base = file.base .. ".client"
  return {
    { base .. ".h", c.header(base .. ".h", sources, includes, table.concat(decls, "\n")) },
    { base .. ".c", c.source(sources, base .. ".h", {}, table.concat(defs, "\n")) },
  }
end

M.emit = util.each_file(emit_file)

return M
