//! Canal's column type descriptions: `sqlType` (a `java.sql.Types` code) and, when
//! information_schema is not available, a declared-type text (`mysqlType`) derived from the binlog.
//!
//! Canal derives `sqlType` from the binlog type with two adjustments: unsigned integers move up one
//! size (TINYINT UNSIGNED → SMALLINT, …, BIGINT UNSIGNED → DECIMAL) and byte types become BLOB, or
//! CLOB for TEXT columns. Canal applies the unsigned promotion only to values above the signed
//! maximum, so its code changes with the data; Sluice always promotes, so one column has one code.
//! ENUM and SET are reported as VARCHAR because Sluice emits their labels (Canal emits indexes).

use crate::binlog::format_description::release;
use crate::binlog::{Charset, ColumnCodec, ColumnType};

/// How MariaDB's `COLUMN_TYPE` shows a `COMPRESSED` column (`blob /*M!100301 COMPRESSED*/`).
pub const MARIADB_COMPRESSED: &str = "/*M!100301 COMPRESSED*/";

/// `java.sql.Types` constants.
pub mod jdbc {
    pub const BIT: i32 = -7;
    pub const TINYINT: i32 = -6;
    pub const SMALLINT: i32 = 5;
    pub const INTEGER: i32 = 4;
    pub const BIGINT: i32 = -5;
    pub const REAL: i32 = 7;
    pub const DOUBLE: i32 = 8;
    pub const DECIMAL: i32 = 3;
    pub const CHAR: i32 = 1;
    pub const VARCHAR: i32 = 12;
    pub const DATE: i32 = 91;
    pub const TIME: i32 = 92;
    pub const TIMESTAMP: i32 = 93;
    pub const BLOB: i32 = 2004;
    pub const CLOB: i32 = 2005;
    pub const OTHER: i32 = 1111;
}

/// The `java.sql.Types` code Canal reports for a column.
pub fn jdbc_type(codec: &ColumnCodec) -> i32 {
    use jdbc::*;
    let unsigned = codec.unsigned;
    let binary = codec.charset == Charset::Binary;
    match codec.real_type() {
        ColumnType::TINY => {
            if unsigned {
                SMALLINT
            } else {
                TINYINT
            }
        }
        ColumnType::SHORT => {
            if unsigned {
                INTEGER
            } else {
                SMALLINT
            }
        }
        ColumnType::INT24 => INTEGER,
        ColumnType::LONG => {
            if unsigned {
                BIGINT
            } else {
                INTEGER
            }
        }
        ColumnType::LONGLONG => {
            if unsigned {
                DECIMAL
            } else {
                BIGINT
            }
        }
        ColumnType::NEWDECIMAL | ColumnType::DECIMAL => DECIMAL,
        ColumnType::FLOAT => REAL,
        ColumnType::DOUBLE => DOUBLE,
        ColumnType::BIT => BIT,
        ColumnType::DATE | ColumnType::NEWDATE => DATE,
        ColumnType::TIME | ColumnType::TIME2 => TIME,
        ColumnType::DATETIME | ColumnType::DATETIME2 | ColumnType::TIMESTAMP | ColumnType::TIMESTAMP2 => TIMESTAMP,
        ColumnType::YEAR | ColumnType::ENUM | ColumnType::SET | ColumnType::JSON => VARCHAR,
        ColumnType::VARCHAR | ColumnType::VAR_STRING | ColumnType::VARCHAR_COMPRESSED => {
            if binary {
                BLOB
            } else {
                VARCHAR
            }
        }
        ColumnType::STRING if codec.text_form.is_some() => CHAR,
        ColumnType::STRING => {
            if binary {
                BLOB
            } else {
                CHAR
            }
        }
        ColumnType::BLOB
        | ColumnType::TINY_BLOB
        | ColumnType::MEDIUM_BLOB
        | ColumnType::LONG_BLOB
        | ColumnType::BLOB_COMPRESSED => {
            if binary {
                BLOB
            } else {
                CLOB
            }
        }
        ColumnType::GEOMETRY | ColumnType::VECTOR => BLOB,
        _ => OTHER,
    }
}

/// How a server writes `COLUMN_TYPE`. MariaDB and MySQL before 8.0.19 show integer display widths
/// (`int(11)`, `year(4)`); MySQL 8.0.19+ does not (`int`, `year`), except for `tinyint(1)` and
/// ZEROFILL columns. MariaDB stores JSON as `longtext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColumnTypeStyle {
    #[default]
    Mariadb,
    MysqlWithWidths,
    Mysql,
}

