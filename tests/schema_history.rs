//! Differential test of the schema history against real MariaDB: a corpus of DDL statements is run
//! one by one; after each, the definitions Sluice tracks (by parsing the statement) must equal
//! information_schema's — column names and order, data types, character sets, primary key.
//!
//! Between the statements, rows are written with `binlog_row_metadata=MINIMAL` (TABLE_MAPs carry
//! no column names); `sluice binlog decode` over the server's binlog must then put every value
//! under the right column: each text column holds its own name.
//!
//! The history is stored in ZooKeeper: a `sluice run` killed before a DDL it had not read yet
//! decodes the rows written before that DDL with the columns of their time after its restart.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use sluice::cluster::zk::ZkPaths;
use sluice::schema::history::SchemaHistory;
use sluice::schema::journal::HistoryRecord;
use sluice::schema::sql_type::{ColumnTypeStyle, as_server_shows};
use support::*;

/// How long a test waits for rows to reach Kafka.
const WAIT: Duration = Duration::from_secs(90);

/// Per table: (name, data type, column type, charset) per column, the primary key, and the other
/// keys by name: (unique, kept as a hash, columns).
type Shape = BTreeMap<String, (Vec<(String, String, String, Option<String>)>, Vec<String>, BTreeMap<String, KeyShape>)>;
type KeyShape = (bool, bool, Vec<String>);

