-- The migration lint (codegen/migration_lint.lua) on the fixture's
-- migrations, which are the released ones here: for every rule, a new
-- migration that must be refused (rule, file:line, why) and its safe form
-- that must pass; statements other engineers write (roles in DO blocks,
-- functions, triggers, grants, NOT VALID constraints) pass; released
-- migrations are never linted and may not change; syntax errors name
-- file:line. PostgreSQL's parser runs as the pg_parse helper (helpers.lua).
local h = require("helpers")
local util = require("util")
local migration = require("parse.migration")

local root = util.mktemp_dir()
local helper = h.pg_parse()

local function lint(command, dir, list)
  local p = io.popen(("lua5.4 codegen/migration_lint.lua %s --migrations %s --released %s --pg-parse %s 2>&1")
    :format(command, util.shell_quote(dir), util.shell_quote(list), util.shell_quote(helper)))
  local out = p:read("a")
  return p:close() == true, out
end

local n = 0
-- A copy of the fixture's migrations, accepted as released, plus files
-- ({ {name, text}... }); returns the dir and the released list's path.
local function migrations(files)
  n = n + 1
  local dir = util.join(root, "m" .. n)
  util.run(("mkdir -p %s && cp %s/migrations/*.sql %s"):format(util.shell_quote(dir), util.shell_quote(h.FIXTURE),
    util.shell_quote(dir)))
  local list = dir .. ".sha256"
  local ok, out = lint("accept", dir, list)
  if not ok then error(out, 0) end
  for _, f in ipairs(files or {}) do
    local fh = assert(io.open(util.join(dir, f[1]), "wb"))
    fh:write(f[2])
    fh:close()
  end
  return dir, list
end

