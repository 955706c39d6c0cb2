-- Small helpers shared by every stage: naming conventions, shell access and
-- file reading. Kept here so each stage reads as its own job.
local M = {}

-- protoc-c's CamelToLower: an underscore before each uppercase letter that
-- follows a non-uppercase one ("GetUserById" -> "get_user_by_id").
function M.snake(name)
  local out, was_upper = {}, true
  for ch in name:gmatch(".") do
    local upper = ch:match("%u") ~= nil
    if upper and not was_upper then out[#out + 1] = "_" end
    out[#out + 1] = ch:lower()
    was_upper = upper
  end
  return (table.concat(out):gsub("[^%w_]", "_"))
end

-- protoc-c's spelling of a package or name part: "user" -> "User", "foo_bar" -> "FooBar".
function M.camel(name)
  return (name:gsub("^%l", string.upper):gsub("_(%w)", string.upper))
end

function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then error(err, 0) end
  local data = f:read("a")
  f:close()
  return data
end

function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Runs a command, raising its output as the error when it fails.
function M.run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("command failed: " .. cmd .. "\n" .. out, 0) end
  return out
end

function M.mktemp_dir()
  return (M.run("mktemp -d"):gsub("%s+$", ""))
end

function M.remove_tree(dir)
  os.execute("rm -rf " .. M.shell_quote(dir))
end

-- Files below dir, relative to it, sorted (empty when dir does not exist).
function M.list_files(dir)
  local p = io.popen("find " .. M.shell_quote(dir) .. " -type f 2>/dev/null")
  local files = {}
  for line in p:lines() do
    files[#files + 1] = line:sub(#dir + 2)
  end
  p:close()
  table.sort(files)
  return files
end

-- Names of a directory's entries matching a Lua pattern, sorted.
function M.glob(dir, pattern)
  local names = {}
  for _, f in ipairs(M.list_files(dir)) do
    if not f:find("/") and f:match(pattern) then names[#names + 1] = f end
  end
  return names
end

function M.basename(path)
  return path:match("([^/]+)$")
end

function M.join(dir, name)
  if dir:sub(-1) == "/" then return dir .. name end
  return dir .. "/" .. name
end

-- Sorted keys, so no output ever depends on hash order.
-- An emitter of one proto file (file, model) -> files made into the
-- signature every emitter has, model -> files: its files for each of
-- model.files, in order.
function M.each_file(emit_file)
  return function(model)
    local out = {}
    for _, file in ipairs(model.files) do
      for _, pair in ipairs(emit_file(file, model)) do out[#out + 1] = pair end
    end
    return out
  end
end

function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The options of a `check|accept [--name VALUE]...` command: argv[1] is the
-- command, every later pair sets one of defaults' keys (a trailing slash
-- dropped); anything else raises usage. The command line of the contract
-- gate and the migration lint.
function M.command_args(argv, usage, defaults)
  local opts = defaults
  opts.command = argv[1]
  if opts.command ~= "check" and opts.command ~= "accept" then error(usage, 0) end
  local i = 2
  while i <= #argv do
    local key = argv[i]:match("^%-%-([%w-]+)$")
    if not key or opts[key] == nil or key == "command" or argv[i + 1] == nil then error(usage, 0) end
    opts[key] = argv[i + 1]:gsub("/$", "")
    i = i + 2
  end
  return opts
end

return M
