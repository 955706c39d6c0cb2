-- The model on the fixture (names, C types, nullable columns, keys,
-- statements, queries, rules, peers) and its errors, each naming where.
local util = require("util")
local h = require("helpers")
local model_builder = require("model")
local sql_ddl = require("parse.sql_ddl")
local queries = require("parse.queries")

local descriptors = h.descriptors()

-- The fixture's model; edit(name, text) may rewrite a fixture file's text first.
local function build(edit)
  edit = edit or function(_, text) return text end
  local schema = { tables = {}, indexes = {} }
  for _, n in ipairs({ "0001_init.sql", "0002_alter.sql", "0003_flags.sql" }) do
    sql_ddl.parse(edit(n, h.fixture("migrations/" .. n)), n, schema)
  end
  local proto_files = {}
  for _, n in ipairs(util.glob(h.FIXTURE .. "/proto", "%.proto$")) do proto_files[n] = h.FIXTURE .. "/proto/" .. n end
  return model_builder.build({ descriptors = descriptors, proto_files = proto_files, schema = schema,
    queries = queries.parse(edit("item.sql", h.fixture("queries/item.sql")), "item.sql"),
    sources = { migrations = { "m.sql" }, queries = { "item.sql" } } })
end

local function names(list, f)
  local out = {}
  for i, v in ipairs(list) do out[i] = f(v) end
  return table.concat(out, " ")
end