local NOTX = "-- migrate: no-transaction\n"
-- Each case: the new migrations refused, the rule, a fragment of the reason,
-- the file:line named; the safe migrations that pass.
local CASES = {
  { rule = "ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT",
    bad = { { "0003_x.sql", "-- a comment\nALTER TABLE \"Item\" ADD COLUMN \"sku\" TEXT NOT NULL;\n" } },
    at = "0003_x.sql:2", says = "adding \"Item\".\"sku\" NOT NULL without a DEFAULT: fails (23502)",
    safe = { { "0003_x.sql", "ALTER TABLE \"Item\" ADD COLUMN \"sku\" TEXT NOT NULL DEFAULT '';\n" } } },
  { rule = "ADD_COLUMN_VOLATILE_DEFAULT",
    bad = { { "0003_x.sql", "ALTER TABLE \"Item\"\n  ADD COLUMN \"token\" TEXT DEFAULT gen_random_uuid()::text;\n" } },
    at = "0003_x.sql:2", says = "DEFAULT gen_random_uuid(), which may be volatile",
    safe = { { "0003_x.sql", "ALTER TABLE \"Item\" ADD COLUMN \"token\" TEXT;\n"
      .. "ALTER TABLE \"Item\" ALTER COLUMN \"token\" SET DEFAULT gen_random_uuid()::text;\n"
      .. "ALTER TABLE \"Item\" ADD COLUMN \"seen\" TIMESTAMP(3) DEFAULT now();\n" } } },
  { rule = "ADD_COLUMN_VOLATILE_DEFAULT", name = "serial",
    bad = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD COLUMN \"n\" BIGSERIAL;\n" } },
    at = "0003_x.sql:1", says = "with bigserial",
    safe = { { "0003_x.sql", "CREATE TABLE \"Counter\" (\"n\" BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n" } } },
  { rule = "ALTER_COLUMN_TYPE",
    bad = { { "0003_x.sql", "ALTER TABLE \"Item\" ALTER COLUMN \"stock\" TYPE BIGINT;\n" } },
    at = "0003_x.sql:1", says = "changing \"Item\".\"stock\" from int4 to int8 rewrites the table",
    safe = { { "0003_x.sql", "ALTER TABLE \"Item\" ALTER COLUMN \"code\" TYPE VARCHAR(16);\n"
      .. "ALTER TABLE \"Item\" ALTER COLUMN \"name\" TYPE TEXT;\n" } } },
  { rule = "SET_NOT_NULL",
    bad = { { "0003_x.sql", "ALTER TABLE \"Item\" ALTER COLUMN \"note\" SET NOT NULL;\n" } },
    at = "0003_x.sql:1", says = "SET NOT NULL on \"Item\".\"note\" scans every row under ACCESS EXCLUSIVE",
    safe = { { "0003_x.sql", "ALTER TABLE \"Item\" ADD CONSTRAINT \"Item_note_nn\" CHECK (\"note\" IS NOT NULL) NOT VALID;\n" },
             { "0004_x.sql", "ALTER TABLE \"Item\" VALIDATE CONSTRAINT \"Item_note_nn\";\n" },
             { "0005_x.sql", "ALTER TABLE \"Item\" ALTER COLUMN \"note\" SET NOT NULL;\n"
               .. "ALTER TABLE \"Item\" DROP CONSTRAINT \"Item_note_nn\";\n" } } },
  { rule = "CREATE_INDEX_NOT_CONCURRENTLY",
    bad = { { "0003_x.sql", "\n\nCREATE INDEX \"Item_name_idx\" ON \"Item\" (\"name\");\n" } },
    at = "0003_x.sql:3", says = "holds SHARE on the table (no INSERT, UPDATE or DELETE) for the whole build",
    safe = { { "0003_x.sql", NOTX .. "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Item_name_idx\" ON \"Item\" (\"name\");\n" },
             { "0004_x.sql", "CREATE TABLE \"Box\" (\"id\" TEXT);\nCREATE INDEX \"Box_id_idx\" ON \"Box\" (\"id\");\n" } } },
  { rule = "DROP_INDEX_NOT_CONCURRENTLY",
    bad = { { "0003_x.sql", "DROP INDEX \"Item_code_key\";\n" } },
    at = "0003_x.sql:1", says = "DROP INDEX \"Item_code_key\" takes ACCESS EXCLUSIVE on \"Item\"",
    safe = { { "0003_x.sql", NOTX .. "DROP INDEX CONCURRENTLY IF EXISTS \"Item_code_key\";\n" } } },
  { rule = "CONCURRENTLY_IN_TRANSACTION",
    bad = { { "0003_x.sql", "-- an index\nCREATE INDEX CONCURRENTLY \"Item_name_idx\" ON \"Item\" (\"name\");\n" } },
    at = "0003_x.sql:2", says = "cannot run inside a transaction block",
    safe = { { "0003_x.sql", NOTX .. "CREATE INDEX CONCURRENTLY \"Item_name_idx\" ON \"Item\" (\"name\");\n" } } },
  { rule = "NO_TRANSACTION_MIXED",
    bad = { { "0003_x.sql", NOTX .. "CREATE INDEX CONCURRENTLY \"Item_name_idx\" ON \"Item\" (\"name\");\n"
      .. "ALTER TABLE \"Item\" ADD COLUMN \"sku\" TEXT;\n" } },
    at = "0003_x.sql:3", says = "AlterTableStmt in a `-- migrate: no-transaction` migration",
    safe = { { "0003_x.sql", NOTX .. "CREATE INDEX CONCURRENTLY \"Item_name_idx\" ON \"Item\" (\"name\");\n" },
             { "0004_x.sql", "ALTER TABLE \"Item\" ADD COLUMN \"sku\" TEXT;\n" } } },
  { rule = "ADD_CONSTRAINT_WITHOUT_NOT_VALID",
    bad = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD CONSTRAINT \"Tag_weight_check\" CHECK (\"weight\" > 0);\n" } },
    at = "0003_x.sql:1", says = "adding CHECK \"Tag_weight_check\" to \"Tag\" without NOT VALID",
    safe = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD CONSTRAINT \"Tag_weight_check\" CHECK (\"weight\" > 0) NOT VALID;\n" },
             { "0004_x.sql", "ALTER TABLE \"Tag\" VALIDATE CONSTRAINT \"Tag_weight_check\";\n" } } },
  { rule = "ADD_CONSTRAINT_WITHOUT_NOT_VALID", name = "foreign key",
    bad = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD CONSTRAINT \"Tag_item_fk\"\n  FOREIGN KEY (\"itemId\") REFERENCES \"Item\"(\"id\");\n" } },
    at = "0003_x.sql:1", says = "FOREIGN KEY \"Tag_item_fk\" to \"Tag\" without NOT VALID checks every row while holding SHARE ROW EXCLUSIVE",
    safe = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD CONSTRAINT \"Tag_item_fk\"\n  FOREIGN KEY (\"itemId\") REFERENCES \"Item\"(\"id\") NOT VALID;\n" },
             { "0004_x.sql", "ALTER TABLE \"Tag\" VALIDATE CONSTRAINT \"Tag_item_fk\";\n" } } },
  { rule = "ADD_UNIQUE_CONSTRAINT",
    bad = { { "0003_x.sql", "ALTER TABLE \"Item\" ADD CONSTRAINT \"Item_name_key\" UNIQUE (\"name\");\n" } },
    at = "0003_x.sql:1", says = "adding \"Item_name_key\" to \"Item\" builds its index under ACCESS EXCLUSIVE",
    safe = { { "0003_x.sql", NOTX .. "CREATE UNIQUE INDEX CONCURRENTLY \"Item_name_key\" ON \"Item\" (\"name\");\n" },
             { "0004_x.sql", "ALTER TABLE \"Item\" ADD CONSTRAINT \"Item_name_key\" UNIQUE USING INDEX \"Item_name_key\";\n" } } },
  { rule = "VALIDATE_IN_SAME_MIGRATION",
    bad = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD CONSTRAINT \"Tag_weight_check\" CHECK (\"weight\" > 0) NOT VALID;\n"
      .. "ALTER TABLE \"Tag\" VALIDATE CONSTRAINT \"Tag_weight_check\";\n" } },
    at = "0003_x.sql:2", says = "the lock the ADD took is held through the whole validating scan",
    safe = { { "0003_x.sql", "ALTER TABLE \"Tag\" ADD CONSTRAINT \"Tag_weight_check\" CHECK (\"weight\" > 0) NOT VALID;\n" },
             { "0004_x.sql", "ALTER TABLE \"Tag\" VALIDATE CONSTRAINT \"Tag_weight_check\";\n" } } },
  { rule = "DROP_COLUMN",
    bad = { { "0003_x.sql", "ALTER TABLE \"Item\" DROP COLUMN \"note\";\n" } },
    at = "0003_x.sql:1", says = "dropping \"Item\".\"note\", which the released daemons read",
    safe = { { "0003_x.sql", "-- lint: allow DROP_COLUMN release 7 stopped reading it\nALTER TABLE \"Item\" DROP COLUMN \"note\";\n"
      .. "ALTER TABLE \"Item\" ADD COLUMN \"tmp\" TEXT;\nALTER TABLE \"Item\" DROP COLUMN \"tmp\";\n" } } },
  { rule = "RENAME_COLUMN",
    bad = { { "0003_x.sql", "ALTER TABLE \"Item\" RENAME COLUMN \"name\" TO \"title\";\n" } },
    at = "0003_x.sql:1", says = "renaming \"Item\".\"name\" to \"title\": the released daemons still name \"name\"",
    safe = { { "0003_x.sql", "ALTER TABLE \"Item\" ADD COLUMN \"title\" TEXT;\n" } } },
  { rule = "DROP_TABLE",
    bad = { { "0003_x.sql", "DROP TABLE \"Tag\";\n" } },
    at = "0003_x.sql:1", says = "dropping \"Tag\", which the released daemons use",
    safe = { { "0003_x.sql", "CREATE TABLE \"Scratch\" (\"id\" TEXT);\nDROP TABLE \"Scratch\";\n" } } },
  { rule = "RENAME_TABLE",
    bad = { { "0003_x.sql", "ALTER TABLE \"Tag\" RENAME TO \"Label\";\n" } },
    at = "0003_x.sql:1", says = "renaming \"Tag\" to \"Label\"",
    safe = { { "0003_x.sql", "CREATE TABLE \"Label\" (\"itemId\" TEXT NOT NULL, \"label\" TEXT NOT NULL);\n" } } },
}