/// The DDL corpus, run in order in one database.
fn corpus() -> Vec<String> {
    let mut ddl: Vec<String> = [
        // Creation: types, charsets, keys, generated columns, partitions, comments, options.
        "CREATE TABLE a (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32), note TEXT)",
        "CREATE TABLE b (id BIGINT UNSIGNED NOT NULL, code CHAR(4) CHARACTER SET latin1, PRIMARY KEY (id)) ENGINE=InnoDB",
        "CREATE TABLE c (k1 INT NOT NULL, k2 VARCHAR(10) NOT NULL, v DECIMAL(12,3), CONSTRAINT pk_c PRIMARY KEY (k2, k1))",
        "CREATE TABLE d (id INT PRIMARY KEY, t TINYINT, s SMALLINT, m MEDIUMINT, b BIGINT, f FLOAT, dd DOUBLE, r REAL)",
        "CREATE TABLE e (id INT PRIMARY KEY, d DATE, t TIME(3), dt DATETIME(6), ts TIMESTAMP NULL, y YEAR)",
        "CREATE TABLE f (id INT PRIMARY KEY, e ENUM('x','y','it''s'), st SET('a','b','c'), bt BIT(5))",
        // Labels as the server keeps them: trailing spaces dropped, backslash sequences read.
        r"CREATE TABLE lbl (id INT PRIMARY KEY, a ENUM('x ', ' y', 'a\'b', 'c\\d', 'tab\t', 'nl\n', 'pct\%', 'und\_', 'z\q', 'C  '), b SET('p ', 'q''', 'r\\', 'ü'))",
        r#"ALTER TABLE lbl MODIFY a ENUM("dq\"", 'nul\0', 'cr\r', 'bs\b', 'sub\Z', 'x '), ADD c ENUM('new  ')"#,
        "CREATE TABLE g (id INT PRIMARY KEY, bin BINARY(8), vb VARBINARY(20), bl BLOB, mb MEDIUMBLOB, lt LONGTEXT)",
        "CREATE TABLE h (id INT PRIMARY KEY, j JSON, tx TINYTEXT, mt MEDIUMTEXT COLLATE utf8mb4_bin)",
        "CREATE TABLE i (id INT PRIMARY KEY, a INT, b INT AS (a * 2) VIRTUAL, c VARCHAR(20) AS (CONCAT('x', a)) PERSISTENT)",
        "CREATE TABLE j (id INT NOT NULL, region VARCHAR(8) NOT NULL, PRIMARY KEY (id)) PARTITION BY HASH (id) PARTITIONS 4",
        "CREATE TABLE k (id INT NOT NULL, created DATE NOT NULL, PRIMARY KEY (id, created)) \
         PARTITION BY RANGE (YEAR(created)) (PARTITION p0 VALUES LESS THAN (2020), PARTITION p1 VALUES LESS THAN MAXVALUE)",
        "CREATE TABLE `l` (`select` INT PRIMARY KEY, `from` VARCHAR(5), `weird name` TEXT) COMMENT='keywords, (parens)'",
        "CREATE TABLE m (id INT PRIMARY KEY, name VARCHAR(20)) DEFAULT CHARSET=latin1",
        "CREATE TABLE n (id SERIAL, label NATIONAL VARCHAR(10), flag BOOLEAN, amount NUMERIC(8,2), code INTEGER UNSIGNED ZEROFILL)",
        "CREATE TABLE o (id INT PRIMARY KEY, u VARCHAR(10) CHARSET utf8mb3, g VARCHAR(10) CHARACTER SET gbk, KEY (u), UNIQUE KEY uq (g))",
        "CREATE TABLE IF NOT EXISTS a (nope INT)",
        "CREATE TABLE p LIKE a",
        "CREATE TABLE q (id INT PRIMARY KEY /* inline comment */, v VARCHAR(10) DEFAULT 'a,b(c' COMMENT 'it''s, \"quoted\"')",
        "CREATE TABLE r (id INT PRIMARY KEY, inv INT INVISIBLE, v VARCHAR(3))",
        "CREATE TABLE s (id INT NOT NULL AUTO_INCREMENT UNIQUE, v VARCHAR(10))",
        // Character sets and collations named as strings.
        "CREATE TABLE qc (id INT PRIMARY KEY, a VARCHAR(5) CHARACTER SET 'latin1', b VARCHAR(5) COLLATE 'latin1_bin', \
         c VARCHAR(5) CHARSET \"gbk\") CHARSET='utf8mb4'",
        "ALTER TABLE qc MODIFY a VARCHAR(8) CHARACTER SET 'gbk' COLLATE 'gbk_bin', ADD d TEXT COLLATE \"latin1_bin\"",
        // Types declared without their arguments, or with ones the server rewrites.
        "CREATE TABLE u (id INT(5) PRIMARY KEY, d DECIMAL, d5 DECIMAL(5), c CHAR, bn BINARY, b BIT, f30 FLOAT(30), \
         f10 FLOAT(10), f73 FLOAT(7,3), t0 TIME(0), dt0 DATETIME(0), tz TINYINT(2) UNSIGNED ZEROFILL, b2 BOOL)",
        // Adding columns, at the end, FIRST and AFTER, several at once.
        "ALTER TABLE a ADD COLUMN c1 INT",
        "ALTER TABLE a ADD COLUMN c0 VARCHAR(5) FIRST",
        "ALTER TABLE a ADD COLUMN mid VARCHAR(7) AFTER name",
        "ALTER TABLE a ADD c2 INT, ADD c3 VARCHAR(3) AFTER c0",
        "ALTER TABLE a ADD COLUMN (c4 INT, c5 TEXT)",
        "ALTER TABLE a ADD COLUMN IF NOT EXISTS c1 INT",
        "ALTER TABLE b ADD COLUMN created DATETIME AFTER id, ADD INDEX ix_created (created)",
        "ALTER TABLE c ADD COLUMN extra JSON FIRST",
        "ALTER TABLE s ADD PRIMARY KEY (id)",
        "ALTER TABLE s ADD COLUMN w VARCHAR(4) CHARACTER SET latin1 COLLATE latin1_bin AFTER id",
        // Dropping.
        "ALTER TABLE a DROP COLUMN c2",
        "ALTER TABLE a DROP c4, DROP COLUMN c5",
        "ALTER TABLE a DROP COLUMN IF EXISTS not_there",
        "ALTER TABLE b DROP INDEX ix_created",
        "ALTER TABLE s DROP PRIMARY KEY",
        "ALTER TABLE c DROP PRIMARY KEY, ADD PRIMARY KEY (k1)",
        // Modifying and changing.
        "ALTER TABLE a MODIFY COLUMN c1 BIGINT",
        "ALTER TABLE a MODIFY name VARCHAR(64) CHARACTER SET latin1",
        "ALTER TABLE a MODIFY COLUMN c0 VARCHAR(5) AFTER note",
        "ALTER TABLE a MODIFY c3 VARCHAR(3) FIRST",
        "ALTER TABLE a CHANGE COLUMN mid middle VARCHAR(9)",
        "ALTER TABLE a CHANGE middle mid2 TEXT AFTER c1",
        "ALTER TABLE b CHANGE id ident BIGINT UNSIGNED NOT NULL",
        "ALTER TABLE d MODIFY t SMALLINT, MODIFY s INT, MODIFY m BIGINT",
        "ALTER TABLE d CHANGE COLUMN f ff DOUBLE FIRST",
        "ALTER TABLE e MODIFY COLUMN dt DATETIME(3), MODIFY t TIME",
        "ALTER TABLE f MODIFY e ENUM('x','y','it''s','z'), MODIFY st SET('a','b','c','d')",
        "ALTER TABLE g MODIFY vb VARBINARY(40), MODIFY bl LONGBLOB",
        "ALTER TABLE h MODIFY tx TEXT CHARACTER SET latin1",
        "ALTER TABLE m MODIFY name VARCHAR(30) CHARACTER SET utf8mb4",
        "ALTER TABLE a MODIFY COLUMN IF EXISTS gone INT",
        // Renaming columns and tables.
        "ALTER TABLE a RENAME COLUMN c1 TO c_one",
        "ALTER TABLE l RENAME COLUMN `from` TO `to`",
        "ALTER TABLE p RENAME TO p2",
        "ALTER TABLE p2 RENAME AS p3, ADD COLUMN after_rename INT",
        "RENAME TABLE p3 TO p4",
        "RENAME TABLE p4 TO p5, m TO m2",
        "RENAME TABLE p5 TO tmp_swap, a TO p5, tmp_swap TO a",
        // Character sets.
        "ALTER TABLE o CONVERT TO CHARACTER SET latin1",
        "ALTER TABLE o ADD COLUMN after_convert VARCHAR(3)",
        "ALTER TABLE m2 DEFAULT CHARSET=utf8mb4",
        "ALTER TABLE m2 ADD COLUMN new_default VARCHAR(3)",
        "ALTER TABLE q CHARACTER SET = latin1, ADD COLUMN q2 VARCHAR(2)",
        // Generated and invisible columns.
        "ALTER TABLE i ADD COLUMN d INT AS (a + 1) VIRTUAL AFTER a",
        "ALTER TABLE i DROP COLUMN c",
        "ALTER TABLE r MODIFY inv INT, ADD COLUMN inv2 CHAR(1) INVISIBLE FIRST",
        // Partitions and indexes: columns unchanged.
        "ALTER TABLE j ADD PARTITION PARTITIONS 2",
        "ALTER TABLE j COALESCE PARTITION 2",
        "ALTER TABLE k REORGANIZE PARTITION p1 INTO (PARTITION p1 VALUES LESS THAN (2030), PARTITION p2 VALUES LESS THAN MAXVALUE)",
        "ALTER TABLE j REMOVE PARTITIONING",
        // MariaDB 10.7+: a partition becomes a table of the same columns, and a table a partition.
        "ALTER TABLE k CONVERT PARTITION p2 TO TABLE k_old",
        "ALTER TABLE k_old ADD COLUMN archived TINYINT",
        "ALTER TABLE k_old DROP COLUMN archived",
        "ALTER TABLE k CONVERT TABLE k_old TO PARTITION p2 VALUES LESS THAN MAXVALUE",
        // Type synonyms, and attributes that change the type or the character set.
        "CREATE TABLE syn (id INT PRIMARY KEY, c BOOL, d BOOLEAN, e INT1, f INT8, g DOUBLE PRECISION, h REAL, \
         i NUMERIC(5,2), j FIXED(4,1), k NCHAR(3), l NATIONAL VARCHAR(4), m LONG VARCHAR, n MIDDLEINT, o FLOAT4, \
         p FLOAT8, q CHARACTER VARYING(5), r LONG, s2 INT2, t INT3, u INT4, v DEC(6,3), w NVARCHAR(2), x CHAR BYTE, \
         y SERIAL, z LONG VARBINARY, aa VARCHAR(3) BINARY, ab VARCHAR(3) CHARACTER SET binary, ac TEXT BYTE, \
         ad INTEGER UNSIGNED ZEROFILL, ae NATIONAL CHAR(2), af CHAR(2) UNICODE, ag CHAR(2) ASCII)",
        "ALTER TABLE syn ADD COLUMN ah NATIONAL CHARACTER VARYING(3) AFTER id, MODIFY r LONG VARBINARY, \
         CHANGE aa ai CHAR(4) BYTE",
        // CONVERT TO keeps a text column's length in characters: its type grows, never shrinks.
        "CREATE TABLE cv (id INT PRIMARY KEY, t TEXT, tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT, v VARCHAR(100), \
         e ENUM('a','b'), c CHAR(10), tc TEXT COMPRESSED) CHARSET latin1",
        "ALTER TABLE cv CONVERT TO CHARACTER SET utf8mb4",
        "ALTER TABLE cv CONVERT TO CHARACTER SET latin1",
        "ALTER TABLE cv MODIFY t TINYTEXT, DROP e, CONVERT TO CHARACTER SET ucs2",
        // Columns the same statement defines take the new set as they are, even a declared one.
        "CREATE TABLE cw (id INT PRIMARY KEY, t TEXT, u TEXT) CHARSET latin1",
        "ALTER TABLE cw ADD COLUMN n TEXT, MODIFY u TEXT, CONVERT TO CHARACTER SET utf8mb4",
        "ALTER TABLE cw CONVERT TO CHARACTER SET latin1, ADD COLUMN m TINYTEXT CHARACTER SET utf8mb4",
        // Several column changes in one statement, applied in order; renames swap; names keep
        // the case of their last definition.
        "CREATE TABLE z1 (id INT PRIMARY KEY, a INT, b VARCHAR(5), c DATE)",
        "ALTER TABLE z1 RENAME COLUMN a TO b, RENAME COLUMN b TO a",
        "ALTER TABLE z1 ADD x INT FIRST, ADD y INT FIRST",
        "ALTER TABLE z1 DROP COLUMN a, ADD COLUMN a BIGINT AFTER id",
        "ALTER TABLE z1 MODIFY ID BIGINT, CHANGE C cc DATETIME",
        "ALTER TABLE z1 MODIFY x INT AFTER cc, MODIFY cc DATE FIRST",
        "ALTER TABLE z1 CHANGE a a2 INT, ADD COLUMN n INT AFTER a2",
        // Keys with prefixes, order and names; keyword column names; expressions and comments.
        "CREATE TABLE z2 (id INT NOT NULL, v VARCHAR(40) NOT NULL, w INT, KEY (id), PRIMARY KEY (v(10), id DESC)) \
         ENGINE=InnoDB ROW_FORMAT=DYNAMIC",
        "ALTER TABLE z2 DROP PRIMARY KEY, ADD CONSTRAINT pk PRIMARY KEY (w, id), MODIFY w INT NOT NULL",
        "CREATE TABLE z3 (`index` INT, `primary` INT, `key` VARCHAR(3), `desc` TEXT, `column` INT, PRIMARY KEY (`primary`))",
        "ALTER TABLE z3 CHANGE `key` `unique` VARCHAR(3) FIRST, ADD `constraint` INT AFTER `index`, DROP `desc`",
        "CREATE TABLE z4 (id INT PRIMARY KEY, j JSON, ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP \
         ON UPDATE CURRENT_TIMESTAMP, d INT DEFAULT (1 + 2), CHECK (d > 0))",
        "ALTER TABLE z4 ALTER COLUMN d SET DEFAULT (4 * 2), MODIFY j JSON NOT NULL DEFAULT '[]' COMMENT 'a, (b)'",
        // `--` starts a comment only before a space: `1--1` is 1 - -1.
        "ALTER TABLE z4 ADD e INT DEFAULT (1--1), ADD f INT -- , ADD g INT\n, ADD h INT",
        // Key columns name the columns as the table becomes (in any case); drops come before adds.
        "CREATE TABLE z5 (a INT NOT NULL, v INT)",
        "ALTER TABLE z5 RENAME COLUMN a TO b, ADD PRIMARY KEY (B)",
        "ALTER TABLE z5 ADD PRIMARY KEY (b, W), DROP PRIMARY KEY, CHANGE v w INT NOT NULL",
        "CREATE TABLE z6 (Id INT NOT NULL, k2 INT NOT NULL, v INT, PRIMARY KEY (ID, K2))",
        "ALTER TABLE z6 ADD COLUMN k3 INT NOT NULL FIRST, DROP PRIMARY KEY, ADD PRIMARY KEY (K3, id2), \
         CHANGE Id id2 INT NOT NULL",
        // TEXT(n) and BLOB(n) take the smallest size that holds n characters (bytes).
        "CREATE TABLE z7 (id INT PRIMARY KEY, a BLOB(10), b BLOB(256), c BLOB(65536), d TEXT(63), e TEXT(64), \
         f TEXT(100) CHARSET latin1, g TEXT(16384), h TEXT(0), i BLOB(16777216))",
        "ALTER TABLE z7 MODIFY a TEXT(86) CHARSET utf8mb3, ADD j BLOB(255), CHANGE d d2 TEXT(5) CHARSET binary",
        // Double-quoted ENUM/SET labels and defaults (strings outside sql_mode ANSI_QUOTES).
        r#"CREATE TABLE z8 (id INT PRIMARY KEY, e ENUM("x", "y's"), s SET("a","b"), d VARCHAR(5) DEFAULT "q\"r")"#,
        r#"ALTER TABLE z8 MODIFY e ENUM("x", "y's", 'z"'), ADD f INT COMMENT "a, (b)""#,
        // MariaDB sequences are tables of a fixed shape.
        "CREATE SEQUENCE seq1 START WITH 100 INCREMENT BY 5",
        "CREATE SEQUENCE IF NOT EXISTS seq1",
        "ALTER SEQUENCE seq1 RESTART WITH 7",
        "CREATE OR REPLACE SEQUENCE seq2 CACHE 10",
        "DROP SEQUENCE seq2",
        "CREATE INDEX ix_name ON a (name)",
        "CREATE UNIQUE INDEX ux_code ON b (code)",
        "DROP INDEX ix_name ON a",
        "ALTER TABLE b ALTER COLUMN code SET DEFAULT 'zz'",
        "ALTER TABLE b ALTER COLUMN code DROP DEFAULT",
        "ALTER TABLE d ENGINE=InnoDB",
        "ALTER TABLE d COMMENT = 'changed, (still) the same columns'",
        "ALTER TABLE d FORCE",
        "ALTER TABLE e ADD CONSTRAINT chk_y CHECK (y > 1900)",
        "ALTER TABLE e DROP CONSTRAINT chk_y",
        "OPTIMIZE TABLE d",
        "TRUNCATE TABLE d",
        "TRUNCATE e",
        // MariaDB system versioning: implicit row_start/row_end follow every other column in rows.
        "CREATE TABLE sv (id INT PRIMARY KEY, v VARCHAR(10)) WITH SYSTEM VERSIONING",
        "SET STATEMENT system_versioning_alter_history = KEEP FOR ALTER TABLE sv ADD COLUMN w VARCHAR(10) AFTER id",
        "CREATE TABLE sv2 LIKE sv",
        "CREATE TABLE sw (id INT PRIMARY KEY, v VARCHAR(10) WITH SYSTEM VERSIONING, u VARCHAR(10) WITHOUT SYSTEM VERSIONING)",
        "ALTER TABLE sw DROP SYSTEM VERSIONING",
        "ALTER TABLE sw ADD SYSTEM VERSIONING",
        "CREATE TABLE sd (id INT PRIMARY KEY, st TIMESTAMP(6) AS ROW START, v VARCHAR(10), en TIMESTAMP(6) AS ROW END, \
         PERIOD FOR SYSTEM_TIME (st, en)) WITH SYSTEM VERSIONING",
        // MariaDB's lock waits, RENAME IF EXISTS, SET STATEMENT … FOR.
        "ALTER TABLE b WAIT 5 ADD COLUMN waited VARCHAR(6)",
        "ALTER TABLE b NOWAIT ADD COLUMN nowait VARCHAR(6) FIRST",
        "RENAME TABLE IF EXISTS q WAIT 2 TO q2",
        "SET STATEMENT max_statement_time = 60 FOR ALTER TABLE q2 ADD COLUMN stmt VARCHAR(4)",
        // Unreserved words that also open table items, as column names.
        "CREATE TABLE kw (id INT PRIMARY KEY, system VARCHAR(8), period VARCHAR(8), vector VARCHAR(8))",
        "ALTER TABLE kw DROP COLUMN period, ADD COLUMN period VARCHAR(9) FIRST, DROP COLUMN system",
        "ALTER TABLE kw ADD COLUMN system VARCHAR(9) AFTER id",
        // MariaDB's compressed columns.
        "CREATE TABLE cz (id INT PRIMARY KEY, b BLOB COMPRESSED, v VARCHAR(20) COMPRESSED, t TEXT /*M!100301 COMPRESSED*/)",
        "ALTER TABLE cz MODIFY v VARCHAR(30) COMPRESSED=zlib, ADD COLUMN w TINYTEXT COMPRESSED AFTER id",
        // Periods, column attributes, partition maintenance, defaults, executable comments.
        "CREATE TABLE x1 (id INT PRIMARY KEY, s DATE, e DATE, PERIOD FOR app(s, e))",
        "ALTER TABLE x1 DROP PERIOD FOR app",
        "ALTER TABLE x1 ADD PERIOD FOR app2(s, e)",
        "CREATE TABLE x2 (id INT PRIMARY KEY, v VARCHAR(10) BINARY, w CHAR(3) ASCII BINARY, u VARCHAR(4) UNICODE)",
        "ALTER TABLE x2 ADD COLUMN IF NOT EXISTS (y INT, z INT)",
        "ALTER TABLE x2 RENAME COLUMN v TO vv",
        "CREATE TABLE x4 (id INT PRIMARY KEY, a INT) PARTITION BY LIST (id) (PARTITION p1 VALUES IN (1,2), PARTITION p2 VALUES IN (3))",
        "ALTER TABLE x4 ADD PARTITION (PARTITION p3 VALUES IN (4))",
        "ALTER TABLE x4 REORGANIZE PARTITION p1 INTO (PARTITION p1a VALUES IN (1), PARTITION p1b VALUES IN (2))",
        "ALTER TABLE x4 TRUNCATE PARTITION p2",
        "ALTER TABLE x4 REMOVE PARTITIONING",
        "CREATE TABLE x5 (id INT PRIMARY KEY, a VARCHAR(10))",
        "ALTER TABLE x5 MODIFY a VARCHAR(10) NOT NULL DEFAULT '' COMMENT 'c' AFTER id",
        "ALTER TABLE x5 ALTER a SET DEFAULT 'z'",
        "ALTER TABLE x5 ALTER COLUMN a DROP DEFAULT",
        "ALTER TABLE x5 ORDER BY a",
        "ALTER TABLE x5 ADD COLUMN b INT AFTER id, DROP COLUMN a, ADD COLUMN a2 INT FIRST",
        "CREATE TABLE x6 (id INT PRIMARY KEY, g POINT NOT NULL, SPATIAL INDEX(g))",
        "CREATE TABLE x7 (id INT PRIMARY KEY, u UUID DEFAULT UUID())",
        "CREATE TABLE x8 LIKE x7",
        "ALTER TABLE x8 ADD COLUMN n INT",
        "CREATE TABLE x10 (id INT PRIMARY KEY, d DECIMAL(65,30), f FLOAT(53), e ENUM('a','b') CHARACTER SET latin1, st SET('x') COLLATE latin1_bin)",
        "CREATE TABLE x11 (id INT PRIMARY KEY, t TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT (''))",
        "ALTER TABLE x11 CONVERT TO CHARSET latin1",
        "ALTER TABLE x11 DEFAULT CHARACTER SET utf8",
        "ALTER TABLE x11 ADD z VARCHAR(3)",
        "CREATE TABLE x12 (id INT PRIMARY KEY, a INT) ENGINE=InnoDB /*!50100 PARTITION BY HASH (id) PARTITIONS 2 */",
        "CREATE TABLE x13 (id INT PRIMARY KEY, a INT /*M!100301 INVISIBLE */, b INT)",
        "CREATE TABLE x14 (id INT PRIMARY KEY, `a``b` INT, `c d` VARCHAR(3) CHARACTER SET latin1 COLLATE latin1_general_cs)",
        "ALTER TABLE x14 CHANGE `a``b` `e\"f` BIGINT",
        "CREATE TABLE x15 (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING PARTITION BY SYSTEM_TIME (PARTITION p_hist HISTORY, PARTITION p_cur CURRENT)",
        // CHARACTER SET DEFAULT: the database's.
        "CREATE TABLE cd (id INT PRIMARY KEY, a VARCHAR(5)) CHARACTER SET DEFAULT",
        "ALTER TABLE cd CHARACTER SET latin1, ADD b VARCHAR(3)",
        "ALTER TABLE cd CHARACTER SET = DEFAULT, ADD c VARCHAR(3)",
        "CREATE TABLE cd2 (id INT PRIMARY KEY, a VARCHAR(5)) CHARSET latin1",
        "ALTER TABLE cd2 CONVERT TO CHARACTER SET DEFAULT",
        // MariaDB's UCA 14 collations, whose names do not name a character set.
        "CREATE TABLE uc (id INT PRIMARY KEY, a VARCHAR(5) COLLATE uca1400_ai_ci, \
         b VARCHAR(5) CHARACTER SET utf8mb3 COLLATE uca1400_as_cs) COLLATE uca1400_ai_ci",
        "ALTER TABLE uc ADD c TEXT COLLATE utf8mb4_uca1400_ai_ci, ADD d VARCHAR(5) COLLATE uca1400_ai_ci FIRST",
        // Columns named FIRST and AFTER, and positions after them.
        "CREATE TABLE kp (id INT PRIMARY KEY, first INT, after INT, b INT, v VARCHAR(8))",
        "ALTER TABLE kp ADD COLUMN x INT AFTER first",
        "ALTER TABLE kp MODIFY b INT AFTER `first`, MODIFY after BIGINT FIRST",
        "ALTER TABLE kp CHANGE x after2 INT AFTER after, CHANGE first first2 INT AFTER v",
        "ALTER TABLE kp CHANGE after2 first SMALLINT, CHANGE v after3 VARCHAR(8) AFTER first",
        "ALTER TABLE kp DROP COLUMN after",
        "ALTER TABLE kp CHANGE b after INT",
        "ALTER TABLE kp MODIFY first INT FIRST",
        "ALTER TABLE kp ADD INDEX (after), ADD INDEX (first)",
        // One ALTER's clauses in MariaDB's order, not the order written: drops before adds,
        // AFTER naming columns as they are becoming, IF [NOT] EXISTS against the table as it was,
        // a key following a column dropped and added again, BINARY and COLLATE DEFAULT asking for
        // the table's character set beside CONVERT TO.
        "CREATE TABLE ord (id INT PRIMARY KEY, a VARCHAR(5), b VARCHAR(5), c VARCHAR(5))",
        "ALTER TABLE ord ADD COLUMN a TEXT, DROP COLUMN a",
        "ALTER TABLE ord ADD x VARCHAR(5) AFTER z, CHANGE b z VARCHAR(6)",
        "ALTER TABLE ord ADD y VARCHAR(5), MODIFY y VARCHAR(7) FIRST",
        "ALTER TABLE ord ADD id2 VARCHAR(8) AFTER y, DROP id, ADD id INT NOT NULL FIRST",
        "ALTER TABLE ord DROP COLUMN c, ADD COLUMN IF NOT EXISTS c TEXT",
        "ALTER TABLE ord RENAME COLUMN IF EXISTS nope TO nope2, RENAME COLUMN IF EXISTS a TO a2",
        "ALTER TABLE ord ADD w VARCHAR(5), CONVERT TO CHARACTER SET latin1, DEFAULT CHARSET=utf8mb4",
        "ALTER TABLE ord MODIFY w VARCHAR(5) BINARY, ADD v VARCHAR(4) COLLATE DEFAULT, CONVERT TO CHARACTER SET utf8mb3, \
         DEFAULT CHARSET=latin1",
        "ALTER TABLE ord ADD IF NOT EXISTS a2 TEXT, CONVERT TO CHARACTER SET utf8mb4",
        // Copies and drops.
        "CREATE TABLE t_like LIKE d",
        "CREATE TABLE t_like2 (LIKE e)",
        "DROP TABLE t_like2",
        "DROP TABLE IF EXISTS t_like2, nonexistent",
        "CREATE TABLE t_sel AS SELECT id, name FROM a",
        "ALTER TABLE t_sel ADD COLUMN later INT",
        "DROP TABLE t_sel",
        "CREATE TABLE t_sel2 (extra INT) SELECT id FROM a",
        "DROP TABLE t_sel2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A table reshaped step by step: every column position in use.
    ddl.push("CREATE TABLE w (id INT PRIMARY KEY)".into());
    for i in 0..6 {
        ddl.push(format!("ALTER TABLE w ADD COLUMN w{i} VARCHAR(8) {}", if i % 2 == 0 { "FIRST" } else { "AFTER id" }));
    }
    for i in 0..6 {
        ddl.push(format!("ALTER TABLE w CHANGE COLUMN w{i} x{i} VARCHAR(9) {}", if i % 3 == 0 { "FIRST" } else { "" }));
    }
    for i in (0..6).step_by(2) {
        ddl.push(format!("ALTER TABLE w DROP COLUMN x{i}"));
    }
    ddl.push("ALTER TABLE w MODIFY x1 TEXT AFTER x5, MODIFY x3 TINYTEXT FIRST".into());
    ddl.push("ALTER TABLE w CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci".into());
    ddl.push("DROP TABLE w".into());
    ddl
}

/// What information_schema says about the database's tables (all but the harness's `_warmup`).
async fn information_schema(db: &mut TestDb) -> Shape {
    let schema = db.name.clone();
    let mut shape = Shape::new();
    let columns = db
        .query(&format!(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME <> '_warmup' ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ))
        .await;
    for row in columns {
        let table = row[0].clone().unwrap();
        let entry = shape.entry(table).or_default();
        entry.0.push((row[1].clone().unwrap(), row[2].clone().unwrap(), row[3].clone().unwrap(), row[4].clone()));
    }
    let keys = db
        .query(&format!(
            "SELECT s.TABLE_NAME, s.COLUMN_NAME, s.INDEX_NAME, s.NON_UNIQUE, s.INDEX_TYPE, t.ENGINE \
             FROM information_schema.STATISTICS s JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = s.TABLE_SCHEMA AND t.TABLE_NAME = s.TABLE_NAME \
             WHERE s.TABLE_SCHEMA = '{schema}' AND s.TABLE_NAME <> '_warmup' ORDER BY s.TABLE_NAME, s.SEQ_IN_INDEX"
        ))
        .await;
    for row in keys {
        let table = shape.get_mut(row[0].as_deref().unwrap()).unwrap();
        let (column, index) = (row[1].clone().unwrap(), row[2].clone().unwrap());
        if index == "PRIMARY" {
            table.1.push(column);
            continue;
        }
        let unique = row[3].as_deref() == Some("0");
        // MEMORY's own indexes are hashes, not MariaDB's hashes of long keys.
        let hash = unique && row[4].as_deref() == Some("HASH") && row[5].as_deref() != Some("MEMORY");
        table.2.entry(index).or_insert((unique, hash, Vec::new())).2.push(column);
    }
    shape
}

/// What the history tracks, in the same terms, as MariaDB shows types: integer display widths, and
/// JSON stored as LONGTEXT.
fn tracked(history: &SchemaHistory, schema: &str) -> Shape {
    history
        .tables()
        .filter(|(name, _)| name.schema == schema)
        .map(|(name, def)| {
            let columns = def
                .columns
                .iter()
                .map(|c| {
                    let data_type = if c.data_type == "json" { "longtext".to_owned() } else { c.data_type.clone() };
                    let column_type = as_server_shows(&c.column_type, ColumnTypeStyle::Mariadb);
                    (c.name.clone(), data_type, column_type, c.charset.clone())
                })
                .collect();
            let keys = def
                .keys
                .iter()
                .map(|k| (k.name.clone(), (k.unique, k.hash, k.parts.iter().map(|p| p.column.clone()).collect())))
                .collect();
            (name.table.clone(), (columns, def.primary_key.clone(), keys))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tracked_schema_follows_every_ddl_and_minimal_rows_decode_by_name() {
    let stack = minimal_metadata_mariadb();
    let mut db = TestDb::create(&stack.mysql(), "history").await;
    let schema = db.name.clone();
    let mut history = SchemaHistory::default();
    let corpus = corpus();
    assert!(corpus.len() >= 100, "the corpus has {} statements", corpus.len());
    // Rows written between the statements, in order: (table, column -> value).
    let mut written: Vec<(String, BTreeMap<String, String>)> = Vec::new();

    for (step, sql) in corpus.iter().enumerate() {
        db.exec(sql).await;
        history.apply(sql, &schema).unwrap_or_else(|e| panic!("step {step}: {e}"));
        // Tables created by CREATE … SELECT are untracked by design: compare the rest.
        let mut expected = information_schema(&mut db).await;
        let actual = tracked(&history, &schema);
        expected.retain(|table, _| actual.contains_key(table) || !table.starts_with("t_sel"));
        assert_eq!(actual, expected, "after step {step}: {sql}");

        // A row in each tracked table whose text columns hold their own names.
        for (name, def) in history.tables().filter(|(n, _)| n.schema == schema) {
            let writable = db
                .query(&format!(
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{schema}' \
                     AND TABLE_NAME = '{}' AND DATA_TYPE IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext') \
                     AND IS_GENERATED = 'NEVER' AND CHARACTER_MAXIMUM_LENGTH >= CHAR_LENGTH(COLUMN_NAME)",
                    name.table
                ))
                .await;
            let row: BTreeMap<String, String> = writable
                .into_iter()
                .filter_map(|r| r[0].clone())
                .filter(|c| def.columns.iter().any(|d| &d.name == c && d.data_type != "json"))
                .map(|c| (c.clone(), c))
                .collect();
            if row.is_empty() {
                continue;
            }
            let list = row.keys().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            let values = row.values().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ");
            // Key collisions (NOT NULL keys without defaults) make some inserts fail: skip those.
            let insert = format!("INSERT INTO `{}` ({list}) VALUES ({values})", name.table);
            if db.conn.execute(&insert).await.is_ok() {
                written.push((name.table.clone(), row));
            }
        }
    }
    db.exec("FLUSH BINARY LOGS").await;
    assert!(written.len() >= 100, "only {} rows were written between the statements", written.len());

    // Decode the server's binlog offline: column names come only from the DDL in it.
    let lines = stack.decode_binlogs();
    let tables: Vec<&str> = written.iter().map(|(t, _)| t.as_str()).collect();
    let decoded: Vec<serde_json::Value> = lines
        .into_iter()
        .filter(|v| v["database"] == schema.as_str() && v["event"] == "INSERT")
        .filter(|v| v["table"].as_str().is_some_and(|t| tables.contains(&t) && !t.starts_with("t_sel")))
        .collect();
    assert_eq!(decoded.len(), written.len(), "every written row decoded once");
    for ((table, row), line) in written.iter().zip(&decoded) {
        assert_eq!(line["table"], table.as_str(), "{line}");
        for (column, value) in row {
            assert_eq!(line["data"][column], value.as_str(), "{table}.{column} in {line}");
        }
        let names: Vec<&String> = line["data"].as_object().unwrap().keys().collect();
        assert!(names.iter().all(|n| !n.starts_with('@')), "positional names in {line}");
    }
    stack.down(&["mariadb"]);
}

/// A private MariaDB whose TABLE_MAPs carry no column names or charsets: only the schema history
/// knows them.
fn minimal_metadata_mariadb() -> PrivateStack {
    PrivateStack::mariadb_with("binlog_row_metadata=MINIMAL")
}

/// MariaDB keeps a UNIQUE key on a TEXT/BLOB column, too long for a B-tree, or declared USING HASH
/// (until the table is next rebuilt) as a hash in a hidden column every row carries, which neither
/// information_schema nor MINIMAL metadata names. As such keys come and go, rows decode from the
/// binlog alone with every value under its name, and the hidden columns are never published
/// (FULL metadata names them `DB_ROW_HASH_n`).
#[tokio::test(flavor = "multi_thread")]
async fn hidden_hash_columns_of_long_unique_keys_are_passed_over() {
    let mysql = minimal_metadata_mariadb();
    let mut db = TestDb::create(&mysql.mysql(), "hashed").await;
    let schema = db.name.clone();
    // Each statement, and how many UNIQUE keys the server keeps as hashes after it.
    let steps = [
        (
            "CREATE TABLE h (id INT PRIMARY KEY, u TEXT, v VARCHAR(2000), w INT, x INT, UNIQUE KEY uu (u), \
             UNIQUE KEY uv (v), UNIQUE KEY uw (w) USING HASH) CHARSET utf8mb4",
            3,
        ),
        ("ALTER TABLE h ADD COLUMN y INT", 2),
        ("ALTER TABLE h DROP INDEX uu, CONVERT TO CHARACTER SET latin1", 0),
        ("ALTER TABLE h MODIFY v VARCHAR(2000) CHARACTER SET utf8mb4, ADD UNIQUE (u(10))", 1),
        ("CREATE UNIQUE INDEX ux ON h (x) USING HASH", 2),
        ("ALTER TABLE h ENGINE=MyISAM, DROP INDEX uv, ADD UNIQUE (v(300))", 1),
        ("SET GLOBAL binlog_row_metadata = FULL", 1),
    ];
    let mut expected = Vec::new();
    for (n, (sql, hashes)) in steps.into_iter().enumerate() {
        db.exec(sql).await;
        let listed = db
            .query(&format!(
                "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME = 'h' AND INDEX_TYPE = 'HASH'"
            ))
            .await;
        assert_eq!(listed[0][0].as_deref(), Some(hashes.to_string().as_str()), "after {sql}");
        let mut row = serde_json::json!({"id": n, "u": format!("u{n}"), "v": format!("v{n}"), "w": n, "x": n});
        if n > 0 {
            row["y"] = n.into();
        }
        let row: BTreeMap<String, String> = row
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string().trim_matches('"').to_owned()))
            .collect();
        let (names, values): (Vec<&String>, Vec<String>) = row.iter().map(|(k, v)| (k, format!("'{v}'"))).unzip();
        let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        db.exec(&format!("INSERT INTO h ({}) VALUES ({})", names.join(", "), values.join(", "))).await;
        expected.push(row);
    }
    db.exec("FLUSH BINARY LOGS").await;
    let decoded = mysql.decode_binlogs();
    let rows: Vec<BTreeMap<String, String>> = decoded
        .iter()
        .filter(|v| v["database"] == schema.as_str() && v["table"] == "h" && v["event"] == "INSERT")
        .map(|v| serde_json::from_value(v["data"].clone()).unwrap())
        .collect();
    assert_eq!(rows, expected);
    mysql.down(&["mariadb"]);
}

/// A database created without a character set takes the server's (here latin1, as a session may
/// set it), and so do its tables: decoding the binlog alone, the DDL's QUERY event must say so.
#[tokio::test(flavor = "multi_thread")]
async fn tables_in_a_database_created_without_a_charset_take_the_servers() {
    let stack = minimal_metadata_mariadb();
    let mut db = TestDb::create(&stack.mysql(), "server_charset").await;
    let schema = format!("{}_l1", db.name);
    db.exec("SET SESSION character_set_server = latin1, collation_server = latin1_swedish_ci").await;
    db.exec(&format!("CREATE DATABASE `{schema}`")).await;
    db.exec(&format!("CREATE TABLE `{schema}`.t (id INT PRIMARY KEY, v VARCHAR(20))")).await;
    db.exec(&format!("INSERT INTO `{schema}`.t VALUES (1, 'café €')")).await;
    let stored = db.query(&format!("SELECT CHARACTER_SET_NAME, HEX(v) FROM information_schema.COLUMNS, `{schema}`.t WHERE TABLE_SCHEMA = '{schema}' AND COLUMN_NAME = 'v'")).await;
    assert_eq!(stored[0], [Some("latin1".to_owned()), Some("636166E92080".to_owned())], "stored as latin1");
    db.exec("FLUSH BINARY LOGS").await;
    let lines = stack.decode_binlogs();
    let row = lines.iter().find(|v| v["database"] == schema.as_str() && v["event"] == "INSERT").expect("the INSERT");
    assert_eq!(row["data"]["v"], "café €", "{row}");
    db.exec(&format!("DROP DATABASE `{schema}`")).await;
    stack.down(&["mariadb"]);
}

/// A fresh run of Sluice on a private MariaDB with MINIMAL metadata, capturing a database that
/// holds the tables `creates` make, into the shared stack's Kafka.
struct MinimalRun {
    shared: Stack,
    mysql: PrivateStack,
    db: TestDb,
    config: SluiceConfig,
    sluice: Sluice,
}

impl MinimalRun {
    async fn start(prefix: &str, creates: &[&str]) -> Self {
        let shared = stack();
        let mysql = minimal_metadata_mariadb();
        let mut db = TestDb::create(&mysql.mysql(), prefix).await;
        for create in creates {
            db.exec(create).await;
        }
        let mut config = SluiceConfig::new(&shared, &db.name);
        config.mysql = mysql.mysql();
        let sluice = Sluice::start(&config);
        wait_running(&mut db, &sluice).await;
        Self { shared, mysql, db, config, sluice }
    }
}

/// MINIMAL metadata, and the server moves on while Sluice is down: rows written before an ALTER
/// but read after it must decode with the columns of their time. information_schema only knows
/// the new shape; the history Sluice stored in ZooKeeper knows the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_behind_a_ddl_decodes_rows_with_the_schema_of_their_time() {
    let MinimalRun { shared, mysql, mut db, config, mut sluice } =
        MinimalRun::start("restart_ddl", &["CREATE TABLE t (id BIGINT PRIMARY KEY, a VARCHAR(20), b INT)"]).await;
    // A table the history knows only from its CREATE in the binlog.
    db.exec("CREATE TABLE u (id BIGINT PRIMARY KEY, n SMALLINT UNSIGNED, d DECIMAL)").await;
    db.exec("INSERT INTO t VALUES (1, 'a1', 10)").await;
    consume_ids(&shared.kafka, &config.topic, "t", [1], WAIT).await;
    cursor_at_binlog_end(&mut db, &sluice).await;
    sluice.kill9();

    // While it is down: a row of the old shape, the DDL, a row of the new shape.
    db.exec("INSERT INTO t VALUES (2, 'a2', 20)").await;
    db.exec("INSERT INTO u VALUES (2, 7, 8)").await;
    db.exec("ALTER TABLE t DROP COLUMN a, ADD COLUMN c VARCHAR(5) FIRST").await;
    db.exec("ALTER TABLE u DROP COLUMN n, DROP COLUMN d").await;
    db.exec("INSERT INTO t (c, id, b) VALUES ('c3', 3, 30)").await;
    sluice.restart();

    let records = consume_ids(&shared.kafka, &config.topic, "t", 1..=3, WAIT).await;
    let row =
        |id: &str| inserted_row(&records, "t", id).unwrap_or_else(|| panic!("no row {id}; log:\n{}", sluice.log()));
    assert_eq!(row("1"), serde_json::json!({"id": "1", "a": "a1", "b": "10"}));
    assert_eq!(row("2"), serde_json::json!({"id": "2", "a": "a2", "b": "20"}));
    assert_eq!(row("3"), serde_json::json!({"c": "c3", "id": "3", "b": "30"}));
    // Declared types of dropped columns come from the history, shown as MariaDB shows them.
    let records = consume_ids(&shared.kafka, &config.topic, "u", [2], WAIT).await;
    let u = records.iter().find(|r| r.json["table"] == "u" && r.json["type"] == "INSERT").unwrap();
    assert_eq!(u.json["data"][0], serde_json::json!({"id": "2", "n": "7", "d": "8"}));
    assert_eq!(
        u.json["mysqlType"],
        serde_json::json!({"id": "bigint(20)", "n": "smallint(5) unsigned", "d": "decimal(10,0)"})
    );

    // The journal beside the cursor: the table in the snapshot at the start, then the ALTER.
    let journal = stored_journal(&config).await;
    let tracked = journal.iter().position(|r| matches!(r, HistoryRecord::BaseTable { table, .. } if table == "t"));
    let altered =
        journal.iter().position(|r| matches!(r, HistoryRecord::Ddl { sql, .. } if sql.starts_with("ALTER TABLE t")));
    assert!(matches!((tracked, altered), (Some(t), Some(a)) if t < a), "{journal:#?}");
    mysql.down(&["mariadb"]);
}

