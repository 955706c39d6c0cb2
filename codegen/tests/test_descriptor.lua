-- The descriptor reader on the real proto/ files: services, methods, rules,
-- deployments, comments and the field numbers SPEC.md fixes.
local h = require("helpers")

local set = h.real_descriptors()
local function message(name) return assert(set.messages[name], name) end
local function field(msg, name)
  for _, f in ipairs(message(msg).fields) do if f.name == name then return f end end
  error("no field " .. name)
end
local function service(full)
  for _, file in ipairs(set.files) do
    for _, s in ipairs(file.services) do if s.full_name == full then return s end end
  end
  error("no service " .. full)
end

return {
  { "field numbers and types match SPEC.md", function()
    local expected = {
      [".user.CreateUserRequest"] = { "email:1:string", "name:2:string" },
      [".user.GetUserByIdRequest"] = { "id:1:string" },
      [".user.UserResponse"] = { "id:1:string", "email:2:string", "name:3:string", "created_at:4:string" },
      [".wallet.CreateWalletRequest"] = { "user_id:1:string" },
      [".wallet.GetWalletRequest"] = { "user_id:1:string" },
      [".wallet.UpdateBalanceRequest"] = { "user_id:1:string", "amount:2:int32" },
      [".wallet.WalletResponse"] = { "id:1:string", "user_id:2:string", "balance:3:int32", "created_at:4:string" },
    }
    for name, fields in pairs(expected) do
      for i, spec in ipairs(fields) do
        local f = message(name).fields[i]
        h.eq(f.name .. ":" .. f.number .. ":" .. f.type_label, spec, name)
      end
    end
  end },
  { "services and methods with their types", function()
    local user = service("user.UserService")
    h.eq(#user.methods, 2)
    h.eq(user.methods[1].name, "CreateUser")
    h.eq(user.methods[1].input_type, ".user.CreateUserRequest")
    h.eq(user.methods[1].output_type, ".user.UserResponse")
    local wallet = service("wallet.WalletService")
    local names = {}
    for i, m in ipairs(wallet.methods) do names[i] = m.name end
    h.eq(table.concat(names, ","), "CreateWallet,GetWallet,CreditWallet,DebitWallet")
  end },
  { "custom options: rules, table, depends_on, deployment", function()
    local email = field(".user.CreateUserRequest", "email").options.ext["rules.field"].string
    h.eq(email.email, true); h.eq(email.max_len, 254)
    local name = field(".user.CreateUserRequest", "name").options.ext["rules.field"].string
    h.eq(name.required, true); h.eq(name.utf8, true); h.eq(name.max_len, 200)
    h.eq(field(".wallet.UpdateBalanceRequest", "amount").options.ext["rules.field"].int32.gte, 1)
    h.eq(field(".user.GetUserByIdRequest", "id").options.ext["rules.field"].string.uuid, true)
    h.eq(message(".wallet.WalletResponse").options.ext["rules.table"], "Wallet")
    h.eq(service("user.UserService").methods[1].options.ext["rules.depends_on"][1], "wallet.WalletService")
    h.eq(service("user.UserService").methods[2].options.ext["rules.depends_on"], nil)
    local d = service("wallet.WalletService").options.ext["rules.deployment"]
    h.eq(d.address_env, "WALLET_SERVICE_URL"); h.eq(d.default_address, "0.0.0.0:50052")
  end },
  { "leading comments of services, methods, messages and fields", function()
    h.contains(service("user.UserService").comment, "Creates and fetches users.")
    h.eq(service("user.UserService").methods[2].comment, "Returns one user by id, or NOT_FOUND.")
    h.eq(message(".user.GetUserByIdRequest").comment, "Which user to fetch.")
    h.eq(field(".user.CreateUserRequest", "email").comment, "Email address, unique across users.")
  end },
}
