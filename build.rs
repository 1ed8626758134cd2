//! Compiles Canal's protobuf model (proto/*.proto) into Rust with a pure-Rust protobuf compiler,
//! so building Sluice needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/EntryProtocol.proto", "proto/CanalProtocol.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