/// The schema history journal a destination stored in ZooKeeper, in write order.
async fn stored_journal(config: &SluiceConfig) -> Vec<HistoryRecord> {
    let zk = zookeeper_client::Client::connect(&config.zk).await.unwrap();
    let dir = ZkPaths::new(&config.zk_root).schema_history(&config.destination);
    let mut nodes = zk.list_children(&dir).await.unwrap();
    nodes.sort();
    let mut journal = Vec::new();
    for node in nodes {
        let (data, _) = zk.get_data(&format!("{dir}/{node}")).await.unwrap();
        journal.push(serde_json::from_slice::<HistoryRecord>(&data).unwrap());
    }
    journal
}

/// A database and a table that existed before the history began, in a character set that is not
/// the server's (cp1251), with MINIMAL metadata (the history's charsets decide how text decodes),
/// and a run started at a configured position (so without an initial snapshot): a table created in
/// that database takes its charset from information_schema.SCHEMATA, and a column added to the
/// table (first seen through information_schema) takes the table's from information_schema.TABLES.
/// Either read as the server's default would be an error or wrong text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_older_than_the_history_keep_their_databases_charset() {
    let shared = stack();
    let mysql = minimal_metadata_mariadb();
    let mut db = TestDb::create(&mysql.mysql(), "old_charset").await;
    db.exec(&format!("ALTER DATABASE `{}` CHARACTER SET cp1251", db.name)).await;
    db.exec("CREATE TABLE old (id BIGINT PRIMARY KEY, v VARCHAR(20))").await;
    let mut config = SluiceConfig::new(&shared, &db.name);
    config.mysql = mysql.mysql();
    // A new binlog file: the run reads it from its start, so the DDL above stays unseen.
    db.exec("FLUSH BINARY LOGS").await;
    let master = db.query("SHOW MASTER STATUS").await;
    let (file, position) = (master[0][0].clone().unwrap(), master[0][1].clone().unwrap());
    let start = format!("\n[source.start]\nfile = \"{file}\"\nposition = {position}\n");
    let sluice = Sluice::start_with_source_extra(&config, &start);
    wait_running(&mut db, &sluice).await;
    // Seen first here: the history takes the table from information_schema.
    db.exec("INSERT INTO old VALUES (1, 'Привет')").await;
    consume_ids(&shared.kafka, &config.topic, "old", [1], WAIT).await;
    db.exec("ALTER TABLE old ADD COLUMN w VARCHAR(20)").await;
    db.exec("INSERT INTO old VALUES (2, 'мир', 'Ёжик')").await;
    db.exec("CREATE TABLE fresh (id BIGINT PRIMARY KEY, v VARCHAR(20))").await;
    db.exec("INSERT INTO fresh VALUES (3, 'Щука')").await;
    let stored = db
        .query(&format!(
            "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = '{}' AND DATA_TYPE = 'varchar' ORDER BY TABLE_NAME, COLUMN_NAME",
            db.name
        ))
        .await;
    assert!(stored.iter().all(|r| r[2].as_deref() == Some("cp1251")), "stored as cp1251: {stored:?}");

    let old = consume_ids(&shared.kafka, &config.topic, "old", [1, 2], WAIT).await;
    let fresh = consume_ids(&shared.kafka, &config.topic, "fresh", [3], WAIT).await;
    let failed = || panic!("a row is missing; log:\n{}", sluice.log());
    assert_eq!(inserted_row(&old, "old", "1").unwrap_or_else(failed), serde_json::json!({"id": "1", "v": "Привет"}));
    assert_eq!(
        inserted_row(&old, "old", "2").unwrap_or_else(failed),
        serde_json::json!({"id": "2", "v": "мир", "w": "Ёжик"})
    );
    assert_eq!(inserted_row(&fresh, "fresh", "3").unwrap_or_else(failed), serde_json::json!({"id": "3", "v": "Щука"}));

    // The database's charset is in the journal before the CREATE, so a replay decodes the same.
    let journal = stored_journal(&config).await;
    let seeded = journal.iter().position(
        |r| matches!(r, HistoryRecord::TrackSchema { schema, charset, .. } if *schema == db.name && charset == "cp1251"),
    );
    let created = journal
        .iter()
        .position(|r| matches!(r, HistoryRecord::Ddl { sql, .. } if sql.starts_with("CREATE TABLE fresh")));
    assert!(matches!((seeded, created), (Some(s), Some(c)) if s < c), "{journal:#?}");
    mysql.down(&["mariadb"]);
}