impl ColumnTypeStyle {
    /// The style of a server of this version (FORMAT_DESCRIPTION's `8.0.36`, `10.11.6-MariaDB-log`).
    pub fn of_server(version: &str) -> Self {
        if version.contains("MariaDB") {
            return Self::Mariadb;
        }
        if release(version) >= (8, 0, 19) { Self::Mysql } else { Self::MysqlWithWidths }
    }
}

/// A declared type text (`int unsigned`, `year`, `int(5) zerofill`, `json`) as a server of this
/// `style` writes it in `COLUMN_TYPE`: integer and YEAR display widths added where the text has
/// none (the server's defaults) or removed; JSON as MariaDB stores it. Other types stay as they are.
pub fn as_server_shows(column_type: &str, style: ColumnTypeStyle) -> String {
    if style == ColumnTypeStyle::Mariadb && column_type == "json" {
        return "longtext".to_owned();
    }
    let (head, rest) = column_type.split_at(column_type.find([' ', '(']).unwrap_or(column_type.len()));
    let (width, attributes) = match rest.strip_prefix('(') {
        Some(inside) => match inside.split_once(')') {
            Some((width, attributes)) => (Some(width), attributes),
            None => return column_type.to_owned(),
        },
        None => (None, rest),
    };
    let unsigned = attributes.contains("unsigned");
    let default = match (head, unsigned) {
        ("tinyint", false) => 4,
        ("tinyint", true) => 3,
        ("smallint", false) => 6,
        ("smallint", true) => 5,
        ("mediumint", false) => 9,
        ("mediumint", true) => 8,
        ("int", false) => 11,
        ("int", true) => 10,
        ("bigint", _) => 20,
        ("year", _) => 4,
        _ => return column_type.to_owned(),
    };
    let shown = match style {
        ColumnTypeStyle::Mariadb | ColumnTypeStyle::MysqlWithWidths => true,
        ColumnTypeStyle::Mysql => {
            head != "year" && (attributes.contains("zerofill") || (head == "tinyint" && width == Some("1")))
        }
    };
    match (shown, width) {
        (true, Some(width)) => format!("{head}({width}){attributes}"),
        (true, None) => format!("{head}({default}){attributes}"),
        (false, _) => format!("{head}{attributes}"),
    }
}

/// A declared-type text for a column known only from the binlog, as close to
/// information_schema's COLUMN_TYPE as the binlog allows (display widths are not in the binlog).
pub fn derived_mysql_type(codec: &ColumnCodec) -> String {
    let meta = codec.meta;
    let unsigned = if codec.unsigned { " unsigned" } else { "" };
    let binary = codec.charset == Charset::Binary;
    // Bytes per character, to turn byte lengths into declared lengths.
    let width = match codec.charset {
        Charset::Utf8 => 4,
        Charset::Legacy(charset) => usize::from(charset.layout.max_char_bytes()),
        Charset::Unicode(encoding) => usize::from(encoding.max_char_bytes()),
        _ => 1,
    };
    let labels = |kind: &str| match &codec.labels {
        Some(labels) => {
            let quoted: Vec<String> = labels.iter().map(|l| format!("'{}'", l.replace('\'', "''"))).collect();
            format!("{kind}({})", quoted.join(","))
        }
        None => kind.to_owned(),
    };
    match codec.real_type() {
        ColumnType::TINY => format!("tinyint{unsigned}"),
        ColumnType::SHORT => format!("smallint{unsigned}"),
        ColumnType::INT24 => format!("mediumint{unsigned}"),
        ColumnType::LONG => format!("int{unsigned}"),
        ColumnType::LONGLONG => format!("bigint{unsigned}"),
        ColumnType::NEWDECIMAL => format!("decimal({},{}){unsigned}", meta >> 8, meta & 0xff),
        ColumnType::FLOAT => format!("float{unsigned}"),
        ColumnType::DOUBLE => format!("double{unsigned}"),
        ColumnType::BIT => format!("bit({})", (meta >> 8) * 8 + (meta & 0xff)),
        ColumnType::DATE => "date".to_owned(),
        ColumnType::YEAR => "year".to_owned(),
        ColumnType::TIME | ColumnType::TIME2 => with_fsp("time", codec),
        ColumnType::DATETIME | ColumnType::DATETIME2 => with_fsp("datetime", codec),
        ColumnType::TIMESTAMP | ColumnType::TIMESTAMP2 => with_fsp("timestamp", codec),
        ColumnType::ENUM => labels("enum"),
        ColumnType::SET => labels("set"),
        ColumnType::JSON => "json".to_owned(),
        ColumnType::GEOMETRY => "geometry".to_owned(),
        ColumnType::VECTOR => "vector".to_owned(),
        ColumnType::STRING => {
            let len = codec.string_max_len();
            if binary { format!("binary({len})") } else { format!("char({})", len / width) }
        }
        ColumnType::VARCHAR | ColumnType::VAR_STRING => {
            if binary {
                format!("varbinary({meta})")
            } else {
                format!("varchar({})", usize::from(meta) / width)
            }
        }
        ColumnType::BLOB | ColumnType::TINY_BLOB | ColumnType::MEDIUM_BLOB | ColumnType::LONG_BLOB => {
            let size = ["tiny", "", "medium", "long"].get(usize::from(meta.saturating_sub(1))).copied().unwrap_or("");
            format!("{size}{}", if binary { "blob" } else { "text" })
        }
        // The binlog's length has a byte more, for the compression header.
        ColumnType::VARCHAR_COMPRESSED | ColumnType::BLOB_COMPRESSED => {
            let plain =
                if codec.real_type() == ColumnType::BLOB_COMPRESSED { ColumnType::BLOB } else { ColumnType::VARCHAR };
            let meta = if plain == ColumnType::VARCHAR { meta.saturating_sub(1) } else { meta };
            let declared = derived_mysql_type(&ColumnCodec { binlog_type: plain, meta, ..codec.clone() });
            format!("{declared} {MARIADB_COMPRESSED}")
        }
        other => other.name().to_ascii_lowercase(),
    }
}

