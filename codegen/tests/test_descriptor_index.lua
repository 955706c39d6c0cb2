-- The reflection index emitted into gen/<p>.descriptor.c and
-- gen/descriptor_files.c (fixture output): the built-in contracts are in the
-- set with their services listed, extensions are indexed, and each file's
-- symbols are sorted and unique, as the runtime's bsearch needs.
local util = require("util")
local h = require("helpers")

local function generated(name)
  return util.read_file(h.generated() .. "/gen/" .. name)
end

return {
  { "the service's set carries the built-in contracts and lists their services", function()
    local src = generated("shop.descriptor.c")
    for _, f in ipairs({ "shop.proto", "rules.proto", "grpc/health/v1/health.proto",
      "grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto",
      "google/rpc/status.proto", "google/rpc/error_details.proto", "google/protobuf/any.proto" }) do
      h.truthy(src:find(('{"%s",%%s+&descriptor_file_'):format(f:gsub("%p", "%%%0"))), f .. " in the index")
    end
    h.contains(src, '"grpc.health.v1.Health",\n    "grpc.reflection.v1.ServerReflection",\n'
      .. '    "grpc.reflection.v1alpha.ServerReflection",\n    "shop.ShopService",\n};')
    h.contains(generated("descriptor_files.c"), '{"google.protobuf.FieldOptions", 50100},')
  end },
  { "symbols are sorted and unique", function()
    local src = generated("descriptor_files.c")
    local function symbols_of(part, wanted)
      local block = src:match("const char %*const " .. part .. "_symbols%[%] = {\n(.-)};")
      local prev
      for name in block:gmatch('"([^"]+)",') do
        if prev then h.truthy(prev < name, prev .. " before " .. name) end
        prev = name
      end
      h.truthy(prev ~= nil, "symbols found")
      h.contains(block, ('"%s",'):format(wanted))
    end
    symbols_of("shop_proto", "shop.ShopService.GetItems")
    symbols_of("google_rpc_error_details_proto", "google.rpc.BadRequest.FieldViolation")
  end },
}
