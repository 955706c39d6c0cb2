-- The services model: the project's proto files and the services they
-- declare, each method bound to its messages, its status codes and its
-- largest valid request, each service to the peers it calls
-- ((rules.depends_on)) and the address it listens on ((rules.deployment)).
local util = require("util")
local proto = require("model.proto")
local request_size = require("request_size")

local M = {}

local function fail(fmt, ...) error(fmt:format(...), 0) end

local GRPC_CODES = { "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
  "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED" }

local function codes_in(text)
  local codes = {}
  for _, code in ipairs(GRPC_CODES) do
    if text and text:find("%f[%w_]" .. code .. "%f[^%w_]") then codes[#codes + 1] = code end
  end
  return codes
end

-- One service of the file fm (at path), its methods bound to their messages.
local function build_service(s, fm, path, messages)
  local deployment = s.options.ext["rules.deployment"]
  if not (deployment and deployment.address_env and deployment.default_address) then
    fail("%s:%d: service %s needs option (rules.deployment) with address_env and default_address", path,
      s.line or 0, s.full_name)
  end
  local snake = util.snake(s.name)
  local svc = { name = s.name, full_name = s.full_name, snake = snake, daemon = snake:gsub("_", "-"),
                comment = s.comment, file = fm, methods = {},
                endpoint = { service_name = s.full_name, address_env = deployment.address_env,
                             default_address = deployment.default_address } }
  for _, m in ipairs(s.methods) do
    if m.client_streaming or m.server_streaming then
      fail("%s:%d: %s.%s: streaming methods are not supported (unary only)", path, m.line or 0, s.full_name, m.name)
    end
    table.insert(svc.methods, { name = m.name, snake = util.snake(m.name), path = "/" .. s.full_name .. "/" .. m.name,
      input = messages[m.input_type], output = messages[m.output_type], comment = m.comment,
      depends_on = m.options.ext["rules.depends_on"] or {}, status_codes = codes_in(m.comment),
      where = ("%s:%d: %s.%s"):format(path, m.line or 0, s.full_name, m.name) })
  end
  return svc
end

-- The largest valid request of each method and of the service
-- (request_size.lua); one no receive limit can take stops the generator.
local function size_requests(svc, messages)
  svc.largest_request = 0
  for _, m in ipairs(svc.methods) do
    m.largest_request, m.unbounded_because = request_size.largest(m.input, messages)
    if m.largest_request and m.largest_request > request_size.LIMIT then
      fail("%s: its largest valid request is %d bytes, more than any daemon may receive (%d, the most "
        .. "MAX_MESSAGE_BYTES takes): lower the max_items or max_len rules of %s", m.where, m.largest_request,
        request_size.LIMIT, m.input.full_name:sub(2))
    end
    if not m.largest_request then svc.unbounded_request = svc.unbounded_request or m end
    if (m.largest_request or 0) > svc.largest_request then svc.largest_request = m.largest_request end
  end
end

-- Peers: the union of every method's depends_on, in first-mention order.
local function link_peers(svc, services_by_name)
  svc.peers = {}
  local seen = {}
  for _, m in ipairs(svc.methods) do
    for _, name in ipairs(m.depends_on) do
      local peer = services_by_name[name]
      if not peer then fail("%s: (rules.depends_on) names unknown service %s", m.where, name) end
      if not seen[name] then seen[name] = true; table.insert(svc.peers, peer) end
    end
  end
end

-- The project's files (by name) and every service in them. inputs is
-- model.build's; messages are proto.messages' and tables_by_name the schema's.
function M.build(inputs, messages, tables_by_name)
  local files, services, services_by_name = {}, {}, {}
  for _, file in ipairs(inputs.descriptors.files) do
    local path = inputs.proto_files[file.name]
    if path then
      local fm = { name = file.name, base = file.name:gsub("%.proto$", ""), path = path, package = file.package,
                   messages = {}, services = {}, comment = file.comment, imports = {} }
      for _, dep in ipairs(file.dependency) do
        if inputs.proto_files[dep] then table.insert(fm.imports, inputs.proto_files[dep]) end
      end
      for _, parsed in ipairs(file.messages) do
        local m = messages[parsed.full_name]
        proto.bind_table(m, tables_by_name)
        table.insert(fm.messages, m)
      end
      for _, s in ipairs(file.services) do
        local svc = build_service(s, fm, path, messages)
        table.insert(fm.services, svc)
        table.insert(services, svc)
        services_by_name[s.full_name] = svc
      end
      table.insert(files, fm)
    end
  end
  table.sort(files, function(a, b) return a.name < b.name end)
  for _, svc in ipairs(services) do size_requests(svc, messages) end
  for _, svc in ipairs(services) do link_peers(svc, services_by_name) end
  return files, services
end

return M