/// A fresh start snapshots the captured tables: a column renamed (same type, so no shape check can
/// notice) while Sluice is down, before it ever saw a row of the table, still leaves the rows
/// written before the rename under the old name. Looking the table up in information_schema when
/// its first row arrives (as before the snapshot existed) gives the renamed column: the earlier row
/// would be decoded under the new name, and the RENAME could not be applied — the run stopped there
/// ("RENAME COLUMN a: no such column"), at every restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_start_snapshots_tables_so_a_later_rename_is_seen() {
    let MinimalRun { shared, mysql, mut db, config, mut sluice } =
        MinimalRun::start("snapshot", &["CREATE TABLE t (id BIGINT PRIMARY KEY, a VARCHAR(20))"]).await;
    cursor_at_binlog_end(&mut db, &sluice).await;
    sluice.kill9();

    db.exec("INSERT INTO t VALUES (1, 'before')").await;
    db.exec("ALTER TABLE t RENAME COLUMN a TO b").await;
    db.exec("INSERT INTO t VALUES (2, 'after')").await;
    sluice.restart();

    let records = consume_ids(&shared.kafka, &config.topic, "t", [1, 2], WAIT).await;
    let row =
        |id: &str| inserted_row(&records, "t", id).unwrap_or_else(|| panic!("no row {id}; log:\n{}", sluice.log()));
    assert_eq!(row("1"), serde_json::json!({"id": "1", "a": "before"}));
    assert_eq!(row("2"), serde_json::json!({"id": "2", "b": "after"}));
    let journal = stored_journal(&config).await;
    assert!(
        journal.iter().any(|r| matches!(r, HistoryRecord::BaseTable { table, .. } if table == "t")),
        "the snapshot is stored: {journal:#?}"
    );
    mysql.down(&["mariadb"]);
}