local tests, covered = {}, {}
for _, case in ipairs(CASES) do
  covered[case.rule] = true
  tests[#tests + 1] = { case.rule .. (case.name and " (" .. case.name .. ")" or "") .. ": refused, safe form passes",
    function()
      local dir, list = migrations(case.bad)
      local ok, out = lint("check", dir, list)
      h.truthy(not ok, "refused:\n" .. out)
      h.contains(out, ("%s/%s: %s: "):format(dir, case.at, case.rule), "file:line and rule")
      h.contains(out, case.says, "why")
      h.contains(out, "safe way: ", "safe way")
      local safe_dir, safe_list = migrations(case.safe)
      local safe_ok, safe_out = lint("check", safe_dir, safe_list)
      h.truthy(safe_ok, "the safe form passes:\n" .. safe_out)
      -- and the generator reads it
      local schema = { tables = {}, indexes = {} }
      for _, name in ipairs(util.glob(safe_dir, "%.sql$")) do
        migration.apply(util.join(safe_dir, name), schema, helper)
      end
    end }
end

tests[#tests + 1] = { "every rule has a fixture case", function()
  for _, rule in ipairs(util.sorted_keys(require("lint.migration_rules").RULES)) do
    h.truthy(covered[rule], rule .. " has a case")
  end
end }

