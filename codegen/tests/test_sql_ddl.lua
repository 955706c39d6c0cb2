-- The DDL reader on the real migration and on tricky inputs.
local sql_ddl = require("parse.sql_ddl")
local util = require("util")
local h = require("helpers")

return {
  { "migrations/0001_init.sql: tables, columns, keys, indexes, foreign key", function()
    local s = sql_ddl.parse(util.read_file("migrations/0001_init.sql"), "migrations/0001_init.sql")
    h.eq(#s.tables, 2)
    local user, wallet = s.tables[1], s.tables[2]
    h.eq(user.name, "User"); h.eq(wallet.name, "Wallet")
    h.eq(#user.columns, 4)
    h.eq(user.columns[4].name, "createdAt"); h.eq(user.columns[4].type.text, "TIMESTAMP(3)")
    h.eq(user.columns[4].default, "CURRENT_TIMESTAMP"); h.eq(user.columns[4].not_null, true)
    h.eq(wallet.columns[3].type.name, "INTEGER"); h.eq(wallet.columns[3].default, "0")
    h.eq(user.constraints[1].kind, "primary_key"); h.eq(user.constraints[1].columns[1], "id")
    local fk = wallet.constraints[2]
    h.eq(fk.kind, "foreign_key"); h.eq(fk.name, "Wallet_userId_fkey"); h.eq(fk.columns[1], "userId")
    h.eq(fk.ref_table, "User"); h.eq(fk.ref_columns[1], "id")
    h.eq(fk.on_delete, "CASCADE"); h.eq(fk.on_update, "CASCADE")
    h.eq(#s.indexes, 3)
    h.eq(s.indexes[1].name, "User_email_key"); h.eq(s.indexes[1].unique, true)
    h.eq(s.indexes[2].unique, false); h.eq(s.indexes[3].columns[1], "userId")
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
  { "functions, triggers and data fills are read past; identity columns default", function()
    local r = sql_ddl.parse('CREATE TABLE a (n BIGINT GENERATED ALWAYS AS IDENTITY, b TEXT);\n'
      .. 'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE \'x;\'; END $$;\n'
      .. 'CREATE TRIGGER t BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\n'
      .. 'INSERT INTO a (b) SELECT \'x\';\nCREATE INDEX i ON a (b);', "m.sql")
    h.eq(#r.tables, 1); h.eq(#r.indexes, 1)
    h.eq(r.tables[1].columns[1].default, "identity"); h.eq(r.tables[1].columns[1].not_null, true)
    h.contains(h.raises(sql_ddl.parse, "INSERT INTO nowhere SELECT 1;", "m.sql"), 'm.sql:1: unknown table "nowhere"')
    h.contains(h.raises(sql_ddl.parse, "CREATE FUNCTION f() AS $$ never closed", "m.sql"), "unterminated $$ string")
  end },
  { "unsupported statements name file:line", function()
    h.contains(h.raises(sql_ddl.parse, "\n\nCREATE VIEW v AS SELECT 1;", "m.sql"), "m.sql:3: unsupported statement CREATE VIEW")
    h.contains(h.raises(sql_ddl.parse, "-- x\nDROP VIEW \"User\";", "m.sql"), "m.sql:2: unsupported statement DROP VIEW")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (b TEXT);\nALTER TABLE a RENAME b TO c;", "m.sql"),
      "m.sql:2: unsupported ALTER TABLE action 'RENAME'")
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (\n b TEXT,\n EXCLUDE (b WITH =));", "m.sql"), "m.sql:3: unsupported table element EXCLUDE")
  end },
  { "syntax errors and unterminated comments name file:line", function()
    h.contains(h.raises(sql_ddl.parse, "CREATE TABLE a (\n b TEXT\n", "m.sql"), "m.sql:3:")
    h.contains(h.raises(sql_ddl.parse, "\n/* never closed", "m.sql"), "m.sql:2: unterminated /* comment")
    h.contains(h.raises(sql_ddl.parse, "ALTER TABLE nope ADD CONSTRAINT x UNIQUE (a);", "m.sql"), "unknown table")
  end },
}