/// MariaDB's system-versioned tables carry two columns information_schema does not list
/// (`row_start`, `row_end`, after every other column). With MINIMAL metadata the rows must still
/// decode by name, for a table of the initial snapshot (read from information_schema) and for one
/// created later and altered (followed through its DDL). Without knowing those columns the run
/// stopped: "the binlog event has 4 columns but … lists 2". Under FULL metadata MariaDB keys the
/// rows by (id, row_end); pkNames stays the declared key either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_versioned_tables_decode_by_name_with_their_declared_key() {
    let MinimalRun { shared, mysql, mut db, config, sluice } = MinimalRun::start(
        "versioned",
        &[
            "CREATE TABLE t (id BIGINT PRIMARY KEY, a VARCHAR(20)) WITH SYSTEM VERSIONING",
            // Declared period columns are ordinary columns (the snapshot must see them as such).
            "CREATE TABLE d (id BIGINT PRIMARY KEY, s TIMESTAMP(6) AS ROW START, a VARCHAR(20), \
             e TIMESTAMP(6) AS ROW END, PERIOD FOR SYSTEM_TIME (s, e)) WITH SYSTEM VERSIONING",
        ],
    )
    .await;
    db.exec("INSERT INTO t VALUES (1, 'one')").await;
    db.exec("INSERT INTO d (id, a) VALUES (4, 'declared')").await;
    db.exec("CREATE TABLE u (id BIGINT PRIMARY KEY, a INT WITH SYSTEM VERSIONING, b INT)").await;
    db.exec("SET STATEMENT system_versioning_alter_history = KEEP FOR ALTER TABLE u ADD COLUMN c VARCHAR(10) AFTER a")
        .await;
    db.exec("INSERT INTO u (id, a, b, c) VALUES (2, 20, 30, 'x')").await;
    // With FULL metadata the binlog names the columns and keys rows by (id, row_end); the key
    // stays the declared one, as under MINIMAL.
    db.exec("SET GLOBAL binlog_row_metadata = FULL").await;
    db.exec("INSERT INTO t VALUES (3, 'three')").await;

    let mut records = consume_ids(&shared.kafka, &config.topic, "t", [1, 3], WAIT).await;
    records.extend(consume_ids(&shared.kafka, &config.topic, "u", [2], WAIT).await);
    records.extend(consume_ids(&shared.kafka, &config.topic, "d", [4], WAIT).await);
    let declared = inserted_row(&records, "d", "4").unwrap();
    let names: Vec<&String> = declared.as_object().unwrap().keys().collect();
    assert_eq!(names, ["a", "e", "id", "s"], "{declared}");
    assert_eq!(declared["a"], "declared");
    let row = |table: &str, id: &str| {
        let mut row = inserted_row(&records, table, id)
            .unwrap_or_else(|| panic!("no row {id} of {table}; log:\n{}", sluice.log()));
        let period = row.as_object_mut().unwrap();
        assert!(period.remove("row_start").is_some_and(|v| v.as_str().is_some_and(|s| s.len() == 26)), "{row}");
        assert_eq!(period.remove("row_end"), Some(serde_json::json!("2038-01-19 03:14:07.999999")));
        row
    };
    assert_eq!(row("t", "1"), serde_json::json!({"id": "1", "a": "one"}));
    assert_eq!(row("u", "2"), serde_json::json!({"id": "2", "a": "20", "c": "x", "b": "30"}));
    assert_eq!(row("t", "3"), serde_json::json!({"id": "3", "a": "three"}));
    for id in ["1", "3"] {
        let message = records.iter().find(|r| r.json["table"] == "t" && r.json["data"][0]["id"] == id).unwrap();
        assert_eq!(message.json["pkNames"], serde_json::json!(["id"]), "{}", message.json);
    }
    mysql.down(&["mariadb"]);
}

/// The journal in a real ZooKeeper: a load replays what precedes the start and deletes the rest;
/// past its limit it compacts into a base, after which the same start gives the same history and an
/// earlier one gives none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_replays_to_the_start_position_and_compacts() {
    use sluice::checkpoint::ZkSchemaHistory;
    use sluice::event::BinlogPosition;
    use sluice::schema::ddl::QualifiedName;

    let zk = zookeeper_client::Client::connect(&stack().zk).await.unwrap();
    let dir = format!("/sluice-test/{}/schema_history", unique("journal"));
    let store = ZkSchemaHistory::new(zk.clone(), dir.clone()).compact_after(5);
    let at = |offset: u64| BinlogPosition::new("bin.000001", offset);
    let mut history = SchemaHistory::default();
    history.apply("CREATE TABLE t (id INT PRIMARY KEY)", "s").unwrap();
    let mut records = vec![HistoryRecord::Track {
        at: at(100),
        schema: "s".into(),
        table: "t".into(),
        definition: history.tables().next().unwrap().1.clone(),
    }];
    for i in 1..=9 {
        records.push(HistoryRecord::Ddl {
            at: at(100 + 100 * i),
            default_schema: "s".into(),
            sql: format!("ALTER TABLE t ADD COLUMN c{i} INT"),
            server_charset: None,
            oracle_types: false,
            no_backslash_escapes: false,
            ansi_quotes: false,
            real_as_float: false,
            lower_case_names: false,
        });
    }
    store.append(&records).await.unwrap();
    let columns = |h: &SchemaHistory| -> Vec<String> {
        let name = QualifiedName { schema: "s".into(), table: "t".into() };
        h.get(&name).map(|d| d.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
    };

    // Start at 750: the Track and six ALTERs (200..=700) replay, 800 and 900 are deleted; seven
    // records exceed the limit of five, so they become one base record.
    let loaded = store.load(Some(&at(750))).await.unwrap();
    assert_eq!(columns(&loaded), ["id", "c1", "c2", "c3", "c4", "c5", "c6"]);
    assert_eq!(zk.list_children(&dir).await.unwrap().len(), 1, "compacted to one base record");
    let again = store.load(Some(&at(750))).await.unwrap();
    assert_eq!(columns(&again), columns(&loaded));

    // Later records append after the base and replay on top of it.
    store
        .append(&[HistoryRecord::Ddl {
            at: at(800),
            default_schema: "s".into(),
            sql: "ALTER TABLE t DROP COLUMN c1".into(),
            server_charset: Some("latin1".into()),
            oracle_types: false,
            no_backslash_escapes: false,
            ansi_quotes: false,
            real_as_float: false,
            lower_case_names: false,
        }])
        .await
        .unwrap();
    assert_eq!(columns(&store.load(Some(&at(900))).await.unwrap()), ["id", "c2", "c3", "c4", "c5", "c6"]);
    // Before the base the history is unknown: empty (information_schema describes tables again).
    assert!(columns(&store.load(Some(&at(500))).await.unwrap()).is_empty());
    // A GTID start cannot be placed: the journal is cleared.
    store.append(&records[..1]).await.unwrap();
    assert!(columns(&store.load(None).await.unwrap()).is_empty());
    assert!(zk.list_children(&dir).await.unwrap().is_empty());

    // A base of more tables than the limit (an initial snapshot) is not rewritten at each load.
    let snapshot: Vec<HistoryRecord> = (0..8)
        .map(|i| HistoryRecord::BaseTable {
            at: at(100),
            schema: "s".into(),
            table: format!("t{i}"),
            definition: records_definition(&records[0]),
        })
        .collect();
    store.append(&snapshot).await.unwrap();
    let mut before = zk.list_children(&dir).await.unwrap();
    assert_eq!(store.load(Some(&at(750))).await.unwrap().tables().count(), 8);
    let mut after = zk.list_children(&dir).await.unwrap();
    before.sort();
    after.sort();
    assert_eq!(before, after, "the base records stay as they were");
}