/// With the fractional digits the metadata gives (for the old TIME/DATETIME/TIMESTAMP codes only
/// MariaDB's pre-10.3 format has some, taken from the declared type).
fn with_fsp(name: &str, codec: &ColumnCodec) -> String {
    if codec.meta == 0 { name.to_owned() } else { format!("{name}({})", codec.meta) }
}

/// Whether information_schema's DATA_TYPE can describe a column the binlog encodes as `codec`.
/// Used to catch a table whose definition changed since the event was written.
pub fn data_type_matches(data_type: &str, codec: &ColumnCodec) -> bool {
    let t = data_type.to_ascii_lowercase();
    match codec.real_type() {
        ColumnType::TINY => t == "tinyint" || t == "bool" || t == "boolean",
        ColumnType::SHORT => t == "smallint",
        ColumnType::INT24 => t == "mediumint",
        ColumnType::LONG => t == "int" || t == "integer",
        ColumnType::LONGLONG => t == "bigint",
        ColumnType::NEWDECIMAL => t == "decimal" || t == "numeric",
        ColumnType::FLOAT => t == "float",
        ColumnType::DOUBLE => t == "double" || t == "real" || t == "double precision",
        ColumnType::BIT => t == "bit",
        ColumnType::DATE | ColumnType::NEWDATE => t == "date",
        ColumnType::TIME | ColumnType::TIME2 => t == "time",
        ColumnType::DATETIME | ColumnType::DATETIME2 => t == "datetime",
        ColumnType::TIMESTAMP | ColumnType::TIMESTAMP2 => t == "timestamp",
        ColumnType::YEAR => t == "year",
        ColumnType::ENUM => t == "enum",
        ColumnType::SET => t == "set",
        ColumnType::JSON => t == "json",
        ColumnType::STRING => matches!(t.as_str(), "char" | "binary" | "inet6" | "inet4" | "uuid"),
        ColumnType::VARCHAR | ColumnType::VAR_STRING | ColumnType::VARCHAR_COMPRESSED => {
            t == "varchar" || t == "varbinary"
        }
        ColumnType::BLOB
        | ColumnType::TINY_BLOB
        | ColumnType::MEDIUM_BLOB
        | ColumnType::LONG_BLOB
        | ColumnType::BLOB_COMPRESSED => {
            t.ends_with("text") || t.ends_with("blob") || t == "json" || t == "long" || t == "long varchar"
        }
        ColumnType::GEOMETRY => matches!(
            t.as_str(),
            "geometry"
                | "point"
                | "linestring"
                | "polygon"
                | "multipoint"
                | "multilinestring"
                | "multipolygon"
                | "geometrycollection"
                | "geomcollection"
        ),
        ColumnType::VECTOR => t == "vector",
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_integers_move_up_one_size() {
        let mut c = ColumnCodec::new(ColumnType::TINY, 0);
        assert_eq!(jdbc_type(&c), jdbc::TINYINT);
        c.unsigned = true;
        assert_eq!(jdbc_type(&c), jdbc::SMALLINT);
        let mut c = ColumnCodec::new(ColumnType::LONGLONG, 0);
        c.unsigned = true;
        assert_eq!(jdbc_type(&c), jdbc::DECIMAL);
    }

    #[test]
    fn text_is_clob_and_bytes_are_blob() {
        let mut c = ColumnCodec::new(ColumnType::BLOB, 2);
        assert_eq!(jdbc_type(&c), jdbc::CLOB);
        assert_eq!(derived_mysql_type(&c), "text");
        c.charset = Charset::Binary;
        assert_eq!(jdbc_type(&c), jdbc::BLOB);
        assert_eq!(derived_mysql_type(&c), "blob");
        let mut v = ColumnCodec::new(ColumnType::VARCHAR, 16);
        v.charset = Charset::Binary;
        assert_eq!((jdbc_type(&v), derived_mysql_type(&v).as_str()), (jdbc::BLOB, "varbinary(16)"));
    }

    #[test]
    fn derived_types() {
        assert_eq!(derived_mysql_type(&ColumnCodec::new(ColumnType::NEWDECIMAL, (10 << 8) | 2)), "decimal(10,2)");
        assert_eq!(derived_mysql_type(&ColumnCodec::new(ColumnType::DATETIME2, 6)), "datetime(6)");
        assert_eq!(derived_mysql_type(&ColumnCodec::new(ColumnType::VARCHAR, 80)), "varchar(20)");
        assert_eq!(derived_mysql_type(&ColumnCodec::new(ColumnType::BIT, 1 << 8)), "bit(8)");
        // MariaDB's compressed columns: a byte more for the header; the attribute as MariaDB shows it.
        let varchar = ColumnCodec::new(ColumnType::VARCHAR_COMPRESSED, 1201);
        assert_eq!(derived_mysql_type(&varchar), "varchar(300) /*M!100301 COMPRESSED*/");
        let blob = ColumnCodec { charset: Charset::Binary, ..ColumnCodec::new(ColumnType::BLOB_COMPRESSED, 3) };
        assert_eq!(derived_mysql_type(&blob), "mediumblob /*M!100301 COMPRESSED*/");
    }

    #[test]
    fn column_types_as_each_server_shows_them() {
        use ColumnTypeStyle::{Mariadb, Mysql, MysqlWithWidths};
        let cases = [
            ("int", "int(11)", "int"),
            ("int unsigned", "int(10) unsigned", "int unsigned"),
            ("int(5)", "int(5)", "int"),
            ("int unsigned zerofill", "int(10) unsigned zerofill", "int(10) unsigned zerofill"),
            ("tinyint(1)", "tinyint(1)", "tinyint(1)"),
            ("tinyint", "tinyint(4)", "tinyint"),
            ("smallint unsigned", "smallint(5) unsigned", "smallint unsigned"),
            ("mediumint", "mediumint(9)", "mediumint"),
            ("bigint unsigned", "bigint(20) unsigned", "bigint unsigned"),
            ("year", "year(4)", "year"),
            ("decimal(10,2) unsigned", "decimal(10,2) unsigned", "decimal(10,2) unsigned"),
            ("varchar(20)", "varchar(20)", "varchar(20)"),
            ("enum('int','year')", "enum('int','year')", "enum('int','year')"),
        ];
        for (declared, with_widths, without) in cases {
            assert_eq!(as_server_shows(declared, Mariadb), with_widths, "{declared}");
            assert_eq!(as_server_shows(declared, MysqlWithWidths), with_widths, "{declared}");
            assert_eq!(as_server_shows(declared, Mysql), without, "{declared}");
            assert_eq!(as_server_shows(with_widths, Mariadb), with_widths, "{with_widths} stays");
        }
        assert_eq!(as_server_shows("json", Mariadb), "longtext");
        assert_eq!(as_server_shows("json", Mysql), "json");
        assert_eq!(ColumnTypeStyle::of_server("10.11.6-MariaDB-log"), Mariadb);
        assert_eq!(ColumnTypeStyle::of_server("5.7.44-log"), MysqlWithWidths);
        assert_eq!(ColumnTypeStyle::of_server("8.0.18"), MysqlWithWidths);
        assert_eq!(ColumnTypeStyle::of_server("8.0.19"), Mysql);
        assert_eq!(ColumnTypeStyle::of_server("9.6.0"), Mysql);
    }
}
