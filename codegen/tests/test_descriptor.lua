-- The descriptor reader on the fixture's proto files: services, methods,
-- field numbers and labels, custom options (rules, table, depends_on,
-- deployment) and comments.
local h = require("helpers")

local set = h.descriptors()
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
  { "field numbers, types and labels", function()
    local expected = {
      [".shop.CreateItemRequest"] = { "id:1:string", "code:2:string", "name:3:string", "email:4:string",
                                      "stock:5:int32", "label:6:string" },
      [".shop.GetItemsRequest"] = { "ids:1:string", "ranks:2:int32", "tags:3:string" },
      [".shop.ItemList"] = { "items:1:message" },
    }
    for name, fields in pairs(expected) do
      for i, spec in ipairs(fields) do
        local f = message(name).fields[i]
        h.eq(f.name .. ":" .. f.number .. ":" .. f.type_label, spec, name)
      end
    end
    h.truthy(field(".shop.GetItemsRequest", "ids").repeated, "ids is repeated")
    h.truthy(not field(".shop.CreateItemRequest", "id").repeated, "id is not repeated")
  end },
  { "services and methods with their types", function()
    local shop = service("shop.ShopService")
    local names = {}
    for i, m in ipairs(shop.methods) do names[i] = m.name .. "(" .. m.input_type .. "):" .. m.output_type end
    h.eq(table.concat(names, ","), "CreateItem(.shop.CreateItemRequest):.shop.Item,"
      .. "GetItems(.shop.GetItemsRequest):.shop.ItemList")
  end },
  { "custom options: rules, repeated rules, table, depends_on, deployment", function()
    local code = field(".shop.CreateItemRequest", "code").options.ext["rules.field"].string
    h.eq(code.required, true); h.eq(code.min_len, 2); h.eq(code.max_len, 8)
    h.eq(field(".shop.CreateItemRequest", "label").options.ext["rules.field"].string.max_chars, 4)
    h.eq(field(".shop.CreateItemRequest", "stock").options.ext["rules.field"].int32.lte, 1000)
    local ids = field(".shop.GetItemsRequest", "ids").options.ext["rules.field"].repeated
    h.eq(ids.min_items, 1); h.eq(ids.max_items, 3); h.eq(ids.items.string.uuid, true)
    h.eq(message(".shop.Item").options.ext["rules.table"], "Item")
    h.eq(service("shop.ShopService").methods[2].options.ext["rules.depends_on"][1], "shop.ShopService")
    h.eq(service("shop.ShopService").methods[1].options.ext["rules.depends_on"], nil)
    local d = service("shop.ShopService").options.ext["rules.deployment"]
    h.eq(d.address_env, "SHOP_SERVICE_URL"); h.eq(d.default_address, "127.0.0.1:50099")
  end },
  { "leading comments of services, methods, messages and fields", function()
    h.eq(service("shop.ShopService").comment, "Sells items.")
    h.eq(service("shop.ShopService").methods[1].comment, "Creates an item. ALREADY_EXISTS when its code is taken.")
    h.eq(message(".shop.GetItemsRequest").comment, "Which items to fetch.")
    h.eq(field(".shop.CreateItemRequest", "code").comment, "A short code.")
  end },
}