/// The definition a Track record holds.
fn records_definition(record: &HistoryRecord) -> sluice::schema::history::TableDef {
    match record {
        HistoryRecord::Track { definition, .. } => definition.clone(),
        other => panic!("not a Track record: {other:?}"),
    }
}

/// CREATE TABLE … SELECT is one transaction in the binlog (the CREATE, its rows, the XID): the rows
/// decode by the new table's column names and commit with the CREATE, never leaving a committed
/// position between the CREATE and its rows.
#[tokio::test(flavor = "multi_thread")]
async fn create_table_select_commits_with_its_rows() {
    let stack = minimal_metadata_mariadb();
    let mut db = TestDb::create(&stack.mysql(), "ctas").await;
    db.exec("CREATE TABLE src (id INT PRIMARY KEY, v VARCHAR(10))").await;
    db.exec("INSERT INTO src VALUES (1, 'a'), (2, 'b')").await;
    db.exec("CREATE TABLE copy ENGINE=InnoDB AS SELECT id, v, CONCAT(v, '!') AS w FROM src").await;
    db.exec("FLUSH BINARY LOGS").await;
    let lines = stack.decode_binlogs();
    let ddl = lines.iter().position(|l| l["event"] == "DDL" && l["table"] == "copy").expect("the CREATE");
    let gtid = &lines[ddl]["gtid"];
    let after: Vec<&serde_json::Value> = lines[ddl + 1..].iter().take(3).collect();
    let events: Vec<&serde_json::Value> = after.iter().map(|l| &l["event"]).collect();
    assert_eq!(events, ["INSERT", "INSERT", "COMMIT"], "{after:?}");
    assert!(after.iter().all(|l| l["gtid"] == *gtid), "{after:?}");
    assert_eq!(after[0]["data"], serde_json::json!({"id": "1", "v": "a", "w": "a!"}));
    stack.down(&["mariadb"]);
}

/// MariaDB 10.8+ with `binlog_alter_two_phase` logs an ALTER TABLE twice: START ALTER when it
/// begins, then COMMIT ALTER (the same statement) when it takes effect, or ROLLBACK ALTER when it
/// fails. The table changes once, at the COMMIT ALTER: one DDL message, rows by the right names.
#[tokio::test(flavor = "multi_thread")]
async fn a_two_phase_alter_changes_the_table_at_its_commit_alter() {
    let stack = PrivateStack::mariadb_with("binlog_row_metadata=MINIMAL\nbinlog_alter_two_phase=ON");
    let mut db = TestDb::create(&stack.mysql(), "alter2").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))").await;
    db.exec("INSERT INTO t VALUES (1, 'a'), (2, 'a')").await;
    db.exec("ALTER TABLE t ADD COLUMN w INT, ALGORITHM=COPY").await;
    db.exec("INSERT INTO t VALUES (3, 'b', 30)").await;
    // Fails on the duplicate 'a' after it started: START ALTER, then ROLLBACK ALTER.
    let failed = db.conn.execute("ALTER TABLE t ADD UNIQUE KEY uv (v), ADD COLUMN gone INT, ALGORITHM=COPY").await;
    assert!(failed.is_err(), "the ALTER should fail on the duplicate");
    db.exec("INSERT INTO t VALUES (4, 'c', 40)").await;
    db.exec("ALTER TABLE t DROP COLUMN v, ALGORITHM=INPLACE").await;
    db.exec("INSERT INTO t VALUES (5, 50)").await;
    db.exec("FLUSH BINARY LOGS").await;
    // The server did log the phases.
    let mut gtids = Vec::new();
    for file in db.query("SHOW BINARY LOGS").await {
        let events = db.query(&format!("SHOW BINLOG EVENTS IN '{}'", file[0].as_deref().unwrap())).await;
        gtids.extend(events.into_iter().filter(|e| e[2].as_deref() == Some("Gtid")).filter_map(|e| e[5].clone()));
    }
    let phases: Vec<&str> = gtids.iter().filter_map(|info| info.strip_prefix("GTID ")?.split(' ').nth(1)).collect();
    assert_eq!(phases, ["START", "COMMIT", "START", "ROLLBACK", "START", "COMMIT"], "{gtids:?}");

    let lines = stack.decode_binlogs();
    let ddl: Vec<&str> =
        lines.iter().filter(|l| l["event"] == "DDL" && l["table"] == "t").map(|l| l["sql"].as_str().unwrap()).collect();
    assert_eq!(
        ddl,
        [
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
            "ALTER TABLE t ADD COLUMN w INT, ALGORITHM=COPY",
            "ALTER TABLE t DROP COLUMN v, ALGORITHM=INPLACE"
        ]
    );
    let rows: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["event"] == "INSERT" && l["table"] == "t").map(|l| &l["data"]).collect();
    assert_eq!(
        rows,
        [
            &serde_json::json!({"id": "1", "v": "a"}),
            &serde_json::json!({"id": "2", "v": "a"}),
            &serde_json::json!({"id": "3", "v": "b", "w": "30"}),
            &serde_json::json!({"id": "4", "v": "c", "w": "40"}),
            &serde_json::json!({"id": "5", "w": "50"}),
        ]
    );
    stack.down(&["mariadb"]);
}

/// sql_modes that change how DDL reads, recorded in each QUERY event: MariaDB's ORACLE changes what
/// type names mean (DATE holds a time, BLOB is LONGBLOB, NUMBER is DECIMAL or DOUBLE,
/// VARCHAR2/RAW/CLOB exist), NO_BACKSLASH_ESCAPES makes `'x\'` a whole string, REAL_AS_FLOAT makes
/// REAL a FLOAT — except where a `SET STATEMENT sql_mode = … FOR` prefix set the event's mode,
/// which the server applies after reading the statement. With MINIMAL
/// metadata only the tracked columns say how to read the rows: they decode as MariaDB shows them.
#[tokio::test(flavor = "multi_thread")]
async fn ddl_under_sql_modes_that_change_its_meaning_is_read_as_mariadb_reads_it() {
    let stack = minimal_metadata_mariadb();
    let mut db = TestDb::create(&stack.mysql(), "oracle").await;
    db.exec("SET SESSION sql_mode = 'ORACLE'").await;
    db.exec(
        "CREATE TABLE o (id NUMBER(5) PRIMARY KEY, v VARCHAR2(10), d DATE, n NUMBER, n2 NUMBER(10,2), r RAW(4), \
         c CLOB, b BLOB)",
    )
    .await;
    db.exec("INSERT INTO o VALUES (1, 'x', '2024-01-02 03:04:05', 1.5, 2.25, 'ab', 'clob', 'blob')").await;
    db.exec("ALTER TABLE o ADD (d2 DATE, n3 NUMBER(3))").await;
    db.exec("INSERT INTO o (id, d2, n3) VALUES (2, '1999-12-31 23:59:59', 7)").await;
    db.exec("SET SESSION sql_mode = DEFAULT").await;
    // The same names mean MariaDB's own types again.
    db.exec("CREATE TABLE m (id INT PRIMARY KEY, d DATE, b BLOB)").await;
    db.exec("INSERT INTO m VALUES (1, '2024-01-02', 'blob')").await;
    db.exec("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'").await;
    db.exec(r"CREATE TABLE e (a VARCHAR(5) DEFAULT 'x\', b INT, c TEXT COMMENT 'y\', id INT PRIMARY KEY)").await;
    db.exec(r"ALTER TABLE e ADD COLUMN f VARCHAR(3) DEFAULT '\' FIRST, ADD COLUMN g INT").await;
    db.exec("INSERT INTO e (id, a, b, c, f, g) VALUES (1, 'a', 2, 'c', 'f', 3)").await;
    // REAL_AS_FLOAT: REAL is FLOAT while the mode is on, DOUBLE again after.
    db.exec("SET SESSION sql_mode = 'REAL_AS_FLOAT'").await;
    db.exec("CREATE TABLE f (id INT PRIMARY KEY, x REAL, z DOUBLE)").await;
    db.exec("SET SESSION sql_mode = DEFAULT").await;
    db.exec("ALTER TABLE f ADD COLUMN w REAL").await;
    db.exec("INSERT INTO f VALUES (1, 1.5, 3.5, 4.75)").await;
    // A SET STATEMENT prefix's sql_mode is what the event records, but the server read the
    // statement before applying it, under the session's (the default here).
    db.exec("SET STATEMENT sql_mode='ORACLE' FOR CREATE TABLE s (id INT PRIMARY KEY, d DATE, r REAL)").await;
    db.exec("SET STATEMENT sql_mode='REAL_AS_FLOAT' FOR ALTER TABLE s ADD COLUMN r2 REAL").await;
    db.exec(
        r"SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR ALTER TABLE s ADD c VARCHAR(5) DEFAULT 'x\'', ADD c2 INT",
    )
    .await;
    db.exec(r#"SET STATEMENT sql_mode='ANSI_QUOTES' FOR ALTER TABLE s ADD c3 VARCHAR(5) DEFAULT "y\"", ADD c4 INT"#)
        .await;
    db.exec("INSERT INTO s VALUES (1, '2024-01-02', 1.5, 2.5, 'c', 3, 'd', 4)").await;
    let types = db.query("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'f' ORDER BY ORDINAL_POSITION").await;
    assert_eq!(types.concat(), ["int", "float", "double", "double"].map(|t| Some(t.to_owned())));
    let shown_o = db
        .query("SELECT id, v, CAST(d AS CHAR), CAST(n AS CHAR), CAST(n2 AS CHAR), r, c, b, CAST(d2 AS CHAR), n3 FROM o ORDER BY id")
        .await;
    db.exec("FLUSH BINARY LOGS").await;

    let lines = stack.decode_binlogs();
    let rows = |table: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["event"] == "INSERT" && l["table"] == table).map(|l| &l["data"]).collect()
    };
    let names = ["id", "v", "d", "n", "n2", "r", "c", "b", "d2", "n3"];
    let decoded: Vec<Vec<Option<String>>> = rows("o")
        .iter()
        .map(|row| names.iter().map(|n| row.get(*n).and_then(|v| v.as_str()).map(str::to_owned)).collect())
        .collect();
    assert_eq!(decoded, shown_o);
    assert_eq!(rows("m"), [&serde_json::json!({"id": "1", "d": "2024-01-02", "b": "blob"})]);
    let e = serde_json::json!({"id": "1", "a": "a", "b": "2", "c": "c", "f": "f", "g": "3"});
    assert_eq!(rows("e"), [&e]);
    assert_eq!(rows("f"), [&serde_json::json!({"id": "1", "x": "1.5", "z": "3.5", "w": "4.75"})]);
    let s_row = serde_json::json!({"id": "1", "d": "2024-01-02", "r": "1.5", "r2": "2.5", "c": "c", "c2": "3", "c3": "d", "c4": "4"});
    assert_eq!(rows("s"), [&s_row]);
    stack.down(&["mariadb"]);
}

