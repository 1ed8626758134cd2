//! Reading binlog files from disk (for `sluice binlog decode` and tests over captured files).

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::Path;

use super::{BINLOG_MAGIC, HEADER_LEN};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a binlog file (it does not start with the binlog magic bytes fe 62 69 6e)")]
    NotBinlog { path: String },
    #[error("{path} is truncated: the event at offset {offset} declares {declared} bytes, {available} remain")]
    Truncated { path: String, offset: u64, declared: u64, available: u64 },
    #[error("{path}: the event at offset {offset} declares an impossible size of {declared} bytes")]
    BadSize { path: String, offset: u64, declared: u64 },
}

/// Iterates over the raw events of one binlog file: `(offset, event bytes)`. Memory is bounded by
/// the events actually read: a declared size is never allocated before its bytes arrive.
pub struct BinlogFile<R = BufReader<File>> {
    path: String,
    reader: R,
    offset: u64,
    done: bool,
}

impl BinlogFile {
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let display = path.display().to_string();
        let file = File::open(path).map_err(|source| FileError::Io { path: display.clone(), source })?;
        Self::from_reader(display, BufReader::with_capacity(1 << 20, file))
    }
}

impl<R: Read> BinlogFile<R> {
    /// Read a binlog from any byte source; `name` stands for it in errors.
    pub fn from_reader(name: impl Into<String>, mut reader: R) -> Result<Self, FileError> {
        let display = name.into();
        let mut magic = [0u8; 4];
        match reader.read_exact(&mut magic) {
            Ok(()) if magic == BINLOG_MAGIC => {}
            Ok(()) => return Err(FileError::NotBinlog { path: display }),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(FileError::NotBinlog { path: display }),
            Err(source) => return Err(FileError::Io { path: display, source }),
        }
        Ok(Self { path: display, reader, offset: 4, done: false })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn read_event(&mut self) -> Result<Option<(u64, Vec<u8>)>, FileError> {
        let mut header = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match self.reader.read(&mut header[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => {
                    return Err(FileError::Truncated {
                        path: self.path.clone(),
                        offset: self.offset,
                        declared: HEADER_LEN as u64,
                        available: got as u64,
                    });
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => return Err(FileError::Io { path: self.path.clone(), source }),
            }
        }
        let size = u64::from(u32::from_le_bytes(header[9..13].try_into().expect("4 bytes")));
        if size < HEADER_LEN as u64 || size > (1 << 32) {
            return Err(FileError::BadSize { path: self.path.clone(), offset: self.offset, declared: size });
        }
        let mut event = Vec::with_capacity((size as usize).min(1 << 20));
        event.extend_from_slice(&header);
        let body = size as usize - HEADER_LEN;
        let read = (&mut self.reader)
            .take(body as u64)
            .read_to_end(&mut event)
            .map_err(|source| FileError::Io { path: self.path.clone(), source })?;
        if read < body {
            return Err(FileError::Truncated {
                path: self.path.clone(),
                offset: self.offset,
                declared: size,
                available: (HEADER_LEN + read) as u64,
            });
        }
        let offset = self.offset;
        self.offset += size;
        Ok(Some((offset, event)))
    }
}

impl<R: Read> Iterator for BinlogFile<R> {
    type Item = Result<(u64, Vec<u8>), FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_event().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}