tests[#tests + 1] = { "roles in DO blocks, functions, triggers, grants and NOT VALID constraints pass", function()
  local dir, list = migrations({ { "0003_roles.sql", [[
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shop_app') THEN
    CREATE ROLE shop_app NOLOGIN;
  END IF;
END
$$;
GRANT SELECT, INSERT, UPDATE ON "Item", "Tag" TO shop_app;
REVOKE DELETE ON "Item" FROM PUBLIC;
CREATE OR REPLACE FUNCTION item_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."createdAt" := OLD."createdAt";
  RETURN NEW;
END
$$;
CREATE TRIGGER item_touch BEFORE UPDATE ON "Item" FOR EACH ROW EXECUTE FUNCTION item_touch();
ALTER TABLE "Item" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Tag" DISABLE TRIGGER ALL, OWNER TO shop_app;
ALTER TABLE "Item" ADD CONSTRAINT "Item_stock_max" CHECK ("stock" <= 1000000) NOT VALID;
ALTER TABLE "Item" ADD COLUMN "label" TEXT, ADD COLUMN "flag" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Item" ALTER COLUMN "rank" DROP NOT NULL;
COMMENT ON COLUMN "Item"."label" IS 'free text';
]] } })
  local ok, out = lint("check", dir, list)
  h.truthy(ok, "passes:\n" .. out)
  h.contains(out, "1 new migration(s) linted")
  -- and the generator reads them: what shapes no table is read past
  local schema = { tables = {}, indexes = {} }
  for _, name in ipairs(util.glob(dir, "%.sql$")) do migration.apply(util.join(dir, name), schema, helper) end
  local item = schema.tables[1]
  h.eq(item.columns[#item.columns].name, "flag")
end }

tests[#tests + 1] = { "the generator still refuses what it cannot map, at the statement's file:line", function()
  local dir = migrations({ { "0003_x.sql", "GRANT SELECT ON \"Item\" TO PUBLIC;\n\n-- a view\n"
    .. "CREATE VIEW \"Cheap\" AS SELECT * FROM \"Item\" WHERE \"stock\" < 5;\n" } })
  local schema = { tables = {}, indexes = {} }
  local names = util.glob(dir, "%.sql$")
  for i = 1, #names - 1 do migration.apply(util.join(dir, names[i]), schema, helper) end
  h.contains(h.raises(migration.apply, util.join(dir, "0003_x.sql"), schema, helper),
    "0003_x.sql:4: unsupported statement CREATE VIEW")
end }

tests[#tests + 1] = { "released migrations are not linted, and may not change", function()
  local dir, list = migrations()
  local ok, out = lint("check", dir, list)
  h.truthy(ok, out)
  h.contains(out, "0 new migration(s) linted") -- 0002 drops an index non-concurrently: released, not linted
  local f = assert(io.open(util.join(dir, "0002_alter.sql"), "ab"))
  f:write("-- edited\n")
  f:close()
  ok, out = lint("check", dir, list)
  h.truthy(not ok, "an edited released migration is refused")
  h.contains(out, "0002_alter.sql: released migration changed since it was released")
  os.remove(util.join(dir, "0002_alter.sql"))
  ok, out = lint("check", dir, list)
  h.truthy(not ok, "a removed released migration is refused")
  h.contains(out, "released migration 0002_alter.sql is gone")
end }

tests[#tests + 1] = { "a syntax error names file:line as PostgreSQL reads it", function()
  local dir, list = migrations({ { "0003_x.sql", "ALTER TABLE \"Item\" ADD COLUMN \"a\" TEXT;\n\nALTER TABEL \"Item\" ADD COLUMN \"b\" TEXT;\n" } })
  local ok, out = lint("check", dir, list)
  h.truthy(not ok, "refused")
  h.contains(out, dir .. "/0003_x.sql:3: syntax error at or near \"TABEL\"")
end }

tests[#tests + 1] = { "lint: allow needs a known rule and a reason, and covers only its statement", function()
  local dir, list = migrations({ { "0003_x.sql", "-- lint: allow DROP_COLUMNS oops\nALTER TABLE \"Item\" DROP COLUMN \"note\";\n" } })
  local ok, out = lint("check", dir, list)
  h.truthy(not ok, "unknown rule")
  h.contains(out, "lint: allow names an unknown rule DROP_COLUMNS")
  dir, list = migrations({ { "0003_x.sql", "-- lint: allow DROP_COLUMN\nALTER TABLE \"Item\" DROP COLUMN \"note\";\n" } })
  ok, out = lint("check", dir, list)
  h.truthy(not ok, "no reason")
  h.contains(out, "needs a reason")
  dir, list = migrations({ { "0003_x.sql", "-- lint: allow DROP_COLUMN gone since release 7\n"
    .. "ALTER TABLE \"Item\" DROP COLUMN \"note\";\nALTER TABLE \"Item\" DROP COLUMN \"rank\";\n" } })
  ok, out = lint("check", dir, list)
  h.truthy(not ok, "the next statement is not covered")
  h.contains(out, "0003_x.sql:2: DROP_COLUMN (allowed: gone since release 7)")
  h.contains(out, "0003_x.sql:3: DROP_COLUMN: dropping \"Item\".\"rank\"")
end }

tests[#tests + 1] = { "accept records every migration as released", function()
  local dir, list = migrations({ { "0003_x.sql", "ALTER TABLE \"Item\" ADD COLUMN \"sku\" TEXT;\n" } })
  local ok, out = lint("accept", dir, list)
  h.truthy(ok, out)
  h.contains(util.read_file(list), "  0003_x.sql\n")
  local f = assert(io.open(util.join(dir, "0004_x.sql"), "wb"))
  f:write("ALTER TABLE \"Item\" ALTER COLUMN \"sku\" SET NOT NULL;\n")
  f:close()
  ok, out = lint("check", dir, list)
  h.truthy(not ok, "a column a released migration added is live")
  h.contains(out, "SET_NOT_NULL")
end }

tests[#tests + 1] = { "cleanup", function() util.remove_tree(root) end }

return tests