/// A server with lower_case_table_names=1 stores and logs names in lower case (`mytab`), while its
/// DDL names tables as they were typed (`ALTER TABLE MYTAB …`). With MINIMAL metadata only the
/// history knows the columns, so it must take DDL names as the server does — live, and when a
/// restart replays the stored journal. Before, such a DDL passed as one on an unknown table and
/// the rows after it came out under the old column names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_names_are_folded_as_a_lower_case_table_names_server_stores_them() {
    let shared = stack();
    let mysql = PrivateStack::mariadb_with("binlog_row_metadata=MINIMAL\nlower_case_table_names=1");
    let mut db = TestDb::create(&mysql.mysql(), "lower_case").await;
    db.exec("CREATE TABLE MyTab (id INT PRIMARY KEY, Aa INT, Bb INT)").await;
    let mut config = SluiceConfig::new(&shared, &db.name);
    config.mysql = mysql.mysql();
    let mut sluice = Sluice::start(&config);
    wait_running(&mut db, &sluice).await;

    db.exec("INSERT INTO MyTab VALUES (1, 10, 20)").await;
    db.exec("ALTER TABLE MYTAB CHANGE Aa Cc INT, CHANGE Bb Aa INT").await;
    db.exec("INSERT INTO mytab VALUES (2, 30, 40)").await;
    consume_ids(&shared.kafka, &config.topic, "mytab", [1, 2], WAIT).await;
    cursor_at_binlog_end(&mut db, &sluice).await;
    sluice.kill9();
    // While it is down, so the restart decodes from the stored history: a row of the ALTER's
    // shape, then a rename and another ALTER naming the database in upper case.
    db.exec("INSERT INTO mytab VALUES (3, 50, 60)").await;
    db.exec("RENAME TABLE MyTab TO Other").await;
    db.exec(&format!("ALTER TABLE `{}`.OTHER ADD COLUMN Zz INT FIRST", db.name.to_uppercase())).await;
    db.exec("INSERT INTO other VALUES (0, 4, 70, 80)").await;
    sluice.restart();

    let records = consume_ids(&shared.kafka, &config.topic, "mytab", 1..=3, WAIT).await;
    let row = |table: &str, id: &str| {
        inserted_row(&records, table, id).unwrap_or_else(|| panic!("no row {id}; log:\n{}", sluice.log()))
    };
    assert_eq!(row("mytab", "1"), serde_json::json!({"id": "1", "Aa": "10", "Bb": "20"}));
    assert_eq!(row("mytab", "2"), serde_json::json!({"id": "2", "Cc": "30", "Aa": "40"}));
    assert_eq!(row("mytab", "3"), serde_json::json!({"id": "3", "Cc": "50", "Aa": "60"}));
    let records = consume_ids(&shared.kafka, &config.topic, "other", [4], WAIT).await;
    let other = inserted_row(&records, "other", "4").unwrap();
    assert_eq!(other, serde_json::json!({"Zz": "0", "id": "4", "Cc": "70", "Aa": "80"}));
    // Offline, the files alone do not say how the server treats names: the flag does.
    db.exec("FLUSH BINARY LOGS").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["binlog", "decode", "--lower-case-table-names"])
        .args(mysql.binlog_files())
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout).unwrap();
    let decoded: Vec<serde_json::Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let offline = decoded.iter().find(|v| v["table"] == "other" && v["event"] == "INSERT").expect("the INSERT");
    assert_eq!(offline["data"], other);
    mysql.down(&["mariadb"]);
}

