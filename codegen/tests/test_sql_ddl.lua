-- The DDL reader on the fixture migrations and on tricky inputs: every
-- supported statement applied in order, and file:line errors for the rest.
local sql_ddl = require("parse.sql_ddl")
local h = require("helpers")

local function both()
  local s = sql_ddl.parse(h.fixture("migrations/0001_init.sql"), "0001.sql")
  return sql_ddl.parse(h.fixture("migrations/0002_alter.sql"), "0002.sql", s)
end

local function column_names(t)
  local out = {}
  for i, c in ipairs(t.columns) do out[i] = c.name end
  return table.concat(out, " ")
end

return {
  { "the migration lint's safe forms: NOT VALID, VALIDATE, USING INDEX, CONCURRENTLY", function()
    local s = sql_ddl.parse([[
ALTER TABLE "Tag" ADD CONSTRAINT "Tag_weight_check" CHECK ("weight" > 0) NOT VALID,
  ADD CONSTRAINT "Tag_item_fk" FOREIGN KEY ("itemId") REFERENCES "Item"("id") NOT VALID;
ALTER TABLE "Tag" VALIDATE CONSTRAINT "Tag_weight_check";
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Item_name_key" ON "Item" ("name");
ALTER TABLE "Item" ADD CONSTRAINT "Item_name_key" UNIQUE USING INDEX "Item_name_key";
DROP INDEX CONCURRENTLY IF EXISTS "Item_rank_key";
]], "0003.sql", both())
    local item, tag = s.tables[1], s.tables[2]
    h.eq(tag.constraints[#tag.constraints - 1].name, "Tag_weight_check")
    h.eq(tag.constraints[#tag.constraints].kind, "foreign_key")
    local k = item.constraints[#item.constraints]
    h.eq(k.kind .. ":" .. k.name .. ":" .. table.concat(k.columns, ","), "unique:Item_name_key:name")
    h.eq(#s.indexes, 1, "the index became the constraint, the partial one was dropped")
    h.contains(h.raises(sql_ddl.parse, 'ALTER TABLE "Item" ADD CONSTRAINT "x" UNIQUE USING INDEX "nope";', "0004.sql",
      both()), '0004.sql:1: no index "nope" on table "Item"')
  end },
  { "CREATE TABLE: columns, defaults, column and table constraints, indexes", function()
    local s = sql_ddl.parse(h.fixture("migrations/0001_init.sql"), "0001.sql")
    local item, tag = s.tables[1], s.tables[2]
    h.eq(column_names(item), "id code name stock legacy createdAt")
    h.eq(item.columns[2].type.text, "VARCHAR(8)")
    h.eq(item.columns[6].default, "CURRENT_TIMESTAMP"); h.eq(item.columns[6].not_null, true)
    h.eq(item.columns[5].not_null, false)
    h.eq(item.constraints[1].kind, "check"); h.eq(item.constraints[1].expr, '("stock" >= 0)')
    h.eq(item.constraints[2].kind, "primary_key"); h.eq(item.constraints[2].name, "Item_pkey")
    local fk = tag.constraints[1]
    h.eq(fk.kind, "foreign_key"); h.eq(fk.columns[1], "itemId"); h.eq(fk.ref_table, "Item"); h.eq(fk.on_delete, "CASCADE")
    h.eq(#s.indexes, 2)
    h.eq(s.indexes[1].unique, true); h.eq(s.indexes[2].columns[1], "createdAt")
  end },
  { "ALTER TABLE, CREATE INDEX ... WHERE and DROP INDEX applied in order", function()
    local s = both()
    local item, tag = s.tables[1], s.tables[2]
    h.eq(column_names(item), "id code name stock createdAt note rank kind")
    h.eq(item.columns[7].file, "0002.sql"); h.eq(item.columns[7].line, 3)
    h.eq(item.constraints[3].name, "Item_rank_check"); h.eq(item.constraints[3].expr, '("rank" IS NULL OR "rank" > 0)')
    h.eq(tag.constraints[3].kind, "unique"); h.eq(tag.columns[3].default, "1")
    h.eq(#s.indexes, 2)
    h.eq(s.indexes[2].name, "Item_rank_key"); h.eq(s.indexes[2].predicate, '"rank" IS NOT NULL')
  end },
  { "DROP COLUMN takes its constraints and indexes; a referenced column needs CASCADE", function()
    local s = both()
    sql_ddl.parse('ALTER TABLE "Item" DROP COLUMN "code", DROP COLUMN IF EXISTS "nope";', "3.sql", s)
    for _, idx in ipairs(s.indexes) do h.truthy(idx.name ~= "Item_code_key", "index on code dropped") end
    h.contains(h.raises(sql_ddl.parse, 'ALTER TABLE "Item" DROP COLUMN "id";', "4.sql", s),
      '4.sql:1: column "Item"."id" is referenced by a foreign key of "Tag" (DROP COLUMN ... CASCADE drops it)')
    sql_ddl.parse('ALTER TABLE "Item" DROP COLUMN "id" CASCADE;', "4.sql", s)
    h.eq(#s.tables[2].constraints, 2)
    sql_ddl.parse('ALTER TABLE "Tag" DROP CONSTRAINT "Tag_label_key";\nDROP TABLE "Tag";', "5.sql", s)
    h.eq(#s.tables, 1)
  end },
  { "DROP TABLE with foreign keys pointing at it needs CASCADE; IF [NOT] EXISTS skip", function()
    local src = "CREATE TABLE a (id TEXT PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS a (other TEXT);\n"
      .. "CREATE TABLE b (a_id TEXT REFERENCES a (id), CHECK (a_id <> ''));\nALTER TABLE b ADD COLUMN IF NOT EXISTS a_id TEXT UNIQUE;\n"
    local s = sql_ddl.parse(src, "m.sql")
    h.eq(column_names(s.tables[1]), "id")
    h.eq(#s.tables[2].constraints, 2) -- the skipped ADD COLUMN added no UNIQUE
    h.contains(h.raises(sql_ddl.parse, "DROP TABLE a;", "d.sql", s),
      'd.sql:1: table "a" is referenced by a foreign key of "b" (DROP TABLE ... CASCADE drops it)')
    sql_ddl.parse("DROP TABLE IF EXISTS nope, a CASCADE;", "d.sql", s)
    h.eq(#s.tables, 1); h.eq(s.tables[1].name, "b"); h.eq(#s.tables[1].constraints, 1)
  end },
  { "functions, triggers, privileges and data fills are read past; identity columns default", function()
    local r = sql_ddl.parse('CREATE TABLE a (n BIGINT GENERATED ALWAYS AS IDENTITY, b TEXT);\n'
      .. 'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE \'x;\'; END $$;\n'
      .. 'CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\n'
      .. 'CREATE CONSTRAINT TRIGGER c AFTER INSERT ON a DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION f();\n'
      .. 'GRANT SELECT, UPDATE (b) ON a TO app;\nREVOKE CREATE ON SCHEMA public FROM PUBLIC;\n'
      .. 'UPDATE a SET b = \'y;\' WHERE b = \'x\';\n'
      .. 'INSERT INTO a (b) SELECT \'x\';\nCREATE INDEX i ON a (b);', "m.sql")
    h.eq(#r.tables, 1); h.eq(#r.indexes, 1)
    h.eq(r.tables[1].columns[1].default, "identity"); h.eq(r.tables[1].columns[1].not_null, true)
    h.contains(h.raises(sql_ddl.parse, "INSERT INTO nowhere SELECT 1;", "m.sql"), 'm.sql:1: unknown table "nowhere"')
    h.contains(h.raises(sql_ddl.parse, "UPDATE nowhere SET x = 1;", "m.sql"), 'm.sql:1: unknown table "nowhere"')
    h.contains(h.raises(sql_ddl.parse, "CREATE FUNCTION f() AS $$ never closed", "m.sql"), "unterminated $$ string")
  end },
  { "comments inside statements, multi-line statements, quoted identifiers", function()
    local src = [[
/* leading
   block comment */
CREATE TABLE "Odd Table" ( -- trailing comment
    "Mixed Case" TEXT /* inline */ NOT NULL,
    plain_Col BIGINT
        NOT NULL
        DEFAULT (1 + 2),
    "say ""hi""" VARCHAR(10) UNIQUE,
    CONSTRAINT "Odd_pkey" PRIMARY KEY ("Mixed Case")
);
ALTER TABLE "Odd Table"
  ADD CONSTRAINT "self_fk" FOREIGN KEY (plain_col) REFERENCES "Odd Table" ("Mixed Case") ON UPDATE NO ACTION;
]]
    local s = sql_ddl.parse(src, "odd.sql")
    local t = s.tables[1]
    h.eq(t.name, "Odd Table")
    h.eq(t.columns[1].name, "Mixed Case"); h.eq(t.columns[1].not_null, true)
    h.eq(t.columns[2].name, "plain_col") -- unquoted folds to lower case
    h.eq(t.columns[2].default, "(1 + 2)")
    h.eq(t.columns[3].name, 'say "hi"'); h.eq(t.columns[3].type.text, "VARCHAR(10)")
    h.eq(t.constraints[1].kind, "unique")
    h.eq(t.constraints[2].name, "Odd_pkey")
    h.eq(t.constraints[3].on_update, "NO ACTION")
  end },
  { "unsupported statements name file:line and what is supported", function()
    h.contains(h.raises(sql_ddl.parse, "\n\nCREATE VIEW v AS SELECT 1;", "m.sql"),
      "m.sql:3: unsupported statement CREATE VIEW (supported: CREATE TABLE")
    h.contains(h.raises(sql_ddl.parse, "-- x\nDROP VIEW v;", "m.sql"), "m.sql:2: unsupported statement DROP VIEW")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (b TEXT);\nALTER TABLE a RENAME b TO c;", "m.sql"),
      "m.sql:2: unsupported ALTER TABLE action 'RENAME'")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (\n b TEXT,\n EXCLUDE (b WITH =));", "m.sql"),
      "m.sql:3: unsupported table element EXCLUDE")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (b TEXT);\nCREATE INDEX i ON a (lower(b));", "m.sql"),
      "m.sql:2: index i: only column names are supported, not expressions")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (\n b TEXT GENERATED ALWAYS AS (1) STORED);", "m.sql"),
      "m.sql:2: expected IDENTITY, found '('")
  end },
  { "syntax errors and unknown names say file:line", function()
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (\n b TEXT\n", "m.sql"), "m.sql:3:")
    h.contains(h.raises(sql_ddl.parse, "\n/* never closed", "m.sql"), "m.sql:2: unterminated /* comment")
    h.contains(h.raises(sql_ddl.parse, "ALTER TABLE nope ADD CONSTRAINT x UNIQUE (a);", "m.sql"), "unknown table")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (b TEXT);\nALTER TABLE a ADD COLUMN b TEXT;", "m.sql"),
      'm.sql:2: table "a" already has a column "b"')
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (b TEXT);\nCREATE TABLE a (c TEXT);", "m.sql"),
      'm.sql:2: table "a" created twice')
  end },
}
