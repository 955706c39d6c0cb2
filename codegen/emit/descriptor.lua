-- gen/<p>.descriptor.{c,h}: the FileDescriptorSet of a service's proto file
-- and its imports, with comments, as bytes; the runtime serves it through
-- server reflection so grpcurl works without -proto flags.
local c = require("emit.c")

local M = {}

function M.symbol(file) return file.base:gsub("[^%w]", "_") .. "_descriptor_set" end
function M.length_macro(file) return M.symbol(file):upper() .. "_LEN" end

-- bytes: the serialized set, as protoc wrote it.
function M.emit(file, bytes)
  if #file.services == 0 then return {} end
  local sources = { file.path }
  for _, p in ipairs(file.imports) do sources[#sources + 1] = p end
  local sym, len = M.symbol(file), M.length_macro(file)
  local header_body = c.comment(("The serialized google.protobuf.FileDescriptorSet of %s with its imports and "
      .. "source comments (protoc --include_imports --include_source_info). The length is a macro too, so "
      .. "static initialisers can use it."):format(file.name))
    .. ("#define %s %du\n\nextern const uint8_t %s[%s];\nextern const size_t %s_len;\n"):format(len, #bytes, sym, len, sym)
  local lines = {}
  for i = 1, #bytes, 12 do
    local row = {}
    for j = i, math.min(i + 11, #bytes) do row[#row + 1] = ("0x%02x,"):format(bytes:byte(j)) end
    lines[#lines + 1] = "    " .. table.concat(row, " ") .. "\n"
  end
  local body = ("const uint8_t %s[%s] = {\n%s};\n\nconst size_t %s_len = %s;\n"):format(sym, len, table.concat(lines), sym, len)
  local base = file.base .. ".descriptor"
  return {
    { base .. ".h", c.header(base .. ".h", sources, { "<stddef.h>", "<stdint.h>" }, header_body) },
    { base .. ".c", c.source(sources, base .. ".h", {}, body) },
  }
end

return M
