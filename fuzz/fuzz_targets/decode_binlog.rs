//! Arbitrary bytes after the binlog magic, decoded exactly as `sluice binlog decode` does: any
//! input must end in rows or an error, never a panic, a hang or an unbounded allocation.
#![no_main]

use futures_util::FutureExt;
use libfuzzer_sys::fuzz_target;
use sluice::binlog::BINLOG_MAGIC;
use sluice::binlog::file::BinlogFile;
use sluice::commands::decode::decode_binlog;

fuzz_target!(|data: &[u8]| {
    let bytes = [&BINLOG_MAGIC[..], data].concat();
    let Ok(reader) = BinlogFile::from_reader("fuzz input", &bytes[..]) else {
        return;
    };
    let mut sink = std::io::sink();
    let decoding = decode_binlog(reader, "fuzz-bin.000001", Default::default(), &mut sink);
    // Offline decoding never waits on I/O, so it completes on its first poll.
    let _ = decoding.now_or_never().expect("offline decoding completed without waiting");
});
