//! The CLI's commands other than `run`: each reads configuration or files and reports; none of them
//! publishes or commits anything.

pub mod bench;
pub mod check;
pub mod cluster;
pub mod decode;
pub mod positions;
pub mod tail;
