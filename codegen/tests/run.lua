-- Runs every codegen/tests/test_*.lua from the repository root. Each file
-- returns a list of {name, fn}; a test fails by raising. The last line is
-- "N passed, M failed" and the exit status is non-zero on any failure.
local script_dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local codegen_dir = script_dir:gsub("/tests$", "")
if codegen_dir == script_dir then codegen_dir = script_dir .. "/.." end
package.path = codegen_dir .. "/?.lua;" .. script_dir .. "/?.lua;" .. package.path

local util = require("util")
local passed, failed = 0, 0
for _, file in ipairs(util.glob(script_dir, "^test_.*%.lua$")) do
  local tests = dofile(util.join(script_dir, file))
  for _, t in ipairs(tests) do
    local ok, err = pcall(t[2])
    if ok then
      passed = passed + 1
      print("ok    " .. file .. ": " .. t[1])
    else
      failed = failed + 1
      print("FAIL  " .. file .. ": " .. t[1] .. "\n      " .. tostring(err):gsub("\n", "\n      "))
    end
  end
end
require("helpers").cleanup()
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
