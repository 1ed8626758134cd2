//! Binlog event type codes (MySQL `Log_event_type`, MariaDB extensions from 160 up).

/// The type byte of an event header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventType(pub u8);

impl EventType {
    pub const START_V3: Self = Self(1);
    pub const QUERY: Self = Self(2);
    pub const STOP: Self = Self(3);
    pub const ROTATE: Self = Self(4);
    pub const INTVAR: Self = Self(5);
    pub const LOAD: Self = Self(6);
    pub const SLAVE: Self = Self(7);
    pub const CREATE_FILE: Self = Self(8);
    pub const APPEND_BLOCK: Self = Self(9);
    pub const EXEC_LOAD: Self = Self(10);
    pub const DELETE_FILE: Self = Self(11);
    pub const NEW_LOAD: Self = Self(12);
    pub const RAND: Self = Self(13);
    pub const USER_VAR: Self = Self(14);
    pub const FORMAT_DESCRIPTION: Self = Self(15);
    pub const XID: Self = Self(16);
    pub const BEGIN_LOAD_QUERY: Self = Self(17);
    pub const EXECUTE_LOAD_QUERY: Self = Self(18);
    pub const TABLE_MAP: Self = Self(19);
    pub const PRE_GA_WRITE_ROWS: Self = Self(20);
    pub const PRE_GA_UPDATE_ROWS: Self = Self(21);
    pub const PRE_GA_DELETE_ROWS: Self = Self(22);
    pub const WRITE_ROWS_V1: Self = Self(23);
    pub const UPDATE_ROWS_V1: Self = Self(24);
    pub const DELETE_ROWS_V1: Self = Self(25);
    pub const INCIDENT: Self = Self(26);
    pub const HEARTBEAT: Self = Self(27);
    pub const IGNORABLE: Self = Self(28);
    pub const ROWS_QUERY: Self = Self(29);
    pub const WRITE_ROWS_V2: Self = Self(30);
    pub const UPDATE_ROWS_V2: Self = Self(31);
    pub const DELETE_ROWS_V2: Self = Self(32);
    pub const GTID: Self = Self(33);
    pub const ANONYMOUS_GTID: Self = Self(34);
    pub const PREVIOUS_GTIDS: Self = Self(35);
    pub const TRANSACTION_CONTEXT: Self = Self(36);
    pub const VIEW_CHANGE: Self = Self(37);
    pub const XA_PREPARE: Self = Self(38);
    pub const PARTIAL_UPDATE_ROWS: Self = Self(39);
    pub const TRANSACTION_PAYLOAD: Self = Self(40);
    pub const HEARTBEAT_V2: Self = Self(41);
    pub const GTID_TAGGED: Self = Self(42);
    pub const MARIADB_ANNOTATE_ROWS: Self = Self(160);
    pub const MARIADB_BINLOG_CHECKPOINT: Self = Self(161);
    pub const MARIADB_GTID: Self = Self(162);
    pub const MARIADB_GTID_LIST: Self = Self(163);
    pub const MARIADB_START_ENCRYPTION: Self = Self(164);
    pub const MARIADB_QUERY_COMPRESSED: Self = Self(165);
    pub const MARIADB_WRITE_ROWS_COMPRESSED_V1: Self = Self(166);
    pub const MARIADB_UPDATE_ROWS_COMPRESSED_V1: Self = Self(167);
    pub const MARIADB_DELETE_ROWS_COMPRESSED_V1: Self = Self(168);
    pub const MARIADB_WRITE_ROWS_COMPRESSED: Self = Self(169);
    pub const MARIADB_UPDATE_ROWS_COMPRESSED: Self = Self(170);
    pub const MARIADB_DELETE_ROWS_COMPRESSED: Self = Self(171);

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "START_V3",
            2 => "QUERY",
            3 => "STOP",
            4 => "ROTATE",
            5 => "INTVAR",
            6 => "LOAD",
            7 => "SLAVE",
            8 => "CREATE_FILE",
            9 => "APPEND_BLOCK",
            10 => "EXEC_LOAD",
            11 => "DELETE_FILE",
            12 => "NEW_LOAD",
            13 => "RAND",
            14 => "USER_VAR",
            15 => "FORMAT_DESCRIPTION",
            16 => "XID",
            17 => "BEGIN_LOAD_QUERY",
            18 => "EXECUTE_LOAD_QUERY",
            19 => "TABLE_MAP",
            20 => "PRE_GA_WRITE_ROWS",
            21 => "PRE_GA_UPDATE_ROWS",
            22 => "PRE_GA_DELETE_ROWS",
            23 => "WRITE_ROWS_V1",
            24 => "UPDATE_ROWS_V1",
            25 => "DELETE_ROWS_V1",
            26 => "INCIDENT",
            27 => "HEARTBEAT",
            28 => "IGNORABLE",
            29 => "ROWS_QUERY",
            30 => "WRITE_ROWS",
            31 => "UPDATE_ROWS",
            32 => "DELETE_ROWS",
            33 => "GTID",
            34 => "ANONYMOUS_GTID",
            35 => "PREVIOUS_GTIDS",
            36 => "TRANSACTION_CONTEXT",
            37 => "VIEW_CHANGE",
            38 => "XA_PREPARE",
            39 => "PARTIAL_UPDATE_ROWS",
            40 => "TRANSACTION_PAYLOAD",
            41 => "HEARTBEAT_V2",
            42 => "GTID_TAGGED",
            160 => "MARIADB_ANNOTATE_ROWS",
            161 => "MARIADB_BINLOG_CHECKPOINT",
            162 => "MARIADB_GTID",
            163 => "MARIADB_GTID_LIST",
            164 => "MARIADB_START_ENCRYPTION",
            165 => "MARIADB_QUERY_COMPRESSED",
            166 => "MARIADB_WRITE_ROWS_COMPRESSED_V1",
            167 => "MARIADB_UPDATE_ROWS_COMPRESSED_V1",
            168 => "MARIADB_DELETE_ROWS_COMPRESSED_V1",
            169 => "MARIADB_WRITE_ROWS_COMPRESSED",
            170 => "MARIADB_UPDATE_ROWS_COMPRESSED",
            171 => "MARIADB_DELETE_ROWS_COMPRESSED",
            _ => "UNKNOWN",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}
