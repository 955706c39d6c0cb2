-- gen/<p>.client.{c,h}: typed stubs for calling a service's methods from
-- another daemon, over rt_client_unary (runtime/include/client.h).
local util = require("util")
local c = require("emit.c")

local M = {}

function M.stub_name(svc, m) return svc.snake .. "__call_" .. m.snake end

local function params(m)
  return { "rt_call *call", "const " .. m.input.c_type .. " *request", m.output.c_type .. " **response" }
end

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
      decls[#decls + 1] = c.comment(doc) .. c.prototype("rt_status", M.stub_name(svc, m), params(m), ";") .. "\n"
      defs[#defs + 1] = c.prototype("rt_status", M.stub_name(svc, m), params(m)) .. "\n{\n"
        .. c.call("    ", "return rt_client_unary", { "call", c.string(svc.full_name), c.string(m.path), "&request->base",
          "&" .. m.output.c_prefix .. "__descriptor", "(ProtobufCMessage **)response" }, ";") .. "\n}\n"
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