return {
  { "tables: C types, nullable columns, insert columns, keys", function()
    local m = build()
    local item = m.tables_by_name.Item
    h.eq(names(item.columns, function(c) return c.snake .. ":" .. c.c_type end), "id:const char * code:const char * "
      .. "name:const char * stock:int32_t created_at:const char * note:const char * rank:const int32_t * kind:int32_t "
      .. "active:bool price:const char * featured:const bool *")
    h.eq(names(item.insert_columns, function(c) return c.snake end), "id code name")
    -- the partial unique index on rank gives no key
    h.eq(names(item.keys, function(k) return k.suffix end), "id code")
    h.eq(#item.checks, 2)
    local tag = m.tables_by_name.Tag
    h.eq(tag.columns[3].c_type, "const int64_t *"); h.eq(tag.columns[3].default, "1")
    h.eq(names(tag.keys, function(k) return k.suffix end), "item_id_and_label label_and_item_id")
    h.eq(tag.foreign_keys[1].ref_table, "Item"); h.eq(tag.foreign_keys[1].on_delete, "CASCADE")
  end },
  { "statements and queries: names, SQL, kinds, parameters", function()
    local m = build()
    h.eq(names(m.statements, function(s) return s.name .. (s.idempotent and "+" or "") end),
      "item_insert item_get_by_id+ item_get_by_code+ item_delete_by_id tag_insert tag_get_by_item_id_and_label+ "
      .. "tag_get_by_label_and_item_id+ tag_delete_by_item_id_and_label get_items+ items_ranked_in+ set_note "
      .. "touch_items delete_unranked set_price")
    h.eq(m.statements[2].sql, 'SELECT "id", "code", "name", "stock", "createdAt", "note", "rank", "kind", "active", '
      .. '"price", "featured" FROM "Item" WHERE "id" = $1')
    h.eq(names(m.queries, function(q) return q.name .. ":" .. q.kind end),
      "get_items:many items_ranked_in:many set_note:one touch_items:exec delete_unranked:execrows set_price:one")
    h.eq(names(m.queries[6].params, function(p) return p.name .. ":" .. p.kind .. ":" .. p.c_type end),
      "price:numeric:const char * active:bool:bool id:text:const char *")
    local ranked = m.queries[2]
    h.eq(names(ranked.params, function(p) return p.name .. ":" .. p.c_type .. (p.array and "[]" or "") end),
      "ranks:const int32_t *[] min_stock:int64_t")
    h.eq(m.queries[1].params[1].c_type, "const char *const *")
  end },
  { "messages: C names, rules in order, repeated rules, table binding, peers", function()
    local m = build()
    local create = m.messages[".shop.CreateItemRequest"]
    h.eq(create.c_type, "Shop__CreateItemRequest"); h.eq(create.c_prefix, "shop__create_item_request")
    h.eq(names(create.fields[2].rules, function(r) return r.kind end), "required min_len max_len")
    h.eq(create.fields[6].rules[2].description, "must be at most 4 characters")
    local ids = m.messages[".shop.GetItemsRequest"].fields[1].rules
    h.eq(names(ids, function(r) return r.kind end), "min_items max_items items")
    h.eq(ids[3].items[1].description, "each item must be a UUID")
    h.eq(#m.messages[".shop.GetItemsRequest"].fields[3].rules, 0)
    h.eq(m.messages[".shop.Item"].column_of.created_at.name, "createdAt")
    h.eq(m.services[1].daemon, "shop-service"); h.eq(m.services[1].peers[1].full_name, "shop.ShopService")
  end },
  { "a message field without a column, or of another type, is an error", function()
    local function alter(find, replace)
      return function(name, text) return name == "0002_alter.sql" and text .. find .. replace or text end
    end
    h.contains(h.raises(build, alter("", 'ALTER TABLE "Item" DROP COLUMN "stock";')),
      'fixtures/shop/proto/shop.proto:66: shop.Item.stock: no column in table "Item"')
    h.contains(h.raises(build, alter("", 'ALTER TABLE "Item" ALTER COLUMN "stock" TYPE TEXT;')),
      'shop.proto:66: shop.Item.stock: the field is int32 but column "Item"."stock" is TEXT')
  end },
  { "unsupported column types and casts name file:line and what is supported", function()
    local function retype(name, text)
      return name == "0002_alter.sql" and text .. '\nALTER TABLE "Item" ADD COLUMN "ratio" DOUBLE PRECISION;' or text
    end
    h.contains(h.raises(build, retype), '0002_alter.sql:12: column "Item"."ratio": type DOUBLE PRECISION is not '
      .. "supported by codegen/ (supported: BIGINT, BOOL, BOOLEAN")
    local function bool_array(name, text)
      return name == "item.sql" and text:gsub("@active::boolean", "@active::boolean[]") or text
    end
    h.contains(h.raises(build, bool_array), "parameter @active: arrays of boolean are not supported")
    local function recast(name, text)
      return name == "item.sql" and text:gsub("@before::timestamp", "@before::interval") or text
    end
    h.contains(h.raises(build, recast), "item.sql:19: query DeleteUnranked: parameter @before has unsupported type "
      .. "interval (supported: bigint")
    local function many_columns(name, text)
      return name == "item.sql" and text:gsub('SELECT %* FROM "Item" WHERE "id"', 'SELECT "id" FROM "Item" WHERE "id"') or text
    end
    h.contains(h.raises(build, many_columns), "item.sql:3: query GetItems: a :many query must answer whole Item rows")
  end },
  { "rules that do not fit the field are errors", function()
    local function rule_on(field, spec)
      local msg = descriptors.messages[".shop.GetItemsRequest"]
      for _, f in ipairs(msg.fields) do
        if f.name == field then
          local saved = f.options.ext["rules.field"]
          f.options.ext["rules.field"] = spec
          local ok, err = pcall(build)
          f.options.ext["rules.field"] = saved
          h.truthy(not ok, "an error")
          return err
        end
      end
    end
    h.contains(rule_on("tags", { string = { uuid = true } }), "shop.proto:49: shop.GetItemsRequest.tags: a repeated field takes "
      .. "(rules.field).repeated")
    h.contains(rule_on("tags", { repeated = { items = { int32 = { gte = 1 } } } }),
      "shop.GetItemsRequest.tags items: int32 rules on a string field")
    h.contains(rule_on("tags", { repeated = { unique = true } }), "rule repeated.unique is not supported by codegen/ "
      .. "(supported: min_items, max_items, items)")
  end },
}