/// Under sql_mode ANSI_QUOTES "double quotes" enclose names, and a backslash in them is itself
/// (`"a\b"` names `a\b`); the QUERY event records the mode. The server here runs with
/// ANSI_QUOTES and NO_BACKSLASH_ESCAPES globally, so Sluice's own information_schema lookups and
/// SHOW CREATE TABLE must not inherit them. Before, the history took `"w\n"` for a name with a
/// newline, and the lookup of table `a\b` asked for `a\\b` and found nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_in_double_quotes_are_read_as_an_ansi_quotes_server_reads_them() {
    let shared = stack();
    let mysql = PrivateStack::mariadb_with("binlog_row_metadata=MINIMAL\nsql_mode=ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
    let mut db = TestDb::create(&mysql.mysql(), "ansi").await;
    db.exec(r#"CREATE TABLE "a\b" (id INT PRIMARY KEY, "v\x" VARCHAR(5) DEFAULT 'q\', "p\t" INT)"#).await;
    db.exec("FLUSH BINARY LOGS").await;
    let status = db.query("SHOW MASTER STATUS").await;
    let (file, position) = (status[0][0].clone().unwrap(), status[0][1].clone().unwrap());
    db.exec(r#"INSERT INTO "a\b" VALUES (1, 'x', 10)"#).await;
    let mut config = SluiceConfig::new(&shared, &db.name);
    config.mysql = mysql.mysql();
    config.extra = String::new();
    // From a configured position in a binlog file after the CREATE's: the table is looked up in
    // information_schema when its first row arrives, then changed by DDL Sluice reads.
    let start = format!("\n[source.start]\nfile = \"{file}\"\nposition = {position}\n");
    let mut sluice = Sluice::start_with_source_extra(&config, &start);
    consume_ids(&shared.kafka, &config.topic, r"a\b", [1], WAIT).await;
    db.exec(r#"ALTER TABLE "a\b" ADD COLUMN "w\n" INT FIRST, DROP COLUMN "p\t""#).await;
    db.exec(r#"INSERT INTO "a\b" VALUES (20, 2, 'y')"#).await;
    consume_ids(&shared.kafka, &config.topic, r"a\b", [2], WAIT).await;
    cursor_at_binlog_end(&mut db, &sluice).await;
    sluice.kill9();
    // While it is down, so the restart decodes from the stored history; this session's mode
    // quotes names with backquotes only, and its strings take backslash escapes.
    db.exec("SET SESSION sql_mode = ''").await;
    db.exec(r"ALTER TABLE `a\b` CHANGE `v\x` `v\y` VARCHAR(5) DEFAULT 'it\'s', ADD COLUMN `z` INT").await;
    db.exec(r#"SET SESSION sql_mode = 'ANSI'"#).await;
    db.exec(r#"ALTER TABLE "a\b" MODIFY "z" INT FIRST"#).await;
    db.exec(r#"INSERT INTO "a\b" VALUES (40, 30, 3, 'z')"#).await;
    sluice.restart();

    let records = consume_ids(&shared.kafka, &config.topic, r"a\b", 1..=3, WAIT).await;
    let row =
        |id: &str| inserted_row(&records, r"a\b", id).unwrap_or_else(|| panic!("no row {id}; log:\n{}", sluice.log()));
    assert_eq!(row("1"), serde_json::json!({"id": "1", r"v\x": "x", r"p\t": "10"}));
    assert_eq!(row("2"), serde_json::json!({r"w\n": "20", "id": "2", r"v\x": "y"}));
    assert_eq!(row("3"), serde_json::json!({"z": "40", r"w\n": "30", "id": "3", r"v\y": "z"}));
    let shown = db.query(r"SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'a\\b'").await;
    assert_eq!(shown[0][0].as_deref(), Some(r"z,w\n,id,v\y"));
    mysql.down(&["mariadb"]);
}

/// With MINIMAL metadata, a table that neither the schema history nor information_schema holds
/// (dropped since, and Sluice started from a binlog file after its CREATE's) cannot have its
/// columns named: the run stops with the fix. Before, its rows were published under positional
/// names (`@1`, `@2`), as offline decoding prints them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_a_table_no_one_can_name_stop_the_run_with_the_fix() {
    let shared = stack();
    let mysql = minimal_metadata_mariadb();
    let mut db = TestDb::create(&mysql.mysql(), "unnamed").await;
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v INT)").await;
    db.exec("FLUSH BINARY LOGS").await;
    let status = db.query("SHOW MASTER STATUS").await;
    let (file, position) = (status[0][0].clone().unwrap(), status[0][1].clone().unwrap());
    db.exec("INSERT INTO t VALUES (1, 2)").await;
    db.exec("DROP TABLE t").await;
    let mut config = SluiceConfig::new(&shared, &db.name);
    config.mysql = mysql.mysql();
    config.extra = String::new();
    let start = format!("\n[source.start]\nfile = \"{file}\"\nposition = {position}\n");
    let mut sluice = Sluice::start_with_source_extra(&config, &start);
    let exit = sluice.wait_exit(Duration::from_secs(60)).expect("sluice should stop");
    assert!(!exit.success());
    let log = sluice.log();
    assert!(log.contains("does not name its columns") && log.contains("binlog_row_metadata=FULL"), "{log}");
    let (kafka, topic) = (shared.kafka.clone(), config.topic.clone());
    let published =
        tokio::task::spawn_blocking(move || consume_until(&kafka, &topic, Duration::from_secs(3), |r| !r.is_empty()))
            .await
            .unwrap();
    assert!(
        ids_in(&published, "t").is_empty(),
        "published: {:?}",
        published.iter().map(|r| &r.json).collect::<Vec<_>>()
    );
    mysql.down(&["mariadb"]);
}

/// The server stores an ENUM/SET label in the column's character set, `?` for a character the set
/// has no code for, while the binlog's DDL holds the labels as the client wrote them. With MINIMAL
/// metadata the labels come from that DDL: values decode as the server shows them. Before, `中`
/// in a latin1 ENUM was published where MariaDB returns `?`.
#[tokio::test(flavor = "multi_thread")]
async fn enum_labels_a_charset_cannot_hold_decode_as_the_server_stores_them() {
    let stack = minimal_metadata_mariadb();
    let mut db = TestDb::create(&stack.mysql(), "labels").await;
    db.exec(
        "CREATE TABLE l (id INT PRIMARY KEY, a ENUM('中','é','x😀','b') CHARSET latin1, \
         b ENUM('x😀','é') CHARSET utf8mb3, c SET('ж','é','q') CHARSET cp1251, d ENUM('ж','x') CHARSET ascii, \
         e ENUM('中','😀') CHARSET utf8mb4)",
    )
    .await;
    db.exec("INSERT INTO l VALUES (1, 1, 1, 3, 1, 2), (2, 2, 2, 5, 2, 1), (3, 3, 1, 2, 1, 1)").await;
    let shown = db.query("SELECT CAST(id AS CHAR), a, b, c, d, e FROM l ORDER BY id").await;
    assert_eq!(shown[0], ["1", "?", "x?", "ж,?", "?", "😀"].map(|v| Some(v.to_owned())));
    db.exec("FLUSH BINARY LOGS").await;

    let names = ["id", "a", "b", "c", "d", "e"];
    let decoded: Vec<Vec<Option<String>>> = stack
        .decode_binlogs()
        .iter()
        .filter(|l| l["event"] == "INSERT" && l["table"] == "l")
        .map(|l| names.iter().map(|n| l["data"][n].as_str().map(str::to_owned)).collect())
        .collect();
    assert_eq!(decoded, shown);
    stack.down(&["mariadb"]);
}

/// Column types for [`random_alter`]: character sets stated, taken from the table, or asked of it
/// (BINARY, COLLATE DEFAULT), inline keys, generated and binary columns.
const RANDOM_TYPES: &[&str] = &[
    "INT",
    "INT NOT NULL",
    "INT NOT NULL PRIMARY KEY",
    "INT AS (1) VIRTUAL",
    "INT INVISIBLE",
    "VARCHAR(8) AS (CONCAT('x', 1)) PERSISTENT",
    "TINYINT",
    "BIGINT UNSIGNED",
    "DECIMAL(8,2)",
    "DATETIME(3)",
    "VARCHAR(20)",
    "VARCHAR(5) NOT NULL DEFAULT 'x'",
    "VARCHAR(10) COLLATE utf8mb4_bin",
    "VARCHAR(7) CHARSET latin1 COLLATE latin1_bin",
    "VARCHAR(3) BINARY",
    "VARCHAR(4) COLLATE DEFAULT",
    "VARCHAR(6) CHARACTER SET latin1 BINARY",
    "VARCHAR(6) ASCII",
    "VARCHAR(3) CHARACTER SET binary",
    "CHAR(3) CHARACTER SET latin1",
    "CHAR(2) BYTE",
    "NATIONAL CHAR(2)",
    "TINYTEXT BINARY",
    "TEXT",
    "TEXT CHARACTER SET latin1",
    "TEXT COLLATE latin1_german1_ci",
    "MEDIUMTEXT",
    "BLOB",
    "ENUM('a','b')",
    "SET('x','y')",
    // Long enough for a UNIQUE key to be kept as a hash (by engine and character set).
    "VARCHAR(800)",
    "VARCHAR(300) CHARACTER SET utf8mb4",
    "VARCHAR(1000) CHARSET latin1",
    "CHAR(255)",
    "VARBINARY(3100)",
    "TEXT UNIQUE",
    "INT UNIQUE KEY",
];

/// Column names for [`random_alter`]: a few, so clauses collide; case variants, keywords.
const RANDOM_NAMES: &[&str] = &["c0", "c1", "c2", "c3", "c4", "c5", "first", "after", "C1", "`key`", "`a b`", "id"];

/// One to five ALTER clauses over `columns` (the table's, quoted) and names it may not have; or
/// now and then a statement on the table's keys (`keys`: their names) of another kind.
fn random_alter(rng: &mut Xorshift, table: &str, columns: &[String], keys: &[String]) -> String {
    let key = |rng: &mut Xorshift| {
        if keys.is_empty() || rng.below(3) == 0 {
            format!("k{}", rng.below(3))
        } else {
            format!("`{}`", rng.pick(keys))
        }
    };
    let some_column = |rng: &mut Xorshift| {
        if columns.is_empty() { (*rng.pick(RANDOM_NAMES)).to_owned() } else { rng.pick(columns).clone() }
    };
    match rng.below(40) {
        0 => return format!("CREATE UNIQUE INDEX k{} ON {table} ({})", rng.below(3), some_column(rng)),
        1 => return format!("DROP INDEX {} ON {table}", key(rng)),
        2 => return format!("OPTIMIZE TABLE {table}"),
        _ => {}
    }
    let column = |rng: &mut Xorshift| {
        if columns.is_empty() || rng.below(5) == 0 {
            (*rng.pick(RANDOM_NAMES)).to_owned()
        } else {
            rng.pick(columns).clone()
        }
    };
    let mut clauses = Vec::new();
    for _ in 0..1 + rng.below(5) {
        let position = match rng.below(4) {
            0 => " FIRST".to_owned(),
            1 => format!(" AFTER {}", column(rng)),
            _ => String::new(),
        };
        let (name, other, ty) = (*rng.pick(RANDOM_NAMES), *rng.pick(RANDOM_NAMES), *rng.pick(RANDOM_TYPES));
        let prefix = *rng.pick(&[5, 200, 768, 769, 1000, 3073]);
        clauses.push(match rng.below(28) {
            0 => format!("ADD COLUMN {}{name} {ty}{position}", rng.maybe("IF NOT EXISTS ")),
            1 => format!("ADD COLUMN {}({name} {ty}, {other} {})", rng.maybe("IF NOT EXISTS "), rng.pick(RANDOM_TYPES)),
            2 => format!("DROP COLUMN {}{}", rng.maybe("IF EXISTS "), column(rng)),
            3 => format!("MODIFY COLUMN {}{} {ty}{position}", rng.maybe("IF EXISTS "), column(rng)),
            4 => format!("CHANGE COLUMN {}{} {name} {ty}{position}", rng.maybe("IF EXISTS "), column(rng)),
            5 => format!("RENAME COLUMN {}{} TO {name}", rng.maybe("IF EXISTS "), column(rng)),
            6 => format!("ALTER COLUMN {} SET DEFAULT NULL", column(rng)),
            7 => format!("ADD PRIMARY KEY ({})", column(rng)),
            8 => format!("ADD PRIMARY KEY ({}, {})", column(rng), column(rng)),
            9 => format!("ADD PRIMARY KEY IF NOT EXISTS ({})", column(rng)),
            10 => "DROP PRIMARY KEY".into(),
            11 => format!("ADD INDEX ({})", column(rng)),
            12 => format!("ADD UNIQUE KEY IF NOT EXISTS uk{} ({})", rng.below(3), column(rng)),
            13 => format!("CONVERT TO CHARACTER SET {}", rng.pick(&["latin1", "utf8mb4", "utf8mb3"])),
            14 => format!(
                "CONVERT TO CHARACTER SET {} COLLATE {}",
                rng.pick(&["latin1", "utf8mb4"]),
                rng.pick(&["latin1_bin", "utf8mb4_bin"])
            ),
            15 => format!("DEFAULT CHARSET={}", rng.pick(&["latin1", "utf8mb4"])),
            16 => format!("DEFAULT COLLATE {}", rng.pick(&["latin1_bin", "utf8mb4_bin", "utf8mb3_general_ci"])),
            17 => format!("CHARACTER SET = {}", rng.pick(&["latin1", "utf8mb4"])),
            18 => format!("ADD UNIQUE ({})", column(rng)),
            19 => format!("ADD UNIQUE KEY k{} ({}({prefix}))", rng.below(3), column(rng)),
            20 => format!("ADD UNIQUE ({}, {})", column(rng), column(rng)),
            21 => format!("ADD UNIQUE {}k{} ({}) USING HASH", rng.maybe("IF NOT EXISTS "), rng.below(3), column(rng)),
            22 => format!("ADD CONSTRAINT c{} UNIQUE ({})", rng.below(2), column(rng)),
            23 => format!("DROP INDEX {}{}", rng.maybe("IF EXISTS "), key(rng)),
            24 => format!("RENAME INDEX {} TO k{}", key(rng), rng.below(3)),
            25 => format!("ENGINE={}", rng.pick(&["InnoDB", "MyISAM", "Aria"])),
            26 => format!("ADD INDEX k{} ({})", rng.below(3), column(rng)),
            _ => "FORCE".into(),
        });
    }
    format!("ALTER TABLE {table} {}", clauses.join(", "))
}

/// MariaDB applies an ALTER's clauses in an order of its own (drops before adds, AFTER naming
/// columns as they are becoming, IF [NOT] EXISTS weighed against the table as it was, CONVERT TO
/// beside DEFAULT CHARSET, keys following renamed and re-added columns): thousands of random
/// multi-clause ALTERs, and after each one the server accepts, the tracked table must equal
/// information_schema's. `SLUICE_ALTER_SEED` / `SLUICE_ALTER_STEPS` replay or extend a run.
#[tokio::test(flavor = "multi_thread")]
async fn random_multi_clause_alters_reshape_tables_as_mariadb_does() {
    let mut db = TestDb::create(&stack().mysql, "alters").await;
    let schema = db.name.clone();
    let steps = env_number("SLUICE_ALTER_STEPS", 2000);
    let mut rng = Xorshift(env_number("SLUICE_ALTER_SEED", 0x9e37_79b9_7f4a_7c15));
    let mut history = SchemaHistory::default();
    for create in ["CREATE TABLE t (id INT PRIMARY KEY, c0 INT, c1 VARCHAR(10))", "CREATE TABLE u (c2 INT, c3 TEXT)"] {
        db.exec(create).await;
        history.apply(create, &schema).unwrap();
    }
    let mut accepted = 0;
    for step in 0..steps {
        let table = *rng.pick(&["t", "u"]);
        let columns: Vec<String> = db
            .query(&format!(
                "SELECT CONCAT('`', COLUMN_NAME, '`') FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
            ))
            .await
            .into_iter()
            .filter_map(|row| row[0].clone())
            .collect();
        let keys: Vec<String> = db
            .query(&format!(
                "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME = '{table}' AND INDEX_NAME <> 'PRIMARY'"
            ))
            .await
            .into_iter()
            .filter_map(|row| row[0].clone())
            .collect();
        let alter = random_alter(&mut rng, table, &columns, &keys);
        if db.conn.execute(&alter).await.is_err() {
            continue; // refused: not in the binlog
        }
        accepted += 1;
        eprintln!("step {step}: {alter}"); // shown when the test fails: the statements to replay
        history.apply(&alter, &schema).unwrap_or_else(|e| panic!("step {step}: {e}"));
        assert_eq!(tracked(&history, &schema), information_schema(&mut db).await, "after step {step}: {alter}");
    }
    assert!(accepted * 5 >= steps, "only {accepted} of {steps} statements were accepted");
}

/// The random ALTERs of [`random_multi_clause_alters_reshape_tables_as_mariadb_does`] on a table
/// `sluice run` captures with MINIMAL metadata, killed (-9) and restarted twice along the way: a
/// row written after each ALTER, its text columns holding their own names (and the row's id),
/// must reach Kafka with every value under its column's name. The primary key is left alone (rows
/// are found by `id`); UNIQUE keys come and go, long ones among them (from the start), whose
/// hidden hash columns MINIMAL metadata does not name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_alters_on_a_running_destination_keep_values_under_their_names() {
    let MinimalRun { shared, mysql, mut db, config, mut sluice } = MinimalRun::start(
        "online_alters",
        &["CREATE TABLE t (id BIGINT PRIMARY KEY, c0 INT, c1 VARCHAR(10), c2 TEXT, UNIQUE KEY (c2), UNIQUE (c1, c2))"],
    )
    .await;
    let schema = db.name.clone();
    let mut rng = Xorshift(env_number("SLUICE_ALTER_SEED", 77));
    let column_names = |condition: &str| {
        format!(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME = 't' \
             AND IS_GENERATED = 'NEVER' {condition} ORDER BY ORDINAL_POSITION"
        )
    };
    let mut written: Vec<(i64, BTreeMap<String, String>)> = Vec::new();
    for step in 0..1500 {
        let columns: Vec<String> = db
            .query(&column_names(""))
            .await
            .into_iter()
            .filter_map(|row| row[0].clone())
            .map(|c| format!("`{c}`"))
            .collect();
        let alter = random_alter(&mut rng, "t", &columns, &[]);
        let lower = alter.to_ascii_lowercase();
        let keys = ["`id`", " id ", "(id", "primary"];
        if keys.iter().any(|k| lower.contains(k)) || db.conn.execute(&alter).await.is_err() {
            continue;
        }
        let text = "AND DATA_TYPE IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext') \
                    AND CHARACTER_MAXIMUM_LENGTH >= CHAR_LENGTH(COLUMN_NAME) + 4";
        let id = step + 1;
        // Values of one row differ from every other row's: UNIQUE keys let each in.
        let row: BTreeMap<String, String> = db
            .query(&column_names(text))
            .await
            .into_iter()
            .filter_map(|r| r[0].clone())
            .map(|c| (c.clone(), format!("{c}{id}")))
            .collect();
        let names: Vec<String> = row.keys().map(|c| format!(", `{c}`")).collect();
        let values: Vec<String> = row.values().map(|v| format!(", '{v}'")).collect();
        // A NOT NULL column without a default makes the INSERT fail: no row then.
        let insert = format!("INSERT INTO t (id{}) VALUES ({id}{})", names.concat(), values.concat());
        if db.conn.execute(&insert).await.is_ok() {
            written.push((id, row));
        }
        if step % 500 == 250 {
            sluice.kill9();
            sluice.restart();
        }
    }
    assert!(written.len() >= 100, "only {} ALTERs were accepted", written.len());
    let records = consume_ids(&shared.kafka, &config.topic, "t", written.iter().map(|(id, _)| *id), WAIT).await;
    for (id, row) in &written {
        let got = inserted_row(&records, "t", &id.to_string())
            .unwrap_or_else(|| panic!("no row {id}; log:\n{}", sluice.log()));
        for (column, value) in row {
            assert_eq!(got[column], value.as_str(), "row {id} column {column}: {got}");
        }
        assert!(got.as_object().unwrap().keys().all(|k| !k.starts_with('@')), "positional names in {got}");
    }
    mysql.down(&["mariadb"]);
}
